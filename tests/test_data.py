import re
import hashlib
import pickle
import struct

import numpy as np
import pytest
import torch
import torchvision

import workbench as wb


def test_digits_split_is_fixed_stratified_and_disjoint(digits):
    from sklearn.datasets import load_digits

    assert digits.input_shape == (1, 8, 8) and digits.classes == tuple("0123456789")
    assert (len(digits.train), len(digits.val), len(digits.test)) == (1077, 360, 360)
    again = wb.data.load("digits", device="cpu")
    assert torch.equal(again.test.x, digits.test.x) and torch.equal(again.train.y, digits.train.y)
    # every image of scikit-learn's set (pixels 0..16, no two alike) in exactly one split,
    # with its own label, scaled to [0, 1]
    full = load_digits()
    label_of = {tuple((row / 16.0).astype(np.float32).tolist()): int(y) for row, y in zip(full.data, full.target)}
    splits = (digits.train, digits.val, digits.test)
    rows = [[tuple(r) for r in s.x.flatten(1).tolist()] for s in splits]
    assert sorted(r for part in rows for r in part) == sorted(label_of)  # disjoint, and nothing lost
    for split, part in zip(splits, rows):
        assert [label_of[r] for r in part] == split.y.tolist()
    # stratified: each digit's share of every split is its share of the whole, to one image
    share = np.bincount(full.target) / len(full.target)
    for split in splits:
        counts = torch.bincount(split.y, minlength=10).numpy()
        assert np.abs(counts - share * len(split)).max() < 1
    assert digits.train.x.min() == 0.0 and digits.train.x.max() == 1.0


@pytest.mark.parametrize("name, classes", [("moons", 2), ("blobs", 4), ("spirals", 3)])
def test_synthetic_sets_are_2d_and_balanced(name, classes):
    s = wb.data.load(name, device="cpu")
    assert s.input_shape == (2,) and s.num_classes == classes
    assert s.train.x.shape[1] == 2 and len(s.train) + len(s.val) + len(s.test) >= 1400
    assert torch.bincount(s.train.y).min() > 0.8 * len(s.train) / classes


def test_unknown_data_set_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"name must be one of \['digits', 'moons'.*'cifar10'\], got 'imagenet'"):
        wb.data.load("imagenet")


def test_subsample_and_without_classes(digits):
    part = wb.data.subsample(digits.train, fraction=0.1, seed=0)
    assert len(part) == round(0.1 * len(digits.train))
    assert torch.equal(part.x, wb.data.subsample(digits.train, fraction=0.1, seed=0).x)
    assert not torch.equal(part.y, wb.data.subsample(digits.train, fraction=0.1, seed=1).y)
    no3 = wb.data.without_classes(digits.train, [3])
    assert 3 not in no3.y.tolist()
    assert len(no3) == len(digits.train) - (digits.train.y == 3).sum().item()
    with pytest.raises(ValueError, match=r"fraction must be a number in \(0, 1\], got 0"):
        wb.data.subsample(digits.train, fraction=0)
    with pytest.raises(ValueError, match=r"classes must be labels present in the split .*got \[12\]"):
        wb.data.without_classes(digits.train, [12])


# --- torchvision loaders, on small files written here in torchvision's own formats ---

def write_idx(folder, prefix, images, labels):
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_style_loaders_read_idx_files(tmp_path, name, folder):
    rng = np.random.default_rng(0)
    train_y = np.arange(48, dtype=np.uint8) % 10
    write_idx(tmp_path / folder / "raw", "train", rng.integers(0, 256, (48, 28, 28), dtype=np.uint8), train_y)
    write_idx(tmp_path / folder / "raw", "t10k", rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
              np.arange(12, dtype=np.uint8) % 10)
    s = wb.data.load(name, device="cpu", root=tmp_path, download=False)
    assert s.input_shape == (1, 28, 28) and s.num_classes == 10
    assert len(s.train) + len(s.val) == 48 and len(s.test) == 12 and len(s.val) == 4
    assert sorted((s.train.y.tolist() + s.val.y.tolist())) == sorted(train_y.tolist())
    assert abs(s.train.x.mean().item()) < 2.0 and s.train.x.dtype == torch.float32


