"""A learner's side of the class board (workbench.board): their finished runs, quiz
answers and exercise checks, written from their own kernel.

Recording is on where a class works together, off for a learner alone: it is on when
$KD_WORKBENCH_RECORD is 1 (`make classroom` and deploy/jupyterhub_config.py set it). The
learner is named by $JUPYTERHUB_USER on a hub; elsewhere by the nickname they gave the app
(`set_nickname`, kept in their browser), else by an anonymous name drawn once per kernel.

Writes go through one background thread, so a run, a slider or a check never waits for
the database: a locked or corrupt board costs the learner a one-line notice (`on_error`),
never their work. `flush()` waits for the writes queued so far (tests, a notebook's end)."""
import concurrent.futures
import functools
import os
import secrets
import threading

ON = ("1", "true", "yes", "on")
_writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kd-board")
_state = {"board": None, "url": None, "nickname": None, "anonymous": "anonymous-" + secrets.token_hex(3)}
_lock = threading.Lock()


def enabled():
    """Whether this kernel records to the class board ($KD_WORKBENCH_RECORD=1)."""
    return os.environ.get("KD_WORKBENCH_RECORD", "").strip().lower() in ON


def learner():
    """The name this kernel records under: the hub's user, else the nickname, else an anonymous name."""
    return os.environ.get("JUPYTERHUB_USER") or _state["nickname"] or _state["anonymous"]


def on_hub():
    return bool(os.environ.get("JUPYTERHUB_USER"))


def set_nickname(name):
    """Record under `name` from now on (1 to 64 characters; "" or None: anonymous again).
    On a hub the hub's user name is kept and the nickname is ignored."""
    from .board import learner_name

    _state["nickname"] = None if name is None or (isinstance(name, str) and not name.strip()) \
        else learner_name(name, "nickname")
    return learner()


def board():
    """The class board this kernel writes to, opened on first use (BoardError or
    ValueError if it cannot be; the next call tries again)."""
    from .board import Board, resolve_url  # SQLAlchemy and pandas load only where a class records

    url = resolve_url(None)
    with _lock:
        if _state["board"] is None or _state["url"] != url:
            _state["board"], _state["url"] = Board(url), url
        return _state["board"]


def _notice(error):
    """The one line a learner reads when a write failed: what happened and that nothing else is affected."""
    reason = str(error).replace("the class board", "the board", 1)
    return f"Not saved to the class board ({reason}). Your work here is unaffected."


def _write(method, args, on_error):
    try:
        getattr(board(), method)(learner(), *args)
    except Exception as e:  # any failure becomes a notice: recording must never break a lab
        if on_error is not None:
            try:
                on_error(_notice(e))
            except Exception:
                pass
        return False
    return True


def _submit(method, args, on_error):
    if not enabled():
        return None
    return _writer.submit(_write, method, args, on_error)


def record_run(lab, settings, results, on_error=None):
    """Queue a finished run for the board (a Future of True/False; None when recording is off)."""
    return _submit("record", (lab, settings, results), on_error)


def record_answer(question_id, choice, correct, on_error=None):
    """Queue a quiz answer for the board."""
    return _submit("answer", (question_id, choice, correct), on_error)


def record_check(exercise_id, passed, on_error=None):
    """Queue an exercise check's result (its id and passed, never the code)."""
    return _submit("check", (exercise_id, passed), on_error)


def flush(timeout=30):
    """Wait until the writes queued so far are done."""
    _writer.submit(lambda: None).result(timeout=timeout)


def recorded_check(check):
    """`check` (an exercise's check function) that also records its verdict, passed or
    not, under the function's name; an unanswered exercise is not recorded."""
    @functools.wraps(check)
    def checked(*args, **kwargs):
        feedback = check(*args, **kwargs)
        if getattr(feedback, "passed", None) is not None:
            record_check(check.__name__, bool(feedback.passed))
        return feedback
    return checked
