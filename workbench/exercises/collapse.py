"""Checks for model collapse (exercise 07) of a Gaussian refitted to its own samples: the
maximum-likelihood refit (mean, variance divided by n), the expected variance after k
refits ((n − 1)/n)^k, and the median variance with the unbiased estimator,
exp(k · E[log(χ²ₙ₋₁/(n − 1))]) with E[log χ²_ν] = ψ(ν/2) + log 2."""
import math

import numpy as np
import torch

from ..collapse.gaussian import expected_variance, log_drift, typical_variance
from ._judge import real_number, within
from .feedback import call, correct, is_unanswered, unanswered, wrong


def _pair(got):
    """(mean, variance) as floats from a tuple, list, array or tensor of two numbers; None otherwise."""
    if isinstance(got, torch.Tensor):
        got = got.detach().reshape(-1).tolist() if got.numel() == 2 else None
    elif isinstance(got, np.ndarray):
        got = got.reshape(-1).tolist() if got.size == 2 else None
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return None
    values = [real_number(v) for v in got]
    return None if None in values else values


def check_refit(fn):
    """fn(samples) should return the maximum-likelihood (mean, variance) of a Gaussian:
    the sample mean and the mean squared deviation (dividing by n). Judged on two samples
    of different sizes, so numbers fitted to one sample do not pass."""
    g = torch.Generator().manual_seed(0)
    samples = [2.0 + 3.0 * torch.randn(20, generator=g, dtype=torch.float64),
               -1.0 + 0.5 * torch.randn(7, generator=g, dtype=torch.float64)]
    answers = []
    for x in samples:
        got, fb = call(fn, x.clone())
        if fb is not None:
            return fb
        pair = _pair(got)
        if pair is None:
            return wrong("Return two numbers: (mean, variance).")
        mean, var = pair
        answers.append(pair)
        m, v = x.mean().item(), x.var(correction=0).item()
        ok = lambda a, b: abs(a - b) <= 1e-6 * max(1.0, abs(b))
        if ok(mean, m) and ok(var, v):
            continue
        if len(answers) == 2 and answers[0] == answers[1]:
            return wrong("Your function returns the same numbers for a different sample.",
                         "Compute the mean and variance from the samples it is given.")
        if ok(mean, v) and ok(var, m):
            return wrong("The two numbers are swapped.", "Return (mean, variance), in that order.")
        if not ok(mean, m):
            if ok(mean, x.median().item()):
                return wrong("That is the median.", "The maximum-likelihood mean is the sample mean.")
            return wrong("The mean is off.", "The maximum-likelihood mean is the sample mean.")
        named = {
            x.var(correction=1).item(): ("That is the unbiased variance (divided by n − 1), not the maximum-likelihood "
                                         "one.", "Maximum likelihood divides the sum of squared deviations by n."),
            math.sqrt(v): ("That is the standard deviation.", "Return the variance, its square."),
            x.std(correction=1).item(): ("That is the standard deviation (with n − 1).", "Return the variance."),
            (x ** 2).mean().item(): ("These are squared deviations from 0, not from the mean.",
                                     "Subtract the mean before squaring."),
            v * len(x): ("That is the sum of the squared deviations.", "Average them: divide by n."),
        }
        for value, message in named.items():
            if ok(var, value):
                return wrong(*message)
        return wrong("The variance is off.", "Average the squared deviations from the mean.")
    return correct("Right: the maximum-likelihood variance divides by n, so on average it is (n − 1)/n of the true "
                   "variance. That bias is one part of the collapse; the other part remains even without it: "
                   "see part 3.")


def check_expected_variance(answer, n=50, k=80, decimals=3):
    """The expected maximum-likelihood variance after k refits of n samples, from 1:
    ((n − 1)/n)^k, to `decimals` decimal places (tolerance: one unit in the last place)."""
    if is_unanswered(answer):
        return unanswered("Each refit multiplies the expected variance by the same factor.")
    value = real_number(answer)
    if value is None:
        return wrong(f"The answer must be a real number, got {type(answer).__name__}.")
    tol = 10.0 ** -decimals
    want = expected_variance(k, n, "ml")
    if within(value, want, tol):
        return correct(f"Right: ((n − 1)/n)^k = {want:.3f}: on average each maximum-likelihood refit keeps "
                       f"(n − 1)/n of the variance.")
    named = [
        (1.0, ("That would be the unbiased estimator's expectation.", "Maximum likelihood divides by n.")),
        ((1 - 1 / n) * k, ("The factor compounds: it multiplies, generation after generation.",
                           "What is the factor after one generation, and after two?")),
        (1 - k / n, ("The factor compounds: it multiplies, generation after generation.",
                     "What is the factor after one generation, and after two?")),
        ((n / (n - 1)) ** k, ("Your factor is upside down: the maximum-likelihood variance is too small, not too "
                              "large.", "E[σ̂²] = (n − 1)/n · σ².")),
        (((n - 1) / n) ** (k + 1), ("Off by one refit.", f"Start from variance 1 and apply {k} refits.")),
        (((n - 1) / n) ** (k - 1), ("Off by one refit.", f"Start from variance 1 and apply {k} refits.")),
        (math.exp(-k / n), (f"e^(−k/n) = {math.exp(-k / n):.3f} approximates the answer, but not to {decimals} "
                            "decimals.", "Compute the power itself.")),
        (typical_variance(k, n, "ml"),
         ("That is about the median chain's variance; the question asks for the expectation (the mean).",
          "The expectation multiplies by E[σ̂²]/σ² at every refit."))]
    for target, message in named:
        if within(value, target, tol / 2):  # half a unit: the named values lie 0.0008 or more apart
            return wrong(*message)
    return wrong(f"{value:g} is not the expected variance after {k} generations of {n} samples (to {decimals} "
                 "decimals).", "E[σ̂²] = (n − 1)/n · σ² for one refit.")


