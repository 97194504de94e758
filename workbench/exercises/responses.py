"""Checks for response-based KD: soft labels, the KD loss, the full objective, and the
bias correction of Hinton et al.'s left-out class. Each compares the learner's function
with the reference on random inputs, and recognises the common mistakes by comparing
with known wrong variants, so the feedback can name the mistake. A loss is judged by its
gradient too: backward() on the learner's result must give the reference's gradient with
respect to the student's logits, since that gradient is all that training uses."""
import inspect
import math
import numbers
import re

import numpy as np
import torch
import torch.nn.functional as F

from .. import losses
from ..losses import kd_loss
from .feedback import call, correct, is_unanswered, unanswered, wrong

BATCH, CLASSES = 8, 5


def _inputs(seed=0, batch=BATCH, classes=CLASSES):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(batch, classes, generator=g), 3 * torch.randn(batch, classes, generator=g), \
        torch.randint(classes, (batch,), generator=g)


def _close(a, b):
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a.float(), b.float(), rtol=1e-4,
                                                                                 atol=1e-5)


def _scalar(value):
    """A Python float from any real number: int, float, a NumPy scalar, a one-element
    tensor or array. None for what is not a real number (bool, complex, str, None, ...)."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.dtype == torch.bool or value.is_complex():
            return None
        return value.detach().double().item()
    if isinstance(value, np.ndarray):
        return float(value.reshape(())) if value.size == 1 and value.dtype.kind in "iuf" else None
    return float(value) if isinstance(value, numbers.Real) else None


def _same(value, want, rtol=1e-4):
    return math.isfinite(value) and abs(value - want) <= rtol * max(1.0, abs(want))


def _not_a_number(got, what, shape_hint):
    """Feedback for a result that is not one number; None when it is one."""
    if got is None:
        return wrong(f"Your function returned None instead of {what}.", "Did you forget `return`?")
    if _scalar(got) is not None:
        return None
    shape = tuple(getattr(got, "shape", ()))
    return wrong(f"Expected {what}, one number (a 0-dim tensor); got {type(got).__name__} {shape}.", shape_hint)


def _changed_inputs(pairs):
    """Feedback when the learner's function changed an input tensor in place."""
    for name, given, original in pairs:
        if not torch.equal(given.detach(), original):
            return wrong(f"Your function changed the {name} in place.",
                         "Compute on new tensors; never modify the inputs (no in-place operations such as div_).")
    return None


def _gradient_problem(got, student, want_grad, what):
    """Feedback when a result that is right in value does not carry the right gradient back
    to the student's logits (backward() on the learner's result against the reference)."""
    if not isinstance(got, torch.Tensor):
        return wrong(f"The value is right, but your {what} is a plain number ({type(got).__name__}): training "
                     "calls backward() on it, and a number has no gradient.",
                     "Return the tensor itself, not .item() or a NumPy value.")
    if not got.requires_grad:
        return wrong(f"The value is right, but your {what} is detached from the student's logits: no gradient "
                     "reaches the student.",
                     "Keep every step on the student's side a torch operation on its logits, "
                     "without .detach(), .data, torch.no_grad() or NumPy.")
    try:
        grad, = torch.autograd.grad(got.sum(), student, allow_unused=True)
    except RuntimeError as e:  # e.g. the graph was already freed by a backward() inside the function
        return wrong(f"The value is right, but backward() on your {what} failed: {e}",
                     "Return the result without calling backward() on it yourself.")
    if grad is None:
        return wrong(f"The value is right, but your {what} is not connected to the student's logits: it requires "
                     "a gradient, yet backward() gives the student none.",
                     "A tensor built from a number starts a new graph of its own.")
    if not torch.allclose(grad, want_grad, rtol=1e-3, atol=1e-6):
        size = "it is zero" if not grad.abs().max() else f"its size is {grad.norm():.3g} against {want_grad.norm():.3g}"
        return wrong(f"The value is right, but the gradient that reaches the student's logits is not this {what}'s "
                     f"gradient ({size}).",
                     "Part of the computation on the student's side is cut off from the graph or replaced by a "
                     "constant.")
    return None


