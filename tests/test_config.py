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
    ("weight_decay", float("inf"), "weight_decay must be a finite number >= 0, got inf"),
    ("weight_decay", -0.1, "weight_decay must be a finite number >= 0, got -0.1"),
    ("epochs", True, "epochs must be an integer >= 1, got True"),
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
