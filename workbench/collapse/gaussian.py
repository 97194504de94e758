"""Setting "gaussian": a 1-D Gaussian refitted by maximum likelihood to samples of the
previous fit (Shumailov et al. 2024, Nature, section "theoretical intuition").

The truth is N(0, 1). Each generation's model is the maximum-likelihood fit
(mean, variance with 1/n) of its training samples. With n samples the fitted variance
shrinks in expectation by (n − 1)/n per generation: that bias is one part of the collapse.

The other part holds for the unbiased estimator too (estimator="unbiased", variance with
1/(n − 1)): its expected variance stays at 1, yet log σ² takes a random walk whose step
has a negative mean, E[log χ²ₙ₋₁/(n − 1)] ≈ −1/(n − 1) < 0 (Jensen's inequality). So the
median chain still narrows: at n = 50 after 80 refits the median variance is about 0.2
while the mean stays near 1, held up by a few chains that wandered wide. Sampling at
temperature T draws from p(x)^(1/T), which for a Gaussian is N(μ, T·σ²)."""
import math

import torch

TRUTH_MEAN, TRUTH_STD = 0.0, 1.0
TAIL = 0.05  # tails: outside the truth's 2.5% and 97.5% quantiles (mass 0.05 under the truth)
Z = 1.959963984540054  # the standard normal's 97.5% quantile
ESTIMATORS = {"ml": 0, "unbiased": 1}  # the variance's correction: divide by n − correction


def _normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


class Gaussian:
    samples, generations = 50, 80
    about = "a 1-D Gaussian N(0, 1), refitted by maximum likelihood to samples of the previous fit"

    def __init__(self, seed=0, estimator="ml"):
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {list(ESTIMATORS)}, got {estimator!r}")
        self.seed, self.correction = seed, ESTIMATORS[estimator]
        self.low, self.high = TRUTH_MEAN - Z * TRUTH_STD, TRUTH_MEAN + Z * TRUTH_STD

    @staticmethod
    def truth():
        return {"mean": TRUTH_MEAN, "variance": TRUTH_STD ** 2, "kl_to_truth": 0.0, "tail_mass": TAIL, "low": -Z * TRUTH_STD,
                "high": Z * TRUTH_STD}

    def real(self, n, generator):
        return TRUTH_MEAN + TRUTH_STD * torch.randn(n, generator=generator, dtype=torch.float64)

    def fit(self, data, generator):
        """The sample mean and the variance: with 1/n (maximum likelihood, the default) or
        with 1/(n − 1) (estimator="unbiased")."""
        return data.mean().item(), max(data.var(correction=self.correction).item(), 1e-300)
        yield  # a generator like the settings that train, finished at once

    def produce(self, model, n, temperature, generator):
        mean, var = model
        return mean + math.sqrt(temperature * var) * torch.randn(n, generator=generator, dtype=torch.float64)

    def measure(self, model):
        """variance and mean of the fit; tail_mass: its probability outside the truth's
        2.5% and 97.5% quantiles (0.05 for the truth); kl_to_truth: KL(truth ‖ fit) =
        log(σ/σ₀) + (σ₀² + (μ − μ₀)²) / (2σ²) − 1/2, nats."""
        mean, var = model
        std = math.sqrt(var)
        tail = _normal_cdf((self.low - mean) / std) + 1.0 - _normal_cdf((self.high - mean) / std)
        kl = math.log(std / TRUTH_STD) + (TRUTH_STD ** 2 + (mean - TRUTH_MEAN) ** 2) / (2 * var) - 0.5
        return {"kl_to_truth": kl, "tail_mass": tail, "variance": var, "mean": mean}

    @staticmethod
    def concat(parts):
        return torch.cat(parts)
