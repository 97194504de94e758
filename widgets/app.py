"""The Voila dashboard: a title, an introduction and one tab per lab."""
import html
import os

import ipywidgets as W
import torch

import workbench as wb
from workbench import recording

from . import a11y, classroom
from .beyond_lab import BeyondLab
from .collapse_lab import CollapseLab
from .dark_knowledge import DarkKnowledgeMap
from .dense_sparse_lab import DenseSparseLab
from .exercises_tab import ExercisesTab
from .feature_lab import FeatureLab
from .lab import DistillationLab
from .live import Message, guarded
from . import url_settings
from .llm_lab import LLMLab
from .next_token import NextTokenViewer
from .payoff_lab import PayoffLab
from .reasoning_lab import ReasoningLab
from .relation_lab import RelationLab
from .speculative_view import SpeculativeView
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
alone) in <i>LLM</i>, on-policy too (the student samples, the teacher scores every token), and set
the teacher's per-token signal against one reward per sequence in <i>Dense vs sparse</i>; distil a teacher's
worked steps, mistakes and all, into a small student in <i>Reasoning</i>. In <i>Collapse</i>,
train each generation of a model on samples of the last one's output and see what becomes of rare things;
in <i>Payoff</i>, measure how small and fast a student can be for its accuracy (and export one to ONNX)
and what a distilled draft model is worth in speculative decoding; in <i>Beyond Hinton</i>, test what
research found since 2015 (the capacity gap, born-again students, label-smoothed teachers, transfer
sets, fidelity); check yourself in <i>Exercises</i>.
Before each Run a lab asks what you expect: predict, then see.
Data: scikit-learn's 8&times;8 handwritten digits, and a synthetic language of facts whose truth is known.</p>"""

LLM_INTRO = """<p style="max-width:900px"><b>White-box</b> distillation lets the student see the
teacher's next-token distributions; <b>black-box</b> distillation (model imitation) only its
generated text. The teacher is a tiny GPT that learned a language of facts (&ldquo;gunu lives in
&hellip;&rdquo;): frequent and rare subjects, some with one answer, some with two (60/40). Because the
truth is known, every student is measured exactly: KL to the truth, facts known, rare subjects covered,
second answers kept. In the lab below, set the student's recipe as the field does it now: <b>on-policy</b>
(&lambda; = 1: the student samples, the teacher scores every token) with <b>reverse KL</b> (&beta; = 1), and
compare it with a black-box student or with an off-policy forward-KL one; the recipe line says what the
settings mean, and the same settings in TRL are there to copy.</p>"""


COLLAPSE_INTRO = """<p style="max-width:900px"><b>Model collapse.</b> Train a model on real data,
then a new model on a finite sample of what the first one produces, and so on, generation after
generation. Shumailov et al. (2024) studied such chains when each generation's output <i>replaces</i> the
data. Compare three data policies: <i>replace</i> (only the last generation's output), <i>mix</i> (plus a
share of fresh real data every generation, as in Alemohammad et al. 2023 and Bertrand et al. 2023) and
<i>accumulate</i> (keep all the data so far, real and generated, as in Gerstgrasser et al. 2024). Predict
what happens to the rare things (the <b>tails</b>), Run, then drag the generation slider or press &#9654;
to go through the generations.</p>"""


PAYOFF_INTRO = """<p style="max-width:900px"><b>The payoff.</b> A student is distilled to be shipped:
it should be smaller and faster than its teacher. Run trains a hard-label and a distilled MLP of each
width (the numbers next to the points: hidden units) on a share of the training images and, as a
control, on all of them (the data the teacher learned from), then measures every model on this machine. Up and to the left is better; each step line is a front: the best accuracy
at that cost or less. Where will the distilled students' front lie against the hard-label one's? Then
export a student to ONNX and take it with you.</p>"""


SPECULATIVE_HEADING = "<h3>What a distilled draft is worth: speculative decoding</h3>"


