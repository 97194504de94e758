import dataclasses
import os

import pytest
import torch

import workbench as wb

# a notebook's "check yourself" claim that does not hold fails its test (ex.check_claim)
os.environ.setdefault("KD_WORKBENCH_STRICT", "1")


@pytest.fixture(autouse=True)
def cpu_and_private_cache(tmp_path_factory, monkeypatch):
    """Every test runs on the CPU with its own empty cache, so no test sees another's files."""
    monkeypatch.setenv("KD_WORKBENCH_DEVICE", "cpu")
    monkeypatch.setenv("KD_WORKBENCH_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def digits():
    return wb.data.load("digits", device="cpu")


@pytest.fixture(scope="session")
def teacher():
    return wb.teachers.get("digits/mlp-large", device="cpu")


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
