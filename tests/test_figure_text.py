"""Figures that can be read and told apart (issue 26, WCAG 2.1 SC 1.1.1 and 1.4.1).

Every pure figure function of widgets.plots, widgets.collapse_plots and the labs' own
figure modules (speculative_view, dense_sparse_lab) attaches a
one-sentence summary of what it shows now, with its numbers, and its data as a table
(`plots.describe`); `live`/`refresh` show both beside the figure and update them with it;
no two series of a figure differ by colour alone."""
import inspect
import itertools
import re

import pytest
import torch

import workbench as wb
import pandas as pd

import beyond_fakes
from widgets import (beyond_plots, board_page, classroom, collapse_plots, dense_sparse_lab, fidelity, plots,
                     reasoning_lab, speculative_view)
from widgets.figure_view import FigureView
from widgets.live import Message, live, refresh

CLASSES = [str(c) for c in range(10)]
LOGITS = torch.tensor([0.5, -1.0, 0.2, 6.0, -0.5, 3.0, 0.0, -2.0, 2.0, 1.0])


def history(values, key="val_acc", x="epoch"):
    return [{x: i + 1, key: v, "kd": 1.0 / (i + 1) + v, "ce": 2.0 / (i + 1) + v} for i, v in enumerate(values)]


def payoff_point(kind, width, acc, latency):
    return {"name": wb.payoff.name(kind, width), "kind": kind, "width": width, "val_acc": acc, "test_acc": acc,
            "parameters": 1000 if width is None else 75 * width + 10, "latency_s": {1: latency}}


def payoff_points(shift):
    return [payoff_point("teacher", None, 0.99, 1e-4), payoff_point("hard labels", 8, 0.70 + shift, 2e-5),
            payoff_point("hard labels", 16, 0.80, 3e-5), payoff_point("distilled", 8, 0.81 + shift, 2.5e-5),
            payoff_point("distilled", 16, 0.90, 3e-5)]


def gaussian_stats(end):
    return {name: [{"generation": 0, "mean": 1.0, "median": 0.98, "chains": 4},
                   {"generation": 1, "mean": end * k, "median": end * k / 2, "chains": 4}]
            for k, name in ((1, "maximum likelihood"), (2, "unbiased"))}


TRUTH = {"mean": 0.0, "variance": 1.0, "low": -1.96, "high": 1.96}
ZIPF = torch.tensor([0.5, 0.25, 0.125, 0.0625, 0.0625])
# each figure function, built from two different sets of data (a, b)
def board_runs(k):
    """Two learners' Distillation lab runs, as Board.runs() gives them (k changes the numbers)."""
    runs = [("ada", 1.0, 0.5, 0.001, 0.3), ("bo", 4.0, 0.9, 0.03 + k / 100, 0.5 + k / 10)]
    return pd.DataFrame([dict(id=i + 1, learner=who, lab="Distillation lab", settings={"temperature": t, "alpha": a},
                              results={"gain": g, "left_out": "3", "left_out_recovery": r,
                                       "left_out_recovery_hard": 0.1})
                         for i, (who, t, a, g, r) in enumerate(runs)])


def board_answers(k):
    """Two learners' quiz answers and exercise checks, as Board.answers() gives them."""
    rows = [("ada", "quiz", "kd_loss-1", "to make the loss positive", False), ("bo", "quiz", "kd_loss-1", "x", k == 1),
            ("ada", "exercise", "check_kd_loss", "passed", True), ("bo", "exercise", "check_kd_loss", "failed", k == 1)]
    return pd.DataFrame([dict(id=i + 1, learner=who, kind=kind, question_id=q, choice=c, correct=ok)
                         for i, (who, kind, q, c, ok) in enumerate(rows)])


