"""The training loop with DistillConfig's kd_loss "dkd" / "standardized" and label_smoothing
(issue 24, item 5 and the uniform teacher of item 4), step by step against the documented
loss: one step on one full batch, the recorded terms and the gradient the loop stepped with
against wb.losses and autograd on a copy of the student from before the step. And the
default path ("kd", no smoothing) stepping with exactly the response terms it always had."""
import copy
import dataclasses

import pytest
import torch
import torch.nn.functional as F

import workbench as wb
from conftest import small_student as mlp
from workbench.response_loss import cross_entropies_and_grad

N = 96
TINY_LR = 1e-12


@pytest.fixture(scope="module")
def batch(digits):
    return dataclasses.replace(digits, train=wb.data.Split(digits.train.x[:N], digits.train.y[:N]))


def one_step(student, splits, cfg, teacher=None):
    """(the step's metrics, the student after it) of the loop with cfg on one full batch."""
    cfg = cfg.replace(epochs=1, batch_size=len(splits.train), lr=TINY_LR)
    events, gen = [], wb.steps(student, splits, cfg, teacher=teacher)
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            (metrics,) = [e.metrics for e in events if e.kind == "step"]
            return metrics, done.value.student


def documented(before, teacher, splits, cfg):
    """{term: value} and the loss of DistillConfig's docstring on the batch, from wb.losses."""
    x, y = splits.train.x, splits.train.y
    before.train()
    logits = before(x)
    with torch.no_grad():
        t = teacher(x)
    ce = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
    if cfg.kd_loss == "dkd":
        tckd, nckd = wb.losses.dkd_terms(logits, t, y, cfg.temperature)
        kd = wb.losses.dkd_loss(logits, t, y, cfg.temperature, cfg.tckd_weight, cfg.nckd_weight)
        terms = {"ce": ce, "kd": kd, "tckd": tckd, "nckd": nckd}
    else:
        kd = wb.losses.standardized_kd_loss(logits, t, cfg.temperature)
        terms = {"ce": ce, "kd": kd}
    return terms, cfg.alpha * kd + (1 - cfg.alpha) * ce


def same_gradient(got, want):
    assert got is not None
    assert (got - want).abs().max() <= 1e-4 * want.abs().max(), (got - want).abs().max() / want.abs().max()


CASES = [dict(kd_loss="dkd", temperature=4.0, alpha=0.9),
         dict(kd_loss="dkd", temperature=1.0, alpha=0.5, tckd_weight=0.0, nckd_weight=8.0),
         dict(kd_loss="dkd", temperature=8.0, alpha=1.0, tckd_weight=2.5, nckd_weight=0.0),
         dict(kd_loss="dkd", temperature=4.0, alpha=0.7, label_smoothing=0.2),
         dict(kd_loss="standardized", temperature=2.0, alpha=0.9),
         dict(kd_loss="standardized", temperature=0.5, alpha=0.3, label_smoothing=0.1)]


@pytest.mark.parametrize("teacher_memory_mb", [512.0, 0.0])  # teacher outputs kept, or computed per batch
@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_a_step_with_dkd_or_standardization_follows_the_formula(batch, teacher, case, teacher_memory_mb):
    cfg = wb.DistillConfig(teacher_memory_mb=teacher_memory_mb, **case)
    student = mlp(batch)
    before = copy.deepcopy(student)
    metrics, after = one_step(student, batch, cfg, teacher)
    terms, loss = documented(before, teacher, batch, cfg)
    loss.backward()
    assert set(terms) <= set(metrics) and ("tckd" in metrics) == (cfg.kd_loss == "dkd")
    for name, value in terms.items():  # "kd" is the chosen term, unweighted by alpha
        assert metrics[name] == pytest.approx(value.item(), rel=1e-5, abs=1e-6), name
    assert metrics["loss"] == pytest.approx(loss.item(), rel=1e-5, abs=1e-6)
    for got, want in zip(after.parameters(), before.parameters(), strict=True):
        same_gradient(got.grad, want.grad)


def test_dkd_terms_add_to_the_feature_and_relation_terms(batch, teacher):
    cfg = wb.DistillConfig(kd_loss="dkd", temperature=4.0, alpha=0.6, relation_weight=3.0, relation_loss="rkd",
                           feature_weight=0.5, feature_pairs=[("act1", "act1")])
    student = mlp(batch)
    before = copy.deepcopy(student)
    metrics, after = one_step(student, batch, cfg, teacher)
    terms, _ = documented(before, teacher, batch, cfg)
    assert metrics["loss"] == pytest.approx(cfg.alpha * terms["kd"].item() + (1 - cfg.alpha) * terms["ce"].item()
                                            + 0.5 * metrics["feature"] + 3.0 * metrics["relation"], rel=1e-5)
    assert metrics["relation"] == pytest.approx(
        (wb.losses.rkd_distance(before(batch.train.x), teacher(batch.train.x))
         + 2 * wb.losses.rkd_angle(before(batch.train.x), teacher(batch.train.x))).item(), rel=1e-4)


