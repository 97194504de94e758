"""Checks for Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu & Liang, CVPR 2022),
exercise 08: the KD term split, example by example, into

    TCKD = KL(b_teacher ‖ b_student),  b = (p_target, 1 − p_target)       target class against the rest
    NCKD = KL(p̂_teacher ‖ p̂_student), p̂_i = p_i / (1 − p_target), i ≠ target   among the other classes

from probabilities (already softened at the temperature), so that
KL(p_teacher ‖ p_student) = TCKD + (1 − p_target of the teacher) · NCKD exactly. The
learner's two numbers are compared with the reference on fixed batches, and each common
mistake is named by matching the value against known wrong variants."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from ..losses import dkd_loss, dkd_terms
from ._judge import calls_the_reference, changed_inputs, real_number, within
from .feedback import call, correct, is_unanswered, unanswered, wrong

BATCH, CLASSES = 6, 5


def example_batch(seed):
    """(p_teacher, p_student, target): float32 probabilities (BATCH, CLASSES) and int64
    labels for `seed`. The teacher is sure of the true class on the first half of the
    batch and not on the rest, so a weight of (1 − p_target) cannot pass for 1."""
    g = torch.Generator().manual_seed(seed)
    teacher, student = 1.5 * torch.randn(BATCH, CLASSES, generator=g), 1.5 * torch.randn(BATCH, CLASSES, generator=g)
    target = torch.randint(CLASSES, (BATCH,), generator=g)
    half = torch.arange(BATCH // 2)
    teacher[half, target[half]] += 3.0
    return teacher.softmax(1), student.softmax(1), target


def _kl(p, q):
    """Σ p · log(p / q) over the last dimension."""
    return (p * (p / q).log()).sum(-1)


def _split(p, target):
    """(p_target (B,), the non-target probabilities (B, C − 1)) in float64."""
    p = p.double()
    keep = ~F.one_hot(target, p.shape[1]).bool()
    return p.gather(1, target[:, None]).squeeze(1), p[keep].view(len(p), -1)


def _binary(pt):
    return torch.stack([pt, 1 - pt], 1)


# Each variant: (per-example values in float64, the mistake named, or None when right).
def _tckd_variants(p, q, target):
    pt, _ = _split(p, target)
    qt, _ = _split(q, target)
    bp, bq = _binary(pt), _binary(qt)
    return {
        "right": (_kl(bp, bq), None),
        "swapped": (_kl(bq, bp), ("your TCKD has the KL's arguments swapped: it is KL(student ‖ teacher)",
                                  "In KD the teacher's distribution is the target: it weighs the log-ratio.")),
        "target term only": (pt * (pt / qt).log(),
                             ("your TCKD keeps only the target class's term: the binary distribution has a second "
                              "entry, the mass of all the other classes together",
                              "TCKD is a KL between two distributions of two entries each.")),
        "cross-entropy": (-(bp * bq.log()).sum(-1),
                          ("your TCKD is a cross-entropy, not a KL: it is larger by the teacher's binary entropy, and "
                           "not 0 when the student matches the teacher",
                           "KL = cross-entropy − the teacher's entropy.")),
        "whole KD": (_kl(p.double(), q.double()),
                     ("your TCKD is the whole KD term, the KL over every class, not its target-class part",
                      "TCKD only asks how much mass each model puts on the true class against the rest.")),
        "hard label": (-qt.log(), ("your TCKD is the cross-entropy with the true label, which ignores the teacher",
                                   "TCKD compares the teacher's and the student's (target, rest) distributions.")),
    }


def _nckd_variants(p, q, target):
    pt, pr = _split(p, target)
    qt, qr = _split(q, target)
    ph, qh = pr / (1 - pt)[:, None], qr / (1 - qt)[:, None]
    right = _kl(ph, qh)
    return {
        "right": (right, None),
        "not renormalised": ((pr * (pr / qr).log()).sum(-1),
                             ("your NCKD uses the non-target probabilities as they are, not renormalised: they sum to "
                              "1 − p_target, not to 1, so it is not a KL between two distributions",
                              "NCKD compares two distributions over the non-target classes: each must sum to 1.")),
        "target included": (_kl(p.double(), q.double()),
                            ("your NCKD includes the target class: it is the KL over every class",
                             "NCKD is about the other classes only: leave the true class out of both sides.")),
        "teacher's weight": ((1 - pt) * right,
                             ("your NCKD is multiplied by (1 − p_target) of the teacher: that weight is how KD "
                              "couples NCKD to the teacher's confidence, and the very thing DKD takes out",
                              "Return the bare KL between the two non-target distributions; the weight belongs to "
                              "the loss that combines the terms.")),
        "student's weight": ((1 - qt) * right,
                             ("your NCKD is multiplied by (1 − p_target) of the student",
                              "Return the bare KL between the two non-target distributions, unweighted.")),
        "swapped": (_kl(qh, ph), ("your NCKD has the KL's arguments swapped: it is KL(student ‖ teacher)",
                                  "In KD the teacher's distribution is the target: it weighs the log-ratio.")),
        "teacher side only": ((ph * (ph / qr).log()).sum(-1),
                              ("only the teacher's non-target probabilities are renormalised; the student's are "
                               "taken as they are", "Both sides need the same treatment.")),
        "student side only": ((pr * (pr / qh).log()).sum(-1),
                              ("only the student's non-target probabilities are renormalised; the teacher's are "
                               "taken as they are", "Both sides need the same treatment.")),
        "one total": ((ph * (pr / qr).log()).sum(-1),
                      ("your NCKD divides both sides by the teacher's total, so the student's non-target "
                       "probabilities do not sum to 1", "Each side's non-target distribution must sum to 1 on "
                                                        "its own.")),
        "cross-entropy": (-(ph * qh.log()).sum(-1),
                          ("your NCKD is a cross-entropy, not a KL: it is larger by the entropy of the teacher's "
                           "non-target distribution, and not 0 when the student matches the teacher",
                           "KL = cross-entropy − the teacher's entropy.")),
    }


REDUCTIONS = {  # name: (what the term then is, hint), for a scale on the batch mean
    "sum": ("is summed over the examples, so it is the batch mean times the batch size",
            "Average over the examples, or return one value per example."),
    "element mean": ("is averaged over the classes too (reduction='mean'), so it is divided by the number of entries",
                     "A KL is a sum over the entries of a distribution, then an average over the examples."),
    "negative": ("has the wrong sign: a KL divergence is never negative", "KL(a ‖ b) = Σ a · log(a / b)."),
    "bits": ("is in bits (log base 2); the workbench measures in nats", "Use the natural log."),
}


def _scales(entries, per_example):
    """[(reduction mistakes, factor), ...]: the scales a learner's term may carry. A batch
    mean may also be a sum over the examples or a mean over every entry (`entries` per example)."""
    scales = [((), 1.0), (("negative",), -1.0), (("bits",), 1 / math.log(2))]
    if not per_example:
        scales += [(("sum",), float(BATCH))] + [(("element mean",), 1.0 / k) for k in entries]
    return scales


def _close(a, b):
    """a and b (float64 tensors of one shape) agree to 0.1% (and 1e-6 absolute)."""
    return bool(((a - b).abs() <= 1e-3 * b.abs() + 1e-6).all())


def _match(value, variants, entries, term):
    """(variant name, [(mistake, hint), ...]) whose value equals `value` (a float64 tensor:
    one number for a batch mean, or one per example), or None when none does; `term` names
    the term in the messages."""
    per_example = value.ndim == 1
    for name, (values, mistake) in variants.items():
        want = values if per_example else values.mean()
        for scale, factor in _scales(entries, per_example):
            if _close(value, want * factor):
                return name, ([mistake] if mistake else []) + [(f"your {term} {REDUCTIONS[n][0]}", REDUCTIONS[n][1])
                                                               for n in scale]
    return None


def _as_values(term):
    """A learner's term as a float64 tensor: one number, or one per example (BATCH,); None otherwise."""
    number = real_number(term)
    if number is not None:
        return torch.tensor(number, dtype=torch.float64)
    if isinstance(term, torch.Tensor):
        term = term.detach().cpu()
    elif isinstance(term, np.ndarray) and term.dtype.kind in "iuf":
        term = torch.from_numpy(term)
    elif isinstance(term, (list, tuple)) and len(term) == BATCH and all(real_number(v) is not None for v in term):
        term = torch.tensor([real_number(v) for v in term])
    if isinstance(term, torch.Tensor) and term.numel() == BATCH and not term.is_complex() \
            and term.dtype != torch.bool:
        return term.reshape(-1).double()
    return None