FIGURES = {
    "soft_label_bars": lambda k: plots.soft_label_bars(wb.analysis.soft_labels(LOGITS, (1.0, 4.0)[k]), CLASSES,
                                                       hard_label=3, title=f"Soft labels at T = {(1, 4)[k]}"),
    "soft_labels_by_temperature": lambda k: plots.soft_labels_by_temperature(LOGITS, CLASSES, [(1, 4), (2, 8)][k]),
    "entropy_vs_temperature": lambda k: plots.entropy_vs_temperature([1, 2, 4], [[0.1, 0.5, 1.2], [0.2, 0.9, 1.9]][k],
                                                                     wrong_mass=[0.01, 0.1, 0.3 + k / 10],
                                                                     max_entropy=2.302585),
    "dark_knowledge_heatmap": lambda k: plots.dark_knowledge_heatmap(
        torch.eye(3) * 0.8 + torch.tensor([[0, 0.15, 0.05], [0.1, 0, 0.1], [0.02, 0.18 - 0.1 * k, 0]]),
        ["a", "b", "c"]),
    "training_curves": lambda k: plots.training_curves({"distilled": history([0.5, 0.8, 0.9 + k / 50]),
                                                        "hard labels": history([0.4, 0.7, 0.85])}),
    "loss_parts": lambda k: plots.loss_parts({"distilled": history([0.5, 0.2 + k / 10]),
                                              "hard labels": [{"epoch": 1, "ce": 1.5}, {"epoch": 2, "ce": 0.9}]}),
    "per_class_accuracy": lambda k: plots.per_class_accuracy({"distilled": torch.tensor([0.9, 0.95, 0.5 + k / 5]),
                                                              "teacher": torch.tensor([1.0, 0.99, 0.97])},
                                                             ["a", "b", "c"]),
    "comparison_table": lambda k: plots.comparison_table({"teacher": {"accuracy": 0.97, "epochs": ""},
                                                          "student": {"accuracy": 0.9 + k / 20, "epochs": 4}}),
    "image": lambda k: plots.image(torch.arange(16.0).reshape(4, 4) * (1 + k), title="a digit"),
    "feature_projections": lambda k: plots.feature_projections(
        {"teacher": [[0, 0], [0, 1], [5, 5], [5, 6]], "student": [[0, 0], [1, 1], [2 + 3 * k, 2], [3, 3]]},
        [0, 0, 1, 1], ["a", "b"]),
    "relation_heatmaps": lambda k: plots.relation_heatmaps({"teacher": torch.eye(3),
                                                            "student": torch.eye(3) + torch.ones(3, 3) / 2 +
                                                            torch.tensor([[0, 0.5 + k, 0], [0, 0, 0], [0, 0, 0]])}),
    "curves_side_by_side": lambda k: plots.curves_side_by_side(
        {"white-box": history([2.0, 1.0 - k / 4], key="kl_to_truth", x="queries"),
         "black-box": history([2.5, 1.5], key="kl_to_truth", x="queries")}, ["kl_to_truth"],
        reference={"kl_to_truth": 0.1}),
    "distribution_bars": lambda k: plots.distribution_bars(
        {"truth": {"x": 0.6, "y": 0.4}, "student": {"x": 0.9 - k / 5, "y": 0.1 + k / 5}}, ["x", "y"]),
    "next_token_bars": lambda k: plots.next_token_bars(torch.tensor([0.0, 0.5 + k / 5, 0.3, 0.2 - k / 5]), "ab ",
                                                       top=3),
    "two_answer_scatter": lambda k: plots.two_answer_scatter({"forward KL": [(0.6, 0.4), (0.55, 0.35 + k / 10)],
                                                              "reverse KL": [(0.95, 0.02), (0.9, 0.05)]}),
    "gaussian_fits": lambda k: plots.gaussian_fits({"replace": (0.1, 0.5 - k / 5), "accumulate": (0.0, 0.95)}, TRUTH),
    "rank_probabilities": lambda k: plots.rank_probabilities({"replace": torch.tensor([0.6, 0.4, 0, 0, 0]) if k
                                                              else ZIPF * 0 + 0.2,
                                                              "accumulate": ZIPF}, ZIPF),
    "payoff_scatter": lambda k: plots.payoff_scatter(payoff_points(k / 10), "latency_s"),
    "mean_and_median": lambda k: collapse_plots.mean_and_median(
        gaussian_stats((0.5, 0.25)[k]), {"unbiased": {"mean": [1.0, 1.0], "median": [0.9, 0.8]}}),
    "acceptance_bars": lambda k: speculative_view.acceptance_bars(
        [{"draft": "base", "acceptance": 0.84 - k / 10, "predicted": 0.85, "lookahead": 4},
         {"draft": "white-box", "acceptance": 0.99, "predicted": 0.99, "lookahead": 4}]),
    "curves_figure": lambda k: dense_sparse_lab.curves_figure(
        {m: [{"samples": 0, "sampled_right": 0.1, "fact_accuracy": 0.1, "kl_to_truth": 3.0},
             {"samples": 64, "sampled_right": 0.3 + (0.4 if m == "opd" else 0.1) + k / 10, "fact_accuracy": 0.5,
              "kl_to_truth": 2.0}]
         for m in ("sft", "rl", "opd")}, 0.5),
    "accuracy_curves": lambda k: reasoning_lab.accuracy_curves(
        {w: [{"queries": 300, "accuracy": 0.2 + i / 10}, {"queries": 600, "accuracy": 0.4 + i / 10 + k / 20}]
         for i, w in enumerate(("answers", "traces", "verified", "truth"))}, 0.93 - k / 10),
    "gain_scatter": lambda k: board_page.gain_scatter(board_runs(k)),
    "gain_histogram": lambda k: board_page.gain_histogram(board_runs(k)),
    "recovery_bars": lambda k: board_page.recovery_bars(board_runs(k)),
    "quiz_bars": lambda k: board_page.quiz_bars(board_answers(k)),
    "exercise_bars": lambda k: board_page.exercise_bars(board_answers(k)),
    "spread_figure": lambda k: classroom.spread_figure(
        pd.DataFrame({"lab": ["Distillation lab"] * 3, "results": [{"gain": 0.05}, {"gain": -0.01}, {"gain": 0.02 * k}]}),
        pd.DataFrame({"lab": ["Distillation lab"], "results": [{"gain": 0.03 + 0.01 * k}]})),
    "fidelity_bars": lambda k: fidelity.fidelity_bars({
        "student, distilled": {"accuracy": 0.9 + 0.01 * k, "agreement": 0.93}, "student, hard labels":
        {"accuracy": 0.87, "agreement": 0.88 - 0.01 * k}}),
}
FIGURES.update(beyond_fakes.FIGURES)  # the Beyond Hinton lab's figures, drawn from fake engine results
# helpers and text functions of the two modules: everything else public is a figure function
NOT_FIGURES = {"text", "plain", "value", "num", "describe", "summary", "table", "title_of", "table_html",
               "details_html", "show", "line_style", "bar_style", "class_style", "token_label",
               "mean_and_median_summary", "show_text_in_notebooks",
               # the lab modules' helpers that draw nothing
               "top_answer_share", "judge", "reached_words",
               "verdict", "steps_right", "example_html", "table_rows", "teacher_words", "accuracy_words",
               # the class panel's helpers (widgets.classroom)
               "plural", "results_of", "settings_of", "record_hook", "own_runs_html",
               # the board page's helpers (widgets.board_page)
               "esc", "access", "refusal", "board_page", "pseudonyms"} | beyond_fakes.HELPERS
