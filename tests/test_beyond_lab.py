"""The "Beyond Hinton" lab (widgets.beyond_lab) and its figures (widgets.beyond_plots).

Most tests run the lab on a fake engine: small dicts shaped as workbench.beyond's results,
so that each judge, each figure and the run's wiring are checked on numbers chosen here.
The bad assistant width goes through the real engine (it refuses before training), and one
test runs every experiment of the real engine through the lab: each scenario's expected
answer is what this run's own numbers bear out."""
import asyncio
import html
import threading
import types

import pytest

from beyond_fakes import EMPTY, FIGURES, HELPERS, FakeEngine, born_again, capacity, fidelity, smoothing, transfer
from test_figure_text import appearance, drawn, numbers_in, series
from widgets import beyond_lab as bl
from widgets import beyond_plots as bp
from widgets import plots, url_settings
from widgets.scenarios import OWN_SETTINGS, numbers

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def fake():
    return FakeEngine()


@pytest.fixture
def lab(fake):
    return bl.BeyondLab(engine=fake.modules())


def run_lab(lab, key, seed=0, **controls):
    """Choose experiment `key`, set the controls, press Run (to the end: no event loop here)."""
    lab.experiment.value = key
    for name, value in controls.items():
        getattr(lab, name).value = value
    lab.seed.value = seed
    lab.controller.start()
    return lab


# --- the figures --------------------------------------------------------------------------

def test_every_figure_function_is_checked_here():
    import inspect
    found = {n for n, f in vars(bp).items() if inspect.isfunction(f) and f.__module__ == bp.__name__
             and not n.startswith("_")} - HELPERS
    assert found == set(FIGURES) == set(EMPTY)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_says_what_it_shows_with_numbers_and_follows_its_data(name):
    a, b = FIGURES[name](0), FIGURES[name](1)
    said = plots.summary(a)
    assert said.endswith(".") and len(said) > 40 and numbers(said), said
    assert plots.summary(b) != said
    columns, rows = plots.table(a)
    assert columns and rows and all(len(r) == len(columns) for r in rows)
    assert plots.table(b) != (columns, rows)


@pytest.mark.parametrize("name", sorted(set(FIGURES) - {"smoothing_heatmaps"}))
def test_the_table_holds_every_value_the_figure_draws(name):
    fig = FIGURES[name](0)
    cells, values = numbers_in(plots.table(fig)[1]), drawn(fig)
    assert values
    missing = [y for y in values if not any(y == pytest.approx(c, rel=1e-3, abs=1e-6) for c in cells)]
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(set(FIGURES) - {"smoothing_heatmaps"}))
def test_no_two_series_differ_by_colour_alone(name):
    shown = series(FIGURES[name](0))
    assert len(shown) >= 2
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            look_a, look_b = appearance(a), appearance(b)
            assert look_a[1:] != look_b[1:] and sum(x != y for x, y in zip(look_a, look_b)) >= 2, (a.name, b.name)


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_before_a_run_each_figure_says_press_run(name):
    for empty in (None, {}):
        fig = EMPTY[name](empty)
        assert "press Run" in plots.summary(fig) and plots.table(fig)[1] == []
        assert "Press Run to draw this" in [a.text for a in fig.layout.annotations]


def test_the_capacity_gap_draws_each_kind_of_teacher_apart_and_hard_labels_dashed():
    result = capacity()
    fig = bp.capacity_gap_figure(result)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name) == ["teachers of rising size", "teacher assistant", "large teacher, stopped early",
                             "hard labels, no teacher"]
    sized = by_name["teachers of rising size"]
    assert list(sized.x) == [0.875, 0.94, 0.96, 0.97] and list(sized.y) == [0.88, 0.92, 0.89, 0.85]
    assert list(sized.text) == ["8", "16", "64", "256x256"]
    assert list(by_name["teacher assistant"].text) == ["TA 16"] and by_name["teacher assistant"].y == (0.851,)
    assert list(by_name["large teacher, stopped early"].text) == ["256x256 early"]
    assert len({t.marker.symbol for t in fig.data[:3]}) == 3
    hard = by_name["hard labels, no teacher"]
    assert hard.line.dash == "dash" and set(hard.y) == {0.86} and hard.x[0] < 0.875 < 0.97 < hard.x[-1]
    said = plots.summary(fig)
    assert "the most accurate teacher, MLP 256x256 (0.970), gives a student of 0.850" in said
    assert "the best student on validation learns from MLP 16 (0.940) and reaches 0.920" in said
    assert "hard labels alone 0.860" in said


