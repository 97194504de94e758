"""Feature- and relation-based terms of a distillation run.

The teacher's tapped features on the transfer set are computed once per run, like its
logits; each step taps the student's layers, sends hint features through the trained
regressors and returns the feature term (FitNets or attention transfer, summed over the
layer pairs) and the relation term (RKD or similarity-preserving)."""
import torch
from torch import nn

from . import losses, models
from .device import autocast

@torch.no_grad()
def predict_features(model, x, layers, chunk=4096):
    """(logits, {layer: features}) of `model` on a whole tensor, in eval mode, in chunks
    (bf16 autocast on CUDA, results in float32)."""
    was_training = model.training
    model.eval()
    logits, feats = [], {name: [] for name in layers}
    try:
        with models.tap(model, layers) as tapped, autocast(x.device):
            for i in range(0, len(x), chunk):
                out = model(x[i:i + chunk])
                if not isinstance(out, torch.Tensor):
                    raise ValueError(f"a model must return one tensor of logits, got {type(out).__name__}: "
                                     f"wrap it so that forward() returns the logits alone")
                logits.append(out.float())
                for name in layers:
                    feats[name].append(tapped[name].float())
    finally:
        model.train(was_training)
    return torch.cat(logits), {name: torch.cat(v) for name, v in feats.items()}


class Terms:
    """Set up once per run (teacher features cached, regressors built); call per batch."""

    def __init__(self, student, teacher, x, cfg):
        self.cfg = cfg
        self.pairs = list(cfg.feature_pairs) if cfg.feature_weight > 0 else []
        self.relation = cfg.relation_weight > 0
        self.rel_pair = cfg.relation_pair if self.relation else None
        pairs = self.pairs + ([self.rel_pair] if self.rel_pair else [])
        self.student_layers = sorted({s for _, s in pairs})
        teacher_layers = sorted({t for t, _ in pairs})
        for who, model, names in (("teacher", teacher, teacher_layers), ("student", student, self.student_layers)):
            known = models.layer_names(model)
            missing = [n for n in names if n not in known]
            if missing:
                raise ValueError(f"{who} layers in feature_pairs / relation_pair must be among {known}, got {missing}")
        self.teacher_logits, self.teacher_feats = predict_features(teacher, x, teacher_layers)
        _, probe = predict_features(student, x[:2], self.student_layers)
        self.regressors = nn.ModuleList()
        if cfg.feature_loss == "hint":
            self.regressors.extend(models.regressor(probe[s].shape[1:], self.teacher_feats[t].shape[1:])
                                   for t, s in self.pairs)
        elif self.pairs:
            for t, s in self.pairs:
                if probe[s].dim() != 4 or self.teacher_feats[t].dim() != 4:
                    raise ValueError(f"attention transfer needs feature maps (N, C, H, W) on both sides; layer pair "
                                     f"({t!r}, {s!r}) gives {tuple(self.teacher_feats[t].shape[1:])} and "
                                     f"{tuple(probe[s].shape[1:])}: pick conv layers or feature_loss='hint'")
        self.regressors.to(x.device)

    @property
    def active(self):
        return bool(self.pairs) or self.relation

    def __call__(self, student_feats, logits, idx):
        terms = {}
        if self.pairs:
            parts = []
            for i, (t, s) in enumerate(self.pairs):
                ft = self.teacher_feats[t][idx]
                fs = student_feats[s].float()
                if self.cfg.feature_loss == "hint":
                    fs = self.regressors[i](fs)
                parts.append(losses.UNCHECKED[self.cfg.feature_loss](fs, ft))
            terms["feature"] = parts[0] if len(parts) == 1 else torch.stack(parts).sum()
        if self.relation:
            if self.rel_pair:
                es, et = student_feats[self.rel_pair[1]].float(), self.teacher_feats[self.rel_pair[0]][idx]
            else:
                es, et = logits, self.teacher_logits[idx]
            terms["relation"] = losses.UNCHECKED[self.cfg.relation_loss](es, et)
        return terms
