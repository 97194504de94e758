"""The training loop against the documented loss, term by term.

Each test runs the loop (wb.steps) for one step on one full batch, so the batch order
cannot matter, and computes the same loss here from the public wb.losses functions on a
copy of the student made before the step: the recorded values and the gradient the loop
stepped with must be those of the documented loss (DistillConfig's docstring). Then the
first step of each optimizer against its formula, relation terms over a whole run, and
predict_features' chunks."""
import copy
import dataclasses

import pytest
import torch
import torch.nn.functional as F

import workbench as wb
from conftest import small_student as mlp  # mlp(32), seeded

N = 96  # examples in the one batch
TINY_LR = 1e-12  # Adam moves each weight by about lr: nothing a float32 weight of ~0.1 can show


@pytest.fixture(scope="module")
def batch(digits):
    """digits with a transfer set of its first N training images (every digit among them)."""
    return dataclasses.replace(digits, train=wb.data.Split(digits.train.x[:N], digits.train.y[:N]))


@pytest.fixture(scope="module")
def cnn_teacher():
    return wb.teachers.get("digits/cnn", device="cpu")


def cnn(splits, seed=0):
    wb.seed_everything(seed)
    return wb.models.build("cnn", splits.input_shape, splits.num_classes, channels=(4, 8))


def run(student, splits, cfg, teacher=None):
    """(the metrics of each step, the Result) of the loop with cfg on one full batch."""
    cfg = cfg.replace(epochs=1, batch_size=len(splits.train))
    events, gen = [], wb.steps(student, splits, cfg, teacher=teacher)
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            return [e.metrics for e in events if e.kind == "step"], done.value


RELATIONS = {"rkd_distance": wb.losses.rkd_distance, "rkd_angle": wb.losses.rkd_angle,
             "rkd": lambda s, t: wb.losses.rkd_distance(s, t) + 2 * wb.losses.rkd_angle(s, t),
             "similarity": wb.losses.similarity_preserving}


def documented_loss(student, teacher, x, y, cfg, regressors=()):
    """The terms of DistillConfig's loss on (x, y) from wb.losses, and the total."""
    pairs = list(cfg.feature_pairs) if cfg.feature_weight > 0 else []
    relation_pair = cfg.relation_pair if cfg.relation_weight > 0 else None
    both = pairs + ([relation_pair] if relation_pair else [])
    student.train()
    with wb.models.tap(student, sorted({s for _, s in both})) as fs:
        logits = student(x)
    terms = {"ce": F.cross_entropy(logits, y)}
    if teacher is None:
        return terms, terms["ce"]
    with torch.no_grad(), wb.models.tap(teacher, sorted({t for t, _ in both})) as ft:
        teacher_logits = teacher(x)
    loss = (1 - cfg.alpha) * terms["ce"]
    if cfg.alpha > 0:
        terms["kd"] = wb.losses.kd_loss(logits, teacher_logits, cfg.temperature)
        loss = loss + cfg.alpha * terms["kd"]
    if pairs:
        if cfg.feature_loss == "hint":
            parts = [wb.losses.hint_loss(r(fs[s]), ft[t]) for r, (t, s) in zip(regressors, pairs, strict=True)]
        else:
            parts = [wb.losses.attention_transfer(fs[s], ft[t]) for t, s in pairs]
        terms["feature"] = sum(parts)
        loss = loss + cfg.feature_weight * terms["feature"]
    if cfg.relation_weight > 0:
        es, et = (fs[relation_pair[1]], ft[relation_pair[0]]) if relation_pair else (logits, teacher_logits)
        terms["relation"] = RELATIONS[cfg.relation_loss](es, et)
        loss = loss + cfg.relation_weight * terms["relation"]
    return terms, loss


def assert_same_gradient(got, want):
    """Equal to float32 rounding, relative to the largest entry (a term left out, a weight
    or a T² missing, a detached term: each moves it by far more)."""
    assert got is not None, "no gradient reached this parameter"
    assert (got - want).abs().max() <= 1e-4 * want.abs().max(), (got - want).abs().max() / want.abs().max()


