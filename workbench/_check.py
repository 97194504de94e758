"""Argument checks shared by the public functions: each raises ValueError naming the
parameter, what is allowed, and the value that was given."""
import math
import numbers

import torch


def _real(value):
    """value as a Python float when it is a finite real number (NumPy scalars included,
    bools not), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return float(value)


def _integer(value):
    """value as a Python int when it is an integer (NumPy integers included, bools not), else None."""
    return None if isinstance(value, bool) or not isinstance(value, numbers.Integral) else int(value)


def positive(name, value):
    """A finite number > 0, returned as a float."""
    x = _real(value)
    if x is None or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return x


def non_negative(name, value):
    """A finite number >= 0, returned as a float."""
    x = _real(value)
    if x is None or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def positive_int(name, value):
    """An integer >= 1, returned as an int."""
    n = _integer(value)
    if n is None or n <= 0:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return n


def non_negative_int(name, value):
    """An integer >= 0, returned as an int."""
    n = _integer(value)
    if n is None or n < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return n


def unit_interval(name, value):
    """A number in [0, 1], returned as a float."""
    x = _real(value)
    if x is None or not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return x


def one_of(name, value, allowed):
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def logits(name, x, ndim=None):
    """A floating tensor of logits without NaN or inf (ndim checked when given)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point torch.Tensor, got {type(x).__name__}")
    if ndim is not None and x.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} must be finite; it contains NaN or inf")
    return x


def same_shape(name_a, a, name_b, b):
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def input_shape(name, value):
    """The shape of one example without the batch: a non-empty tuple of ints >= 1."""
    if not isinstance(value, (tuple, list, torch.Size)) or not value or not all(
            _integer(d) is not None and d > 0 for d in value):
        raise ValueError(f"{name} must be the shape of one example without the batch, a tuple of positive ints "
                         f"such as (1, 8, 8) (splits.input_shape), got {value!r}")
    return tuple(int(d) for d in value)
