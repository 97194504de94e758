"""The KD term a run records is the KL it names, at every temperature the engine accepts:
T² · soft cross-entropy − T² · the teacher's entropy in float32 cancels two numbers near
T² · ln C, so for a student close to its teacher the loop recomputes it exactly (float64)."""
import copy

import pytest
import torch

import workbench as wb


def float64_kd(student, teacher, x, temperature):
    """T² · mean KL(softmax(t/T) ‖ softmax(s/T)), all in float64: the reference."""
    with torch.no_grad():
        log_p = (teacher(x).double() / temperature).log_softmax(1)
        log_q = (student(x).double() / temperature).log_softmax(1)
    return float((log_p.exp() * (log_p - log_q)).sum(1).mean() * temperature**2)


@pytest.mark.parametrize("temperature", [4.0, 50.0, 1000.0])
@pytest.mark.parametrize("gap", [0.01, 1.0])
def test_the_recorded_kd_term_is_the_kl_for_a_student_close_to_its_teacher(digits, teacher, temperature, gap):
    student = copy.deepcopy(teacher).requires_grad_(True)
    with torch.no_grad():  # logits that differ from the teacher's by ~gap per class
        student.head.bias.add_(gap * torch.randn(student.head.bias.shape, generator=torch.Generator().manual_seed(0)))
    x = digits.train.x
    expected = float64_kd(student, teacher, x, temperature)
    seen = []  # one full batch: the step's KD term covers every training example, before the update
    cfg = wb.DistillConfig(temperature=temperature, alpha=1.0, epochs=1, batch_size=len(x), lr=1e-12)
    wb.distill(student, teacher, digits, cfg, callbacks=[lambda e: seen.append(e.metrics)], every_step=True)
    step = seen[0]
    assert step["kd"] == pytest.approx(expected, rel=1e-3)
    assert step["loss"] == pytest.approx(expected, rel=1e-3)  # alpha = 1: the loss is the KD term
