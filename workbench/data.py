"""Data sets as tensors on the device, split into train / val / test.

`load("digits")` is the offline default (scikit-learn's 8x8 handwritten digits, 1,797
images). The synthetic 2-D sets are for pictures of decision boundaries; MNIST,
Fashion-MNIST and CIFAR-10 come through torchvision's own classes and download into the
cache."""
import functools
import hashlib
import os
import pathlib
import warnings
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
    """The three splits of a data set. `name` is the data set (one of DATASETS, or "" for
    one built by hand) and `seed` the split seed that drew train / val (None: unknown)."""
    train: Split
    val: Split
    test: Split
    classes: tuple
    input_shape: tuple
    name: str = ""
    seed: int = None

    @property
    def num_classes(self):
        return len(self.classes)


SYNTHETIC = ("moons", "blobs", "spirals")
TORCHVISION = ("mnist", "fashion_mnist", "cifar10")
DATASETS = ("digits",) + SYNTHETIC + TORCHVISION


TEST_SEED = 0  # the draw of the test set, the same for every split seed


def load(name="digits", device=None, root=None, download=True, seed=0):
    """Load a data set by name: one of DATASETS.

    The test set is fixed: the same name always gives the same test examples, whatever
    the seed, so no seed puts a teacher's training examples in it (the shipped teachers
    learned from seed 0's training split). `seed` (an integer in [0, 2**32 - 1]) only
    redraws which of the remaining examples are train and which are val (stratified by
    class for digits and the synthetic sets); seed 0 gives the split the shipped teachers
    and every figure in the lessons were measured on. The synthetic sets keep their points
    too: they are drawn once (from seed 0), and seed only reshuffles train / val.
    MNIST, Fashion-MNIST and CIFAR-10 use their official test set; val is 1/12 of the
    official training set. `root` (torchvision sets only) defaults to the cache;
    `download=False` never touches the network and raises FileNotFoundError naming the
    folder when files are missing. A teacher trained on another seed's split has seen
    part of this split's val: see `check_teacher_split`."""
    _check.one_of("name", name, DATASETS)
    seed = _check.seed("seed", seed)
    if not isinstance(download, bool):
        raise ValueError(f"download must be True or False, got {download!r}")
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"root must be a folder (a str or pathlib.Path) or None, got {root!r}")
    device = as_device(device)
    if name == "digits":
        splits = _digits(seed)
    elif name in SYNTHETIC:
        splits = _synthetic(name, seed)
    else:
        splits = _torchvision(name, root, download, seed)
    return Splits(splits[0].to(device), splits[1].to(device), splits[2].to(device), *splits[3:], name=name,
                  seed=seed)


def _stratified(x, y, seed, val=0.2, test=0.2):
    """Three stratified splits (train, val, test) of numpy arrays, as float / long tensors.
    The test set is drawn with TEST_SEED whatever `seed` is; `seed` splits the rest."""
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=test, stratify=y, random_state=TEST_SEED)
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


def _synthetic(name, seed, n=1500, points_seed=TEST_SEED):
    """The points are drawn once, from `points_seed`; `seed` only splits them."""
    rng = np.random.default_rng(points_seed)
    if name == "moons":
        x, y = skdata.make_moons(n, noise=0.2, random_state=points_seed)
    elif name == "blobs":
        x, y = skdata.make_blobs(n, centers=4, cluster_std=1.6, random_state=points_seed)
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


def _one_split(value):
    if not isinstance(value, Split):
        raise ValueError(f"split must be a wb.data.Split (one of splits.train, splits.val, splits.test), "
                         f"got {type(value).__name__}")
    return value


def subsample(split, fraction, seed=0):
    """A random `fraction` of a split (at least one example), the same for the same seed."""
    _one_split(split)
    fraction = _check.fraction("fraction", fraction)
    seed = _check.seed("seed", seed)
    if len(split) == 0:
        raise ValueError("split must hold at least one example, got an empty split")
    n = max(1, round(len(split) * fraction))
    idx = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    idx = idx.to(split.y.device)
    return Split(split.x[idx], split.y[idx])


def _class_indices(classes):
    """`classes` as a list of ints: one integer or a collection of them, of any integer type
    (Python, NumPy, integer tensors); anything else is a ValueError."""
    if isinstance(classes, torch.Tensor):
        values = classes.tolist() if not classes.is_floating_point() and not classes.is_complex() else None
        values = [values] if isinstance(values, int) else values
    elif _check._integer(classes) is not None:
        values = [classes]
    elif isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        values = None
    else:
        values = list(classes.tolist() if isinstance(classes, np.ndarray) else classes)
    if values is None or any(_check._integer(c) is None for c in values):
        raise ValueError(f"classes must be class indices (an integer or a list of integers, such as [3]), "
                         f"got {classes!r}")
    return [int(c) for c in values]


