"""Exercise 09, the verifier filter (workbench/exercises/verifier.py): every right way of
writing keep_verified passes (a list, a tuple, a set, a generator or a filter object; pairs
as tuples or lists; any order); each common mistake gets its own message and none gives the
solution away; the check's completions tell the known wrong filters apart; the queries
question names its mistakes; the exercise notebook runs blank and its solution passes."""
import math
import pathlib
import re

import numpy as np
import pytest

from test_exercises import checked_cells
from workbench import exercises as ex
from workbench.exercises import verifier
from workbench.llm import addition

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NAME = "09_verifier_filter.ipynb"


# ---- right answers, written independently of the check's own code

def final(c):
    """The final answer as an int, or None: text must end with '.', the number after the last ','."""
    if not c.endswith("."):
        return None
    last = c[:-1].split(",")[-1]
    return int(last) if last.isdigit() else None


def plain(problems, completions):
    return [(p, c) for p, c in zip(problems, completions) if final(c) == p[0] + p[1]]


def by_regex(problems, completions):
    return [(p, c) for p, c in zip(problems, completions)
            if (m := re.search(r"(?:^|,)(\d+)\.$", c)) and int(m.group(1)) == sum(p)]


def with_try(problems, completions):
    kept = []
    for (a, b), c in zip(problems, completions):
        try:
            if c[-1] == "." and int(c[:-1].split(",")[-1]) == a + b:
                kept.append(((a, b), c))
        except ValueError:
            pass
    return kept


def as_strings(problems, completions):
    return [(p, c) for p, c in zip(problems, completions)
            if c.endswith(".") and c[:-1].rpartition(",")[2] == str(p[0] + p[1])]


def a_generator(problems, completions):
    for p, c in zip(problems, completions):
        if final(c) == sum(p):
            yield p, c


RIGHT = {
    "a list of tuples": plain,
    "a regular expression": by_regex,
    "int() inside try": with_try,
    "strings compared": as_strings,
    "a generator": a_generator,
    "a filter object": lambda ps, cs: filter(lambda pc: final(pc[1]) == sum(pc[0]), zip(ps, cs)),
    "a tuple": lambda ps, cs: tuple(plain(ps, cs)),
    "a set": lambda ps, cs: set(plain(ps, cs)),
    "pairs as lists": lambda ps, cs: [[list(p), c] for p, c in plain(ps, cs)],
    "in reverse order": lambda ps, cs: plain(ps, cs)[::-1],
    "by index": lambda ps, cs: [(ps[i], cs[i]) for i in range(len(ps)) if final(cs[i]) == sum(ps[i])],
    "numpy ints in the problem": lambda ps, cs: [(tuple(np.int64(x) for x in p), c) for p, c in plain(ps, cs)],
}


@pytest.mark.parametrize("form", RIGHT)
def test_every_right_form_passes(form):
    fb = ex.check_keep_verified(RIGHT[form])
    assert fb.passed is True, str(fb)


def test_the_check_agrees_with_the_labs_verifier():
    """Each completion's kind says whether it is kept, and that is what addition.is_correct says;
    none has a leading zero or a sign that would make a string and a number comparison differ."""
    for data in verifier.SETS:
        for p, c, kind in data:
            assert addition.is_correct(p, c) == verifier.keeps(kind) == (final(c) == sum(p)), (p, c, kind)
            assert not re.search(r"(^|,)0\d", c) and c.count(".") <= 1 and (not c.count(".") or c.endswith("."))
        assert {k for *_, k in data} == {k for *_, k in verifier.FIRST}


def test_the_known_wrong_filters_are_told_apart_on_both_sets():
    for data in verifier.SETS:
        right = verifier._kept_by(addition.is_correct, data)
        kept = {name: verifier._kept_by(rule, data) for name, rule in verifier.WRONG_FILTERS.items()}
        kept["dict, last"], kept["dict, first"] = verifier._dict_kept(data, True), verifier._dict_kept(data, False)
        assert all(k != right for k in kept.values()), kept
        distinct = [tuple(k) for name, k in kept.items() if not name.startswith("dict")]
        assert len(set(distinct)) == len(distinct), kept


def kept_where(rule):
    return lambda ps, cs: [(p, c) for p, c in zip(ps, cs) if rule(p, c)]


