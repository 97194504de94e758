"""A learner's side of the class board (workbench.board): their finished runs, quiz
answers and exercise checks, written from their own kernel.

Recording is on where a class works together, off for a learner alone: it is on when
$KD_WORKBENCH_RECORD is 1 (`make classroom` and deploy/jupyterhub_config.py set it). The
learner is named by $JUPYTERHUB_USER on a hub. Elsewhere a name is the nickname they gave
the app ("anonymous" if none) and their browser's id, e.g. "ada#3f9c2a": the browser draws
the id once and keeps it with the nickname (widgets.classroom.BrowserNickname), so a learner
keeps their history across reloads, two learners who pick the same nickname stay apart, and
no one reads another's runs by typing their nickname.

Writes go through one background thread, so a run, a slider or a check never waits for
the database: a locked or corrupt board costs the learner a one-line notice (`on_error`),
never their work. `flush()` waits for the writes queued so far (tests, a notebook's end)."""
import concurrent.futures
import functools
import os
import secrets
import sys
import threading

ON = ("1", "true", "yes", "on")
_writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kd-board")
ID_LENGTH = 6  # hex digits of a browser's id
MAX_NICKNAME = 64 - ID_LENGTH - 1  # a nickname, "#" and the id fit a learner's name
_state = {"board": None, "url": None, "nickname": None, "browser": secrets.token_hex(ID_LENGTH // 2),
          "notice": None}
_lock = threading.Lock()


def enabled():
    """Whether this kernel records to the class board ($KD_WORKBENCH_RECORD=1)."""
    return os.environ.get("KD_WORKBENCH_RECORD", "").strip().lower() in ON


def learner():
    """The name this kernel records under: the hub's user, else "<nickname>#<browser id>"
    ("anonymous#<id>" without a nickname; the kernel's own id until the browser sends its)."""
    return os.environ.get("JUPYTERHUB_USER") or f"{_state['nickname'] or 'anonymous'}#{_state['browser']}"


def set_browser(browser_id):
    """The id the learner's browser keeps (ID_LENGTH hex digits); anything else is ignored."""
    if isinstance(browser_id, str) and len(browser_id) == ID_LENGTH and all(c in "0123456789abcdef" for c in browser_id):
        _state["browser"] = browser_id
    return learner()


def on_hub():
    return bool(os.environ.get("JUPYTERHUB_USER"))


def set_nickname(name):
    """Record under `name` from now on (1 to MAX_NICKNAME characters, no "#"; "" or None:
    anonymous again). On a hub the hub's user name is kept and the nickname is ignored."""
    from .board import learner_name

    if name is None or (isinstance(name, str) and not name.strip()):
        _state["nickname"] = None
        return learner()
    if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NICKNAME or "#" in name:
        raise ValueError(f"nickname must be a name of 1 to {MAX_NICKNAME} characters without '#', got {name!r}")
    _state["nickname"] = learner_name(name, "nickname")
    return learner()


def set_notice(show):
    """Where a failed write's notice goes when its caller gave none (quiz answers, exercise
    checks): `show(text)`, e.g. the class panel's message; None: printed to stderr."""
    _state["notice"] = show


def board():
    """The class board this kernel writes to, opened on first use (BoardError or
    ValueError if it cannot be; the next call tries again)."""
    from .board import Board, resolve_url  # SQLAlchemy and pandas load only where a class records

    url = resolve_url(None)
    with _lock:
        if _state["board"] is None or _state["url"] != url:
            if _state["board"] is not None:
                _state["board"].close()
            _state["board"], _state["url"] = None, None  # if opening fails, the next write tries again
            _state["board"], _state["url"] = Board(url), url
        return _state["board"]


def _notice(error):
    """The one line a learner reads when a write failed: what happened and that nothing else is affected."""
    reason = str(error).replace("the class board", "the board", 1)
    return f"Not saved to the class board ({reason}). Your work here is unaffected."


def _print_notice(text):
    print(text, file=sys.stderr)


def _write(method, name, args, on_error):
    try:
        getattr(board(), method)(name, *args)
    except Exception as e:  # any failure becomes a notice: recording must never break a lab
        try:
            (on_error or _state["notice"] or _print_notice)(_notice(e))
        except Exception:
            pass
        return False
    return True


def _submit(method, args, on_error):
    if not enabled():
        return None
    return _writer.submit(_write, method, learner(), args, on_error)  # the name when the work was done


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