class PayoffTab:
    """The payoff lab, then the speculative-decoding view (a distilled draft's payoff: its
    heading here, its introduction in the view)."""

    def __init__(self, splits=None):
        self.lab = PayoffLab(splits)
        self.speculative = SpeculativeView()
        self.widget = W.VBox([W.HTML(PAYOFF_INTRO), self.lab.widget, W.HTML("<hr>"),
                              W.HTML(SPECULATIVE_HEADING), self.speculative.widget])


class CollapseTab:
    def __init__(self, splits=None):
        self.lab = CollapseLab()
        self.widget = W.VBox([W.HTML(COLLAPSE_INTRO), self.lab.widget])


class LLMTab:
    """The next-token viewer above the white-box vs black-box lab."""

    def __init__(self, splits=None):
        self.viewer, self.lab = NextTokenViewer(), LLMLab()
        self.widget = W.VBox([W.HTML(LLM_INTRO), self.viewer.widget, W.HTML("<hr>"), self.lab.widget])


DENSE_INTRO = """<p style="max-width:900px"><b>Dense against sparse supervision.</b> The same student, from the
same start, learns the facts of the <i>LLM</i> tab's language from the same number of sampled sequences, three
ways: <b>SFT</b> on the teacher's samples (black-box); <b>reinforcement learning</b> with one reward per
sequence (REINFORCE with a baseline; the reward is 1 when the sampled answer is the fact's most likely one, else
0); and <b>on-policy distillation</b>, where the student samples and the
teacher scores every token with its log-probabilities. A reward is one number per sequence; the teacher's
log-probabilities are one for every token: a dense signal. Predict how many samples each method needs to reach
the stated level, then Run and see the three curves.</p>"""


class DenseSparseTab:
    """An introduction, then the dense-against-sparse lab (three methods, one budget of samples)."""

    def __init__(self, splits=None):
        self.lab = DenseSparseLab()
        self.widget = W.VBox([W.HTML(DENSE_INTRO), self.lab.widget])


REASONING_INTRO = """<p style="max-width:900px"><b>Distilling reasoning.</b> A teacher adds two 3-digit numbers
by writing out its <b>worked steps</b>, column by column, as a pupil does on paper
(&ldquo;7+5+0=12,4+8+1=13,3+2+1=6,632.&rdquo;). It is a black box: text in, text out, and it samples at a
temperature, so now and then it is wrong. The same small student, from the same start, learns from the same
teacher queries four ways: (a) the teacher's final answers only, (b) its worked steps, (c) only the worked
steps a <b>verifier</b> accepts, and (d) the true answers, with no teacher at all. The verifier checks the final
answer only, never the steps. Keeping the verified samples is rejection sampling, as in STaR (Zelikman et al.
2022) and the data DeepSeek-R1's small students were distilled on (DeepSeek-AI 2025). Predict, Run, and see
which student adds best, which copies the teacher's mistakes, and how each does on longer numbers.</p>"""


class ReasoningTab:
    """An introduction, then the reasoning lab (one teacher's worked steps, four students)."""

    def __init__(self, splits=None):
        self.lab = ReasoningLab()
        self.widget = W.VBox([W.HTML(REASONING_INTRO), self.lab.widget])


TABS = [("Soft labels", TemperatureExplorer), ("Dark knowledge", DarkKnowledgeMap),
        ("Distillation lab", DistillationLab), ("Feature KD", FeatureLab), ("Relation KD", RelationLab),
        ("LLM", LLMTab), ("Dense vs sparse", DenseSparseTab), ("Reasoning", ReasoningTab),
        ("Collapse", CollapseTab), ("Payoff", PayoffTab),
        ("Beyond Hinton", BeyondLab), ("Exercises", ExercisesTab)]