def test_born_again_picks_its_best_generation_on_validation_not_test():
    fig = bp.born_again_figure(born_again(accs=(0.80, 0.95, 0.85, 0.81)))  # validation peaks at generation 2
    said = plots.summary(fig)
    assert "the best generation on validation, 2, has test accuracy 0.850" in said
    assert list(fig.layout.xaxis.ticktext) == ["0 (labels)", "1", "2", "3"]


def test_the_smoothing_heatmaps_hide_the_diagonal_on_one_colour_scale():
    fig = bp.smoothing_heatmaps(smoothing())
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 3 and all(h.z[i][i] is None for h in heat for i in range(10))
    assert len({(h.zmin, h.zmax) for h in heat}) == 1 and [h.showscale for h in heat] == [False, False, True]
    off = max(v for h in heat for row in h.z for v in row if v is not None)
    assert heat[0].zmax == pytest.approx(off)
    columns, rows = plots.table(fig)
    assert len(rows) == 30 and rows[0][2] == pytest.approx(0.9)  # the diagonal, not drawn, is in the table
    assert "ε = 0 (no smoothing): 0.100 on the wrong classes on average, wrong-class evenness 0.680" in \
        plots.summary(fig)


def test_the_smoothing_bars_put_the_uniform_teacher_and_hard_labels_beside_the_teachers():
    fig = bp.smoothing_bars(smoothing())
    student = next(t for t in fig.data if t.name == "the student")
    assert list(student.x) == ["teacher,<br>ε = 0 (no smoothing)", "teacher,<br>ε = 0.1", "teacher,<br>ε = 0.3",
                               "uniform teacher,<br>label smoothing alone, ε = 0.05", "hard labels"]
    assert [row[0] for row in plots.table(fig)[1]][3] == "uniform teacher, label smoothing alone, ε = 0.05"
    assert list(student.y) == [0.94, 0.92, 0.88, 0.870, 0.872]
    low = fig.layout.yaxis.range[0]
    assert 0 < low < 0.87 - 0.02 and f"axis from {low:.2f}" in fig.layout.yaxis.title.text  # said where it starts


def test_names_reach_plotly_escaped_and_the_summary_as_text():
    result = transfer()
    result["sets"][0]["name"] = HOSTILE
    fig = bp.transfer_bars(result)
    assert HOSTILE not in str(fig.to_plotly_json()["data"]) and html.escape(HOSTILE, quote=False) in fig.data[0].x
    assert "<img" not in plots.summary(fig) and "<img" not in str(plots.table(fig))  # as plots.plain reads it
    cap = capacity()
    cap["teachers"][0]["name"] = HOSTILE
    assert HOSTILE not in str(bp.capacity_gap_figure(cap).to_plotly_json()["data"])


# --- the scenarios ------------------------------------------------------------------------

def test_one_scenario_per_experiment_with_real_alternatives_and_the_engines_outcome():
    assert list(bl.SCENARIOS) == list(bl.EXPERIMENTS.values())
    for key, title in bl.EXPERIMENTS.items():
        s = bl.SCENARIOS[title]
        assert s.changes == {"experiment": key} and len(s.choices) >= 3 and s.expected in s.choices
        assert s.judge is not None and s.outcome.startswith("Measured over seeds")


@pytest.mark.parametrize("title", list(bl.EXPERIMENTS.values()))
def test_no_question_gives_its_outcome_away(title):
    s = bl.SCENARIOS[title]
    asked = " ".join([s.question, *s.choices])
    results = {n for n in numbers(s.outcome) - numbers(s.question) if len(n) >= 2}
    assert not results & numbers(" ".join(s.choices)), results & numbers(asked)
    for sentence in s.outcome.split(": "):
        assert sentence.strip() not in asked


