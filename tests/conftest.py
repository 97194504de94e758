import pytest
import torch

import workbench as wb


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


torch.set_num_threads(2)


def pytest_terminal_summary(terminalreporter):
    """Say where the browser tests left their screenshots (captured prints would hide it)."""
    import sys

    browser = sys.modules.get("test_browser")
    if browser is not None and browser.SHOTS_TAKEN:
        terminalreporter.write_line(f"browser test screenshots: {browser.SHOTS}")
