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
from .scenarios import Scenario, compare

GAP = ("the student with the relation term: mean gap smaller by more than 0.005",
       "neither: within 0.005 of each other", "the student without it")
FAILS = "none: the run fails, 64 channels cannot be compared with 32 units"
SHARE = ("to less than half the gap without the term", "smaller, but more than half the gap without it",
         "no smaller than without the term")


def gaps(lab):
    """(gap with the term, gap without) at the last epoch, and a line saying them."""
    with_, without = (lab.histories[n][-1]["gap"] for n in ("with", "without"))
    return with_, without, (f"This run (seed {lab.seed.value}): mean gap to the teacher's matrix {with_:.3f} "
                            f"with the {lab.loss.value} term, {without:.3f} without")


def judge_gap(lab):
    """Which of GAP the last epoch's gaps bear out (smaller is closer)."""
    with_, without, said = gaps(lab)
    return said, compare(without, with_, 0.005, GAP)


def judge_share(lab):
    """Which of SHARE the last epoch's gaps bear out."""
    with_, without, said = gaps(lab)
    return said, SHARE[0] if with_ < 0.5 * without else SHARE[1] if with_ < without else SHARE[2]

LOSSES = {"RKD distance": "rkd_distance", "RKD angle": "rkd_angle", "RKD distance + angle": "rkd",
          "similarity-preserving": "similarity"}


class RelationLab(ExtraTermLab):
    term = "relation"
    metric, metric_title = "gap", "Mean |student − teacher| relation"
    panel_width = 1020
    # the expected answers asserted (and judged from the run's numbers) over seeds 0-2 in tests/test_scenarios.py
    scenarios = {
        "RKD distance (the default)": Scenario(
            {}, "Two students learn from the teacher's soft labels; one also matches the distances between the "
                "teacher's features of a batch (RKD distance). Whose distance matrix will end closer to the "
                "teacher's?", GAP, GAP[0],
            "Over seeds 0-2 the student with RKD distance ends with its distance matrix closer to the teacher's "
            "(mean gap about 0.035) than the student without it (about 0.05)", judge_gap),
        "RKD angle": Scenario(
            {"loss": "RKD angle", "weight": 50.0},
            "Now one student matches the angles between triples of examples, not the distances. Whose distance "
            "matrix will end closer to the teacher's?", GAP, GAP[0],
            "Matching angles also closes the distance gap: about 0.031 against 0.05 over seeds 0-2", judge_gap),
        "similarity-preserving": Scenario(
            {"loss": "similarity-preserving", "weight": 3000.0},
            "One student matches the batch's similarities (its Gram matrix, each row normalised). How far will "
            "its gap to the teacher's matrix fall, against the student without the term?", SHARE, SHARE[0],
            "Over seeds 0-2 the gap falls to about a third of the student's without the term", judge_share),
        "CNN teacher, MLP student": Scenario(
            {"teacher": "digits/cnn", "teacher_layer": "pool"},
            "The CNN teacher's pooled layer has 64 channels, the MLP student's hidden layer 32 units, and no "
            "regressor joins them. What happens with the relation term?", (*GAP, FAILS), GAP[0],
            "Relations need no regressor: a batch's distance matrix has the same size for both. Over seeds 0-2 the "
            "gap is about 0.09 with the term against 0.10-0.12 without", judge_gap),
    }
    own = Scenario({}, "Whose relation matrix will end closer to the teacher's?", GAP, None, "", judge_gap)

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
