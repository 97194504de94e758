"""The exercises: every solution passes its checks, every blank runs and says "not
answered", and every check fails the known-wrong answers with the mistake named (a
check that always passes or never passes is caught here)."""
import math
import pathlib

import nbformat
import pytest
import torch
import torch.nn.functional as F

from workbench import exercises as ex

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.name for p in (NOTEBOOKS / "exercises").glob("*.ipynb"))


def checked_cells(path):
    """Run a notebook's code cells in one namespace (quizzes skipped); return the value
    of every cell that ends in an ex.check_… call."""
    ns, results = {}, []
    for cell in nbformat.read(path, 4).cells:
        if cell.cell_type != "code" or cell.source.startswith("quiz("):
            continue
        *body, last = cell.source.rstrip().split("\n")
        exec("\n".join(body if last.startswith("ex.check_") else body + [last]), ns)
        if last.startswith("ex.check_"):
            results.append((last, eval(last, ns)))
    return results


def test_there_is_a_solution_for_every_exercise():
    assert NAMES == sorted(p.name for p in (NOTEBOOKS / "solutions").glob("*.ipynb")) and len(NAMES) == 7


@pytest.mark.parametrize("name", NAMES)
def test_every_solution_passes_its_checks(name):
    results = checked_cells(NOTEBOOKS / "solutions" / name)
    assert results and all(fb.passed is True for _, fb in results), [(c, str(fb)) for c, fb in results]


@pytest.mark.parametrize("name", NAMES)
def test_a_blank_exercise_runs_and_says_not_answered(name):
    results = checked_cells(NOTEBOOKS / "exercises" / name)
    assert results and all(fb.passed is None for _, fb in results), [(c, str(fb)) for c, fb in results]


def kl(a, b):
    return F.kl_div(a, b, reduction="batchmean", log_target=True)


WRONG_KD = {
    "divided by T²": lambda s, t, T: kl(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1)),
    "swapped": lambda s, t, T: kl(F.log_softmax(t / T, -1), F.log_softmax(s / T, -1)) * T ** 2,
    "number of classes": lambda s, t, T: F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1),
                                                  reduction="sum") / s.numel() * T ** 2,
    "times the batch size": lambda s, t, T: F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1),
                                                     reduction="sum") * T ** 2,
    "teacher's distribution is taken at T = 1": lambda s, t, T: kl(F.log_softmax(s / T, -1),
                                                                  F.log_softmax(t, -1)) * T ** 2,
    "no gradient": lambda s, t, T: kl(F.log_softmax(s.detach() / T, -1), F.log_softmax(t / T, -1)) * T ** 2,
    "one number": lambda s, t, T: F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="none"),
    "raised ZeroDivisionError": lambda s, t, T: 1 / 0,
}


@pytest.mark.parametrize("mistake", WRONG_KD)
def test_kd_loss_mistakes_are_named(mistake):
    fb = ex.check_kd_loss(WRONG_KD[mistake])
    assert fb.passed is False and mistake in fb.message, str(fb)
    assert "log_softmax" not in str(fb) and "T**2" not in str(fb)  # feedback, never the solution


@pytest.mark.parametrize("check, answer, words", [
    (ex.check_soft_labels, lambda z, T: F.softmax(z, -1), "do not change with T"),
    (ex.check_soft_labels, lambda z, T: F.softmax(z * T, -1), "sharper"),
    (ex.check_soft_labels, lambda z, T: F.log_softmax(z / T, -1), "log-probabilities"),
    (ex.check_soft_labels, lambda z, T: F.softmax(z / T, 0), "column"),
    (ex.check_bias_correction, lambda z, c, d: z + d, "Every class"),
    (ex.check_bias_correction, lambda z, c, d: z.index_add_(1, torch.tensor([c]), torch.full((len(z), 1), d)),
     "in place"),
])
def test_function_mistakes_are_named(check, answer, words):
    fb = check(answer)
    assert fb.passed is False and words in fb.message, str(fb)


def test_objective_mistakes_are_named():
    kd = lambda s, t, T: kl(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1)) * T ** 2
    swapped = lambda s, t, y, T, a: (1 - a) * kd(s, t, T) + a * F.cross_entropy(s, y)
    assert "alpha weighs the cross-entropy" in ex.check_kd_objective(swapped).message
    hot_ce = lambda s, t, y, T, a: a * kd(s, t, T) + (1 - a) * F.cross_entropy(s / T, y)
    assert "temperature T" in ex.check_kd_objective(hot_ce).message


def test_left_out_delta_fails_when_wrong_and_passes_when_right():
    logits = torch.zeros(20, 4)
    logits[:, 0] = 1.0
    logits[10:, 2] = 2.0
    labels = torch.tensor([3] * 10 + [2] * 10)
    assert not ex.check_left_out_delta(0.5, logits, labels, 3)  # 3s still lose
    assert ex.check_left_out_delta(1.5, logits, labels, 3)      # 3s win, the 2s stay 2s
    assert "too much" in ex.check_left_out_delta(5.0, logits, labels, 3).message


def test_unfinished_answers_never_crash():
    def unfinished(*args):
        raise NotImplementedError
    for check in (ex.check_soft_labels, ex.check_kd_loss, ex.check_kd_objective, ex.check_bias_correction):
        assert check(unfinished).passed is None and check(None).passed is None and check(...).passed is None


def test_feedback_shows_itself_in_a_notebook():
    fb = ex.check_kd_loss(WRONG_KD["swapped"])
    html = fb._repr_html_()
    assert "kd-not-yet" in html and "Hint:" in html and "✗" in str(fb) and not fb