def _calls_the_reference(fn, references, pattern):
    """The learner's function is, or calls by name, one of the workbench's own reference
    functions (passing the check without writing anything)."""
    if any(fn is r for r in references):
        return True
    code, found = getattr(fn, "__code__", None), False
    if code is not None:  # the globals it names, and module attributes two deep (wb.losses.kd_loss)
        names = set(code.co_names).union(*(c.co_names for c in code.co_consts if inspect.iscode(c)))
        reached = [getattr(fn, "__globals__", {}).get(n) for n in names]
        for _ in range(2):
            reached += [getattr(m, n, None) for m in reached if inspect.ismodule(m) for n in names]
        found = any(o is r for o in reached for r in references)
    try:
        return found or re.search(pattern, inspect.getsource(fn)) is not None
    except (OSError, TypeError):
        return found


def _reference_grad(loss_fn, s):
    s = s.clone().requires_grad_(True)
    grad, = torch.autograd.grad(loss_fn(s), s)
    return grad


def _analysis_soft_labels():
    from .. import analysis  # imported late: analysis pulls in scipy and sklearn

    return analysis.soft_labels


SOFT_LABEL_MISTAKES = {
    "no T": (lambda z, T: F.softmax(z, -1), "Your soft labels do not change with T.",
             "Where does the temperature enter softmax?"),
    "times T": (lambda z, T: F.softmax(z * T, -1),
                "Raising T makes your soft labels sharper; it should make them softer.", "Divide, do not multiply."),
    "over T²": (lambda z, T: F.softmax(z / T ** 2, -1), "Your logits are divided by T², not by T.",
                "The temperature divides the logits once."),
    "log": (lambda z, T: F.log_softmax(z / T, -1), "These are log-probabilities.",
            "Soft labels are probabilities: each row sums to 1."),
    "columns": (lambda z, T: F.softmax(z / T, 0), "Each column sums to 1, not each row: you normalised over the "
                "examples.", "Normalise over the classes, the last dimension."),
    "whole batch": (lambda z, T: F.softmax((z / T).flatten(), 0).reshape(z.shape),
                    "The whole batch sums to 1: you normalised over every entry at once.",
                    "One distribution per example: normalise each row."),
    "no exp": (lambda z, T: z / T, "These are the scaled logits, not probabilities.",
               "Soft labels are positive and each row sums to 1."),
    "no normalisation": (lambda z, T: torch.exp(z / T), "Your rows do not sum to 1: the exponentials are not "
                         "normalised.", "Divide each row by its sum."),
    "sigmoid": (lambda z, T: torch.sigmoid(z / T), "This is a sigmoid per class: each class on its own, and the "
                "rows do not sum to 1.", "The classes compete for one unit of probability."),
    "probabilities over T": (lambda z, T: F.softmax(z, -1) / T, "You divided the probabilities by T, so the rows no "
                             "longer sum to 1.", "The temperature acts before the normalisation, on the logits."),
    "hard": (lambda z, T: F.one_hot(z.argmax(-1), z.shape[-1]).float(), "These are hard labels (one-hot argmax): "
             "no dark knowledge and no temperature.", "Keep the whole distribution."),
}


def check_soft_labels(fn):
    """fn(logits, T) should return softmax(logits / T) over the classes (the last dim).
    Any way of computing it passes (softmax, exp over its sum, a power 1/T of the
    probabilities renormalised); each common mistake has its own message."""
    if _calls_the_reference(fn, (losses.soft_targets, _analysis_soft_labels()),
                            r"\b(soft_targets|analysis\.soft_labels|wb\.soft_labels)\b"):
        return wrong("Your function calls the workbench's own soft labels: the exercise is to write them yourself.",
                     "Use torch operations on the logits.")
    z, _, _ = _inputs()
    for t in (0.5, 4.0):
        given = z.clone()
        got, fb = call(fn, given, t)
        if fb is not None:
            return fb
        fb = _changed_inputs([("logits", given, z)])
        if fb is not None:
            return fb
        if got is None:
            return wrong("Your function returned None instead of the soft labels.", "Did you forget `return`?")
        if isinstance(got, np.ndarray):
            return wrong("Your function returned a NumPy array.", "Return a torch tensor, like the logits it gets.")
        if _close(got, F.softmax(z / t, -1)):
            continue
        if not isinstance(got, torch.Tensor) or got.shape != z.shape:
            return wrong(f"Expected a tensor of shape {tuple(z.shape)}, one distribution per example; "
                         f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}.")
        for variant, message, hint in SOFT_LABEL_MISTAKES.values():
            if _close(got, variant(z, t)):
                return wrong(message, hint)
        return wrong(f"At T = {t} your soft labels differ from softmax(logits / T).",
                     "Check that each row is positive and sums to 1.")
    return correct("Right: softmax(z / T) for every example; a larger T spreads the mass.")


