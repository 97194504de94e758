"""DistillationLab: a distilled student and a hard-label student trained side by side.

Both students start from the same weights and see the same batches (same seed); the
curves grow live, and at the end a table compares them with the teacher and a bar chart
shows accuracy per class, so a class left out of the transfer set stands out."""
import dataclasses

import ipywidgets as W

import workbench as wb

from . import plots
from .controls import STYLE, alpha_slider, int_box, temperature_slider
from .live import live, refresh
from .two_students import TwoStudentsLab

STUDENT_WIDTHS = (8, 16, 32, 64, 128)
RUNS = ("distilled", "hard labels")
DEFAULTS = dict(teacher=wb.teachers.DEFAULT["digits"], width=32, temperature=4.0, alpha=0.9, epochs=150, lr=1e-2,
                fraction=0.1, left_out="")
# Named scenarios: the controls they set (the rest at DEFAULTS) and what a Run shows; each
# outcome is asserted over seeds in tests/test_scenarios.py.
SCENARIOS = {
    "small data (the default)": (
        {}, "With 10% of the training images, the distilled student beats the hard-label one by 2.8 to 6.4 points "
            "of test accuracy (seeds 0-2): the teacher's soft labels carry what 108 images cannot."),
    "all the data": (
        {"fraction": 1.0, "epochs": 30}, "With all the training images the hard-label student already reaches "
                                         "about 96%; distillation adds a point at most."),
    "left-out digit": (
        {"teacher": "digits/mlp-large", "temperature": 8.0, "alpha": 1.0, "fraction": 1.0, "epochs": 30,
         "left_out": "3"},
        "Neither student sees a single 3. The hard-label one never predicts 3; the one distilled from the MLP "
        "teacher at T = 8 recognises about 9 test 3s in 10 from the soft labels of the other digits (see "
        "accuracy per class). Try the CNN teacher: does it teach as much about 3s?"),
    "weak teacher": (
        {"teacher": "digits/mlp-weak"}, "This teacher (86% accurate, trained on 5% of the data) is worse than "
                                        "the labels: the distilled student ends below the hard-label one. "
                                        "Lower alpha to trust the labels more."),
    "over-confident teacher": (
        {"teacher": "digits/cnn-overconfident", "temperature": 1.0},
        "As accurate as digits/cnn, but its logits are 5 times larger: at T = 1 its soft labels are nearly "
        "one-hot and distillation gains little. Raise T to 20 and the gain returns."),
    "alpha = 0": (
        {"alpha": 0.0}, "With alpha = 0 the KD term has no weight: the 'distilled' student is the hard-label "
                        "one, curve for curve."),
}


def parse_classes(text, classes):
    """Class indices from a comma-separated list of class names ("3, 8"); "" for none."""
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [n for n in names if n not in classes]
    if unknown:
        raise ValueError(f"classes left out must be among {list(classes)}, separated by commas, got {unknown}")
    return sorted({classes.index(n) for n in names})


class DistillationLab(TwoStudentsLab):
    runs = RUNS
    scenarios = SCENARIOS

    def __init__(self, splits=None, teacher_names=None, epochs=DEFAULTS["epochs"]):
        super().__init__(splits, teacher_names, DEFAULTS["teacher"])
        wide = W.Layout(width="420px")
        self.width = W.Dropdown(options=STUDENT_WIDTHS, value=32, description="student: MLP hidden units", style=STYLE)
        self.temperature = temperature_slider(DEFAULTS["temperature"], continuous=False)
        self.alpha = alpha_slider(DEFAULTS["alpha"])
        self.epochs = int_box(epochs, "epochs")
        self.lr = W.FloatText(value=DEFAULTS["lr"], description="learning rate", style=STYLE,
                              layout=W.Layout(width="200px"))
        self.fraction = W.FloatSlider(value=DEFAULTS["fraction"], min=0.05, max=1.0, step=0.05,
                                      description="share of training data", continuous_update=False, style=STYLE,
                                      layout=wide)
        self.left_out = W.Text(value="", placeholder="e.g. 3", description="classes left out", style=STYLE)
        self.seed = int_box(0, "seed")

        self.rows, self.per_class = {}, {}
        self.curves = live(plots.training_curves(self.histories, metric="val_acc", title="Validation accuracy"),
                           width=470, height=330)
        self.losses = live(plots.loss_parts(self.histories), width=470, height=330)
        self.table = live(plots.comparison_table({}), width=700)
        self.classes_fig = live(plots.per_class_accuracy({}, self.splits.classes), width=700, height=330)
        self.results = W.VBox([self.table, self.classes_fig], layout=W.Layout(display="none"))
        self.assemble([self.teacher, self.width, self.temperature, self.alpha, self.epochs, self.lr, self.fraction,
                       self.left_out, self.seed], beside=W.VBox([self.curves, self.losses]), below=self.results,
                      defaults=DEFAULTS)

    def config(self):
        return super().config(lr=self.lr.value)

    def student_recipe(self):
        return "mlp", {"hidden": (self.width.value,)}

    def run_configs(self, cfg):
        """The same config for both; only the distilled student learns from the teacher."""
        return {"distilled": (cfg, True), "hard labels": (cfg, False)}

    def transfer_set(self, cfg):
        """The share of the training data the fraction slider keeps, without the classes left out."""
        left_out = parse_classes(self.left_out.value, self.splits.classes)
        train = wb.data.subsample(self.splits.train, self.fraction.value, seed=cfg.seed)
        if left_out:
            train = wb.data.without_classes(train, left_out)
        return dataclasses.replace(self.splits, train=train)

    def start(self, teacher):
        self.rows, self.per_class = {}, {}
        self.results.layout.display = "none"

    def finish(self, results, teacher):
        """The comparison table and accuracy per class on the test set."""
        test = self.splits.test
        self.rows = {"teacher": {**wb.analysis.report(teacher, test), "epochs": ""}}
        for name, res in results.items():
            self.rows[f"student, {name}"] = {**wb.analysis.report(res.student, test, teacher=teacher),
                                             "epochs": res.metrics["epochs"]}
            self.per_class[f"student, {name}"] = wb.analysis.per_class_accuracy(wb.predict(res.student, test.x), test.y)
        self.per_class["teacher"] = wb.analysis.per_class_accuracy(wb.predict(teacher, test.x), test.y)

    def redraw(self):
        refresh(self.curves, plots.training_curves(self.histories, metric="val_acc", title="Validation accuracy"))
        refresh(self.losses, plots.loss_parts(self.histories, title="Loss terms (training set)"))
        if self.rows:
            # visible before drawing: plotly measures a table's text to wrap it, and text
            # measured in a hidden element comes out empty
            self.results.layout.display = None
            table = {k: {"test accuracy": v["accuracy"], "calibration error (ECE)": v["ece"],
                         "agreement with teacher": v.get("agreement", ""), "epochs": v["epochs"]}
                     for k, v in self.rows.items()}
            refresh(self.table, plots.comparison_table(table, title="Test set"))
            refresh(self.classes_fig, plots.per_class_accuracy(self.per_class, self.splits.classes))
