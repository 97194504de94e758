"""Checks for Hinton et al.'s (2015) KD loss, T² · KL(softmax(t/T) ‖ softmax(s/T)) averaged
over the batch, and the full objective alpha · KD + (1 − alpha) · cross-entropy. The
learner's value is compared with the reference on random inputs, and the common mistakes
are named by matching it against known wrong variants (a base quantity times a scale).
A loss is judged by its gradient too: backward() on the learner's result must give the
reference's gradient with respect to the student's logits, since that gradient is all
that training uses."""
import math

import torch
import torch.nn.functional as F

from ..losses import kd_loss
from ._judge import (calls_the_reference, changed_inputs, gradient_problem, not_a_number, random_logits, real_number,
                     reference_grad, relatively_close)
from .feedback import call, correct, wrong


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
                if relatively_close(value, v * factor):
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
    if calls_the_reference(fn, (kd_loss,), r"\b(losses|wb)\.kd_loss\b"):
        return wrong("Your function calls the workbench's own kd_loss: the exercise is to write the term yourself.",
                     "Use torch.nn.functional (F) on the logits.")
    soft_ce = False
    for seed, temperature in ((0, 4.0), (1, 2.0)):
        s, t, _ = random_logits(seed)
        student, teacher = s.clone().requires_grad_(True), t.clone()
        got, fb = call(fn, student, teacher, temperature)
        if fb is not None:
            return fb
        fb = changed_inputs([("student's logits", student, s), ("teacher's logits", teacher, t)])
        if fb is not None:
            return fb
        if isinstance(got, torch.Tensor) and got.shape == s.shape[:1]:
            return wrong("Your loss is one number per example: the batch is not averaged.",
                         "Training needs one number: average the per-example terms over the batch.")
        fb = not_a_number(got, "the loss", "Sum over the classes, then average over the batch.")
        if fb is not None:
            return fb
        value = real_number(got)
        ref = kd_loss(s, t, temperature).item()
        offset = temperature ** 2 * _entropy(t, temperature)
        if relatively_close(value, ref) or relatively_close(value, ref + offset):
            soft_ce = soft_ce or not relatively_close(value, ref)
            want = reference_grad(lambda x: kd_loss(x, t, temperature), s)
            fb = gradient_problem(got, student, want, "loss")
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
    s, t, y = random_logits(2)
    soft_ce = False
    for temperature, alpha in ((4.0, 0.9), (2.0, 0.3)):
        student, teacher, labels = s.clone().requires_grad_(True), t.clone(), y.clone()
        got, fb = call(fn, student, teacher, labels, temperature, alpha)
        if fb is not None:
            return fb
        fb = changed_inputs([("student's logits", student, s), ("teacher's logits", teacher, t),
                              ("labels", labels, y)])
        if fb is not None:
            return fb
        fb = not_a_number(got, "the objective", "Both terms are averaged over the batch, then added.")
        if fb is not None:
            return fb
        value = real_number(got)
        kd_parts, ce_parts = _objective_parts(s, t, y, temperature)
        found = None
        for weights, mistake in OBJECTIVE_WEIGHTS.values():
            w_kd, w_ce = weights(alpha)
            for kd_name, (kd, kd_mistake) in kd_parts.items():
                for ce, ce_mistake in ce_parts.values():
                    if found is None and relatively_close(value, w_kd * kd + w_ce * ce):
                        found = (kd_name, [m for m in (mistake, kd_mistake, ce_mistake) if m])
        if found is not None and not found[1]:
            soft_ce = soft_ce or found[0] == "soft cross-entropy"
            want = reference_grad(lambda x: alpha * kd_loss(x, t, temperature)
                                   + (1 - alpha) * F.cross_entropy(x, y), s)
            fb = gradient_problem(got, student, want, "objective")
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
