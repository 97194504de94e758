"""A learner's side of the class board: what the app records (runs, quiz answers, exercise
checks), under which name, only where a class records, and never at the cost of a run."""
import os
import sqlite3

import pytest

import workbench as wb
from workbench import board as board_module
from workbench import recording
from widgets import classroom, plots
from widgets.app import TABS, Dashboard

TITLES = [t for t, _ in TABS]


@pytest.fixture
def class_board(tmp_path, monkeypatch):
    """Recording on, into a fresh SQLite board; the kernel's nickname forgotten after."""
    path = tmp_path / "class" / "board.sqlite"
    monkeypatch.setenv("KD_WORKBENCH_RECORD", "1")
    monkeypatch.setenv("KD_WORKBENCH_BOARD", str(path))
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    yield path
    recording.flush()
    recording.set_nickname(None)


def tab(dashboard, title):
    index = TITLES.index(title)
    dashboard.open_tab(index)
    return dashboard.built[index]


def short_run(lab, epochs=4, left_out="3"):
    lab.epochs.value, lab.left_out.value, lab.seed.value = epochs, left_out, 1
    lab.controller.start()
    recording.flush()


def test_nothing_is_recorded_for_a_learner_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("KD_WORKBENCH_RECORD", raising=False)
    monkeypatch.setenv("KD_WORKBENCH_BOARD", str(tmp_path / "board.sqlite"))
    dashboard = Dashboard()
    assert dashboard.class_panel is None
    short_run(tab(dashboard, "Distillation lab"), epochs=2, left_out="")
    assert recording.record_answer("kd_loss-1", "x", True) is None
    assert not (tmp_path / "board.sqlite").exists()


def test_a_finished_run_is_recorded_with_its_settings_and_results(class_board):
    dashboard = Dashboard()
    assert dashboard.class_panel is not None
    dashboard.class_panel.set_name("ada")
    lab = tab(dashboard, "Distillation lab")
    short_run(lab)
    runs = board_module.Board(str(class_board)).runs()
    assert len(runs) == 1
    run = runs.iloc[0]
    assert (run["learner"], run["lab"]) == (recording.learner(), "Distillation lab")
    assert run["learner"].startswith("ada#")
    assert run["settings"]["epochs"] == 4 and run["settings"]["left_out"] == "3" and run["settings"]["seed"] == 1
    assert run["settings"]["temperature"] == lab.temperature.value and run["settings"]["alpha"] == lab.alpha.value
    res = run["results"]
    assert res["distilled"] == pytest.approx(lab.rows["student, distilled"]["accuracy"])
    assert res["hard labels"] == pytest.approx(lab.rows["student, hard labels"]["accuracy"])
    assert res["gain"] == pytest.approx(res["distilled"] - res["hard labels"])
    three = lab.splits.classes.index("3")
    assert res["left_out"] == "3"
    assert res["left_out_recovery"] == pytest.approx(float(lab.per_class["student, distilled"][three]))
    assert res["left_out_recovery_hard"] == pytest.approx(float(lab.per_class["student, hard labels"][three]))


def test_a_stopped_run_is_not_recorded(class_board):
    lab = tab(Dashboard(), "Distillation lab")
    lab.epochs.value = 200
    lab.controller.stop_event.set()  # as if Stop were pressed before the first step
    original = lab.controller.prepare

    def stopped(stop):
        stop.set()
        return original(stop)
    lab.controller.prepare = stopped
    lab.controller.start()
    recording.flush()
    assert lab.controller.message.text == "Stopped."
    assert not class_board.exists() or len(board_module.Board(str(class_board)).runs()) == 0


def test_quiz_answers_and_exercise_checks_are_recorded(class_board):
    dashboard = Dashboard()
    dashboard.class_panel.set_name("grace")
    exercises = tab(dashboard, "Exercises")
    first = wb.exercises.QUESTIONS["soft_labels"][0]
    buttons = exercises.sections.children[0].children[0].children[1]
    wrong = next(a for a in first["answers"] if not a["correct"])
    buttons.value = wrong["answer"]
    right = next(a for a in first["answers"] if a["correct"])
    buttons.value = right["answer"]
    wb.exercises.check_expected_variance(None)  # unanswered: not recorded
    wb.exercises.check_expected_variance(0.5)  # wrong
    recording.flush()
    answers = board_module.Board(str(class_board)).answers()
    quiz = answers[answers["kind"] == "quiz"]
    assert list(quiz["question_id"]) == ["soft_labels-1", "soft_labels-1"]
    assert list(quiz["choice"]) == [wrong["answer"], right["answer"]] and list(quiz["correct"]) == [False, True]
    checks = answers[answers["kind"] == "exercise"]
    assert list(checks["question_id"]) == ["check_expected_variance"] and list(checks["correct"]) == [False]
    assert set(answers["learner"]) == {recording.learner()} and recording.learner().startswith("grace#")


