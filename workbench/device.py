"""Where tensors live and how runs are made repeatable."""
import contextlib
import os
import random

import numpy as np
import torch

from . import _check

DEVICES = ("cuda", "mps", "cpu")


def pick_device():
    """The best device here: cuda > mps > cpu. KD_WORKBENCH_DEVICE overrides (e.g. 'cpu')."""
    wanted = os.environ.get("KD_WORKBENCH_DEVICE")
    if wanted:
        _check.one_of("KD_WORKBENCH_DEVICE", wanted.split(":")[0], DEVICES)
        return torch.device(wanted)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def as_device(device):
    """`device` as a torch.device: None picks the best one here (pick_device); otherwise a
    torch.device or one of DEVICES, optionally with an index ("cuda:1")."""
    if device is None:
        return pick_device()
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)} (with an index if you like, 'cuda:1') or None "
                         f"for the best one here, got {device!r}")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(f"device must be one of {list(DEVICES)} (with an index if you like, 'cuda:1') or None "
                         f"for the best one here, got {device!r}") from None


def seed_everything(seed):
    """Seed Python, NumPy and torch (all devices) so the same seed gives the same curve.
    `seed` is an integer >= 0 of any integer type (NumPy's included); returned as an int."""
    seed = _check.seed("seed", seed)  # NumPy's legacy seed takes 32 bits
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


def autocast(device):
    """bf16 mixed precision on CUDA; a no-op elsewhere (CPU runs stay exact and repeatable)."""
    if torch.device(device).type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