def check_median_variance(answer, n=50, k=80, tolerance=0.003):
    """The median variance after k refits of n samples with the UNBIASED estimator (1/(n − 1)),
    from 1: exp(k · E[log(χ²ₙ₋₁/(n − 1))]), E[log χ²_ν] = ψ(ν/2) + log 2. Accepted within
    ±tolerance (the question states it; 0.003 covers the exact median of the product,
    about 0.195 at n = 50, k = 80, and the first-order step −1/(n − 1))."""
    if is_unanswered(answer):
        return unanswered("log σ² adds one step per refit: what is the mean step?")
    value = real_number(answer)
    if value is None:
        return wrong(f"The answer must be a real number, got {type(answer).__name__}.")
    if not math.isfinite(value):
        return wrong("Your answer is infinite or NaN.")
    want = typical_variance(k, n, "unbiased")
    step = log_drift(n)
    if within(value, want, tolerance):
        return correct(f"Right: the median is about exp(k · E[log χ²ₙ₋₁/(n − 1)]) = exp({k} × {step:.4f}) = "
                       f"{want:.3f}, while the mean stays at 1. Half the chains end below it: the collapse of a "
                       "typical chain needs no bias, only a random walk of log σ² with a downward drift.")
    close = 5e-4  # the named mistakes sit 0.005 or more from the right answer
    named = [
        (1.0, ("That is the mean: with the unbiased estimator E[σ²] stays 1 at every generation. The median "
               "is another story.", "Follow log σ²: its step log(χ²ₙ₋₁/(n − 1)) has a negative mean.")),
        (expected_variance(k, n, "ml"), ("That is ((n − 1)/n)^k, the maximum-likelihood estimator's expected variance. Here the "
                              "estimator is unbiased and the question asks for the median; the two numbers are close "
                              "(both near e^(−k/n)) but come from different mechanisms.",
                              "Compute exp(k · E[log(χ²ₙ₋₁/(n − 1))]).")),
        (typical_variance(k, n, "ml"),
         ("That is the maximum-likelihood chain's median; with the unbiased estimator there is no (n − 1)/n factor.",
          "Only the random walk's drift is left.")),
        (k * step, ("That is the median of log σ², not of σ².", "Exponentiate.")),
        (math.exp(step), ("That is one refit's step; the question asks after k refits.",
                          "The steps of log σ² add up over k refits.")),
    ]
    for target, message in named:
        if within(value, target, close):
            return wrong(*message)
    if value < 0:
        return wrong("A variance cannot be negative.", "Think in log σ², then exponentiate.")
    with_n = [math.exp(k * (torch.special.digamma(torch.tensor(n / 2, dtype=torch.float64)).item() + math.log(2 / n))),
              math.exp(-k / n)]  # n degrees of freedom instead of n − 1, exactly or to first order: 0.200 and 0.202
    if min(with_n) - 2 * close <= value <= max(with_n) + 2 * close:
        return wrong(f"{value:g} is outside ±{tolerance} of the theory's median. It is what n degrees of freedom "
                     "give (or e^(−k/n)), or a round guess.",
                     "The variance is estimated around the sample mean, so ν = n − 1 in ψ(ν/2) + log 2 − log ν.")
    if value > 1:
        return wrong("The median chain narrows: more than half the chains end below variance 1.",
                     "E[log(χ²ₙ₋₁/(n − 1))] < 0 (Jensen's inequality).")
    return wrong(f"{value:g} is not within ±{tolerance} of the theory's median.",
                 "median ≈ exp(k · E[log(χ²_ν/ν)]), E[log χ²_ν] = ψ(ν/2) + log 2, ν = n − 1.")
