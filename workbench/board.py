"""The class board: every learner's finished runs, quiz answers and exercise checks in one
database, so an instructor can show the room its spread ("everyone who chose T = 1 saw
no gain").

    from workbench.board import Board
    board = Board()                      # KD_WORKBENCH_BOARD, else <checkout>/class/board.sqlite
    board.record("ada", "Distillation lab", {"temperature": 4.0, "alpha": 0.9}, {"gain": 0.04})
    board.answer("ada", "kd_loss-2", "T, because ...", correct=False)
    board.check("ada", "check_kd_loss", passed=True)
    board.runs(), board.answers()        # pandas DataFrames
    board.export_csv("grades/")          # runs.csv and gradebook.csv (learner x exercise)

Built on SQLAlchemy 2 Core, every statement parameterised. The store is embedded by
default: one SQLite file in WAL mode (readers never wait for the writer; writers wait for
each other up to `BUSY_SECONDS`), fine for a room on one machine. A class on JupyterHub
points every server at one PostgreSQL database with a URL, `postgresql+psycopg://user:
password@host/db`. Each write is its own transaction, committed before `record` returns,
so a kernel culled after a run has lost nothing. The schema's version is stored in the
database; code older than the file refuses it with a message instead of misreading it."""
import datetime
import json
import math
import os
import pathlib
import sqlite3
import tempfile
import unicodedata
import time

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc

SCHEMA_VERSION = 1
MAX_NAME = 64  # characters in a learner's name or a lab's
MAX_ID = 128  # characters in a question's or an exercise's id
MAX_TEXT = 2000  # characters in a chosen answer
BUSY_SECONDS = 10  # how long a SQLite writer waits for another before "database is locked"
SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
DEFAULT = pathlib.Path(__file__).resolve().parents[1] / "class" / "board.sqlite"

metadata = sa.MetaData()
info = sa.Table("board_info", metadata, sa.Column("key", sa.String(32), primary_key=True),
                sa.Column("value", sa.String(64), nullable=False))
runs_table = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("learner", sa.String(MAX_NAME), nullable=False, index=True),
    sa.Column("lab", sa.String(MAX_NAME), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("results", sa.JSON, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False))
answers_table = sa.Table(
    "answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("learner", sa.String(MAX_NAME), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "quiz" or "exercise"
    sa.Column("question_id", sa.String(MAX_ID), nullable=False),
    sa.Column("choice", sa.Text, nullable=False),  # the answer chosen; "passed" / "failed" for an exercise
    sa.Column("correct", sa.Boolean, nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False))


class BoardError(RuntimeError):
    """The board cannot be read or written (a corrupt or locked file, a server that is
    down): the message says which board and what went wrong, in a sentence."""


def resolve_url(url=None):
    """The SQLAlchemy URL of a board: `url`, else $KD_WORKBENCH_BOARD, else DEFAULT. A
    plain path means a SQLite file; postgresql:// means psycopg 3."""
    url = url if url is not None else os.environ.get("KD_WORKBENCH_BOARD") or str(DEFAULT)
    if not isinstance(url, (str, os.PathLike)) or not str(url).strip():
        raise ValueError(f"url must be a SQLite file path or a URL with a scheme in {list(SCHEMES)}, got {url!r}")
    url = str(url).strip()
    if "://" not in url:
        return f"sqlite:///{pathlib.Path(url).expanduser().resolve()}"
    scheme = url.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise ValueError(f"url must be a SQLite file path or a URL with a scheme in {list(SCHEMES)} "
                         f"(e.g. postgresql+psycopg://user:password@host/db), got scheme {scheme!r} in {url!r}")
    return "postgresql+psycopg://" + url.split("://", 1)[1] if scheme == "postgresql" else url


def _writable_folder(path):
    """Create `path`'s folder if needed and check that a file can be written there."""
    folder = pathlib.Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ValueError(f"the board's folder {str(folder)!r} cannot be written ({e.strerror or e}): set "
                         f"KD_WORKBENCH_BOARD (or url) to a file in a folder you may write to") from None


def _on_sqlite_connect(connection, _record):
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
    deadline = time.monotonic() + BUSY_SECONDS
    while True:  # readers and one writer at once; switching a new file to WAL does not wait for a busy one
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a killed process
    cursor.close()


def learner_name(name, what="learner"):
    """A learner's (or lab's) name, stripped: 1 to MAX_NAME characters."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise ValueError(f"{what} must be a name of 1 to {MAX_NAME} characters, got {name!r}"
                         + (f" ({len(name.strip())} characters)" if isinstance(name, str) and name.strip() else ""))
    if any(unicodedata.category(c) == "Cc" for c in name.strip()):  # PostgreSQL refuses NUL; no name needs a tab
        raise ValueError(f"{what} must be a name without control characters (tabs, newlines, NUL), got {name!r}")
    return name.strip()


def _plain(value, where):
    """`value` as plain JSON data: dicts with string keys, lists, strings, bools, None and
    finite numbers (NumPy and 0-d tensors become Python numbers; NaN and inf become None)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        value = item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    raise ValueError(f"{where} must hold plain data (numbers, strings, bools, None, lists, dicts), "
                     f"got {type(value).__name__} {value!r}")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


