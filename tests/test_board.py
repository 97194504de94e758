"""The class board's store (workbench/board.py), each test on SQLite and on PostgreSQL: what
is recorded comes back exactly, hostile text stays text, a class writing at once loses no
row, a culled kernel loses no finished run, and every failure is a sentence, not a traceback.

PostgreSQL: set KD_WORKBENCH_TEST_POSTGRES (tests/board_db.py); .ci/run starts a server."""
import csv
import datetime
import math
import os
import pathlib
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import sqlalchemy as sa
import torch

import board_db
from board_db import board_url  # noqa: F401 (fixture)
from workbench import board as store
from workbench.board import SCHEMA_VERSION, Board, BoardError

LEARNER_PROCESS = pathlib.Path(__file__).with_name("board_learner.py")
LAB = "Distillation lab"
HOSTILE = [
    "'); DROP TABLE runs;--",
    "Robert'); DROP TABLE answers;--",
    "<img src=x onerror=alert(1)>",
    "<script>alert('x')</script>",
    "say \"hi\" and 'bye'; -- \\n %s %(x)s ? :name",
    "Zoë, 日本語, مرحبا, 👩\u200d💻",
    "e\u0301 is not \u00e9",  # the same letter decomposed and composed: never normalised
    "back\\slash, a line\u2028separator",
]
WITH_CONTROLS = "tab\there, line\nbreak"  # fine in an answer or a setting, refused in a name


@pytest.fixture
def board(board_url):  # noqa: F811 (the fixture board_db.board_url)
    with Board(board_url) as b:
        yield b


def rows(frame, columns):
    return [tuple(r) for r in frame[list(columns)].itertuples(index=False)]


def count(board, table):
    with board.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# -- a missing server ------------------------------------------------------------------------

def test_a_missing_postgres_skips_on_a_laptop_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv(board_db.POSTGRES_ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=board_db.POSTGRES_ENV):
        board_db.postgres_admin_url()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no PostgreSQL under CI"):
        board_db.postgres_admin_url()


# -- round trip -----------------------------------------------------------------------------

RUNS = [
    ("ada", LAB, {"scenario": "left out", "teacher": "digits/mlp-large", "width": 32, "temperature": 4.0,
                  "alpha": 0.9, "epochs": 30, "lr": 0.01, "fraction": 1.0, "left_out": "3", "seed": 0},
     {"distilled": 0.9312, "hard labels": 0.8421, "teacher": 0.97, "gain": 0.0891, "left_out": "3",
      "left_out_recovery": 0.6, "left_out_recovery_hard": 0.0}),
    ("bob", LAB, {"temperature": 1.0, "alpha": 0.5, "left_out": "", "seed": 1, "hidden": [32, 16], "augment": False},
     {"gain": -0.0125, "left_out": None, "left_out_recovery": None}),
    ("ada", "Collapse", {"setting": "gaussian", "generations": 5, "mix": {"real": 0.1, "replace": True}},
     {"final_std": 0.4375, "stds": [1.0, 0.8, 0.4375]}),
]
ANSWERS = [  # (learner, kind, question_id, choice, correct)
    ("ada", "quiz", "kd_loss-1", "T, because it softens", False),
    ("ada", "quiz", "kd_loss-1", "alpha", True),
    ("bob", "quiz", "kd_loss-2", "an opinion poll", None),
    ("ada", "exercise", "check_kd_loss", "passed", True),
    ("bob", "exercise", "check_kd_loss", "failed", False),
]


def store_answers(board, answers):
    for learner, kind, question_id, choice, correct in answers:
        if kind == "quiz":
            board.answer(learner, question_id, choice, correct)
        else:
            board.check(learner, question_id, passed=correct)


