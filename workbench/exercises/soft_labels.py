"""Check for soft labels (Hinton et al. 2015): softmax(z / T) over the classes, each
common mistake (no T, T², log-probabilities, the wrong dimension, ...) recognised by
comparing with a known wrong variant."""
import numpy as np
import torch
import torch.nn.functional as F

from .. import losses
from ._judge import calls_the_reference, changed_inputs, close_tensors, random_logits
from .feedback import call, correct, wrong


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
    if calls_the_reference(fn, (losses.soft_targets, _analysis_soft_labels()),
                            r"\b(soft_targets|analysis\.soft_labels|wb\.soft_labels)\b"):
        return wrong("Your function calls the workbench's own soft labels: the exercise is to write them yourself.",
                     "Use torch operations on the logits.")
    z, _, _ = random_logits()
    for t in (0.5, 4.0):
        given = z.clone()
        got, fb = call(fn, given, t)
        if fb is not None:
            return fb
        fb = changed_inputs([("logits", given, z)])
        if fb is not None:
            return fb
        if got is None:
            return wrong("Your function returned None instead of the soft labels.", "Did you forget `return`?")
        if isinstance(got, np.ndarray):
            return wrong("Your function returned a NumPy array.", "Return a torch tensor, like the logits it gets.")
        if close_tensors(got, F.softmax(z / t, -1)):
            continue
        if not isinstance(got, torch.Tensor) or got.shape != z.shape:
            return wrong(f"Expected a tensor of shape {tuple(z.shape)}, one distribution per example; "
                         f"got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}.")
        for variant, message, hint in SOFT_LABEL_MISTAKES.values():
            if close_tensors(got, variant(z, t)):
                return wrong(message, hint)
        return wrong(f"At T = {t} your soft labels differ from softmax(logits / T).",
                     "Check that each row is positive and sums to 1.")
    return correct("Right: softmax(z / T) for every example; a larger T spreads the mass.")
