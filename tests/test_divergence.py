"""Result.diverged: a run stops on a loss that is NaN, inf or 1000 times the scale it
started from (divergence_limit), and never on a distillation loss that rounds to zero or
just below it."""
import copy
import math

import pytest
import torch

import workbench as wb
from workbench.train import divergence_limit


@pytest.mark.parametrize("temperature", [2.0, 4.0, 8.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_a_kd_loss_that_rounds_to_zero_or_below_does_not_stop_the_run(digits, teacher, temperature, seed):
    """A student that starts as an exact copy of its teacher, distilled with alpha = 1:
    the loss is the KD term alone, a KL divergence that is 0 in exact arithmetic, and reads
    0 or ±T²·1e-7 in float32 (measured: down to -1.5e-5 at T = 8). The old rule (stop above
    1000 x the first step's loss) stopped 4 of these 6 runs, one as early as step 2."""
    student = copy.deepcopy(teacher).requires_grad_(True)
    events = []
    cfg = wb.DistillConfig(temperature=temperature, alpha=1.0, epochs=2, lr=1e-6, seed=seed)
    res = wb.distill(student, teacher, digits, cfg, callbacks=[events.append], every_step=True)
    losses = [e.metrics["loss"] for e in events if e.kind == "step"]
    assert min(losses) <= 0.0  # the case under test: the loss touched zero
    assert max(abs(v) for v in losses) < temperature**2 * 1e-6  # ... from rounding alone
    assert res.diverged is None and len(res.history) == 2
    assert len(losses) == 2 * -(-len(digits.train) // cfg.batch_size)  # every step of both epochs ran


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_diverging_run_stops_and_its_message_names_the_learning_rate_and_the_loss(digits, optimizer):
    wb.seed_everything(0)
    student = wb.models.build("mlp", digits.input_shape, digits.num_classes, hidden=(32,))
    res = wb.train(student, digits, wb.DistillConfig(lr=1e3, optimizer=optimizer, epochs=5))
    d = res.diverged
    assert d and d["epoch"] == 1 and d["step"] >= 2 and len(res.history) == 0
    assert not math.isfinite(d["loss"]) or d["loss"] > d["limit"] >= 1000 * math.log(10)
    assert d["lr"] == 1e3 and "lr=1000" in d["message"] and "lower the learning rate" in d["message"]
    seen = f"{d['loss']:.3g}" if math.isfinite(d["loss"]) else str(d["loss"])
    assert seen in d["message"] and f"epoch 1, step {d['step']}" in d["message"]


def test_the_limit_is_1000_times_the_first_loss_or_ln_c_whichever_is_larger():
    assert divergence_limit(5.0, 10) == pytest.approx(5000.0)
    for start in (-2e-6, 0.0, 1e-7, 1.0):  # a first loss below ln 10 = 2.30: the uniform guess's scale
        assert divergence_limit(start, 10) == pytest.approx(1000 * math.log(10))
    assert divergence_limit(0.0, 2) == pytest.approx(1000 * math.log(2))


def test_a_nan_on_the_first_step_stops_the_run(digits):
    """A student whose weights are NaN: the first step's loss is NaN and the run ends
    there, with no limit to compare against."""
    student = wb.models.build("mlp", digits.input_shape, digits.num_classes, hidden=(8,))
    with torch.no_grad():
        student.fc1.weight.fill_(math.nan)
    res = wb.train(student, digits, wb.DistillConfig(epochs=2))
    assert res.diverged["step"] == 1 and math.isnan(res.diverged["loss"])
    assert "the loss became nan at epoch 1, step 1" in res.diverged["message"]


def test_a_student_without_trainable_parameters_is_named(digits, teacher):
    with pytest.raises(ValueError, match=r"student has no trainable parameters .*student.requires_grad_\(True\)"):
        wb.distill(copy.deepcopy(teacher), teacher, digits, wb.DistillConfig(epochs=1))
