import pytest
import torch

import workbench as wb
from widgets import plots


def test_soft_label_bars_show_the_hard_label_next_to_the_soft_one():
    fig = plots.soft_label_bars(torch.tensor([0.1, 0.7, 0.2]), ["cat", "dog", "bird"], hard_label=1)
    hard, soft = fig.data
    assert list(hard.y) == [0.0, 1.0, 0.0] and list(soft.y) == pytest.approx([0.1, 0.7, 0.2])
    assert list(soft.x) == ["cat", "dog", "bird"]


def test_soft_labels_by_temperature_flatten_as_t_rises():
    fig = plots.soft_labels_by_temperature(torch.tensor([3.0, 1.0, 0.0]), "abc", [1, 4, 16])
    peaks = [max(trace.y) for trace in fig.data]
    assert peaks[0] > peaks[1] > peaks[2] and [t.name for t in fig.data] == ["T = 1", "T = 4", "T = 16"]


def test_dark_knowledge_heatmap_hides_the_diagonal():
    m = torch.tensor([[0.9, 0.1], [0.3, 0.7]])
    z = plots.dark_knowledge_heatmap(m, ["a", "b"]).data[0].z
    assert z[0][1] == pytest.approx(0.1) and z[1][0] == pytest.approx(0.3)
    assert z[0][0] is None or z[0][0] != z[0][0]  # NaN: not drawn


def test_curves_loss_parts_and_table_from_histories():
    hist = [{"epoch": 1, "val_acc": 0.5, "kd": 2.0, "ce": 1.0}, {"epoch": 2, "val_acc": 0.8, "kd": 1.0, "ce": 0.5}]
    fig = plots.training_curves({"distilled": hist, "hard labels": [{"epoch": 1, "val_acc": 0.4}]})
    assert [t.name for t in fig.data] == ["distilled", "hard labels"] and list(fig.data[0].y) == [0.5, 0.8]
    parts = plots.loss_parts({"distilled": hist, "hard labels": [{"epoch": 1, "ce": 1.0}]})
    assert [list(t.y) for t in parts.data] == [[2.0, 1.0], [1.0, 0.5], [1.0]]
    assert [t.name for t in parts.data] == ["distilled: KD term (T² · KL)", "distilled: hard-label term (CE)",
                                            "hard labels: hard-label term (CE)"]
    table = plots.comparison_table({"distilled": {"accuracy": 0.9512}, "hard": {"accuracy": 0.9}})
    assert list(table.data[0].cells.values[1]) == ["0.951", "0.900"]


def test_image_is_drawn_upright(digits):
    fig = plots.image(digits.test.x[0])
    assert len(fig.data[0].z) == 8 and fig.layout.yaxis.autorange == "reversed"


def test_text_a_learner_types_becomes_a_label_not_html():
    names = [plots.text("<img src=x onerror=alert(1)>"), plots.text("a & b")]
    fig = plots.soft_label_bars(torch.tensor([0.5, 0.5]), names)
    labels = "".join(str(x) for t in fig.data for x in t.x)
    assert "<img" not in labels and "&lt;img" in labels and "a &amp; b" in labels


def test_a_figure_before_any_run_says_press_run_instead_of_showing_made_up_axes():
    empty = plots.training_curves({"distilled": [], "hard labels": []})
    assert [a.text for a in empty.layout.annotations] == ["Press Run to draw this"]
    assert empty.layout.yaxis.showticklabels is False
    assert plots.loss_parts({}).layout.annotations[0].text == "Press Run to draw this"
    drawn = plots.training_curves({"distilled": [{"epoch": 0, "val_acc": 0.5}]})
    assert not drawn.layout.annotations and drawn.layout.yaxis.showticklabels is not False