class Dashboard(W.VBox):
    """The dashboard: a title, an introduction, a message line, a link button and one
    tab per lab, and the page's accessibility layer (widgets.a11y). Each tab is built when
    first opened, so the page appears as soon as the first one is ready. `open_link(query)`
    opens a tab with its lab's settings from a page's query string."""

    def __init__(self, splits=None):
        self.splits = splits or wb.data.load("digits")
        self.boxes = [W.VBox([W.HTML("<i>Loading…</i>")]) for _ in TABS]
        self.message = Message()
        self.tabs = W.Tab(children=self.boxes, titles=[title for title, _ in TABS])
        self.built = {}
        self.tabs.observe(guarded(self.message, lambda change: self.open_tab(change["new"])), names="selected_index")
        self.open_tab(0)
        self.link_button = W.Button(description="Link to these settings", icon="link", layout=W.Layout(width="220px"))
        self.link = W.HTML()
        self.link.add_class("kd-status")  # the link, said when it appears
        self.link_button.on_click(guarded(self.message, self.show_link))
        # before the tabs: the page's accessibility layer (named controls, live regions, lang, title, main landmark)
        # where a class records (make classroom, the hub): the learner's runs and the class's spread
        self.class_panel = classroom.ClassPanel() if recording.enabled() else None
        below = [self.class_panel.widget, self.class_panel.store] if self.class_panel else []
        super().__init__([W.HTML(INTRO), self.message, W.HBox([self.link_button, self.link]), a11y.ensure(), self.tabs,
                          *below])
        self.add_class("kd-app")
        # torch imports torch._dynamo (1.9 s, 160 MB) when the first optimizer is built: do it
        # now, before a preheated kernel meets its learner, not inside the learner's first Run.
        torch.optim.AdamW([torch.zeros(1, requires_grad=True)])

    def open_tab(self, index):
        if index is not None and index not in self.built:
            self.built[index] = TABS[index][1](self.splits)
            self.boxes[index].children = [self.built[index].widget]
            for title, lab in recorded_labs(TABS[index][0], self.built[index]):
                lab.controller.on_end.append(classroom.record_hook(title, lab))

    def lab_of(self, index):
        """The object whose controls a link sets on tab `index` (None: a tab without settings)."""
        obj = self.built.get(index)
        lab = getattr(obj, "lab", obj)
        return lab if obj is not None and url_settings.controls(lab) else None

    def show_link(self, _=None):
        lab = self.lab_of(self.tabs.selected_index)
        if lab is None:
            self.link.value = "<i>This tab has no settings to share.</i>"
            return
        query = url_settings.link(TABS[self.tabs.selected_index][0], lab)
        self.link.value = (f"<span class='kd-link'>Add this to the page's address to share these settings: "
                           f"<code>{html.escape(query)}</code></span>")

    def open_link(self, query):
        """Open the query's tab and apply its settings, e.g. "tab=Distillation lab&scenario=
        left-out digit"; what cannot be applied is ignored and named in the message line."""
        guarded(self.message, lambda: self._apply(url_settings.parse(query or "")))()

    def _apply(self, settings):
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
            self.tabs.selected_index = index
            self.open_tab(index)
            lab = self.lab_of(index)
            if lab is None and settings:
                notes.append(f"ignored {', '.join(settings)}: the {tab} tab has no settings")
            elif lab is not None:
                notes += url_settings.apply(lab, settings)
        elif settings:
            notes.append(f"ignored {', '.join(settings)}: say which tab they are for (tab=...)")
        if notes:
            self.message.info("Settings from the link: " + "; ".join(notes))


def recorded_labs(title, tab):
    """(name on the class board, lab) of each lab with a Run button in a tab: the tab's own
    or its `lab`, and the Payoff tab's speculative-decoding view."""
    found = [(title, obj) for obj in (tab, getattr(tab, "lab", None)) if hasattr(obj, "controller")]
    speculative = getattr(tab, "speculative", None)
    if speculative is not None:
        found.append((f"{title}: speculative decoding", speculative))
    return found


def app(splits=None, query=None):
    """The dashboard, opened at the settings of `query` (default: the QUERY_STRING that
    Voila passes to the kernel)."""
    dashboard = Dashboard(splits)
    dashboard.open_link(os.environ.get("QUERY_STRING", "") if query is None else query)
    return dashboard
