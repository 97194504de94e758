"""Checks for the verifier filter, exercise 09 (notebook 11, distilling reasoning): the
learner writes `keep_verified(problems, completions)`, the rejection-sampling step of
DeepSeek-R1's distillation data (DeepSeek-AI 2025) and of STaR (Zelikman et al. 2022):
keep the (problem, completion) pairs whose final answer is right.

What is right, and so accepted in every form:

* A completion's final answer is the number after its last "," (a bare answer such as
  "425." has no ",": then the whole number), up to the "." that ends it; it is right when
  it equals a + b (workbench.llm.addition.is_correct, the lab's verifier). The steps are
  not checked: a trace with a wrong step and the right answer is kept.
* A completion with no "." is unfinished (the teacher was cut off): dropped. So is one
  with no number where its answer belongs.
* The result is any iterable of pairs: a list, a tuple, a set, a generator or an
  iterator; each pair a tuple or a list (problem, completion), the problem as given (a
  tuple or a list (a, b)) and the completion exactly as the teacher wrote it. The order
  does not matter (a training set's order is its sampler's business), but every right
  pair is kept once: a problem asked twice can have two right completions, and both stay.

The check runs the learner's function on two fixed sets of completions, mostly real
samples of the "addition" teacher at T = 1.4 and a few cut or garbled ones, and names each
common mistake by matching what it kept against known wrong filters, then by the kinds of
completion it got wrong."""
import math
import re

from ..llm import addition
from ._judge import calls_the_reference, real_number, within
from .feedback import correct, is_unanswered, unanswered, wrong

# (problem, completion, kind): the first set. Kinds ending in "+" are kept, the rest dropped.
# Marked "teacher": the "addition" teacher's own samples at T = 1.4 (on the lab's queries at seed 0, and on
# 600 problems drawn with seed 123).
FIRST = [
    ((347, 285), "7+5+0=12,4+8+1=13,3+2+1=6,632.", "verbose+"),
    ((839, 477), "9+7+0=16,3+7+1=11,8+4+1=13,1315.", "wrong"),  # teacher: one less than 1316
    ((761, 625), "1+5+0=6,6+2+7=8,7+6+0=13,1386.", "slip+"),  # teacher: a wrong step, the right answer
    ((120, 305), "425.", "bare+"),
    ((915, 782), "5+2+0=7,1+8+0=9,1+7+0=8,897.", "wrong"),  # teacher: a 1 for the 9 of 915
    ((958, 763), "8+3+0=11,5+6+1=12,9+7+1=17,1721.", "four digits+"),
    ((784, 121), "4+1+0=5,8+2+0=10,7+1+1=.", "no answer"),  # teacher: stopped where its answer belongs
    ((347, 285), "632.", "again+"),  # the same problem asked again: another right completion
    ((614, 289), "4+9+0=13,1+8+1=10,6+2+1=9,903", "unfinished"),  # cut off just before its "."
    ((302, 415), "70,10,70,717.", "terse+"),  # the terse form: each column's digit and carry
    ((735, 146), "5+6+0=11,3+4+1=8,7+1+0=8,8812", "cut"),  # cut off one digit into a longer answer
    ((608, 391), "8+1+0=9,0+9+0=9,6+3+0=9,1999.", "suffix"),  # ends in the right digits, one digit too many
    ((243, 389), "632+9+0=12,4+8+1=13,2+3+1=6,642.", "first"),  # garbled: its first number is the sum
    ((181, 572), "1+2+0=3,8+7+0=15,1+5+", "mid-trace"),  # cut off mid-step
    ((266, 519), "775.", "bare wrong"),
    ((457, 560), "7+0+0=7,5+6+0=11,4+5+1=10,10171.", "wrong"),  # teacher: an extra digit
]


