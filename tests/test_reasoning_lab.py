"""The reasoning lab (widgets/reasoning_lab.py): a tiny real run through its controls and
controller (figure, table, example panel, prediction reveal), a fake engine for the
reveal's verdict and an engine failure, the judge, bad values and the app's tab."""
import html

import pytest

from widgets import plots, url_settings
from widgets import reasoning_lab as rl
from widgets.reasoning_lab import ReasoningLab, judge
from workbench.llm import addition, reasoning
from workbench.train import Event

WAYS = reasoning.WAYS


@pytest.fixture
def small_test_sets(monkeypatch):
    """The held-out and longer problems cut to 20 each: what makes a run slow on a CPU is
    generating answers to 500 + 200 problems per student, not the training."""
    held_out = addition.held_out
    monkeypatch.setattr(addition, "held_out", lambda digits=addition.DIGITS, size=None: held_out(digits, 20))


def tiny(lab, queries=8, rounds=2, steps=4, seed=0):
    lab.queries.value, lab.rounds.value, lab.steps.value, lab.seed.value = queries, rounds, steps, seed
    return lab


def test_a_tiny_run_draws_a_curve_per_way_fills_the_table_and_the_example_and_reveals(small_test_sets):
    lab = tiny(ReasoningLab())
    lab.prediction.buttons.value = rl.UNFILTERED
    lab.controller.start()  # no event loop here: runs to the end
    assert lab.message.text == "Done."
    r = lab.result
    assert {w: [row["queries"] for row in c] for w, c in lab.curves.items()} == {w: [4, 8] for w in WAYS}
    assert [t.name for t in lab.figure.data] == [reasoning.LABELS[w] for w in WAYS]
    assert [list(t.y) for t in lab.figure.data] == [[row["accuracy"] for row in lab.curves[w]] for w in WAYS]
    assert "after 8 queries" in plots.summary(lab.figure) and lab.figure.layout.shapes  # the teacher's line
    assert len(plots.table(lab.figure)[1]) == 2 * len(WAYS)

    table = html.unescape(lab.table.value)
    assert all(reasoning.LABELS[w] in table for w in WAYS) and "inherited mistakes" in table
    assert ("—" in table) == any(v is None for v in r["inherited"].values())
    assert f"was right on {r['teacher']['right']}" in lab.teacher_line.value

    example = html.unescape(lab.example.value)
    assert addition.prompt(*r["example"]["problem"]) in example and r["example"]["teacher"] in example
    assert all(f"student {reasoning.LABELS[w]}" in example for w in WAYS)
    assert example.count("✓") + example.count("✗") == 2 + len(WAYS)  # teacher, truth and each student judged

    said = lab.prediction.result
    assert said.startswith(f"You predicted: {rl.UNFILTERED}. What happened: This run (seed 0, 8 teacher queries)")
    verdict = judge(r)
    assert ("✓" in said) == (verdict == rl.UNFILTERED) and ("✗" in said) == (verdict not in (None, rl.UNFILTERED))
    assert set(lab.board_results()) >= {f"{w}: accuracy" for w in WAYS} | {"teacher accuracy"}
    assert not lab.prediction.buttons.disabled and not lab.queries.disabled


def fake_result(accuracy, inherited=None, student="<b>1333.</b>"):
    problem = (611, 234)
    return {"config": {"seed": 3}, "labels": dict(reasoning.LABELS),
            "teacher": {"queries": 40, "tokens": 900, "right": 37, "accuracy": 37 / 40, "temperature": 1.4},
            "curves": {}, "accuracy": dict(zip(WAYS, accuracy)), "longer": dict.fromkeys(WAYS, 0.1),
            "inherited": inherited or dict.fromkeys(WAYS, None), "tokens": dict.fromkeys(WAYS, 1234),
            "examples": dict.fromkeys(WAYS, 40), "seconds": dict.fromkeys(WAYS, 0.5),
            "example": {"problem": problem, "teacher": "1+4+0=5,1+3+0=4,6+2+0=8,945.",
                        "true": addition.worked(*problem), "students": dict.fromkeys(WAYS, student)}}


def fake_engine(result, error=None):
    def steps(cfg, teacher=None, device=None, stop=None):
        for r in range(cfg.rounds):
            for i, w in enumerate(cfg.ways):
                q = reasoning.round_share(cfg.queries, cfg.rounds, r) * (r + 1)
                yield Event("round", r, r + 1, {"way": w, "round": r + 1, "queries": q,
                                                "accuracy": result["accuracy"][w] * (r + 1) / cfg.rounds})
        if error is not None:
            raise error
        yield Event("done", cfg.rounds, cfg.queries, result)
    return steps


@pytest.mark.parametrize("choice", [rl.FILTERED, rl.UNFILTERED])
def test_the_reveal_says_whether_the_prediction_held(monkeypatch, choice):
    result = fake_result((0.30, 0.80, 0.86, 0.40), inherited={"answers": 0.2, "traces": 0.12, "verified": 0.03,
                                                                "truth": 0.0})
    monkeypatch.setattr(reasoning, "steps", fake_engine(result))
    lab = tiny(ReasoningLab(), queries=40, rounds=4, steps=10)
    lab.prediction.buttons.value = choice
    lab.controller.start()
    said = lab.prediction.result
    assert ("✓" in said) == (choice == rl.FILTERED) and "(b) reproduced 0.12 and (c) 0.03" in said
    assert [list(t.y) for t in lab.figure.data][2] == pytest.approx([0.86 * k / 4 for k in (1, 2, 3, 4)])
    assert "—" not in lab.table.value and "1,234" in lab.table.value


