"""The teacher's side of a distillation run: what each step needs of the teacher (soft
labels, logits, tapped features), from one pass over the transfer set.

The transfer set is not augmented, so these never change during a run: they are computed
once and kept on the device while they fit in a memory budget (DistillConfig.teacher_memory_mb).
Over the budget (CIFAR-sized feature maps of 50,000 images are gigabytes) the teacher runs
on each batch instead, so peak memory does not grow with the transfer set. The kept
outputs are filled chunk by chunk into tensors allocated once, so building them never
holds more than the budget and one chunk.

Always float32, even where the student's step runs in bf16: at a high temperature the soft
labels come from small differences of logits that bf16's 8-bit mantissa rounds away."""
import itertools
from typing import NamedTuple

import torch
import torch.nn.functional as F

from .features import feature_chunks, layers_used, predict_features
from .losses import standardize
from .response_loss import FAR


class TeacherBatch(NamedTuple):
    """The teacher's outputs on a batch; what the run does not use is None (or {})."""
    logits: torch.Tensor  # when alpha > 0 (an exact KD term for the history) or the relation term compares logits
    soft_labels: torch.Tensor  # when alpha > 0: softmax(logits / T), (B, C); kd_loss "dkd", "standardized": soft_labels_for
    entropy: torch.Tensor  # T² · H(soft labels) per example (KL = cross-entropy − entropy)
    features: dict  # {teacher layer: features} of the feature and relation terms

    def rows(self, b):
        """The outputs of the rows b (a slice): views, no copies."""
        return TeacherBatch(*(t if t is None else t[b] for t in self[:3]), {k: f[b] for k, f in self.features.items()})


def non_finite_rows(x):
    """How many rows (examples) of x hold a NaN or an inf. A sum first: one pass and no
    tensor of x's size, the rows counted only when it is not finite (finite values whose sum
    overflows count none)."""
    if len(x) == 0 or torch.isfinite(x.sum()):
        return 0
    return int((~torch.isfinite(x)).flatten(1).any(1).sum()) if x.dim() > 1 else int((~torch.isfinite(x)).sum())


def broken_teacher(bad, checked, of):
    """The ValueError for a teacher whose outputs hold NaN or inf on `bad` of the `checked`
    training examples (of `of`)."""
    scope = f"{checked} of the {of} training examples checked" if checked < of else f"{of} training examples"
    return ValueError(f"teacher outputs NaN or inf on {bad} of {scope}: the teacher is broken (NaN weights, a bad "
                      f"checkpoint, or inputs it cannot take), not the run's learning rate; check it with "
                      f"wb.predict(teacher, splits.train.x)")


def soft_labels_and_entropy(logits, temperature):
    """p = softmax(logits / T) and T² · H(p) per example."""
    p = F.softmax(logits / temperature, dim=1)
    return p, torch.special.entr(p).sum(1) * temperature**2


def decoupled_soft_labels_and_entropy(logits, labels, temperature):
    """The teacher's side of decoupled KD (Zhao et al. 2022; workbench.response_loss) per
    example: soft labels (B, 3, C), p = softmax(logits / T), p̂ = the softmax over the
    non-target classes (0 at the target) and p with its target zeroed, (1 − p_t) · p̂; and
    their entropies (B, 3), T² · H(p), T² · H(p̂) and (1 − p_t) · T² · H(p̂). p̂ comes from
    the non-target logits, not from p / (1 − p_t), which is 0 / 0 once p_t rounds to 1."""
    u = logits / temperature
    p = u.softmax(1)
    hat = u.scatter(1, labels[:, None], FAR).softmax(1)
    rest = p.scatter(1, labels[:, None], 0.0)
    h = torch.special.entr(torch.stack([p, hat], 1)).sum(2) * temperature**2
    return torch.stack([p, hat, rest], 1), torch.cat([h, h[:, 1:] * rest.sum(1, keepdim=True)], 1)


