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


LONG = ["a choice long enough to need two or three lines in a narrow column, as the labs' own choices do "
        "when the figure beside them takes the width", "a short one",
        "another long choice that wraps: the text gets better because the distilled draft has learned the facts"]


def test_a_prediction_has_its_wrapping_rule_scoped_to_its_own_class():
    guess = Prediction("q?", CHOICES)
    assert "kd-prediction" in guess.buttons._dom_classes and guess.style in guess.widget.children
    assert ".kd-prediction .widget-radio-box label" in guess.style.value and "white-space: normal" in guess.style.value
    assert guess.style.layout.display == "none"


def test_long_choices_wrap_without_overlapping_and_the_speculative_controls_keep_their_width(tmp_path):
    """In a browser: each choice of a prediction in a 300 px column is a box of its own (no two
    overlap), its button on the left, and a long one takes several lines; the speculative view's controls column keeps
    its 440 px beside its drawn 760 px figure in a 1400 px window, so the lookahead slider shows."""
    from test_browser import CHROMIUM_ARGS, SHOTS, chromium_path, voila
    from test_browser_llm import small_view_notebook
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    notebook = small_view_notebook(tmp_path, (
        "import ipywidgets as W\nfrom widgets.predict import Prediction\n"
        "from widgets.live import refresh\nfrom widgets.speculative_view import LABELS, SpeculativeView, acceptance_bars\n"
        f"guess = Prediction('Which?', {LONG!r}, shuffle=False)\nview = SpeculativeView()\n"
        "refresh(view.bars, acceptance_bars([dict(draft=n, acceptance=0.8, predicted=0.8, lookahead=4) for n in LABELS]))\n"
        "W.VBox([W.VBox([guess.widget], layout=W.Layout(width='300px')), view.widget])"))  # bars drawn, as after a Run
    SHOTS.mkdir(parents=True, exist_ok=True)
    with voila(notebook, tmp_path) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, timeout=120_000)
            page.locator(".kd-prediction input[type=radio] >> visible=true").first.wait_for(timeout=120_000)
            page.wait_for_timeout(500)
            boxes = page.locator(".kd-prediction").first.locator("label:has(input[type=radio])").evaluate_all(
                "ls => ls.map(l => { const r = l.getBoundingClientRect(); return [r.top, r.bottom, r.width]; })")
            assert len(boxes) == 3
            lefts = page.locator(".kd-prediction").first.locator("label:has(input[type=radio])").evaluate_all(
                "ls => ls.map(l => l.querySelector('input').getBoundingClientRect().left - l.getBoundingClientRect().left)")
            assert all(x < 10 for x in lefts), lefts  # each button on its label's left, before the text
            assert all(below[0] >= above[1] - 0.5 for above, below in zip(boxes, boxes[1:])), boxes  # no overlap
            line = boxes[1][1] - boxes[1][0]  # the short choice: one line
            assert boxes[0][1] - boxes[0][0] > 1.8 * line and all(b[2] <= 300 for b in boxes), boxes
            page.locator(".kd-prediction").first.screenshot(path=str(SHOTS / "prediction_long_choices.png"))
            slider = page.locator(".widget-slider:has-text('lookahead γ')").first
            column = slider.evaluate("e => e.parentElement.getBoundingClientRect().width")
            track = page.locator(".widget-slider:has-text('lookahead γ') .noUi-target").first.bounding_box()
            assert column >= 439 and track["width"] > 60, (column, track)  # measured 270 px and a folded track before
            page.screenshot(path=str(SHOTS / "speculative_controls.png"), full_page=False)
        finally:
            browser.close()
