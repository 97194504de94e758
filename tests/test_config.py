import pytest

import workbench as wb


@pytest.mark.parametrize("field, value, message", [
    ("temperature", 0, r"temperature must be a number from 0.01 to 1000 \(.*\), got 0"),
    ("temperature", float("nan"), r"temperature must be a number from 0.01 to 1000 \(.*\), got nan"),
    # issue 29: soft labels NaN at 1e-40 (then "diverged"), OverflowError from T**2 at 1e200
    ("temperature", 1e-40, r"temperature must be a number from 0.01 to 1000 \(.*\), got 1e-40"),
    ("temperature", 1e200, r"temperature must be a number from 0.01 to 1000 \(.*\), got 1e\+200"),
    ("alpha", 1.5, r"alpha must be a number in \[0, 1\], got 1.5"),
    ("alpha", -0.1, r"alpha must be a number in \[0, 1\], got -0.1"),
    ("epochs", 0, "epochs must be an integer >= 1, got 0"),
    ("epochs", 2.5, "epochs must be an integer >= 1, got 2.5"),
    ("lr", 0.0, "lr must be a finite number > 0, got 0.0"),
    ("lr", -1e-3, "lr must be a finite number > 0, got -0.001"),
    ("batch_size", 0, "batch_size must be an integer >= 1, got 0"),
    ("optimizer", "rmsprop", r"optimizer must be one of \['adam', 'adamw', 'sgd'\], got 'rmsprop'"),
    ("seed", -1, r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got -1"),
    # accepted before issue 29, then np.random.seed's own "Seed must be between 0 and 2**32 - 1"
    ("seed", 2**32, r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got 4294967296"),
    ("weight_decay", float("inf"), "weight_decay must be a finite number >= 0, got inf"),
    ("weight_decay", -0.1, "weight_decay must be a finite number >= 0, got -0.1"),
    ("epochs", True, "epochs must be an integer >= 1, got True"),
    # inf once they touch float32: the run "diverged — lower the learning rate" at lr=0.01
    ("weight_decay", 1e300, r"weight_decay must be at most 3.403e\+38 \(float32's largest number.*got 1e\+300"),
    ("feature_weight", 1e300, r"feature_weight must be at most 3.403e\+38 .*got 1e\+300"),
    ("relation_weight", 1e39, r"relation_weight must be at most 3.403e\+38 .*got 1e\+39"),
    ("lr", 1e300, r"lr must be at most 3.403e\+38 .*got 1e\+300"),
    ("alpha", 10**400, r"alpha must be a number in \[0, 1\], got 1000"),
])
def test_bad_values_name_the_parameter_the_range_and_the_value(field, value, message):
    with pytest.raises(ValueError, match=message):
        wb.DistillConfig(**{field: value})


def test_replace_validates_again():
    cfg = wb.DistillConfig(temperature=2.0)
    assert cfg.replace(alpha=0.5).alpha == 0.5 and cfg.replace(alpha=0.5).temperature == 2.0
    with pytest.raises(ValueError, match="alpha"):
        cfg.replace(alpha=2)


def test_numpy_scalars_from_a_sweep_are_accepted_as_plain_numbers():
    np = pytest.importorskip("numpy")
    cfg = wb.DistillConfig(temperature=np.float32(4.0), epochs=np.int64(30), alpha=np.float64(0.5), seed=np.int32(2))
    assert (cfg.temperature, cfg.epochs, cfg.alpha, cfg.seed) == (4.0, 30, 0.5, 2)
    assert type(cfg.temperature) is float and type(cfg.epochs) is int
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got np.float64"):
        wb.DistillConfig(epochs=np.float64(3.0))


def test_a_term_set_without_its_weight_warns_that_it_does_nothing():
    with pytest.warns(UserWarning, match="feature_pairs set but its weight is 0.*feature_weight > 0"):
        wb.DistillConfig(feature_pairs=[("block1", "block1")])
    with pytest.warns(UserWarning, match="relation_pair set but its weight is 0.*relation_weight > 0"):
        wb.DistillConfig(relation_pair=("act2", "act1"))


def test_relations_need_at_least_three_examples_per_batch():
    with pytest.raises(ValueError, match="batch_size must be >= 3 when relation_weight > 0.*got 2"):
        wb.DistillConfig(relation_weight=1.0, batch_size=2)


@pytest.mark.parametrize("device", ["gpu", "cuda:x", 0])
def test_a_device_that_does_not_exist_is_named_with_the_choices(device):
    with pytest.raises(ValueError, match=r"device must be one of \['cuda', 'mps', 'cpu'\].*got"):
        wb.data.load("digits", device=device)
    with pytest.raises(ValueError, match="device must be one of"):
        wb.teachers.get("digits/mlp-large", device=device)
