"""The engine's GPU paths: the run on the device, bf16 autocast for the student's step, the
teacher's outputs kept on the device in float32, the fused optimizer on cuda.

The tests marked `cuda` skip without a CUDA device (`make test-gpu` runs them with the rest
of the engine's tests on the GPU). Where a GPU path can be forced on the CPU (bf16
autocast) it is tested here on every machine."""
import math
import os
import subprocess
import sys

import pytest
import torch

import workbench as wb
from workbench.features import predict
from workbench.teacher_outputs import TeacherOutputs

TRAIN = sys.modules["workbench.train"]  # the module (wb.train is the function)
cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="no CUDA device here: the GPU paths are tested by `make test-gpu` on a GPU machine")
RELATION_AND_HINT = dict(feature_weight=1.0, feature_pairs=[("act2", "act1")],
                         relation_weight=25.0, relation_pair=("act2", "act1"))


def mlp_student(splits, seed=0):
    wb.seed_everything(seed)
    return wb.models.build("mlp", splits.input_shape, splits.num_classes, hidden=(32,))


def first_step_and_dtypes(student, teacher, splits, cfg):
    """(the Result, the first step's history row, the dtypes of the student's first
    Linear layer's outputs during the training steps)."""
    dtypes, rows = set(), []
    fc1 = student.fc1
    hook = fc1.register_forward_hook(lambda m, i, out: dtypes.add(out.dtype) if m.training else None)
    try:
        res = wb.distill(student, teacher, splits, cfg, every_step=True,
                         callbacks=[lambda e: rows.append(e.metrics) if e.kind == "step" else None])
    finally:
        hook.remove()
    return res, rows[0], dtypes


@pytest.fixture(scope="module")
def on_cpu():
    """(digits splits, digits/mlp-large) on the CPU, whatever device the run's tests use."""
    return wb.data.load("digits", device="cpu"), wb.teachers.get("digits/mlp-large", device="cpu")


@pytest.fixture(scope="module")
def on_cuda():
    """(digits splits, digits/mlp-large) on the GPU."""
    return wb.data.load("digits", device="cuda"), wb.teachers.get("digits/mlp-large", device="cuda")


def test_the_loop_runs_under_bf16_autocast_forced_on_the_cpu(on_cpu, monkeypatch):
    """What CUDA's bf16 autocast does to the step (bf16 activations; logits, loss terms and
    gradients back in float32), forced on the CPU: the run finishes with finite losses, its
    first step's loss within bf16's rounding of the float32 run's, the weights float32."""
    digits, teacher = on_cpu
    cfg = wb.DistillConfig(epochs=2, **RELATION_AND_HINT)
    exact, exact_first, exact_dtypes = first_step_and_dtypes(mlp_student(digits), teacher, digits, cfg)
    monkeypatch.setattr(TRAIN, "autocast", lambda device: torch.autocast("cpu", dtype=torch.bfloat16))
    mixed, mixed_first, mixed_dtypes = first_step_and_dtypes(mlp_student(digits), teacher, digits, cfg)

    assert exact_dtypes == {torch.float32} and mixed_dtypes == {torch.bfloat16}  # the forced path really ran
    assert all(math.isfinite(row[k]) for row in mixed.history for k in ("loss", "kd", "ce", "feature", "relation"))
    assert all(p.dtype == torch.float32 for p in mixed.student.parameters())
    # bf16 keeps 8 bits of mantissa (relative rounding 2^-8 = 0.4% per op); the same first batch from
    # the same weights: measured 2e-5 relative apart on the loss, 1e-4 on the relation term
    for term in ("loss", "kd", "ce", "feature", "relation"):
        assert mixed_first[term] == pytest.approx(exact_first[term], rel=1e-2), term


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here: the GPU run is not skipped")
def test_a_gpu_test_run_without_a_gpu_stops_with_one_line_and_runs_nothing():
    """KD_WORKBENCH_TEST_DEVICE=cuda (make test-gpu) on a machine without CUDA must not run the
    tests on the CPU as if on the GPU: it says so in one line, runs nothing, exits 0."""
    env = {**os.environ, "KD_WORKBENCH_TEST_DEVICE": "cuda"}
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/test_config.py", "-p", "no:cacheprovider"],
                          cwd=os.path.dirname(os.path.dirname(__file__)), env=env, capture_output=True, text=True,
                          timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "no CUDA device" in out and "nothing ran" in out, out
    assert " passed" not in out and "collected" not in out, out