def without_classes(split, classes):
    """The split with every example of the given class indices removed (a transfer set
    that never shows those classes, as in Hinton et al. 2015, section 3). `classes` is one
    index or several (Python or NumPy integers, or an integer tensor); none gives the split."""
    _one_split(split)
    classes = _class_indices(classes)
    present = sorted(set(split.y.tolist()))
    bad = [c for c in classes if c not in present]
    if bad:
        raise ValueError(f"classes must be labels present in the split {present}, got {bad}")
    keep = ~torch.isin(split.y, torch.tensor(classes, dtype=split.y.dtype, device=split.y.device))
    if not keep.any():
        raise ValueError(f"classes {classes} would remove every example of the split")
    return Split(split.x[keep], split.y[keep])


# --- which split a teacher learned from (issue 29: another seed's val holds its training data) ---

def training_split(trained_on, device=None):
    """The examples a teacher learned from, rebuilt from its record `trained_on`
    ({"dataset", "seed", "fraction"}, as `wb.teachers.get` sets it): the training split of
    that seed, subsampled (with the same seed) when fraction < 1."""
    train = load(trained_on["dataset"], device=device or "cpu", seed=trained_on["seed"], download=False).train
    fraction = trained_on.get("fraction", 1.0)
    return train if fraction == 1 else subsample(train, fraction, seed=trained_on["seed"])


def _row_keys(split):
    """One key per example: a hash of its pixel bytes and its label."""
    x = np.ascontiguousarray(split.x.detach().cpu().flatten(1).numpy())
    return [hashlib.blake2b(row.tobytes() + int(y).to_bytes(8, "little"), digest_size=16).digest()
            for row, y in zip(x, split.y.tolist())]


def share_learned(split, trained_on):
    """The share of `split`'s examples (matched by value, not by index) that are among the
    examples the teacher described by `trained_on` learned from."""
    if len(split) == 0:
        return 0.0
    seen = _learned_keys(trained_on["dataset"], trained_on["seed"], trained_on.get("fraction", 1.0))
    return sum(k in seen for k in _row_keys(split)) / len(split)


@functools.lru_cache(maxsize=8)
def _learned_keys(dataset, seed, fraction):
    """The row keys of a teacher's training split, rebuilt and hashed once per record: a
    sweep of runs pays it on the first (seconds on MNIST or CIFAR-10), not on each."""
    return frozenset(_row_keys(training_split({"dataset": dataset, "seed": seed, "fraction": fraction})))


def _outside_workbench():
    """The stacklevel of the first caller outside this package (the user's own line)."""
    import inspect

    package = pathlib.Path(__file__).resolve().parent
    level, frame = 1, inspect.currentframe().f_back
    while frame is not None and pathlib.Path(frame.f_code.co_filename).resolve().is_relative_to(package):
        level, frame = level + 1, frame.f_back
    return level


def check_teacher_split(teacher, splits):
    """Check that `teacher` was trained on these splits' data set and split. A teacher
    from `wb.teachers.get` carries `trained_on` = {"dataset", "seed", "fraction"}.
    Another data set raises ValueError naming both. Another split seed of the same data
    set warns: that split's validation set holds examples the teacher learned from (the
    warning gives the share), so the teacher looks better there than on unseen data and
    val-based choices favour it; the test set is the same for every seed and unaffected.
    A teacher without a record, or splits not named after one of DATASETS (built by
    hand), pass unchecked."""
    trained_on = getattr(teacher, "trained_on", None)
    if not isinstance(trained_on, dict) or getattr(splits, "name", "") not in DATASETS:
        return
    if trained_on["dataset"] != splits.name:
        taught = trained_on["dataset"]
        raise ValueError(f"teacher was trained on {taught!r}, but the splits are of {splits.name!r}: distil on "
                         f"wb.data.load({taught!r}), or use a teacher trained on {splits.name!r}")
    if splits.seed is None or splits.seed == trained_on["seed"]:
        return
    try:
        share = f"{share_learned(splits.val, trained_on):.0%}"
    except FileNotFoundError:  # a torchvision set loaded from another root: the files are not in the cache
        share = "part"
    warnings.warn(
        f"the teacher learned from the {trained_on['dataset']!r} training split of split seed {trained_on['seed']}, "
        f"but these splits are of seed {splits.seed}: {share} of this split's validation set is among its training "
        f"examples, so it looks better on val than it is, and val-based choices favour it. The test set is the same "
        f"for every seed and holds none of them. Use seed={trained_on['seed']} to compare on unseen val data.",
        UserWarning, stacklevel=_outside_workbench())