FIGURE_MODULES = (plots, collapse_plots, speculative_view, dense_sparse_lab, reasoning_lab, classroom, board_page,
                  fidelity, beyond_plots)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def figure_functions():
    return {name for module in FIGURE_MODULES for name, f in vars(module).items()
            if inspect.isfunction(f) and f.__module__ == module.__name__ and not name.startswith("_")} - NOT_FIGURES


def test_every_figure_function_is_checked_here():
    assert figure_functions() == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_says_what_it_shows_with_numbers_and_follows_its_data(name):
    a, b = FIGURES[name](0), FIGURES[name](1)
    said = plots.summary(a)
    assert said.endswith(".") and len(said) > 20 and NUMBER.search(said), said
    assert plots.summary(b) != said, "the summary does not change with the data"
    columns, rows = plots.table(a)
    assert columns and rows and all(len(r) == len(columns) for r in rows)
    assert plots.table(b) != (columns, rows), "the table does not change with the data"


def numbers_in(rows):
    return [v for row in rows for v in row if isinstance(v, (int, float)) and not isinstance(v, bool)]


def drawn(fig):
    """The y values drawn by the figure's bars, lines and markers (guides and fronts aside)."""
    return [y for t in fig.data if t.type in ("bar", "scatter") and t.showlegend is not False
            and t.name not in ("q1 + q2 = 1",) for y in (t.y or ()) if y is not None]


@pytest.mark.parametrize("name", ["soft_label_bars", "soft_labels_by_temperature", "entropy_vs_temperature",
                                  "training_curves", "loss_parts", "per_class_accuracy", "curves_side_by_side",
                                  "distribution_bars", "next_token_bars", "two_answer_scatter", "rank_probabilities",
                                  "payoff_scatter", "mean_and_median", "gain_scatter", "gain_histogram",
                                  "accuracy_curves"])
def test_the_table_holds_every_value_the_figure_draws(name):
    for k in (0, 1):
        fig = FIGURES[name](k)
        cells = numbers_in(plots.table(fig)[1])
        values = drawn(fig)
        assert values
        missing = [y for y in values if not any(y == pytest.approx(c, rel=1e-3, abs=1e-6) for c in cells)]
        assert not missing, f"{name}: drawn but not in the table: {missing}"


