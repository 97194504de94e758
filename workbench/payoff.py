"""The payoff of distillation, measured on this machine: the teacher, hard-label students
and distilled students of several widths, each with its test accuracy, size and latency,
so that one scatter shows distillation move the accuracy-cost front (the same accuracy at
a fraction of the cost, or more accuracy at the same cost).

    points = wb.payoff.compare(splits, teacher)          # trains 10 students, measures 11 models
    wb.payoff.front(points, "latency_s")                 # the names on the Pareto front (test accuracy: a report)
    wb.payoff.smallest_match(points)                     # (best hard-label, smallest distilled as good)
    wb.payoff.compare_budgets(splits, teacher)           # {0.1: points, 1.0: points}: the claim and its control

The default setting is the distillation lab's "small data" one: the students learn from
10% of the training labels, while the teacher learned from all of them, so part of what
distillation buys there is the teacher's extra labels. The control, `CONTROL_FRACTION`,
gives the students the same data the teacher had. Every "best" is chosen on the
validation split and reported on the test split. What each setting shows, over seeds 0-2,
is in tests/test_payoff.py and the README's payoff section."""
import dataclasses
import math

from . import _check, data, footprint, models
from .config import DistillConfig
from .device import seed_everything
from .features import predict
from .train import run, steps

WIDTHS = (8, 16, 32, 64, 128)  # hidden units of the MLP students
FRACTION = 0.1  # share of the training images the students learn from
CONTROL_FRACTION = 1.0  # the control: every training image and label, the data the teacher learned from
BUDGETS = (FRACTION, CONTROL_FRACTION)
CONFIG = DistillConfig(temperature=4.0, alpha=0.9, epochs=150, lr=1e-2)
KINDS = ("teacher", "hard labels", "distilled")


def name(kind, width=None):
    return "teacher" if kind == "teacher" else f"{kind}, mlp({width})"


def budget(fraction, n_train=None):
    """The data budget in words: "10% of the training labels (108 of 1,077)", or "all
    1,077 training labels" (the teacher's data) when fraction is 1."""
    if fraction >= 1:
        return f"all {n_train:,} training labels" if n_train else "all the training labels"
    share = f"{fraction:.0%} of the training labels"
    return f"{share} ({max(1, round(n_train * fraction)):,} of {n_train:,})" if n_train else share


def student_runs(splits, teacher, widths=WIDTHS, cfg=CONFIG, fraction=FRACTION, stop=None):
    """{name: (kind, width, model, a `steps` generator)} for a hard-label and a distilled
    MLP of each width, all on the same `fraction` of the training set (subsampled with
    cfg.seed) and from the same seed; drive them with workbench.train.run or a widget's
    run controller. `stop` (a threading.Event) ends each run within one step."""
    if not widths:
        raise ValueError(f"widths must name at least one hidden-layer size, such as {WIDTHS}, got {widths!r}")
    for w in widths:
        models.build("mlp", splits.input_shape, splits.num_classes, hidden=(w,))  # checks each width
    small = dataclasses.replace(splits, train=data.subsample(splits.train, fraction, seed=cfg.seed))
    runs = {}
    for width in widths:
        for kind in KINDS[1:]:
            seed_everything(cfg.seed)  # both kinds start from the same weights
            student = models.build("mlp", splits.input_shape, splits.num_classes, hidden=(width,))
            events = steps(student, small, cfg, teacher=teacher if kind == "distilled" else None, stop=stop)
            runs[name(kind, width)] = (kind, width, student, events)
    return runs


def accuracy(model, split):
    return (predict(model, split.x).argmax(1) == split.y).float().mean().item()


def matched_epochs(splits, fraction, cfg=CONFIG, reference=FRACTION):
    """The epochs that give a student on `fraction` of the training set as many optimizer
    steps as cfg.epochs give one on `reference` (steps per epoch: ceil(n / batch size)), so
    that two data budgets differ in their data and not in their training time: 150 epochs
    of one batch on 10% of digits' 1,077 images, 17 epochs of 9 batches on all of them."""
    n = lambda f: max(1, round(len(splits.train) * f))
    per_epoch = lambda f: math.ceil(n(f) / cfg.batch_size)
    return max(1, round(cfg.epochs * per_epoch(reference) / per_epoch(fraction)))


def _check_fractions(fractions):
    """The data budgets as a tuple of floats in (0, 1], all checked before any student
    trains (a bad last one used to end the call after the first budget's runs)."""
    given = fractions
    fractions = () if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__") else tuple(given)
    try:
        fractions = tuple(_check.fraction("fractions", f) for f in fractions)
    except ValueError:
        raise ValueError(f"fractions must each be a number in (0, 1], got {given!r}") from None
    if not fractions or len(set(fractions)) != len(fractions):
        raise ValueError(f"fractions must name one or more different shares of the training set, such as "
                         f"{BUDGETS}, got {given!r}")
    return fractions


