"""The Voila dashboard: a title, an introduction and one tab per lab."""
import html
import os

import ipywidgets as W

import workbench as wb

from .collapse_lab import CollapseLab
from .dark_knowledge import DarkKnowledgeMap
from .exercises_tab import ExercisesTab
from .feature_lab import FeatureLab
from .lab import DistillationLab
from .live import Message, guarded
from . import url_settings
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


def app(splits=None, query=None):
    """The dashboard. Each tab is built when first opened: every plotly FigureWidget
    sends its own copy of plotly's widget code (~5 MB) to the browser, so building all
    of them up front would make the page take many seconds longer to appear.

    `query` (default: the QUERY_STRING Voila passes to the kernel) opens a tab with its
    lab's settings, e.g. "tab=Distillation lab&scenario=left-out digit"; what cannot be
    applied is ignored and named in a note."""
    splits = splits or wb.data.load("digits")
    boxes = [W.VBox([W.HTML("<i>Loading…</i>")]) for _ in TABS]
    message = Message()
    tabs = W.Tab(children=boxes, titles=[title for title, _ in TABS])
    built = {}

    def open_tab(index):
        if index is not None and index not in built:
            built[index] = TABS[index][1](splits)
            boxes[index].children = [built[index].widget]

    def lab_of(index):
        obj = built.get(index)
        return getattr(obj, "lab", obj) if obj is not None and url_settings.controls(getattr(obj, "lab", obj)) \
            else None

    def show_link(_):
        lab = lab_of(tabs.selected_index)
        if lab is None:
            link.value = "<i>This tab has no settings to share.</i>"
            return
        query = url_settings.link(TABS[tabs.selected_index][0], lab)
        link.value = (f"<span class='kd-link'>Add this to the page's address to share these settings: "
                      f"<code>{html.escape(query)}</code></span>")

    tabs.observe(guarded(message, lambda change: open_tab(change["new"])), names="selected_index")
    open_tab(0)
    link_button = W.Button(description="Link to these settings", icon="link", layout=W.Layout(width="220px"))
    link = W.HTML()
    link_button.on_click(guarded(message, show_link))
    text = os.environ.get("QUERY_STRING", "") if query is None else query
    guarded(message, lambda: _apply_query(text, tabs, open_tab, lab_of, message))()
    return W.VBox([W.HTML(INTRO), message, W.HBox([link_button, link]), tabs])


def _apply_query(text, tabs, open_tab, lab_of, message):
    """Open the query's tab and apply its settings; say what was ignored."""
    settings = url_settings.parse(text)
    if not settings:
        return
    titles = [t for t, _ in TABS]
    tab = settings.pop("tab", None)
    notes = []
    if tab is not None and tab not in titles:
        notes.append(f"ignored tab={tab!r}: must be one of {titles}")
        tab = None
    if tab is not None:
        index = titles.index(tab)
        tabs.selected_index = index
        open_tab(index)
        lab = lab_of(index)
        if lab is None and settings:
            notes.append(f"ignored {', '.join(settings)}: the {tab} tab has no settings")
        elif lab is not None:
            notes += url_settings.apply(lab, settings)
    elif settings:
        notes.append(f"ignored {', '.join(settings)}: say which tab they are for (tab=...)")
    if notes:
        message.info("Settings from the link: " + "; ".join(notes))