def check_step(student, splits, cfg, teacher=None):
    """Run one step of the loop and check its recorded terms and gradients against
    documented_loss on a copy of the student (and of the regressors) from before it."""
    before = copy.deepcopy(student)
    (metrics,), res = run(student, splits, cfg.replace(lr=TINY_LR), teacher)
    regressors = copy.deepcopy(res.regressors) if res.regressors is not None else torch.nn.ModuleList()
    for p in regressors.parameters():
        p.grad = None
    terms, loss = documented_loss(before, teacher, splits.train.x, splits.train.y, cfg, regressors)
    loss.backward()
    assert {"loss", *terms} <= set(metrics)
    assert metrics["loss"] == pytest.approx(loss.item(), rel=1e-4, abs=1e-5)
    for name, value in terms.items():
        assert metrics[name] == pytest.approx(value.item(), rel=1e-4, abs=1e-5), name
    trained = list(res.student.parameters()) + list(res.regressors.parameters() if res.regressors else [])
    for got, want in zip(trained, list(before.parameters()) + list(regressors.parameters()), strict=True):
        assert_same_gradient(got.grad, want.grad)


def test_hard_label_training_steps_with_the_cross_entropy(batch):
    check_step(mlp(batch), batch, wb.DistillConfig())


@pytest.mark.parametrize("temperature", [1.0, 4.0, 10.0])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_response_kd_steps_with_alpha_kd_loss_plus_one_minus_alpha_cross_entropy(batch, teacher, temperature, alpha):
    check_step(mlp(batch), batch, wb.DistillConfig(temperature=temperature, alpha=alpha), teacher)


@pytest.mark.parametrize("pairs", [[("act2", "act1")], [("act2", "act1"), ("act1", "fc1")]])
def test_hint_term_is_the_sum_over_pairs_of_hint_loss_through_each_regressor(batch, teacher, pairs):
    cfg = wb.DistillConfig(temperature=4.0, alpha=0.5, feature_weight=2.0, feature_pairs=pairs)
    check_step(mlp(batch), batch, cfg, teacher)


# teacher outputs kept for the run (the default budget) or computed on every batch (0 MB)
BUDGETS = pytest.mark.parametrize("teacher_memory_mb", [wb.DistillConfig().teacher_memory_mb, 0.0])


@BUDGETS
def test_attention_term_is_the_sum_over_pairs_of_attention_transfer(batch, cnn_teacher, teacher_memory_mb):
    # block1 -> block1 at the same 4x4 size; block2 (2x2) -> block1: the larger map is pooled
    cfg = wb.DistillConfig(temperature=4.0, alpha=0.5, feature_weight=50.0, feature_loss="attention",
                           feature_pairs=[("block1", "block1"), ("block1", "block2")],
                           teacher_memory_mb=teacher_memory_mb)
    check_step(cnn(batch), batch, cfg, cnn_teacher)


@pytest.mark.parametrize("relation_loss", ["rkd_distance", "rkd_angle", "rkd", "similarity"])
@pytest.mark.parametrize("relation_pair", [("act2", "act1"), None])
def test_relation_term_is_the_named_loss_on_the_pair_or_on_the_logits(batch, teacher, relation_loss, relation_pair):
    cfg = wb.DistillConfig(temperature=4.0, alpha=0.5, relation_weight=3.0, relation_loss=relation_loss,
                           relation_pair=relation_pair)
    check_step(mlp(batch), batch, cfg, teacher)


@BUDGETS
@pytest.mark.parametrize("relation_pair", [("act2", "act1"), None])
def test_feature_and_relation_terms_add_to_response_kd_with_their_weights(batch, teacher, relation_pair,
                                                                          teacher_memory_mb):
    cfg = wb.DistillConfig(temperature=2.0, alpha=0.7, feature_weight=0.5, feature_pairs=[("act1", "act1")],
                           relation_weight=4.0, relation_loss="rkd", relation_pair=relation_pair,
                           teacher_memory_mb=teacher_memory_mb)
    check_step(mlp(batch), batch, cfg, teacher)


# --- the optimizers' first step, against its formula, with weight decay ---

def first_step(batch, optimizer, lr, weight_decay):
    """(weights before, the hard-label gradient there, weights after one step of the loop)."""
    student = mlp(batch)
    before = copy.deepcopy(student)
    F.cross_entropy(before(batch.train.x), batch.train.y).backward()
    run(student, batch, wb.DistillConfig(optimizer=optimizer, lr=lr, weight_decay=weight_decay))
    flat = lambda ts: torch.cat([t.detach().flatten() for t in ts])
    return (flat(before.parameters()), flat(p.grad for p in before.parameters()),
            flat(student.parameters()))


