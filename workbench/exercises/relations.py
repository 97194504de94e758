"""Check for relation distillation (exercise 05): RKD's distance matrix (Park et al. 2019),
pairwise Euclidean distances divided by their mean over the off-diagonal pairs, judged
by value and by the gradient that reaches the embeddings."""
import torch
import torch.nn.functional as F

from ._judge import close_tensors
from .feedback import call, correct, wrong


def _rkd_reference(e):
    d = torch.cdist(e, e)
    off = ~torch.eye(len(e), dtype=torch.bool)
    return d / d[off].mean()


def _rkd_mistakes(e):
    """Wrong distance matrices people write, by the message that names the mistake."""
    n = len(e)
    d = torch.cdist(e, e)
    off = ~torch.eye(n, dtype=torch.bool)
    unit = F.normalize(e, dim=1)
    return [
        (d, ("These are the raw distances: they change when the features are scaled.",
             "RKD normalises them so that only the shape of the batch matters.")),
        (d / d.mean(), ("You divide by the mean over all n² entries, the zero diagonal included.",
                        "Average over the pairs of different examples only.")),
        (d ** 2 / (d ** 2)[off].mean(), ("These are squared distances.", "Euclidean distance, not its square.")),
        (d / d.max(), ("You divide by the largest distance, not the mean one.",
                       "RKD divides by the mean distance over the pairs of different examples.")),
        (d / d[off].sum(), ("You divide by the sum of the distances, not their mean.",
                            "Divide the sum by the number of pairs.")),
        (d / d.mean(1, keepdim=True), ("Each row is divided by its own mean: one constant for the whole batch.",
                                       "One number normalises the whole matrix.")),
        (d / (d.sum(1, keepdim=True) / (n - 1)), ("Each row is divided by its own mean: RKD uses one constant "
                                                  "for the whole batch.", "One number normalises the whole matrix.")),
        (unit @ unit.T, ("These are cosine similarities, not distances.", "RKD's distance term uses Euclidean "
                         "distances; angles are its other term.")),
    ]


def check_rkd_distances(fn):
    """fn(embeddings) should give RKD's distance matrix (Park et al. 2019): pairwise
    Euclidean distances divided by their mean over the off-diagonal pairs; its gradient
    must reach the embeddings (it is a loss term) and be finite."""
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randn(6, 4, generator=g), torch.randn(5, 3, generator=g)]
    for e in inputs:
        n = len(e)
        x = e.clone().requires_grad_(True)
        got, fb = call(fn, x)
        if fb is not None:
            return fb
        want = _rkd_reference(e)
        if not isinstance(got, torch.Tensor):
            return wrong(f"Expected a tensor (an n × n matrix), got {type(got).__name__}.",
                         "Compute it with torch operations, so that gradients can flow through it.")
        if got.shape == (e.shape[1], e.shape[1]) and got.shape != (n, n):
            return wrong("Your matrix compares the features (columns), not the examples (rows).",
                         "Distances between rows: one entry per pair of examples.")
        if got.numel() in (n * (n - 1), n * (n - 1) // 2) and got.shape != (n, n):
            return wrong("You returned only the off-diagonal entries.",
                         f"Return the full {n} × {n} matrix, zeros on the diagonal.")
        if got.shape != (n, n):
            return wrong(f"Expected an n × n matrix (here {n} × {n}), one entry per pair of examples; got shape "
                         f"{tuple(got.shape)}.")
        value = got.detach()
        if not close_tensors(value, want):
            for wrong_matrix, message in _rkd_mistakes(e):
                if close_tensors(value, wrong_matrix):
                    return wrong(*message)
            return wrong("Not RKD's normalised distance matrix.",
                         "Distances between rows, then one normalising constant.")
        if not got.requires_grad:
            return wrong("The values are right, but no gradient reaches the embeddings: this matrix feeds a loss.",
                         "Stay in torch: no .detach(), .item(), .numpy() or torch.tensor(...) of the result.")
        w = torch.randn(n, n, generator=g)
        grad, = torch.autograd.grad((got * w).sum(), x, allow_unused=True)
        ref = e.clone().requires_grad_(True)
        want_grad, = torch.autograd.grad((_rkd_reference(ref) * w).sum(), ref)
        if grad is None:
            return wrong("The values are right, but no gradient reaches the embeddings.",
                         "Compute the matrix from the embeddings you were given, with torch operations.")
        if not torch.isfinite(grad).all():
            return wrong("The values are right, but the gradient is NaN: the square root of a zero distance (the "
                         "diagonal) has an infinite slope.",
                         "torch.cdist handles it, or clamp the squared distance above a tiny epsilon before the root.")
        if not torch.allclose(grad, want_grad, rtol=1e-3, atol=1e-5):
            return wrong("The values are right, but the gradient is not: is the normalising mean detached?",
                         "The mean distance depends on the embeddings too; let the gradient flow through it.")
    return correct("Right, and scale-free: the same matrix for any scaling of the embeddings, with the gradient "
                   "flowing through both the distances and their mean.")