def test_a_learner_is_their_nickname_and_their_browser_and_the_hub_user_wins(class_board, monkeypatch):
    recording.set_browser("a1b2c3")
    assert recording.learner() == "anonymous#a1b2c3"
    assert recording.set_nickname("  ada  ") == "ada#a1b2c3"
    assert recording.set_browser("not hex!") == "ada#a1b2c3"  # only the browser's own 6 hex digits
    assert recording.set_browser("0f0f0f") == "ada#0f0f0f"  # another browser's ada is another learner
    assert recording.set_nickname("x" * recording.MAX_NICKNAME).endswith("#0f0f0f")
    for bad in ("x" * (recording.MAX_NICKNAME + 1), 3, "ada#0f0f0f"):
        with pytest.raises(ValueError, match=f"nickname must be a name of 1 to {recording.MAX_NICKNAME} characters "
                                             "without '#'"):
            recording.set_nickname(bad)
    assert recording.set_nickname("") == "anonymous#0f0f0f"
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    assert recording.set_nickname("mallory") == "alice"


def test_a_corrupt_board_costs_a_notice_and_the_run_still_ends(class_board):
    class_board.parent.mkdir(parents=True)
    class_board.write_bytes(os.urandom(4096))
    lab = tab(Dashboard(), "Distillation lab")
    short_run(lab, epochs=2, left_out="")
    assert lab.rows, "the run did not finish"
    said = lab.controller.message.text
    assert said.startswith("Done. Not saved to the class board") and "unaffected" in said, said
    assert "Traceback" not in said


def test_a_locked_board_never_holds_up_a_run(class_board, monkeypatch):
    monkeypatch.setattr(board_module, "BUSY_SECONDS", 1)
    board_module.Board(str(class_board)).close()
    holder = sqlite3.connect(class_board)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, and not letting go
    try:
        lab = tab(Dashboard(), "Distillation lab")
        lab.epochs.value, lab.left_out.value = 2, ""
        lab.controller.start()
        assert lab.rows and lab.controller.message.text == "Done."  # the write still waits for the lock
        recording.flush()
        said = lab.controller.message.text
        assert said.startswith("Done. Not saved to the class board") and "locked" in said, said
    finally:
        holder.rollback()
        holder.close()


def test_a_learner_sees_their_own_runs_and_the_class_without_names(class_board):
    other = board_module.Board(str(class_board))
    hostile = "<img src=x onerror=alert(1)>"
    for i, gain in enumerate((0.05, -0.02, 0.03)):
        other.record(f"mallory{i}", "Distillation lab", {"temperature": 4.0}, {"gain": gain})
    recording.set_browser("abcdef")
    other.record("ada#abcdef", "Distillation lab", {"temperature": 1.0, "scenario": hostile}, {"gain": 0.01})
    other.record("ada#123456", "Distillation lab", {"temperature": 8.0, "scenario": "another ada"}, {"gain": 0.02})
    panel = classroom.ClassPanel()
    panel.set_name(hostile)
    assert hostile not in panel.name_line.value and "&lt;img" in panel.name_line.value
    panel.set_name("ada")
    panel.refresh()
    assert "another ada" not in panel.runs_html.value  # the same nickname in another browser: not theirs
    assert "mallory" not in panel.runs_html.value and hostile not in panel.runs_html.value
    assert panel.runs_html.value.count("Distillation lab") == 1
    said = plots.summary(panel.spread)
    assert said.startswith("5 Distillation lab runs in the class, yours among them, every setting pooled: the "
                           "distilled student ended ahead in 4 (80%)")
    assert "your 1: median +1.0" in said
    assert all("mallory" not in str(cell) for row in plots.table(panel.spread)[1] for cell in row)


def test_a_quiz_answer_that_cannot_be_saved_says_so_in_the_class_panel(class_board):
    class_board.parent.mkdir(parents=True)
    class_board.write_bytes(os.urandom(4096))
    dashboard = Dashboard()
    buttons = tab(dashboard, "Exercises").sections.children[0].children[0].children[1]
    buttons.value = buttons.options[0]
    recording.flush()
    said = dashboard.class_panel.message.text
    assert said.startswith("Not saved to the class board") and "unaffected" in said, said


def test_the_payoff_and_speculative_labs_record_their_numbers(class_board):
    from widgets.payoff_lab import PayoffLab
    from widgets.speculative_view import SpeculativeView

    payoff = PayoffLab.__new__(PayoffLab)  # only the state board_results reads
    payoff.points = [{"kind": "teacher", "width": None, "test_acc": 0.99},
                     {"kind": "distilled", "width": 32, "test_acc": 0.93, "fraction": 0.1},
                     {"kind": "hard labels", "width": 32, "test_acc": 0.88, "fraction": 1.0}]
    assert classroom.results_of(payoff) == {"teacher": 0.99, "distilled 32 (10% of the data)": 0.93,
                                            "hard labels 32 (100% of the data)": 0.88}
    view = SpeculativeView.__new__(SpeculativeView)
    view.rows = [{"draft": "white-box", "acceptance": 0.7, "predicted": 0.68, "tokens_per_pass": 3.1, "other": 1}]
    assert classroom.results_of(view) == {"white-box (forward KL): acceptance": 0.7,
                                          "white-box (forward KL): predicted": 0.68,
                                          "white-box (forward KL): tokens_per_pass": 3.1}
