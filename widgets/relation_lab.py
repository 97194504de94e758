"""RelationLab: RKD distance, RKD angle or similarity-preserving KD, watched as the
relation matrices of one probe batch (teacher | student with the relation term |
student without), updating live."""
import ipywidgets as W
import torch

import workbench as wb

from . import plots
from .two_students import TwoStudentsLab

LOSSES = {"RKD distance": "rkd_distance", "RKD angle": "rkd_angle", "RKD distance + angle": "rkd",
          "similarity-preserving": "similarity"}


class RelationLab(TwoStudentsLab):
    term = "relation"
    metric, metric_title = "gap", "Mean |student − teacher| relation"
    panel_width = 1020

    def __init__(self, splits=None, epochs=20, **kw):
        kw.setdefault("teacher", "digits/mlp-large")
        kw.setdefault("student", "mlp, 32 hidden units")
        kw.setdefault("layers", ("act2", "act1"))
        kw.setdefault("weight", (25.0, 0.1, 10000.0))  # SP needs ~3000 (RepDistiller), RKD ~25
        super().__init__(splits, epochs=epochs, per_class=4, **kw)

    def loss_control(self):
        return W.Dropdown(options=list(LOSSES), value="RKD distance", description="relation loss",
                          style={"description_width": "initial"})

    @property
    def kind(self):
        return "cosine" if LOSSES[self.loss.value] == "similarity" else "distance"

    def with_term(self, cfg):
        return cfg.replace(relation_weight=self.weight.value, relation_loss=LOSSES[self.loss.value],
                           relation_pair=(self.teacher_layer.value, self.student_layer.value))

    def start(self, teacher):
        feats = wb.analysis.features(teacher, self.probe.x, self.teacher_layer.value)
        self.panels = {"teacher": wb.analysis.relation_matrix(feats, self.kind)}

    def watch(self, name, student):
        feats = wb.analysis.features(student, self.probe.x, self.student_layer.value)
        self.panels[name] = m = wb.analysis.relation_matrix(feats, self.kind)
        return {"gap": (m - self.panels["teacher"]).abs().mean().item()}

    def panel_figure(self):
        what = "cosine similarities" if self.kind == "cosine" else "normalised distances"
        panels = {self.panel_title(k): v for k, v in self.panels.items()} or {"teacher": torch.zeros(1, 1)}
        return plots.relation_heatmaps(panels, title=f"{what} within {len(self.probe)} test images, sorted by class")
