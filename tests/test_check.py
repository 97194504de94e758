"""Issue 29 item 8: `_check` is the one place that decides what a number is. Real numbers
of any type are taken, and a refusal never contradicts the value it quotes."""
import decimal
import fractions
import math

import numpy as np
import pytest
import torch

from workbench import _check

REALS = [0.7, np.float32(0.7), np.float64(0.7), np.float16(0.7), torch.tensor(0.7), torch.tensor(0.7, dtype=torch.float64),
         np.array(0.7), fractions.Fraction(7, 10), decimal.Decimal("0.7")]
INTEGERS = [3, np.int8(3), np.int32(3), np.int64(3), np.uint16(3), torch.tensor(3), np.array(3)]
REAL_CHECKS = [lambda v: _check.positive("x", v), lambda v: _check.non_negative("x", v),
               lambda v: _check.unit_interval("x", v), lambda v: _check.fraction("x", v),
               lambda v: _check.real("x", v, 0, 1), lambda v: _check.temperature("x", v)]
INTEGER_CHECKS = [lambda v: _check.positive_int("n", v), lambda v: _check.non_negative_int("n", v),
                  lambda v: _check.seed("n", v)]


@pytest.mark.parametrize("value", REALS, ids=lambda v: type(v).__name__)
def test_every_real_check_takes_a_real_of_any_type(value):
    for check in REAL_CHECKS:
        got = check(value)
        assert type(got) is float and got == pytest.approx(0.7, rel=1e-3)


@pytest.mark.parametrize("value", INTEGERS + [np.int64(3)], ids=lambda v: type(v).__name__)
def test_every_integer_check_takes_an_integer_of_any_type(value):
    for check in INTEGER_CHECKS:
        got = check(value)
        assert type(got) is int and got == 3
    assert _check.positive("x", value) == 3.0  # an integer is a real number too


@pytest.mark.parametrize("value", [True, np.bool_(True), torch.tensor(True), 1 + 0j, "0.7", None,
                                   torch.tensor([0.7]), np.array([0.7]), float("nan"), np.float32("inf"),
                                   decimal.Decimal("NaN"), torch.tensor(float("nan"))],
                         ids=lambda v: repr(v)[:20])
def test_what_is_not_a_finite_real_number_is_refused_by_name(value):
    for check in REAL_CHECKS:
        with pytest.raises(ValueError, match=r"^x must be .*, got "):
            check(value)


def test_an_integer_too_large_for_float64_is_a_named_error_not_an_overflow():
    # today's _real called math.isfinite(10**400): OverflowError: int too large to convert to float
    for check in REAL_CHECKS:
        with pytest.raises(ValueError, match=r"^x must be "):
            check(10**400)
    assert _check.positive_int("n", 10**400) == 10**400  # an integer check has no float to overflow


@pytest.mark.parametrize("value", [2.5, np.float64(3.0), torch.tensor(3.0), "3", True])
def test_a_non_integer_is_refused_by_the_integer_checks(value):
    for check in INTEGER_CHECKS:
        with pytest.raises(ValueError, match=r"^n must be an integer"):
            check(value)


def test_a_refusal_never_contradicts_the_value_it_quotes():
    # "must be a finite number … got np.float32(0.7)": the value quoted satisfies the words before it
    cases = [(lambda v: _check.positive("x", v), [np.float32(0.7), torch.tensor(0.7), decimal.Decimal("2")]),
             (lambda v: _check.temperature("x", v), [np.float32(4.0), torch.tensor(50.0), np.array(0.5)]),
             (lambda v: _check.seed("n", v), [np.uint32(2**32 - 1), torch.tensor(7)])]
    for check, values in cases:
        for value in values:
            check(value)  # a finite number in range is taken, so no such message can be raised
    with pytest.raises(ValueError) as refused:
        _check.temperature("temperature", 1e-40)
    assert "finite number > 0" not in str(refused.value) and "from 0.01 to 1000" in str(refused.value)


def test_seed_range_is_what_numpy_and_torch_both_take():
    assert _check.seed("seed", _check.SEED_MAX) == 2**32 - 1
    np.random.seed(_check.SEED_MAX), torch.manual_seed(_check.SEED_MAX)
    with pytest.raises(ValueError, match=r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got 4294967296"):
        _check.seed("seed", 2**32)
    with pytest.raises(ValueError, match="Seed must be between 0 and 2"):
        np.random.seed(2**32)  # the raw error the check replaces


def test_temperature_range_ends_are_inclusive():
    assert _check.temperature("T", _check.TEMPERATURE_MIN) == _check.TEMPERATURE_MIN
    assert _check.temperature("T", _check.TEMPERATURE_MAX) == _check.TEMPERATURE_MAX
    for bad in (math.nextafter(_check.TEMPERATURE_MIN, 0), math.nextafter(_check.TEMPERATURE_MAX, math.inf)):
        with pytest.raises(ValueError, match="T must be a number from 0.01 to 1000"):
            _check.temperature("T", bad)