def _kl_terms(s, t, dim=-1, ts=1.0, tt=1.0):
    """KL(softmax(t / tt) ‖ softmax(s / ts)) over `dim`, summed, divided by the batch size."""
    log_ps, log_pt = F.log_softmax(s / ts, dim), F.log_softmax(t / tt, dim)
    return (log_pt.exp() * (log_pt - log_ps)).sum().item() / s.shape[0]


def _entropy(t, temperature):
    log_pt = F.log_softmax(t / temperature, -1)
    return -(log_pt.exp() * log_pt).sum(-1).mean().item()


# The KD term is base × scale. Bases: the batch mean of a per-example quantity; None in the
# message marks a base that is right. Scales: T-factor × reduction × sign.
KD_BASES = {
    "KL": (None, ""),
    "soft cross-entropy": (None, ""),
    "swapped": ("you computed KL(student ‖ teacher), with the KL's arguments swapped",
                "F.kl_div(input, target) computes KL(target ‖ input): which distribution is the target here?"),
    "teacher at 1": ("the teacher's distribution is taken at T = 1", "Both sides use the same T."),
    "student at 1": ("the student's distribution is taken at T = 1", "Both sides use the same T."),
    "no temperature": ("neither distribution is softened: both are taken at T = 1",
                       "Both sides are divided by T before the softmax."),
    "logits times T": ("the logits are multiplied by T, which sharpens instead of softening",
                       "Divide, do not multiply."),
    "probabilities as input": ("F.kl_div got probabilities where it expects log-probabilities",
                               "Its first argument must be log-probabilities."),
    "targets read as logs": ("with log_target=True F.kl_div reads your target probabilities as "
                             "log-probabilities", "log_target says what the target holds: what does yours hold?"),
    "softmax over the batch": ("your softmax normalises over the batch (dimension 0), not over the classes",
                               "One distribution per example: softmax over the last dimension."),
    "squared error on probabilities": ("this is a squared error between the probabilities, not a KL divergence",
                                       "The KD term compares the two distributions by KL divergence."),
    "squared error on logits": ("this is a squared error between the logits, the logit matching of Ba & Caruana "
                                "(2014); Hinton et al. show that KD approaches it only at high T with zero-mean "
                                "logits, and it is not the KD term at T",
                                "Compare the softened distributions by KL divergence."),
    "hard labels": ("this is the cross-entropy with the teacher's argmax: hard labels, so the dark knowledge "
                    "in the other classes is lost", "Use the teacher's whole softened distribution as the target."),
}
SCALE_MISTAKES = {
    "T": ("the term is scaled by T, not by T²", "The soft-target gradients shrink as 1/T²; what undoes that?"),
    "1": ("the T² factor is missing, so your loss is the reference divided by T²",
          "The soft-target gradients shrink as 1/T² when T grows; Hinton et al. scale the term back up so that "
          "alpha means the same at every temperature."),
    "mean": ("with reduction='mean' the loss is averaged over every element, so it is divided by the number of "
             "classes",
             "KL is a sum over the classes, then an average over the examples: PyTorch calls that 'batchmean'."),
    "sum": ("your loss is summed over the examples, so it is the reference times the batch size",
            "Average over the examples, so the loss does not grow with the batch."),
    "negative": ("your loss has the wrong sign: minimising it pushes the student away from the teacher",
                 "A divergence is never negative."),
}


