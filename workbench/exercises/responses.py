"""Checks for response-based KD: soft labels, the KD loss, the full objective, and the
bias correction of Hinton et al.'s left-out class. Each compares the learner's function
with the reference on random inputs, and recognises the common mistakes by comparing
with known wrong variants, so the feedback can name the mistake."""
import torch
import torch.nn.functional as F

from ..losses import kd_loss
from .feedback import call, correct, is_unanswered, unanswered, wrong


def _inputs(seed=0, batch=8, classes=5):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(batch, classes, generator=g), 3 * torch.randn(batch, classes, generator=g), \
        torch.randint(classes, (batch,), generator=g)


def _close(a, b):
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a.float(), b.float(), rtol=1e-4,
                                                                                 atol=1e-5)


def _scalar(value):
    """A Python float from a 0-dim tensor or a number; None otherwise."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.float().item()
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def check_soft_labels(fn):
    """fn(logits, T) should return softmax(logits / T) over the classes (the last dim)."""
    z, _, _ = _inputs()
    for t in (0.5, 4.0):
        got, fb = call(fn, z.clone(), t)
        if fb is not None:
            return fb
        if _close(got, F.softmax(z / t, -1)):
            continue
        if not isinstance(got, torch.Tensor) or got.shape != z.shape:
            return wrong(f"Expected a tensor of shape {tuple(z.shape)}, one distribution per example; "
                         f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}.")
        if _close(got, F.softmax(z, -1)):
            return wrong("Your soft labels do not change with T.", "Where does the temperature enter softmax?")
        if _close(got, F.softmax(z * t, -1)):
            return wrong("Raising T makes your soft labels sharper; it should make them softer.",
                         "Divide, do not multiply.")
        if _close(got, F.log_softmax(z / t, -1)):
            return wrong("These are log-probabilities.", "Soft labels are probabilities: each row sums to 1.")
        if _close(got, F.softmax(z / t, 0)):
            return wrong("Each column sums to 1, not each row.", "Normalise over the classes, the last dimension.")
        return wrong(f"At T = {t} your soft labels differ from softmax(logits / T).",
                     "Check that each row is positive and sums to 1.")
    return correct("Right: softmax(z / T) for every example; a larger T spreads the mass.")


def _variants(s, t, temperature):
    """The reference and the wrong versions people write, by the mistake's name."""
    T2 = temperature ** 2
    log_ps, log_pt = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    kl = lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=True)
    return {
        "missing T²": kl(log_ps, log_pt),
        "swapped": kl(log_pt, log_ps) * T2,
        "mean": kl(log_ps, log_pt) * T2 / s.shape[-1],  # reduction="mean": over every element
        "sum": kl(log_ps, log_pt) * T2 * s.shape[0],
        "teacher not softened": kl(log_ps, F.log_softmax(t, -1)) * T2,
        "student not softened": kl(F.log_softmax(s, -1), log_pt) * T2,
        "probabilities as input": F.kl_div(log_ps.exp(), log_pt.exp(), reduction="batchmean") * T2,
        "swapped, missing T²": kl(log_pt, log_ps),
        "mean, missing T²": kl(log_ps, log_pt) / s.shape[-1],
    }


MISTAKES = {
    "missing T²": ("Your loss is the reference divided by T².",
                   "The soft-target gradients shrink as 1/T² when T grows; Hinton et al. scale the term back up so "
                   "that alpha means the same at every temperature."),
    "swapped": ("You computed KL(student ‖ teacher): the KL's arguments are swapped.",
                "F.kl_div(input, target) computes KL(target ‖ input): which distribution is the target here?"),
    "mean": ("Your loss is the reference divided by the number of classes: reduction='mean' averages over every "
             "element, not over the batch.",
             "KL is a sum over the classes, then an average over the examples: PyTorch calls that 'batchmean'."),
    "sum": ("Your loss is the reference times the batch size: it sums over the examples.",
            "Average over the examples, so the loss does not grow with the batch."),
    "teacher not softened": ("The teacher's distribution is taken at T = 1.", "Both sides use the same T."),
    "student not softened": ("The student's distribution is taken at T = 1.", "Both sides use the same T."),
    "probabilities as input": ("F.kl_div got probabilities where it expects log-probabilities.",
                               "Its first argument must be log-probabilities."),
    "swapped, missing T²": ("Two things: the KL's arguments are swapped and the T² factor is missing.",
                            "Which distribution is the target? And how do the gradients scale with T?"),
    "mean, missing T²": ("Two things: reduction='mean' averages over the classes too, and the T² factor is "
                         "missing.", "Average over examples only, and scale by T²."),
}


