"""DistillConfig: every hyperparameter of a run in one validated place."""
from dataclasses import dataclass, replace

from . import _check

OPTIMIZERS = ("adam", "adamw", "sgd")


@dataclass(frozen=True)
class DistillConfig:
    """loss = alpha · kd_loss(student, teacher, temperature) + (1 − alpha) · cross_entropy(student, labels)

    alpha = 0 is plain hard-label training; alpha = 1 learns from the teacher alone."""
    temperature: float = 4.0
    alpha: float = 0.9
    epochs: int = 30
    lr: float = 1e-2
    batch_size: int = 128
    seed: int = 0
    optimizer: str = "adam"
    weight_decay: float = 0.0

    def __post_init__(self):
        _check.positive("temperature", self.temperature)
        _check.unit_interval("alpha", self.alpha)
        _check.positive_int("epochs", self.epochs)
        _check.positive("lr", self.lr)
        _check.positive_int("batch_size", self.batch_size)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        _check.one_of("optimizer", self.optimizer, OPTIMIZERS)
        if isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, (int, float)) or not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}")

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)
