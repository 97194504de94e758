"""DarkKnowledgeMap: which classes the teacher finds alike, at a chosen temperature."""
import html

import ipywidgets as W

import workbench as wb

from . import plots
from . import a11y
from .controls import temperature_slider
from .live import Message, guarded, live, refresh
from .teacher_cache import teacher


class DarkKnowledgeMap:
    def __init__(self, splits=None, teacher_names=None, temperature=4.0, top=5):
        self.splits = splits or wb.data.load("digits")
        names = teacher_names or wb.teachers.available(self.splits.name)
        self.top = top
        self.message = Message()
        self.teacher = W.Dropdown(options=names, value=names[0], description="teacher")
        # the whole test set goes through the teacher: recompute on release, not while dragging
        self.temperature = temperature_slider(temperature, continuous=False)
        self.pairs = W.HTML()
        self.heatmap = live(self.figure())
        update = guarded(self.message, lambda *_: self.update())
        self.teacher.observe(update, names="value")
        self.temperature.observe(update, names="value")
        self.widget = W.VBox([W.HBox([self.teacher, self.temperature]), self.message,
                              W.HBox([self.heatmap.view, self.pairs]), a11y.ensure()])

    def figure(self):
        """The heatmap for the current controls; sets the list of confusable pairs."""
        name = self.teacher.value
        t = self.temperature.value
        self.matrix = wb.analysis.dark_knowledge(teacher(name, self.splits.test.x.device), self.splits.test, t)
        pairs = wb.analysis.most_confusable(self.matrix, self.splits.classes, k=self.top)
        items = "".join(f"<li>a <b>{html.escape(a)}</b> puts {p:.3f} on <b>{html.escape(b)}</b></li>" for a, b, p in pairs)
        self.pairs.value = f"<h4>Most confusable pairs</h4><ol>{items}</ol>"
        return plots.dark_knowledge_heatmap(self.matrix, self.splits.classes,
                                            title=f"{name}: mean soft label per true class, T = {t:.2f}")

    def update(self):
        refresh(self.heatmap, self.figure())
        self.message.clear()
        return self.matrix
