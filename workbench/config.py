"""DistillConfig: every hyperparameter of a run in one validated place."""
import warnings
from dataclasses import dataclass, replace

from . import _check
from .losses import LOSS_WEIGHT_MAX  # tckd_weight, nckd_weight: defined once, beside DKD

# lr, weight_decay and the loss weights multiply float32 tensors in every step: above
# float32's largest number they are inf there, and the run ended as "diverged — lower the
# learning rate" on its first step whichever of them it was (issue 29)
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_FIELDS = ("lr", "weight_decay", "feature_weight", "relation_weight")

OPTIMIZERS = ("adam", "adamw", "sgd")
FEATURE_LOSSES = ("hint", "attention")
RELATION_LOSSES = ("rkd_distance", "rkd_angle", "rkd", "similarity")
KD_LOSSES = ("kd", "dkd", "standardized")  # Hinton et al. 2015; Zhao et al. 2022; Sun et al. 2024 (wb.losses)


@dataclass(frozen=True)
class DistillConfig:
    """loss = alpha · kd_loss(student, teacher, temperature) + (1 − alpha) · cross_entropy(student, labels)
           + feature_weight · Σ_pairs feature_loss(student layer, teacher layer)
           + relation_weight · relation_loss(student embedding, teacher embedding)

    alpha = 0 is plain hard-label training; alpha = 1 learns from the teacher alone.
    feature_pairs names (teacher_layer, student_layer) pairs (see wb.models.layer_names);
    "hint" (FitNets) passes the student's feature through a trained regressor to the
    teacher's shape, "attention" compares attention maps of conv features.
    relation_pair is a (teacher_layer, student_layer) pair, or None for the logits;
    "rkd" is distance + 2 · angle (the 25 : 50 ratio of Park et al. 2019).
    teacher_memory_mb caps what the teacher's outputs on the transfer set may hold: under
    it they are computed once per run, over it the teacher runs on every batch.

    kd_loss picks the KD term: "kd" (Hinton et al. 2015, wb.losses.kd_loss), "dkd"
    (decoupled KD, Zhao et al. 2022: tckd_weight · TCKD + nckd_weight · NCKD, each in
    [0, 100]; wb.losses.dkd_loss) or "standardized" (logit standardization, Sun et al.
    2024: KD of z-scored logits, temperature the base temperature; wb.losses.standardized_kd_loss).

    DKD here is not the paper's mix. Here the loss is
        alpha · (tckd_weight · TCKD + nckd_weight · NCKD) + (1 − alpha) · CE;
    Zhao et al. train on CE (weight 1) + a · TCKD + b · NCKD (their alpha and beta; their
    code also ramps the DKD part up over the first 20 epochs, which this does not). For
    alpha < 1 this mix is exactly (1 − alpha) times the paper's with a = k · tckd_weight and
    b = k · nckd_weight, k = alpha / (1 − alpha): alpha = 0.5 gives half the paper's loss with
    a = tckd_weight, b = nckd_weight (under Adam, the same steps: a constant factor on the
    whole loss does not change Adam's update). The default alpha = 0.9 is k = 9: with the
    default weights, a = 9 and b = 72 against CE. alpha = 1 drops CE.

    label_smoothing = ε in [0, 1) replaces the one-hot targets of the hard-label term by
    (1 − ε) · one-hot + ε / C (Szegedy et al. 2016), in wb.train too: a "uniform teacher".
    The history's "ce" is then that smoothed cross-entropy, not the CE to the one-hot
    labels."""
    temperature: float = 4.0
    alpha: float = 0.9
    epochs: int = 30
    lr: float = 1e-2
    batch_size: int = 128
    seed: int = 0
    optimizer: str = "adam"
    weight_decay: float = 0.0
    feature_weight: float = 0.0
    feature_loss: str = "hint"
    feature_pairs: tuple = ()
    relation_weight: float = 0.0
    relation_loss: str = "rkd_distance"
    relation_pair: tuple = None
    teacher_memory_mb: float = 512.0
    kd_loss: str = "kd"
    tckd_weight: float = 1.0
    nckd_weight: float = 8.0
    label_smoothing: float = 0.0

    def __post_init__(self):
        numbers = {"temperature": _check.temperature, "alpha": _check.unit_interval, "epochs": _check.positive_int,
                   "lr": _check.positive, "batch_size": _check.positive_int, "seed": _check.seed,
                   "weight_decay": _check.non_negative, "feature_weight": _check.non_negative,
                   "relation_weight": _check.non_negative,
                   "teacher_memory_mb": _check.non_negative}
        for name, check in numbers.items():  # NumPy scalars (a sweep's values) become plain numbers
            object.__setattr__(self, name, check(name, getattr(self, name)))
        for name in ("tckd_weight", "nckd_weight"):
            object.__setattr__(self, name, _check.real(name, getattr(self, name), 0.0, LOSS_WEIGHT_MAX))
        smoothing = _check._real(self.label_smoothing)
        if smoothing is None or not 0.0 <= smoothing < 1.0:
            raise ValueError(f"label_smoothing must be a number in [0, 1) (0: one-hot targets; 1 would leave no "
                             f"trace of the label), got {self.label_smoothing!r}")
        object.__setattr__(self, "label_smoothing", smoothing)
        for name in FLOAT32_FIELDS:
            if getattr(self, name) > FLOAT32_MAX:
                raise ValueError(f"{name} must be at most {FLOAT32_MAX:.4g} (float32's largest number: the training "
                                 f"maths runs in float32), got {getattr(self, name)!r}")
        _check.one_of("optimizer", self.optimizer, OPTIMIZERS)
        _check.one_of("feature_loss", self.feature_loss, FEATURE_LOSSES)
        _check.one_of("relation_loss", self.relation_loss, RELATION_LOSSES)
        _check.one_of("kd_loss", self.kd_loss, KD_LOSSES)
        pairs = tuple(tuple(p) if isinstance(p, (list, tuple)) else p for p in self.feature_pairs)
        if not all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(n, str) for n in p) for p in pairs):
            raise ValueError(f"feature_pairs must be (teacher_layer, student_layer) pairs of layer names, "
                             f"got {self.feature_pairs!r}")
        object.__setattr__(self, "feature_pairs", pairs)
        if self.feature_weight > 0 and not pairs:
            raise ValueError("feature_pairs must name at least one (teacher_layer, student_layer) pair when "
                             f"feature_weight > 0, got {self.feature_pairs!r}")
        if self.relation_pair is not None:
            pair = tuple(self.relation_pair) if isinstance(self.relation_pair, (list, tuple)) else None
            if pair is None or len(pair) != 2 or not all(isinstance(n, str) for n in pair):
                raise ValueError(f"relation_pair must be a (teacher_layer, student_layer) pair or None (the logits), "
                                 f"got {self.relation_pair!r}")
            object.__setattr__(self, "relation_pair", pair)
        if self.relation_weight > 0 and self.batch_size < 3:
            raise ValueError(f"batch_size must be >= 3 when relation_weight > 0 (relations compare pairs and "
                             f"triplets of examples in a batch), got {self.batch_size}")
        unused = [name for name, weight, setting in (("feature_pairs", self.feature_weight, self.feature_pairs),
                                                      ("relation_pair", self.relation_weight, self.relation_pair))
                  if setting and weight == 0]
        if unused:
            warnings.warn(f"{', '.join(unused)} set but its weight is 0, so it has no effect: set "
                          f"{' and '.join(n.split('_')[0] + '_weight' for n in unused)} > 0 to use it", stacklevel=3)
        moved = [name for name in ("tckd_weight", "nckd_weight")
                 if getattr(self, name) != getattr(DistillConfig, name)]
        if moved and self.kd_loss != "dkd":
            warnings.warn(f"{' and '.join(moved)} set but kd_loss is {self.kd_loss!r}, so it has no effect: set "
                          f"kd_loss='dkd' to use it", stacklevel=3)
        if self.kd_loss == "dkd" and self.tckd_weight == 0 and self.nckd_weight == 0:
            warnings.warn("kd_loss is 'dkd' but tckd_weight and nckd_weight are both 0, so the teacher has no "
                          "effect: set either weight > 0 to distil", stacklevel=3)

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)
