import pytest
import torch

import workbench as wb

# parameters counted by hand from the architectures' docstrings, for c input channels of
# h x w pixels: weights and biases (BatchNorm's scale and shift), never BatchNorm's running
# statistics (buffers); the convolutions have no bias
HAND_COUNTED = {
    "mlp": lambda c, h, w: (c * h * w * 16 + 16) + (16 * 8 + 8) + (8 * 10 + 10),
    "cnn": lambda c, h, w: (c * 8 * 9 + 2 * 8) + (8 * 16 * 9 + 2 * 16) + (16 * 10 + 10),
    "resnet": lambda c, h, w: ((c * 8 * 9 + 2 * 8)  # stem
                               + 2 * (8 * 8 * 9 + 2 * 8)  # stage1: one block, 8 -> 8, no skip conv
                               + (8 * 16 * 9 + 2 * 16) + (16 * 16 * 9 + 2 * 16) + (8 * 16 + 2 * 16)  # stage2, 1x1 skip
                               + (16 * 10 + 10)),
}


@pytest.mark.parametrize("name, size", [("mlp", {"hidden": (16, 8)}), ("cnn", {"channels": (8, 16)}),
                                        ("resnet", {"widths": (8, 16), "blocks": 1})])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_models_map_images_to_logits_with_the_parameters_counted_by_hand(name, size, shape):
    m = wb.models.build(name, shape, 10, **size)
    assert m(torch.randn(4, *shape)).shape == (4, 10)
    assert wb.models.count_parameters(m) == HAND_COUNTED[name](*shape)


def test_trainable_only_leaves_out_frozen_parameters():
    m = wb.models.build("mlp", (1, 8, 8), 10, hidden=(16,))
    m.fc1.requires_grad_(False)
    assert wb.models.count_parameters(m) == 64 * 16 + 16 + 16 * 10 + 10
    assert wb.models.count_parameters(m, trainable_only=True) == 16 * 10 + 10


def test_wider_means_more_parameters():
    small = wb.models.build("mlp", (1, 8, 8), 10, hidden=(16,))
    large = wb.models.build("mlp", (1, 8, 8), 10, hidden=(256, 256))
    assert wb.models.count_parameters(small) == 64 * 16 + 16 + 16 * 10 + 10
    assert wb.models.count_parameters(large) > 50 * wb.models.count_parameters(small)


def test_tap_reads_intermediate_features_and_removes_its_hooks():
    m = wb.models.build("cnn", (1, 8, 8), 10, channels=(8, 16))
    with wb.models.tap(m, ["block1", "pool"]) as feats:
        m(torch.randn(5, 1, 8, 8))
    assert feats["block1"].shape == (5, 8, 4, 4) and feats["pool"].shape == (5, 16, 1, 1)
    assert all(not mod._forward_hooks for mod in m.modules())


def test_tap_of_an_unknown_layer_lists_the_layers():
    m = wb.models.build("mlp", (1, 8, 8), 10, hidden=(16,))
    with pytest.raises(ValueError, match=r"layer names must be among \['flatten', 'fc1', 'act1', 'head'\], got \['fc9'\]"):
        with wb.models.tap(m, ["fc9"]):
            pass


def test_bad_model_arguments_are_named():
    with pytest.raises(ValueError, match=r"name must be one of \['mlp', 'cnn', 'resnet'\], got 'vit'"):
        wb.models.build("vit", (1, 8, 8), 10)
    with pytest.raises(ValueError, match=r"size arguments for 'mlp' must be among \['hidden'\], got \['channels'\]"):
        wb.models.build("mlp", (1, 8, 8), 10, channels=(8,))
    with pytest.raises(ValueError, match=r"input_shape for 'cnn' must be \(channels, height, width\), got \(2,\)"):
        wb.models.build("cnn", (2,), 3)
    with pytest.raises(ValueError, match="hidden must be an integer >= 1, got 0"):
        wb.models.build("mlp", (2,), 3, hidden=(0,))


@pytest.mark.parametrize("shape", [None, (1, 0, 8), (64.0,), "64"])
def test_a_bad_input_shape_is_named(shape):
    """Was: TypeError "'NoneType' object is not iterable" for None; (1, 0, 8) built a model
    of zero-element layers."""
    with pytest.raises(ValueError, match="input_shape must be the shape of one example"):
        wb.models.build("mlp", shape, 10)


def test_numpy_sizes_build_the_same_model():
    import numpy as np
    a = wb.models.build("resnet", (np.int64(1), 8, 8), np.int64(10), widths=np.int32(8), blocks=np.int64(2))
    b = wb.models.build("resnet", (1, 8, 8), 10, widths=8, blocks=2)
    assert [p.shape for p in a.parameters()] == [p.shape for p in b.parameters()]
