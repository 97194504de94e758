"""DistillationLab: a distilled student and a hard-label student trained side by side.

Both students start from the same weights and see the same batches (same seed); the
curves grow live, and at the end a table compares them with the teacher and a bar chart
shows accuracy per class, so a class left out of the transfer set stands out. The KD
loss is a choice: Hinton et al.'s, decoupled KD (Zhao et al. 2022, with its two weights)
or logit-standardized KD (Sun et al. 2024); fidelity to the teacher (top-1 agreement and
KL, Stanton et al. 2021) is shown beside accuracy."""
import dataclasses

import ipywidgets as W

import workbench as wb

from . import a11y, plots
from .fidelity import fidelity_bars
from .controls import STYLE, alpha_slider, int_box, temperature_slider
from .live import live, refresh
from .scenarios import Scenario, compare
from .two_students import TwoStudentsLab

STUDENT_WIDTHS = (8, 16, 32, 64, 128)
RUNS = ("distilled", "hard labels")
KD_LOSSES = (("Hinton KD", "kd"), ("DKD (decoupled KD)", "dkd"), ("logit-standardized KD", "standardized"))
KD_TERM_NAMES = {"kd": "KD term (T² · KL)", "dkd": "DKD term (TCKD, NCKD weighted)",
                 "standardized": "KD term of z-scored logits (T² · KL)"}
DEFAULTS = dict(teacher=wb.teachers.DEFAULT["digits"], width=32, temperature=4.0, alpha=0.9, epochs=150, lr=1e-2,
                fraction=0.1, left_out="", kd_loss="kd", tckd_weight=wb.DistillConfig.tckd_weight,
                nckd_weight=wb.DistillConfig.nckd_weight)


def ahead(margin):
    """The three answers to "which student ends more accurate?" at a margin of `margin` points."""
    pts = "a point" if margin == 1 else f"{margin:g} points"
    return (f"the distilled student, by more than {pts}", f"within {pts} of each other",
            f"the hard-label student, by more than {pts}")


def accuracies(lab):
    """(distilled, hard-label) test accuracy of the lab's last run, and a line saying them."""
    d, h = (lab.rows[f"student, {n}"]["accuracy"] for n in RUNS)
    return d, h, (f"This run (seed {lab.seed.value}): test accuracy {d:.1%} distilled, {h:.1%} hard labels "
                  f"({100 * (d - h):+.1f} points)")


def judge_ahead(margin):
    """A judge: which of ahead(margin) the run's test accuracies bear out."""
    def judge(lab):
        d, h, said = accuracies(lab)
        return said, compare(d, h, margin / 100, ahead(margin))
    return judge


def judge_sign(choices):
    """A judge: (above, below, level) by the sign of distilled minus hard-label accuracy."""
    def judge(lab):
        d, h, said = accuracies(lab)
        above, below, level = choices
        return said, above if d > h else below if d < h else level
    return judge


LEFT_OUT = ("only the distilled one", "neither: a digit never seen cannot be learned", "both, about equally",
            "only the hard-label one")


def judge_left_out(lab):
    """Which students recognise (half or more of) the test images of the first class left out."""
    left = parse_classes(lab.left_out.value, lab.splits.classes)
    if not left:
        return "", None
    c = left[0]
    d, h = (float(lab.per_class[f"student, {n}"][c]) for n in RUNS)
    said = (f"This run (seed {lab.seed.value}): of the test {lab.splits.classes[c]}s the distilled student "
            f"recognises {d:.0%}, the hard-label one {h:.0%}")
    return said, {(True, False): LEFT_OUT[0], (False, False): LEFT_OUT[1], (True, True): LEFT_OUT[2],
                  (False, True): LEFT_OUT[3]}[(d >= 0.5, h >= 0.5)]


