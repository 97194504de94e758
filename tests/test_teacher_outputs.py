import contextlib
import importlib.util
import pathlib

import pytest
import torch

import workbench as wb
from workbench import features, teacher_outputs

RICH = dict(feature_weight=1.0, feature_pairs=[("act2", "act1")], relation_weight=1.0, relation_pair=None)


def teacher_examples(teacher):
    """A list that grows by the batch size of every forward pass of the teacher."""
    calls = []
    return calls, teacher.register_forward_hook(lambda m, i, o: calls.append(len(i[0])))


def test_with_feature_and_relation_terms_the_teacher_passes_over_the_transfer_set_once(digits, teacher,
                                                                                       student_factory):
    calls, hook = teacher_examples(teacher)
    try:
        wb.distill(student_factory(digits), teacher, digits, wb.DistillConfig(epochs=3, **RICH))
    finally:
        hook.remove()
    # the transfer set once (logits, soft labels and features together), the test set once for the agreement
    assert sum(calls) == len(digits.train) + len(digits.test)


def test_over_the_memory_budget_the_teacher_runs_on_every_batch_and_trains_the_same_student(digits, teacher,
                                                                                            student_factory):
    cfg = wb.DistillConfig(epochs=3, **RICH)
    cached = wb.distill(student_factory(digits), teacher, digits, cfg)
    calls, hook = teacher_examples(teacher)
    try:
        batched = wb.distill(student_factory(digits), teacher, digits, cfg.replace(teacher_memory_mb=0))
    finally:
        hook.remove()
    first_chunk = 64  # it measures the outputs' size; then nothing is kept
    assert sum(calls) == first_chunk + 3 * len(digits.train) + len(digits.test)
    for a, b in zip(cached.history, batched.history):
        for key in ("loss", "kd", "ce", "feature", "relation"):
            assert a[key] == pytest.approx(b[key], rel=1e-4), key
    assert batched.metrics["test_acc"] == pytest.approx(cached.metrics["test_acc"], abs=0.01)


def test_the_budget_decides_what_is_kept(digits, teacher, student_factory):
    x, student = digits.train.x, student_factory(digits)
    cfg = wb.DistillConfig(feature_weight=1.0, feature_pairs=[("act2", "act1")])
    need = 4 * (10 + 1 + 10 + 256) * len(x)  # per example: 10 soft labels, 1 entropy, 10 logits, 256 act2 features
    kept = teacher_outputs.TeacherOutputs(teacher, student, x, cfg.replace(teacher_memory_mb=need / 2**20))
    over = teacher_outputs.TeacherOutputs(teacher, student, x, cfg.replace(teacher_memory_mb=(need - 1) / 2**20))
    assert kept.cached and kept.bytes == need and not over.cached and over.bytes == 0
    idx = torch.tensor([5, 0, 700])
    a, b = kept(idx), over(idx)
    assert a.features.keys() == b.features.keys() == {"act2"}
    assert torch.allclose(a.features["act2"], b.features["act2"], atol=1e-6)
    for name in ("soft_labels", "entropy", "logits"):  # logits: the history's exact KD term
        assert torch.allclose(getattr(a, name), getattr(b, name), atol=1e-6), name