def test_what_is_recorded_comes_back_exactly_and_in_order(board):
    before = datetime.datetime.now(datetime.timezone.utc)
    ids = [board.record(*run) for run in RUNS]
    store_answers(board, ANSWERS)
    after = datetime.datetime.now(datetime.timezone.utc)

    runs = board.runs()
    assert list(runs.columns) == ["id", "learner", "lab", "settings", "results", "at"]
    assert list(runs["id"]) == ids and ids == sorted(set(ids))
    assert rows(runs, ["learner", "lab", "settings", "results"]) == RUNS
    assert all(before <= t <= after for t in runs["at"]) and runs["at"].is_monotonic_increasing

    assert rows(board.runs(learner="ada"), ["lab", "settings"]) == [(r[1], r[2]) for r in RUNS if r[0] == "ada"]
    assert rows(board.runs(lab="Collapse"), ["learner", "results"]) == [("ada", RUNS[2][3])]
    assert rows(board.runs(learner="ada", lab=LAB), ["settings"]) == [(RUNS[0][2],)]
    assert board.runs(learner="bob", lab="Collapse").empty and board.runs(learner="nobody").empty

    anonymous = board.runs(anonymous=True)
    assert list(anonymous.columns) == ["lab", "settings", "results", "at"]
    assert rows(anonymous, ["lab", "settings", "results"]) == [r[1:] for r in RUNS]

    answers = board.answers()
    assert list(answers.columns) == ["id", "learner", "kind", "question_id", "choice", "correct", "at"]
    assert rows(answers, ["learner", "kind", "question_id", "choice", "correct"]) == ANSWERS
    assert rows(board.answers(kind="quiz"), ["question_id", "choice"]) == [a[2:4] for a in ANSWERS if a[1] == "quiz"]
    assert rows(board.answers(kind="exercise"), ["learner", "choice", "correct"]) == [
        ("ada", "passed", True), ("bob", "failed", False)]
    assert rows(board.answers(learner="bob"), ["kind", "question_id"]) == [("quiz", "kd_loss-2"), ("exercise", "check_kd_loss")]


def test_the_board_url_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KD_WORKBENCH_BOARD", str(tmp_path / "class" / "room.sqlite"))
    with Board() as board:
        board.record("ada", LAB, {"seed": 0}, {"gain": 0.0})
    assert (tmp_path / "class" / "room.sqlite").is_file()
    assert store.resolve_url("postgresql://kd@host/db") == "postgresql+psycopg://kd@host/db"


# -- hostile text ---------------------------------------------------------------------------

def test_hostile_names_and_settings_are_stored_and_returned_as_text(board_url):  # noqa: F811
    with Board(board_url) as board:
        for i, text in enumerate(HOSTILE):
            board.record(text, text, {text: text, "nested": [text, {text: text}]}, {text: i})
            board.answer(text, text, text, correct=True)
            board.check(text, text, passed=False)
    with Board(board_url) as board:  # a new connection reads back what the database holds
        assert rows(board.runs(), ["learner", "lab", "settings", "results"]) == [
            (t, t, {t: t, "nested": [t, {t: t}]}, {t: i}) for i, t in enumerate(HOSTILE)]
        assert rows(board.answers(), ["learner", "kind", "question_id", "choice", "correct"]) == [
            row for t in HOSTILE for row in ((t, "quiz", t, t, True), (t, "exercise", t, "failed", False))]
        for text in HOSTILE:  # the filters are parameters too
            assert rows(board.runs(learner=text, lab=text), ["learner"]) == [(text,)]
        tables = set(sa.inspect(board.engine).get_table_names())
        assert {"runs", "answers", "board_info"} <= tables
        assert (count(board, store.runs_table), count(board, store.answers_table)) == (len(HOSTILE), 2 * len(HOSTILE))


# -- a class at once, a culled kernel --------------------------------------------------------

LEARNERS, RUNS_EACH = 30, 20


def assert_class_complete(url, learners, runs_each):
    """Every learner's runs (seeds 0..runs_each-1) and answers are there, once each."""
    with Board(url) as board:
        runs, answers = board.runs(), board.answers()
    assert len(runs) == learners * runs_each and len(answers) == learners * runs_each
    expected = {f"learner {k}": sorted(range(runs_each)) for k in range(learners)}
    seeds = runs.groupby("learner")["settings"].agg(lambda s: sorted(d["seed"] for d in s)).to_dict()
    assert seeds == expected
    questions = answers.groupby("learner")["question_id"].agg(lambda q: sorted(int(i.split("-")[1]) for i in q))
    assert questions.to_dict() == expected


