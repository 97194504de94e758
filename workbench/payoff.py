"""The payoff of distillation, measured on this machine: the teacher, hard-label students
and distilled students of several widths, each with its test accuracy, size and latency,
so that one scatter shows distillation move the accuracy-cost front (the same accuracy at
a fraction of the cost, or more accuracy at the same cost).

    points = wb.payoff.compare(splits, teacher)          # trains 10 students, measures 11 models
    wb.payoff.front(points, "latency_s")                 # the names on the Pareto front

The default setting is the distillation lab's "small data" one (10% of the training
images, where the teacher's soft labels carry what the labels cannot): there the
distilled MLPs beat hard-label MLPs of every width from 16 up, and a distilled mlp(16)
beats a hard-label mlp(128) of 8 times its parameters (tests/test_payoff.py, seeds 0-2)."""
import dataclasses

from . import data, footprint, models
from .config import DistillConfig
from .device import seed_everything
from .features import predict
from .train import run, steps

WIDTHS = (8, 16, 32, 64, 128)  # hidden units of the MLP students
FRACTION = 0.1  # share of the training images the students learn from
CONFIG = DistillConfig(temperature=4.0, alpha=0.9, epochs=150, lr=1e-2)
KINDS = ("teacher", "hard labels", "distilled")


def name(kind, width=None):
    return "teacher" if kind == "teacher" else f"{kind}, mlp({width})"


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


def measure(kind, width, model, splits, batch_sizes=footprint.BATCH_SIZES, sizes=False, repeats=30):
    """One point of the picture: {"name", "kind", "width", "test_acc", "parameters",
    "latency_s": {batch size: seconds} on the CPU, and "bytes" when sizes (an ONNX export)}."""
    test = splits.test
    point = {"name": name(kind, width), "kind": kind, "width": width,
             "test_acc": (predict(model, test.x).argmax(1) == test.y).float().mean().item(),
             "parameters": footprint.parameters(model),
             "latency_s": {b: footprint.latency(model, splits.input_shape, b, "cpu", repeats=repeats)
                           for b in batch_sizes}}
    if sizes:
        point["bytes"] = footprint.size_on_disk(model, splits.input_shape)
    return point


def compare(splits, teacher, widths=WIDTHS, cfg=CONFIG, fraction=FRACTION, batch_sizes=footprint.BATCH_SIZES,
            sizes=False):
    """Train the students of `student_runs` and measure them and the teacher; a list of
    points (see `measure`), the teacher first, each with its "model" too (to export one)."""
    points = [dict(measure("teacher", None, teacher, splits, batch_sizes, sizes), model=teacher)]
    for kind, width, model, events in student_runs(splits, teacher, widths, cfg, fraction).values():
        run(events)
        points.append(dict(measure(kind, width, model, splits, batch_sizes, sizes), model=model))
    return points


def smallest_match(points):
    """(the best hard-label student, the smallest distilled student at least as accurate,
    or None when none is): what distillation saves at equal accuracy. Ties go to the
    fewer parameters."""
    best = lambda ps: max(ps, key=lambda p: (p["test_acc"], -p["parameters"]))
    hard = best([p for p in points if p["kind"] == "hard labels"])
    good = [p for p in points if p["kind"] == "distilled" and p["test_acc"] >= hard["test_acc"]]
    return hard, min(good, key=lambda p: (p["parameters"], -p["test_acc"])) if good else None


def front(points, cost="parameters", batch_size=1):
    """Names of the points on the Pareto front of test accuracy against `cost`
    ("parameters", "latency_s" at `batch_size`, or "bytes" in float32): those that no
    other point beats on one without losing on the other."""
    if cost not in ("parameters", "latency_s", "bytes"):
        raise ValueError(f"cost must be one of ['parameters', 'latency_s', 'bytes'], got {cost!r}")
    value = {"parameters": lambda p: p["parameters"], "latency_s": lambda p: p["latency_s"][batch_size],
             "bytes": lambda p: p["bytes"]["float32"]}[cost]
    beaten = lambda p, q: (value(q) <= value(p) and q["test_acc"] >= p["test_acc"]
                           and (value(q) < value(p) or q["test_acc"] > p["test_acc"]))
    return [p["name"] for p in points if not any(beaten(p, q) for q in points if q is not p)]
