"""The small pieces every experiment of workbench.beyond shares: digits, a teacher trained
from a size and a recipe (cached for the process: the labs run them again and again), and
a student trained on a share of the training data, with or without a teacher."""
import dataclasses
import functools

import torch

from .. import _check, data, models
from ..config import DistillConfig
from ..train import distill, train

STUDENT_RECIPE = dict(epochs=150, lr=1e-2)  # the Distillation lab's: 150 epochs at lr 1e-2 on 10% of the images


def built(hidden, seed):
    """An MLP for digits with `hidden` units (empty: linear), its initial weights drawn
    from `seed` (the caller's random stream is left as it was)."""
    splits = digits()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return models.build("mlp", splits.input_shape, splits.num_classes, hidden=tuple(hidden))


@functools.lru_cache(maxsize=1)
def digits():
    """wb.data.load("digits") on the CPU, loaded once."""
    return data.load("digits", device="cpu")


def on(train_split, splits=None):
    """`splits` (digits by default) with `train_split` as its training split (the transfer set)."""
    return dataclasses.replace(splits or digits(), train=train_split)


def share(fraction, seed):
    """The digits training split subsampled to `fraction` (the same images for the same seed)."""
    return on(data.subsample(digits().train, fraction, seed=seed))


class Stopped(Exception):
    """A run's stop event was set: the experiment ends, keeping what finished."""


def teacher(hidden, epochs=60, label_smoothing=0.0, seed=0, stop=None):
    """(an MLP with `hidden` units trained on all digits' training images for `epochs` at
    lr 1e-3, batch 64 (the shipped MLP teachers' recipe), frozen; its test accuracy). An
    empty `hidden` is a linear model. Trained once per process for the same arguments
    (the model is frozen, so sharing it is safe). Raises Stopped when `stop` is set."""
    if check_stop(stop):
        raise Stopped
    return _teacher(tuple(hidden), int(epochs), float(label_smoothing), int(seed))


@functools.lru_cache(maxsize=32)
def _teacher(hidden, epochs, label_smoothing, seed):
    splits = digits()
    model = built(hidden, seed)
    cfg = DistillConfig(epochs=epochs, lr=1e-3, batch_size=64, seed=seed, label_smoothing=label_smoothing)
    res = train(model, splits, cfg)
    return model.eval().requires_grad_(False), res.metrics["test_acc"]


def student(splits, hidden, seed, teacher=None, stop=None, **cfg):
    """(the trained MLP student, its Result): distilled from `teacher` when given, else
    on hard labels; cfg overrides STUDENT_RECIPE and DistillConfig's defaults. Raises
    Stopped when `stop` is set before or during the run (a half-trained student is never
    reported as a result)."""
    if check_stop(stop):
        raise Stopped
    model = built(hidden, seed)
    config = DistillConfig(seed=seed, **{**STUDENT_RECIPE, **cfg})
    res = distill(model, teacher, splits, config, stop=stop) if teacher is not None else train(model, splits, config,
                                                                                                  stop=stop)
    if res.stopped:
        raise Stopped
    return model.eval().requires_grad_(False), res


def check_stop(stop):
    """Whether a run was asked to stop (a threading.Event or None)."""
    return stop is not None and stop.is_set()


def width(name, value, allowed):
    """`value` as one of `allowed` (hidden sizes as tuples), or a ValueError naming `name`."""
    as_tuple = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if as_tuple not in allowed:
        shown = ", ".join(str(w[0]) if len(w) == 1 else "x".join(map(str, w)) if w else "0 (linear)" for w in allowed)
        raise ValueError(f"{name} must be one of the available widths {shown}, got {value!r}")
    return as_tuple
