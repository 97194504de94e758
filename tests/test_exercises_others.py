"""Checks for feature/relation, white-box/black-box and collapse exercises
(workbench/exercises/others.py): each mistake named, right answers pass."""
import math

import pytest
import torch

from workbench import exercises as ex


@pytest.mark.parametrize("check, answer, words", [
    (ex.check_rkd_distances, lambda e: torch.cdist(e, e), "raw distances"),
    (ex.check_rkd_distances, lambda e: torch.cdist(e, e) / torch.cdist(e, e).mean(), "diagonal"),
    (ex.check_refit, lambda x: (x.mean().item(), x.var().item()), "unbiased"),
    (ex.check_refit, lambda x: (x.mean().item(), x.std(correction=0).item()), "standard deviation"),
])
def test_function_mistakes_are_named(check, answer, words):
    fb = check(answer)
    assert fb.passed is False and words in fb.message, str(fb)


def test_number_answers_fail_when_wrong_and_pass_when_right():
    p, q = torch.tensor([0.60, 0.38, 0.02]), torch.tensor([0.90, 0.05, 0.05])
    f, r = (p * (p / q).log()).sum().item(), (q * (q / p).log()).sum().item()
    assert ex.check_forward_reverse(f, r) and "swapped" in ex.check_forward_reverse(r, f).message
    assert "bits" in ex.check_forward_reverse(f / math.log(2), r / math.log(2)).message
    assert ex.check_expected_variance(0.98 ** 80) and not ex.check_expected_variance(1.0)
    assert "compounds" in ex.check_expected_variance(1 - 80 / 50).message
    results = {1.0: 0.88, 4.0: 0.92, 8.0: 0.93}
    assert ex.check_best(8.0, results) and not ex.check_best(4.0, results) and not ex.check_best(2.0, results)


def test_unfinished_answers_never_crash():
    def unfinished(*args):
        raise NotImplementedError
    for check in (ex.check_rkd_distances, ex.check_refit):
        assert check(unfinished).passed is None and check(None).passed is None and check(...).passed is None
    assert ex.check_expected_variance(...).passed is None and ex.check_best(None, {1: 0.5}).passed is None