def _two_terms(got):
    """(tckd, nckd) as float64 tensors, or a Feedback saying what came back instead."""
    if got is None:
        return None, wrong("Your function returned None instead of (tckd, nckd).", "Did you forget `return`?")
    if isinstance(got, (torch.Tensor, np.ndarray)) and got.ndim >= 1 and got.shape[0] == 2:
        got = tuple(got)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        size = (f" of shape {tuple(got.shape)}" if isinstance(got, (torch.Tensor, np.ndarray))
                else f" of {len(got)}" if isinstance(got, (tuple, list)) else "")
        return None, wrong(f"Expected two results, (tckd, nckd); got {type(got).__name__}{size}.",
                           "Return a tuple: the target-class term first, then the non-target term.")
    terms = [_as_values(t) for t in got]
    for name, term, raw in zip(("tckd", "nckd"), terms, got):
        if term is None:
            shape = tuple(getattr(raw, "shape", ()))
            return None, wrong(f"Your {name} should be one number (the batch mean) or one number per example "
                               f"({BATCH} here); got {type(raw).__name__} {shape}.",
                               "Sum over the classes; then average over the examples, or keep one per example.")
    return terms, None


def _joined(mistakes):
    """One Feedback naming every mistake found, [(mistake, hint), ...], each hint once."""
    text = "; ".join(m for m, _ in mistakes)
    same = [m.removeprefix(f"your {name} ") for (m, _), name in zip(mistakes, ("TCKD", "NCKD"))]
    if len(mistakes) == 2 and same[0] == same[1] and same[0] != mistakes[0][0]:
        text = "Both terms have the same problem: each " + same[0]
    elif len(mistakes) > 1:
        text = {2: "Two", 3: "Three"}.get(len(mistakes), "Several") + " things: " + text
    return wrong(text[0].upper() + text[1:] + ".", " ".join(dict.fromkeys(h for _, h in mistakes)))


