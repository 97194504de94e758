"""Feature- and relation-based terms of a distillation run.

The teacher's side comes from workbench.teacher_outputs (one pass, within a memory
budget); each step taps the student's layers, sends hint features through the trained
regressors and returns the feature term (FitNets or attention transfer, summed over the
layer pairs) and the relation term (RKD or similarity-preserving)."""
import contextlib

import torch
from torch import nn

from . import losses, models
from .device import autocast

@torch.no_grad()
def feature_chunks(model, x, layers, chunk=1024, mixed_precision=True, first=None):
    """Yield (logits, {layer: features}) of `model` on x, `chunk` examples at a time (the
    first chunk `first` examples, when given), in eval mode: a chunk's activations stay
    small (1,024 CIFAR images at 32 channels are 128 MB per layer). Float32 results;
    computed under bf16 autocast on CUDA when mixed_precision."""
    was_training = model.training
    model.eval()
    try:
        precision = autocast(x.device) if mixed_precision else contextlib.nullcontext()
        with models.tap(model, layers) as tapped, precision:
            starts = [0, *range(first, len(x), chunk)] if first else range(0, len(x), chunk)
            for i, end in zip(starts, [*starts[1:], len(x)]):
                out = model(x[i:end])
                if not isinstance(out, torch.Tensor):
                    raise ValueError(f"a model must return one tensor of logits, got {type(out).__name__}: "
                                     f"wrap it so that forward() returns the logits alone")
                yield out.float(), {name: tapped[name].float() for name in layers}
    finally:
        model.train(was_training)


def predict_features(model, x, layers, chunk=1024, mixed_precision=True):
    """(logits, {layer: features}) of `model` on a whole tensor: feature_chunks, joined."""
    chunks = list(feature_chunks(model, x, layers, chunk, mixed_precision))
    return torch.cat([c[0] for c in chunks]), {n: torch.cat([c[1][n] for c in chunks]) for n in layers}


def predict(model, x):
    """Logits of `model` on a whole tensor, in eval mode, in chunks; float32."""
    return predict_features(model, x, ())[0]


def layers_used(student, teacher, cfg):
    """(teacher layers, student layers) that cfg's feature and relation terms tap; each
    name checked against the model's layers (teacher None: its side is not checked)."""
    pairs = list(cfg.feature_pairs) if cfg.feature_weight > 0 else []
    if cfg.relation_weight > 0 and cfg.relation_pair:
        pairs.append(cfg.relation_pair)
    names = sorted({t for t, _ in pairs}), sorted({s for _, s in pairs})
    for who, model, wanted in (("teacher", teacher, names[0]), ("student", student, names[1])):
        known = models.layer_names(model) if model is not None else wanted
        missing = [n for n in wanted if n not in known]
        if missing:
            raise ValueError(f"{who} layers in feature_pairs / relation_pair must be among {known}, got {missing}")
    return names


class Terms:
    """Set up once per run (regressors built from the layers' shapes); call per batch with
    the student's tapped features and logits and the teacher's TeacherBatch."""

    def __init__(self, student, teacher_shapes, x_probe, cfg):
        self.cfg = cfg
        self.pairs = list(cfg.feature_pairs) if cfg.feature_weight > 0 else []
        self.rel_pair = cfg.relation_pair if cfg.relation_weight > 0 else None
        self.relation = cfg.relation_weight > 0
        _, self.student_layers = layers_used(student, None, cfg)
        _, probe = predict_features(student, x_probe, self.student_layers)
        self.regressors = nn.ModuleList()
        if cfg.feature_loss == "hint":
            self.regressors.extend(models.regressor(probe[s].shape[1:], teacher_shapes[t]) for t, s in self.pairs)
        else:
            for t, s in self.pairs:
                if probe[s].dim() != 4 or len(teacher_shapes[t]) != 3:
                    raise ValueError(f"attention transfer needs feature maps (N, C, H, W) on both sides; layer pair "
                                     f"({t!r}, {s!r}) gives {tuple(teacher_shapes[t])} and "
                                     f"{tuple(probe[s].shape[1:])}: pick conv layers or feature_loss='hint'")
        self.regressors.to(x_probe.device)

    def __call__(self, student_feats, logits, teacher):
        terms = {}
        if self.pairs:
            parts = []
            for i, (t, s) in enumerate(self.pairs):
                fs = student_feats[s].float()
                if self.cfg.feature_loss == "hint":
                    fs = self.regressors[i](fs)
                parts.append(losses.UNCHECKED[self.cfg.feature_loss](fs, teacher.features[t]))
            terms["feature"] = parts[0] if len(parts) == 1 else torch.stack(parts).sum()
        if self.relation:
            if self.rel_pair:
                es, et = student_feats[self.rel_pair[1]].float(), teacher.features[self.rel_pair[0]]
            else:
                es, et = logits, teacher.logits
            terms["relation"] = losses.UNCHECKED[self.cfg.relation_loss](es, et)
        return terms