def check_kd_loss(fn):
    """fn(student_logits, teacher_logits, T) should be Hinton et al.'s soft-target term:
    T² · KL(softmax(t/T) ‖ softmax(s/T)), averaged over the batch."""
    for seed, temperature in ((0, 4.0), (1, 2.0)):
        s, t, _ = _inputs(seed)
        s.requires_grad_(True)
        got, fb = call(fn, s, t.clone(), temperature)
        if fb is not None:
            return fb
        value = _scalar(got)
        if value is None:
            return wrong(f"Expected one number (a 0-dim tensor), got {type(got).__name__} "
                         f"{tuple(getattr(got, 'shape', ()))}.", "Reduce over the classes and the batch.")
        ref = kd_loss(s.detach(), t, temperature).item()
        if abs(value - ref) <= 1e-4 * max(1.0, abs(ref)):
            if not (isinstance(got, torch.Tensor) and got.requires_grad):
                return wrong("The value is right, but no gradient flows back to the student's logits.",
                             "Compute it with torch operations on the logits, without .item(), .detach() or numpy.")
            continue
        for name, v in _variants(s.detach(), t, temperature).items():
            if abs(value - v.item()) <= 1e-4 * max(1.0, abs(v.item())):
                return wrong(*MISTAKES[name])
        return wrong(f"At T = {temperature} your loss is {value:.4f}; that is not the KD term.",
                     "Compare softmax(t/T) with softmax(s/T) by KL divergence, then scale.")
    return correct("Right: T² · KL(p_teacher ‖ p_student) at temperature T, averaged over the batch.")


def check_kd_objective(fn):
    """fn(student_logits, teacher_logits, labels, T, alpha) should be
    alpha · KD term + (1 − alpha) · cross-entropy with the labels."""
    s, t, y = _inputs(2)
    for temperature, alpha in ((4.0, 0.9), (2.0, 0.3)):
        got, fb = call(fn, s.clone(), t.clone(), y.clone(), temperature, alpha)
        if fb is not None:
            return fb
        value = _scalar(got)
        if value is None:
            return wrong(f"Expected one number, got {type(got).__name__}.")
        kd, ce = kd_loss(s, t, temperature).item(), F.cross_entropy(s, y).item()
        if abs(value - (alpha * kd + (1 - alpha) * ce)) < 1e-4:
            continue
        if abs(value - ((1 - alpha) * kd + alpha * ce)) < 1e-4:
            return wrong("alpha weighs the cross-entropy in your objective; here it weighs the KD term.",
                         "alpha = 1 should mean: learn from the teacher only.")
        if abs(value - (alpha * kd / temperature ** 2 + (1 - alpha) * ce)) < 1e-4:
            return wrong("The KD term is missing its T² factor.", "Without it, raising T silently lowers its weight.")
        if abs(value - (alpha * kd + (1 - alpha) * F.cross_entropy(s / temperature, y).item())) < 1e-4:
            return wrong("The cross-entropy is taken at temperature T.", "The hard labels are matched at T = 1.")
        return wrong(f"With T = {temperature}, alpha = {alpha} your objective is {value:.4f}; that is not "
                     "alpha · KD + (1 − alpha) · CE.")
    return correct("Right: alpha · T² · KL at T, plus (1 − alpha) · cross-entropy at T = 1.")


def check_bias_correction(fn):
    """fn(logits, cls, delta) should add delta to column cls of the logits and leave the
    rest unchanged (a new tensor; the input untouched)."""
    z, _, _ = _inputs(3)
    before = z.clone()
    got, fb = call(fn, z, 2, 1.5)
    if fb is not None:
        return fb
    if not torch.equal(z, before):
        return wrong("Your function changed its input logits in place.", "Work on a copy (clone) of the logits.")
    want = before.clone()
    want[:, 2] += 1.5
    if _close(got, want):
        return correct("Right: one class's logit raised by delta for every example, like raising that class's "
                       "bias in the last layer.")
    if isinstance(got, torch.Tensor) and got.shape == z.shape and _close(got[2], want[2]) and not _close(got, want):
        return wrong("You shifted a row (one example) instead of a column (one class).",
                     "Logits are examples × classes.")
    if isinstance(got, torch.Tensor) and _close(got, before + 1.5):
        return wrong("Every class got the extra delta, which changes no prediction.", "Only the left-out class.")
    return wrong("Column cls should be raised by delta and every other entry left as it was.")


def check_left_out_delta(delta, logits, labels, cls):
    """A bias delta for class cls that recovers it: at least 70% of its test examples
    right, and no more than 5 points of accuracy lost on the other classes."""
    if is_unanswered(delta):
        return unanswered("Try values between 0 and 10 and look at both numbers the cell prints.")
    delta = _scalar(delta)
    if delta is None:
        return wrong("delta must be a number.")
    shifted = logits.clone()
    shifted[:, cls] += delta
    pred, base = shifted.argmax(1), logits.argmax(1)
    mine, rest = labels == cls, labels != cls
    recall = (pred[mine] == cls).float().mean().item()
    lost = ((base[rest] == labels[rest]).float().mean() - (pred[rest] == labels[rest]).float().mean()).item()
    if recall < 0.7:
        return wrong(f"With delta = {delta:g} only {recall:.0%} of the test {cls}s are recognised.",
                     "The left-out class still loses: raise delta.")
    if lost > 0.05:
        return wrong(f"{recall:.0%} of the {cls}s are recognised, but the other digits lost {lost:.1%} of accuracy: "
                     f"now too much is called {cls}.", "Lower delta.")
    return correct(f"With delta = {delta:g}: {recall:.0%} of the {cls}s recognised, {max(lost, 0):.1%} lost on the "
                   "others.")
