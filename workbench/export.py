"""A student you can ship: ONNX export, ONNX Runtime inference and int8 quantization.

    info = wb.export.onnx(student, "student.onnx", splits)
    info["bytes"], info["max_abs_diff"], info["test_acc"]   # file size, ONNX Runtime vs PyTorch

The model goes through torch.onnx.export (the torch.export-based exporter) with a dynamic
batch dimension; ONNX Runtime runs the file on the CPU. int8 is ONNX Runtime's static
quantization: weights and activations int8 with a scale per tensor, the activations'
ranges calibrated on training examples; about a quarter of the weights' bytes. (Its
dynamic quantization, which needs no calibration, runs convolutions through a slow
ConvInteger kernel: 12 times slower than float for the digits CNN at batch 1024.)"""
import contextlib
import copy
import io
import logging
import os
import pathlib
import warnings

import numpy as np
import torch

from . import _check
from .data import Splits

CALIBRATION = 256  # training examples whose activations set the int8 ranges


def check_input_shape(model, input_shape):
    """Run `model` on one zero example of `input_shape` (C, H, W or features, without the
    batch); a ValueError naming input_shape when the model cannot take it."""
    input_shape = _check.input_shape("input_shape", input_shape)
    dtypes = sorted({str(p.dtype).replace("torch.", "") for p in model.parameters() if p.is_floating_point()} -
                    {"float32"})
    if dtypes:
        raise ValueError(f"model parameters are {', '.join(dtypes)}; export and footprint run float32 inputs: "
                         f"call model.float()")
    device = next(model.parameters(), torch.empty(0)).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, *input_shape, device=device))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise ValueError(f"input_shape {tuple(input_shape)} does not fit the model ({first}): pass the shape of one "
                         f"example that the model was built for (splits.input_shape)") from None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor):
        raise ValueError(f"a model must return one tensor of logits, got {type(out).__name__}: wrap it so that "
                         f"forward() returns the logits alone")
    return out


def _writable(path):
    path = pathlib.Path(path)
    folder = path.parent if str(path.parent) else pathlib.Path(".")
    if path.is_dir():
        raise ValueError(f"path must be a file name such as 'student.onnx', got the folder {str(path)!r}")
    if not folder.is_dir():
        raise ValueError(f"path: the folder {str(folder)!r} does not exist; create it or pick another path, "
                         f"got {str(path)!r}")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"path: cannot write {str(path)!r} (no permission); pick a folder you can write to")
    return path


def to_onnx(model, path, input_shape):
    """Write `model` (eval mode, a CPU copy; the model itself is untouched) to the ONNX
    file `path` with a dynamic batch dimension; return the path. ValueError when the path
    cannot be written, the input shape does not fit or the exporter cannot trace the model."""
    path = _writable(path)
    model = copy.deepcopy(model).cpu().eval()
    check_input_shape(model, input_shape)
    example = (torch.zeros(2, *input_shape),)  # 2, not 1: a batch of one would be fixed in the graph
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, example, str(path), dynamo=True, verbose=False, external_data=False,
                              dynamic_shapes=({0: torch.export.Dim("batch")},))
    except Exception as e:  # torch.export's and the ONNX translation's many error types
        first = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise ValueError(f"model: ONNX export could not trace it ({first.strip()[:300]}). Make forward() a "
                         f"fixed sequence of tensor operations (no Python branches on tensor values, no "
                         f"outputs other than the logits)") from None
    return path


def to_int8(path, int8_path, calibration):
    """ONNX Runtime's static int8 quantization of the ONNX file `path`, written to
    `int8_path`; return it. Weights and activations are stored as int8 with a scale per
    tensor (QDQ format, which ONNX Runtime fuses into int8 kernels); the activations'
    ranges come from running the float model on `calibration` (a tensor of inputs, such
    as a few hundred training examples)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Batches(CalibrationDataReader):
        def __init__(self):
            name, x = session(path).get_inputs()[0].name, calibration.detach().float().cpu().numpy()
            self.batches = iter([{name: x[i:i + 64]} for i in range(0, len(x), 64)])

        def get_next(self):
            return next(self.batches, None)

    int8_path = _writable(int8_path)
    logging.disable(logging.WARNING)  # its advice to pre-process the graph, printed on every call
    try:
        quantize_static(str(path), str(int8_path), Batches(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    finally:
        logging.disable(logging.NOTSET)
    return int8_path


def session(path, threads=None):
    """An ONNX Runtime CPU session on the file `path`, using `threads` threads (default:
    as many as torch uses, so that latencies compare)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess, x, chunk=4096):
    """Logits of an ONNX Runtime session on the tensor x (any device), as a CPU tensor."""
    name = sess.get_inputs()[0].name
    x = x.detach().float().cpu().numpy()
    outs = [sess.run(None, {name: np.ascontiguousarray(x[i:i + chunk])})[0] for i in range(0, len(x), chunk)]
    return torch.from_numpy(np.concatenate(outs))


def float32_logits(model, x):
    """Logits of `model` on the tensor x as the exported file computes them: a float32 CPU
    copy of the model in eval mode, no autocast. Not wb.predict: on CUDA that runs under
    bf16 autocast (8 bits of mantissa), whose logits differ from float32's by ~0.06 on a
    trained digits student, where ONNX Runtime and float32 PyTorch differ by ~3e-6; and
    float32 on CUDA may use TF32 convolutions. The model itself is untouched."""
    from .features import predict_features

    copy_ = copy.deepcopy(model).cpu().float()
    return predict_features(copy_, x.detach().cpu().float(), (), mixed_precision=False)[0]


def onnx(model, path, splits, int8=True):
    """Export `model` to the ONNX file `path`, run it with ONNX Runtime on splits' test set
    and compare with PyTorch; with int8, also write its int8 version next to it
    ("student.onnx" → "student.int8.onnx"). Returns

        {"path", "bytes": file size, "max_abs_diff": largest |ONNX Runtime − PyTorch| logit,
         PyTorch in float32 on the CPU (float32_logits), on any device and without autocast,
         "test_acc": {"pytorch", "onnx", and "onnx_int8" with int8},
         with int8: "int8_path", "int8_bytes", "int8_max_abs_diff"}."""
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(splits, Splits):
        raise ValueError(f"splits must be a workbench.data.Splits (from wb.data.load), got {type(splits).__name__}")
    if not isinstance(int8, bool):
        raise ValueError(f"int8 must be True or False, got {int8!r}")
    path = to_onnx(model, path, splits.input_shape)
    test = splits.test
    reference = float32_logits(model, test.x)
    logits = run(session(path), test.x)
    acc = lambda z: (z.argmax(1) == test.y.cpu()).float().mean().item()
    info = {"path": str(path), "bytes": path.stat().st_size, "max_abs_diff": (logits - reference).abs().max().item(),
            "test_acc": {"pytorch": acc(reference), "onnx": acc(logits)}}
    if int8:
        int8_path = to_int8(path, path.with_name(path.name.removesuffix(".onnx") + ".int8.onnx"),
                            splits.train.x[:CALIBRATION])
        quantized = run(session(int8_path), test.x)
        info.update(int8_path=str(int8_path), int8_bytes=int8_path.stat().st_size,
                    int8_max_abs_diff=(quantized - reference).abs().max().item())
        info["test_acc"]["onnx_int8"] = acc(quantized)
    return info