def test_the_example_is_escaped_and_a_teacher_never_wrong_shows_a_dash(monkeypatch):
    monkeypatch.setattr(reasoning, "steps", fake_engine(fake_result((0.1, 0.1, 0.1, 0.1))))
    lab = tiny(ReasoningLab())
    lab.controller.start()
    assert "<b>1333.</b>" not in lab.example.value and "&lt;b&gt;1333.&lt;/b&gt;" in lab.example.value
    assert "945: wrong ✗" in lab.example.value and "845: right ✓" in lab.example.value
    assert lab.table.value.count("—") == len(WAYS)  # inherited: the teacher was never wrong
    assert lab.prediction.result.endswith("count as none).")  # no clear winner: no verdict


def test_an_engine_failure_becomes_the_message_and_frees_the_controls(monkeypatch):
    monkeypatch.setattr(reasoning, "steps", fake_engine(fake_result((0.1,) * 4), error=ValueError("no teacher")))
    lab = tiny(ReasoningLab())
    lab.controller.start()
    assert lab.message.text == "⚠ no teacher" and "Traceback" not in lab.message.value
    assert lab.curves["answers"] and lab.result is None and not lab.seed.disabled


@pytest.mark.parametrize("accuracy, expected", [
    ((0.30, 0.80, 0.86, 0.40), rl.FILTERED), ((0.30, 0.85, 0.86, 0.40), rl.UNFILTERED),
    ((0.30, 0.90, 0.80, 0.40), rl.UNFILTERED), ((0.60, 0.20, 0.20, 0.50), rl.ANSWERS),
    ((0.50, 0.20, 0.20, 0.60), rl.TRUTH), ((0.50, 0.51, 0.49, 0.50), None)])
def test_the_judge_names_the_most_accurate_kind_and_whether_filtering_helped(accuracy, expected):
    assert judge({"accuracy": dict(zip(WAYS, accuracy))}) == expected


def test_the_judge_never_credits_averaging_away_when_the_unfiltered_student_repeated_more_mistakes():
    accuracy = dict(zip(WAYS, (0.30, 0.85, 0.86, 0.40)))  # filtering made no difference to accuracy
    averaged = {"answers": 0.9, "traces": 0.04, "verified": 0.03, "truth": 0.0}
    inherited = {"answers": 0.9, "traces": 0.75, "verified": 0.0, "truth": 0.0}
    assert judge({"accuracy": accuracy, "inherited": averaged}) == rl.UNFILTERED
    assert judge({"accuracy": accuracy, "inherited": inherited}) is None


def test_the_judge_gives_no_verdict_when_a_way_did_not_run():
    assert judge({"accuracy": {"answers": 0.2, "traces": 0.9, "verified": None, "truth": 0.1}}) is None


def test_steps_are_counted_against_the_true_ones():
    assert rl.steps_right((611, 234), "1+4+0=5,1+3+0=4,6+2+0=8,945.") == "3 of 3 right"
    assert rl.steps_right((611, 234), "1+4+0=5,1+3+0=4,945.") == "2 of 3 right (2 written)"
    assert rl.steps_right((611, 234), "845.") == "no steps"


@pytest.mark.parametrize("control, value, said", [
    ("width", 50, "width must be a multiple of 4 from 16 to 128 (the student's size), got 50"),
    ("queries", 0, "queries must be"), ("teacher_temperature", 0.0, "teacher_temperature must be"),
    ("rounds", 9, "queries must be at least rounds (9)")])
def test_bad_values_show_the_engines_message_and_start_nothing(control, value, said):
    lab = tiny(ReasoningLab())
    getattr(lab, control).value = value
    assert lab.controller.start() is None
    assert said in lab.message.text and "Traceback" not in lab.message.value
    assert lab.result is None and not lab.curves and not lab.controller.run_button.disabled


def test_the_controls_start_at_the_engines_defaults_and_a_link_carries_them():
    defaults = reasoning.ReasoningConfig()
    lab = ReasoningLab()
    assert lab.config() == defaults
    lab.queries.value, lab.teacher_temperature.value, lab.width.value = 120, 0.9, 32
    query = url_settings.link("Reasoning", lab)
    settings = url_settings.parse(query.lstrip("?"))
    assert settings.pop("tab") == "Reasoning"
    assert set(settings) == {"queries", "rounds", "steps", "teacher_temperature", "width", "seed"}
    fresh = ReasoningLab()
    assert url_settings.apply(fresh, settings) == [] and fresh.config() == lab.config() != defaults


def test_the_app_has_the_tab_after_dense_vs_sparse_and_records_its_runs():
    from widgets.app import TABS, ReasoningTab, recorded_labs
    titles = [t for t, _ in TABS]
    assert titles[titles.index("Dense vs sparse") + 1] == "Reasoning" and dict(TABS)["Reasoning"] is ReasoningTab
    tab = ReasoningTab()
    assert "The verifier checks the final answer only" in " ".join(tab.widget.children[0].value.split())
    assert recorded_labs("Reasoning", tab) == [("Reasoning", tab.lab)]