def budget_runs(splits, teacher, widths=WIDTHS, cfg=CONFIG, fractions=BUDGETS, stop=None):
    """{fraction: `student_runs`} for each data budget: by default the claim's students on
    10% of the training labels beside the control's on all of them (the teacher's data),
    each budget trained for the same number of steps as the first one's cfg.epochs make
    (`matched_epochs`)."""
    fractions = _check_fractions(fractions)
    return {f: student_runs(splits, teacher, widths, cfg.replace(epochs=matched_epochs(splits, f, cfg, fractions[0])),
                            f, stop) for f in fractions}


def measure(kind, width, model, splits, batch_sizes=footprint.BATCH_SIZES, sizes=False, repeats=30):
    """One point of the picture: {"name", "kind", "width", "val_acc" (to choose with),
    "test_acc" (to report), "parameters", "latency_s": {batch size: seconds} on the CPU,
    and "bytes" when sizes (an ONNX export)}."""
    point = {"name": name(kind, width), "kind": kind, "width": width,
             "val_acc": accuracy(model, splits.val), "test_acc": accuracy(model, splits.test),
             "parameters": footprint.parameters(model),
             "latency_s": {b: footprint.latency(model, splits.input_shape, b, "cpu", repeats=repeats)
                           for b in batch_sizes}}
    if sizes:
        point["bytes"] = footprint.size_on_disk(model, splits.input_shape)
    return point


def compare(splits, teacher, widths=WIDTHS, cfg=CONFIG, fraction=FRACTION, batch_sizes=footprint.BATCH_SIZES,
            sizes=False):
    """Train the students of `student_runs` and measure them and the teacher; a list of
    points (see `measure`), the teacher first, each with its "model" too (to export one)
    and each student with the "fraction" of the training set it learned from."""
    points = [dict(measure("teacher", None, teacher, splits, batch_sizes, sizes), model=teacher)]
    for kind, width, model, events in student_runs(splits, teacher, widths, cfg, fraction).values():
        run(events)
        points.append(dict(measure(kind, width, model, splits, batch_sizes, sizes), model=model, fraction=fraction))
    return points


def compare_budgets(splits, teacher, widths=WIDTHS, cfg=CONFIG, fractions=BUDGETS, **kwargs):
    """{fraction: `compare`'s points} for each data budget: by default the claim (10% of
    the training labels) beside its control (all of them, the data the teacher had), each
    trained for as many steps as the first budget's cfg.epochs make (`matched_epochs`)."""
    fractions = _check_fractions(fractions)
    return {f: compare(splits, teacher, widths, cfg.replace(epochs=matched_epochs(splits, f, cfg, fractions[0])),
                       f, **kwargs) for f in fractions}


def best(points, kind):
    """The point of `kind` with the highest validation accuracy (ties: fewer parameters):
    chosen on the validation split, so that its test accuracy is an honest report."""
    candidates = [p for p in points if p["kind"] == kind]
    if not candidates:
        raise ValueError(f"points must hold a {kind!r} point to choose from, got kinds "
                         f"{sorted({p['kind'] for p in points})}")
    return max(candidates, key=lambda p: (p["val_acc"], -p["parameters"]))


def smallest_match(points):
    """(the best hard-label student, the smallest distilled student at least as accurate,
    or None when none is): what distillation saves at equal accuracy. Both are chosen on
    the validation split (never the test split); read their "test_acc" as the result.
    Ties go to the fewer parameters."""
    hard = best(points, "hard labels")
    good = [p for p in points if p["kind"] == "distilled" and p["val_acc"] >= hard["val_acc"]]
    return hard, min(good, key=lambda p: (p["parameters"], -p["val_acc"])) if good else None


def payoff(points):
    """The payoff in one setting, every choice made on validation: {"hard", "distilled"
    (the best of each kind), "gap" (distilled − hard test accuracy of those two), "match"
    (the smallest distilled student at least as good as "hard", or None), "ratio" (hard's
    parameters / match's, None without a match)}."""
    hard, match = smallest_match(points)
    top = best(points, "distilled")
    return {"hard": hard, "distilled": top, "gap": top["test_acc"] - hard["test_acc"], "match": match,
            "ratio": hard["parameters"] / match["parameters"] if match else None}


def front(points, cost="parameters", batch_size=1):
    """Names of the points on the Pareto front of test accuracy against `cost`
    ("parameters", "latency_s" at `batch_size`, or "bytes" in float32): those that no
    other point beats on one without losing on the other.

    The front is drawn on the test split, so it is a report, not a choice: picking the
    model to ship from it would choose on the test split. Choose on validation instead
    (`best`, `smallest_match`, `payoff`), and read the front as what the models turned out
    to do on data that none of the choices saw."""
    if cost not in ("parameters", "latency_s", "bytes"):
        raise ValueError(f"cost must be one of ['parameters', 'latency_s', 'bytes'], got {cost!r}")
    value = {"parameters": lambda p: p["parameters"], "latency_s": lambda p: p["latency_s"][batch_size],
             "bytes": lambda p: p["bytes"]["float32"]}[cost]
    beaten = lambda p, q: (value(q) <= value(p) and q["test_acc"] >= p["test_acc"]
                           and (value(q) < value(p) or q["test_acc"] > p["test_acc"]))
    return [p["name"] for p in points if not any(beaten(p, q) for q in points if q is not p)]
