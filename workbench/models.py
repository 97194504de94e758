"""Students and teachers: an MLP, a small CNN and a small ResNet, with named layers that
`tap` can read features from."""
import contextlib
from collections import OrderedDict

import torch
from torch import nn

from . import _check

ARCHITECTURES = ("mlp", "cnn", "resnet")


def mlp(input_shape, num_classes, hidden=(64,)):
    """Flatten, then Linear+ReLU for each width in `hidden`, then a linear head.
    Layers are named fc1, act1, fc2, act2, ..., head."""
    layers, width = [("flatten", nn.Flatten())], int(torch.tensor(input_shape).prod())
    for i, h in enumerate(hidden, 1):
        layers += [(f"fc{i}", nn.Linear(width, h)), (f"act{i}", nn.ReLU())]
        width = h
    layers.append(("head", nn.Linear(width, num_classes)))
    return nn.Sequential(OrderedDict(layers))


def cnn(input_shape, num_classes, channels=(16, 32)):
    """conv3x3-BN-ReLU blocks (block1, block2, ...), 2x2 max-pooling after each while the
    image is at least 4 pixels wide, global average pooling, then a linear head."""
    c, h = input_shape[0], input_shape[1]
    layers = []
    for i, out in enumerate(channels, 1):
        block = [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
        if h >= 4:
            block.append(nn.MaxPool2d(2))
            h //= 2
        layers.append((f"block{i}", nn.Sequential(*block)))
        c = out
    layers += [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("head", nn.Linear(c, num_classes))]
    return nn.Sequential(OrderedDict(layers))


class BasicBlock(nn.Module):
    """He et al. 2016: relu(x + BN(conv(relu(BN(conv(x)))))), 1x1 conv on the skip when the shape changes."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.skip = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.skip(x))


def resnet(input_shape, num_classes, widths=(16, 32, 64), blocks=1):
    """A CIFAR-style ResNet: a 3x3 stem, then one stage per width (stage1, stage2, ...) of
    `blocks` basic blocks, each stage after the first halving the resolution."""
    layers = [("stem", nn.Sequential(nn.Conv2d(input_shape[0], widths[0], 3, 1, 1, bias=False),
                                     nn.BatchNorm2d(widths[0]), nn.ReLU()))]
    c = widths[0]
    for i, w in enumerate(widths, 1):
        stride = 1 if i == 1 else 2
        stage = [BasicBlock(c if j == 0 else w, w, stride if j == 0 else 1) for j in range(blocks)]
        layers.append((f"stage{i}", nn.Sequential(*stage)))
        c = w
    layers += [("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("head", nn.Linear(c, num_classes))]
    return nn.Sequential(OrderedDict(layers))


_BUILDERS = {"mlp": (mlp, {"hidden"}), "cnn": (cnn, {"channels"}), "resnet": (resnet, {"widths", "blocks"})}


def build(name, input_shape, num_classes, **size):
    """Build a model by name (one of ARCHITECTURES); `size` sets its widths, e.g.
    build("mlp", (1, 8, 8), 10, hidden=(32,)) (a single number is one layer: hidden=32)."""
    _check.one_of("name", name, ARCHITECTURES)
    fn, allowed = _BUILDERS[name]
    unknown = sorted(set(size) - allowed)
    if unknown:
        raise ValueError(f"size arguments for {name!r} must be among {sorted(allowed)}, got {unknown}")
    input_shape = _check.input_shape("input_shape", input_shape)
    if name != "mlp" and len(input_shape) != 3:
        raise ValueError(f"input_shape for {name!r} must be (channels, height, width), got {input_shape}; "
                         f"use 'mlp' for flat inputs")
    _check.positive_int("num_classes", num_classes)
    for key, widths in size.items():
        if key != "blocks" and not isinstance(widths, (tuple, list)):
            size[key] = widths = (widths,)  # hidden=32: one layer of 32
        for w in (widths if isinstance(widths, (tuple, list)) else [widths]):
            _check.positive_int(key, w)
    return fn(input_shape, num_classes, **size)


def regressor(student_shape, teacher_shape):
    """The FitNets regressor from a student feature to the teacher's shape (shapes
    without the batch): a linear layer for flat features, a 1×1 convolution for feature
    maps of the same height and width.

    Romero et al. (2015) used a convolutional regressor whose kernel size maps the
    student's grid onto the teacher's, and trained it with the student's lower layers in
    a hint stage of its own before distilling the whole student. Here the regressor is
    trained jointly with the student in one stage (see workbench.features): a variant."""
    s, t = tuple(student_shape), tuple(teacher_shape)
    if len(t) == 1:
        flat = int(torch.tensor(s).prod())
        return nn.Linear(flat, t[0]) if len(s) == 1 else nn.Sequential(nn.Flatten(), nn.Linear(flat, t[0]))
    if len(t) == 3 and len(s) == 3 and s[1:] == t[1:]:
        return nn.Conv2d(s[0], t[0], kernel_size=1)
    raise ValueError(f"a student feature of shape {s} cannot be regressed to the teacher's {t}: a 1x1 conv needs "
                     f"feature maps of the same height and width, a linear layer a flat teacher feature; "
                     f"pick another layer pair")


def count_parameters(model, trainable_only=False):
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_names(model):
    """Names that `tap` accepts: every named submodule."""
    return [name for name, _ in model.named_modules() if name]


@contextlib.contextmanager
def tap(model, names):
    """Record the outputs of the named layers during forward passes inside the block:

        with tap(model, ["act1"]) as feats:
            logits = model(x)
        feats["act1"]  # (N, 64)
    """
    names = [names] if isinstance(names, str) else list(names)
    modules = dict(model.named_modules())
    missing = [n for n in names if n not in modules or not n]
    if missing:
        raise ValueError(f"layer names must be among {layer_names(model)}, got {missing}")
    feats = {}
    hooks = [modules[n].register_forward_hook(lambda m, i, o, n=n: feats.__setitem__(n, o)) for n in names]
    try:
        yield feats
    finally:
        for h in hooks:
            h.remove()
