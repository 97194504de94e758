"""Checks for choosing T and alpha, feature and relation distillation, token-level KL in
LLMs, and model collapse: the learner's function against the reference on more than one
input (value and gradient), or the learner's number against the exact one within the
precision the question states, with the common mistakes recognised by name.

A number may come as any real type: int, float, a NumPy scalar, a 0-d (or one-element)
NumPy array or tensor, a Fraction or a Decimal. Only what is not a real number is refused."""
import decimal
import math
import numbers
import statistics

import numpy as np
import torch
import torch.nn.functional as F

from .feedback import call, correct, is_unanswered, unanswered, wrong
from .responses import _close


def _number(value):
    """A Python float from any real number type (see the module docstring); None for
    anything else: bool, str, complex, a list, an array of several numbers."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, torch.Tensor):
        ok = value.numel() == 1 and not value.is_complex() and value.dtype != torch.bool
        return float(value.item()) if ok else None
    if isinstance(value, np.ndarray):
        ok = value.size == 1 and (np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating))
        return float(value.item()) if ok else None
    if isinstance(value, (numbers.Real, decimal.Decimal)):
        return float(value)
    return None


def _near(value, target, tol):
    return value is not None and math.isfinite(value) and abs(value - target) <= tol + 1e-12


# ---------------------------------------------------------------- exercise 03: T and alpha

def _mean_val(runs):
    return {setting: statistics.fmean(r["val_acc"] for r in rs) for setting, rs in runs.items()}


def _best(scores):
    """Every setting tied for the highest score (ties are common with a small validation split)."""
    top = max(scores.values())
    return [s for s, v in scores.items() if v >= top - 1e-9]


def _check_runs(runs):
    ok = isinstance(runs, dict) and runs and all(
        isinstance(rs, (list, tuple)) and rs and all(isinstance(r, dict) and _number(r.get("val_acc")) is not None
                                                     for r in rs) for rs in runs.values())
    if not ok:
        raise ValueError("runs must be a dict {setting: [one dict per seed with 'val_acc' (and 'test_acc')]}, got "
                         f"{runs!r:.200}")


def _setting(answer, settings):
    """The setting the answer names: the same object, or the same number in any numeric type."""
    for s in settings:
        try:
            if answer == s and not isinstance(answer, np.ndarray):
                return s
        except (TypeError, ValueError):
            pass
    value = _number(answer)
    for s in settings:
        if value is not None and _number(s) is not None and abs(value - _number(s)) < 1e-9:
            return s
    return None


def check_best(answer, runs, name="T"):
    """answer: the setting (a temperature, an alpha) to keep. runs: {setting: [one dict
    per seed, with "val_acc" and "test_acc"]}. Right is the setting with the highest
    validation accuracy averaged over the seeds (any of them when several tie); the test
    accuracies only name the mistake of choosing on the test set."""
    if is_unanswered(answer):
        return unanswered("Read the validation accuracies averaged over the seeds.")
    _check_runs(runs)
    settings = list(runs)
    seeds = min(len(rs) for rs in runs.values())
    chosen = _setting(answer, settings)
    value = _number(answer)
    if chosen is None:
        accuracies = [r.get(k) for rs in runs.values() for r in rs for k in ("val_acc", "test_acc")]
        if value is not None and any(_near(value, _number(a) or -1, 5e-4) for a in accuracies if a is not None):
            return wrong(f"{answer!r} is an accuracy, not a {name}.", f"Answer with the {name} that gave it.")
        return wrong(f"{answer!r} is not one of the values of {name} you tried: {settings}.")
    if seeds < 3:
        return wrong(f"Each {name} was run with {seeds} seed{'s' * (seeds != 1)}: one seed's validation accuracy "
                     "moves by several points from seed to seed, so the comparison is mostly noise.",
                     "Run at least 3 seeds per setting and compare their means.")
    val = _mean_val(runs)
    best = _best(val)
    fmt = ", ".join(f"{s}: {v:.3f}" for s, v in val.items())
    if chosen in best:
        tie = f" (tied with {[s for s in best if s != chosen]})" if len(best) > 1 else ""
        return correct(f"Right: {name} = {chosen} has the highest validation accuracy averaged over {seeds} seeds, "
                       f"{val[chosen]:.3f}{tie}. Means: {fmt}. The test set is still untouched, so its accuracy "
                       "for this choice will be an honest estimate.")
    if all("test_acc" in r for rs in runs.values() for r in rs):
        test = {s: statistics.fmean(r["test_acc"] for r in rs) for s, rs in runs.items()}
        one_seed_test = [_best({s: rs[i]["test_acc"] for s, rs in runs.items()}) for i in range(seeds)]
        if chosen in _best(test) or any(chosen in b for b in one_seed_test):
            return wrong(f"{name} = {chosen} is the best on the test set, not on validation "
                         f"({val[chosen]:.3f} there, against {max(val.values()):.3f}).",
                         "A setting chosen on the test set makes its test accuracy an optimistic estimate: "
                         "choose on validation, look at test once at the end.")
    if len(settings) > 2 and val[chosen] <= min(val.values()) + 1e-9:
        return wrong(f"{name} = {chosen} has the lowest mean validation accuracy ({val[chosen]:.3f}).",
                     "Keep the highest mean, not the lowest.")
    for i in range(seeds):
        if chosen in _best({s: rs[i]["val_acc"] for s, rs in runs.items()}):
            return wrong(f"{name} = {chosen} was the best for seed number {i + 1} alone; averaged over the "
                         f"{seeds} seeds it gives {val[chosen]:.3f}, against {max(val.values()):.3f}.",
                         "One seed's ranking is mostly noise: compare the means over the seeds.")
    return wrong(f"{name} = {chosen} gave {val[chosen]:.3f} on validation, averaged over the seeds; another {name} "
                 "did better.", "Compare all the mean validation accuracies, not only the first ones.")


# ---------------------------------------------------------------- exercise 05: RKD distances

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
        if not _close(value, want):
            for wrong_matrix, message in _rkd_mistakes(e):
                if _close(value, wrong_matrix):
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


# ---------------------------------------------------------------- exercise 06: forward and reverse KL

TRUTH = (0.60, 0.38, 0.02)    # the notebook's p
STUDENT = (0.90, 0.05, 0.05)  # the notebook's q


def _kl(a, b):
    return sum(x * math.log(x / y) for x, y in zip(a, b))


def _both(forward, reverse):
    """(f, r) as floats, or (None, Feedback) when an answer is missing or not a number."""
    if is_unanswered(forward) or is_unanswered(reverse):
        return None, unanswered("Σ p · log(p / q) over the three answers.")
    f, r = _number(forward), _number(reverse)
    if f is None or r is None:
        sizes = [getattr(v, "numel", getattr(v, "__len__", lambda: 0))() if not isinstance(v, (str, bytes)) else 0
                 for v in (forward, reverse) if _number(v) is None]
        if any(s == 3 for s in sizes):
            return None, wrong("You gave one number per answer: each divergence is their sum.",
                               "Add the three terms up (.sum()), then .item() if you like.")
        return None, wrong(f"Both answers must be real numbers; got {type(forward).__name__} and "
                           f"{type(reverse).__name__}.")
    if not (math.isfinite(f) and math.isfinite(r)):
        return None, wrong("One of your numbers is infinite or NaN.",
                           "Use the smoothed truth p = (0.60, 0.38, 0.02): no probability is zero.")
    return (f, r), None


def check_forward_reverse(forward, reverse, decimals=3):
    """forward and reverse: numbers for KL(p ‖ q) and KL(q ‖ p) in nats of the notebook's
    truth p = (0.60, 0.38, 0.02) and student q = (0.90, 0.05, 0.05), to `decimals`
    decimal places (tolerance: one unit in the last place)."""
    pair, fb = _both(forward, reverse)
    if fb is not None:
        return fb
    f, r = pair
    tol = 10.0 ** -decimals
    p, q = TRUTH, STUDENT
    want_f, want_r = _kl(p, q), _kl(q, p)
    both = lambda a, b: _near(f, a, tol) and _near(r, b, tol)
    if both(want_f, want_r):
        return correct(f"Right: KL(p ‖ q) = {want_f:.3f} and KL(q ‖ p) = {want_r:.3f} nats. These are totals of two "
                       "different divergences, so comparing them says little about the second answer: part 2 "
                       "looks at its own term in each.")
    if both(want_r, want_f):
        return wrong("Your two numbers are swapped.", "Forward KL takes the expectation under the truth p.")
    if both(want_f / math.log(2), want_r / math.log(2)) or _near(f, want_f / math.log(2), tol) \
            or _near(r, want_r / math.log(2), tol):
        return wrong("These are bits (log base 2); the workbench measures in nats.", "Use the natural log.")
    if both(want_f / math.log(10), want_r / math.log(10)):
        return wrong("These are in log base 10; the workbench measures in nats.", "Use the natural log.")
    if both(-want_f, -want_r):
        return wrong("Both signs are flipped: a KL divergence is never negative.",
                     "KL(a ‖ b) = Σ a · log(a / b): the target's probability on top.")
    cross = lambda a, b: -sum(x * math.log(y) for x, y in zip(a, b))
    if _near(f, cross(p, q), tol) or _near(r, cross(q, p), tol):
        return wrong("That is the cross-entropy, not the KL: it includes the entropy of the first distribution.",
                     "KL(a ‖ b) = Σ a · log(a / b) = cross-entropy − entropy of a.")
    second_f, second_r = p[1] * math.log(p[1] / q[1]), q[1] * math.log(q[1] / p[1])
    if _near(f, second_f, tol) or _near(r, second_r, tol):
        return wrong("That is the second answer's term alone; part 1 asks for the whole divergence.",
                     "Sum the terms of all three answers.")
    wrong_one = "forward" if not _near(f, want_f, tol) else "reverse"
    return wrong(f"Your {wrong_one} KL is off (to {decimals} decimals).",
                 "KL(a ‖ b) = Σ a · (log a − log b), the sum over all three answers.")


def check_second_answer_terms(forward_term, reverse_term, decimals=3):
    """The second answer's own term in each divergence of check_forward_reverse, to
    `decimals` places: p₂ · log(p₂ / q₂) in KL(p ‖ q) and q₂ · log(q₂ / p₂) in KL(q ‖ p)."""
    pair, fb = _both(forward_term, reverse_term)
    if fb is not None:
        return fb
    f, r = pair
    tol = 10.0 ** -decimals
    p, q = TRUTH, STUDENT
    term = lambda a, b, i: a[i] * math.log(a[i] / b[i])
    want_f, want_r = term(p, q, 1), term(q, p, 1)
    both = lambda a, b: _near(f, a, tol) and _near(r, b, tol)
    if both(want_f, want_r):
        return correct(f"Right: the second answer costs {want_f:.3f} nats in forward KL, and its term in reverse KL "
                       f"is {want_r:.3f}. Forward KL weighs each answer by the truth, so dropping an answer the truth "
                       "gives 38% is expensive; reverse KL weighs by the student, who gives it 5%, so the loss "
                       "barely notices (a single term may even be negative; only the sum is ≥ 0).")
    if both(want_r, want_f):
        return wrong("Your two numbers are swapped.", "The forward term is weighted by the truth p.")
    if both(want_f, -want_r) or both(want_f, abs(want_r)):
        return wrong("The reverse term is negative: the student gives this answer less than the truth does, so "
                     "log(q₂ / p₂) < 0.", "A single term of a KL can be negative; only the sum is ≥ 0.")
    if both(_kl(p, q), _kl(q, p)):
        return wrong("These are the totals over all three answers.", "Keep only the second answer's term in each.")
    if both(term(p, q, 0), term(q, p, 0)):
        return wrong("That is the first answer's term (index 0).", "The second answer is index 1.")
    if both(term(p, q, 2), term(q, p, 2)):
        return wrong("That is the third answer's term (index 2).", "The second answer is index 1: Python counts from 0.")
    if both(math.log(p[1] / q[1]), math.log(q[1] / p[1])):
        return wrong("You left out the weight: each term is a probability times the log-ratio.",
                     "Forward KL weighs by the truth's p₂, reverse KL by the student's q₂.")
    if both(q[1] * math.log(p[1] / q[1]), p[1] * math.log(q[1] / p[1])):
        return wrong("Each log-ratio is weighted by the other distribution.",
                     "KL(a ‖ b) weighs by a: the truth for forward KL, the student for reverse KL.")
    if both(want_f / math.log(2), want_r / math.log(2)):
        return wrong("These are bits (log base 2); the workbench measures in nats.", "Use the natural log.")
    wrong_one = "forward" if not _near(f, want_f, tol) else "reverse"
    return wrong(f"Your {wrong_one} term is off (to {decimals} decimals).",
                 "The second answer's term: its probability under the first distribution times the log-ratio.")


# ---------------------------------------------------------------- exercise 07: collapse

def _pair(got):
    """(mean, variance) as floats from a tuple, list, array or tensor of two numbers; None otherwise."""
    if isinstance(got, torch.Tensor):
        got = got.detach().reshape(-1).tolist() if got.numel() == 2 else None
    elif isinstance(got, np.ndarray):
        got = got.reshape(-1).tolist() if got.size == 2 else None
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return None
    values = [_number(v) for v in got]
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


def expected_log_step(n):
    """E[log(χ²_ν / ν)] with ν = n − 1: the mean step of log σ² per refit with the unbiased
    estimator, exact from E[log χ²_ν] = ψ(ν/2) + log 2 (ψ the digamma function). It is
    negative (Jensen's inequality: E[log X] < log E[X] = 0), about −1/ν."""
    nu = n - 1
    return torch.special.digamma(torch.tensor(nu / 2, dtype=torch.float64)).item() + math.log(2) - math.log(nu)


def check_expected_variance(answer, n=50, k=80, decimals=3):
    """The expected maximum-likelihood variance after k refits of n samples, from 1:
    ((n − 1)/n)^k, to `decimals` decimal places (tolerance: one unit in the last place)."""
    if is_unanswered(answer):
        return unanswered("Each refit multiplies the expected variance by the same factor.")
    value = _number(answer)
    if value is None:
        return wrong(f"The answer must be a real number, got {type(answer).__name__}.")
    tol = 10.0 ** -decimals
    want = ((n - 1) / n) ** k
    if _near(value, want, tol):
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
        (math.exp(k * (expected_log_step(n) + math.log((n - 1) / n))),
         ("That is about the median chain's variance; the question asks for the expectation (the mean).",
          "The expectation multiplies by E[σ̂²]/σ² at every refit."))]
    for target, message in named:
        if _near(value, target, tol / 2):  # half a unit: the named values lie 0.0008 or more apart
            return wrong(*message)
    return wrong(f"{value:g} is not the expected variance after {k} generations of {n} samples (to {decimals} "
                 "decimals).", "E[σ̂²] = (n − 1)/n · σ² for one refit.")