def _build(kind, a, b):
    """A completion of `kind` for a + b (the second set is built from the kinds)."""
    s, steps = a + b, addition.worked(a, b)[:-len(f"{a + b}.")]
    if kind in ("verbose+", "four digits+"):
        return addition.worked(a, b)
    if kind == "terse+":
        return addition.worked(a, b, "terse")
    if kind in ("bare+", "again+"):
        return f"{s}."
    if kind == "bare wrong":
        return f"{s + 10}."
    if kind == "wrong":
        return f"{steps}{s - 1}."
    if kind == "slip+":  # the middle column's sum written one too large
        cols = steps.split(",")
        da, db, rest = cols[1].split("+")
        c, total = rest.split("=")
        cols[1] = f"{da}+{db}+{c}={int(total) + 1}"
        return ",".join(cols) + f"{s}."
    if kind == "no answer":
        return steps[:steps.rindex("=") + 1] + "."
    if kind == "unfinished":
        return f"{steps}{s}"
    if kind == "cut":
        return f"{steps}{s}{(s % 7) + 1}"
    if kind == "suffix":
        return f"{steps}1{s}."
    if kind == "first":
        return f"{s}" + steps[steps.index("+"):] + f"{s + 10}."
    if kind == "mid-trace":
        return steps[:steps.index(",") + 4]
    raise ValueError(kind)


# the second set: the same kinds on other problems, in another order (every sum of three
# digits but the four-digit kind's, so "suffix" and "first" have room for their extra digits)
_SECOND_PROBLEMS = {"verbose+": (236, 158), "terse+": (471, 216), "bare+": (153, 624), "again+": (236, 158),
                    "four digits+": (867, 549), "slip+": (428, 265), "wrong": (319, 487), "bare wrong": (542, 137),
                    "no answer": (625, 183), "unfinished": (374, 512), "cut": (281, 465), "suffix": (412, 375),
                    "first": (164, 253), "mid-trace": (739, 148)}
_SECOND_ORDER = ["unfinished", "slip+", "bare wrong", "again+", "four digits+", "first", "verbose+", "mid-trace",
                 "terse+", "cut", "wrong", "suffix", "bare+", "no answer"]
SECOND = [(_SECOND_PROBLEMS[k], _build(k, *_SECOND_PROBLEMS[k]), k) for k in _SECOND_ORDER]
SETS = (FIRST, SECOND)


def keeps(kind):
    return kind.endswith("+")


def _final(completion):
    """The final answer as a string of digits, or None (the verifier's reading)."""
    if "." not in completion:
        return None
    last = completion[:completion.index(".")].rsplit(",", 1)[-1].rsplit("=", 1)[-1]
    return last if last.isdigit() else None


# ---- known wrong filters: (name, keep(problem, completion)); never raise

def _safe(rule):
    def keep(p, c):
        try:
            return bool(rule(p, c))
        except Exception:  # noqa: BLE001 - a wrong reading of malformed text: that pair is not kept
            return False
    return keep


def _first_number(c):
    m = re.match(r"\d+", c)
    return int(m.group()) if m else None


WRONG_FILTERS = {
    "inverted": lambda p, c: not addition.is_correct(p, c),
    "whole, verbose": lambda p, c: c == addition.worked(*p),
    "whole, any form": lambda p, c: c in (addition.worked(*p), addition.worked(*p, "terse"), addition.answer_only(*p)),
    "first number": lambda p, c: _first_number(c) == sum(p),
    "after the last '='": lambda p, c: c.rstrip(".").split("=")[-1] == str(sum(p)),
    "last number, unfinished kept": lambda p, c: int(re.findall(r"\d+", c)[-1]) == sum(p),
    "last character dropped": lambda p, c: c[:-1].split(",")[-1] == str(sum(p)),
    "ends with": lambda p, c: c.endswith(f"{sum(p)}."),
    "contains": lambda p, c: str(sum(p)) in c,
    "three digits": lambda p, c: c[-4:-1] == str(sum(p)),
    "no bare answers": lambda p, c: re.search(r",(\d+)\.$", c) and int(re.search(r",(\d+)\.$", c).group(1)) == sum(p),
}
WRONG_FILTERS = {name: _safe(rule) for name, rule in WRONG_FILTERS.items()}


def _kept_by(rule, data):
    return sorted(i for i, (p, c, _) in enumerate(data) if rule(p, c))


def _dict_kept(data, last_wins):
    """What a filter keyed by the problem (a dict) keeps: one completion per problem."""
    chosen = {}
    for i, (p, c, _) in enumerate(data):
        if last_wins or p not in chosen:
            chosen[p] = i
    return sorted(i for i in chosen.values() if addition.is_correct(data[i][0], data[i][1]))


