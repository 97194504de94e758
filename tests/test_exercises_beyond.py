"""Exercise 08, Decoupled KD (workbench/exercises/beyond.py): every right way of writing
TCKD and NCKD from probabilities passes, as a batch mean or per example, as tensors,
floats or NumPy; each common mistake gets its own message and no message gives the
solution away; the NCKD-weight question names its mistakes; the quiz covers items 1-7 of
issue 24; the exercise notebook runs blank and its solution passes."""
import decimal
import fractions
import math
import pathlib

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import workbench as wb
from workbench import exercises as ex
from test_exercises import checked_cells
from workbench.exercises.beyond import example_batch

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NAME = "08_decoupled_kd.ipynb"


# ---- the pieces a learner may write, built independently of the check's own code

def split(p, y):
    """(p_target (B,), the non-target probabilities (B, C − 1))."""
    mask = F.one_hot(y, p.shape[1]).bool()
    return p[mask], p[~mask].view(len(p), -1)


def binary(p, y):
    pt, _ = split(p, y)
    return torch.stack([pt, 1 - pt], 1)


def rest(p, y):
    _, r = split(p, y)
    return r / r.sum(1, keepdim=True)


def kl(a, b):
    return (a * (a / b).log()).sum(1)


def per_example(pt, ps, y):
    return kl(binary(pt, y), binary(ps, y)), kl(rest(pt, y), rest(ps, y))


def batch_mean(pt, ps, y):
    tckd, nckd = per_example(pt, ps, y)
    return tckd.mean(), nckd.mean()


def by_masking_logits(pt, ps, y):
    """The authors' way (mdistiller): the target's log-probability pushed down by 1000, then a
    log_softmax gives the renormalised non-target distribution; F.kl_div with batchmean."""
    gt = F.one_hot(y, pt.shape[1]).float()
    log_t, log_s = F.log_softmax(pt.log() - 1000 * gt, 1), F.log_softmax(ps.log() - 1000 * gt, 1)
    nckd = F.kl_div(log_s, log_t, reduction="batchmean", log_target=True)
    bt, bs = binary(pt, y), binary(ps, y)
    return F.kl_div(bs.log(), bt, reduction="batchmean"), nckd


def by_zeroing(pt, ps, y):
    """The target set to 0 and each row renormalised; xlogy makes 0 · log 0 = 0."""
    zero = lambda p: p.scatter(1, y[:, None], 0.0) / (1 - p.gather(1, y[:, None]))
    zt, zs = zero(pt), zero(ps)
    nckd = (torch.special.xlogy(zt, zt) - torch.special.xlogy(zt, zs)).sum(1).mean()
    return kl(binary(pt, y), binary(ps, y)).mean(), nckd


def one_by_one(pt, ps, y):
    """A loop over the examples with Python floats and math.log."""
    tckds, nckds = [], []
    for p, q, t in zip(pt.tolist(), ps.tolist(), y.tolist()):
        tckds.append(p[t] * math.log(p[t] / q[t]) + (1 - p[t]) * math.log((1 - p[t]) / (1 - q[t])))
        nckds.append(sum(p[i] / (1 - p[t]) * math.log((p[i] / (1 - p[t])) / (q[i] / (1 - q[t])))
                         for i in range(len(p)) if i != t))
    return sum(tckds) / len(tckds), sum(nckds) / len(nckds)


def distributions(pt, ps, y):
    cat = torch.distributions.Categorical
    kd = torch.distributions.kl_divergence
    return (kd(cat(probs=binary(pt, y)), cat(probs=binary(ps, y))).mean(),
            kd(cat(probs=rest(pt, y)), cat(probs=rest(ps, y))).mean())


RIGHT = {
    "batch mean tensors": batch_mean,
    "per-example tensors": per_example,
    "floats": lambda pt, ps, y: tuple(v.item() for v in batch_mean(pt, ps, y)),
    "numpy per example": lambda pt, ps, y: tuple(v.numpy() for v in per_example(pt, ps, y)),
    "a list": lambda pt, ps, y: list(batch_mean(pt, ps, y)),
    "one stacked tensor": lambda pt, ps, y: torch.stack(batch_mean(pt, ps, y)),
    "stacked per example": lambda pt, ps, y: torch.stack(per_example(pt, ps, y)),
    "masked logits, kl_div batchmean": by_masking_logits,
    "target zeroed, xlogy": by_zeroing,
    "a Python loop": one_by_one,
    "torch.distributions": distributions,
    "in float64": lambda pt, ps, y: batch_mean(pt.double(), ps.double(), y),
}


@pytest.mark.parametrize("form", RIGHT)
def test_every_right_form_passes(form):
    fb = ex.check_decoupled_kd(RIGHT[form])
    assert fb.passed is True, str(fb)


