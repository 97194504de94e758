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


def test_a_class_missing_from_the_split_gives_a_nan_row_as_per_class_accuracy_does(digits, teacher):
    # issue 29: the row of an absent class was all zeros, though rows "sum to 1"
    keep = digits.test.y != 3
    split = wb.data.Split(digits.test.x[keep], digits.test.y[keep])
    m = wb.analysis.dark_knowledge(teacher, split, temperature=4.0)
    assert torch.isnan(m[3]).all()
    present = torch.arange(10) != 3
    assert not torch.isnan(m[present]).any() and torch.allclose(m[present].sum(1), torch.ones(9), atol=1e-5)
    assert torch.isnan(wb.analysis.per_class_accuracy(wb.predict(teacher, split.x), split.y, 10)[3])
    pairs = wb.analysis.most_confusable(m, digits.classes, k=5)
    assert len(pairs) == 5 and all(a != digits.classes[3] and not math.isnan(p) for a, _, p in pairs)
    assert [p for *_, p in pairs] == sorted((p for *_, p in pairs), reverse=True)
    # the widgets' heatmap still draws it: the absent row blank, the other rows as before
    from widgets import plots
    z = plots.dark_knowledge_heatmap(m, digits.classes).data[0].z
    assert all(math.isnan(v) for v in z[3]) and not math.isnan(z[0][1])


def test_most_confusable_asks_for_more_pairs_than_there_are(digits, teacher):
    m = wb.analysis.dark_knowledge(teacher, digits.test, temperature=4.0)
    assert len(wb.analysis.most_confusable(m, digits.classes, k=200)) == 90


def test_bad_analysis_inputs_are_named(teacher, digits):
    with pytest.raises(ValueError, match=r"temperature must be a number from 0.01 to 1000 \(.*\), got 0"):
        wb.analysis.dark_knowledge(teacher, digits.test, 0)
    with pytest.raises(ValueError, match="data must be a workbench.data.Split"):
        wb.analysis.dark_knowledge(teacher, digits, 1.0)


def _fixed_model(columns):
    """A linear model whose logits are its input with its columns taken in `columns` order."""
    model = torch.nn.Linear(10, 10, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(10)[columns])
    return model


def test_report_and_agreement_against_counts_by_hand():
    # 40 inputs, 4 of each class; logits = 2 · one-hot, so every top-1 probability is
    # e²/(e² + 9). The teacher predicts the input's class, the student swaps 0 and 1; the
    # labels of the first ten inputs are (class + 2) mod 10. Counted by hand: the student
    # agrees with the teacher on 32 of 40 (every input but the eight 0s and 1s), is right
    # on 24 (classes 2-9 outside the first ten), the teacher on 30.
    cls = torch.arange(10).repeat(4)
    labels = cls.clone()
    labels[:10] = (cls[:10] + 2) % 10
    data = wb.data.Split(2.0 * torch.nn.functional.one_hot(cls, 10).float(), labels)
    teacher, student = _fixed_model(list(range(10))), _fixed_model([1, 0, *range(2, 10)])
    assert wb.analysis.agreement(student, teacher, data) == pytest.approx(32 / 40, abs=1e-7)
    assert wb.analysis.agreement(teacher, teacher, data) == 1.0
    confidence = math.exp(2) / (math.exp(2) + 9)  # one confidence bin holds all 40
    row = wb.analysis.report(student, data, teacher=teacher)
    assert row["accuracy"] == pytest.approx(24 / 40, abs=1e-7)
    assert row["ece"] == pytest.approx(abs(24 / 40 - confidence), abs=1e-6)
    assert row["agreement"] == pytest.approx(32 / 40, abs=1e-7)
    assert wb.analysis.report(teacher, data)["accuracy"] == pytest.approx(30 / 40, abs=1e-7)


def test_agreement_accuracy_and_calibration(digits, teacher):
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
    # the digits report against counts made here and torchmetrics' ECE (not report's own helpers)
    from torchmetrics.functional.classification import multiclass_calibration_error
    row = wb.analysis.report(weak, digits.test, teacher=teacher)
    weak_logits = wb.predict(weak, digits.test.x)
    right = sum(int(p == y) for p, y in zip(weak_logits.argmax(1).tolist(), digits.test.y.tolist()))
    assert row["accuracy"] == pytest.approx(right / len(digits.test), abs=1e-7)
    ece = multiclass_calibration_error(torch.softmax(weak_logits, 1), digits.test.y, num_classes=10, n_bins=15,
                                       norm="l1")
    assert row["ece"] == pytest.approx(ece.item(), abs=1e-6)
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