def _of(data, kind):
    """(problem, completion) of the first entry of `kind`."""
    return next((p, c) for p, c, k in data if k == kind)


def _show(p, c):
    return f"{c!r} for {p[0]}+{p[1]}"


def _step_slip(p, c):
    """The first worked step of c that is not the true one, as text, or None."""
    true = addition.worked(*p).split(",")[:-1]
    for mine, want in zip(c.split(",")[:-1], true):
        if mine != want:
            return f"{mine} where the true step is {want}"
    return None


def _named(name, data):
    """The Feedback for a result equal to the wrong filter `name`'s on `data`."""
    verbose, bare, terse = _of(data, "verbose+"), _of(data, "bare+"), _of(data, "terse+")
    slip, first, suffix = _of(data, "slip+"), _of(data, "first"), _of(data, "suffix")
    unfinished, cut, four = _of(data, "unfinished"), _of(data, "cut"), _of(data, "four digits+")
    final = lambda pc: _final(pc[1])  # noqa: E731
    only_answer = ("The verifier checks only the final answer: the number after the last ',' (a bare answer has "
                   "no ',': then the whole number), before the '.'.")
    if name == "inverted":
        return wrong("Your filter is inverted: it keeps the completions whose final answer is wrong or missing and "
                     "drops every right one.", "Keep a pair when its final answer equals a + b.")
    if name == "whole, verbose":
        return wrong(f"You kept only completions equal to the true worked steps, so right answers written otherwise "
                     f"are dropped: the terse steps {_show(*terse)}, the bare answer {_show(*bare)} and "
                     f"{_show(*slip)}, whose final answer is right though a step is wrong. The verifier compares the "
                     "final answer with a + b, not the whole text with the true steps.",
                     "Where this filter is used (R1's distillation data, STaR) only the right answer is known, not "
                     "the right steps. " + only_answer)
    if name == "whole, any form":
        return wrong(f"You dropped {_show(*slip)}: its final answer, {final(slip)}, is right, but a step is wrong "
                     f"({_step_slip(*slip)}). The verifier checks the final answer only, so it keeps this trace; "
                     "checking every step is a stronger check (a process check), not this filter.",
                     "Compare only the final answer with a + b; notebook 11 asks what a kept wrong step costs.")
    if name == "first number":
        return wrong(f"You read the first number of each completion, not its final answer: you drop every right "
                     f"worked trace ({_show(*verbose)} starts with {_first_number(verbose[1])}) and keep "
                     f"{_show(*first)}, whose first number is the sum but whose final answer is {final(first)}.",
                     "The steps come first and the answer last. " + only_answer)
    if name == "after the last '='":
        tail = verbose[1].rstrip(".").split("=")[-1]
        return wrong(f"You read what follows the last '=': in {_show(*verbose)} that is '{tail}', the last column's "
                     f"sum and then the answer, so every right worked trace is dropped and only bare answers are "
                     "kept.", "The last '=' belongs to the last step. " + only_answer)
    if name == "last number, unfinished kept":
        return wrong(f"You kept {_show(*unfinished)}: it has no '.', so the teacher was cut off before it finished, "
                     "and its last digits need not be its whole answer.",
                     "A finished completion ends with '.': drop the ones that do not, before reading the answer.")
    if name == "last character dropped":
        return wrong(f"You kept {_show(*cut)}: you remove its last character as if it were the '.', but it is a "
                     "digit: the teacher was cut off in the middle of a longer answer.",
                     "Check that the completion ends with '.' before you remove it.")
    if name == "ends with":
        return wrong(f"You kept {_show(*suffix)}: it ends with the right digits, but its final answer is "
                     f"{final(suffix)}, not {sum(suffix[0])}.",
                     "Compare the whole final answer, as a number or a whole string, with a + b, not the end of "
                     "the text.")
    if name == "contains":
        return wrong(f"You look for the sum anywhere in the text: {_show(*first)} and {_show(*suffix)} contain it, but "
                     f"their final answers are {final(first)} and {final(suffix)}, and {_show(*unfinished)} "
                     "contains it but never finished.", only_answer)
    if name == "three digits":
        return wrong(f"You read a fixed three digits before the '.': {_show(*four)} has a four-digit answer (a carry "
                     f"out of the last column), and {_show(*suffix)} ends in '{suffix[1][-4:-1]}' though its answer is "
                     f"{final(suffix)}.", "Read the whole number after the last ','; its length varies.")
    if name == "no bare answers":
        return wrong(f"You dropped the bare answers ({_show(*bare)}): with no steps there is no ',', and the final "
                     "answer is the whole number before the '.'.", only_answer)
    if name == "dict":
        p = next(p for p, _, k in data if k == "again+")
        return wrong(f"You lost one of the two right completions for {p[0]}+{p[1]}, which was asked twice: a filter "
                     "keyed by the problem (a dict) keeps one completion per problem.",
                     "Rejection sampling often samples a problem several times, and every right sample is kept: "
                     "keep a list of pairs.")
    raise ValueError(name)


