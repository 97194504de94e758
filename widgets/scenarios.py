"""Named scenarios for any lab, each asked as a question before it is run: predict, then see.

A lab passes `scenarios` ({name: Scenario}), `defaults` ({control attribute: value}) and
`own` (the Scenario asked when the controls are the learner's own, no named scenario).
Choosing a scenario sets every control in `defaults` to its value, overridden by the
scenario's `changes`, and shows its question with its choices (shuffled; a prediction is
invited, never required). The outcome stays hidden until a Run ends: then the picker
shows it next to the learner's prediction, with ✓ or ✗ when the run's own numbers bear
out one choice (the scenario's `judge`). The first scenario is the lab's default."""
import dataclasses
import re
from typing import Callable, Optional

import ipywidgets as W
from traitlets import TraitError

from .predict import Prediction

OWN_SETTINGS = "(choose one)"  # the menu's entry for the learner's own settings


@dataclasses.dataclass(frozen=True)
class Scenario:
    """changes: {control: value} on top of the lab's defaults. question, choices: asked
    before Run (3-4 real alternatives). expected: the choice `outcome` states (what the
    scenario shows over seeds, asserted in tests/test_scenarios.py). outcome: revealed
    after Run. judge(lab) -> (what this run measured, the choice its numbers bear out or
    None); without a judge only the stated outcome is revealed, with no ✓/✗."""
    changes: dict
    question: str
    choices: tuple
    expected: Optional[str]
    outcome: str
    judge: Optional[Callable] = None

    def __post_init__(self):
        if len(self.choices) < 3 or len(set(self.choices)) != len(self.choices):
            raise ValueError(f"choices must be three or more different answers, got {self.choices!r}")
        if self.expected is not None and self.expected not in self.choices:
            raise ValueError(f"expected must be one of {list(self.choices)} or None, got {self.expected!r}")

    def verdict(self, lab):
        """(the text revealed after a run of `lab`, the choice it bears out or None)."""
        measured, correct = self.judge(lab) if self.judge else ("", None)
        text = " ".join(t.strip().rstrip(".") + "." for t in (measured, self.outcome) if t.strip())
        return text.rstrip("."), correct


def compare(a, b, margin, choices):
    """The one of choices (a ahead, level, b ahead) that `a` vs `b` bears out, where
    "ahead" means by more than `margin`."""
    ahead, level, behind = choices
    return ahead if a - b > margin else behind if b - a > margin else level


def numbers(text):
    """The numbers written in `text` ("2.8", "350", "1,200"), for checking that a
    question does not give its outcome away."""
    return set(re.findall(r"\d+(?:,\d{3})*(?:\.\d+)?", text))


class ScenarioPicker:
    """The menu (`.menu`), the prediction for the chosen scenario (`.ask`, a box whose
    content follows the menu; `.prediction`), and the reveal when a run of `controller`
    ends (`.revealed`: the text shown; `.judged`: the choice the run bore out, or None)."""

    def __init__(self, lab, scenarios, defaults, own, controller=None):
        self.lab, self.scenarios, self.defaults, self.own = lab, scenarios, defaults, own
        first = next(iter(scenarios))
        self.menu = W.Dropdown(options=[OWN_SETTINGS] + list(scenarios), value=first, description="scenario",
                               style={"description_width": "initial"}, layout=W.Layout(width="420px"))
        self.predictions = {}  # one per scenario, built when first shown, so a choice is kept
        self.ask = W.VBox(layout=W.Layout(width="100%"))
        self.asked = None  # (menu name, Scenario) of the run in progress (its prediction is locked)
        self.revealed = self.judged = None  # the text revealed after the last run, the choice it bore out
        self.show(first)
        self.menu.observe(lambda change: self.use(change["new"]), names="value")
        self.widget = self.menu
        self._using = False
        for control in defaults:  # a control moved away from the scenario: the menu no longer names it
            if hasattr(lab, control):
                getattr(lab, control).observe(self._edited, names="value")
        if controller is not None:
            controller.on_start.append(self.run_started)
            controller.on_end.append(self.run_ended)
        self._edited(None)  # a lab built with other settings (epochs=30, ...) is not the first scenario

    @property
    def scenario(self):
        """The Scenario the menu names (the lab's `own` question for the learner's own settings)."""
        return self.scenarios.get(self.menu.value, self.own)

    @property
    def prediction(self):
        return self.predictions[self.menu.value]

    def show(self, name):
        if name not in self.predictions:
            s = self.scenarios.get(name, self.own)
            self.predictions[name] = Prediction(s.question, s.choices)
        self.predictions[name].reset()
        self.ask.children = [self.predictions[name].widget]

    def _edited(self, _):
        name = self.menu.value
        if self._using or name not in self.scenarios:
            return
        wanted = {**self.defaults, **self.scenarios[name].changes}
        if any(getattr(self.lab, c).value != v for c, v in wanted.items() if hasattr(self.lab, c)):
            self.menu.value = OWN_SETTINGS

    def use(self, name):
        """Set the controls for scenario `name` and ask its question (the lab's own question for OWN_SETTINGS)."""
        if name in self.scenarios:
            self._using = True
            try:
                for control, value in {**self.defaults, **self.scenarios[name].changes}.items():
                    try:
                        getattr(self.lab, control).value = value
                    except TraitError:  # an option this lab was built without (another data set's teacher): keep it
                        pass
            finally:
                self._using = False
        self.show(name)

    def run_started(self):
        """A run begins: the prediction in place is the one it answers, locked until the end."""
        self.asked, self.revealed, self.judged = (self.menu.value, self.scenario), None, None
        self.prediction.reset()
        self.prediction.buttons.disabled = True

    def run_ended(self, completed):
        """A run ended: reveal its outcome next to the prediction (not after Stop or an error)."""
        name, scenario = self.asked or (self.menu.value, self.scenario)
        prediction = self.predictions[name]
        prediction.buttons.disabled = False
        self.asked = None
        if completed:
            text, self.judged = scenario.verdict(self.lab)
            self.revealed = prediction.reveal(text, correct=self.judged)