def check_decoupled_kd(fn):
    """fn(p_teacher, p_student, target) should return (tckd, nckd) for a batch of
    probabilities (B, C) and true classes (B,): TCKD = KL(b_teacher ‖ b_student) with
    b = (p_target, 1 − p_target), and NCKD = KL(p̂_teacher ‖ p̂_student) with p̂ the
    probabilities of the non-target classes divided by their sum, each either averaged
    over the batch or one value per example, as a tensor or a plain number. Judged on two
    fixed batches; common mistakes are named."""
    if calls_the_reference(fn, (dkd_terms, dkd_loss), r"\b(losses|wb)\.dkd_(terms|loss)\b"):
        return wrong("Your function calls the workbench's own dkd_terms: the exercise is to write the two terms "
                     "yourself.", "Work from the probabilities you are given, with torch operations.")
    for seed in (0, 2):
        p, q, target = example_batch(seed)
        given = (p.clone(), q.clone(), target.clone())
        got, fb = call(fn, *given)
        if fb is not None:
            return fb
        fb = changed_inputs([("teacher's probabilities", given[0], p), ("student's probabilities", given[1], q),
                             ("targets", given[2], target)])
        if fb is not None:
            return fb
        terms, fb = _two_terms(got)
        if fb is not None:
            return fb
        tckd, nckd = terms
        if not all(bool(torch.isfinite(t).all()) for t in terms):
            return wrong("One of your terms is NaN or infinite.",
                         "A log of 0 or a division by 0: which probabilities did you take the log of?")
        tckd_variants, nckd_variants = _tckd_variants(p, q, target), _nckd_variants(p, q, target)
        found_t = _match(tckd, tckd_variants, (2,), "TCKD")
        found_n = _match(nckd, nckd_variants, (CLASSES - 1, CLASSES), "NCKD")
        if found_t == ("right", []) and found_n == ("right", []):
            continue
        if _match(tckd, nckd_variants, (CLASSES - 1,), "TCKD") == ("right", []) and \
                _match(nckd, tckd_variants, (2,), "NCKD") == ("right", []):
            return wrong("Your two terms are in the wrong order: you returned (nckd, tckd).",
                         "Return the target-class term first.")
        mistakes = []
        for name, found in (("TCKD", found_t), ("NCKD", found_n)):
            if found is None:
                mistakes.append((f"your {name} is not the {name} term on these numbers",
                                 "TCKD: the (target, rest) distributions; NCKD: the non-target classes alone, each "
                                 "side summing to 1; both KL(teacher ‖ student)."))
            else:
                mistakes += found[1]
        return _joined(mistakes)
    return correct("Right: TCKD compares how much mass each model puts on the true class against the rest, NCKD "
                   "compares the two distributions over the other classes. Example by example, KD = TCKD + "
                   "(1 − p_target of the teacher) · NCKD: the surer the teacher, the less KD lets NCKD, the dark "
                   "knowledge, count. DKD gives NCKD a weight of its own.")