def test_a_heatmap_table_holds_the_whole_matrix_diagonal_included():
    fig = FIGURES["dark_knowledge_heatmap"](1)
    columns, rows = plots.table(fig)
    assert columns == ["true class", "soft label for a", "soft label for b", "soft label for c"]
    z = fig.data[0].z
    for i, row in enumerate(rows):
        assert row[0] == "abc"[i] and row[1 + i] == pytest.approx(0.8)  # the diagonal, not drawn, is given
        assert all(row[1 + j] == pytest.approx(z[i][j], abs=1e-4) for j in range(3) if j != i)


def test_aggregate_tables_agree_with_what_is_drawn():
    fits = plots.table(FIGURES["gaussian_fits"](1))[1]
    assert fits == [["truth", 0.0, 1.0], ["replace", 0.1, 0.3], ["accumulate", 0.0, 0.95]]
    rel = plots.table(FIGURES["relation_heatmaps"](1))[1]
    student = torch.eye(3) + torch.ones(3, 3) / 2 + torch.tensor([[0, 1.5, 0], [0, 0, 0], [0, 0, 0]])
    assert rel[1][2:5] == pytest.approx([student.min().item(), student.mean().item(), student.max().item()], abs=1e-3)
    assert rel[0][5] == pytest.approx(1.0) and rel[1][5] < 1.0  # correlation with the teacher's
    fig = FIGURES["feature_projections"](1)
    centres = {(r[0], r[1]): (r[3], r[4]) for r in plots.table(fig)[1]}
    trace = [t for t in fig.data if t.name == "b" and t.xaxis == "x2"][0]
    assert centres[("student", "b")] == pytest.approx((sum(trace.x) / 2, sum(trace.y) / 2))
    pixels = plots.table(FIGURES["image"](1))[1]
    assert [r[1:] for r in pixels] == list(map(list, FIGURES["image"](1).data[0].z))


def test_soft_label_summary_names_the_largest_probabilities_and_the_rest():
    for t in (1.0, 4.0):
        p = wb.analysis.soft_labels(LOGITS, t)
        said = plots.summary(plots.soft_label_bars(p, CLASSES, hard_label=3, title=f"Soft labels at T = {t:g}"))
        top = p.topk(3)
        named = ", ".join(f"{v:.2f} on {c}" for v, c in zip(top.values.tolist(), top.indices.tolist()))
        rest = 1 - top.values.sum().item()
        assert said.startswith(f"Soft labels at T = {t:g}: {named}; {rest:.2f} on the other 7 classes."), said


def appearance(trace):
    """(colour, dash, symbol or bar pattern) a reader can see of one series."""
    if trace.type in ("bar", "histogram"):
        return trace.marker.color, None, trace.marker.pattern.shape or ""
    mode = trace.mode or "lines+markers"
    colour = trace.line.color if "lines" in mode else trace.marker.color
    return (colour, (trace.line.dash or "solid") if "lines" in mode else None,
            (trace.marker.symbol or "circle") if "markers" in mode else None)


def series(fig):
    return [t for t in fig.data if t.showlegend is not False and t.type in ("bar", "histogram", "scatter")]


@pytest.mark.parametrize("name", sorted(set(FIGURES) - {"dark_knowledge_heatmap", "relation_heatmaps", "image",
                                                         "comparison_table", "next_token_bars",
                                                         "gain_histogram", "quiz_bars",
                                                         "smoothing_heatmaps"}))  # one series each
def test_no_two_series_differ_by_colour_alone(name):
    fig = FIGURES[name](0)
    shown = series(fig)
    assert len(shown) >= 2
    many = len(shown) > len(plots.PALETTE)
    for a, b in itertools.combinations(shown, 2):
        look_a, look_b = appearance(a), appearance(b)
        differ = sum(x != y for x, y in zip(look_a, look_b))
        assert look_a[1:] != look_b[1:], f"{name}: {a.name!r} and {b.name!r} differ by colour alone"
        assert many or differ >= 2, f"{name}: {a.name!r} {look_a} and {b.name!r} {look_b}"


def test_ten_classes_get_ten_looks_beyond_colour():
    points = [[i, i] for i in range(10)]
    fig = plots.feature_projections({"teacher": points}, list(range(10)), CLASSES)
    looks = [appearance(t) for t in series(fig)]
    assert len({look[2] for look in looks}) == 10  # a symbol each: 8 colours repeat, symbols do not


def test_the_palette_is_okabe_ito_with_yellow_last_and_the_heatmap_not_blues():
    assert {c.upper() for c in plots.PALETTE} == {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                                                  "#CC79A7", "#000000"}
    assert plots.PALETTE[:2] == ["#0072B2", "#D55E00"] and plots.PALETTE[-1] == "#F0E442"
    import plotly.graph_objects as go
    heat = FIGURES["dark_knowledge_heatmap"](0).data[0]
    assert heat.colorscale == go.Heatmap(colorscale="Cividis").colorscale
    assert heat.colorscale != go.Heatmap(colorscale="Blues").colorscale  # its low end is the page's white