def test_thirty_learners_in_threads_lose_no_row(board_url):  # noqa: F811
    start, errors = threading.Barrier(LEARNERS), []

    def learner(k):  # each its own Board, all opening the new board at the same moment
        try:
            start.wait()
            with Board(board_url) as board:
                for i in range(RUNS_EACH):
                    board.record(f"learner {k}", LAB, {"seed": i, "temperature": 4.0}, {"gain": i / 100})
                    board.answer(f"learner {k}", f"kd_loss-{i}", f"choice {i}", correct=i % 2 == 0)
        except Exception as e:  # noqa: BLE001 (reported below, with the learner)
            errors.append(f"learner {k}: {e!r}")

    threads = [threading.Thread(target=learner, args=(k,)) for k in range(LEARNERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert_class_complete(board_url, LEARNERS, RUNS_EACH)


def test_thirty_learners_in_processes_lose_no_row(board_url):  # noqa: F811
    done = subprocess.run([sys.executable, str(LEARNER_PROCESS), "class", board_url, str(LEARNERS), "5"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_class_complete(board_url, LEARNERS, 5)


def test_a_culled_kernel_loses_no_finished_run(board_url):  # noqa: F811
    finished = 20
    kernel = subprocess.Popen([sys.executable, str(LEARNER_PROCESS), "culled", board_url, str(finished)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        said = kernel.stdout.readline().strip()
        if said == "recorded":
            time.sleep(0.3)  # it is writing the next runs when it is killed
    finally:
        kernel.kill()  # SIGKILL: no atexit, no finally, no close, like a culled kernel
        kernel.wait(timeout=30)
    assert said == "recorded", kernel.stderr.read()[-2000:]
    with Board(board_url) as board:
        seeds = [s["seed"] for s in board.runs(learner="culled")["settings"]]
        assert seeds[:finished] == list(range(finished)) and set(seeds[finished:]) <= {"after"}
        board.record("culled", LAB, {"seed": "next kernel"}, {"gain": 0.0})  # the board still takes writes
        assert len(board.runs()) == len(seeds) + 1


def test_two_boards_on_one_database_see_each_others_rows(board_url):  # noqa: F811
    with Board(board_url) as first, Board(board_url) as second:
        first.record("ada", LAB, {"seed": 0}, {"gain": 0.1})
        assert rows(first.runs(), ["learner"]) == [("ada",)] and first.answers().empty
        assert rows(second.runs(), ["learner", "settings"]) == [("ada", {"seed": 0})]
        second.record("bob", LAB, {"seed": 1}, {"gain": 0.2})
        second.answer("bob", "kd_loss-1", "T", correct=True)
        assert rows(first.runs(), ["learner"]) == [("ada",), ("bob",)]  # first has read before: nothing stale
        assert rows(first.answers(), ["learner", "choice"]) == [("bob", "T")]


def test_a_sqlite_board_is_in_wal_mode(tmp_path):
    path = tmp_path / "board.sqlite"
    with Board(path) as board:
        board.record("ada", LAB, {"seed": 0}, {"gain": 0.1})
        with board.engine.connect() as db:
            assert db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    with sqlite3.connect(path) as other:  # the mode is the file's, not one connection's
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.with_name("board.sqlite-wal").exists()


# -- schema version -------------------------------------------------------------------------

def test_a_new_board_stores_this_codes_schema_version(board):
    with board.engine.connect() as db:
        stored = db.execute(sa.select(store.info.c.value).where(store.info.c.key == "schema")).scalar_one()
    assert stored == str(SCHEMA_VERSION)


def test_a_board_from_newer_code_is_refused_with_what_to_do(board_url):  # noqa: F811
    with Board(board_url) as board:
        board.record("ada", LAB, {"seed": 0}, {"gain": 0.1})
        with board.engine.begin() as db:
            db.execute(store.info.update().where(store.info.c.key == "schema").values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(BoardError) as refused:
        Board(board_url)
    message = str(refused.value)
    assert f"schema {SCHEMA_VERSION + 1}" in message and "newer" in message
    assert "update KD Workbench" in message and "KD_WORKBENCH_BOARD" in message


# -- corrupt, locked, unreachable -----------------------------------------------------------

def assert_short_notice(message):
    assert "\n" not in message and "Traceback" not in message and 'File "' not in message
    assert len(message) < 300


def test_a_corrupt_file_is_a_short_notice(tmp_path):
    path = tmp_path / "board.sqlite"
    path.write_bytes(random.Random(0).randbytes(8192))
    with pytest.raises(BoardError) as broken:
        Board(path)
    assert str(path) in str(broken.value) and "not a database" in str(broken.value)
    assert_short_notice(str(broken.value))


def test_a_locked_file_is_a_short_notice_and_works_again_once_free(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "BUSY_SECONDS", 0.2)
    path = tmp_path / "board.sqlite"
    with Board(path) as board:
        board.record("ada", LAB, {"seed": 0}, {"gain": 0.1})
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another writer that does not let go
        try:
            with pytest.raises(BoardError) as locked:
                board.record("ada", LAB, {"seed": 1}, {"gain": 0.2})
            assert len(board.runs()) == 1  # readers do not wait for a writer (WAL)
        finally:
            holder.rollback()
            holder.close()
        assert "locked" in str(locked.value).replace(str(path), "")  # the reason, not this test's folder name
        assert_short_notice(str(locked.value))
        board.record("ada", LAB, {"seed": 1}, {"gain": 0.2})
        assert [s["seed"] for s in board.runs()["settings"]] == [0, 1]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_is_a_short_notice_without_the_password():
    with pytest.raises(BoardError) as down:
        Board(f"postgresql+psycopg://kd:s3cret-pw@127.0.0.1:{closed_port()}/kd_board")
    message = str(down.value)
    assert "127.0.0.1" in message and "refused" in message and "s3cret-pw" not in message
    assert_short_notice(message)


# -- bad input ------------------------------------------------------------------------------

def test_an_unknown_url_scheme_names_the_allowed_ones():
    with pytest.raises(ValueError, match="mysql") as bad:
        Board("mysql://kd:kd@localhost/kd_board")
    assert all(scheme in str(bad.value) for scheme in store.SCHEMES)


def test_a_folder_that_cannot_be_written_is_named(tmp_path):
    (tmp_path / "afile").write_text("a file, not a folder")
    proc = [pathlib.Path("/proc/kd-workbench")] if pathlib.Path("/proc/self").exists() else []  # not even root
    for folder in [tmp_path / "afile", *proc]:
        with pytest.raises(ValueError, match="folder") as bad:
            Board(folder / "board.sqlite")
        assert str(folder) in str(bad.value) and "KD_WORKBENCH_BOARD" in str(bad.value)
    with Board(tmp_path / "board.sqlite") as board, pytest.raises(ValueError, match="folder") as bad:
        board.export_csv(tmp_path / "afile" / "grades")
    assert str(tmp_path / "afile" / "grades") in str(bad.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes to any folder")
def test_a_read_only_folder_is_named(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    with pytest.raises(ValueError, match="folder") as bad:
        Board(folder / "board.sqlite")
    assert str(folder) in str(bad.value)


@pytest.mark.parametrize("learner", ["", "   ", "x" * 65, 42, None, b"ada"],
                         ids=["empty", "blank", "65 characters", "int", "None", "bytes"])
def test_a_bad_learner_name_is_refused_and_nothing_stored(board, learner):
    for write in (lambda: board.record(learner, LAB, {}, {}), lambda: board.answer(learner, "kd_loss-1", "T", True),
                  lambda: board.check(learner, "check_kd_loss", passed=True)):
        with pytest.raises(ValueError, match="learner") as bad:
            write()
        assert "1 to 64" in str(bad.value) and repr(learner)[:20] in str(bad.value)
    assert board.runs().empty and board.answers().empty


@pytest.mark.parametrize("learner", [WITH_CONTROLS, "nul\x00byte"], ids=["tab and newline", "NUL"])
def test_a_name_with_control_characters_is_refused_on_both_databases(board, learner):
    with pytest.raises(ValueError, match="learner must be a name without control characters"):
        board.record(learner, LAB, {}, {})
    assert board.runs().empty


def test_tabs_and_newlines_in_answers_and_settings_come_back_and_nul_is_refused(board):
    board.record("ada", LAB, {"note": WITH_CONTROLS}, {WITH_CONTROLS: 1})
    board.answer("ada", "kd_loss-1", WITH_CONTROLS, correct=False)
    assert board.runs().iloc[0]["settings"] == {"note": WITH_CONTROLS}
    assert list(board.answers()["choice"]) == [WITH_CONTROLS]
    with pytest.raises(ValueError, match="choice must be .* no NUL"):
        board.answer("ada", "kd_loss-1", "a\x00b", correct=False)


def test_a_learner_name_of_64_characters_is_kept_whole(board):
    name = "x" * 63 + "é"
    board.record(name, LAB, {}, {})
    board.check(name, "check_kd_loss", passed=True)
    assert list(board.runs()["learner"]) == [name] and list(board.answers()["learner"]) == [name]


@pytest.mark.parametrize("settings", [[("temperature", 4.0)], "temperature=4", None, {"teacher": object()},
                                      {"nested": {"deep": [1, {2, 3}]}}, {"curve": torch.ones(3)}],
                         ids=["list", "text", "None", "object", "set", "tensor"])
def test_settings_that_are_not_plain_data_are_refused(board, settings):
    with pytest.raises(ValueError, match="settings"):
        board.record("ada", LAB, settings, {"gain": 0.1})
    with pytest.raises(ValueError, match="results"):
        board.record("ada", LAB, {"seed": 0}, settings)
    assert board.runs().empty


def test_nan_and_inf_are_stored_as_none_and_numpy_and_tensors_as_numbers(board):
    board.record("ada", LAB, {"lr": np.float64(0.01), "epochs": np.int64(30), "augment": np.bool_(False)},
                 {"gain": float("nan"), "kl": math.inf, "loss": [1.5, -math.inf, np.float32(np.nan)],
                  "distilled": np.float32(0.75), "teacher": torch.tensor(0.875), "correct": torch.tensor(12)})
    settings, results = board.runs().iloc[0][["settings", "results"]]
    assert settings == {"lr": 0.01, "epochs": 30, "augment": False}
    assert results == {"gain": None, "kl": None, "loss": [1.5, None, None], "distilled": 0.75, "teacher": 0.875,
                       "correct": 12}
    assert [type(v) for v in settings.values()] == [float, int, bool]
    assert [type(results[k]) for k in ("distilled", "teacher", "correct")] == [float, float, int]


# -- export ---------------------------------------------------------------------------------

def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_export_writes_the_runs_and_a_gradebook_of_first_answers(board, tmp_path):
    board.record("ada", LAB, {"temperature": 4.0, "alpha": 0.9}, {"gain": 0.02})
    board.record("bob", LAB, {"temperature": 1.0, "left_out": "3"}, {"gain": -0.01, "left_out_recovery": 0.5})
    for learner, exercise, passed in [("ada", "check_kd_loss", False), ("ada", "check_kd_loss", True),
                                      ("ada", "check_forward_reverse", True), ("ada", "check_forward_reverse", False),
                                      ("bob", "check_kd_loss", False), ("bob", "check_kd_loss", False),
                                      ("bob", "check_forward_reverse", True), ("cy", "check_forward_reverse", False)]:
        board.check(learner, exercise, passed)
    for learner, question, correct in [("ada", "kd_loss-1", False), ("ada", "kd_loss-1", True), ("ada", "kd_loss-2", True),
                                       ("bob", "kd_loss-1", True), ("bob", "kd_loss-1", False), ("cy", "kd_loss-2", False)]:
        board.answer(learner, question, f"{question} {correct}", correct)

    paths = board.export_csv(tmp_path / "grades")
    assert paths == (tmp_path / "grades" / "runs.csv", tmp_path / "grades" / "gradebook.csv")

    header, runs = read_csv(paths[0])
    assert header[:3] == ["id", "learner", "lab"] and "at" in header
    assert sorted(c for c in header if ":" in c) == sorted(["setting: temperature", "setting: alpha", "setting: left_out",
                                                             "result: gain", "result: left_out_recovery"])
    assert [r["learner"] for r in runs] == ["ada", "bob"]
    assert [float(r["setting: temperature"]) for r in runs] == [4.0, 1.0]
    assert [r["setting: left_out"] for r in runs] == ["", "3"] and [r["setting: alpha"] for r in runs][1] == ""
    assert [float(r["result: gain"]) for r in runs] == [0.02, -0.01]
    assert all(datetime.datetime.fromisoformat(r["at"]).tzinfo is not None for r in runs)

    header, book = read_csv(paths[1])
    assert header == ["learner", "check_forward_reverse", "check_kd_loss", "quiz questions answered",
                      "quiz first answers correct"]
    cell = {r["learner"]: {k: (float(v) if v else None) for k, v in r.items() if k != "learner"} for r in book}
    # 1 passed at any time (ada passed check_forward_reverse, then failed it), 0 tried and never passed, empty never tried
    assert {who: (c["check_kd_loss"], c["check_forward_reverse"]) for who, c in cell.items()} == {
        "ada": (1, 1), "bob": (0, 1), "cy": (None, 0)}
    # first answers: ada wrong then right on kd_loss-1, right on kd_loss-2; bob right then wrong
    assert {who: (c["quiz questions answered"], c["quiz first answers correct"]) for who, c in cell.items()} == {
        "ada": (2, 0.5), "bob": (1, 1.0), "cy": (1, 0.0)}


def test_export_keeps_a_formula_like_name_as_text(board, tmp_path):
    board.record("=HYPERLINK(\"http://x\",\"ok\")", "+lab", {"note": "@SUM(A1)", "t": -2.0}, {"gain": -0.01})
    board.check("=1+1", "check_kd_loss", passed=True)
    runs_csv, book_csv = board.export_csv(tmp_path)
    _, runs = read_csv(runs_csv)
    assert (runs[0]["learner"], runs[0]["lab"], runs[0]["setting: note"]) == (
        "'=HYPERLINK(\"http://x\",\"ok\")", "'+lab", "'@SUM(A1)")
    assert (float(runs[0]["setting: t"]), float(runs[0]["result: gain"])) == (-2.0, -0.01)  # numbers stay numbers
    _, book = read_csv(book_csv)
    assert [r["learner"] for r in book] == ["'=1+1"]


def test_forget_deletes_one_learners_rows_and_no_one_elses(board):
    for name in ("ada", "bob"):
        board.record(name, LAB, {}, {"gain": 0.1})
        board.answer(name, "kd_loss-1", "T", correct=True)
        board.check(name, "check_kd_loss", passed=False)
    assert board.forget("ada") == (1, 2)
    assert set(board.runs()["learner"]) == {"bob"} and set(board.answers()["learner"]) == {"bob"}
    assert board.forget("nobody") == (0, 0)


def test_a_newer_board_is_refused_before_anything_is_written_into_it(board_url):  # noqa: F811
    engine = sa.create_engine(board_url)
    with engine.begin() as db:  # a board from a future version: only its version table so far
        store.info.create(db)
        db.execute(store.info.insert().values(key="schema", value=str(store.SCHEMA_VERSION + 1)))
    with pytest.raises(BoardError, match="newer KD Workbench"):
        Board(board_url)
    assert set(sa.inspect(engine).get_table_names()) == {"board_info"}  # no runs, no answers created
    with engine.begin() as db:
        db.execute(store.info.update().values(value="v2-beta"))
    with pytest.raises(BoardError, match="unreadable schema version"):
        Board(board_url)
    engine.dispose()