def test_history_rows_of_a_run_carry_the_chosen_terms(batch, teacher):
    splits = dataclasses.replace(batch, train=batch.train)
    dkd = wb.distill(mlp(batch), teacher, splits, wb.DistillConfig(kd_loss="dkd", epochs=2, batch_size=32))
    row = dkd.history[-1]
    assert {"kd", "tckd", "nckd", "ce", "loss"} <= set(row)
    assert row["kd"] == pytest.approx(1.0 * row["tckd"] + 8.0 * row["nckd"], rel=1e-9)
    std = wb.distill(mlp(batch), teacher, splits, wb.DistillConfig(kd_loss="standardized", epochs=2, batch_size=32))
    assert "kd" in std.history[-1] and "tckd" not in std.history[-1]
    hard = wb.train(mlp(batch), splits, wb.DistillConfig(kd_loss="dkd", epochs=2, batch_size=32))
    assert "kd" not in hard.history[-1] and "tckd" not in hard.history[-1]  # no teacher: cross-entropy only


# --- label smoothing ---------------------------------------------------------------------

@pytest.mark.parametrize("eps", [0.1, 0.5])
def test_label_smoothing_trains_on_the_smoothed_targets_without_a_teacher(batch, eps):
    """wb.train with label_smoothing = ε: the gradient of CE to (1 − ε) · one-hot + ε / C,
    what F.cross_entropy(label_smoothing=ε) computes: a "uniform teacher"."""
    student = mlp(batch)
    before = copy.deepcopy(student)
    metrics, after = one_step(student, batch, wb.DistillConfig(label_smoothing=eps))
    logits = before(batch.train.x)
    smoothed = (1 - eps) * F.one_hot(batch.train.y, 10).float() + eps / 10
    loss = -(smoothed * logits.log_softmax(1)).sum(1).mean()
    assert loss.item() == pytest.approx(F.cross_entropy(logits, batch.train.y, label_smoothing=eps).item(), rel=1e-6)
    loss.backward()
    assert metrics["ce"] == pytest.approx(loss.item(), rel=1e-5) and metrics["loss"] == metrics["ce"]
    for got, want in zip(after.parameters(), before.parameters(), strict=True):
        same_gradient(got.grad, want.grad)


def test_label_smoothing_with_hintons_kd_smooths_the_hard_label_term_only(batch, teacher):
    cfg = wb.DistillConfig(label_smoothing=0.2, alpha=0.6, temperature=3.0)
    student = mlp(batch)
    before = copy.deepcopy(student)
    metrics, after = one_step(student, batch, cfg, teacher)
    logits = before(batch.train.x)
    ce = F.cross_entropy(logits, batch.train.y, label_smoothing=0.2)
    kd = wb.losses.kd_loss(logits, teacher(batch.train.x), 3.0)
    (0.6 * kd + 0.4 * ce).backward()
    assert metrics["ce"] == pytest.approx(ce.item(), rel=1e-5) and metrics["kd"] == pytest.approx(kd.item(), rel=1e-4)
    for got, want in zip(after.parameters(), before.parameters(), strict=True):
        same_gradient(got.grad, want.grad)


@pytest.mark.parametrize("alpha", [None, 0.9])
def test_without_smoothing_the_default_path_steps_with_exactly_the_one_hot_response_gradient(batch, teacher, alpha):
    """label_smoothing = 0 and kd_loss = "kd": bit for bit the gradient of the response terms
    written out from one-hot labels (and the soft labels at T), as before these options."""
    cfg = wb.DistillConfig(alpha=alpha or 0.9)
    who = teacher if alpha else None
    student = mlp(batch)
    before = copy.deepcopy(student)
    _, after = one_step(student, batch, cfg, who)
    order = torch.randperm(N, generator=torch.Generator().manual_seed(cfg.seed)).to(batch.train.x.device)  # the
    # loop's batch order (workbench.train._batches)
    before.train()
    logits = before(batch.train.x[order])
    onehot = F.one_hot(batch.train.y[order], 10).float()
    device = logits.device
    if who is None:
        targets, scales, weights = onehot[None], torch.tensor([1.0], device=device), torch.tensor([1.0], device=device)
    else:
        soft = F.softmax(wb.predict(teacher, batch.train.x) / cfg.temperature, dim=1)[order]
        targets = torch.stack([onehot, soft])
        scales = torch.tensor([1.0, 1 / cfg.temperature], device=device)
        weights = torch.tensor([1 - cfg.alpha, cfg.alpha * cfg.temperature**2], device=device)
    _, grad = cross_entropies_and_grad(logits, targets.transpose(1, 2).contiguous(), scales, weights)
    torch.autograd.backward([logits], [grad])
    for got, want in zip(after.parameters(), before.parameters(), strict=True):
        assert torch.equal(got.grad, want.grad)