class Board:
    """A class's runs and answers. `url`: a SQLite file path, `sqlite:///path`, or
    `postgresql+psycopg://user:password@host/db`; None reads $KD_WORKBENCH_BOARD, else
    DEFAULT. Raises ValueError for a bad URL or an unwritable folder, BoardError for a
    board that cannot be opened (corrupt, locked, unreachable, or newer than this code)."""

    def __init__(self, url=None):
        self.url = resolve_url(url)
        sqlite = self.url.startswith("sqlite")
        if sqlite and self.url != "sqlite://" and ":memory:" not in self.url:
            _writable_folder(self.url.split("sqlite:///", 1)[1])
        self.engine = sa.create_engine(self.url, pool_pre_ping=not sqlite,
                                       **({} if sqlite else {"connect_args": {"connect_timeout": 5}}))
        if sqlite:
            sa.event.listen(self.engine, "connect", _on_sqlite_connect)
        self.where = self.engine.url.render_as_string(hide_password=True)
        self._guard(self._create)

    def _guard(self, fn, *args, **kwargs):
        """fn(*args, **kwargs), a database failure turned into a BoardError that names the board."""
        try:
            return fn(*args, **kwargs)
        except exc.DBAPIError as e:
            reason = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
            raise BoardError(f"the class board ({self.where}) could not be used: {reason}") from None

    def _create(self):
        """The tables (if missing) and the schema version (checked against this code's)."""
        for attempt in range(3):  # learners opening a new board at once race to create it
            try:
                with self.engine.begin() as db:
                    if db.dialect.name == "sqlite":  # hold the write lock from the check to the creation
                        db.exec_driver_sql("BEGIN IMMEDIATE")
                    if sa.inspect(db).has_table(info.name):  # check the version before touching anything
                        self._check_version(db.execute(sa.select(info.c.value).where(info.c.key == "schema")).scalar())
                    metadata.create_all(db)
                    found = db.execute(sa.select(info.c.value).where(info.c.key == "schema")).scalar()
                    if found is None:
                        db.execute(info.insert().values(key="schema", value=str(SCHEMA_VERSION)))
                        found = str(SCHEMA_VERSION)
                break
            except (exc.IntegrityError, exc.ProgrammingError):  # PostgreSQL: another created it first
                if attempt == 2:
                    raise
        self._check_version(found)

    def _check_version(self, found):
        """Refuse a board whose schema this code cannot read (None: none stored yet)."""
        if found is None:
            return
        if not str(found).isdigit():
            raise BoardError(f"the class board ({self.where}) has an unreadable schema version ({found!r}): it was "
                             f"not written by KD Workbench, or was damaged; set KD_WORKBENCH_BOARD to another file")
        if int(found) > SCHEMA_VERSION:
            raise BoardError(f"the class board ({self.where}) was written by a newer KD Workbench (schema "
                             f"{found}; this code reads schema {SCHEMA_VERSION} and older): update KD Workbench, "
                             f"or set KD_WORKBENCH_BOARD to another file")

    def _insert(self, table, **values):
        with self.engine.begin() as db:  # committed before returning: a culled kernel loses nothing
            return db.execute(table.insert().values(**values, at=_now())).inserted_primary_key[0]

    def record(self, learner, lab, settings, results):
        """Store a finished run: `settings` and `results` are plain dicts (stored as JSON).
        Returns the run's id."""
        learner, lab = learner_name(learner), learner_name(lab, "lab")
        for name, value in (("settings", settings), ("results", results)):
            if not isinstance(value, dict):
                raise ValueError(f"{name} must be a dict of plain values, got {type(value).__name__}")
        settings, results = _plain(settings, "settings"), _plain(results, "results")
        return self._guard(self._insert, runs_table, learner=learner, lab=lab, settings=settings, results=results)

    def answer(self, learner, question_id, choice, correct):
        """Store a quiz answer: the question's id, the answer chosen (its text), and whether
        it is correct (True / False; None where a question has no right answer)."""
        return self._answer(learner, "quiz", question_id, choice, correct)

    def check(self, learner, exercise_id, passed):
        """Store an exercise check's result: the exercise's id and whether it passed (never the code)."""
        if not isinstance(passed, bool):
            raise ValueError(f"passed must be True or False, got {passed!r}")
        return self._answer(learner, "exercise", exercise_id, "passed" if passed else "failed", passed)

    def _answer(self, learner, kind, question_id, choice, correct):
        learner = learner_name(learner)
        if not isinstance(question_id, str) or not question_id.strip() or len(question_id) > MAX_ID:
            raise ValueError(f"question_id must be an id of 1 to {MAX_ID} characters, got {question_id!r}")
        if not isinstance(choice, str) or len(choice) > MAX_TEXT or "\x00" in choice:
            raise ValueError(f"choice must be the answer's text, at most {MAX_TEXT} characters and no NUL "
                             f"character, got {choice!r:.80}")
        if correct is not None and not isinstance(correct, bool):
            raise ValueError(f"correct must be True, False or None, got {correct!r}")
        return self._guard(self._insert, answers_table, learner=learner, kind=kind,
                           question_id=question_id.strip(), choice=choice, correct=correct)

    def _select(self, table, learner, **where):
        query = sa.select(table).order_by(table.c.id)
        if learner is not None:
            query = query.where(table.c.learner == learner_name(learner))
        for column, value in where.items():
            if value is not None:
                query = query.where(table.c[column] == value)
        with self.engine.connect() as db:
            rows = db.execute(query).mappings().all()
        frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in table.columns])
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def runs(self, learner=None, lab=None, anonymous=False):
        """The runs as a DataFrame: id, learner, lab, settings (dict), results (dict), at;
        only `learner`'s and `lab`'s when given. `anonymous=True` leaves out id and learner
        (what a learner may see of the class)."""
        frame = self._guard(self._select, runs_table, learner, lab=lab)
        return frame.drop(columns=["id", "learner"]) if anonymous else frame

    def answers(self, learner=None, kind=None):
        """The quiz answers and exercise checks as a DataFrame: id, learner, kind ("quiz" or
        "exercise"), question_id, choice, correct, at."""
        if kind is not None and kind not in ("quiz", "exercise"):
            raise ValueError(f"kind must be 'quiz', 'exercise' or None, got {kind!r}")
        return self._guard(self._select, answers_table, learner, kind=kind)

    def export_csv(self, folder):
        """Write runs.csv (one row per run, its settings and results as columns) and
        gradebook.csv (one row per learner, one column per exercise: 1 passed, 0 tried and
        not passed, empty never tried; then quiz questions answered and the share of
        first answers correct) into `folder`. Returns the two paths."""
        folder = pathlib.Path(folder).expanduser()
        _writable_folder(folder / "runs.csv")
        paths = folder / "runs.csv", folder / "gradebook.csv"
        spreadsheet_safe(flat_runs(self.runs())).to_csv(paths[0], index=False)
        spreadsheet_safe(gradebook(self.answers()).reset_index()).to_csv(paths[1], index=False)
        return paths

    def forget(self, learner):
        """Delete every run and answer of `learner` (a name typed in error, a learner who asks
        to be removed). Returns (runs deleted, answers deleted)."""
        learner = learner_name(learner)

        def delete():
            with self.engine.begin() as db:
                return tuple(db.execute(t.delete().where(t.c.learner == learner)).rowcount
                             for t in (runs_table, answers_table))
        return self._guard(delete)

    def close(self):
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