# ---- how much KD suppresses NCKD on a confident example

SURE, UNSURE = 0.98, 0.60  # the teacher's probability of the true class on two examples


def check_nckd_ratio(answer, sure=SURE, unsure=UNSURE):
    """In KD = TCKD + (1 − p_target) · NCKD, the factor by which NCKD weighs more on an
    example whose teacher gives the true class `unsure` than on one where it gives `sure`:
    (1 − unsure) / (1 − sure): 20 for the defaults, accepted within 0.05."""
    if is_unanswered(answer):
        return unanswered("Write KD's weight on NCKD for each example, then divide.")
    value = real_number(answer)
    if value is None or not math.isfinite(value):
        return wrong(f"The answer must be one finite real number; got {type(answer).__name__} {answer!r}.")
    w_sure, w_unsure = 1 - sure, 1 - unsure
    want = w_unsure / w_sure
    near = lambda x: within(value, x, 0.05)
    if near(want):
        return correct(f"Right: KD weighs NCKD by {w_unsure:.2f} on the hard example and by {w_sure:.2f} on the easy "
                       f"one, {want:.0f}× less where the teacher is sure. Those confident examples are most of a "
                       "well-trained teacher's data, so KD mutes the dark knowledge where the teacher has the most "
                       "to give; DKD replaces (1 − p_target) by a constant weight.")
    if near(w_sure / w_unsure):
        return wrong("Your ratio is upside down: that is the confident example's weight over the hard one's.",
                     "On which example does NCKD count more?")
    if near(unsure / sure) or near(sure / unsure):
        return wrong("That is a ratio of the teacher's probabilities of the true class; KD's weight on NCKD is not "
                     "p_target.", "Write KD = TCKD + w · NCKD for one example: what is w?")
    if near(w_unsure - w_sure) or near(sure - unsure):
        return wrong("That is a difference; the question asks for a factor.", "Divide one weight by the other.")
    if near(1.0):
        return wrong("KD does not weigh NCKD the same on every example: its weight depends on the teacher's "
                     "confidence.", "Write KD = TCKD + w · NCKD for one example: what is w?")
    if near(8.0):
        return wrong("8 is DKD's default weight β on NCKD, the constant DKD puts in place of KD's; the question "
                     "asks about KD's own weight.", "Write KD = TCKD + w · NCKD for one example: what is w?")
    if near(want ** 2) or near(want ** 0.5):
        return wrong(f"Off by a power: {value:g} is not the ratio of the two weights.",
                     "The weight appears once, not squared.")
    return wrong(f"{value:g} is not the factor.", "Write KD = TCKD + w · NCKD for each example, then divide the "
                                                   "two w.")
