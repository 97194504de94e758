"""The quiz bank (workbench.exercises.QUESTIONS) and the app's Exercises tab."""
import pytest

from workbench import exercises as ex


def test_there_is_a_quiz_per_exercise_topic():
    assert {"soft_labels", "kd_loss", "temperature_alpha", "left_out", "features_relations", "white_black_box",
            "collapse"} <= set(ex.QUESTIONS)


def test_every_question_has_one_right_answer_and_feedback_for_each():
    for topic, questions in ex.QUESTIONS.items():
        for q in questions:
            assert sum(a["correct"] for a in q["answers"]) == 1, (topic, q["question"])
            assert all(a["feedback"] for a in q["answers"])
    from widgets import quiz
    with pytest.raises(ValueError, match="topic must be one of"):
        quiz("nonsense")


def test_the_exercises_tab_checks_answers_on_the_spot():
    from widgets.app import TABS
    from widgets.exercises_tab import ExercisesTab

    assert "Exercises" in [t for t, _ in TABS]
    tab = ExercisesTab()
    assert len(tab.sections.children) == len(ex.QUESTIONS)
    question = tab.sections.children[0].children[0]
    buttons, out = question.children[1], question.children[2]
    right = next(a for a in ex.QUESTIONS["soft_labels"][0]["answers"] if a["correct"])
    wrong = next(a for a in ex.QUESTIONS["soft_labels"][0]["answers"] if not a["correct"])
    buttons.value = wrong["answer"]
    assert "✗" in out.value and wrong["feedback"][:20] in out.value
    buttons.value = right["answer"]
    assert "✓" in out.value
    collapse = tab.sections.children[list(ex.QUESTIONS).index("collapse")].children[-1]
    box, check = collapse.children[1].children
    box.value = 1.0
    check.click()
    assert "kd-not-yet" in collapse.children[2].value
    box.value = 0.98 ** 80
    check.click()
    assert "kd-correct" in collapse.children[2].value