def test_cifar10_loader_reads_python_batches(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for fname in names:
        batch = {"data": rng.integers(0, 256, (6, 3 * 32 * 32), dtype=np.uint8), "labels": list(range(6))}
        (folder / fname).write_bytes(pickle.dumps(batch))
    labels = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": labels}))
    # torchvision checks each file against the real data set's md5; point it at ours.
    md5 = lambda f: hashlib.md5((folder / f).read_bytes()).hexdigest()
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "train_list", [[f, md5(f)] for f in names[:5]])
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "test_list", [["test_batch", md5("test_batch")]])
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "meta",
                        {"filename": "batches.meta", "key": "label_names", "md5": md5("batches.meta")})
    s = wb.data.load("cifar10", device="cpu", root=tmp_path, download=False)
    assert s.input_shape == (3, 32, 32) and s.classes == tuple(labels)
    assert len(s.train) + len(s.val) == 30 and len(s.test) == 6


@pytest.mark.parametrize("name, where", [("mnist", "MNIST/raw"), ("cifar10", "cifar-10-batches-py")])
def test_missing_files_without_download_name_the_folder(tmp_path, name, where):
    with pytest.raises(FileNotFoundError, match=rf"data set '{name}' is not in {tmp_path}.*{where}"):
        wb.data.load(name, device="cpu", root=tmp_path, download=False)


# --- issue 29: NumPy numbers and tensors accepted, every bad argument named (items 8, 9) ---

@pytest.mark.parametrize("fraction", [np.float64(0.1), np.float32(0.1)])
def test_subsample_takes_numpy_numbers(digits, fraction):
    part = wb.data.subsample(digits.train, fraction=fraction, seed=np.int64(1))
    expected = wb.data.subsample(digits.train, fraction=0.1, seed=1)
    assert torch.equal(part.x, expected.x) and torch.equal(part.y, expected.y)


@pytest.mark.parametrize("classes", [np.int64(3), [np.int32(3)], np.array([3]), torch.tensor([3]), torch.tensor(3),
                                     (3,), {3}])
def test_without_classes_takes_classes_of_any_integer_type(digits, classes):
    expected = wb.data.without_classes(digits.train, [3])
    got = wb.data.without_classes(digits.train, classes)
    assert torch.equal(got.y, expected.y) and torch.equal(got.x, expected.x)


def test_without_no_classes_is_the_whole_split(digits):
    got = wb.data.without_classes(digits.train, [])
    assert torch.equal(got.y, digits.train.y)


@pytest.mark.parametrize("classes, given", [([3.5], r"\[3.5\]"), (["3"], r"\['3'\]"), ([True], r"\[True\]"),
                                            (torch.tensor([3.0]), r"tensor\(\[3.\]\)"), ("3", "'3'"), (None, "None")])
def test_without_classes_refuses_what_is_not_a_class_index(digits, classes, given):
    with pytest.raises(ValueError, match=rf"classes must be .*class indices.*got {given}"):
        wb.data.without_classes(digits.train, classes)


def test_subsample_and_without_classes_name_a_whole_splits_given_for_one_split(digits):
    for call in (lambda: wb.data.subsample(digits, 0.5), lambda: wb.data.without_classes(digits, [3])):
        with pytest.raises(ValueError, match=r"split must be a wb.data.Split .*splits.train.*got Splits"):
            call()


def test_subsample_of_an_empty_split_is_refused(digits):
    empty = wb.data.Split(digits.train.x[:0], digits.train.y[:0])
    with pytest.raises(ValueError, match=r"split must hold at least one example, got an empty split"):
        wb.data.subsample(empty, 0.5)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "1", 2 ** 32, None])
def test_subsample_refuses_a_bad_seed(digits, seed):
    with pytest.raises(ValueError, match=rf"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got {re.escape(repr(seed))}"):
        wb.data.subsample(digits.train, 0.5, seed=seed)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "1", 2 ** 32, None])
@pytest.mark.parametrize("name", ["digits", "moons", "mnist"])
def test_load_refuses_a_bad_seed_by_name(name, seed, tmp_path):
    with pytest.raises(ValueError, match=rf"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got {re.escape(repr(seed))}"):
        wb.data.load(name, device="cpu", seed=seed, root=tmp_path, download=False)


def test_load_takes_a_numpy_seed():
    a, b = wb.data.load("digits", device="cpu", seed=np.int64(2)), wb.data.load("digits", device="cpu", seed=2)
    assert torch.equal(a.val.x, b.val.x) and a.seed == 2 and type(a.seed) is int


@pytest.mark.parametrize("kwargs, message", [
    ({"download": "no"}, r"download must be True or False, got 'no'"),
    ({"root": 5}, r"root must be a folder \(a str or pathlib.Path\) or None, got 5"),
    ({"name": None}, r"name must be one of \['digits'.*got None"),
])
def test_load_names_every_other_bad_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        wb.data.load(**{"name": "mnist", "device": "cpu", "download": False, **kwargs})