# ---- the learner's result, read as the indices of the pairs it kept

def _pairs(result, data):
    """(sorted indices into data of the pairs kept, None) or (None, Feedback on the result's form)."""
    if result is None:
        return None, wrong("Your function returned None instead of the pairs it keeps.", "Did you forget `return`?")
    if isinstance(result, dict):
        return None, wrong("You returned a dict: it keeps one completion per problem, and a problem asked twice can "
                           "have two right completions.", "Return a list of (problem, completion) pairs.")
    if isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
        return None, wrong(f"Expected the pairs you keep, a list of (problem, completion); got "
                           f"{type(result).__name__}.", "Return a list (or a generator) of (problem, completion) "
                                                        "pairs.")
    try:
        items = list(result)
    except Exception as e:  # noqa: BLE001 - an iterable of the learner's that fails as it is read
        return None, wrong(f"Reading your result raised {type(e).__name__}: {e}")
    problems = [p for p, _, _ in data]
    completions = [c for _, c, _ in data]
    if items and len(items) == len(data) and all(isinstance(x, bool) for x in items):
        return None, wrong("You returned one True or False per completion (a mask); the exercise asks for the pairs "
                           "kept.", "Pair each kept completion with its problem and return those pairs.")
    if items and all(isinstance(x, int) and not isinstance(x, bool) for x in items):
        return None, wrong("You returned positions (indices) of the kept completions; the exercise asks for the pairs "
                           "themselves.", "Return (problem, completion) for each completion kept.")
    if items and all(isinstance(x, str) for x in items):
        return None, wrong("You returned the completions alone. The student trains on each problem's prompt followed "
                           "by its completion, so keep the problem with it.",
                           "Return (problem, completion) pairs.")
    free, kept = list(range(len(data))), []
    for item in items:
        if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], (tuple, list)) \
                and isinstance(item[0], str):
            return None, wrong(f"Your pairs are the wrong way round: {tuple(item)!r} is (completion, problem).",
                               "Each pair is (problem, completion).")
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            return None, wrong(f"Each item of your result should be a pair (problem, completion); got "
                               f"{item!r:.80}.", "Return a list of (problem, completion) tuples.")
        p, c = item
        if isinstance(p, str):
            return None, wrong(f"Your pairs hold the prompt text {p!r}, not the problem; return the problem as it was "
                               "given (a, b).", "Pair each completion with problems[i], not with its prompt.")
        try:
            p = tuple(p)
        except TypeError:
            p = None
        match = next((i for i in free if problems[i] == p and completions[i] == c), None)
        if match is None:
            given = any(problems[i] == p and completions[i] == c for i in range(len(data)))
            if given:
                return None, wrong(f"You kept ({p!r}, {c!r}) more than once; each pair is kept once.",
                                   "Walk through the pairs once, keeping each right one.")
            if isinstance(c, str) and c not in completions and p in problems and \
                    any(c in (x.rstrip("."), x.strip()) or x.startswith(c) for x in completions):
                return None, wrong(f"You changed a completion: {c!r} is not what the teacher wrote. Keep each kept "
                                   "completion exactly as it is: the student trains on it, '.' included (it learns "
                                   "to stop).", "Return the completion itself, not a cleaned-up copy.")
            return None, wrong(f"The pair ({item[0]!r:.40}, {item[1]!r:.60}) is not one of the (problem, completion) "
                               "pairs given: a completion must stay with its own problem.",
                               "Walk through problems and completions together, e.g. with zip.")
        free.remove(match)
        kept.append(match)
    return sorted(kept), None


