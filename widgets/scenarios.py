"""Named scenarios for any lab: a menu that sets the lab's controls in one click and a
line that says what a Run will show.

A lab passes `scenarios` ({name: (changes, what it shows)}) and `defaults` ({control
attribute: value}); choosing a scenario sets every control in `defaults` to its value,
overridden by the scenario's `changes`. The first scenario is the lab's default."""
import html

import ipywidgets as W
from traitlets import TraitError


class ScenarioPicker:
    def __init__(self, lab, scenarios, defaults):
        self.lab, self.scenarios, self.defaults = lab, scenarios, defaults
        first = next(iter(scenarios))
        self.menu = W.Dropdown(options=["(choose one)"] + list(scenarios), value=first, description="scenario",
                               style={"description_width": "initial"}, layout=W.Layout(width="420px"))
        self.outcome = W.HTML(self.outcome_html(scenarios[first][1]), layout=W.Layout(width="420px"))
        self.menu.observe(lambda change: self.use(change["new"]), names="value")
        self.widget = W.VBox([self.menu, self.outcome])
        self._using = False
        for control in defaults:  # a control moved away from the scenario: the menu no longer names it
            if hasattr(lab, control):
                getattr(lab, control).observe(self._edited, names="value")

    def _edited(self, _):
        name = self.menu.value
        if self._using or name not in self.scenarios:
            return
        wanted = {**self.defaults, **self.scenarios[name][0]}
        if any(getattr(self.lab, c).value != v for c, v in wanted.items() if hasattr(self.lab, c)):
            self.menu.value = "(choose one)"

    @staticmethod
    def outcome_html(shows):
        return f"<div style='color:#2d4a6b;font-size:90%'><b>Press Run:</b> {html.escape(shows)}</div>"

    def use(self, name):
        """Set the controls for scenario `name` and show what it should show ("" for none)."""
        if name not in self.scenarios:
            self.outcome.value = ""
            return
        changes, shows = self.scenarios[name]
        self._using = True
        try:
            for control, value in {**self.defaults, **changes}.items():
                try:
                    getattr(self.lab, control).value = value
                except TraitError:  # an option this lab was built without (another data set's teacher): keep it
                    pass
        finally:
            self._using = False
        self.outcome.value = self.outcome_html(shows)
