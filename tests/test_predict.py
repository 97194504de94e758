"""widgets.predict: the learner's prediction shown next to what a run found, and the
shared run controller's hooks that lock it while a run is in progress."""
import random

import pytest

import workbench as wb
from widgets import CollapseLab, DistillationLab
from widgets.predict import NO_CHOICE, Prediction
from widgets.runner import RunController

CHOICES = ["the distilled one", "the hard-label one", "they tie within a point"]


def test_the_reveal_puts_the_prediction_next_to_the_outcome_and_judges_it():
    guess = Prediction("Which student ends more accurate?", CHOICES, shuffle=False)
    assert NO_CHOICE in guess.reveal("distilled 0.94, hard 0.88", correct="the distilled one")
    assert "✓" not in guess.out.value and "✗" not in guess.out.value  # no prediction, no verdict
    guess.buttons.value = "the hard-label one"
    text = guess.reveal("distilled 0.94, hard 0.88", correct="the distilled one")
    assert text.startswith("You predicted: the hard-label one.") and "✗" in text and "the distilled one" in text
    guess.buttons.value = "the distilled one"
    assert "✓" in guess.reveal("distilled 0.94, hard 0.88", correct="the distilled one")
    assert "✓" not in guess.reveal("level", correct=None) and guess.result.endswith("What happened: level.")
    guess.reset()
    assert guess.out.value == "" and guess.result is None and guess.choice == "the distilled one"


def test_choices_are_shuffled_per_prediction():
    orders = {tuple(Prediction("q?", CHOICES, rng=random.Random(seed)).shown) for seed in range(20)}
    assert len(orders) > 1 and all(sorted(o) == sorted(CHOICES) for o in orders)
    assert Prediction("q?", CHOICES, shuffle=False).shown == CHOICES


@pytest.mark.parametrize("question, choices, match", [
    ("", CHOICES, "question"), ("q?", ["only one"], "choices"), ("q?", ["a", "a", "b"], "choices"),
])
def test_bad_questions_and_choices_are_named(question, choices, match):
    with pytest.raises(ValueError, match=match):
        Prediction(question, choices)


def test_a_correct_choice_that_is_not_offered_is_named():
    with pytest.raises(ValueError, match="correct must be one of"):
        Prediction("q?", CHOICES).reveal("x", correct="something else")


def test_a_lab_built_with_other_settings_asks_its_own_question_not_the_first_scenarios(digits):
    assert DistillationLab(digits).picker.menu.value == "small data (the default)"
    assert DistillationLab(digits, epochs=30).picker.menu.value == "(choose one)"
    assert CollapseLab(setting="zipf").picker.menu.value == "(choose one)"


def test_a_start_hook_that_fails_leaves_the_controls_unlocked_with_a_message():
    import ipywidgets as W

    box = W.IntText()
    controller = RunController(lambda stop: iter([1.0]), lambda: None)
    controller.lock(box)
    controller.on_start.append(lambda: 1 / 0)
    controller.start()
    assert "ZeroDivisionError" in controller.message.text
    assert not box.disabled and not controller.run_button.disabled


@pytest.mark.parametrize("estimator", ["ml", "unbiased"])
def test_a_gaussian_chain_needs_two_samples_with_either_estimator(estimator):
    with pytest.raises(ValueError, match="samples must be at least 2 for setting 'gaussian'.*got 1"):
        wb.collapse.run("gaussian", generations=2, samples=1, estimator=estimator)
