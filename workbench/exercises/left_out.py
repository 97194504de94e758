"""Checks for Hinton et al.'s (2015) left-out class: a bias delta added to one class's
logit (the same softmax as any per-row constant added to the rest) recovers a class the
student never saw, chosen on validation without losing the other classes."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from ._judge import close_tensors, random_logits, real_number
from .feedback import call, correct, is_unanswered, unanswered, wrong


def _row_constant(a, b):
    """a − b is the same within every row (so softmax(a) = softmax(b)), and not all zero."""
    d = (a - b).float()
    return bool(torch.allclose(d, d[:, :1].expand_as(d), atol=1e-5) and d.abs().max() > 1e-5)


def _bias_mistake(got, z, cls, delta):
    """Feedback naming what the learner's bias correction did wrong, or None when right."""
    want = z.clone()
    want[:, cls] += delta
    if close_tensors(got, want):
        return None
    if got is None:
        return wrong("Your function returned None instead of the new logits.", "Did you forget `return`?")
    if isinstance(got, np.ndarray):
        return wrong("Your function returned a NumPy array.", "Return a torch tensor, like the logits it gets.")
    if not isinstance(got, torch.Tensor) or got.shape != z.shape:
        shape = tuple(getattr(got, "shape", ()))
        return wrong(f"Expected new logits of shape {tuple(z.shape)} (examples × classes); got "
                     f"{type(got).__name__} {shape}.", "Return all the logits, with one class changed.")
    if close_tensors(got, z):
        return wrong("Your logits come back unchanged.", "Column cls should be raised by delta.")
    changed = ~torch.isclose(got.float(), z.float(), rtol=1e-4, atol=1e-5)
    rows, cols = changed.any(1).nonzero().flatten().tolist(), changed.any(0).nonzero().flatten().tolist()
    if len(rows) == 1 and torch.allclose(got[rows[0]] - z[rows[0]], torch.full_like(z[0], delta)):
        return wrong("You shifted a row (one example) instead of a column (one class).",
                     "Logits are examples × classes.")
    if close_tensors(got, z + delta) or _row_constant(got, z):
        return wrong("Every class got the same shift, which changes no prediction.", "Only the left-out class.")
    if close_tensors(got, F.softmax(want, -1)):
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
    z, _, _ = random_logits(3)
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
        shifted_others = shifted_others or not close_tensors(got, want)
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
    value = real_number(delta)
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
