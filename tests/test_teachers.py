import pathlib
import re
import warnings

import pytest
import torch

import workbench as wb
from workbench import teachers


def test_digits_offers_teachers_of_several_sizes():
    names = wb.teachers.available("digits")
    assert len(names) >= 2 and all(n.startswith("digits/") for n in names)
    sizes = {wb.models.count_parameters(wb.teachers.get(n, device="cpu")) for n in names}
    assert len(sizes) >= 4
    assert "mnist/cnn" in wb.teachers.available() and "cifar10/resnet" in wb.teachers.available("cifar10")


def test_the_default_teacher_beats_a_hard_label_student_of_the_default_size_by_two_points(digits):
    teacher = wb.teachers.get(wb.teachers.DEFAULT["digits"], device="cpu")
    acc = wb.analysis.accuracy(wb.predict(teacher, digits.test.x), digits.test.y)
    for seed in range(4):
        wb.seed_everything(seed)
        student = wb.models.build("mlp", digits.input_shape, digits.num_classes, hidden=(32,))
        res = wb.train(student, digits, wb.DistillConfig(epochs=30, seed=seed))
        assert acc >= res.metrics["test_acc"] + 0.02


def test_the_weak_and_the_over_confident_teachers_are_what_they_say(digits):
    cnn, sharp = (wb.teachers.get(n, device="cpu") for n in ("digits/cnn", "digits/cnn-overconfident"))
    z, z5 = wb.predict(cnn, digits.test.x), wb.predict(sharp, digits.test.x)
    # the digits/cnn recipe trained again (the same predictions), then its logits multiplied by five
    assert (z5.argmax(1) == z.argmax(1)).float().mean() > 0.98
    assert z5.norm() / z.norm() == pytest.approx(5, rel=0.1)
    entropy = lambda logits: torch.special.entr(torch.softmax(logits, 1)).sum(1).mean().item()
    assert entropy(z5) < 0.2 * entropy(z)
    weak = wb.teachers.get("digits/mlp-weak", device="cpu")
    assert wb.analysis.accuracy(wb.predict(weak, digits.test.x), digits.test.y) < 0.9


def test_shipped_teachers_load_fast_frozen_and_accurate(digits):
    teacher = wb.teachers.get("digits/mlp-large", device="cpu")
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    acc = wb.analysis.accuracy(wb.predict(teacher, digits.test.x), digits.test.y)
    assert acc > 0.95
    assert acc == pytest.approx(teacher.test_acc, abs=1e-6)  # the checkpoint's own record


def test_unknown_teacher_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"name must be one of \['digits/mlp-large'.*\], got 'digits/gpt'"):
        wb.teachers.get("digits/gpt")
    with pytest.raises(ValueError, match=r"dataset must be one of .*got 'svhn'"):
        wb.teachers.available("svhn")


def test_a_corrupt_checkpoint_is_rebuilt_with_a_warning(tmp_path, monkeypatch, digits):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setattr(teachers, "SHIPPED_DIR", shipped)
    bad = shipped / "digits--mlp-small.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.warns(UserWarning, match="corrupt.*rebuilding"):
        teacher = wb.teachers.get("digits/mlp-small", device="cpu", progress=False)
    assert wb.analysis.accuracy(wb.predict(teacher, digits.test.x), digits.test.y) > 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the corrupt file was replaced: it now loads cleanly
        wb.teachers.get("digits/mlp-small", device="cpu")

    bad.unlink()  # no shipped file: the teacher is trained into the cache
    wb.teachers.get("digits/mlp-small", device="cpu", progress=False)
    cached = wb.cache.cache_dir("teachers") / "digits--mlp-small.pt"
    cached.write_bytes(cached.read_bytes()[:100])  # truncated, as by a killed write of an old version
    with pytest.warns(UserWarning, match="corrupt"):
        again = wb.teachers.get("digits/mlp-small", device="cpu", progress=False)
    assert torch.equal(again.head.weight, teacher.head.weight)  # same recipe, same seed, same weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt file now loads cleanly
        wb.teachers.get("digits/mlp-small", device="cpu")


def test_a_checkpoint_of_another_architecture_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(teachers, "SHIPPED_DIR", tmp_path)
    wrong = teachers.cache.load(teachers.__file__.replace("__init__.py", "checkpoints/digits--mlp-large.pt"))
    wrong["name"] = "digits/mlp-small"
    wb.cache.save(wrong, tmp_path / "digits--mlp-small.pt")
    with pytest.warns(UserWarning, match="do not fit"):
        wb.teachers.get("digits/mlp-small", device="cpu", progress=False)


