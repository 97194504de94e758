"""Multi-digit addition written out column by column: the reasoning lab's task (issue 27).

A problem is two numbers of `digits` digits each, drawn uniformly (no leading zero). The
prompt is "347+285="; a completion ends with "." and its final answer is the number after
the last "," (or after "=" when there are no steps). Worked steps go from the ones column
left, as a pupil adds on paper, in one of two forms:

    verbose   each column's two digits, the carry in and their sum:
              "7+5+0=12,4+8+1=13,3+2+1=6,632."
    terse     each column's result digit and carry out only: "21,31,60,632."

The answer alone is "632.". Scratchpads (Nye et al. 2021) showed that a transformer
trained to write such intermediate steps before the answer learns addition it does not
learn from the answers alone; here a teacher writes them and a student learns from them.
`is_correct` is the verifier: it checks a completion's final answer, not its steps."""
import random

from .._check import one_of, positive_int

CHARS = "0123456789+=,."  # every character of a prompt or a completion
DIGITS = 3  # the lab's problems: two 3-digit numbers; the longer test set has one digit more
HELD_OUT_SEED = 7  # draws the test sets, which no teacher or student trains on
TEST_SIZE = 500
STOP = "."  # ends a completion
FORMS = ("verbose", "terse")
MAX_DIGITS = 8


def _digits(digits):
    digits = positive_int("digits", digits)
    if digits > MAX_DIGITS:
        raise ValueError(f"digits must be an integer from 1 to {MAX_DIGITS}, got {digits}")
    return digits


def problems(count, digits=3, seed=0, exclude=()):
    """`count` distinct problems (a, b), each number with `digits` digits, drawn with
    `seed`, none of them in `exclude` (a held-out set)."""
    count, digits = positive_int("count", count), _digits(digits)
    lo, hi = 10 ** (digits - 1), 10 ** digits - 1
    taken = {pair for pair in exclude if all(lo <= n <= hi for n in pair)}
    if count > (hi - lo + 1) ** 2 - len(taken):
        raise ValueError(f"count must be at most the {(hi - lo + 1) ** 2 - len(taken)} problems of {digits} "
                         f"digits not excluded, got {count}")
    rng, drawn = random.Random(seed), []
    while len(drawn) < count:
        pair = rng.randint(lo, hi), rng.randint(lo, hi)
        if pair not in taken:
            taken.add(pair)
            drawn.append(pair)
    return drawn


def held_out(digits=DIGITS, size=TEST_SIZE):
    """The test problems of `digits` digits: drawn with HELD_OUT_SEED, never trained on."""
    return problems(size, digits, seed=HELD_OUT_SEED)


def prompt(a, b):
    return f"{a}+{b}="


def columns(a, b):
    """[(digit of a, digit of b, carry in, column sum)] from the ones column left."""
    xs, ys = str(a)[::-1], str(b)[::-1]
    carry, out = 0, []
    for i in range(max(len(xs), len(ys))):
        da, db = (int(s[i]) if i < len(s) else 0 for s in (xs, ys))
        out.append((da, db, carry, da + db + carry))
        carry = out[-1][3] // 10
    return out


def worked(a, b, form="verbose"):
    """The worked steps of a + b in `form` (FORMS), then the answer and STOP."""
    form = one_of("form", form, FORMS)
    if form == "verbose":
        steps = "".join(f"{da}+{db}+{c}={s}," for da, db, c, s in columns(a, b))
    else:
        steps = "".join(f"{s % 10}{s // 10}," for _, _, _, s in columns(a, b))
    return f"{steps}{a + b}{STOP}"


def answer_only(a, b):
    return f"{a + b}{STOP}"


def final_answer(completion):
    """The number a completion ends on: the digits after its last "," (or "=", or from
    its start) up to STOP; None when it has no STOP or no number there."""
    if STOP not in completion:
        return None
    body = completion[:completion.index(STOP)]
    last = body.rsplit(",", 1)[-1].rsplit("=", 1)[-1]
    return int(last) if last.isdigit() else None


def is_correct(problem, completion):
    """The verifier: whether the completion's final answer is a + b (its steps unchecked)."""
    a, b = problem
    return final_answer(completion) == a + b
