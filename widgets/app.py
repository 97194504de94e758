"""The Voila dashboard: a title, an introduction and one tab per lab."""
import ipywidgets as W

import workbench as wb

from .dark_knowledge import DarkKnowledgeMap
from .feature_lab import FeatureLab
from .lab import DistillationLab
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
and the relations between examples in <i>Relation KD</i> (RKD, similarity-preserving).
Data: scikit-learn's 8&times;8 handwritten digits.</p>"""


def app(splits=None):
    splits = splits or wb.data.load("digits")
    tabs = W.Tab(children=[TemperatureExplorer(splits).widget, DarkKnowledgeMap(splits).widget,
                           DistillationLab(splits).widget, FeatureLab(splits).widget, RelationLab(splits).widget])
    for i, title in enumerate(["Soft labels", "Dark knowledge", "Distillation lab", "Feature KD", "Relation KD"]):
        tabs.set_title(i, title)
    return W.VBox([W.HTML(INTRO), tabs])