def test_a_non_shipped_teacher_is_trained_on_demand_then_cached(monkeypatch, capsys):
    """mnist/cnn on a tiny MNIST written in torchvision's format into the cache: the first
    get trains the recipe (with a progress bar), the second loads the cached checkpoint."""
    import numpy as np
    from test_data import write_idx

    raw = wb.cache.cache_dir("data") / "MNIST" / "raw"
    rng = np.random.default_rng(0)
    write_idx(raw, "train", rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), np.arange(60, dtype=np.uint8) % 10)
    write_idx(raw, "t10k", rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), np.arange(20, dtype=np.uint8) % 10)
    teacher = wb.teachers.get("mnist/cnn", device="cpu")
    assert "training teacher mnist/cnn" in capsys.readouterr().err
    cached = wb.cache.cache_dir("teachers") / "mnist--cnn.pt"
    assert cached.exists() and not teacher.training
    trained = []
    monkeypatch.setattr(teachers, "fit", lambda *a, **k: trained.append(1))
    again = wb.teachers.get("mnist/cnn", device="cpu")
    assert trained == [] and torch.equal(again.head.weight, teacher.head.weight)


def read_only(folder, monkeypatch):
    """Make `folder` unwritable, as an installed package may be. chmod alone does not stop
    root (as in a container), so a write there is refused by hand as well."""
    import tempfile

    folder.chmod(0o555)
    real_mkstemp = tempfile.mkstemp

    def refuse_in_folder(*args, **kwargs):
        if pathlib.Path(kwargs.get("dir", "")).resolve() == folder.resolve():
            raise PermissionError(13, "Permission denied", str(folder))
        return real_mkstemp(*args, **kwargs)
    monkeypatch.setattr(tempfile, "mkstemp", refuse_in_folder)


def test_a_corrupt_checkpoint_in_a_read_only_install_is_rebuilt_into_the_cache_once(tmp_path, monkeypatch):
    """Issue 29, item 10: the shipped file cannot be replaced, so the teacher is rebuilt into
    the user cache, once, with one warning that says so; later calls use the cached copy
    without rebuilding or warning again."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "digits--mlp-small.pt").write_bytes(b"not a checkpoint at all")
    monkeypatch.setattr(teachers, "SHIPPED_DIR", shipped)
    good = torch.load(pathlib.Path(teachers.__file__).parent / "checkpoints" / "digits--mlp-small.pt",
                      weights_only=True)
    built = []
    monkeypatch.setattr(teachers, "fit", lambda name, **kw: built.append(name) or good)  # training costs seconds
    read_only(shipped, monkeypatch)
    try:
        with pytest.warns(UserWarning) as caught:
            teacher = wb.teachers.get("digits/mlp-small", device="cpu", progress=False)
        cached = wb.cache.cache_dir("teachers") / "digits--mlp-small.pt"
        assert built == ["digits/mlp-small"] and cached.exists()
        assert (shipped / "digits--mlp-small.pt").read_bytes() == b"not a checkpoint at all"
        assert len(caught) == 1
        message = str(caught[0].message)
        assert "corrupt" in message and f"into the cache at {cached}" in message and "read-only" in message
        assert torch.equal(teacher.head.weight, good["state_dict"]["head.weight"])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # later calls load the cached copy: no rebuild, no warning
            again = wb.teachers.get("digits/mlp-small", device="cpu", progress=False)
        assert built == ["digits/mlp-small"] and torch.equal(again.head.weight, teacher.head.weight)
    finally:
        shipped.chmod(0o755)


def test_a_corrupt_checkpoint_in_a_writable_install_is_replaced_where_it_lies(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    bad = shipped / "digits--mlp-small.pt"
    bad.write_bytes(b"not a checkpoint at all")
    monkeypatch.setattr(teachers, "SHIPPED_DIR", shipped)
    good = torch.load(pathlib.Path(teachers.__file__).parent / "checkpoints" / "digits--mlp-small.pt",
                      weights_only=True)
    monkeypatch.setattr(teachers, "fit", lambda name, **kw: good)
    with pytest.warns(UserWarning, match=rf"corrupt.*rebuilding it .*saving it over {re.escape(str(bad))}$") as caught:
        wb.teachers.get("digits/mlp-small", device="cpu", progress=False)
    assert len(caught) == 1 and bad.read_bytes() != b"not a checkpoint at all"
    assert not (wb.cache.cache_dir("teachers") / "digits--mlp-small.pt").exists()


@pytest.mark.parametrize("call", [lambda: teachers.fit("digits/gpt"), lambda: teachers.build_shipped(["digits/gpt"])])
def test_fit_and_build_shipped_name_an_unknown_teacher(call):
    with pytest.raises(ValueError, match=r"name must be one of \['digits/mlp-large'.*\], got 'digits/gpt'"):
        call()