def _kd_bases(s, t, T):
    """{base name: [values]}: the batch mean of each per-example quantity, before scaling."""
    log_ps, log_pt = F.log_softmax(s / T, -1), F.log_softmax(t / T, -1)
    ps, pt = log_ps.exp(), log_pt.exp()
    batch = s.shape[0]
    hard = t.argmax(-1)
    return {
        "KL": [_kl_terms(s, t, ts=T, tt=T)],
        "soft cross-entropy": [_kl_terms(s, t, ts=T, tt=T) + _entropy(t, T)],
        "swapped": [_kl_terms(t, s, ts=T, tt=T)],
        "teacher at 1": [_kl_terms(s, t, ts=T, tt=1.0)],
        "student at 1": [_kl_terms(s, t, ts=1.0, tt=T)],
        "no temperature": [_kl_terms(s, t)],
        "logits times T": [_kl_terms(s, t, ts=1 / T, tt=1 / T)],
        "probabilities as input": [(pt * (log_pt - ps)).sum().item() / batch],
        "targets read as logs": [(pt.exp() * (pt - log_ps)).sum().item() / batch],
        "softmax over the batch": [_kl_terms(s, t, dim=0, ts=T, tt=T)],
        "squared error on probabilities": [((ps - pt) ** 2).sum().item() / batch],
        "squared error on logits": [((s / T - t / T) ** 2).sum().item() / batch],
        "hard labels": [F.cross_entropy(s / T, hard).item(), F.cross_entropy(s, hard).item()],
    }


def _kd_scales(T, batch, classes):
    """{(mistakes...): factor}: T², T or 1, times batch mean, element mean or sum, times ±1."""
    scales = {}
    for t_name, t_factor in (("T²", T ** 2), ("T", T), ("1", 1.0)):
        for r_name, r_factor in (("batchmean", 1.0), ("mean", 1 / classes), ("sum", batch)):
            for sign in (1, -1):
                names = tuple(n for n in (t_name, r_name, "negative" if sign < 0 else "")
                              if n not in ("T²", "batchmean", ""))
                scales[names] = t_factor * r_factor * sign
    return scales


def _named(mistakes, hints):
    if len(mistakes) == 1:
        return wrong(mistakes[0][0].upper() + mistakes[0][1:] + ".", hints[0])
    words = {2: "Two", 3: "Three", 4: "Four"}[len(mistakes)]
    return wrong(f"{words} things: " + "; ".join(mistakes) + ".", " ".join(hints))


def _match_kd_term(value, s, t, T):
    """Feedback naming the mistakes whose KD-term value equals `value`, or None."""
    scales = _kd_scales(T, *s.shape)
    for base, values in _kd_bases(s, t, T).items():
        for v in values:
            for scale, factor in scales.items():
                if _same(value, v * factor):
                    message, hint = KD_BASES[base]
                    if message and base in ("squared error on probabilities", "squared error on logits",
                                            "hard labels"):
                        return _named([message], [hint])  # its reduction and scale do not matter
                    found = ([(message, hint)] if message else []) + [SCALE_MISTAKES[n] for n in scale]
                    if found:
                        return _named([m for m, _ in found], [h for _, h in found])
    return None


SOFT_CE_NOTE = ("This is the cross-entropy with the teacher's soft labels, the form Hinton et al. wrote. Its "
                "gradient is the KL's exactly; its value is larger by T² · H(p_teacher), the teacher's entropy, a "
                "constant the student cannot change. The workbench reports the KL form, which is 0 when the student "
                "matches the teacher.")


