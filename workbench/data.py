"""Data sets as tensors on the device, split into train / val / test.

`load("digits")` is the offline default (scikit-learn's 8x8 handwritten digits, 1,797
images). The synthetic 2-D sets are for pictures of decision boundaries; MNIST,
Fashion-MNIST and CIFAR-10 come through torchvision's own classes and download into the
cache."""
from dataclasses import dataclass

import numpy as np
import torch
from sklearn import datasets as skdata
from sklearn.model_selection import train_test_split

from . import _check
from .cache import cache_dir
from .device import as_device


@dataclass(frozen=True)
class Split:
    """Inputs x (N, *input_shape) and integer labels y (N,), on one device."""
    x: torch.Tensor
    y: torch.Tensor

    def __len__(self):
        return len(self.y)

    def to(self, device):
        return Split(self.x.to(device), self.y.to(device))


@dataclass(frozen=True)
class Splits:
    train: Split
    val: Split
    test: Split
    classes: tuple
    input_shape: tuple
    name: str = ""

    @property
    def num_classes(self):
        return len(self.classes)


SYNTHETIC = ("moons", "blobs", "spirals")
TORCHVISION = ("mnist", "fashion_mnist", "cifar10")
DATASETS = ("digits",) + SYNTHETIC + TORCHVISION


def load(name="digits", device=None, root=None, download=True, seed=0):
    """Load a data set by name: one of DATASETS.

    Splits are fixed: the same name always gives the same train / val / test examples.
    `root` (torchvision sets only) defaults to the cache; `download=False` never touches
    the network and raises FileNotFoundError naming the folder when files are missing."""
    _check.one_of("name", name, DATASETS)
    device = as_device(device)
    if name == "digits":
        splits = _digits(seed)
    elif name in SYNTHETIC:
        splits = _synthetic(name, seed)
    else:
        splits = _torchvision(name, root, download, seed)
    return Splits(splits[0].to(device), splits[1].to(device), splits[2].to(device), *splits[3:], name=name)


def _stratified(x, y, seed, val=0.2, test=0.2):
    """Three stratified splits (train, val, test) of numpy arrays, as float / long tensors."""
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=test, stratify=y, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val / (1 - test), stratify=y_rest, random_state=seed)
    as_split = lambda a, b: Split(torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.long))
    return as_split(x_train, y_train), as_split(x_val, y_val), as_split(x_test, y_test)


def _digits(seed):
    d = skdata.load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8), pixels in [0, 1]
    train, val, test = _stratified(x, d.target, seed)
    return train, val, test, tuple(str(c) for c in d.target_names), (1, 8, 8)


def _spirals(n, classes, rng, noise=0.2):
    """`classes` interleaved arms of an Archimedean spiral, n points in all."""
    per = n // classes
    t = np.sqrt(rng.uniform(0, 1, size=(classes, per))) * 3 * np.pi
    xs, ys = [], []
    for k in range(classes):
        angle = t[k] + 2 * np.pi * k / classes
        r = t[k] / (3 * np.pi) * 2
        pts = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + rng.normal(0, noise * 0.2, (per, 2))
        xs.append(pts)
        ys.append(np.full(per, k))
    return np.concatenate(xs), np.concatenate(ys)


def _synthetic(name, seed, n=1500):
    rng = np.random.default_rng(seed)
    if name == "moons":
        x, y = skdata.make_moons(n, noise=0.2, random_state=seed)
    elif name == "blobs":
        x, y = skdata.make_blobs(n, centers=4, cluster_std=1.6, random_state=seed)
    else:
        x, y = _spirals(n, 3, rng)
    x = (x - x.mean(0)) / x.std(0)
    train, val, test = _stratified(x.astype(np.float32), y, seed)
    return train, val, test, tuple(str(c) for c in range(int(y.max()) + 1)), (2,)


_TV_CLASSES = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}
_TV_NORMALISE = {  # per-channel mean and std of the training images
    "mnist": ((0.1307,), (0.3081,)),
    "fashion_mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}
_TV_FILES = {
    "mnist": "MNIST/raw/ (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)",
    "fashion_mnist": "FashionMNIST/raw/ (the same four idx files as MNIST)",
    "cifar10": "cifar-10-batches-py/ (data_batch_1..5, test_batch, batches.meta)",
}


def _torchvision(name, root, download, seed, val_fraction=1 / 12):
    import torchvision

    root = root or cache_dir("data")
    cls = getattr(torchvision.datasets, _TV_CLASSES[name])
    try:
        train = cls(root, train=True, download=download)
        test = cls(root, train=False, download=download)
    except Exception as e:  # missing files and no network: say where the files go
        raise FileNotFoundError(
            f"data set {name!r} is not in {root} and could not be downloaded ({type(e).__name__}: {e}). "
            f"Put the files in {root}/{_TV_FILES[name]} or run once with internet access.") from e
    x_train, y_train = _tv_tensors(name, train)
    x_test, y_test = _tv_tensors(name, test)
    order = torch.randperm(len(y_train), generator=torch.Generator().manual_seed(seed))
    n_val = max(1, round(len(order) * val_fraction))
    val_idx, train_idx = order[:n_val], order[n_val:]
    return (Split(x_train[train_idx], y_train[train_idx]), Split(x_train[val_idx], y_train[val_idx]),
            Split(x_test, y_test), tuple(train.classes), tuple(x_train.shape[1:]))


def _tv_tensors(name, ds):
    x = torch.as_tensor(np.asarray(ds.data))
    x = x[:, None] if x.dim() == 3 else x.permute(0, 3, 1, 2)  # (N, C, H, W)
    x = x.float() / 255.0
    mean, std = (torch.tensor(v).view(1, -1, 1, 1) for v in _TV_NORMALISE[name])
    return (x - mean) / std, torch.as_tensor(np.asarray(ds.targets), dtype=torch.long)


def subsample(split, fraction, seed=0):
    """A random `fraction` of a split (at least one example), the same for the same seed."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    n = max(1, round(len(split) * fraction))
    idx = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    idx = idx.to(split.y.device)
    return Split(split.x[idx], split.y[idx])


def without_classes(split, classes):
    """The split with every example of the given class indices removed (a transfer set
    that never shows those classes, as in Hinton et al. 2015, section 3)."""
    classes = [classes] if isinstance(classes, int) else list(classes)
    present = sorted(set(split.y.tolist()))
    bad = [c for c in classes if c not in present]
    if bad:
        raise ValueError(f"classes must be labels present in the split {present}, got {bad}")
    keep = ~torch.isin(split.y, torch.tensor(classes, device=split.y.device))
    if not keep.any():
        raise ValueError(f"classes {classes} would remove every example of the split")
    return Split(split.x[keep], split.y[keep])