@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
def test_sgd_steps_against_the_gradient_plus_the_weight_decay(batch, weight_decay):
    """With or without momentum (Nesterov or not), SGD's first step is -c (g + wd p) with
    lr <= c < 2 lr: one direction for all weights, the decay added to the gradient."""
    lr = 0.1
    p, g, after = first_step(batch, "sgd", lr, weight_decay)
    direction, step = g + weight_decay * p, after - p
    c = -(step @ direction) / (direction @ direction)
    assert (step + c * direction).norm() <= 1e-3 * step.norm()  # Adam's step, or a decay left out, is not
    assert lr * (1 - 1e-4) <= c < 2 * lr


@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
def test_adam_first_step_is_lr_times_the_sign_of_the_gradient_plus_decay(batch, weight_decay):
    """Adam's bias correction makes its first step -lr d / (|d| + eps), d = g + wd p
    (weight decay as an L2 term added to the gradient), whatever its betas."""
    lr = 1e-2
    p, g, after = first_step(batch, "adam", lr, weight_decay)
    d = g + weight_decay * p
    assert torch.allclose(after - p, -lr * d / (d.abs() + 1e-8), rtol=1e-3, atol=1e-3 * lr)


def test_adamw_decays_the_weights_apart_from_the_gradient_step(batch):
    """AdamW (Loshchilov & Hutter 2019): p -= lr wd p, then Adam's step on the gradient
    alone: -lr (wd p + g / (|g| + eps)) on the first step."""
    lr, wd = 1e-2, 0.5
    p, g, after = first_step(batch, "adamw", lr, wd)
    assert torch.allclose(after - p, -lr * (wd * p + g / (g.abs() + 1e-8)), rtol=1e-3, atol=1e-3 * lr)


# --- relation terms over a whole run ---

def relation_on_test(student, teacher, cfg, test):
    """cfg's relation loss between student and teacher on 200 test images (on the logits
    when relation_pair is None)."""
    t, s = cfg.relation_pair or (None, None)
    es = wb.analysis.features(student, test.x[:200], s) if s else wb.predict(student, test.x[:200])
    et = wb.analysis.features(teacher, test.x[:200], t) if t else wb.predict(teacher, test.x[:200])
    return RELATIONS[cfg.relation_loss](es, et).item()


RUN = wb.DistillConfig(epochs=5, batch_size=64, alpha=0.0)  # rkd_angle costs B^3 per step: small batches


@pytest.fixture(scope="module")
def hard_label_student(digits):
    return wb.train(mlp(digits), digits, RUN).student


@pytest.mark.parametrize("relation_loss, weight", [("rkd_angle", 10.0), ("similarity", 50.0)])
@pytest.mark.parametrize("relation_pair", [None, ("act2", "act1")])
def test_a_relation_term_trains_a_student_towards_the_teachers_relations(digits, teacher, hard_label_student,
                                                                          relation_loss, weight, relation_pair):
    """alpha = 0: hard labels plus the relation term only. The loss falls, the student
    learns the digits, and its relations on test images end closer to the teacher's than
    those of the same student trained on hard labels alone (same weights, same batches:
    a term whose gradient reached no weight would end at the same ratio, 1)."""
    cfg = RUN.replace(relation_weight=weight, relation_loss=relation_loss, relation_pair=relation_pair)
    res = wb.distill(mlp(digits), teacher, digits, cfg)
    assert res.history[-1]["loss"] < 0.5 * res.history[0]["loss"]
    assert res.history[-1]["relation"] < res.history[0]["relation"]
    assert res.metrics["test_acc"] > 0.85  # chance is 0.1
    ours, hard = (relation_on_test(s, teacher, cfg, digits.test) for s in (res.student, hard_label_student))
    assert ours < 0.8 * hard


# --- predict_features in chunks ---

@pytest.mark.parametrize("chunk", [7, 49, 50, 64])
def test_predict_features_in_chunks_equals_one_pass(digits, chunk):
    """50 images in chunks of 7 (a last chunk of 1), 49, 50 and 64: the same logits and
    features, in order, as one pass in eval mode; the model's train mode is restored."""
    model = cnn(digits)
    x = digits.test.x[:50]
    with torch.no_grad(), wb.models.tap(model.eval(), ["block1", "pool"]) as tapped:
        want = model(x)
    model.train()
    logits, feats = wb.features.predict_features(model, x, ["block1", "pool"], chunk=chunk)
    assert model.training
    assert logits.shape == want.shape and torch.allclose(logits, want, atol=1e-6)
    for name in ("block1", "pool"):
        assert feats[name].shape == tapped[name].shape and torch.allclose(feats[name], tapped[name], atol=1e-6)
