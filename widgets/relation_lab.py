"""RelationLab: RKD distance, RKD angle or similarity-preserving KD, watched as the
relation matrices of one probe batch (teacher | student with the relation term |
student without), updating live: for RKD the normalised distances (Park et al. 2019),
for similarity-preserving KD the row-normalised Gram matrix its loss compares (Tung &
Mori 2019)."""
import ipywidgets as W
import torch

import workbench as wb

from . import plots
from .extra_term import ExtraTermLab

LOSSES = {"RKD distance": "rkd_distance", "RKD angle": "rkd_angle", "RKD distance + angle": "rkd",
          "similarity-preserving": "similarity"}


class RelationLab(ExtraTermLab):
    term = "relation"
    metric, metric_title = "gap", "Mean |student − teacher| relation"
    panel_width = 1020
    # outcomes asserted over seeds 0-2 in tests/test_scenarios.py
    scenarios = {
        "RKD distance (the default)": (
            {}, "The student with RKD distance ends with its distance matrix closer to the teacher's (mean gap "
                "about 0.035) than the student without it (about 0.05)."),
        "RKD angle": (
            {"loss": "RKD angle", "weight": 50.0}, "Matching angles between triples of examples also closes the "
                                                  "distance gap: about 0.031 against 0.05."),
        "similarity-preserving": (
            {"loss": "similarity-preserving", "weight": 3000.0},
            "Matching the batch's similarities (its Gram matrix, each row normalised): the gap falls to about a "
            "third of the student's without it."),
        "CNN teacher, MLP student": (
            {"teacher": "digits/cnn", "teacher_layer": "pool"},
            "Relations need no regressor: the CNN's 64 pooled channels teach the MLP's 32 hidden units. The gap "
            "is about 0.09 with the term against 0.10-0.12 without."),
    }

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
    def similarity(self):
        """Whether the chosen loss is similarity-preserving KD (else one of RKD's)."""
        return LOSSES[self.loss.value] == "similarity"

    def relations(self, feats):
        """The batch × batch matrix the chosen loss compares: similarity-preserving KD's
        row-normalised Gram matrix, or the distances RKD normalises by their mean (RKD
        angle compares B³ angles, too many to draw: its view shows the distances)."""
        if self.similarity:
            return wb.analysis.similarity_matrix(feats).cpu()
        return wb.analysis.relation_matrix(feats, "distance")

    def with_term(self, cfg):
        pair = (self.teacher_layer.value, self.student_layer.value) if self.weight.value > 0 else None
        return cfg.replace(relation_weight=self.weight.value, relation_loss=LOSSES[self.loss.value], relation_pair=pair)

    def start(self, teacher):
        feats = wb.analysis.features(teacher, self.probe.x, self.teacher_layer.value)
        self.panels = {"teacher": self.relations(feats)}

    def watch(self, name, student):
        feats = wb.analysis.features(student, self.probe.x, self.student_layer.value)
        self.panels[name] = m = self.relations(feats)
        return {"gap": (m - self.panels["teacher"]).abs().mean().item()}

    def panel_figure(self):
        what = "row-normalised Gram matrices (F·Fᵀ)" if self.similarity else "normalised distances"
        panels = {self.panel_title(k): v for k, v in self.panels.items()} or {"teacher": torch.zeros(1, 1)}
        return plots.relation_heatmaps(panels, title=f"{what} within {len(self.probe)} test images, sorted by class")