def check_kd_loss(fn):
    """fn(student_logits, teacher_logits, T) should be Hinton et al.'s soft-target term:
    T² · KL(softmax(t/T) ‖ softmax(s/T)), averaged over the batch. Its value and, by
    backward() on the result, its gradient with respect to the student's logits are compared
    with the reference. Cross-entropy with the soft labels passes with a note: its gradient is
    the same, its value is larger by T² times the teacher's entropy."""
    if _calls_the_reference(fn, (kd_loss,), r"\b(losses|wb)\.kd_loss\b"):
        return wrong("Your function calls the workbench's own kd_loss: the exercise is to write the term yourself.",
                     "Use torch.nn.functional (F) on the logits.")
    soft_ce = False
    for seed, temperature in ((0, 4.0), (1, 2.0)):
        s, t, _ = _inputs(seed)
        student, teacher = s.clone().requires_grad_(True), t.clone()
        got, fb = call(fn, student, teacher, temperature)
        if fb is not None:
            return fb
        fb = _changed_inputs([("student's logits", student, s), ("teacher's logits", teacher, t)])
        if fb is not None:
            return fb
        if isinstance(got, torch.Tensor) and got.shape == s.shape[:1]:
            return wrong("Your loss is one number per example: the batch is not averaged.",
                         "Training needs one number: average the per-example terms over the batch.")
        fb = _not_a_number(got, "the loss", "Sum over the classes, then average over the batch.")
        if fb is not None:
            return fb
        value = _scalar(got)
        ref = kd_loss(s, t, temperature).item()
        offset = temperature ** 2 * _entropy(t, temperature)
        if _same(value, ref) or _same(value, ref + offset):
            soft_ce = soft_ce or not _same(value, ref)
            want = _reference_grad(lambda x: kd_loss(x, t, temperature), s)
            fb = _gradient_problem(got, student, want, "loss")
            if fb is not None:
                return fb
            continue
        if math.isnan(value):
            return wrong("Your loss is NaN. With F.kl_div the usual cause is a target of log-probabilities read as "
                         "probabilities (the log of a negative number).",
                         "Tell F.kl_div what its target holds, or give it probabilities.")
        fb = _match_kd_term(value, s, t, temperature)
        if fb is not None:
            return fb
        return wrong(f"At T = {temperature} your loss is {value:.4f}; that is not the KD term.",
                     "Compare softmax(t/T) with softmax(s/T) by KL divergence, then scale.")
    done = ("Right: T² · KL(p_teacher ‖ p_student) at temperature T, averaged over the batch; the gradient "
            "reaches the student.")
    return correct(done + (" " + SOFT_CE_NOTE if soft_ce else ""))


OBJECTIVE_WEIGHTS = {  # (weight of the KD term, weight of the cross-entropy) -> the mistake, or None
    "right": (lambda a: (a, 1 - a), None),
    "alpha swapped": (lambda a: (1 - a, a), ("in your objective alpha weighs the cross-entropy; here it weighs the "
                                             "KD term", "alpha = 1 should mean: learn from the teacher only.")),
    "no 1 - alpha": (lambda a: (a, 1.0), ("the cross-entropy is not weighted by (1 − alpha)",
                                          "The two weights add up to 1.")),
    "no alpha": (lambda a: (1.0, 1 - a), ("the KD term is not weighted by alpha", "The two weights add up to 1.")),
    "unweighted": (lambda a: (1.0, 1.0), ("the two terms are added without alpha",
                                          "alpha balances them: alpha · KD + (1 − alpha) · CE.")),
}


def _objective_parts(s, t, y, T):
    """({name: (KD-term value, mistake or None)}, {name: (CE value, mistake or None)})."""
    kd = kd_loss(s, t, T).item()
    kd_parts = {
        "right": (kd, None),
        "soft cross-entropy": (kd + T ** 2 * _entropy(t, T), None),
        "missing T²": (kd / T ** 2, ("the KD term is missing its T² factor",
                                     "Without it, raising T silently lowers the KD term's weight.")),
        "T": (kd / T, ("the KD term is scaled by T, not by T²", SCALE_MISTAKES["T"][1])),
        "swapped": (kd_loss(t, s, T).item(), ("the KD term is KL(student ‖ teacher), with the KL's arguments swapped",
                                              KD_BASES["swapped"][1])),
        "mean": (kd / s.shape[-1], ("the KD term is averaged over the classes too (reduction='mean'), so it is "
                                    "divided by the number of classes", SCALE_MISTAKES["mean"][1])),
    }
    ce = F.cross_entropy(s, y).item()
    ce_parts = {
        "right": (ce, None),
        "at T": (F.cross_entropy(s / T, y).item(), ("the cross-entropy is taken at temperature T",
                                                    "The hard labels are matched at T = 1.")),
        "times T²": (T ** 2 * ce, ("the cross-entropy is scaled by T² too", "Only the soft term needs T².")),
        "probabilities": (F.cross_entropy(F.softmax(s, -1), y).item(),
                          ("F.cross_entropy got probabilities; it applies log-softmax itself",
                           "Give it the logits.")),
        "nll on logits": (F.nll_loss(s, y).item(), ("F.nll_loss got logits; it expects log-probabilities",
                                                    "Cross-entropy is NLL of the log-softmax.")),
        "teacher's labels": (F.cross_entropy(s, t.argmax(-1)).item(),
                             ("the cross-entropy uses the teacher's argmax instead of the true labels",
                              "The hard term is the one that brings the true labels.")),
        "sum": (s.shape[0] * ce, ("the cross-entropy is summed over the examples, not averaged",
                                  "Average both terms over the batch.")),
    }
    return kd_parts, ce_parts