# Shown under DKD's weights: Adam's step is unchanged when the whole loss is multiplied by a
# constant, so a term used alone (the other weight 0, alpha = 1) trains the same at any weight
WEIGHTS_NOTE = ("<small>The loss is alpha · (TCKD weight · TCKD + NCKD weight · NCKD) + (1 − alpha) · CE. Under "
                "Adam (this lab's optimizer) multiplying the whole loss by a number changes no step (up to its "
                "tiny ε), so what counts is the ratio of the two weights (and of them to CE when alpha &lt; 1): "
                "with one weight 0 and alpha = 1, the other's value changes nothing, 1 or 8 alike.</small>")


RECOVERED = ("most of them (half or more)", "some, but fewer than half", "almost none (fewer than 1 in 20)")


def precision(lab, name, c):
    """The share of the test images student `name` calls class c that are c (None when it
    never predicts c), and the share of all its test predictions that are c."""
    called = lab.predicted[f"student, {name}"] == c
    n = int(called.sum())
    right = int((lab.splits.test.y[called] == c).sum())
    return (right / n if n else None), n / len(called)


def judge_recovered(lab):
    """How many of the test images of the first class left out the distilled student
    recognises (RECOVERED, by its recall), said beside its precision on that class and its
    test accuracy: recall alone would favour a student that calls more images a 3."""
    left = parse_classes(lab.left_out.value, lab.splits.classes)
    if not left:
        return "", None
    c, name = left[0], lab.splits.classes[left[0]]
    d = float(lab.per_class[f"student, {RUNS[0]}"][c])
    right, share = precision(lab, RUNS[0], c)
    called = (f"it never predicts {name}" if right is None else
              f"{right:.0%} of the images it calls {name} are {name}s (precision; {share:.1%} of its predictions)")
    said = (f"This run (seed {lab.seed.value}): the distilled student recognises {d:.0%} of the test {name}s "
            f"(recall); {called}; its test accuracy over all classes is "
            f"{lab.rows[f'student, {RUNS[0]}']['accuracy']:.1%}")
    return said, RECOVERED[0] if d >= 0.5 else RECOVERED[2] if d < 0.05 else RECOVERED[1]


SAME = ("identical, curve for curve", "slightly more accurate: the teacher still shows through",
        "slightly less accurate")


def judge_same(lab):
    """Whether the two students trained identically (the same validation curve and test accuracy)."""
    d, h, said = accuracies(lab)
    curves = [[row["val_acc"] for row in lab.histories[n]] for n in RUNS]
    if curves[0] == curves[1] and d == h:
        return said, SAME[0]
    return said, SAME[1] if d > h else SAME[2] if d < h else None  # different curves, level at the end: no choice


LEFT_OUT_DIGIT = {"teacher": "digits/mlp-large", "temperature": 8.0, "alpha": 1.0, "fraction": 1.0, "epochs": 30,
                  "left_out": "3"}
WEAK = ("above it: any teacher's soft labels help", "below it: it learns the teacher's mistakes",
        "exactly level: the labels decide")