def soft_labels_for(kd_loss, logits, labels, temperature):
    """(soft labels, entropies) of the teacher's logits for DistillConfig.kd_loss: "kd",
    soft_labels_and_entropy; "standardized" (Sun et al. 2024), the same of the z-scored
    logits; "dkd", decoupled_soft_labels_and_entropy."""
    if kd_loss == "dkd":
        return decoupled_soft_labels_and_entropy(logits, labels, temperature)
    return soft_labels_and_entropy(standardize(logits) if kd_loss == "standardized" else logits, temperature)


class TeacherOutputs:
    """`outputs(idx)` → the TeacherBatch of the transfer-set examples idx (a 1-D index
    tensor) for the run that cfg describes. `labels` (of x): needed by kd_loss "dkd"."""

    def __init__(self, teacher, student, x, cfg, labels=None):
        if cfg.alpha > 0 and cfg.kd_loss == "dkd" and labels is None:
            raise ValueError("labels must be given for kd_loss='dkd' (its terms split off the target class), got None")
        self.teacher, self.x, self.labels, self.temperature = teacher, x, labels, cfg.temperature
        self.kd_loss = cfg.kd_loss
        self.layers, _ = layers_used(student, teacher, cfg)
        self.soft = cfg.alpha > 0
        self.relation_on_logits = cfg.relation_weight > 0 and cfg.relation_pair is None

        # a small first chunk tells the size per example, which decides whether the whole set is kept
        chunks = feature_chunks(teacher, x, self.layers, mixed_precision=False, first=64)
        logits, feats = next(chunks)
        self.num_classes = logits.shape[1]
        self.shapes = {name: f.shape[1:] for name, f in feats.items()}
        self.kept = {}
        if self.soft:
            parts = (3,) if self.kd_loss == "dkd" else ()  # decoupled_soft_labels_and_entropy
            self.kept.update(soft_labels=(*parts, self.num_classes), entropy=parts)
        if self.soft or self.relation_on_logits:
            self.kept["logits"] = (self.num_classes,)
        self.kept.update(self.shapes)
        self.bytes = 4 * len(x) * sum(torch.Size(s).numel() for s in self.kept.values())
        self.cached = self.bytes <= cfg.teacher_memory_mb * 2**20
        if not self.cached:  # the teacher runs per batch: its first chunk is checked here, the rest by the run
            self.bytes = 0
            chunks.close()
            bad = self._non_finite(logits, feats)
            if bad:
                raise broken_teacher(bad, len(logits), len(x))
            return
        self._cache = {name: torch.empty(len(x), *shape, device=x.device) for name, shape in self.kept.items()}
        start, bad = 0, 0
        for logits, feats in itertools.chain([(logits, feats)], chunks):
            self._fill(slice(start, start + len(logits)), logits, feats)
            bad += self._non_finite(logits, feats)
            start += len(logits)
        if bad:  # checked once per run: the steps then read outputs known to be finite
            raise broken_teacher(bad, len(x), len(x))

    @staticmethod
    def _non_finite(logits, feats):
        """Rows of a chunk whose logits or features hold NaN or inf."""
        parts = [logits, *feats.values()]
        if all(non_finite_rows(t) == 0 for t in parts):
            return 0
        return int(torch.stack([(~torch.isfinite(t)).flatten(1).any(1) for t in parts]).any(0).sum())

    def _soft(self, logits, rows):
        labels = None if self.labels is None else self.labels[rows]
        return soft_labels_for(self.kd_loss, logits, labels, self.temperature)

    def _fill(self, rows, logits, feats):
        if self.soft:
            self._cache["soft_labels"][rows], self._cache["entropy"][rows] = self._soft(logits, rows)
        if "logits" in self._cache:
            self._cache["logits"][rows] = logits
        for name, f in feats.items():
            self._cache[name][rows] = f

    def __call__(self, idx):
        if not self.cached:
            logits, feats = predict_features(self.teacher, self.x.index_select(0, idx), self.layers,
                                             mixed_precision=False)
            p, h = self._soft(logits, idx) if self.soft else (None, None)
            return TeacherBatch(logits if self.soft or self.relation_on_logits else None, p, h, feats)
        take = {name: t.index_select(0, idx) for name, t in self._cache.items()}  # faster than t[idx] on the CPU
        return TeacherBatch(take.get("logits"), take.get("soft_labels"), take.get("entropy"),
                            {name: take[name] for name in self.layers})