def median_variance(n=50, k=80):
    """The theory's median variance after k unbiased refits of n samples, from 1: log σ²
    is a sum of k independent steps log(χ²ₙ₋₁/(n − 1)), nearly symmetric, so its median is
    close to its mean k · E[step] and the median variance is about exp(k · E[step])."""
    return math.exp(k * expected_log_step(n))


def check_median_variance(answer, n=50, k=80, tolerance=0.003):
    """The median variance after k refits of n samples with the UNBIASED estimator (1/(n − 1)),
    from 1: exp(k · E[log(χ²ₙ₋₁/(n − 1))]), E[log χ²_ν] = ψ(ν/2) + log 2. Accepted within
    ±tolerance (the question states it; 0.003 covers the exact median of the product,
    about 0.195 at n = 50, k = 80, and the first-order step −1/(n − 1))."""
    if is_unanswered(answer):
        return unanswered("log σ² adds one step per refit: what is the mean step?")
    value = _number(answer)
    if value is None:
        return wrong(f"The answer must be a real number, got {type(answer).__name__}.")
    if not math.isfinite(value):
        return wrong("Your answer is infinite or NaN.")
    want = median_variance(n, k)
    step = expected_log_step(n)
    if _near(value, want, tolerance):
        return correct(f"Right: the median is about exp(k · E[log χ²ₙ₋₁/(n − 1)]) = exp({k} × {step:.4f}) = "
                       f"{want:.3f}, while the mean stays at 1. Half the chains end below it: the collapse of a "
                       "typical chain needs no bias, only a random walk of log σ² with a downward drift.")
    close = 5e-4  # the named mistakes sit 0.005 or more from the right answer
    named = [
        (1.0, ("That is the mean: with the unbiased estimator E[σ²] stays 1 at every generation. The median "
               "is another story.", "Follow log σ²: its step log(χ²ₙ₋₁/(n − 1)) has a negative mean.")),
        (((n - 1) / n) ** k, ("That is ((n − 1)/n)^k, the maximum-likelihood estimator's expected variance. Here the "
                              "estimator is unbiased and the question asks for the median; the two numbers are close "
                              "(both near e^(−k/n)) but come from different mechanisms.",
                              "Compute exp(k · E[log(χ²ₙ₋₁/(n − 1))]).")),
        (math.exp(k * (step + math.log((n - 1) / n))),
         ("That is the maximum-likelihood chain's median; with the unbiased estimator there is no (n − 1)/n factor.",
          "Only the random walk's drift is left.")),
        (k * step, ("That is the median of log σ², not of σ².", "Exponentiate.")),
        (math.exp(step), ("That is one refit's step; the question asks after k refits.",
                          "The steps of log σ² add up over k refits.")),
    ]
    for target, message in named:
        if _near(value, target, close):
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
