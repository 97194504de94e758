"""The Voila dashboard: a title, an introduction and one tab per lab."""
import ipywidgets as W

import workbench as wb

from .collapse_lab import CollapseLab
from .dark_knowledge import DarkKnowledgeMap
from .exercises_tab import ExercisesTab
from .feature_lab import FeatureLab
from .lab import DistillationLab
from .live import Message, guarded
from .llm_lab import LLMLab
from .next_token import NextTokenViewer
from .relation_lab import RelationLab
from .temperature import TemperatureExplorer

INTRO = """<h1 style="margin-bottom:4px">KD Workbench</h1>
<p style="max-width:900px">Knowledge distillation trains a small <b>student</b> to imitate a large
<b>teacher</b>. Instead of one-hot labels it learns from the teacher's <b>soft labels</b>,
softmax(z / T) at a temperature T, whose small probabilities on the wrong classes
(&ldquo;dark knowledge&rdquo;) say which classes look alike. Move the temperature in <i>Soft labels</i>,
see which digits the teacher confuses in <i>Dark knowledge</i>, and train a distilled student next to
a hard-label one in the <i>Distillation lab</i> (try leaving a digit out of its training data), make a
student's intermediate features match the teacher's in <i>Feature KD</i> (FitNets, attention transfer)
and the relations between examples in <i>Relation KD</i> (RKD, similarity-preserving), and distil a
tiny language model white-box (from the teacher's token distributions) or black-box (from its text
alone) in <i>LLM</i>, and train students on students in <i>Collapse</i> until the rare things vanish, and check yourself in <i>Exercises</i>.
Data: scikit-learn's 8&times;8 handwritten digits, and a synthetic language of facts whose truth is known.</p>"""

LLM_INTRO = """<p style="max-width:900px"><b>White-box</b> distillation lets the student see the
teacher's next-token distributions; <b>black-box</b> distillation (model imitation) only its
generated text. The teacher is a tiny GPT that learned a language of facts (&ldquo;gunu lives in
&hellip;&rdquo;): frequent and rare subjects, some with one answer, some with two (60/40). Because the
truth is known, every student is measured exactly: KL to the truth, facts known, rare subjects covered,
second answers kept.</p>"""


COLLAPSE_INTRO = """<p style="max-width:900px"><b>Model collapse.</b> Train a model on real data, then a
new model on what the first one produces, and so on: each generation learns from a finite sample of
the last one's output, so rare things (the <b>tails</b>) are seen less, learned worse and finally lost
(Shumailov et al. 2024). Compare <i>replace</i> (only the last generation's output), <i>mix</i> (plus a
share of fresh real data) and <i>accumulate</i> (keep all the data), then drag the generation slider or
press &#9654; to watch the tails thin.</p>"""


class CollapseTab:
    def __init__(self, splits=None):
        self.lab = CollapseLab()
        self.widget = W.VBox([W.HTML(COLLAPSE_INTRO), self.lab.widget])


class LLMTab:
    """The next-token viewer above the white-box vs black-box lab."""

    def __init__(self, splits=None):
        self.viewer, self.lab = NextTokenViewer(), LLMLab()
        self.widget = W.VBox([W.HTML(LLM_INTRO), self.viewer.widget, W.HTML("<hr>"), self.lab.widget])


TABS = [("Soft labels", TemperatureExplorer), ("Dark knowledge", DarkKnowledgeMap),
        ("Distillation lab", DistillationLab), ("Feature KD", FeatureLab), ("Relation KD", RelationLab),
        ("LLM", LLMTab), ("Collapse", CollapseTab), ("Exercises", ExercisesTab)]


def app(splits=None):
    """The dashboard. Each tab is built when first opened: every plotly FigureWidget
    sends its own copy of plotly's widget code (~5 MB) to the browser, so building all
    of them up front would make the page take many seconds longer to appear."""
    splits = splits or wb.data.load("digits")
    boxes = [W.VBox([W.HTML("<i>Loading…</i>")]) for _ in TABS]
    message = Message()
    tabs = W.Tab(children=boxes, titles=[title for title, _ in TABS])

    def open_tab(index):
        if index is not None and boxes[index].children and isinstance(boxes[index].children[0], W.HTML):
            boxes[index].children = [TABS[index][1](splits).widget]

    tabs.observe(guarded(message, lambda change: open_tab(change["new"])), names="selected_index")
    open_tab(0)
    return W.VBox([W.HTML(INTRO), message, tabs])
