"""FeatureLab: FitNets hints or attention transfer, watched on a probe batch.

The student with the feature term should come to "think" like the teacher: its probe
features, projected to 2-D and aligned to the teacher's picture, drift toward the
teacher's, and their linear CKA to the teacher's features rises epoch by epoch, against
the same student trained without the term."""
import ipywidgets as W

import workbench as wb

from . import plots
from .extra_term import ExtraTermLab


class FeatureLab(ExtraTermLab):
    term = "feature"
    metric, metric_title = "cka", "Linear CKA to the teacher's features"
    panel_width = 980
    # outcomes asserted over seeds 0-2 in tests/test_scenarios.py
    scenarios = {
        "FitNets hint (the default)": (
            {}, "The CNN student with the hint on block1 ends with its block1 features closer to the teacher's "
                "(linear CKA about 0.97) than the same student without it (0.92-0.96)."),
        "attention transfer": (
            {"loss": "attention"}, "Matching only where block1 attends (its spatial attention map) also brings the "
                                   "features closer: CKA 0.94-0.97 against 0.92-0.96 without."),
    }

    def __init__(self, splits=None, epochs=20, **kw):
        kw.setdefault("teacher", "digits/cnn")
        kw.setdefault("layers", ("block1", "block1"))
        kw.setdefault("weight", (10.0, 0.1, 1000.0))
        super().__init__(splits, epochs=epochs, per_class=20, **kw)

    def loss_control(self):
        return W.ToggleButtons(options=["hint", "attention"], description="feature loss",
                               tooltips=["FitNets: regress the student's feature to the teacher's",
                                         "attention transfer: match spatial attention maps (conv layers)"])

    def with_term(self, cfg):
        pairs = [(self.teacher_layer.value, self.student_layer.value)] if self.weight.value > 0 else ()
        return cfg.replace(feature_weight=self.weight.value, feature_loss=self.loss.value, feature_pairs=pairs)

    def start(self, teacher):
        self.teacher_feats = wb.analysis.features(teacher, self.probe.x, self.teacher_layer.value)
        self.panels = {"teacher": wb.analysis.project_2d(self.teacher_feats)}

    def watch(self, name, student):
        feats = wb.analysis.features(student, self.probe.x, self.student_layer.value)
        self.panels[name] = wb.analysis.project_2d(feats, reference=self.panels["teacher"])
        return {"cka": wb.analysis.linear_cka(feats, self.teacher_feats)}

    def panel_figure(self):
        return plots.feature_projections({self.panel_title(k): v for k, v in self.panels.items()}, self.probe.y,
                                         self.splits.classes,
                                         title=f"{self.teacher_layer.value} of the teacher vs "
                                               f"{self.student_layer.value} of the students (PCA, aligned)")
