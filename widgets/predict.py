"""Predict, then see: the learner commits a prediction before a run reveals the result,
and the prediction is shown next to the outcome.

    guess = predict("Which student ends more accurate on the test set?",
                    ["the distilled one", "the hard-label one", "they tie within a point"])
    guess                       # shows the question and its choices, in a shuffled order
    ...                         # the run
    guess.reveal(f"distilled 0.94, hard labels 0.88", correct="the distilled one")

Used by every lab's scenarios in the app and by the numbered notebooks. `correct` names
the choice the result bears out (None when no single choice is right, for example when
the learner's own settings decide); a prediction is never required to run."""
import html
import random

import ipywidgets as W

NO_CHOICE = "(no prediction)"

# ipywidgets gives each radio label one line's fixed height, so a long choice wraps onto the
# next choice's line and the two overlap. This rule, scoped to the prediction's own class,
# lets a choice wrap and grow, its button first (a flex item does not float, and the input
# follows the text in the DOM: order -1 puts it back on the left). It sits in a hidden HTML
# widget inside each prediction, so a prediction shown alone in a notebook brings it along.
CSS = """<style>
.kd-prediction .widget-radio-box label, .kd-prediction .jupyter-widget-radio-box label {
  height: auto; line-height: 1.35; white-space: normal; overflow-wrap: anywhere;
  display: flex; align-items: flex-start; margin-bottom: 6px;
}
.kd-prediction .widget-radio-box input, .kd-prediction .jupyter-widget-radio-box input {
  flex: none; order: -1; height: 1.35em; line-height: 1.35;
}
</style>"""


class Prediction:
    def __init__(self, question, choices, shuffle=True, rng=None):
        choices = list(choices)
        if not isinstance(question, str) or not question.strip():
            raise ValueError(f"question must be a non-empty string, got {question!r}")
        if len(choices) < 2 or len(set(choices)) != len(choices) or not all(isinstance(c, str) for c in choices):
            raise ValueError(f"choices must be two or more different strings, got {choices!r}")
        self.question, self.choices = question, choices
        shown = list(choices)
        if shuffle:
            (rng or random.Random()).shuffle(shown)
        self.shown = shown
        self.buttons = W.RadioButtons(options=shown, value=None, description="your prediction",
                                      style={"description_width": "initial"}, layout=W.Layout(width="auto"))
        self.buttons.add_class("kd-prediction")
        self.out = W.HTML()
        self.out.add_class("kd-status")  # a live region (widgets.a11y): the outcome is said as it appears
        self.style = W.HTML(CSS, layout=W.Layout(display="none"))  # the rule above, for this page
        self.widget = W.VBox([W.HTML(f"<b>Predict first:</b> {html.escape(question)}"), self.buttons, self.out,
                              self.style], layout=W.Layout(max_width="900px"))
        self.result = None

    @property
    def choice(self):
        """The choice the learner made, None before one is made."""
        return self.buttons.value

    def reveal(self, outcome, correct=None):
        """Show what happened next to the prediction; `correct`: the choice the outcome bears
        out, or None. Returns the text shown (also kept in `.result`)."""
        if correct is not None and correct not in self.choices:
            raise ValueError(f"correct must be one of {self.choices} or None, got {correct!r}")
        mine = self.choice or NO_CHOICE
        if self.choice is None:
            verdict = ""
        elif correct is None:
            verdict = ""
        elif self.choice == correct:
            verdict = " ✓ Your prediction held."
        else:
            verdict = f" ✗ Not this time: the result bears out “{correct}”."
        text = f"You predicted: {mine}. What happened: {outcome}.{verdict}"
        color = "#1b7f3b" if correct is not None and self.choice == correct else \
            "#b00020" if correct is not None and self.choice is not None else "#2d4a6b"
        self.out.value = f"<div class='kd-reveal' style='color:{color}'>{html.escape(text)}</div>"
        self.result = text
        return text

    def reset(self):
        """Clear the revealed result (the choice stays: the learner may keep it)."""
        self.out.value, self.result = "", None

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


def predict(question, choices, shuffle=True):
    """A Prediction shown in a notebook: the question, its choices (shuffled) and, after
    `.reveal(...)`, the outcome beside the learner's choice."""
    return Prediction(question, choices, shuffle=shuffle)
