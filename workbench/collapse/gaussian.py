"""Setting "gaussian": a 1-D Gaussian refitted to samples of the previous fit
(Shumailov et al. 2024, Nature, section "theoretical intuition").

The truth is N(0, 1). Each generation's model is the fit (mean, variance) of its n
training samples; generation 0 fits real samples, generation k samples of generation
k − 1's fit, so generation k's variance is the truth's times k + 1 random factors.
Two things shrink it, and the notebook (06) teaches both:

* the bias of maximum likelihood (estimator="ml", the default, variance with 1/n): each
  fit shrinks the variance by (n − 1)/n in expectation, so after k fits the expected
  variance is ((n − 1)/n)^k (0.20 at n = 50, k = 80);
* a downward drift that no unbiased estimator removes (estimator="unbiased", variance
  with 1/(n − 1)): the expected variance stays at 1, yet each fit multiplies it by
  χ²ₙ₋₁/(n − 1), whose logarithm has the negative mean
  E[log χ²ₙ₋₁/(n − 1)] = ψ((n − 1)/2) + log 2 − log(n − 1) ≈ −1/(n − 1) (Jensen's
  inequality; ψ is the digamma function). log σ² is a random walk with that drift, so
  the median chain narrows like exp(k · drift): at n = 50 after 80 fits about 0.19,
  while the mean stays near 1, held up by a few chains that wandered wide.

`expected_variance` and `typical_variance` give both curves for either estimator.
Sampling at temperature T draws from p(x)^(1/T), which for a Gaussian is N(μ, T·σ²)."""
import math
import numbers

import torch

TRUTH_MEAN, TRUTH_STD = 0.0, 1.0
TAIL = 0.05  # tails: outside the truth's 2.5% and 97.5% quantiles (mass 0.05 under the truth)
Z = 1.959963984540054  # the standard normal's 97.5% quantile
ESTIMATORS = {"ml": 0, "unbiased": 1}  # the variance's correction: divide by n − correction


def _estimator(estimator):
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {list(ESTIMATORS)}, got {estimator!r}")
    return ESTIMATORS[estimator]


def _fits_and_samples(k, n):
    """k and n as Python ints (NumPy integers accepted), or a ValueError naming the bad one."""
    k_int = None if isinstance(k, bool) or not isinstance(k, numbers.Integral) else int(k)
    if k_int is None or k_int < 0:
        raise ValueError(f"k (the number of fits) must be an integer >= 0, got {k!r}")
    n_int = None if isinstance(n, bool) or not isinstance(n, numbers.Integral) else int(n)
    if n_int is None or n_int < 2:
        raise ValueError(f"n (samples per fit) must be an integer >= 2, got {n!r}")
    return k_int, n_int


def log_drift(n):
    """The mean step of log σ² per fit with the unbiased estimator:
    E[log χ²ₙ₋₁/(n − 1)] = ψ((n − 1)/2) + log 2 − log(n − 1), below 0 for every n ≥ 2
    (about −1/(n − 1); −0.0205 at n = 50)."""
    _, n = _fits_and_samples(0, n)
    return torch.digamma(torch.tensor((n - 1) / 2, dtype=torch.float64)).item() + math.log(2) - math.log(n - 1)


def log_step_spread(n):
    """The standard deviation of one step of log σ²: sqrt(ψ′((n − 1)/2)) (ψ′ the trigamma
    function), about sqrt(2/(n − 1)); after k fits the walk's spread is sqrt(k) times it."""
    _, n = _fits_and_samples(0, n)
    return math.sqrt(torch.polygamma(1, torch.tensor((n - 1) / 2, dtype=torch.float64)).item())


def expected_variance(k, n, estimator="ml"):
    """The mean fitted variance after k fits of n samples, from the truth's 1:
    ((n − 1)/n)^k for maximum likelihood, 1 for the unbiased estimator."""
    k, n = _fits_and_samples(k, n)
    return ((n - 1) / n) ** k if _estimator(estimator) == 0 else 1.0


def typical_variance(k, n, estimator="ml"):
    """exp(E[log σ²]) after k fits of n samples: exp(k · (log_drift(n) + log((n − 1)/n)))
    for maximum likelihood, exp(k · log_drift(n)) for the unbiased estimator. log σ² is a
    sum of k independent steps, close to normal, so this is close to the median chain's
    variance (0.19 unbiased, 0.038 maximum likelihood at n = 50, k = 80)."""
    k, n = _fits_and_samples(k, n)
    shrink = math.log((n - 1) / n) if _estimator(estimator) == 0 else 0.0
    return math.exp(k * (log_drift(n) + shrink))