# --- how DistillConfig's DKD mix relates to the paper's (its docstring) --------------------

def test_dkd_mix_is_one_minus_alpha_times_the_papers_with_weights_scaled_by_alpha_over_one_minus_alpha(batch,
                                                                                                     teacher):
    """Zhao et al. train on CE + a · TCKD + b · NCKD; here alpha · (w_t · TCKD + w_n · NCKD) +
    (1 − alpha) · CE, which is (1 − alpha) · the paper's with a = k · w_t, b = k · w_n,
    k = alpha / (1 − alpha): alpha = 0.8 is k = 4."""
    cfg = wb.DistillConfig(kd_loss="dkd", temperature=4.0, alpha=0.8, tckd_weight=2.0, nckd_weight=3.0)
    student = mlp(batch)
    before = copy.deepcopy(student)
    metrics, after = one_step(student, batch, cfg, teacher)
    before.train()
    logits = before(batch.train.x)
    tckd, nckd = wb.losses.dkd_terms(logits, teacher(batch.train.x).detach(), batch.train.y, 4.0)
    papers = F.cross_entropy(logits, batch.train.y) + 4 * 2.0 * tckd + 4 * 3.0 * nckd
    (0.2 * papers).backward()
    assert metrics["loss"] == pytest.approx(0.2 * papers.item(), rel=1e-5)
    for got, want in zip(after.parameters(), before.parameters(), strict=True):
        same_gradient(got.grad, want.grad)


def trained(batch, teacher, **settings):
    """The parameters, flattened, of a student distilled with DKD alone (alpha = 1) on the batch, and its start."""
    cfg = wb.DistillConfig(kd_loss="dkd", temperature=8.0, alpha=1.0, epochs=3, batch_size=32, **settings)
    flat = lambda model: torch.cat([p.detach().flatten() for p in model.parameters()])
    start = flat(mlp(batch))
    return flat(wb.distill(mlp(batch), teacher, batch, cfg).student), start


@pytest.mark.parametrize("alone", ["tckd_weight", "nckd_weight"])
def test_under_adam_a_lone_terms_weight_does_not_change_the_run_and_under_sgd_it_does(batch, teacher, alone):
    """What the Distillation lab's note under DKD's weights says: Adam's step is unchanged by a
    constant factor on the whole loss (up to its eps), so with alpha = 1 and the other weight
    0, weight 1 and weight 8 train the same student; SGD's step is not. Compared: how far the
    two runs end apart, against how far the weight-1 run moved from the start."""
    other = "nckd_weight" if alone == "tckd_weight" else "tckd_weight"
    apart = {}
    for optimizer in ("adam", "sgd"):
        (one, start), (eight, _) = (trained(batch, teacher, optimizer=optimizer, **{alone: w, other: 0.0})
                                    for w in (1.0, 8.0))
        apart[optimizer] = ((one - eight).norm() / (one - start).norm()).item()
    assert apart["adam"] < 1e-3 and apart["sgd"] > 1, apart


# --- the terms where they are small: float32 cross-entropy minus entropy would round -------

@pytest.mark.parametrize("kd_loss", ["dkd", "standardized"])
def test_a_student_next_to_its_teacher_records_its_terms_to_float64_precision(batch, teacher, kd_loss):
    """The teacher's copy, its weights moved by ~1e-3, as the student: its terms are ~1e-4,
    where T² · (cross-entropy − entropy) in float32 is off by up to ~T² · ln C · 5e-7
    (Response.exact_if_small recomputes them in float64)."""
    student = copy.deepcopy(teacher).requires_grad_(True)
    torch.manual_seed(3)
    with torch.no_grad():
        for p in student.parameters():
            p.add_(torch.randn_like(p) * 1e-3)
    before = copy.deepcopy(student)
    cfg = wb.DistillConfig(kd_loss=kd_loss, temperature=8.0, alpha=0.9)
    metrics, _ = one_step(student, batch, cfg, teacher)
    terms, loss = documented(before, teacher, batch, cfg)
    assert 0 < terms["kd"].item() < 1e-2
    for name, value in terms.items():
        assert metrics[name] == pytest.approx(value.item(), rel=1e-5), name
    assert metrics["loss"] == pytest.approx(loss.item(), rel=1e-5)
