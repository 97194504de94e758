"""What a check returns: passed, not yet, or not answered, with a message and a hint.

A Feedback shows itself in a notebook (a coloured line) and in plain text, and is
truthy only when the answer passed. It never carries the solution."""
import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Feedback:
    passed: bool | None  # None: not answered yet
    message: str
    hint: str = ""

    def __bool__(self):
        return self.passed is True

    @property
    def status(self):
        return {True: "correct", False: "not yet", None: "not answered"}[self.passed]

    def __str__(self):
        mark = {True: "✓", False: "✗", None: "…"}[self.passed]
        return f"{mark} {self.message}" + (f"\n  hint: {self.hint}" if self.hint else "")

    __repr__ = __str__

    def _repr_html_(self):
        color = {True: "#1b7f3b", False: "#b00020", None: "#666666"}[self.passed]
        mark = {True: "✓", False: "✗", None: "…"}[self.passed]
        hint = f"<br><span style='color:#444'>Hint: {html.escape(self.hint)}</span>" if self.hint else ""
        return (f"<div class='kd-feedback kd-{self.status.replace(' ', '-')}' style='color:{color}'>"
                f"<b>{mark}</b> {html.escape(self.message)}{hint}</div>")


def correct(message):
    return Feedback(True, message)


def wrong(message, hint=""):
    return Feedback(False, message, hint)


def unanswered(hint=""):
    return Feedback(None, "Not answered yet: write your answer in the cell above and run it again.", hint)


def is_unanswered(answer):
    """None or ... stand for an answer not given yet."""
    return answer is None or answer is Ellipsis


def call(fn, *args):
    """fn(*args), or (None, Feedback) when the learner's function is unfinished or fails."""
    if is_unanswered(fn):
        return None, unanswered()
    if not callable(fn):
        return None, wrong(f"Expected a function, got {type(fn).__name__}.")
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, unanswered()
    except Exception as e:  # the learner's code: report it, never crash the notebook
        return None, wrong(f"Your function raised {type(e).__name__}: {e}")


def check_claim(holds, right, wrong_message, hint=""):
    """A notebook's "check yourself" line: Feedback that the lesson's claim held on the
    numbers just measured (`right`) or did not (`wrong_message`, with a hint on what to
    look at). With KD_WORKBENCH_STRICT=1 (set by `make test`) a claim that does not hold
    raises AssertionError, so the notebook's test fails when a lesson stops showing."""
    import os

    if bool(holds):
        return correct(right)
    if os.environ.get("KD_WORKBENCH_STRICT") == "1":
        raise AssertionError(f"claim did not hold: {wrong_message}")
    return wrong(wrong_message, hint)