@pytest.mark.parametrize("key, results, judged", [
    ("capacity_gap", capacity(), bl.SMALLER),
    ("capacity_gap", capacity(large=0.915), bl.LEVEL),  # within a point of the best smaller teacher's
    ("capacity_gap", capacity(large=0.94), bl.LARGEST),
    ("born_again", born_again(), bl.BETTER),
    ("born_again", born_again(accs=(0.85, 0.87, 0.895, 0.90)), bl.HOLDS),  # generation 1 against 0, not the last
    ("born_again", born_again(accs=(0.90, 0.865, 0.91, 0.92)), bl.WORSE),
    ("smoothing", smoothing(), bl.PLAIN),
    ("smoothing", smoothing(students=(0.94, 0.935, 0.90)), bl.PLAIN),  # judged on the most smoothed teacher
    ("smoothing", smoothing(students=(0.90, 0.90, 0.895)), bl.EVEN),
    ("smoothing", smoothing(students=(0.88, 0.90, 0.90)), bl.SMOOTHED),
    ("transfer", transfer(), bl.HALF),
    ("transfer", transfer(accs=(0.96, 0.8, 0.7, 0.9, 0.1)), bl.RECOVERED),
    ("transfer", transfer(accs=(0.96, 0.8, 0.7, 0.7, 0.1)), bl.PARTLY),
    ("transfer", transfer(accs=(0.96, 0.8, 0.7, 0.2, 0.1)), bl.CHANCE),
    ("transfer", transfer(accs=(0.96, 0.8, 0.7, 0.3, 0.1)), bl.CHANCE),  # below 35%
    ("transfer", transfer(accs=(0.96, 0.8, 0.7, 0.36, 0.1)), bl.HALF),
    ("fidelity", fidelity(), bl.HIGHER),
    ("fidelity", fidelity(agreements=(0.90, 0.93, 0.95)), bl.SAME),
    ("fidelity", fidelity(agreements=(0.90, 0.80, 0.95)), bl.LOWER),
])
def test_each_judge_reads_the_answer_from_the_runs_numbers(key, results, judged):
    engine = FakeEngine(**{key: results})
    lab = run_lab(bl.BeyondLab(engine=engine.modules()), key, seed=3)
    assert lab.message.text == "Done." and lab.picker.judged == judged
    assert f"This run (seed 3)" in lab.picker.revealed and bl.OUTCOMES[key][1] in lab.picker.revealed


# --- the lab ------------------------------------------------------------------------------

CONTROLS = {"capacity_gap": {"assistant", "temperature", "alpha"}, "born_again": {"generations", "label_noise"},
            "smoothing": set(),
            "transfer": set(), "fidelity": set()}


def shown(widget):
    return widget.layout.display != "none"


def test_each_experiment_asks_its_question_and_shows_its_own_controls(lab):
    assert [o[1] for o in lab.experiment.options] == list(bl.EXPERIMENTS)
    for key, title in bl.EXPERIMENTS.items():
        lab.experiment.value = key
        assert lab.picker.menu.value == title and lab.picker.prediction.question == bl.QUESTIONS[key][0]
        assert sorted(lab.picker.prediction.choices) == sorted(bl.QUESTIONS[key][1])
        assert {n for n in ("assistant", "temperature", "alpha", "generations", "label_noise")
                if shown(getattr(lab, n))} == \
            CONTROLS[key]
        assert shown(lab.collapse_note) == (key == "born_again") and "Collapse" in lab.collapse_note.value
        assert shown(lab.side.view) == (key == "smoothing")
        assert bl.ABOUT[key] == lab.about.value


