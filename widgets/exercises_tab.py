"""ExercisesTab: the exercises' short-answer checks in the app. Multiple-choice questions
(workbench.exercises.QUESTIONS, each answer with its own feedback) and the number
answers of the white-box and collapse exercises, checked on the spot by the same
functions the exercise notebooks use."""
import html
import random

import ipywidgets as W

from workbench import exercises as ex
from workbench import recording

TITLES = {"soft_labels": "Soft labels and temperature", "kd_loss": "The KD loss",
          "temperature_alpha": "Choosing T and alpha", "left_out": "The left-out digit",
          "features_relations": "Features and relations", "white_black_box": "White-box and black-box",
          "collapse": "Model collapse", "payoff": "The payoff: size, speed and shipping",
          "beyond": "Beyond Hinton: what research found since 2015",
          "reasoning": "Distilling reasoning: worked steps and a verifier"}


def _feedback_html(passed, text):
    color = "#1b7f3b" if passed else "#b00020"
    mark = "✓" if passed else "✗"
    return f"<div class='kd-feedback' style='color:{color}'>{mark} {html.escape(text)}</div>"


def multiple_choice(question, rng=None, question_id=None):
    """A question with radio buttons, its answers in a random order (a new one each time
    it is built, i.e. per page load; `rng`, a random.Random, fixes it); choosing an answer
    shows that answer's feedback and, where a class records (workbench.recording), sends
    the choice to the class board as `question_id`'s answer."""
    answers = list(question["answers"])
    (rng or random.Random()).shuffle(answers)
    buttons = W.RadioButtons(options=[a["answer"] for a in answers], value=None, description="your answer",
                             style={"description_width": "initial"}, layout=W.Layout(width="auto"))
    out = W.HTML()
    out.add_class("kd-status")  # a live region (widgets.a11y): the feedback is said as it appears

    def show(change):
        chosen = next(a for a in answers if a["answer"] == change["new"])
        out.value = _feedback_html(chosen["correct"], chosen["feedback"])
        if question_id is not None:
            recording.record_answer(question_id, chosen["answer"], bool(chosen["correct"]))
    buttons.observe(show, names="value")
    return W.VBox([W.HTML(f"<b>{html.escape(question['question'])}</b>"), buttons, out])


def question_id(topic, index):
    """The class board's id of QUESTIONS[topic][index]: "kd_loss-2" for the second."""
    return f"{topic}-{index + 1}"


def number_answer(prompt, labels, check):
    """Number boxes and a Check button; check(*values) gives the Feedback shown."""
    boxes = [W.FloatText(description=label, style={"description_width": "initial"},
                         layout=W.Layout(width="260px")) for label in labels]
    button = W.Button(description="Check", icon="check")
    out = W.HTML()
    out.add_class("kd-status")

    def run(_):
        out.value = check(*[b.value for b in boxes])._repr_html_()
    button.on_click(run)
    return W.VBox([W.HTML(prompt), W.HBox(boxes + [button]), out])


NUMBERS = {
    "white_black_box": ("A fact's truth is p = (0.60, 0.38, 0.02); a student says q = (0.90, 0.05, 0.05). "
                        "What are KL(p ‖ q) and KL(q ‖ p), in nats, to 3 decimals?",
                        ["forward KL(p ‖ q)", "reverse KL(q ‖ p)"], ex.check_forward_reverse),
    "collapse": ("A Gaussian of variance 1 is refitted by maximum likelihood to 50 samples of its previous fit, "
                 "80 times. What is the expected variance at the end, to 3 decimals?", ["expected variance"],
                 lambda v: ex.check_expected_variance(v, n=50, k=80)),
}


def quiz(topic):
    """Show a topic's questions in a notebook with jupyterquiz, each question's answers in
    a random order (click an answer to see its feedback)."""
    from jupyterquiz import display_quiz  # imported when used: its JavaScript is for notebooks

    if topic not in ex.QUESTIONS:
        raise ValueError(f"topic must be one of {list(ex.QUESTIONS)}, got {topic!r}")
    display_quiz(ex.QUESTIONS[topic], shuffle_answers=True)


class ExercisesTab:
    """`rng` (a random.Random) fixes the order of the answers; by default each tab built,
    i.e. each page load of the app, shows its own order."""

    def __init__(self, splits=None, rng=None):
        rng = rng or random.Random()
        sections, titles = [], []
        for topic, questions in ex.QUESTIONS.items():
            parts = [multiple_choice(q, rng, question_id(topic, i)) for i, q in enumerate(questions)]
            if topic in NUMBERS:
                parts.append(number_answer(*NUMBERS[topic]))
            sections.append(W.VBox(parts))
            titles.append(TITLES[topic])
        self.sections = W.Accordion(children=sections, titles=titles, selected_index=0)
        intro = W.HTML("<p style='max-width:900px'>Short questions on each topic, checked on the spot. The "
                       "exercise notebooks (<code>notebooks/exercises/</code>) have the longer tasks where you "
                       "write the code yourself.</p>")
        self.widget = W.VBox([intro, self.sections])
