"""What a model costs to keep and to run: its parameters, its size on disk in float32 and
after int8 quantization, and its inference latency. This is what distillation buys: a
student that keeps most of the teacher's accuracy at a fraction of each.

    fp = wb.footprint.measure(student, splits.input_shape)
    fp["parameters"], fp["bytes"]["float32"], fp["bytes"]["int8"], fp["latency_s"]["cpu"][1]

Sizes are those of the ONNX files the model ships as (workbench.export: float32, and int8
after ONNX Runtime's static quantization). Latency is the median of repeated forward
passes after a warm-up, at torch's current thread count; on a GPU the clock waits for
the device to finish."""
import copy
import pathlib
import statistics
import tempfile
import time

import torch

from . import _check, export
from .device import as_device

BATCH_SIZES = (1, 1024)  # one request at a time, and a large batch (throughput)


def parameters(model):
    """Number of parameters (weights and biases) of `model`."""
    _module("model", model)
    return sum(p.numel() for p in model.parameters())


def size_on_disk(model, input_shape):
    """{"float32": bytes, "int8": bytes} of `model`'s ONNX file, as exported and after ONNX
    Runtime's static int8 quantization; written to a temporary folder and removed. An
    ONNX export: about a second."""
    _module("model", model)
    with tempfile.TemporaryDirectory() as folder:
        path = export.to_onnx(model, pathlib.Path(folder) / "model.onnx", input_shape)
        # calibrated on random inputs: the file's size does not depend on the ranges found
        noise = torch.randn(64, *_check.input_shape("input_shape", input_shape), generator=torch.Generator().manual_seed(0))
        int8 = export.to_int8(path, pathlib.Path(folder) / "model.int8.onnx", noise)
        return {"float32": path.stat().st_size, "int8": int8.stat().st_size}


def latency(model, input_shape, batch_size=1, device="cpu", repeats=30, warmup=3):
    """Median seconds of one forward pass of `model` on a batch of `batch_size` random
    examples of `input_shape`, after `warmup` passes. `model` is a torch.nn.Module (run on
    `device`, a copy: the model stays where it is) or the path of an ONNX file (run by
    ONNX Runtime on the CPU)."""
    batch_size = _check.positive_int("batch_size", batch_size)
    repeats = _check.positive_int("repeats", repeats)
    warmup = _check.non_negative_int("warmup", warmup)
    x = torch.randn(batch_size, *_check.input_shape("input_shape", input_shape), generator=torch.Generator().manual_seed(0))
    if isinstance(model, (str, pathlib.Path)):
        if not pathlib.Path(model).is_file():
            raise ValueError(f"model must be a torch.nn.Module or the path of an ONNX file, got {str(model)!r} "
                             f"(no such file)")
        sess = export.session(model)
        name, array = sess.get_inputs()[0].name, x.numpy()
        forward, sync = (lambda: sess.run(None, {name: array})), (lambda: None)
    else:
        _module("model", model)
        device = as_device(device)
        export.check_input_shape(model, input_shape)
        model = copy.deepcopy(model).to(device).eval()
        x = x.to(device)
        forward = lambda: model(x)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            forward()
            sync()
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(model, input_shape, batch_sizes=BATCH_SIZES, devices=None, sizes=True):
    """Everything above for one model: {"parameters", "bytes": {"float32", "int8"} (when
    `sizes`; an ONNX export, about a second), "latency_s": {device: {batch size: seconds}}}
    on the CPU and, when there is one, the GPU (or the `devices` given)."""
    _module("model", model)
    export.check_input_shape(model, input_shape)
    if devices is None:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    result = {"parameters": parameters(model),
              "latency_s": {str(d): {b: latency(model, input_shape, b, d) for b in batch_sizes} for d in devices}}
    if sizes:
        result["bytes"] = size_on_disk(model, input_shape)
    return result


def _module(name, model):
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")