def unrenormalised(pt, ps, y):
    _, rt = split(pt, y)
    _, rs = split(ps, y)
    return kl(binary(pt, y), binary(ps, y)).mean(), kl(rt, rs).mean()


def weighted(pt, ps, y):
    tckd, nckd = per_example(pt, ps, y)
    return tckd.mean(), ((1 - split(pt, y)[0]) * nckd).mean()


def swapped_nckd(pt, ps, y):
    return kl(binary(pt, y), binary(ps, y)).mean(), kl(rest(ps, y), rest(pt, y)).mean()


def swapped_both(pt, ps, y):
    return batch_mean(ps, pt, y)


def half_renormalised(pt, ps, y):
    return kl(binary(pt, y), binary(ps, y)).mean(), (rest(pt, y) * (rest(pt, y) / split(ps, y)[1]).log()).sum(1).mean()


def one_total(pt, ps, y):
    _, rt = split(pt, y)
    _, rs = split(ps, y)
    total = rt.sum(1, keepdim=True)
    return kl(binary(pt, y), binary(ps, y)).mean(), kl(rt / total, rs / total).mean()


def target_term_only(pt, ps, y):
    a, b = split(pt, y)[0], split(ps, y)[0]
    return (a * (a / b).log()).mean(), kl(rest(pt, y), rest(ps, y)).mean()


def soft_cross_entropy(pt, ps, y):
    return -(binary(pt, y) * binary(ps, y).log()).sum(1).mean(), -(rest(pt, y) * rest(ps, y).log()).sum(1).mean()


def nan_terms(pt, ps, y):
    zt, zs = pt.scatter(1, y[:, None], 0.0), ps.scatter(1, y[:, None], 0.0)
    return kl(binary(pt, y), binary(ps, y)).mean(), kl(zt, zs).mean()  # 0 · log(0 / 0)


def in_place(pt, ps, y):
    pt[torch.arange(len(pt)), y] = 0.0
    return batch_mean(pt, ps, y)