# Named scenarios: the controls they set (the rest at DEFAULTS), the question asked before
# Run and the outcome revealed after it; each `expected` answer is asserted over seeds (and
# judged from the run's numbers) in tests/test_scenarios.py.
SCENARIOS = {
    "small data (the default)": Scenario(
        {}, "Both students learn from 10% of the training images; one also from the teacher's soft labels. "
            "Which ends more accurate on the test set?", ahead(1), ahead(1)[0],
        "Over seeds 0-5 the distilled student beats the hard-label one of the same seed by 1.4 to 6.4 points "
        "(mean 3.8): the teacher's soft labels carry what 108 images cannot. Compare the pair, not seeds: the "
        "hard-label student alone ranges over 5 points from seed to seed", judge_ahead(1)),
    "all the data": Scenario(
        {"fraction": 1.0, "epochs": 30}, "Now both students see all the training images. Which ends more "
                                         "accurate on the test set?", ahead(2), ahead(2)[1],
        "With all the training images the hard-label student already reaches about 96%; over seeds 0-2 "
        "distillation adds 0 to 1.1 points", judge_ahead(2)),
    "left-out digit": Scenario(
        LEFT_OUT_DIGIT,
        "Neither student sees a single 3 in training; one learns from the MLP teacher's soft labels at T = 8 "
        "(the teacher saw every digit). Which student will recognise most of the test 3s?", LEFT_OUT, LEFT_OUT[0],
        "The hard-label student never predicts 3; the distilled one recognises about 9 test 3s in 10 from the "
        "soft labels of the other digits (see accuracy per class). Try the CNN teacher: does it teach as "
        "much about 3s?", judge_left_out),
    "weak teacher": Scenario(
        {"teacher": "digits/mlp-weak"}, "This teacher is 86% accurate (it learned from 5% of the data). "
                                        "Where will its distilled student end, against the hard-label one?",
        WEAK, WEAK[1], "Over seeds 0-2 the distilled student ends below the hard-label one: this teacher is "
                       "worse than the labels. Lower alpha to trust the labels more", judge_sign(WEAK)),
    "over-confident teacher": Scenario(
        {"teacher": "digits/cnn-overconfident", "temperature": 1.0},
        "This teacher is as accurate as digits/cnn, but its logits are 5 times larger. Distilling at T = 1, "
        "which student ends more accurate on the test set?", ahead(1), ahead(1)[1],
        "At T = 1 its soft labels are nearly one-hot, so distillation gains little. Raise T to 20 and the gain "
        "returns", judge_ahead(1)),
    # Zhao et al. 2022 split Hinton's KD term into TCKD (target class against the rest) and
    # NCKD (how the rest is shared among the wrong classes). Measured through this lab,
    # seeds 0-2, for the distilled student: test 3s recognised (recall), share of the images
    # it calls 3 that are 3s (precision), share of its test predictions that are 3, test
    # accuracy over all digits:
    #   NCKD alone:   0.973, 0.973, 1.000; 0.923, 0.923, 0.925; 10.8%, 10.8%, 11.1%; 0.947, 0.953, 0.953
    #   TCKD alone:   0, 0, 0; never predicts 3; 0.853, 0.861, 0.836 (hard labels: 0.861, 0.864, 0.864)
    #   Hinton's KD:  0.892; 0.971; 9.4%; 0.956 on each seed (the "left-out digit" scenario)
    # The same runs with NCKD weight 1 instead of 8, or TCKD weight 8 instead of 1, gave the
    # same numbers: under Adam a lone term's weight does not change the steps (WEIGHTS_NOTE).
    "DKD: NCKD alone": Scenario(
        {**LEFT_OUT_DIGIT, "kd_loss": "dkd", "tckd_weight": 0.0, "nckd_weight": 8.0},
        "No 3 in training again, but now the distilled student learns from DKD's non-target term alone (NCKD, "
        "how the teacher shares its probability among the wrong classes; the TCKD weight is 0). How many of the "
        "test 3s will it recognise?", RECOVERED, RECOVERED[0],
        "Over seeds 0-2 the NCKD-only student recognises 97% to 100% of the test 3s (recall), more than with "
        "Hinton's whole KD term (89%): which wrong classes an image resembles is the dark knowledge, and it is in "
        "NCKD. Recall is not the whole story: it also calls more images 3 (11% of its predictions against 9.4%), "
        "so fewer of its 3s are right (precision 92% against Hinton's 97%), and its test accuracy over all digits, "
        "94.7% to 95.3%, is a little below Hinton's 95.6%. Compare \"DKD: TCKD alone\"", judge_recovered),
    "DKD: TCKD alone": Scenario(
        {**LEFT_OUT_DIGIT, "kd_loss": "dkd", "tckd_weight": 1.0, "nckd_weight": 0.0},
        "No 3 in training; the distilled student learns from DKD's target-class term alone (TCKD, only how sure "
        "the teacher is of the true class; the NCKD weight is 0). How many of the test 3s will it recognise?",
        RECOVERED, RECOVERED[2],
        "None, by construction (0% on each of seeds 0-2, and it never predicts 3; its test accuracy, 83.6% to "
        "86.1%, is no better than the hard-label student's 86.1% to 86.4%). TCKD's pull on the wrong classes' "
        "logits is the student's own share among them times one number, how much surer of the true class it is "
        "than the teacher; so nothing of the teacher's says which wrong class an image resembles, and with 3 "
        "never the true class, nothing ever raises the 3 logit for a 3. Compare \"DKD: NCKD alone\"",
        judge_recovered),
    # Sun et al. 2024. Measured through this lab, seeds 0-2, distilled minus hard-label test
    # accuracy at T = 1 from digits/cnn-overconfident: +5.8, +4.2, +4.2 points standardized,
    # +0.0 on each seed with Hinton's KD (the "over-confident teacher" scenario).
    "logit standardization": Scenario(
        {"teacher": "digits/cnn-overconfident", "temperature": 1.0, "kd_loss": "standardized"},
        "The over-confident teacher again (logits 5 times larger than digits/cnn's) at T = 1, but the KD loss "
        "now z-scores each row of logits first (logit standardization): each side's softmax sees logits of "
        "spread 1. Which student ends more accurate on the test set?", ahead(1), ahead(1)[0],
        "Over seeds 0-2 the logit-standardized student beats the hard-label one by 4.2 to 5.8 points, where "
        "Hinton's KD at T = 1 gained nothing (the \"over-confident teacher\" scenario): the z-score takes away the "
        "teacher's scale, so its soft labels keep their dark knowledge without raising T", judge_ahead(1)),
    "alpha = 0": Scenario(
        {"alpha": 0.0}, "With alpha = 0 the KD term gets no weight. Next to the hard-label student, the "
                        "'distilled' one will be ...", SAME, SAME[0],
        "With alpha = 0 the 'distilled' student is the hard-label one: the same weights, the same batches, "
        "the same loss", judge_same),
}
# asked when the controls are the learner's own (no named scenario): judged from the run alone
OWN = Scenario({}, "Which student will end more accurate on the test set?", ahead(1), None, "", judge_ahead(1))


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
    own = OWN

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
        self.kd_loss = W.Dropdown(options=KD_LOSSES, value=DEFAULTS["kd_loss"], description="KD loss", style=STYLE,
                                  layout=wide)
        # DKD's weights (Zhao et al. 2022), shown for DKD alone; unbounded boxes, so that a weight outside
        # [0, 100] reaches DistillConfig and its message is shown (a bounded box would clip it unsaid)
        self.tckd_weight = W.FloatText(value=DEFAULTS["tckd_weight"], description="TCKD weight (target class)",
                                       style=STYLE, layout=W.Layout(width="260px"))
        self.nckd_weight = W.FloatText(value=DEFAULTS["nckd_weight"], description="NCKD weight (non-target classes)",
                                       style=STYLE, layout=W.Layout(width="260px"))
        a11y.name(self.kd_loss, "KD loss: Hinton's, decoupled (DKD) or logit-standardized")
        a11y.name(self.tckd_weight, "TCKD weight, DKD's target-class term, 0 to 100")
        a11y.name(self.nckd_weight, "NCKD weight, DKD's non-target-class term, 0 to 100")
        self.weights_note = W.HTML(WEIGHTS_NOTE, layout=W.Layout(max_width="420px"))
        self.kd_loss.observe(lambda _: self.show_loss_weights(), names="value")
        self.show_loss_weights()

        self.rows, self.per_class, self.predicted = {}, {}, {}
        self.curves = live(plots.training_curves(self.histories, metric="val_acc", title="Validation accuracy"),
                           width=470, height=330)
        self.losses = live(plots.loss_parts(self.histories), width=470, height=330)
        self.table = live(plots.comparison_table({}), width=700)
        self.classes_fig = live(plots.per_class_accuracy({}, self.splits.classes), width=700, height=330)
        self.fidelity = live(fidelity_bars({}), width=700, height=330)
        self.results = W.VBox([self.table.view, self.classes_fig.view, self.fidelity.view],
                              layout=W.Layout(display="none"))
        self.assemble([self.teacher, self.width, self.temperature, self.alpha, self.kd_loss, self.tckd_weight,
                       self.nckd_weight, self.weights_note, self.epochs, self.lr, self.fraction, self.left_out,
                       self.seed], beside=W.VBox([self.curves.view, self.losses.view]), below=self.results,
                      defaults=DEFAULTS)
        self.controller.locked.remove(self.weights_note)  # text, not a control

    def show_loss_weights(self):
        """DKD's two weights and the note under them are shown when the KD loss is DKD, hidden otherwise."""
        for control in (self.tckd_weight, self.nckd_weight, self.weights_note):
            control.layout.display = None if self.kd_loss.value == "dkd" else "none"

    def config(self):
        """The run's DistillConfig; DKD's weights go in only with DKD (a ValueError names a bad one)."""
        weights = dict(tckd_weight=self.tckd_weight.value, nckd_weight=self.nckd_weight.value) \
            if self.kd_loss.value == "dkd" else {}
        return super().config(lr=self.lr.value, kd_loss=self.kd_loss.value, **weights)

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
        self.rows, self.per_class, self.predicted = {}, {}, {}
        self.results.layout.display = "none"

    def finish(self, results, teacher):
        """The comparison table and accuracy per class on the test set."""
        test = self.splits.test
        self.rows = {"teacher": {**wb.analysis.report(teacher, test), "epochs": ""}}
        for name, res in results.items():
            self.rows[f"student, {name}"] = {**wb.analysis.report(res.student, test, teacher=teacher),
                                             "epochs": res.metrics["epochs"]}
            logits = wb.predict(res.student, test.x)
            self.per_class[f"student, {name}"] = wb.analysis.per_class_accuracy(logits, test.y)
            self.predicted[f"student, {name}"] = logits.argmax(1)
        self.per_class["teacher"] = wb.analysis.per_class_accuracy(wb.predict(teacher, test.x), test.y)

    def board_results(self):
        """The last run's numbers for the class board (widgets.classroom): test accuracies,
        the gain (distilled − hard labels) and, with a class left out, the share of its test
        images each student recognises."""
        if not self.rows:
            return {}
        d, h, _ = accuracies(self)
        out = {"distilled": d, "hard labels": h, "teacher": self.rows["teacher"]["accuracy"], "gain": d - h,
               "left_out": None, "left_out_recovery": None, "left_out_recovery_hard": None}
        left = parse_classes(self.left_out.value, self.splits.classes)
        if left:
            c = left[0]
            out.update(left_out=str(self.splits.classes[c]),
                       left_out_recovery=float(self.per_class[f"student, {RUNS[0]}"][c]),
                       left_out_recovery_hard=float(self.per_class[f"student, {RUNS[1]}"][c]))
        return out

    def redraw(self):
        refresh(self.curves, plots.training_curves(self.histories, metric="val_acc", title="Validation accuracy"))
        refresh(self.losses, plots.loss_parts(self.histories, title="Loss terms (training set)",
                                              kd_term=KD_TERM_NAMES[self.kd_loss.value]))
        if self.rows:
            # visible before drawing: plotly measures a table's text to wrap it, and text
            # measured in a hidden element comes out empty
            self.results.layout.display = None
            table = {k: {"test accuracy": v["accuracy"], "calibration error (ECE)": v["ece"],
                         "agreement with teacher": v.get("agreement", ""),
                         "KL to teacher (T = 1)": v.get("kl_to_teacher", ""), "epochs": v["epochs"]}
                     for k, v in self.rows.items()}
            refresh(self.table, plots.comparison_table(table, title="Test set"))
            refresh(self.classes_fig, plots.per_class_accuracy(self.per_class, self.splits.classes))
            refresh(self.fidelity, fidelity_bars({k: v for k, v in self.rows.items() if k != "teacher"}))