FORMULA = ("=", "+", "-", "@", "\t", "\r")  # how a spreadsheet cell starts a formula


def spreadsheet_safe(frame):
    """`frame` with every text cell that a spreadsheet would run as a formula (a name like
    "=HYPERLINK(...)") prefixed with a quote, so it opens as the text it is; numbers unchanged."""
    def cell(v):
        return "'" + v if isinstance(v, str) and v.startswith(FORMULA) else v
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(cell)
    out.columns = [cell(str(c)) for c in out.columns]
    return out


def flat_runs(runs):
    """Runs with their settings and results spread into columns ("setting: alpha",
    "result: gain"), the time as ISO text."""
    base = runs.drop(columns=["settings", "results"])
    parts = [base.reset_index(drop=True)]
    for column, prefix in (("settings", "setting: "), ("results", "result: ")):
        spread = pd.DataFrame([dict(d) for d in runs[column]], index=range(len(runs)))
        parts.append(spread.add_prefix(prefix))
    out = pd.concat(parts, axis=1)
    out["at"] = out["at"].map(lambda t: t.isoformat() if pd.notna(t) else "")
    return out


def gradebook(answers):
    """Learner x exercise: 1 passed, 0 tried and never passed, NaN never tried; then
    "quiz questions answered" and "quiz first answers correct" (a share)."""
    checks = answers[answers["kind"] == "exercise"]
    book = checks.assign(passed=checks["correct"].astype(float)).pivot_table(
        index="learner", columns="question_id", values="passed", aggfunc="max")
    quiz = answers[answers["kind"] == "quiz"].sort_values("id").drop_duplicates(["learner", "question_id"])
    scored = quiz[quiz["correct"].notna()]
    summary = pd.DataFrame({"quiz questions answered": quiz.groupby("learner").size(),
                            "quiz first answers correct": scored.groupby("learner")["correct"].mean()})
    out = book.join(summary, how="outer")
    out.index.name, out.columns.name = "learner", None
    return out