WRONG = {  # the planted mistake -> words its message must contain
    "not renormalised": (unrenormalised, "not renormalised"),
    "target class included": (lambda pt, ps, y: (kl(binary(pt, y), binary(ps, y)).mean(), kl(pt, ps).mean()),
                              "includes the target class"),
    "(1 − p_target) weight": (weighted, "multiplied by (1 − p_target) of the teacher"),
    "NCKD swapped": (swapped_nckd, "NCKD has the KL's arguments swapped"),
    "both swapped": (swapped_both, "Both terms have the same problem: each has the KL's arguments swapped"),
    "only the teacher renormalised": (half_renormalised, "nly the teacher's non-target probabilities are renormalised"),
    "one total for both": (one_total, "divides both sides by the teacher's total"),
    "TCKD: target term only": (target_term_only, "keeps only the target class's term"),
    "TCKD: whole KD": (lambda pt, ps, y: (kl(pt, ps).mean(), kl(rest(pt, y), rest(ps, y)).mean()),
                       "TCKD is the whole KD term"),
    "cross-entropies": (soft_cross_entropy, "is a cross-entropy, not a KL"),
    "order": (lambda pt, ps, y: batch_mean(pt, ps, y)[::-1], "wrong order"),
    "summed over the batch": (lambda pt, ps, y: tuple(v.sum() for v in per_example(pt, ps, y)),
                              "summed over the examples"),
    "reduction='mean'": (lambda pt, ps, y: (kl(binary(pt, y), binary(ps, y)).mean() / 2,
                                            kl(rest(pt, y), rest(ps, y)).mean() / (pt.shape[1] - 1)),
                         "averaged over the classes too"),
    "negative": (lambda pt, ps, y: tuple(-v for v in batch_mean(pt, ps, y)), "wrong sign"),
    "bits": (lambda pt, ps, y: tuple(v / math.log(2) for v in batch_mean(pt, ps, y)), "bits"),
    "nan": (nan_terms, "NaN"),
    "one result": (lambda pt, ps, y: batch_mean(pt, ps, y)[0], "Expected two results"),
    "None": (lambda pt, ps, y: None, "returned None"),
    "a term of the wrong shape": (lambda pt, ps, y: (binary(pt, y), 0.1), "one number (the batch mean)"),
    "in place": (in_place, "changed the teacher's probabilities in place"),
    "raises": (lambda pt, ps, y: pt[99], "raised IndexError"),
    "calls the reference": (lambda pt, ps, y: wb.losses.dkd_terms(ps.log(), pt.log(), y, 1.0),
                            "calls the workbench's own dkd_terms"),
    "another number": (lambda pt, ps, y: (torch.tensor(0.1), torch.tensor(0.2)), "is not the TCKD term"),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_each_mistake_gets_its_own_message(mistake):
    fn, words = WRONG[mistake]
    fb = ex.check_decoupled_kd(fn)
    assert fb.passed is False and words in fb.message, str(fb)


def test_messages_name_the_mistake_and_never_give_the_solution():
    texts = [str(ex.check_decoupled_kd(fn)) for fn, _ in WRONG.values()]
    assert len(set(texts)) == len(texts)  # each planted mistake reads differently
    for text in texts:
        assert "/ (1 − p_target)" not in text and "sum(1, keepdim" not in text and "p[~" not in text


def test_unanswered_is_not_a_failure():
    def blank(p_teacher, p_student, target):
        raise NotImplementedError
    assert ex.check_decoupled_kd(blank).passed is None
    assert ex.check_decoupled_kd(None).passed is None and ex.check_decoupled_kd(...).passed is None


def test_the_batches_tell_the_mistakes_apart():
    """The check's two batches keep every probability away from 0 and 1 (float32 learners
    stay exact) and put a sure teacher (the weight 1 − p_target near 0) beside an unsure one."""
    for seed in (0, 2):
        p, q, y = example_batch(seed)
        assert p.min() > 1e-3 and q.min() > 1e-3 and p.max() < 0.95
        pt = split(p, y)[0]
        assert pt.max() > 0.7 and pt.min() < 0.2
        assert torch.allclose(p.sum(1), torch.ones(len(p))) and torch.allclose(q.sum(1), torch.ones(len(q)))


def test_kd_is_tckd_plus_weighted_nckd_on_the_checks_batches():
    """Zhao et al.'s reformulation (Sec. 3.1) on the check's own batches: what the praise message says holds."""
    for seed in (0, 2):
        p, q, y = example_batch(seed)
        tckd, nckd = per_example(p.double(), q.double(), y)
        assert torch.allclose(kl(p.double(), q.double()), tckd + (1 - split(p.double(), y)[0]) * nckd)


# ---- how much KD suppresses NCKD on a confident example

def number_forms(x):
    return [x, float(round(x, 2)), np.float64(x), np.float32(x), np.array(x), np.array([x]), torch.tensor(x),
            decimal.Decimal(str(round(x, 3))), fractions.Fraction(x).limit_denominator(1000), int(round(x))]


@pytest.mark.parametrize("i", range(10))
def test_nckd_ratio_passes_every_number_type(i):
    assert ex.check_nckd_ratio(number_forms(0.40 / 0.02)[i]).passed is True


RATIO_WRONG = [
    (0.02 / 0.40, "upside down"),
    (0.98 / 0.60, "ratio of the teacher's probabilities"),
    (0.60 / 0.98, "ratio of the teacher's probabilities"),
    (0.38, "difference"),
    (1.0, "does not weigh NCKD the same"),
    (8, "DKD's default weight"),
    (400, "Off by a power"),
    (21, "is not the factor"),
    (19.9, "is not the factor"),  # outside the 0.05 the answer is held to
    ("20", "one finite real number"),
    (True, "one finite real number"),
    (math.nan, "one finite real number"),
]


@pytest.mark.parametrize("answer, words", RATIO_WRONG)
def test_nckd_ratio_mistakes_are_named(answer, words):
    fb = ex.check_nckd_ratio(answer)
    assert fb.passed is False and words in fb.message, str(fb)


def test_nckd_ratio_follows_the_probabilities_it_is_given():
    assert ex.check_nckd_ratio(0.5 / 0.1, sure=0.9, unsure=0.5) and not ex.check_nckd_ratio(20, sure=0.9, unsure=0.5)
    assert ex.check_nckd_ratio(None).passed is None


# ---- the quiz and the notebook

def test_the_beyond_quiz_asks_about_every_item_of_issue_24():
    text = " ".join(q["question"] + " ".join(a["answer"] + a["feedback"] for a in q["answers"])
                    for q in ex.QUESTIONS["beyond"])
    items = {"origins": ["Ba & Caruana", "Buciluă"], "capacity gap": ["Cho & Hariharan", "Mirzadeh", "assistant"],
             "born-again": ["Furlanello"], "label smoothing": ["Müller", "Yuan"],
             "DKD and standardization": ["NCKD", "Sun et al."], "fidelity": ["Stanton", "fidelity"],
             "transfer sets": ["transfer set", "Lopes"]}
    missing = {item: [w for w in words if w not in text] for item, words in items.items()}
    assert not any(missing.values()), missing
    assert len(ex.QUESTIONS["beyond"]) >= 7


def run_cells(path):
    """The Feedback of each cell of a notebook that ends in an ex.check_… call."""
    return [feedback for _, feedback in checked_cells(path)]


def test_the_solution_passes_and_the_blank_exercise_runs_unanswered():
    solved, blank = run_cells(NOTEBOOKS / "solutions" / NAME), run_cells(NOTEBOOKS / "exercises" / NAME)
    assert len(solved) == len(blank) == 2
    assert all(fb.passed is True for fb in solved), [str(fb) for fb in solved]
    assert all(fb.passed is None for fb in blank), [str(fb) for fb in blank]
