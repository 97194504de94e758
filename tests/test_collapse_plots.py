"""widgets.collapse_plots: the mean-and-median figure of many chains and its summary."""
import pytest

from widgets import collapse_plots

STATS = {"maximum likelihood": [{"generation": 0, "mean": 0.98, "median": 0.96, "chains": 4},
                                {"generation": 1, "mean": 0.5, "median": 0.1, "chains": 4}],
         "unbiased": [{"generation": 0, "mean": 1.0, "median": 0.98, "chains": 4},
                      {"generation": 1, "mean": 1.3, "median": 0.2, "chains": 4}]}


def test_mean_and_median_draws_each_run_in_both_panels_on_log_axes():
    theory = {"unbiased": {"mean": [1.0, 1.0], "median": [0.9, 0.8]}}
    fig = collapse_plots.mean_and_median(STATS, theory)
    lines = [(t.name, t.xaxis, list(t.y)) for t in fig.data]
    assert ("maximum likelihood", "x", [0.98, 0.5]) in lines and ("maximum likelihood", "x2", [0.96, 0.1]) in lines
    assert ("unbiased", "x2", [0.98, 0.2]) in lines
    assert ("unbiased: theory", "x2", [0.9, 0.8]) in lines
    assert not any(name == "maximum likelihood: theory" for name, _, _ in lines)  # no theory given for it
    dashed = {t.name for t in fig.data if t.line.dash == "dash"}
    assert dashed == {"unbiased: theory"}
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert [a.text for a in fig.layout.annotations][:2] == ["mean over chains", "median over chains"]
    assert len(fig.layout.shapes) == 2  # the truth in both panels
    assert len(collapse_plots.mean_and_median(STATS, truth=None).layout.shapes) == 0


def test_a_label_is_escaped():
    fig = collapse_plots.mean_and_median({"<b>x</b>": STATS["unbiased"]})
    assert fig.data[0].name == "&lt;b&gt;x&lt;/b&gt;"


def test_summary_names_first_and_last_mean_and_median_of_each_run():
    text = collapse_plots.mean_and_median_summary(STATS)
    assert "unbiased: over 4 chains the mean variance goes from 1 at generation 0 to 1.3 at generation 1, " \
           "the median from 0.98 to 0.2." in text
    assert "maximum likelihood: over 4 chains the mean variance goes from 0.98" in text


@pytest.mark.parametrize("fn", [collapse_plots.mean_and_median, collapse_plots.mean_and_median_summary])
def test_no_runs_is_named(fn):
    with pytest.raises(ValueError, match="stats must hold at least one run"):
        fn({})
