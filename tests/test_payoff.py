"""wb.payoff: at its default setting distillation moves the accuracy-cost front, over
seeds; the points and the front are what they say."""
import threading

import pytest

import workbench as wb
from workbench.train import run

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def accuracies(digits):
    """{seed: {name: (kind, width, test accuracy)}} of wb.payoff's default students."""
    teacher = wb.teachers.get("digits/cnn")
    out = {}
    for seed in SEEDS:
        runs = wb.payoff.student_runs(digits, teacher, cfg=wb.payoff.CONFIG.replace(seed=seed))
        out[seed] = {}
        for name, (kind, width, model, events) in runs.items():
            run(events)
            acc = wb.analysis.accuracy(wb.predict(model, digits.test.x), digits.test.y)
            out[seed][name] = (kind, width, acc)
    return out


def test_distilled_students_beat_hard_label_ones_of_every_width_from_16(accuracies):
    for seed, points in accuracies.items():
        for width in wb.payoff.WIDTHS[1:]:
            gap = points[f"distilled, mlp({width})"][2] - points[f"hard labels, mlp({width})"][2]
            assert gap > 0.02, (seed, width, gap)  # measured 0.028 to 0.069


def test_a_distilled_student_a_quarter_the_size_matches_the_best_hard_label_one(accuracies):
    size = lambda w: wb.footprint.parameters(wb.models.build("mlp", (1, 8, 8), 10, hidden=(w,)))
    for seed, points in accuracies.items():
        best_hard = max((acc, w) for kind, w, acc in points.values() if kind == "hard labels")
        smallest = min(w for kind, w, acc in points.values() if kind == "distilled" and acc >= best_hard[0])
        assert size(smallest) * 4 <= size(best_hard[1]), (seed, smallest, best_hard)


def test_compare_measures_the_teacher_and_every_student(digits):
    teacher = wb.teachers.get("digits/cnn")
    points = wb.payoff.compare(digits, teacher, widths=(8, 32), cfg=wb.payoff.CONFIG.replace(epochs=5),
                               batch_sizes=(1,))
    assert [p["name"] for p in points] == ["teacher", "hard labels, mlp(8)", "distilled, mlp(8)",
                                           "hard labels, mlp(32)", "distilled, mlp(32)"]
    assert points[0]["test_acc"] > 0.98 and points[0]["parameters"] == wb.footprint.parameters(teacher)
    assert points[1]["parameters"] == 64 * 8 + 8 + 8 * 10 + 10
    assert points[0]["model"] is teacher and wb.footprint.parameters(points[4]["model"]) == points[4]["parameters"]
    trained = wb.analysis.accuracy(wb.predict(points[2]["model"], digits.test.x), digits.test.y)
    assert trained == points[2]["test_acc"]  # the model measured is the one returned
    assert all(list(p["latency_s"]) == [1] and p["latency_s"][1] > 0 for p in points)


def point(name, acc, params, latency):
    return {"name": name, "test_acc": acc, "parameters": params, "latency_s": {1: latency},
            "bytes": {"float32": 4 * params}}


def test_front_keeps_the_points_nothing_beats():
    points = [point("big", 0.99, 1000, 5.0), point("a", 0.90, 100, 1.0), point("b", 0.85, 200, 0.5),
              point("dominated", 0.85, 300, 2.0), point("tie", 0.90, 100, 3.0)]
    assert wb.payoff.front(points) == ["big", "a", "tie"]  # equal on both: neither beats the other
    assert wb.payoff.front(points, "latency_s") == ["big", "a", "b"]
    assert wb.payoff.front(points, "bytes") == ["big", "a", "tie"]
    with pytest.raises(ValueError, match="cost must be one of"):
        wb.payoff.front(points, "speed")


def test_bad_widths_are_named(digits):
    teacher = wb.teachers.get("digits/cnn")
    with pytest.raises(ValueError, match="widths must name at least one"):
        wb.payoff.student_runs(digits, teacher, widths=())
    with pytest.raises(ValueError, match="hidden"):
        wb.payoff.student_runs(digits, teacher, widths=(0,))


def test_stop_ends_every_student_run_within_a_step(digits):
    stop = threading.Event()
    stop.set()
    runs = wb.payoff.student_runs(digits, wb.teachers.get("digits/cnn"), widths=(8,), stop=stop)
    results = [run(events) for _, _, _, events in runs.values()]
    assert all(r.stopped and r.metrics["steps"] == 0 for r in results)


def test_smallest_match_is_the_smallest_distilled_student_as_accurate_as_the_best_hard_one():
    pts = [dict(point("hard labels, mlp(8)", 0.80, 610, 1.0), kind="hard labels"),
           dict(point("hard labels, mlp(64)", 0.88, 4810, 1.0), kind="hard labels"),
           dict(point("distilled, mlp(8)", 0.87, 610, 1.0), kind="distilled"),
           dict(point("distilled, mlp(16)", 0.88, 1210, 1.0), kind="distilled"),
           dict(point("distilled, mlp(32)", 0.93, 2410, 1.0), kind="distilled"),
           dict(point("teacher", 0.99, 19562, 5.0), kind="teacher")]
    best, match = wb.payoff.smallest_match(pts)
    assert (best["name"], match["name"]) == ("hard labels, mlp(64)", "distilled, mlp(16)")  # a tie counts
    assert wb.payoff.smallest_match(pts[:3])[1] is None