def _diagnose(kept, data):
    """Feedback for a kept set that is not the right one."""
    right = _kept_by(addition.is_correct, data)
    if not kept:
        p, c = _of(data, "verbose+")
        return wrong(f"You kept nothing, although {len(right)} of the {len(data)} completions have the right final "
                     f"answer, {_show(p, c)} among them.",
                     "The final answer is the number after the last ',' (or the whole number, when there are no "
                     "steps), before the '.'.")
    if len(kept) == len(data):
        return wrong("You kept every completion: the filter drops nothing, not even the wrong answers.",
                     "Keep a pair only when its final answer equals a + b.")
    for name, rule in WRONG_FILTERS.items():
        if kept == _kept_by(rule, data):
            return _named(name, data)
    if kept in (_dict_kept(data, True), _dict_kept(data, False)):
        return _named("dict", data)
    extra = [i for i in kept if i not in right]
    missing = [i for i in right if i not in kept]
    things = []
    for i in extra:
        p, c, kind = data[i]
        if kind == "unfinished":
            things.append(f"you kept {_show(p, c)}, which has no '.': it never finished")
        elif kind == "cut":
            things.append(f"you kept {_show(p, c)}, cut off mid-answer: its last character is a digit, not the '.'")
        elif kind in ("no answer", "mid-trace"):
            things.append(f"you kept {_show(p, c)}, which has no final answer")
        else:
            things.append(f"you kept {_show(p, c)}, whose final answer {_final(c)} is wrong ({sum(p)} is right)")
    for i in missing:
        p, c, kind = data[i]
        why = {"slip+": f" (a step is wrong, {_step_slip(p, c)}, but only the final answer is checked)",
               "terse+": " (terse steps: still only the final answer counts)",
               "bare+": " (a bare answer: no ',', so the final answer is the whole number)",
               "again+": " (a bare answer: no ',', so the final answer is the whole number)",
               "four digits+": " (a four-digit answer: a carry out of the last column)"}.get(kind, "")
        things.append(f"you dropped {_show(p, c)}, whose final answer is right{why}")
    head = {1: "", 2: "Two things: "}.get(len(things), f"{len(things)} things: ")
    text = head + "; ".join(things[:4]) + ("; and more" if len(things) > 4 else "")
    return wrong(text[0].upper() + text[1:] + ".",
                 "Keep a pair exactly when the completion ends with '.' and the number after its last ',' (or the "
                 "whole number, with no steps) equals a + b.")


def _raises_on(fn, data):
    """[(index, exception)] of the pairs on which fn raises when given one pair alone."""
    out = []
    for i, (p, c, _) in enumerate(data):
        try:
            result = fn([p], [c])
            if hasattr(result, "__next__"):
                list(result)
        except NotImplementedError:
            return []
        except Exception as e:  # noqa: BLE001 - the learner's code
            out.append((i, e))
    return out


def _raised(fn, data, error):
    found = _raises_on(fn, data)
    if not found or len(found) == len(data):
        return wrong(f"Your function raised {type(error).__name__}: {error}",
                     "It fails whatever the completions are: read the line the error points to." if found else "")
    i, e = found[0]
    p, c, kind = data[i]
    if keeps(kind):
        return wrong(f"Your function raised {type(e).__name__} ({e}) on {_show(p, c)}, a well-formed completion "
                     "with the right answer.",
                     "What did you assume about its form? The final answer is the number after the last ',' (a bare "
                     "answer has none), before the '.'.")
    what = {"no answer": "it has no number where its answer belongs", "mid-trace": "it was cut off mid-step",
            "unfinished": "it was cut off before its '.'", "cut": "it was cut off mid-answer"}.get(kind, "")
    return wrong(f"Your function raised {type(e).__name__} ({e}) on {_show(p, c)}" + (f": {what}" if what else "")
                 + ". A sampled completion can be unfinished or garbled; the filter must drop it, not crash.",
                 "Check that the text ends with '.' and that the answer is all digits (str.isdigit) before "
                 "converting it, or catch ValueError and drop the pair.")