def first_number(p, c):
    m = re.match(r"\d+", c)
    return m is not None and int(m.group()) == sum(p)


def after_equals(p, c):
    return c.rstrip(".").split("=")[-1] == str(sum(p))


def last_number(p, c):
    return int(re.findall(r"\d+", c)[-1]) == sum(p)


def keyed_by_problem(ps, cs):
    return [(p, c) for p, c in dict(zip(ps, cs)).items() if final(c) == sum(p)]


def sorts_its_input(ps, cs):
    cs.sort()
    return plain(ps, cs)


def keeps_the_slip_out(p, c):
    """Checks every verbose step too: a process check, stronger than the verifier's."""
    steps = c.split(",")[:-1]
    ok = all(eval(s.split("=")[0]) == int(s.split("=")[1]) for s in steps if "=" in s and s.split("=")[1])
    return ok and final(c) == sum(p)


WRONG = {  # the planted mistake -> words its message must contain
    "inverted": (kept_where(lambda p, c: final(c) != sum(p)), "inverted"),
    "whole text against the true steps": (kept_where(lambda p, c: c == addition.worked(*p)),
                                          "equal to the true worked steps"),
    "whole text against any true form": (kept_where(lambda p, c: c in (addition.worked(*p),
                                                                       addition.worked(*p, "terse"), f"{sum(p)}.")),
                                         "checks the final answer only"),
    "every step checked too": (kept_where(keeps_the_slip_out), "a process check"),
    "the first number": (kept_where(first_number), "first number of each completion"),
    "after the last '=' (strings)": (kept_where(after_equals), "what follows the last '='"),
    "after the last '=' (int)": (kept_where(lambda p, c: int(c.rstrip(".").split("=")[-1]) == sum(p)),
                                 "a well-formed completion with the right answer"),
    "unfinished text kept": (kept_where(last_number), "it has no '.', so the teacher was cut off"),
    "last character dropped blindly": (kept_where(lambda p, c: c[:-1].split(",")[-1] == str(sum(p))),
                                       "as if it were the '.'"),
    "ends with the digits": (kept_where(lambda p, c: c.endswith(f"{sum(p)}.")), "ends with the right digits"),
    "the sum anywhere": (kept_where(lambda p, c: str(sum(p)) in c), "anywhere in the text"),
    "three digits": (kept_where(lambda p, c: c[-4:-1] == str(sum(p))), "fixed three digits"),
    "no bare answers": (kept_where(lambda p, c: re.search(r",(\d+)\.$", c) is not None
                                   and int(re.search(r",(\d+)\.$", c).group(1)) == sum(p)), "bare answers"),
    "int() on malformed text": (kept_where(lambda p, c: int(c.rstrip(".").split(",")[-1]) == sum(p)),
                                "can be unfinished or garbled"),
    "a dict inside": (keyed_by_problem, "keyed by the problem (a dict)"),
    "a dict returned": (lambda ps, cs: {p: c for p, c in plain(ps, cs)}, "You returned a dict"),
    "completions alone": (lambda ps, cs: [c for _, c in plain(ps, cs)], "completions alone"),
    "a mask": (lambda ps, cs: [final(c) == sum(p) for p, c in zip(ps, cs)], "(a mask)"),
    "indices": (lambda ps, cs: [i for i, (p, c) in enumerate(zip(ps, cs)) if final(c) == sum(p)], "indices"),
    "pairs swapped": (lambda ps, cs: [(c, p) for p, c in plain(ps, cs)], "wrong way round"),
    "prompts for problems": (lambda ps, cs: [(f"{p[0]}+{p[1]}=", c) for p, c in plain(ps, cs)], "prompt text"),
    "the '.' stripped": (lambda ps, cs: [(p, c.rstrip(".")) for p, c in plain(ps, cs)], "changed a completion"),
    "each kept twice": (lambda ps, cs: plain(ps, cs) * 2, "more than once"),
    "a mismatched pair": (lambda ps, cs: [(ps[0], cs[1])], "not one of the (problem, completion) pairs"),
    "changes its input": (sorts_its_input, "changed the lists it was given"),
    "nothing kept": (lambda ps, cs: [], "kept nothing"),
    "everything kept": (lambda ps, cs: list(zip(ps, cs)), "kept every completion"),
    "two mistakes": (kept_where(lambda p, c: (last_number(p, c) and addition.worked(*p, "terse") != c)),
                     "Two things"),
    "None": (lambda ps, cs: None, "returned None"),
    "a number": (lambda ps, cs: 3, "got int"),
    "raises on anything": (lambda ps, cs: ps[99], "raised IndexError: list index out of range"),
    "no ',' assumed": (kept_where(lambda p, c: c.endswith(".") and c[:-1].rsplit(",", 1)[1] == str(sum(p))),
                       "raised IndexError (list index out of range) on '425.' for 120+305, a well-formed"),
    "a generator that fails": (lambda ps, cs: (1 / 0 for _ in ps), "ZeroDivisionError"),
    "calls the reference": (lambda ps, cs: [(p, c) for p, c in zip(ps, cs) if addition.is_correct(p, c)],
                            "own verifier"),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_each_mistake_gets_its_own_message(mistake):
    fn, words = WRONG[mistake]
    fb = ex.check_keep_verified(fn)
    assert fb.passed is False and words in fb.message, str(fb)


def test_messages_name_the_mistake_and_never_give_the_solution():
    texts = [str(ex.check_keep_verified(fn)) for name, (fn, _) in WRONG.items()
             if name not in ("whole text against any true form", "every step checked too")]
    assert len(set(texts)) == len(texts)  # each planted mistake reads differently
    for text in texts:
        assert "rsplit" not in text and "isdigit() ==" not in text and "def " not in text


def test_a_crash_names_the_completion_it_crashed_on():
    fb = ex.check_keep_verified(WRONG["int() on malformed text"][0])
    assert "'4+1+0=5,8+2+0=10,7+1+1=.' for 784+121" in fb.message and "isdigit" in fb.hint


def test_the_slip_is_explained_by_its_wrong_step():
    fb = ex.check_keep_verified(WRONG["whole text against any true form"][0])
    assert "6+2+7=8 where the true step is 6+2+0=8" in fb.message, str(fb)


def test_unanswered_is_not_a_failure():
    def blank(problems, completions):
        raise NotImplementedError
    assert ex.check_keep_verified(blank).passed is None
    assert ex.check_keep_verified(None).passed is None and ex.check_keep_verified(...).passed is None


# ---- the queries rejection sampling costs

@pytest.mark.parametrize("answer", [600 / 0.92, 652, 653, 652.2, np.float64(652.17), np.array(652.0)])
def test_queries_needed_passes_every_close_number(answer):
    assert ex.check_queries_needed(answer).passed is True


QUERIES_WRONG = [
    (552, "multiplied by the share kept"),
    (600, "throws away the wrong ones"),
    (48, "thrown away"),
    (648, "adds the share thrown away"),
    (700, "is not the expected number"),
    ("652", "one finite real number"),
    (math.inf, "one finite real number"),
]


@pytest.mark.parametrize("answer, words", QUERIES_WRONG)
def test_queries_needed_mistakes_are_named(answer, words):
    fb = ex.check_queries_needed(answer)
    assert fb.passed is False and words in fb.message, str(fb)


def test_queries_needed_follows_its_numbers():
    assert ex.check_queries_needed(200, right_share=0.5, wanted=100)
    assert not ex.check_queries_needed(652, right_share=0.5, wanted=100)
    assert ex.check_queries_needed(None).passed is None


# ---- the quiz and the notebook

def test_the_reasoning_quiz_asks_about_the_lesson():
    questions = ex.QUESTIONS["reasoning"]
    text = " ".join(q["question"] + " ".join(a["answer"] + a["feedback"] for a in q["answers"]) for q in questions)
    for words in ("final answer", "inherit", "rejection sampling", "position", "Li et al.", "hard-label"):
        assert words in text, words
    assert len(questions) >= 5


def test_the_solution_passes_and_the_blank_exercise_runs_unanswered():
    solved = [fb for _, fb in checked_cells(NOTEBOOKS / "solutions" / NAME)]
    blank = [fb for _, fb in checked_cells(NOTEBOOKS / "exercises" / NAME)]
    assert len(solved) == len(blank) == 2
    assert all(fb.passed is True for fb in solved), [str(fb) for fb in solved]
    assert all(fb.passed is None for fb in blank), [str(fb) for fb in blank]