def open_table(view):
    view.table.expanded = True


def test_live_and_refresh_show_the_summary_and_the_table_together():
    a, b = FIGURES["soft_label_bars"](0), FIGURES["soft_label_bars"](1)
    widget = live(a)
    view = widget.view
    assert isinstance(view, FigureView) and view.children[0] is widget and "kd-figure" in view._dom_classes
    assert "kd-figure-summary" in view.summary._dom_classes
    assert view.text == plots.summary(a) and view.table.table == plots.table_html(a)
    assert "<caption>Soft labels at T = 1</caption>" in view.table.table and '<th scope="col">soft label</th>' \
        in view.table.table and not view.table.expanded  # collapsed until opened
    open_table(view)
    refresh(widget, b)
    assert view.text == plots.summary(b) != plots.summary(a)
    assert view.table.table == plots.table_html(b) and view.table.expanded  # still open after a redraw
    assert list(widget.data[-1].y) == list(b.data[-1].y)
    refresh(view, a)  # a lab may hold the view instead of the figure
    assert view.text == plots.summary(a) and list(widget.data[-1].y) == list(a.data[-1].y)


def test_the_table_html_is_a_real_table_and_escapes_text():
    fig = plots.distribution_bars({plots.text("<b>x</b>"): {"a": 1.0}}, ["a"], title="<i>t</i>")
    out = plots.table_html(fig)
    assert out.startswith('<table class="kd-data-table"><caption>t</caption><thead><tr><th scope="col">answer</th>')
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "<b>x</b>" not in out and "<td>1.0</td>" in out


@pytest.fixture
def jupyter_renderer(monkeypatch):
    """plotly's renderer in JupyterLab (pytest's environment may pick another)."""
    import plotly.io as pio
    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")


def test_show_displays_the_figure_and_its_text(monkeypatch, jupyter_renderer):
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    fig = FIGURES["training_curves"](0)
    plots.show(fig)
    assert shown[0]["application/vnd.plotly.v1+json"]["data"][0]["y"] == list(fig.data[0].y)
    text = shown[1].data
    assert plots.summary(fig) in text and "<summary>Data as a table</summary>" in text and \
        plots.table_html(fig) in text


def test_a_figure_a_notebook_cell_returns_shows_its_text_below_it(jupyter_renderer):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    shell = InteractiveShell.instance()
    plots.show_text_in_notebooks(shell)
    with capture_output() as out:
        shell.run_cell("from widgets import plots\nplots.soft_label_bars([0.25, 0.75], ['a', 'b'], title='T = 2')")
    kinds = [list(o.data) for o in out.outputs]
    assert any("application/vnd.plotly.v1+json" in k for k in kinds)
    text = out.outputs[-1].data["text/html"]
    assert "T = 2: 0.75 on b, 0.25 on a." in text and "<details><summary>Data as a table</summary>" in text


def figure_widgets(widget, parent=None):
    """(FigureWidget, its parent box) for every plotly figure in a widget tree."""
    from widgets.figure_widget import FigureWidget
    if isinstance(widget, FigureWidget):
        yield widget, parent
    for child in getattr(widget, "children", ()):
        yield from figure_widgets(child, widget)


def test_every_lab_figure_is_shown_with_its_text(digits):
    from widgets import DarkKnowledgeMap, DistillationLab, TemperatureExplorer
    for lab in (TemperatureExplorer(digits), DarkKnowledgeMap(digits), DistillationLab(digits)):
        found = list(figure_widgets(lab.widget))
        assert found
        for fig, parent in found:
            assert parent is fig.view and plots.summary(fig) and fig.view.text == plots.summary(fig)


def test_the_status_line_is_a_live_region_and_an_error_an_alert():
    m = Message()
    assert "kd-status" in m._dom_classes
    m.error("lr must be > 0")
    assert "kd-alert" in m._dom_classes and "kd-status" not in m._dom_classes
    m.info("epoch 12 of 30")
    assert "kd-status" in m._dom_classes and "kd-alert" not in m._dom_classes and m.text == "epoch 12 of 30"


def test_the_digit_picture_has_a_text_alternative(digits):
    from widgets import TemperatureExplorer
    te = TemperatureExplorer(digits, index=2)
    said = te.picture.alt
    assert said.startswith(f"Test image 2 (class {digits.classes[digits.test.y[2].item()]})") and "8 × 8" in said
    te.index.value = 9
    assert te.picture.alt.startswith(f"Test image 9 (class {digits.classes[digits.test.y[9].item()]})")
