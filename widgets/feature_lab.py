"""FeatureLab: FitNets hints or attention transfer, watched on a probe batch.

The student with the feature term should come to "think" like the teacher: its probe
features, projected to 2-D and aligned to the teacher's picture, drift toward the
teacher's, and their linear CKA to the teacher's features rises epoch by epoch, against
the same student trained without the term. The run's verdict also names the CKA floor of
the probe batch's raw inputs, which on digits is already 0.95 for block1."""
import ipywidgets as W

import workbench as wb

from . import plots
from .extra_term import ExtraTermLab
from .scenarios import Scenario, compare

CLOSER = ("the student with the feature term: CKA higher by more than 0.01", "neither: within 0.01 of each other",
          "the student without it: the term pulls the features elsewhere")


def judge_closer(lab):
    """Which of CLOSER the last epoch's linear CKA (with the term vs without) bears out."""
    with_, without = (lab.histories[n][-1]["cka"] for n in ("with", "without"))
    said = (f"This run (seed {lab.seed.value}): linear CKA {with_:.3f} with the {lab.loss.value} term, "
            f"{without:.3f} without; the raw inputs alone score {lab.pixel_cka:.3f} (the floor)")
    return said, compare(with_, without, 0.01, CLOSER)


class FeatureLab(ExtraTermLab):
    term = "feature"
    metric, metric_title = "cka", "Linear CKA to the teacher's features"
    panel_width = 980
    # the expected answers asserted (and judged from the run's numbers) over seeds 0-2 in tests/test_scenarios.py
    scenarios = {
        "FitNets hint (the default)": Scenario(
            {}, "Two CNN students learn from the teacher's soft labels; one also regresses its block1 features "
                "onto the teacher's (a FitNets hint). Whose block1 features will end closer to the teacher's "
                "(higher linear CKA)?", CLOSER, CLOSER[0],
            "Over seeds 0-2 the student with the hint ends with its block1 features closer to the teacher's (linear "
            "CKA about 0.97) than the same student without it (0.92-0.96). Read both against the floor: the raw "
            "pixels of this probe batch already score 0.95, so the hint's step above them is small", judge_closer),
        "attention transfer": Scenario(
            {"loss": "attention"}, "Now one student matches only where the teacher's block1 attends (its spatial "
                                   "attention map), not the features themselves. Whose block1 features will end "
                                   "closer to the teacher's (higher linear CKA)?", CLOSER, CLOSER[0],
            "Matching only the attention map also brings the features closer: over seeds 0-2, CKA 0.94-0.97 "
            "against 0.92-0.96 without (the raw pixels alone score 0.95)", judge_closer),
    }
    own = Scenario({}, "Whose features will end closer to the teacher's (higher linear CKA at the chosen layers)?",
                   CLOSER, None, "", judge_closer)

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
        self.pixel_cka = wb.analysis.linear_cka(self.probe.x, self.teacher_feats)  # the floor of the raw inputs
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
