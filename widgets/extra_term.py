"""The shared shape of the feature and relation labs: a student trained with an extra
distillation term next to the same student (same weights, same batches) without it,
both watched on a fixed probe batch of test images after every epoch."""
import ipywidgets as W
import torch

import workbench as wb

from . import plots
from .controls import STYLE, alpha_slider, int_box, temperature_slider
from .live import Message, guarded, live, refresh
from .two_students import TwoStudentsLab

STUDENTS = {
    "cnn, 8-16 channels": ("cnn", {"channels": (8, 16)}),
    "mlp, 32 hidden units": ("mlp", {"hidden": (32,)}),
}


def top_layers(model):
    """Layer names worth tapping: the model's top-level blocks, without the flatten."""
    return [n for n in wb.models.layer_names(model) if "." not in n and n != "flatten"]


class ExtraTermLab(TwoStudentsLab):
    """Subclasses name the term, the per-epoch metric drawn as curves, and supply the
    control that picks the loss, the config with the term, what to watch on the probe
    batch (`start`, `watch`) and the side-by-side panels (`panel_figure`)."""
    term = "feature"  # the term that one student gets and the other does not
    metric, metric_title = "cka", ""
    panel_width = 980

    def __init__(self, splits=None, teacher_names=None, epochs=20, per_class=4, weight=(1.0, 0.01, 1000.0),
                 teacher=None, student=None, layers=(None, None)):
        super().__init__(splits, teacher_names, teacher)
        self.probe = wb.analysis.probe_batch(self.splits.test, per_class)
        self.student = W.Dropdown(options=list(STUDENTS), value=student or list(STUDENTS)[0], description="student",
                                  style=STYLE)
        self.teacher_layer = W.Dropdown(description="teacher layer", style=STYLE)
        self.student_layer = W.Dropdown(description="student layer", style=STYLE)
        value, low, high = weight
        self.weight = W.FloatLogSlider(value=value, base=10, min=torch.tensor(low).log10().item(),
                                       max=torch.tensor(high).log10().item(), step=0.1,
                                       description=f"{self.term} weight", continuous_update=False, style=STYLE,
                                       layout=W.Layout(width="420px"))
        self.temperature = temperature_slider(4.0, continuous=False)
        self.alpha = alpha_slider(0.9)
        self.epochs = int_box(epochs, "epochs")
        self.seed = int_box(0, "seed")
        self.layer_message = Message()
        update = guarded(self.layer_message, lambda *_: self.update_layers())
        self.teacher.observe(update, names="value")
        self.student.observe(update, names="value")
        self.update_layers(*layers)
        self.loss = self.loss_control()
        # a scenario's unset controls go back to what this lab was built with
        defaults = {"teacher": self.teacher.value, "student": self.student.value,
                    "teacher_layer": self.teacher_layer.value, "student_layer": self.student_layer.value,
                    "loss": self.loss.value, "weight": self.weight.value, "epochs": self.epochs.value}
        self.panels = {}
        self.panel_fig = live(self.panel_figure(), width=self.panel_width, height=360)
        self.curve = live(self.curve_figure(), width=520, height=300)
        self.assemble([self.teacher, self.student, self.teacher_layer, self.student_layer, self.layer_message,
                       self.loss, self.weight, self.temperature, self.alpha, self.epochs, self.seed],
                      beside=self.curve.view, below=self.panel_fig.view, defaults=defaults)

    def curve_figure(self):
        titles = {"with": f"student with the {self.term} term", "without": "student without it"}
        return plots.training_curves({titles[k]: v for k, v in self.histories.items()}, metric=self.metric,
                                     title=self.metric_title)

    def panel_title(self, key):
        return {"teacher": "teacher", "with": f"student with the {self.term} term", "without": "student without it"}[key]

    def redraw(self):
        refresh(self.curve, self.curve_figure())
        refresh(self.panel_fig, self.panel_figure())

    def student_recipe(self):
        return STUDENTS[self.student.value]

    def update_layers(self, teacher_layer=None, student_layer=None):
        t_layers, s_layers = top_layers(self.teacher_model()), top_layers(self.build_student(0))
        self.teacher_layer.options = t_layers
        self.student_layer.options = s_layers
        self.teacher_layer.value = teacher_layer if teacher_layer in t_layers else t_layers[0]
        self.student_layer.value = student_layer if student_layer in s_layers else s_layers[0]
        self.layer_message.clear()

    def run_configs(self, cfg):
        """Both students learn from the teacher's soft labels; one also gets the term."""
        return {"with": (self.with_term(cfg), True), "without": (cfg, True)}

    def finish(self, results, teacher):
        self.results = results

    def loss_control(self):
        """The widget that picks the loss (subclasses)."""
        raise NotImplementedError

    def with_term(self, cfg):
        """The config of the student that gets the extra term (subclasses)."""
        raise NotImplementedError

    def panel_figure(self):
        """The side-by-side panels of self.panels (subclasses)."""
        raise NotImplementedError
