"""Argument checks shared by the public functions: each raises ValueError naming the
parameter, what is allowed, and the value that was given."""
import decimal
import math
import numbers

import numpy as np
import torch


def _scalar(value):
    """A 0-d torch tensor or NumPy array as its Python number; anything else unchanged."""
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
        return value.item()
    return value


def _real(value):
    """value as a Python float when it is a real number of any type (Python, NumPy, a 0-d
    tensor or array, Fraction, Decimal; bools not) that float64 holds finite, else None.
    The one place that decides what counts as a number."""
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, decimal.Decimal)):
        return None
    try:
        x = float(value)
    except (OverflowError, ValueError):  # an int or Decimal beyond float64, a NaN Decimal
        return None
    return x if math.isfinite(x) else None


def _integer(value):
    """value as a Python int when it is an integer of any type (Python, NumPy, a 0-d integer
    tensor or array; bools not), else None."""
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        return None
    return int(value)


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


def real(name, value, low=-math.inf, high=math.inf):
    """A finite real number in [low, high] of any numeric type (Python, NumPy or 0-d torch
    scalars; bools not), returned as a Python float."""
    x = _real(value)
    if x is None or not low <= x <= high:
        raise ValueError(f"{name} must be a finite number in [{low:g}, {high:g}], got {value!r}")
    return x


def fraction(name, value):
    """A number in (0, 1] (a share of a data set), returned as a float."""
    x = _real(value)
    if x is None or not 0.0 < x <= 1.0:
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")
    return x


# The distillation temperatures every entry point accepts (DistillConfig, kd_loss, soft_targets,
# dark_knowledge, the token-level losses). Measured (issue 29, tests/test_precision.py;
# B = 128, C = 10, teacher logits N(0, (s/3)²) for s = 10, 30, 100, students the teacher plus
# N(0, g²) for g = 0.01, 0.1, 1, s; relative error against a float64 reference):
# - Low end. The maths breaks only where float32 cannot hold z/T (T ≈ 1e-37 for |z| = 100;
#   the loop's weight α·T² underflows below T ≈ 1e-19), but already at T = 1e-2 a logit gap
#   of 0.9 puts exp(-gap/T) below float32's smallest normal number: the soft labels are
#   one-hot, hard labels, so lower temperatures show nothing new.
# - High end. T²·KL computed in float32 loses to cancellation (log p_t − log p_s is a
#   difference of two numbers near −log C): at g = 0.01 it was off by 0.3% at T = 4, 6-96%
#   at T = 50, 40-160% at T = 100 and wholly wrong (and negative) at T = 1000. The public
#   losses therefore reduce in float64, which stays within 1e-6 of the reference up to
#   T = 1e4 at g = 0.01. The cap is set by what float32 soft labels can still carry: their
#   differences from uniform, ~z/(T·C), are resolved to eps·T/|z| ≈ 1e-4 at T = 1e3 for a
#   logit spread of 1, 1e-3 at 1e4. The lessons use T from 0.5 (the app's slider: 0.5-50)
#   to 100 (the high-temperature limit of notebook 02).
TEMPERATURE_MIN, TEMPERATURE_MAX = 1e-2, 1e3


def temperature(name, value):
    """A softmax temperature T in [TEMPERATURE_MIN, TEMPERATURE_MAX], returned as a float."""
    x = _real(value)
    if x is None or not TEMPERATURE_MIN <= x <= TEMPERATURE_MAX:
        raise ValueError(f"{name} must be a number from {TEMPERATURE_MIN:g} to {TEMPERATURE_MAX:g} (the range where "
                         f"float32 soft labels and the T²-scaled KL stay accurate), got {value!r}")
    return x


SEED_MAX = 2**32 - 1  # NumPy's np.random.seed takes no more


def seed(name, value):
    """A random seed: an integer from 0 to SEED_MAX (what Python, NumPy and torch all take),
    returned as an int."""
    n = _integer(value)
    if n is None or not 0 <= n <= SEED_MAX:
        raise ValueError(f"{name} must be an integer from 0 to 2**32 - 1 = {SEED_MAX}, got {value!r}")
    return n
