import pytest

import workbench as wb


@pytest.mark.parametrize("field, value, message", [
    ("temperature", 0, "temperature must be a finite number > 0, got 0"),
    ("temperature", float("nan"), "temperature must be a finite number > 0, got nan"),
    ("alpha", 1.5, r"alpha must be a number in \[0, 1\], got 1.5"),
    ("alpha", -0.1, r"alpha must be a number in \[0, 1\], got -0.1"),
    ("epochs", 0, "epochs must be an integer >= 1, got 0"),
    ("epochs", 2.5, "epochs must be an integer >= 1, got 2.5"),
    ("lr", 0.0, "lr must be a finite number > 0, got 0.0"),
    ("lr", -1e-3, "lr must be a finite number > 0, got -0.001"),
    ("batch_size", 0, "batch_size must be an integer >= 1, got 0"),
    ("optimizer", "rmsprop", r"optimizer must be one of \['adam', 'adamw', 'sgd'\], got 'rmsprop'"),
    ("seed", -1, "seed must be an integer >= 0, got -1"),
])
def test_bad_values_name_the_parameter_the_range_and_the_value(field, value, message):
    with pytest.raises(ValueError, match=message):
        wb.DistillConfig(**{field: value})


def test_replace_validates_again():
    cfg = wb.DistillConfig(temperature=2.0)
    assert cfg.replace(alpha=0.5).alpha == 0.5 and cfg.replace(alpha=0.5).temperature == 2.0
    with pytest.raises(ValueError, match="alpha"):
        cfg.replace(alpha=2)
