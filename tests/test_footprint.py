"""wb.footprint: parameters, sizes on disk and latency, measured, and bad input named."""
import math

import pytest
import torch

import workbench as wb


def mlp(digits, hidden):
    wb.seed_everything(0)
    return wb.models.build("mlp", digits.input_shape, digits.num_classes, hidden=hidden)


def test_parameters_counts_weights_and_biases(digits):
    assert wb.footprint.parameters(mlp(digits, (32,))) == 64 * 32 + 32 + 32 * 10 + 10
    assert wb.footprint.parameters(mlp(digits, (16, 8))) == 64 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10


def test_sizes_on_disk_are_four_bytes_a_weight_in_float32_and_near_one_in_int8(digits):
    model = mlp(digits, (512,))
    n = wb.footprint.parameters(model)  # 38,410: large enough that the graph's own bytes are small
    size = wb.footprint.size_on_disk(model, digits.input_shape)
    assert 4 * n <= size["float32"] <= 4 * n + 16_000
    assert n <= size["int8"] <= 0.4 * size["float32"]


def test_a_small_student_is_measured_faster_than_the_teacher(digits):
    """Within one run, at batch 1 and at a large batch: digits/cnn (19,562 parameters, two
    conv blocks) against an mlp(16) (1,210)."""
    teacher = wb.teachers.get("digits/cnn")
    student = mlp(digits, (16,))
    for batch in (1, 1024):
        t = wb.footprint.latency(teacher, digits.input_shape, batch, repeats=15)
        s = wb.footprint.latency(student, digits.input_shape, batch, repeats=15)
        assert s < t / 2, (batch, s, t)


def test_latency_of_an_onnx_file_and_a_model_left_as_it_was(digits, tmp_path):
    model = mlp(digits, (32,))
    model.train()
    info = wb.export.onnx(model, tmp_path / "s.onnx", digits, int8=False)
    seconds = wb.footprint.latency(info["path"], digits.input_shape, 8, repeats=5)
    assert math.isfinite(seconds) and seconds > 0
    wb.footprint.latency(model, digits.input_shape, 4, repeats=2)
    assert model.training and next(model.parameters()).device.type == "cpu"


def test_measure_reports_every_figure_on_each_device(digits):
    model = mlp(digits, (16,))
    fp = wb.footprint.measure(model, digits.input_shape, batch_sizes=(1, 64), sizes=False)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    assert set(fp) == {"parameters", "latency_s"} and list(fp["latency_s"]) == devices
    assert all(list(per) == [1, 64] and all(s > 0 for s in per.values()) for per in fp["latency_s"].values())
    assert wb.footprint.measure(model, digits.input_shape, batch_sizes=(1,), devices=["cpu"])["bytes"]["int8"] > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_latency_on_the_gpu_leaves_the_model_on_its_device(digits):
    model = mlp(digits, (32,))
    assert wb.footprint.latency(model, digits.input_shape, 1024, device="cuda", repeats=5) > 0
    assert next(model.parameters()).device.type == "cpu"


def test_bad_input_is_named(digits, tmp_path):
    model = mlp(digits, (16,))
    cases = [
        (lambda: wb.footprint.latency(model, (3, 32, 32)), r"input_shape \(3, 32, 32\) does not fit the model"),
        (lambda: wb.footprint.latency(model, 64), "input_shape must be the shape of one example"),
        (lambda: wb.footprint.latency(model, (1, 8, 8), batch_size=0), "batch_size must be an integer >= 1"),
        (lambda: wb.footprint.latency(model, (1, 8, 8), repeats=0), "repeats must be an integer >= 1"),
        (lambda: wb.footprint.latency(model, (1, 8, 8), device="tpu"), "device must be one of"),
        (lambda: wb.footprint.latency(tmp_path / "none.onnx", (1, 8, 8)), "no such file"),
        (lambda: wb.footprint.parameters([1, 2]), "model must be a torch.nn.Module"),
        (lambda: wb.footprint.size_on_disk(model, (1, 4, 4)), r"input_shape \(1, 4, 4\) does not fit"),
        (lambda: wb.footprint.measure(model, (2, 8, 8)), r"input_shape \(2, 8, 8\) does not fit"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
