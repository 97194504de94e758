import math

import pytest
import torch

import workbench as wb


def test_entropy_rises_with_temperature_towards_log_c():
    z = torch.tensor([[4.0, 1.0, 0.5, -2.0]])
    h = [wb.analysis.entropy(wb.analysis.soft_labels(z, t)).item() for t in (0.5, 1, 2, 5, 20, 200)]
    assert all(a < b for a, b in zip(h, h[1:]))
    assert h[-1] == pytest.approx(math.log(4), abs=1e-3)
    assert wb.analysis.entropy(torch.tensor([0.0, 1.0, 0.0])).item() == pytest.approx(0.0, abs=1e-6)


def test_wrong_class_mass_is_one_minus_the_true_class_probability():
    p = torch.tensor([[0.05, 0.90, 0.05], [0.2, 0.3, 0.5]])
    assert torch.allclose(wb.analysis.wrong_class_mass(p, torch.tensor([1, 0])), torch.tensor([0.10, 0.80]))


def test_dark_knowledge_rows_are_mean_soft_labels(digits, teacher):
    m = wb.analysis.dark_knowledge(teacher, digits.test, temperature=4.0)
    assert m.shape == (10, 10) and torch.allclose(m.sum(1), torch.ones(10), atol=1e-5)
    assert (m.diagonal() > 0.2).all()  # the true class still leads at T = 4
    by_hand = torch.softmax(wb.predict(teacher, digits.test.x[digits.test.y == 7]) / 4.0, 1).mean(0)
    assert torch.allclose(m[7], by_hand, atol=1e-6)
    assert (wb.analysis.dark_knowledge(teacher, digits.test, 1.0).diagonal() > m.diagonal()).all()
    pairs = wb.analysis.most_confusable(m, digits.classes, k=3)
    assert len(pairs) == 3 and all(a != b for a, b, _ in pairs) and pairs[0][2] >= pairs[1][2] >= pairs[2][2]


def test_bad_analysis_inputs_are_named(teacher, digits):
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got 0"):
        wb.analysis.dark_knowledge(teacher, digits.test, 0)
    with pytest.raises(ValueError, match="data must be a workbench.data.Split"):
        wb.analysis.dark_knowledge(teacher, digits, 1.0)


def test_agreement_accuracy_and_calibration(digits, teacher):
    assert wb.analysis.agreement(teacher, teacher, digits.test) == 1.0
    weak = wb.teachers.get("digits/mlp-weak", device="cpu")
    same = wb.predict(weak, digits.test.x).argmax(1) == wb.predict(teacher, digits.test.x).argmax(1)
    # top-1 predictions compared with each other, not with the labels (weak is ~86% accurate)
    assert wb.analysis.agreement(weak, teacher, digits.test) == pytest.approx(same.float().mean().item(), abs=1e-7)
    logits = wb.predict(teacher, digits.test.x)
    assert wb.analysis.accuracy(logits, digits.test.y) > 0.95
    per_class = wb.analysis.per_class_accuracy(logits, digits.test.y)
    assert per_class.shape == (10,) and per_class.min() > 0.8
    # a perfectly confident, always-right model has ECE 0; one that is always wrong at
    # confidence ~1 has ECE ~1
    labels = torch.arange(10).repeat(5)
    sure = torch.nn.functional.one_hot(labels, 10).float() * 50
    assert wb.analysis.expected_calibration_error(sure, labels) == pytest.approx(0.0, abs=1e-4)
    assert wb.analysis.expected_calibration_error(sure, (labels + 1) % 10) == pytest.approx(1.0, abs=1e-4)
    row = wb.analysis.report(weak, digits.test, teacher=teacher)
    weak_logits = wb.predict(weak, digits.test.x)
    assert row["accuracy"] == wb.analysis.accuracy(weak_logits, digits.test.y)
    assert row["ece"] == pytest.approx(wb.analysis.expected_calibration_error(weak_logits, digits.test.y), abs=1e-7)
    assert row["agreement"] == pytest.approx(same.float().mean().item(), abs=1e-7)


@pytest.mark.parametrize("scale,n_bins", [(0.5, 15), (3.0, 15), (10.0, 10)])
def test_calibration_error_matches_torchmetrics(scale, n_bins):
    from torchmetrics.functional.classification import multiclass_calibration_error
    g = torch.Generator().manual_seed(int(scale * 10))
    logits = torch.randn(500, 10, generator=g) * scale
    labels = torch.where(torch.rand(500, generator=g) < 0.7, logits.argmax(1), torch.randint(0, 10, (500,), generator=g))
    ours = wb.analysis.expected_calibration_error(logits, labels, n_bins=n_bins)
    ref = multiclass_calibration_error(torch.softmax(logits, 1), labels, num_classes=10, n_bins=n_bins, norm="l1")
    assert ours == pytest.approx(ref.item(), abs=1e-6) and ours > 0.01