@cuda
def test_a_distilled_run_lands_on_cuda_with_bf16_autocast(on_cuda):
    splits, teacher = on_cuda
    cfg = wb.DistillConfig(epochs=3, **RELATION_AND_HINT)
    res, _, dtypes = first_step_and_dtypes(mlp_student(splits), teacher, splits, cfg)
    assert dtypes == {torch.bfloat16}  # the student's step under bf16 autocast
    assert {p.device.type for p in res.student.parameters()} == {"cuda"}
    assert {p.device.type for p in res.regressors.parameters()} == {"cuda"}
    assert all(p.dtype == torch.float32 for p in res.student.parameters())  # master weights stay float32
    assert all(math.isfinite(row[k]) for row in res.history for k in ("loss", "kd", "ce", "feature", "relation"))
    assert res.diverged is None and len(res.history) == 3


@cuda
def test_the_teacher_outputs_are_kept_on_the_device_in_float32(on_cpu, on_cuda):
    splits, gpu_teacher = on_cuda
    digits, teacher = on_cpu
    cfg = wb.DistillConfig(**RELATION_AND_HINT)
    gpu = TeacherOutputs(gpu_teacher, mlp_student(splits), splits.train.x, cfg)
    cpu = TeacherOutputs(teacher, mlp_student(digits), digits.train.x, cfg)
    assert gpu.cached
    assert {t.device.type for t in gpu._cache.values()} == {"cuda"}
    assert {t.dtype for t in gpu._cache.values()} == {torch.float32}
    assert gpu.bytes == sum(t.numel() * t.element_size() for t in gpu._cache.values())
    # computed without autocast: float32 on both sides, so only kernel-order rounding apart
    # (a teacher pass under bf16 would be ~1e-2 off at T = 4)
    for name in cpu._cache:
        torch.testing.assert_close(gpu._cache[name].cpu(), cpu._cache[name], rtol=1e-4, atol=1e-5)
    idx = torch.arange(0, len(splits.train), 7, device="cuda")
    batch = gpu(idx)
    assert batch.soft_labels.device.type == "cuda"
    torch.testing.assert_close(batch.soft_labels.cpu(), cpu(idx.cpu()).soft_labels, rtol=1e-4, atol=1e-5)


@cuda
def test_predictions_under_autocast_are_close_to_the_cpus_float32(on_cpu, on_cuda):
    """predict() runs under bf16 autocast on CUDA: the logits within bf16's rounding of
    the CPU's float32 ones (issue 21 measured ~0.06 of max |diff| on CUDA for the ONNX check)."""
    splits, gpu_teacher = on_cuda
    digits, teacher = on_cpu
    gpu_logits = predict(gpu_teacher, splits.test.x).cpu()
    cpu_logits = predict(teacher, digits.test.x)
    assert gpu_logits.dtype == torch.float32
    assert (gpu_logits - cpu_logits).abs().max() <= 0.05 * cpu_logits.abs().max()


@cuda
def test_a_gpu_run_ends_where_the_cpu_run_does(on_cpu, on_cuda):
    """The same run (seed 0, same initial weights, same batch order) on the GPU and on the CPU:
    the first step's loss within bf16's rounding, the test accuracy after 10 epochs within
    the seed-to-seed spread. Measured on the CPU, seeds 0-4: test accuracy 0.919-0.939,
    sd 0.0077; two independent runs differ with sd 0.011, so 0.035 is over 3 sd."""
    splits, gpu_teacher = on_cuda
    digits, teacher = on_cpu
    cfg = wb.DistillConfig(epochs=10)
    gpu, gpu_first, _ = first_step_and_dtypes(mlp_student(splits), gpu_teacher, splits, cfg)
    cpu, cpu_first, _ = first_step_and_dtypes(mlp_student(digits), teacher, digits, cfg)
    assert gpu_first["loss"] == pytest.approx(cpu_first["loss"], rel=1e-2)
    assert math.isfinite(gpu.metrics["test_acc"])
    assert abs(gpu.metrics["test_acc"] - cpu.metrics["test_acc"]) <= 0.035