def check_kd_objective(fn):
    """fn(student_logits, teacher_logits, labels, T, alpha) should be
    alpha · KD term + (1 − alpha) · cross-entropy with the labels (at T = 1), as a tensor
    whose gradient (backward() on it) with respect to the student's logits is the reference's."""
    s, t, y = _inputs(2)
    soft_ce = False
    for temperature, alpha in ((4.0, 0.9), (2.0, 0.3)):
        student, teacher, labels = s.clone().requires_grad_(True), t.clone(), y.clone()
        got, fb = call(fn, student, teacher, labels, temperature, alpha)
        if fb is not None:
            return fb
        fb = _changed_inputs([("student's logits", student, s), ("teacher's logits", teacher, t),
                              ("labels", labels, y)])
        if fb is not None:
            return fb
        fb = _not_a_number(got, "the objective", "Both terms are averaged over the batch, then added.")
        if fb is not None:
            return fb
        value = _scalar(got)
        kd_parts, ce_parts = _objective_parts(s, t, y, temperature)
        found = None
        for weights, mistake in OBJECTIVE_WEIGHTS.values():
            w_kd, w_ce = weights(alpha)
            for kd_name, (kd, kd_mistake) in kd_parts.items():
                for ce, ce_mistake in ce_parts.values():
                    if found is None and _same(value, w_kd * kd + w_ce * ce):
                        found = (kd_name, [m for m in (mistake, kd_mistake, ce_mistake) if m])
        if found is not None and not found[1]:
            soft_ce = soft_ce or found[0] == "soft cross-entropy"
            want = _reference_grad(lambda x: alpha * kd_loss(x, t, temperature)
                                   + (1 - alpha) * F.cross_entropy(x, y), s)
            fb = _gradient_problem(got, student, want, "objective")
            if fb is not None:
                return fb
            continue
        if found is not None:
            return _named([m for m, _ in found[1]], [h for _, h in found[1]])
        if math.isnan(value):
            return wrong("Your objective is NaN.", "Check your kd_loss first: does ex.check_kd_loss pass?")
        return wrong(f"With T = {temperature}, alpha = {alpha} your objective is {value:.4f}; that is not "
                     "alpha · KD + (1 − alpha) · CE.", "Does ex.check_kd_loss pass for the KD term you reuse?")
    done = ("Right: alpha · T² · KL at T, plus (1 − alpha) · cross-entropy at T = 1; the gradient reaches the "
            "student.")
    return correct(done + (" Your KD term is the soft cross-entropy: the objective is larger by alpha · T² · "
                           "H(p_teacher), a constant, and its gradient is the same." if soft_ce else ""))


def _row_constant(a, b):
    """a − b is the same within every row (so softmax(a) = softmax(b)), and not all zero."""
    d = (a - b).float()
    return bool(torch.allclose(d, d[:, :1].expand_as(d), atol=1e-5) and d.abs().max() > 1e-5)


