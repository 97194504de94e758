"""The shared shape of the feature and relation labs: a student trained with an extra
distillation term next to the same student (same weights, same batches) without it,
both watched on a fixed probe batch of test images after every epoch."""
import ipywidgets as W
import torch

import workbench as wb

from . import plots
from .live import Message, guarded, live, refresh
from .runner import RunController, check_diverged, lockstep
from .scenarios import ScenarioPicker
from .temperature import temperature_slider

STUDENTS = {
    "cnn, 8-16 channels": ("cnn", {"channels": (8, 16)}),
    "mlp, 32 hidden units": ("mlp", {"hidden": (32,)}),
}


def probe_batch(split, per_class=4):
    """The first `per_class` test examples of each class, sorted by class, so relation
    matrices show one block per class."""
    idx = torch.cat([torch.nonzero(split.y == c).flatten()[:per_class] for c in split.y.unique().tolist()])
    return wb.data.Split(split.x[idx], split.y[idx])


def top_layers(model):
    """Layer names worth tapping: the model's top-level blocks, without the flatten."""
    return [n for n in wb.models.layer_names(model) if "." not in n and n != "flatten"]


class TwoStudentsLab:
    """Subclasses name the term, the per-epoch metric drawn as curves, and supply the
    control that picks the loss, the config with the term, what to watch on the probe
    batch (`start`, `watch`) and the side-by-side panels (`panel_figure`)."""
    term = "feature"  # the term that one student gets and the other does not
    metric, metric_title = "cka", ""
    panel_width = 980
    runs = ("with", "without")
    scenarios = {}  # {name: ({control: value}, what a Run shows)}; the first is the lab's default

    def __init__(self, splits=None, teacher_names=None, epochs=20, per_class=4, weight=(1.0, 0.01, 1000.0),
                 teacher=None, student=None, layers=(None, None)):
        self.splits = splits or wb.data.load("digits")
        names = teacher_names or wb.teachers.available(self.splits.name)
        style = {"description_width": "initial"}
        self._teachers = {}
        self.probe = probe_batch(self.splits.test, per_class)
        self.teacher = W.Dropdown(options=names, value=teacher or names[0], description="teacher", style=style)
        self.student = W.Dropdown(options=list(STUDENTS), value=student or list(STUDENTS)[0], description="student",
                                  style=style)
        self.teacher_layer = W.Dropdown(description="teacher layer", style=style)
        self.student_layer = W.Dropdown(description="student layer", style=style)
        value, low, high = weight
        self.weight = W.FloatLogSlider(value=value, base=10, min=torch.tensor(low).log10().item(),
                                       max=torch.tensor(high).log10().item(), step=0.1,
                                       description=f"{self.term} weight", continuous_update=False, style=style,
                                       layout=W.Layout(width="420px"))
        self.temperature = temperature_slider(4.0, continuous=False)
        self.alpha = W.FloatSlider(value=0.9, min=0, max=1, step=0.05, description="alpha (weight of KD)",
                                   continuous_update=False, style=style, layout=W.Layout(width="420px"))
        self.epochs = W.IntText(value=epochs, description="epochs", style=style, layout=W.Layout(width="200px"))
        self.seed = W.IntText(value=0, description="seed", style=style, layout=W.Layout(width="200px"))
        self.controller = RunController(self.prepare, self.redraw)
        self.message = self.controller.message
        self.layer_message = Message()
        update = guarded(self.layer_message, lambda *_: self.update_layers())
        self.teacher.observe(update, names="value")
        self.student.observe(update, names="value")
        self.update_layers(*layers)
        self.histories = {name: [] for name in self.runs}
        self.loss = self.loss_control()
        # a scenario's unset controls go back to what this lab was built with
        defaults = {"teacher": self.teacher.value, "student": self.student.value,
                    "teacher_layer": self.teacher_layer.value, "student_layer": self.student_layer.value,
                    "loss": self.loss.value, "weight": self.weight.value, "epochs": self.epochs.value}
        self.picker = ScenarioPicker(self, self.scenarios, defaults) if self.scenarios else None
        self.panels = {}
        self.panel_fig = live(self.panel_figure(), width=self.panel_width, height=360)
        self.curve = live(self.curve_figure(), width=520, height=300)
        self.controller.lock(*([self.picker.menu] if self.picker else []), self.teacher, self.student,
                             self.teacher_layer, self.student_layer, self.loss, self.weight, self.temperature,
                             self.alpha, self.epochs, self.seed)
        controls = W.VBox(([self.picker.widget] if self.picker else []) + [self.teacher, self.student, self.teacher_layer, self.student_layer, self.layer_message,
                           self.loss, self.weight, self.temperature, self.alpha, self.epochs, self.seed,
                           self.controller.widget], layout=W.Layout(width="440px", padding="0 12px 0 0"))
        self.widget = W.VBox([W.HBox([controls, self.curve]), self.panel_fig])

    def curve_figure(self):
        titles = {"with": f"student with the {self.term} term", "without": "student without it"}
        return plots.training_curves({titles[k]: v for k, v in self.histories.items()}, metric=self.metric,
                                     title=self.metric_title)

    def panel_title(self, key):
        return {"teacher": "teacher", "with": f"student with the {self.term} term", "without": "student without it"}[key]

    def redraw(self):
        refresh(self.curve, self.curve_figure())
        refresh(self.panel_fig, self.panel_figure())

    def teacher_model(self):
        name = self.teacher.value
        if name not in self._teachers:
            self._teachers[name] = wb.teachers.get(name, device=self.splits.train.x.device)
        return self._teachers[name]

    def build_student(self, seed):
        arch, size = STUDENTS[self.student.value]
        wb.seed_everything(seed)
        return wb.models.build(arch, self.splits.input_shape, self.splits.num_classes, **size)

    def update_layers(self, teacher_layer=None, student_layer=None):
        t_layers, s_layers = top_layers(self.teacher_model()), top_layers(self.build_student(0))
        self.teacher_layer.options = t_layers
        self.student_layer.options = s_layers
        self.teacher_layer.value = teacher_layer if teacher_layer in t_layers else t_layers[0]
        self.student_layer.value = student_layer if student_layer in s_layers else s_layers[0]
        self.layer_message.clear()

    def base_config(self):
        return wb.DistillConfig(temperature=self.temperature.value, alpha=self.alpha.value, epochs=self.epochs.value,
                                seed=self.seed.value)

    def loss_control(self):
        """The widget that picks the loss (subclasses)."""
        raise NotImplementedError

    def with_term(self, cfg):
        """The config of the student that gets the extra term (subclasses)."""
        raise NotImplementedError

    def panel_figure(self):
        """The side-by-side panels of self.panels (subclasses)."""
        raise NotImplementedError

    def prepare(self, stop):
        base = self.base_config()
        cfg = self.with_term(base)
        teacher = self.teacher_model()
        self.students = {"with": self.build_student(base.seed), "without": self.build_student(base.seed)}
        runs = {name: wb.steps(self.students[name], self.splits, cfg if name == "with" else base, teacher=teacher,
                               stop=stop) for name in self.runs}
        self.histories = {name: [] for name in self.runs}
        self.start(teacher)
        steps_per_epoch = -(-len(self.splits.train) // base.batch_size)
        return self._work(runs, base.epochs * steps_per_epoch)

    def _work(self, runs, total):
        self.results = yield from lockstep(runs, self._record, total)
        check_diverged(self.results)

    def _record(self, name, event):
        if event.kind == "epoch":
            self.histories[name].append({**event.metrics, **self.watch(name, self.students[name])})

    def start(self, teacher):
        """Set up what is watched for a new run (subclasses)."""

    def watch(self, name, student):
        """Per-epoch measurements of a student on the probe batch (subclasses)."""
        return {}