def test_run_passes_the_controls_to_the_engine_and_draws_its_result(lab, fake):
    run_lab(lab, "capacity_gap", seed=5, assistant=8, temperature=2.0, alpha=0.5)
    key, args, stop = fake.calls[-1]
    assert key == "capacity_gap" and args["seed"] == 5 and args["assistant"] == 8
    assert (args["temperature"], args["alpha"]) == (2.0, 0.5) and isinstance(stop, threading.Event)
    assert lab.main.view.text == plots.summary(bp.capacity_gap_figure(fake.results["capacity_gap"]))
    assert "MLP 256x256, stopped at " in lab.table.value and "linear student, seed 0" in lab.setting.value
    run_lab(lab, "born_again", generations=4, label_noise=0.0)
    assert (fake.calls[-1][1]["generations"], fake.calls[-1][1]["label_noise"]) == (4, 0.0)
    assert lab.main.view.text == plots.summary(bp.born_again_figure(fake.results["born_again"]))
    assert "generation 3 (from generation 2)" in lab.table.value


def test_smoothing_draws_both_figures_and_the_last_result_of_each_experiment_stays(lab, fake):
    run_lab(lab, "smoothing")
    assert lab.main.view.text == plots.summary(bp.smoothing_heatmaps(fake.results["smoothing"]))
    assert lab.side.view.text == plots.summary(bp.smoothing_bars(fake.results["smoothing"]))
    assert "uniform teacher, label smoothing alone, ε = 0.05" in lab.table.value
    run_lab(lab, "transfer")
    assert lab.main.view.text == plots.summary(bp.transfer_bars(fake.results["transfer"]))
    lab.experiment.value = "smoothing"  # back: its figures and table again, nothing run
    assert len(fake.calls) == 2
    assert lab.main.view.text == plots.summary(bp.smoothing_heatmaps(fake.results["smoothing"]))
    assert "wrong-class evenness" in lab.table.value
    lab.experiment.value = "fidelity"  # never run: "press Run", no table
    assert "press Run" in lab.main.view.text and lab.table.value == "" and lab.setting.value == ""


def test_the_setting_and_the_names_are_shown_as_text(fake):
    fake.results["transfer"]["setting"] = HOSTILE
    fake.results["transfer"]["sets"][1]["name"] = "'); DROP TABLE runs;--"
    lab = run_lab(bl.BeyondLab(engine=fake.modules()), "transfer")
    assert HOSTILE not in lab.setting.value and html.escape(HOSTILE) in lab.setting.value
    assert html.escape("'); DROP TABLE runs;--") in lab.table.value


def test_own_settings_ask_the_same_question_without_promising_the_outcome(lab):
    lab.experiment.value = "capacity_gap"
    lab.temperature.value = 1.0
    assert lab.picker.menu.value == OWN_SETTINGS and lab.picker.prediction.question == bl.QUESTIONS["capacity_gap"][0]
    lab.controller.start()
    assert lab.picker.judged == bl.SMALLER and bl.OUTCOMES["capacity_gap"][1] not in lab.picker.revealed
    lab.experiment.value = "born_again"  # the own question follows the experiment
    lab.generations.value = 5
    assert lab.picker.menu.value == OWN_SETTINGS and lab.picker.prediction.question == bl.QUESTIONS["born_again"][0]
    lab.label_noise.value = 0.0
    lab.measured.click()
    assert lab.picker.menu.value == bl.EXPERIMENTS["born_again"] and lab.generations.value == 3
    assert lab.label_noise.value == 0.4
    assert lab.temperature.value == 4.0  # every experiment's settings back to what was measured


def test_a_bad_assistant_width_shows_the_engines_message_and_nothing_else_changes():
    lab = bl.BeyondLab()  # the real engine: it checks the width before it trains anything
    lab.assistant.value = 32
    lab.controller.start()
    said = lab.message.text
    assert said.startswith("⚠ assistant must be one of the available widths 8, 16, 64"), said
    assert said.endswith("got 32"), said
    assert "Traceback" not in lab.message.value and "kd-error" in lab.message.value
    assert lab.result is None and lab.picker.revealed is None and not lab.controller.run_button.disabled
    assert not lab.assistant.disabled and not lab.picker.prediction.buttons.disabled


