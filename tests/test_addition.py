"""The reasoning lab's task (workbench.llm.addition, issue 27): problems, the worked forms
against addition done here digit by digit, and the verifier."""
import pytest

from workbench.llm import addition


def test_a_worked_example_in_each_form():
    assert addition.prompt(347, 285) == "347+285="
    assert addition.worked(347, 285) == "7+5+0=12,4+8+1=13,3+2+1=6,632."
    assert addition.worked(347, 285, "terse") == "21,31,60,632."
    assert addition.answer_only(347, 285) == "632."
    assert addition.worked(999, 1) == "9+1+0=10,9+0+1=10,9+0+1=10,1000."  # a carry out of the top column


@pytest.mark.parametrize("form", addition.FORMS)
def test_the_steps_of_every_form_add_up_column_by_column(form):
    for a, b in addition.problems(300, digits=4, seed=1):
        text = addition.worked(a, b, form)
        steps = text.split(",")[:-1]
        assert len(steps) == 4 and set(text) <= set(addition.CHARS) and text.endswith(addition.STOP)
        carry, digits = 0, []
        for i, step in enumerate(steps):  # ones column first
            da, db = a // 10**i % 10, b // 10**i % 10
            total = da + db + carry
            assert step == (f"{da}+{db}+{carry}={total}" if form == "verbose" else f"{total % 10}{total // 10}")
            digits.append(total % 10)
            carry = total // 10
        assert int(str(carry) + "".join(map(str, reversed(digits)))) == a + b == addition.final_answer(text)


def test_the_verifier_reads_the_final_answer_and_not_the_steps():
    p = (347, 285)
    assert addition.is_correct(p, "7+5+0=12,4+8+1=13,3+2+1=6,632.")
    assert addition.is_correct(p, "9+9+9=99,632.")  # wrong steps, right answer: the verifier checks answers
    assert addition.is_correct(p, "632.")
    assert not addition.is_correct(p, "7+5+0=12,4+8+1=13,3+2+1=6,532.")
    assert not addition.is_correct(p, "7+5+0=12,4+8+1=13,3+2+1=6,632")  # no stop: unfinished
    assert not addition.is_correct(p, "7+5+0=12,")
    assert not addition.is_correct(p, "")
    assert addition.final_answer("3+2+1=6.") == 6 and addition.final_answer(",.") is None


def test_problems_are_distinct_reproducible_and_avoid_a_held_out_set():
    test = addition.problems(500, seed=7)
    train = addition.problems(2000, seed=1, exclude=test)
    assert len(set(train)) == 2000 and not set(train) & set(test)
    assert all(100 <= n <= 999 for pair in train for n in pair)
    assert train == addition.problems(2000, seed=1, exclude=test) != addition.problems(2000, seed=2, exclude=test)
    assert addition.problems(81, digits=1) and len(set(addition.problems(81, digits=1))) == 81  # all of them


@pytest.mark.parametrize("call, message", [
    (lambda: addition.problems(0), "count must be an integer >= 1, got 0"),
    (lambda: addition.problems(5, digits=0), "digits must be an integer >= 1, got 0"),
    (lambda: addition.problems(5, digits=9), "digits must be an integer from 1 to 8, got 9"),
    (lambda: addition.problems(82, digits=1), "count must be at most the 81 problems of 1 digits not excluded"),
    (lambda: addition.worked(1, 2, "long"), r"form must be one of \['verbose', 'terse'\], got 'long'"),
])
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the teacher: pretrained "addition" (shipped, rebuilt by `make teachers`) ---------------

TEACHER_TEMPERATURE = 1.4


@pytest.fixture(scope="module")
def teacher():
    from workbench.llm import pretrained
    return pretrained.get("addition", device="cpu", progress=False)


def teacher_accuracy(teacher, temperature, seed=0):
    import torch
    from workbench.llm import gpt
    held_out = addition.held_out()
    ids = teacher.tokenizer.batch([addition.prompt(a, b) for a, b in held_out])[0]
    out = gpt.generate(teacher, ids, 40, temperature=temperature, stop=teacher.tokenizer.stoi[addition.STOP],
                       generator=torch.Generator().manual_seed(seed))
    done = [teacher.tokenizer.decode(row)[len(addition.prompt(a, b)):] for row, (a, b) in zip(out, held_out)]
    return sum(addition.is_correct(p, c) for p, c in zip(held_out, done)) / len(held_out)


def test_the_teacher_is_right_greedily_and_wrong_sometimes_when_sampled_hot(teacher):
    """Measured on the 500 held-out problems: greedy 1.000; sampled at T = 1.0 0.996-1.000,
    T = 1.3 0.954-0.972, T = 1.4 0.930, 0.916, 0.928, T = 1.5 0.872-0.878 (seeds 0-2). The
    reasoning lab wants a teacher that is not perfect, 90-97% at the temperature it samples
    at (1.4), so that whether its mistakes are filtered out matters."""
    assert teacher_accuracy(teacher, 0.0) >= 0.99
    sampled = [teacher_accuracy(teacher, TEACHER_TEMPERATURE, seed) for seed in range(3)]
    assert all(0.90 <= acc <= 0.97 for acc in sampled), sampled


def test_the_teachers_corpus_leaves_out_the_held_out_problems():
    from workbench.llm import pretrained
    r = pretrained.RECIPES["addition"]
    corpus = set(addition.problems(r.sentences, seed=r.seed, exclude=addition.held_out(addition.DIGITS)))
    assert len(corpus) == r.sentences and not corpus & set(addition.held_out())
