"""What a screen reader hears of a lab run, and numbers of any type in the labs' tables."""
import numpy as np

import workbench as wb
from widgets import FeatureLab, plots
from widgets.live import html_table


def test_a_two_student_lab_says_its_progress_in_epochs(digits):
    lab = FeatureLab(digits, epochs=2)
    said = []
    lab.controller.on_end.append(lambda completed: said.append(lab.controller.progress_words()))
    assert lab.controller.progress_words() == "epoch 0 of 2"
    lab.controller.start()
    assert lab.message.text == "Done."
    assert said == ["epoch 2 of 2"]


def test_numpy_floats_are_formatted_like_python_floats():
    rows = {"student": {"acc": np.float32(0.912345), "gain": 0.05}}
    assert "0.912" in html_table(rows) and "0.912345" not in html_table(rows)
    cells = plots.comparison_table(rows).data[0].cells.values
    assert cells[1] == ["0.912"]


def children(widget):
    """Every widget in a layout, depth first."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from children(child)


def test_every_lab_shown_alone_brings_the_accessibility_widget(digits):
    from widgets import a11y
    from widgets.dark_knowledge import DarkKnowledgeMap
    from widgets.temperature import TemperatureExplorer
    for lab in (TemperatureExplorer(digits), DarkKnowledgeMap(digits), FeatureLab(digits)):
        assert any(w is a11y.ensure() for w in children(lab.widget)), type(lab).__name__