def _bias_mistake(got, z, cls, delta):
    """Feedback naming what the learner's bias correction did wrong, or None when right."""
    want = z.clone()
    want[:, cls] += delta
    if _close(got, want):
        return None
    if got is None:
        return wrong("Your function returned None instead of the new logits.", "Did you forget `return`?")
    if isinstance(got, np.ndarray):
        return wrong("Your function returned a NumPy array.", "Return a torch tensor, like the logits it gets.")
    if not isinstance(got, torch.Tensor) or got.shape != z.shape:
        shape = tuple(getattr(got, "shape", ()))
        return wrong(f"Expected new logits of shape {tuple(z.shape)} (examples × classes); got "
                     f"{type(got).__name__} {shape}.", "Return all the logits, with one class changed.")
    if _close(got, z):
        return wrong("Your logits come back unchanged.", "Column cls should be raised by delta.")
    changed = ~torch.isclose(got.float(), z.float(), rtol=1e-4, atol=1e-5)
    rows, cols = changed.any(1).nonzero().flatten().tolist(), changed.any(0).nonzero().flatten().tolist()
    if len(rows) == 1 and torch.allclose(got[rows[0]] - z[rows[0]], torch.full_like(z[0], delta)):
        return wrong("You shifted a row (one example) instead of a column (one class).",
                     "Logits are examples × classes.")
    if _close(got, z + delta) or _row_constant(got, z):
        return wrong("Every class got the same shift, which changes no prediction.", "Only the left-out class.")
    if _close(got, F.softmax(want, -1)):
        return wrong("These are probabilities (softmax of the corrected logits).", "Return the logits themselves.")
    if _row_constant(got, want):
        return None  # the same softmax, so the same correction (e.g. every other class lowered by delta)
    if cols == [cls] and torch.allclose(got[:, cls], z[:, cls] * delta):
        return wrong("You multiplied the class's logits by delta; the correction adds delta.",
                     "A bias is added to the logit.")
    if cols == [cls] and torch.allclose(got[:, cls], z[:, cls] - delta):
        return wrong("You lowered the class's logits by delta; the correction raises them.",
                     "The left-out class should win more often, not less.")
    if cols == [cls] and torch.allclose(got[:, cls] - z[:, cls], (got[0, cls] - z[0, cls]).expand(len(z))):
        return wrong(f"Column cls is raised by {(got[0, cls] - z[0, cls]).item():g}, not by delta = {delta:g}.",
                     "Use the delta your function is given.")
    if len(cols) == 1 and cols[0] != cls:
        return wrong(f"You changed class {cols[0]}, but cls was {cls}.", "Use the cls your function is given.")
    return wrong("Column cls should be raised by delta and every other entry left as it was.")


def check_bias_correction(fn):
    """fn(logits, cls, delta) should add delta to column cls of the logits and leave the
    rest unchanged (a new tensor; the input untouched). Logits that differ from that by a
    constant per row (e.g. every other class lowered by delta) give the same softmax and
    pass with a note."""
    z, _, _ = _inputs(3)
    shifted_others = False
    for cls, delta in ((2, 1.5), (4, 2.5)):
        given = z.clone()
        got, fb = call(fn, given, cls, delta)
        if fb is not None:
            return fb
        if not torch.equal(given, z):
            return wrong("Your function changed its input logits in place.", "Work on a copy (clone) of the logits.")
        fb = _bias_mistake(got, z, cls, delta)
        if fb is not None:
            return fb
        want = z.clone()
        want[:, cls] += delta
        shifted_others = shifted_others or not _close(got, want)
    note = (" Your logits differ from that by a constant per row, which leaves the softmax and every prediction "
            "unchanged, so it is the same correction." if shifted_others else "")
    return correct("Right: one class's logit raised by delta for every example, like raising that class's "
                   "bias in the last layer." + note)


def check_left_out_delta(delta, logits, labels, cls, split="validation"):
    """A bias delta for class cls that recovers it on the split given (logits, labels): at
    least 70% of its examples right, and no more than 5 points of accuracy lost on the other
    classes. Choose delta on a validation split and report the test set once, afterwards:
    `split` names the split in the messages."""
    if is_unanswered(delta):
        return unanswered("Try values between 0 and 10 and look at both numbers the cell prints.")
    value = _scalar(delta)
    if value is None or not math.isfinite(value):
        return wrong(f"delta must be a finite number; got {type(delta).__name__} {delta!r}.")
    shifted = logits.clone()
    shifted[:, cls] += value
    pred, base = shifted.argmax(1), logits.argmax(1)
    mine, rest = labels == cls, labels != cls
    recall = (pred[mine] == cls).float().mean().item()
    lost = ((base[rest] == labels[rest]).float().mean() - (pred[rest] == labels[rest]).float().mean()).item()
    if recall < 0.7:
        return wrong(f"With delta = {value:g} only {recall:.0%} of the {split} {cls}s are recognised.",
                     "The left-out class still loses: raise delta.")
    if lost > 0.05:
        return wrong(f"{recall:.0%} of the {split} {cls}s are recognised, but the other digits lost {lost:.1%} of "
                     f"accuracy: now too much is called {cls}.", "Lower delta.")
    return correct(f"With delta = {value:g} on the {split} split: {recall:.0%} of the {cls}s recognised, "
                   f"{max(lost, 0):.1%} lost on the others.")
