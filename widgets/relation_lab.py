"""RelationLab: RKD distance, RKD angle or similarity-preserving KD, watched as the
relation matrices of one probe batch (teacher | student with the relation term |
student without), updating live."""
import ipywidgets as W
import torch

import workbench as wb

from . import plots
from .live import live, refresh
from .two_students import TwoStudentsLab

TITLES = {"with": "student with the relation term", "without": "student without it"}
LOSSES = {"RKD distance": "rkd_distance", "RKD angle": "rkd_angle", "RKD distance + angle": "rkd",
          "similarity-preserving": "similarity"}


class RelationLab(TwoStudentsLab):
    term = "relation"

    def __init__(self, splits=None, epochs=20, **kw):
        kw.setdefault("teacher", "digits/mlp-large")
        kw.setdefault("student", "mlp, 32 hidden units")
        kw.setdefault("layers", ("act2", "act1"))
        kw.setdefault("weight", (25.0, 0.1, 10000.0))  # SP needs ~3000 (RepDistiller), RKD ~25
        super().__init__(splits, epochs=epochs, per_class=4, **kw)
        self.loss = W.Dropdown(options=list(LOSSES), value="RKD distance", description="relation loss",
                               style={"description_width": "initial"})
        self.matrices = {}
        self.heatmaps = live(self.heatmap_figure(), width=1020, height=360)
        self.gap = live(plots.training_curves(self.histories, metric="gap", title="Mean |student − teacher| relation"),
                        width=520, height=300)
        self.widget = W.VBox([W.HBox([self.controls(), self.gap]), self.heatmaps])

    def extra_controls(self):
        return [self.loss]

    @property
    def kind(self):
        return "cosine" if LOSSES[self.loss.value] == "similarity" else "distance"

    def with_term(self, cfg):
        return cfg.replace(relation_weight=self.weight.value, relation_loss=LOSSES[self.loss.value],
                           relation_pair=(self.teacher_layer.value, self.student_layer.value))

    def start(self, teacher):
        feats = wb.analysis.features(teacher, self.probe.x, self.teacher_layer.value)
        self.matrices = {"teacher": wb.analysis.relation_matrix(feats, self.kind)}

    def watch(self, name, student):
        feats = wb.analysis.features(student, self.probe.x, self.student_layer.value)
        self.matrices[name] = m = wb.analysis.relation_matrix(feats, self.kind)
        return {"gap": (m - self.matrices["teacher"]).abs().mean().item()}

    def heatmap_figure(self):
        panels = {"teacher" if k == "teacher" else TITLES[k]: v for k, v in self.matrices.items()}
        what = "cosine similarities" if self.kind == "cosine" else "normalised distances"
        return plots.relation_heatmaps(panels or {"teacher": torch.zeros(1, 1)},
                                       title=f"{what} within {len(self.probe)} test images, sorted by class")

    def redraw(self):
        curves = {TITLES[k]: v for k, v in self.histories.items()}
        refresh(self.gap, plots.training_curves(curves, metric="gap", title="Mean |student − teacher| relation"))
        refresh(self.heatmaps, self.heatmap_figure())
