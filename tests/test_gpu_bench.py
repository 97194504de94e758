"""bench/gpu.py (make bench-gpu) cannot rot while no GPU is at hand: its code runs here on
the CPU with a few images (--device cpu --small), over real MNIST files written in
torchvision's format and over synthetic CIFAR-10, and without a GPU it skips in one line."""
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from test_data import write_idx

ROOT = pathlib.Path(__file__).resolve().parent.parent
SMALL_FILES, SMALL_TEST = 160, 64  # bench/gpu.py's --small: training-file and test images at most
MNIST_FILES, MNIST_TEST = 120, 40  # written here
CLASSES = 10


def bench_gpu(*args, cache, timeout=900):
    env = {**os.environ, "KD_WORKBENCH_CACHE": str(cache)}
    return subprocess.run([sys.executable, str(ROOT / "bench" / "gpu.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def section(out, name):
    """The lines bench/gpu.py prints for one data set."""
    start = out.index(f"\n{name}: ")
    end = out.find("\n\n", start + 1)
    return out[start:end if end > 0 else None]


def split_sizes(files, test):
    """(train, val, test) as workbench.data splits the training files: 1/12 kept for validation."""
    val = round(files / 12)
    return files - val, val, test


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here: bench/gpu.py does not skip")
def test_without_a_gpu_it_skips_in_one_line(tmp_path):
    done = bench_gpu(cache=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [done.stdout.strip()]
    assert "skipped, no CUDA device" in done.stdout


def test_it_runs_on_the_cpu_with_real_files_and_with_synthetic_data(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "data" / "MNIST" / "raw"
    for prefix, n in (("train", MNIST_FILES), ("t10k", MNIST_TEST)):
        write_idx(raw, prefix, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                  (np.arange(n) % CLASSES).astype(np.uint8))
    done = bench_gpu("--device", "cpu", "--small", "--epochs", "2", cache=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout

    mnist, cifar = section(out, "mnist"), section(out, "cifar10")
    expected = {"mnist": (mnist, split_sizes(MNIST_FILES, MNIST_TEST), "the real files from"),
                "cifar10": (cifar, split_sizes(SMALL_FILES, SMALL_TEST), "synthetic: random data of the real shapes")}
    for name, (lines, (train, val, test), source) in expected.items():
        assert f"{train:,} train / {val:,} val / {test:,} test" in lines, lines
        assert source in lines, lines
        rows = re.findall(r"\n  (\S+\(.*?\))\s+([\d.]+)s\s+([\d.]+)s\s+([\d.]+)", lines)
        assert len(rows) == 2, lines  # two students, each hard-label and distilled
        for student, hard, distilled, ratio in rows:
            assert float(hard) > 0 and float(distilled) > 0
            # the times are printed to the millisecond (±0.0005 s) and the ratio to 0.01 (±0.005): the printed
            # ratio must lie within what the printed times allow, so an inverted ratio still fails
            h, d, r = float(hard), float(distilled), float(ratio)
            low, high = (d - 0.0005) / (h + 0.0005), (d + 0.0005) / max(h - 0.0005, 1e-9)
            assert low - 0.005 <= r <= high + 0.005, (student, lines)
        # the cache keeps soft labels and logits (10 classes each) and one entropy per training example, float32
        cached = int(re.search(r"teacher-output cache: [\d.]+ MB \(([\d,]+) bytes\)", lines)[1].replace(",", ""))
        assert cached == train * (2 * CLASSES + 1) * 4, lines
    assert "1x28x28" in mnist and "3x32x32" in cifar
