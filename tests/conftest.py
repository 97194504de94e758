import dataclasses
import os

import pytest
import torch

import workbench as wb

# a notebook's "check yourself" claim that does not hold fails its test (ex.check_claim)
os.environ.setdefault("KD_WORKBENCH_STRICT", "1")

# The device the tests run on: the CPU, whatever KD_WORKBENCH_DEVICE says outside, unless
# KD_WORKBENCH_TEST_DEVICE=cuda (`make test-gpu`) asks for the GPU.
TEST_DEVICES = ("cpu", "cuda")
TEST_DEVICE = os.environ.get("KD_WORKBENCH_TEST_DEVICE", "cpu")
NO_CUDA = ("KD_WORKBENCH_TEST_DEVICE=cuda, but this machine has no CUDA device (torch.cuda.is_available() is "
           "False): GPU tests skipped, nothing ran")


def pytest_configure(config):
    """A GPU run on a machine without one stops here with one line, rather than run on the CPU
    and pass as if it had been on the GPU. Exit status 0: nothing failed, nothing ran."""
    if TEST_DEVICE.split(":")[0] not in TEST_DEVICES:
        raise pytest.UsageError(f"KD_WORKBENCH_TEST_DEVICE must be one of {list(TEST_DEVICES)} "
                                f"(with an index if you like, 'cuda:1'), got {TEST_DEVICE!r}")
    if TEST_DEVICE.startswith("cuda") and not torch.cuda.is_available():
        pytest.exit(NO_CUDA, returncode=0)


@pytest.fixture(autouse=True)
def test_device_and_private_cache(tmp_path_factory, monkeypatch):
    """Every test runs on TEST_DEVICE (the CPU unless `make test-gpu`) with its own empty
    cache, so no test sees another's files."""
    monkeypatch.setenv("KD_WORKBENCH_DEVICE", TEST_DEVICE)
    monkeypatch.setenv("KD_WORKBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def digits():
    return wb.data.load("digits", device=TEST_DEVICE)


@pytest.fixture(scope="session")
def teacher():
    return wb.teachers.get("digits/mlp-large", device=TEST_DEVICE)


def small_student(splits, seed=0, hidden=(32,)):
    wb.seed_everything(seed)
    return wb.models.build("mlp", splits.input_shape, splits.num_classes, hidden=hidden)


@pytest.fixture
def student_factory():
    return small_student


# Hinton et al. 2015, section 3: no 3 in the transfer set. Run once for the whole suite.
LEFT_OUT_CLASS = 3
LEFT_OUT_SEEDS = (0, 1, 2)
LEFT_OUT_CFG = wb.DistillConfig(temperature=8.0, alpha=1.0, epochs=30)  # lr, batch size: the defaults


@pytest.fixture(scope="session")
def left_out_runs(digits, teacher):
    """{seed: {"distilled": Result, "hard labels": Result}} for seeds 0-2: two mlp(32)
    students from the same initial weights (small_student(digits, seed)), trained on the
    digits training set without any 3 (LEFT_OUT_CFG with that seed), one distilled from
    digits/mlp-large at T = 8, alpha = 1, one on hard labels. Shared: do not train or
    modify the students."""
    transfer = dataclasses.replace(digits, train=wb.data.without_classes(digits.train, [LEFT_OUT_CLASS]))
    runs = {}
    for seed in LEFT_OUT_SEEDS:
        cfg = LEFT_OUT_CFG.replace(seed=seed)
        runs[seed] = {"distilled": wb.distill(small_student(digits, seed), teacher, transfer, cfg),
                      "hard labels": wb.train(small_student(digits, seed), transfer, cfg)}
    return runs


torch.set_num_threads(2)


def pytest_terminal_summary(terminalreporter):
    """Say where the browser tests left their screenshots (captured prints would hide it)."""
    import sys

    browser = sys.modules.get("test_browser")
    if browser is not None and browser.SHOTS_TAKEN:
        terminalreporter.write_line(f"browser test screenshots: {browser.SHOTS}")