def _normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


class Gaussian:
    samples, generations = 50, 80
    about = "a 1-D Gaussian N(0, 1), refitted to samples of the previous fit (maximum likelihood or unbiased)"
    kl = "KL(truth ‖ fitted Gaussian), nats"  # what kl_to_truth measures here (see measure)

    # T ** generations, the factor sampling at T multiplies the expected variance by, stays below this
    MAX_VARIANCE_FACTOR = 1e300

    def __init__(self, seed=0, estimator="ml"):
        self.seed, self.correction = seed, _estimator(estimator)
        self.low, self.high = TRUTH_MEAN - Z * TRUTH_STD, TRUTH_MEAN + Z * TRUTH_STD

    @classmethod
    def limits(cls, generations, samples, temperature):
        """A fit needs at least two samples (one sample has no spread: 1/n gives a variance
        of 0, 1/(n − 1) gives 0/0); each generation multiplies the variance by T in
        expectation, so T ** generations must stay inside float64."""
        if samples < 2:
            raise ValueError(f"samples must be at least 2 for setting 'gaussian' (a variance needs two samples; "
                             f"one gives 0 with 1/n and 0/0 with 1/(n − 1)), got {samples}")
        highest = cls.MAX_VARIANCE_FACTOR ** (1 / generations)
        if temperature > highest:
            raise ValueError(f"temperature must be at most {highest:.3g} for setting 'gaussian' with {generations} "
                             f"generations (each multiplies the variance by T, and T ** generations must stay below "
                             f"{cls.MAX_VARIANCE_FACTOR:g} in float64), got {temperature!r}")

    @staticmethod
    def truth():
        return {"mean": TRUTH_MEAN, "variance": TRUTH_STD ** 2, "kl_to_truth": 0.0, "tail_mass": TAIL, "low": -Z * TRUTH_STD,
                "high": Z * TRUTH_STD}

    def real(self, n, generator):
        return TRUTH_MEAN + TRUTH_STD * torch.randn(n, generator=generator, dtype=torch.float64)

    def fit(self, data, generator):
        """The sample mean and the variance: with 1/n (maximum likelihood, the default) or
        with 1/(n − 1) (estimator="unbiased")."""
        if len(data) <= self.correction:
            raise ValueError(f"samples must be >= 2 with estimator='unbiased' (the 1/(n − 1) variance of one "
                             f"sample is undefined), got {len(data)}")
        return data.mean().item(), data.var(correction=self.correction).item()
        yield  # a generator like the settings that train, finished at once

    def produce(self, model, n, temperature, generator):
        mean, var = model
        return mean + math.sqrt(temperature) * math.sqrt(var) * torch.randn(n, generator=generator, dtype=torch.float64)

    def measure(self, model):
        """variance and mean of the fit; tail_mass: its probability outside the truth's
        2.5% and 97.5% quantiles (0.05 for the truth); kl_to_truth: the forward KL(truth ‖
        fitted Gaussian) = ∫ p₀ log(p₀ / p) over the real line, p₀ = N(μ₀, σ₀²) the truth and
        p = N(μ, σ²) the fit, in closed form log(σ/σ₀) + (σ₀² + (μ − μ₀)²) / (2σ²) − 1/2, nats.
        A fit of identical samples (σ² = 0) is a point mass at μ: its KL is infinite and its
        tail mass 1 or 0 (μ outside or inside the quantiles)."""
        mean, var = model
        if var == 0:
            outside = mean < self.low or mean > self.high
            return {"kl_to_truth": math.inf, "tail_mass": float(outside), "variance": 0.0, "mean": mean}
        std = math.sqrt(var)
        tail = _normal_cdf((self.low - mean) / std) + 1.0 - _normal_cdf((self.high - mean) / std)
        kl = math.log(std / TRUTH_STD) + (TRUTH_STD ** 2 + (mean - TRUTH_MEAN) ** 2) / (2 * var) - 0.5
        return {"kl_to_truth": kl, "tail_mass": tail, "variance": var, "mean": mean}

    @staticmethod
    def concat(parts):
        return torch.cat(parts)
