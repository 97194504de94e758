"""The quiz bank (workbench.exercises.QUESTIONS) and the app's Exercises tab: every question
has at least three answers, exactly one right, each with its own feedback; the right
answer's place in the source varies; the answers are shown shuffled."""
import html
import random
import re
from collections import Counter

import pytest

from workbench import exercises as ex

EXERCISE_TOPICS = ("soft_labels", "kd_loss", "temperature_alpha", "left_out", "features_relations",
                   "white_black_box", "collapse")
ALL_QUESTIONS = [(topic, q) for topic, questions in ex.QUESTIONS.items() for q in questions]


def right_position(question):
    return [a["correct"] for a in question["answers"]].index(True)


def test_there_are_three_questions_per_exercise_topic_and_a_payoff_topic():
    assert set(EXERCISE_TOPICS) | {"payoff"} <= set(ex.QUESTIONS)
    short = {topic: len(ex.QUESTIONS[topic]) for topic in (*EXERCISE_TOPICS, "payoff")
             if len(ex.QUESTIONS[topic]) < 3}
    assert not short, f"topics with fewer than 3 questions: {short}"


@pytest.mark.parametrize("topic, question", ALL_QUESTIONS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(ALL_QUESTIONS)])
def test_every_question_has_three_answers_one_right_and_feedback_for_each(topic, question):
    answers = question["answers"]
    assert question["type"] == "multiple_choice" and question["question"].strip()
    assert len(answers) >= 3, "a question needs at least three answers (two real misconceptions)"
    assert sum(a["correct"] is True for a in answers) == 1
    assert all(a["correct"] in (True, False) for a in answers)
    texts = [a["answer"] for a in answers]
    assert len(set(texts)) == len(texts), "two answers read the same: the radio buttons could not tell them apart"
    feedbacks = [a["feedback"] for a in answers]
    assert all(isinstance(f, str) and len(f) > 20 for f in feedbacks), "each answer says why it is right or wrong"
    assert len(set(feedbacks)) == len(feedbacks), "each answer gets its own feedback"
    for a in answers:  # the feedback opens with its verdict: "Yes" for the right answer, "No"/"Not"/"Closer" else
        verdict = re.match(r"\w+", a["feedback"]).group()
        assert verdict in (("Yes",) if a["correct"] else ("No", "Not", "Closer")), (a["answer"], verdict)


def test_most_questions_have_four_answers():
    four = sum(len(q["answers"]) >= 4 for _, q in ALL_QUESTIONS)
    assert four >= 0.8 * len(ALL_QUESTIONS), f"only {four} of {len(ALL_QUESTIONS)} questions have 4 answers"


def test_no_position_holds_more_than_half_of_the_right_answers():
    counts = Counter(right_position(q) for _, q in ALL_QUESTIONS)
    assert max(counts.values()) <= len(ALL_QUESTIONS) / 2, dict(counts)
    assert len(counts) >= 3, dict(counts)  # the right answer sits in at least three different places


def test_the_t_to_0_feedback_says_the_term_vanishes_and_targets_the_teachers_argmax():
    """Issue 28, lesson 5: as T → 0, T²·KL → 0 and its targets are the teacher's argmax,
    not the true labels; at T = 1 it is cross-entropy with the soft labels minus their entropy."""
    soft = next(a for a in ex.QUESTIONS["soft_labels"][0]["answers"] if a["answer"] == "the one-hot hard label")
    assert "T → 0" in soft["feedback"] and "argmax" in soft["feedback"]
    high_t = ex.QUESTIONS["temperature_alpha"][0]
    hard = next(a for a in high_t["answers"] if a["answer"] == "cross-entropy with the hard labels")
    assert not hard["correct"]
    assert "goes to 0" in hard["feedback"] and "teacher's argmax, not the true labels" in hard["feedback"]
    assert "T = 1" in hard["feedback"] and "minus their entropy" in hard["feedback"]
    right = next(a for a in high_t["answers"] if a["correct"])
    assert "logits" in right["answer"] and "mean" in right["answer"]


def test_the_notebook_quiz_shuffles_answers_and_refuses_an_unknown_topic(monkeypatch):
    import jupyterquiz.dynamic.display as jq

    shown = []
    monkeypatch.setattr(jq, "display", lambda *objs: shown.extend(objs))
    from widgets import quiz
    quiz("kd_loss")
    page = "".join(getattr(o, "data", "") or "" for o in shown)
    assert 'data-shuffleanswers="True"' in page
    with pytest.raises(ValueError, match="topic must be one of"):
        quiz("nonsense")


def shown_orders(tab):
    """[[answer text, ...] per question] in the order the tab shows them."""
    from widgets.exercises_tab import NUMBERS
    orders = []
    for topic, section in zip(ex.QUESTIONS, tab.sections.children):
        questions = section.children[:-1] if topic in NUMBERS else section.children
        orders += [list(q.children[1].options) for q in questions]
    return orders


def test_the_exercises_tab_shows_answers_in_a_new_order_each_time_it_is_built():
    from widgets.exercises_tab import ExercisesTab, multiple_choice

    source = [[a["answer"] for a in q["answers"]] for _, q in ALL_QUESTIONS]
    first, second = shown_orders(ExercisesTab()), shown_orders(ExercisesTab())
    assert [sorted(o) for o in first] == [sorted(o) for o in source]  # every answer shown, none added
    # 37 questions of 3-4 answers: two unseeded builds agree on every order with chance < 1e-40
    assert first != second
    assert first != source  # the source order (with its varied right answer) is not what is shown
    # the right answer's shown place varies: over 60 builds it sits in every place of a 4-answer question
    question = ex.QUESTIONS["kd_loss"][0]
    right = next(a["answer"] for a in question["answers"] if a["correct"])
    places = {multiple_choice(question).children[1].options.index(right) for _ in range(60)}
    assert places == {0, 1, 2, 3}  # chance of missing a place in 60 builds: < 4 · 0.75^60 ≈ 1e-7
    # a fixed rng gives a fixed order
    assert shown_orders(ExercisesTab(rng=random.Random(1))) == shown_orders(ExercisesTab(rng=random.Random(1)))


def test_the_exercises_tab_checks_answers_on_the_spot():
    from widgets.app import TABS
    from widgets.exercises_tab import TITLES, ExercisesTab

    assert "Exercises" in [t for t, _ in TABS]
    tab = ExercisesTab(rng=random.Random(0))
    assert len(tab.sections.children) == len(ex.QUESTIONS)
    assert [tab.sections.get_title(i) for i in range(len(ex.QUESTIONS))] == [TITLES[t] for t in ex.QUESTIONS]
    for topic, section in zip(ex.QUESTIONS, tab.sections.children):
        for source, shown in zip(ex.QUESTIONS[topic], section.children):
            buttons, out = shown.children[1], shown.children[2]
            assert buttons.description == "your answer"  # the radio group's accessible name
            for answer in source["answers"]:  # every answer, right or wrong, shows its own feedback
                buttons.value = answer["answer"]
                assert ("✓" if answer["correct"] else "✗") in out.value
                assert ("✗" if answer["correct"] else "✓") not in out.value
                assert html.escape(answer["feedback"]) in out.value
    collapse = tab.sections.children[list(ex.QUESTIONS).index("collapse")].children[-1]
    box, check = collapse.children[1].children
    assert box.description and check.description  # named controls
    box.value = 1.0
    check.click()
    assert "kd-not-yet" in collapse.children[2].value
    box.value = 0.98 ** 80
    check.click()
    assert "kd-correct" in collapse.children[2].value
