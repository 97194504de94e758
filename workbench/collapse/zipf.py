"""Setting "zipf": a categorical distribution over a Zipf-distributed vocabulary,
re-estimated each generation from samples of the previous estimate.

The truth is p(token of rank r) ∝ r^−s over `vocab` tokens. Each generation's model is
the maximum-likelihood estimate, the token counts of its training samples divided by
their number. A token that no sample contains gets probability 0, is never sampled
again, and (without fresh real data) is gone for good: Shumailov et al. 2024's discrete
case, where finite sampling removes the tails first. Each token's expected probability
is unchanged by a refit at temperature 1; what shrinks is the support (vanished tokens)
and the entropy. Sampling at temperature T draws from p^(1/T), renormalised, which
below 1 also moves mass from the tail to the head."""
import torch

from .. import _check

TAIL = 0.1  # the tail: the truth's rarest tokens, which together hold its last 10% of mass


def _zipf(vocab, exponent):
    w = torch.arange(1, vocab + 1, dtype=torch.float64) ** -float(exponent)
    return w / w.sum()


def _tail(p):
    """The rarest tokens that together hold the truth's last TAIL of mass (about 0.1)."""
    head = int((p.cumsum(0) < 1 - TAIL).sum()) + 1  # tokens holding the first 90%
    tail = torch.zeros(len(p), dtype=torch.bool)
    tail[head:] = True
    return tail


class Zipf:
    samples, generations = 2000, 30
    about = "a categorical distribution over a Zipf vocabulary, re-estimated from its own samples"
    kl = "KL(model ‖ truth) over the vocabulary, nats"  # what kl_to_truth measures here (see measure)

    def __init__(self, seed=0, vocab=1000, exponent=1.1):
        vocab = _check.positive_int("vocab", vocab)
        exponent = _check.positive("exponent", exponent)
        self.seed, self.p = seed, _zipf(vocab, exponent)
        self.tail = _tail(self.p)
        if not self.tail.any():  # tail_mass and tail_coverage would be 0 and 0/0
            raise ValueError(f"vocab must be large enough for the rarest tokens to hold the truth's last {TAIL:.0%} of "
                             f"mass without its commonest ones (the tail the chain measures), got vocab={vocab} with "
                             f"exponent={exponent}, whose rarest token alone holds {self.p[-1].item():.0%}")

    @staticmethod
    def limits(generations, samples, temperature):
        """Any number of samples (one token is a distribution) and any temperature sampling
        takes (produce works in log space)."""

    @staticmethod
    def truth(vocab=1000, exponent=1.1):
        p = _zipf(_check.positive_int("vocab", vocab), _check.positive("exponent", exponent))
        return {"probs": p.tolist(), "tail_mass": p[_tail(p)].sum().item(), "tail_coverage": 1.0, "vanished": 0,
                "entropy": -(p * p.log()).sum().item(), "kl_to_truth": 0.0}

    def real(self, n, generator):
        return torch.multinomial(self.p, n, replacement=True, generator=generator)

    def fit(self, data, generator):
        """Maximum likelihood: each token's count over the number of samples."""
        counts = torch.bincount(data, minlength=len(self.p)).double()
        return counts / counts.sum()
        yield  # a generator like the settings that train, finished at once

    def produce(self, model, n, temperature, generator):
        """n tokens drawn from q^(1/T) renormalised, computed in log space as
        softmax((log q − max log q) / T): q ** (1/T) itself underflows to all zeros at a small
        T (0.13 ** 1000 for the likeliest token at T = 0.001); shifted, the likeliest keeps
        weight 1, and a vanished token (log q = −inf) stays at 0 at every T."""
        log_q = model.log()
        p = torch.softmax((log_q - log_q.max()) / temperature, 0)
        return torch.multinomial(p, n, replacement=True, generator=generator)

    def measure(self, model):
        """vanished: tokens of probability 0; tail_mass: the model's probability of the
        truth's tail tokens (0.0997 for the truth); tail_coverage: the share of the truth's
        tail mass on tokens the model can still produce (1 for the truth); entropy in nats; kl_to_truth:
        the reverse KL(model ‖ truth) = Σ_tokens q log(q/p) over the whole vocabulary, q the
        model and p the truth, a vanished token (q = 0) adding 0; nats. The forward KL(truth ‖
        model) is not used: it is infinite as soon as one token has vanished."""
        q, p = model, self.p
        nz = q > 0
        return {"kl_to_truth": (q[nz] * (q[nz] / p[nz]).log()).sum().item(),
                "tail_mass": q[self.tail].sum().item(),
                "tail_coverage": (p[self.tail & nz].sum() / p[self.tail].sum()).item(),
                "vanished": int((~nz).sum()),
                "entropy": -(q[nz] * q[nz].log()).sum().item(),
                "probs": q.tolist()}

    @staticmethod
    def concat(parts):
        return torch.cat(parts)