def test_an_unexpected_engine_error_is_a_message_too(lab, fake):
    fake.error = RuntimeError("out of memory")
    run_lab(lab, "fidelity")
    assert lab.message.text == "⚠ RuntimeError: out of memory" and lab.result is None


def test_stop_reaches_the_engine_and_what_finished_is_drawn():
    """The engine runs in a thread while the kernel's loop handles Stop; the stopped
    result (what finished) is drawn and said, and no outcome is revealed."""
    started, seen = threading.Event(), []

    def slow(seed=0, stop=None):
        started.set()
        assert stop.wait(10), "Stop never reached the engine"
        seen.append(stop.is_set())
        return {**born_again(), "test_acc": [0.87], "val_acc": [0.89], "stopped": True}
    engine = FakeEngine().modules()
    engine["born_again"] = types.SimpleNamespace(
        run=lambda seed=0, generations=3, label_noise=0.4, stop=None: slow(seed, stop))
    lab = bl.BeyondLab(engine=engine)
    lab.experiment.value = "born_again"

    async def press_run_then_stop():
        task = lab.controller.start()
        while not started.is_set():
            await asyncio.sleep(0.01)
        assert lab.controller.running and lab.experiment.disabled and lab.measured.disabled
        lab.controller.stop()
        await task
    asyncio.run(press_run_then_stop())
    assert seen == [True] and lab.message.text == "Stopped." and lab.picker.revealed is None
    assert "Stopped before the end" in lab.setting.value and "generation 0 (the labels)" in lab.table.value
    assert not lab.experiment.disabled and not lab.measured.disabled


def test_board_results_are_the_last_runs_numbers(lab, fake):
    assert lab.board_results() == {}
    run_lab(lab, "smoothing")
    assert lab.board_results() == {"student of teacher ε = 0": 0.94, "student of teacher ε = 0.1": 0.92,
                                   "student of teacher ε = 0.3": 0.88, "uniform teacher": 0.870, "hard labels": 0.872}
    run_lab(lab, "fidelity")
    out = lab.board_results()
    assert out["300 epochs: agreement"] == 0.95 and out["30 epochs: kl_to_teacher"] == pytest.approx(0.6 - 0.81 / 2)


def test_a_link_opens_the_experiment_with_its_settings(lab):
    lab.experiment.value = "born_again"
    lab.generations.value = 4
    query = url_settings.link("Beyond Hinton", lab)
    assert "experiment=born_again" in query and "generations=4" in query
    other = bl.BeyondLab(engine=FakeEngine().modules())
    notes = url_settings.apply(other, url_settings.parse(query.lstrip("?")))
    assert notes == [] or all("tab" in n for n in notes), notes
    assert other.experiment.value == "born_again" and other.generations.value == 4
    assert other.picker.prediction.question == bl.QUESTIONS["born_again"][0]


def test_the_app_has_the_tab_and_records_its_runs():
    from widgets.app import TABS, recorded_labs
    assert dict(TABS)["Beyond Hinton"] is bl.BeyondLab
    titles = [t for t, _ in TABS]
    assert titles[-1] == "Exercises" and titles.index("Beyond Hinton") == len(titles) - 2
    lab = bl.BeyondLab(engine=FakeEngine().modules())
    assert recorded_labs("Beyond Hinton", lab) == [("Beyond Hinton", lab)]


# --- the real engine ----------------------------------------------------------------------

def test_every_experiment_of_the_engine_runs_through_the_lab_and_bears_out_its_scenario():
    """Seed 0 of each experiment at its measured settings: the run ends, its figures and
    table are drawn from the engine's numbers, and they bear out the expected answer."""
    lab = bl.BeyondLab()
    for key, title in bl.EXPERIMENTS.items():
        lab.experiment.value = key
        lab.controller.start()
        assert lab.message.text == "Done.", (key, lab.message.text)
        assert lab.picker.judged == bl.SCENARIOS[title].expected, (key, lab.picker.revealed)
        assert lab.main.view.text == plots.summary(bl.figures(key, lab.result)[0]) and "press Run" not in \
            lab.main.view.text
        assert lab.table.value.count("<tr") == len(bl.table_rows(key, lab.result)) + 1
