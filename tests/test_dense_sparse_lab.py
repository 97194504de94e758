"""The dense-against-sparse lab (widgets/dense_sparse_lab.py): built, run on a tiny budget
through its controller, figure, table and prediction reveal."""
import pytest

from widgets import dense_sparse_lab as lab_module
from widgets import plots
from widgets.dense_sparse_lab import DenseSparseLab, curves_figure, judge
from workbench.llm import dense_sparse as ds


def test_a_short_run_draws_three_curves_the_level_and_reveals_the_prediction():
    lab = DenseSparseLab(samples=16, seed=0, level=0.05)  # the base student is at 0.09: every method "reaches" it
    lab.prediction.buttons.value = lab_module.SAME
    lab.controller.start()  # no event loop here: runs to the end
    assert lab.message.text == "Done."
    assert {m: [r["samples"] for r in c] for m, c in lab.curves.items()} == {m: [0, 16] for m in ds.METHODS}
    assert lab.result["samples_to_level"] == {m: 0 for m in ds.METHODS}
    names = [t.name for t in lab.figure.data]
    assert names == [ds.LABELS[m] for m in ds.METHODS] * 3
    assert list(lab.figure.data[7].y) == [r["kl_to_truth"] for r in lab.curves["rl"]]
    assert "not reached" not in lab.table.value and "RL, one reward per sequence" in lab.table.value
    assert "Samples to reach 0.05 of sampled answers right" in lab.line.value
    assert lab.prediction.result.startswith(f"You predicted: {lab_module.SAME}. What happened: This run (seed 0)")
    assert "✓" not in lab.prediction.result  # opd reached it at 0 samples: no factor, no verdict


def test_the_figure_names_each_methods_samples_to_level_and_draws_the_level():
    curves = {"sft": [{"samples": 0, "sampled_right": 0.1, "fact_accuracy": 0.1, "kl_to_truth": 2.0},
                      {"samples": 64, "sampled_right": 0.3, "fact_accuracy": 0.3, "kl_to_truth": 1.5}],
              "rl": [{"samples": 0, "sampled_right": 0.1, "fact_accuracy": 0.1, "kl_to_truth": 2.0},
                     {"samples": 64, "sampled_right": 0.2, "fact_accuracy": 0.2, "kl_to_truth": 3.0}],
              "opd": [{"samples": 0, "sampled_right": 0.1, "fact_accuracy": 0.1, "kl_to_truth": 2.0},
                      {"samples": 64, "sampled_right": 0.5, "fact_accuracy": 0.5, "kl_to_truth": 1.0}]}
    fig = curves_figure(curves, 0.25)
    text = plots.summary(fig)
    assert ("SFT on teacher samples 64 samples, RL, one reward per sequence not within the budget, "
            "on-policy distillation 64 samples") in text
    assert fig.layout.shapes[0].y0 == 0.25 and len(fig.data) == 9
    assert len(plots.table(fig)[1]) == 18


@pytest.mark.parametrize("reached, expected", [
    ({"rl": 100, "opd": 100}, lab_module.SAME), ({"rl": 256, "opd": 100}, lab_module.TWICE),
    ({"rl": 600, "opd": 100}, lab_module.MANY), ({"rl": None, "opd": 100}, lab_module.MANY),
    ({"rl": None, "opd": 500}, None), ({"rl": 50, "opd": 100}, lab_module.FASTER), ({"rl": 100, "opd": None}, None)])
def test_the_reveal_judges_by_the_measured_factor(reached, expected):
    """RL not within a budget of 1,000: at least 10x after 100 samples of on-policy
    distillation (MANY), but only at least 2x after 500: no verdict."""
    assert judge(reached, 1000) == expected


@pytest.mark.parametrize("control, value, message", [("level", 0, "level must be a number in"),
                                                     ("samples", 4, "samples must be at least batch_size")])
def test_bad_values_show_a_message_and_start_nothing(control, value, message):
    lab = DenseSparseLab(samples=16)
    getattr(lab, control).min = 0
    getattr(lab, control).value = value
    assert lab.controller.start() is None
    assert message in lab.message.text and not lab.curves
