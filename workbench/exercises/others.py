"""Checks for feature and relation distillation, token-level KL in LLMs, and model
collapse: the learner's function against the reference on fixed inputs, with the common
mistakes recognised by name."""
import math

import torch
import torch.nn.functional as F

from .feedback import call, correct, is_unanswered, unanswered, wrong
from .responses import _close, _scalar


def _distances(e):
    return torch.cdist(e, e)


def check_rkd_distances(fn):
    """fn(embeddings) should give RKD's distance matrix (Park et al. 2019): pairwise
    Euclidean distances divided by their mean over the off-diagonal pairs."""
    g = torch.Generator().manual_seed(0)
    e = torch.randn(6, 4, generator=g)
    got, fb = call(fn, e.clone())
    if fb is not None:
        return fb
    d = _distances(e)
    n = len(e)
    off = ~torch.eye(n, dtype=torch.bool)
    want = d / d[off].mean()
    if _close(got, want):
        got2, _ = call(fn, 10 * e)
        if _close(got2, want):
            return correct("Right, and scale-free: the same matrix for embeddings ten times larger.")
    if not isinstance(got, torch.Tensor) or got.shape != (n, n):
        return wrong(f"Expected an {n} × {n} matrix, one entry per pair of examples.")
    if _close(got, d):
        return wrong("These are the raw distances: they change when the features are scaled.",
                     "RKD normalises them so that only the shape of the batch matters.")
    if _close(got, d / d.mean()):
        return wrong("You divide by the mean over all n² entries, the zero diagonal included.",
                     "Average over the pairs of different examples only.")
    if _close(got, d ** 2 / (d ** 2)[off].mean()):
        return wrong("These are squared distances.", "Euclidean distance, not its square.")
    return wrong("Not RKD's normalised distance matrix.", "Distances between rows, then one normalising constant.")


def _kl(p, q):
    return (p * (p.log() - q.log())).sum().item()


def check_forward_reverse(forward, reverse):
    """forward and reverse: numbers for KL(p ‖ q) and KL(q ‖ p) of the notebook's
    truth p = (0.6, 0.4, 0) smoothed and student q."""
    p = torch.tensor([0.6, 0.38, 0.02])
    q = torch.tensor([0.9, 0.05, 0.05])
    if is_unanswered(forward) or is_unanswered(reverse):
        return unanswered("Σ p · log(p / q) over the three answers.")
    f, r = _scalar(forward), _scalar(reverse)
    if f is None or r is None:
        return wrong("Both answers must be numbers.")
    want_f, want_r = _kl(p, q), _kl(q, p)
    if abs(f - want_f) < 1e-3 and abs(r - want_r) < 1e-3:
        return correct(f"Right: forward {want_f:.3f}, reverse {want_r:.3f} nats. Forward KL punishes the student "
                       "for missing the truth's second answer; reverse KL punishes mass where the truth has little.")
    if abs(f - want_r) < 1e-3 and abs(r - want_f) < 1e-3:
        return wrong("Your two numbers are swapped.", "Forward KL takes the expectation under the truth p.")
    if abs(f - want_f / math.log(2)) < 1e-3 or abs(r - want_r / math.log(2)) < 1e-3:
        return wrong("These are bits (log base 2); the workbench measures in nats.", "Use the natural log.")
    wrong_one = "forward" if abs(f - want_f) >= 1e-3 else "reverse"
    return wrong(f"Your {wrong_one} KL is off.", "KL(a ‖ b) = Σ a · (log a − log b), the sum over all three answers.")


def check_refit(fn):
    """fn(samples) should return the maximum-likelihood (mean, variance) of a Gaussian."""
    g = torch.Generator().manual_seed(0)
    x = 2.0 + 3.0 * torch.randn(20, generator=g, dtype=torch.float64)
    got, fb = call(fn, x.clone())
    if fb is not None:
        return fb
    try:
        mean, var = (float(v) for v in got)
    except (TypeError, ValueError):
        return wrong("Return two numbers: (mean, variance).")
    m, v = x.mean().item(), x.var(correction=0).item()
    if abs(mean - m) > 1e-6:
        return wrong("The mean is off.", "The maximum-likelihood mean is the sample mean.")
    if abs(var - v) < 1e-6:
        return correct("Right: the maximum-likelihood variance divides by n, so it is a little too small on "
                       "average, and that is what shrinks generation after generation.")
    if abs(var - x.var(correction=1).item()) < 1e-6:
        return wrong("That is the unbiased variance (divided by n − 1), not the maximum-likelihood one.",
                     "Maximum likelihood divides the sum of squared deviations by n.")
    if abs(var - math.sqrt(v)) < 1e-6:
        return wrong("That is the standard deviation.", "Return the variance, its square.")
    return wrong("The variance is off.", "Average the squared deviations from the mean.")


def check_expected_variance(answer, n=50, k=80):
    """The expected maximum-likelihood variance after k refits of n samples, from 1: ((n − 1)/n)^k."""
    if is_unanswered(answer):
        return unanswered("Each refit multiplies the expected variance by the same factor.")
    value = _scalar(answer)
    if value is None:
        return wrong("The answer must be a number.")
    want = ((n - 1) / n) ** k
    if abs(value - want) < 0.005:
        return correct(f"Right: ((n − 1)/n)^k = {want:.3f}.")
    if abs(value - (1 - 1 / n) * k) < 0.01 or abs(value - (1 - k / n)) < 0.01:
        return wrong("The factor compounds: it multiplies, generation after generation.",
                     "What is the factor after one generation, and after two?")
    if abs(value - 1.0) < 0.005:
        return wrong("That would be the unbiased estimator's expectation.", "Maximum likelihood divides by n.")
    return wrong(f"{value:g} is not the expected variance after {k} generations of {n} samples.",
                 "E[σ̂²] = (n − 1)/n · σ² for one refit.")


def check_best(answer, results):
    """answer: the setting with the highest value in results ({setting: accuracy})."""
    if is_unanswered(answer):
        return unanswered("Read the accuracies the sweep printed.")
    if answer not in results:
        return wrong(f"{answer!r} is not one of the settings you tried: {list(results)}.")
    best = max(results.values())
    if results[answer] == best:
        return correct(f"Right: {answer} gave {best:.3f} in your sweep.")
    return wrong(f"{answer} gave {results[answer]:.3f}; another setting did better in your sweep.",
                 "Compare all the printed accuracies, not only the first ones.")