@pytest.mark.parametrize("kd_loss", ["dkd", "standardized"])
def test_dkd_and_standardized_keep_their_own_soft_labels_kept_or_batch_by_batch(digits, teacher, student_factory,
                                                                             kd_loss):
    x, y, student = digits.train.x, digits.train.y, student_factory(digits)
    cfg = wb.DistillConfig(kd_loss=kd_loss, temperature=4.0)
    parts = 3 if kd_loss == "dkd" else 1  # DKD: p, p̂ and p with its target zeroed, and three entropies
    need = 4 * (parts * 10 + parts + 10) * len(x)
    kept = teacher_outputs.TeacherOutputs(teacher, student, x, cfg.replace(teacher_memory_mb=need / 2**20), y)
    over = teacher_outputs.TeacherOutputs(teacher, student, x, cfg.replace(teacher_memory_mb=(need - 1) / 2**20), y)
    assert kept.cached and kept.bytes == need and not over.cached
    idx = torch.tensor([5, 0, 700])
    a, b = kept(idx), over(idx)
    for name in ("soft_labels", "entropy", "logits"):
        assert torch.allclose(getattr(a, name), getattr(b, name), atol=1e-6), name
    logits = teacher(x[idx]).detach()
    if kd_loss == "standardized":  # the soft labels of the z-scored logits
        assert torch.allclose(a.soft_labels, torch.softmax(wb.losses.standardize(logits) / 4.0, 1), atol=1e-6)
        assert not torch.allclose(a.soft_labels, torch.softmax(logits / 4.0, 1), atol=1e-3)
    else:
        p = torch.softmax(logits / 4.0, 1)
        rest = p.scatter(1, y[idx, None], 0.0)
        assert torch.allclose(a.soft_labels[:, 0], p, atol=1e-6)
        assert torch.allclose(a.soft_labels[:, 2], rest, atol=1e-6)
        assert torch.allclose(a.soft_labels[:, 1], rest / rest.sum(1, keepdim=True), atol=1e-6)
        with pytest.raises(ValueError, match="labels must be given for kd_loss='dkd'.*got None"):
            teacher_outputs.TeacherOutputs(teacher, student, x, cfg)


@pytest.mark.parametrize("memory_mb", [1024, 0], ids=["kept", "batch by batch"])
def test_the_teachers_soft_labels_are_float32_even_where_the_step_runs_in_bf16(digits, teacher, student_factory,
                                                                               monkeypatch, memory_mb):
    # the CUDA step's bf16 autocast, imitated on the CPU
    monkeypatch.setattr(features, "autocast", lambda device: torch.autocast("cpu", dtype=torch.bfloat16))
    x = digits.train.x[:200]
    with torch.no_grad():
        exact = teacher(x)
    mixed, _ = features.predict_features(teacher, x, [])
    assert not torch.allclose(mixed, exact, atol=1e-3)  # bf16 would change them
    cfg = wb.DistillConfig(temperature=8.0, relation_weight=1.0, relation_loss="rkd_angle", teacher_memory_mb=memory_mb)
    batch = teacher_outputs.TeacherOutputs(teacher, student_factory(digits), x, cfg)(torch.arange(len(x)))
    assert torch.equal(batch.logits, exact)  # the relation term on logits reads them
    assert torch.allclose(batch.soft_labels, torch.softmax(exact / 8.0, 1), atol=1e-7)


def test_the_memory_budget_is_validated():
    with pytest.raises(ValueError, match="teacher_memory_mb must be .*>= 0.*got -1"):
        wb.DistillConfig(teacher_memory_mb=-1)


def load_peak_memory():
    path = pathlib.Path(__file__).parent.parent / "bench" / "peak_memory.py"
    spec = importlib.util.spec_from_file_location("peak_memory", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_peak_memory_grows_with_the_data_only_once_the_teacher_outputs_are_over_budget():
    measure = load_peak_memory().measure
    # the peak comes at the start (the cache) or in the first steps (one batch's teacher pass)
    # a fresh process's peak varies from run to run by tens of MB (allocator arenas, measured -10 to +43 MB
    # beyond the data over 4 pairs), and the noise only adds: each size's peak is the lower of two probes
    small, large = (min((measure(n, teacher_memory_mb=16, arch="cnn", steps=5) for _ in range(2)),
                        key=lambda r: r["peak_mb"]) for n in (1000, 6000))
    assert not small["cached"] and not large["cached"]
    data = large["data_mb"] - small["data_mb"]  # 5,000 more 3x32x32 images: 59 MB
    assert large["peak_mb"] - small["peak_mb"] < data + 40
    # the probe sees a cache when there is one: 6,000 examples with the outputs kept
    kept = measure(6000, teacher_memory_mb=4096, arch="cnn", steps=5)
    assert kept["cached"] and kept["peak_mb"] - large["peak_mb"] > 0.8 * kept["cache_mb"]
