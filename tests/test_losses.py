import math

import pytest
import torch

import workbench as wb


def softmax(xs, t):
    e = [math.exp(x / t) for x in xs]
    return [v / sum(e) for v in e]


def test_kd_loss_matches_the_formula_by_hand():
    s, t, T = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], [[3.0, 2.0, 1.0], [0.0, 0.0, 4.0]], 2.0
    by_hand = 0.0
    for srow, trow in zip(s, t):
        ps, pt = softmax(srow, T), softmax(trow, T)
        by_hand += sum(b * (math.log(b) - math.log(a)) for a, b in zip(ps, pt))
    by_hand = T**2 * by_hand / len(s)
    got = wb.losses.kd_loss(torch.tensor(s), torch.tensor(t), temperature=T)
    assert got.item() == pytest.approx(by_hand, rel=1e-6)


def test_kd_loss_is_zero_when_student_equals_teacher_and_positive_otherwise():
    z = torch.randn(16, 10, generator=torch.Generator().manual_seed(0))
    assert wb.losses.kd_loss(z, z.clone(), temperature=3.0).item() == pytest.approx(0.0, abs=1e-6)
    assert wb.losses.kd_loss(z, z.flip(1), temperature=3.0).item() > 0.01


def test_t_squared_keeps_gradient_size_comparable_across_temperatures():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(64, 10, generator=g) * 3
    s0 = torch.randn(64, 10, generator=g) * 3
    scaled, unscaled = [], []
    for T in (2.0, 5.0, 10.0, 20.0):
        s = s0.clone().requires_grad_(True)
        wb.losses.kd_loss(s, t, temperature=T).backward()
        scaled.append(s.grad.norm().item())
        unscaled.append(scaled[-1] / T**2)  # the same KL without the T² factor
    assert max(scaled) / min(scaled) < 2.5
    assert max(unscaled) / min(unscaled) > 50


def test_soft_targets_are_softmax_of_logits_over_t():
    z = torch.tensor([[2.0, 1.0, 0.0]])
    assert torch.allclose(wb.losses.soft_targets(z, 2.0), torch.tensor([softmax([2.0, 1.0, 0.0], 2.0)]))


@pytest.mark.parametrize("temperature", [0, -1.0, float("nan"), float("inf"), "4"])
def test_bad_temperature_is_named(temperature):
    z = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"temperature must be a number from 0.01 to 1000 \(.*\), got"):
        wb.losses.kd_loss(z, z, temperature=temperature)


def test_mismatched_shapes_and_nan_logits_are_named():
    with pytest.raises(ValueError, match=r"student_logits and teacher_logits must have the same shape.*\(2, 3\).*\(2, 4\)"):
        wb.losses.kd_loss(torch.zeros(2, 3), torch.zeros(2, 4), temperature=1.0)
    bad = torch.zeros(2, 3)
    bad[0, 1] = float("nan")
    with pytest.raises(ValueError, match="teacher_logits must be finite"):
        wb.losses.kd_loss(torch.zeros(2, 3), bad, temperature=1.0)
    with pytest.raises(ValueError, match="student_logits must have 2 dimensions"):
        wb.losses.kd_loss(torch.zeros(3), torch.zeros(3), temperature=1.0)