def check_keep_verified(fn):
    """fn(problems, completions) -> the (problem, completion) pairs whose final answer is
    right (see the module: every correct form is accepted, each common mistake named).
    Judged on two fixed sets of completions."""
    if calls_the_reference(fn, (addition.is_correct, addition.final_answer),
                           r"\baddition\.(is_correct|final_answer)\b|\breasoning\.examples\b"):
        return wrong("Your function calls the workbench's own verifier (addition.is_correct or final_answer): the "
                     "exercise is to write the check yourself.", "Read the final answer from the text with string "
                                                                 "operations.")
    if is_unanswered(fn):
        return unanswered()
    if not callable(fn):
        return wrong(f"Expected a function, got {type(fn).__name__}.")
    for data in SETS:
        problems, completions = [p for p, _, _ in data], [c for _, c, _ in data]
        given_p, given_c = list(problems), list(completions)
        try:
            result = fn(given_p, given_c)
            if hasattr(result, "__next__"):  # a generator or an iterator: read it here, where it runs
                result = list(result)
        except NotImplementedError:
            return unanswered()
        except Exception as e:  # noqa: BLE001 - the learner's code: report it, never crash the notebook
            return _raised(fn, data, e)
        if given_p != problems or given_c != completions:
            return wrong("Your function changed the lists it was given (problems or completions).",
                         "Build a new list of the pairs kept; leave the inputs as they are.")
        kept, fb = _pairs(result, data)
        if fb is not None:
            return fb
        if kept != _kept_by(addition.is_correct, data):
            return _diagnose(kept, data)
    first = FIRST
    slip = _of(first, "slip+")
    n_right = len(_kept_by(addition.is_correct, first))
    return correct(f"Right: of the {len(first)} completions of the first set you kept the {n_right} with the right "
                   f"final answer, in every form, and dropped the wrong, unfinished and garbled ones. One kept trace, "
                   f"{_show(*slip)}, has a wrong step: the verifier checks answers, not steps. This is the filter of "
                   "rejection sampling: STaR kept the rationales that reached the right answer, and DeepSeek-R1's "
                   "distillation data kept the samples whose answers checked out.")


# ---- what rejection sampling costs in teacher queries

RIGHT_SHARE, WANTED = 0.92, 600  # the teacher's share of right answers at T = 1.4; verified traces wanted


def check_queries_needed(answer, right_share=RIGHT_SHARE, wanted=WANTED):
    """How many teacher queries give `wanted` verified traces on average, when a share
    `right_share` of its answers is right: wanted / right_share (652.2 for the defaults),
    accepted within 1."""
    if is_unanswered(answer):
        return unanswered("Each query gives one trace, and the verifier keeps a share of them.")
    value = real_number(answer)
    if value is None or not math.isfinite(value):
        return wrong(f"The answer must be one finite real number; got {type(answer).__name__} {answer!r}.")
    want = wanted / right_share
    near = lambda x: within(value, x, 1.0)  # noqa: E731
    if near(want):
        return correct(f"Right: {wanted} / {right_share} = {want:.1f} queries, of which about {want - wanted:.0f} are "
                       "thrown away. Rejection sampling pays for every sample, kept or not; the fewer the teacher "
                       "gets right, the dearer each kept trace (at a share of 0.5 it is twice the queries).")
    if near(wanted * right_share):
        return wrong(f"{value:g} queries give about {value * right_share:.0f} verified traces, fewer than {wanted}: "
                     "you multiplied by the share kept.", "Each query is kept with probability "
                                                          f"{right_share}: how many queries keep {wanted}?")
    if near(wanted):
        return wrong(f"{wanted} queries give {wanted} traces, but the verifier throws away the wrong ones.",
                     f"On average {right_share:.0%} of the traces are kept.")
    if near(wanted * (1 - right_share)) or near(wanted * (1 - right_share) / right_share):
        return wrong("That is the number of traces thrown away, not the queries needed in all.",
                     "Count every query, the kept and the rejected.")
    if near(wanted * (2 - right_share)):
        return wrong(f"{value:g} adds the share thrown away to {wanted}: close, but the rejected ones need "
                     "replacing too, and their replacements can be wrong again.",
                     f"Each query keeps a trace with probability {right_share}: divide.")
    return wrong(f"{value:g} is not the expected number of queries.",
                 f"Each query keeps a trace with probability {right_share}: how many queries keep {wanted}?")
