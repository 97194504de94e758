"""The KD losses beyond Hinton's (issue 24, item 5; item 1's logit matching) against their
papers' equations on numbers worked out here by hand, their identities, and their checks;
then the loop's written-out gradients of them (workbench.response_loss) against autograd of
the public losses, and DistillConfig's new fields."""
import math
import warnings

import pytest
import torch

import workbench as wb
from workbench import response_loss, teacher_outputs

# A 3-class example with explicit probabilities: the logits are their logs, so at T = 1 the
# softmax gives them back. True class 0.
TEACHER_P = (0.7, 0.2, 0.1)
STUDENT_Q = (0.5, 0.3, 0.2)


def logits_of(*probs):
    return torch.tensor([[math.log(p) for p in probs]], dtype=torch.float64)


def kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q))


def at_temperature(probs, t):
    """softmax(log p / T) = p^(1/T) / Σ p^(1/T), by hand."""
    powered = [p ** (1 / t) for p in probs]
    return [x / sum(powered) for x in powered]


@pytest.mark.parametrize("t", [1.0, 2.0])
def test_dkd_terms_match_the_papers_equations_on_a_worked_example(t):
    """Zhao et al. 2022: TCKD = KL(b_T ‖ b_S), b = (p_target, 1 − p_target); NCKD =
    KL(p̂_T ‖ p̂_S) over the non-target classes renormalised; each times T²."""
    p, q = at_temperature(TEACHER_P, t), at_temperature(STUDENT_Q, t)
    tckd = kl([p[0], 1 - p[0]], [q[0], 1 - q[0]]) * t**2
    p_hat, q_hat = [p[1] / (p[1] + p[2]), p[2] / (p[1] + p[2])], [q[1] / (q[1] + q[2]), q[2] / (q[1] + q[2])]
    nckd = kl(p_hat, q_hat) * t**2
    if t == 1.0:  # as given: b_T = (0.7, 0.3), b_S = (0.5, 0.5); p̂_T = (2/3, 1/3), p̂_S = (0.6, 0.4)
        assert tckd == pytest.approx(0.7 * math.log(0.7 / 0.5) + 0.3 * math.log(0.3 / 0.5), rel=1e-12)
        assert nckd == pytest.approx(2 / 3 * math.log((2 / 3) / 0.6) + 1 / 3 * math.log((1 / 3) / 0.4), rel=1e-12)
    got = wb.losses.dkd_terms(logits_of(*STUDENT_Q), logits_of(*TEACHER_P), torch.tensor([0]), t)
    assert got[0].item() == pytest.approx(tckd, rel=1e-12) and got[1].item() == pytest.approx(nckd, rel=1e-12)
    loss = wb.losses.dkd_loss(logits_of(*STUDENT_Q), logits_of(*TEACHER_P), torch.tensor([0]), t, 2.0, 3.0)
    assert loss.item() == pytest.approx(2 * tckd + 3 * nckd, rel=1e-12)


def test_the_target_class_decides_which_class_is_left_out_of_nckd():
    """Label 1 instead of 0: the binary split and the renormalised rest change with it."""
    p, q = TEACHER_P, STUDENT_Q
    tckd = kl([p[1], 1 - p[1]], [q[1], 1 - q[1]])
    nckd = kl([p[0] / 0.8, p[2] / 0.8], [q[0] / 0.7, q[2] / 0.7])
    got = wb.losses.dkd_terms(logits_of(*q), logits_of(*p), torch.tensor([1]), 1.0)
    assert (got[0].item(), got[1].item()) == (pytest.approx(tckd, rel=1e-12), pytest.approx(nckd, rel=1e-12))


@pytest.mark.parametrize("t", [0.5, 1.0, 4.0, 20.0])
def test_kd_is_tckd_plus_one_minus_the_teachers_target_probability_times_nckd_per_example(t):
    """Zhao et al.'s reformulation, KD = TCKD + (1 − p_target^T) · NCKD, exact for each
    example (the batch mean of the product is not the product of the means)."""
    torch.manual_seed(0)
    s, teacher, y = torch.randn(16, 10, dtype=torch.float64) * 3, torch.randn(16, 10, dtype=torch.float64) * 3, \
        torch.randint(0, 10, (16,))
    for i in range(16):
        row = slice(i, i + 1)
        tckd, nckd = wb.losses.dkd_terms(s[row], teacher[row], y[row], t)
        p_target = torch.softmax(teacher[i] / t, 0)[y[i]]
        assert wb.losses.kd_loss(s[row], teacher[row], t).item() == pytest.approx(
            (tckd + (1 - p_target) * nckd).item(), rel=1e-10, abs=1e-14)


def test_dkd_loss_defaults_are_the_papers_and_the_terms_are_batch_means():
    torch.manual_seed(1)
    s, t, y = torch.randn(8, 5), torch.randn(8, 5), torch.randint(0, 5, (8,))
    tckd, nckd = wb.losses.dkd_terms(s, t, y, 4.0)
    assert wb.losses.dkd_loss(s, t, y).item() == pytest.approx((tckd + 8 * nckd).item(), rel=1e-6)
    each = [wb.losses.dkd_terms(s[i:i + 1], t[i:i + 1], y[i:i + 1], 4.0) for i in range(8)]
    assert tckd.item() == pytest.approx(sum(a.item() for a, _ in each) / 8, rel=1e-6)
    assert nckd.item() == pytest.approx(sum(b.item() for _, b in each) / 8, rel=1e-6)
    assert tckd.dtype == torch.float32 and wb.losses.dkd_terms(s.double(), t.double(), y, 4.0)[0].dtype == torch.float64


def test_dkd_of_a_student_equal_to_its_teacher_is_zero_and_gradients_stay_finite_for_a_sure_teacher():
    t = torch.tensor([[60.0, 0.0, -5.0, 1.0]])  # p_target = 1 - 1e-26 at T = 1: 1 − p_target underflows in float32
    y = torch.tensor([0])
    zero = wb.losses.dkd_terms(t, t, y, 1.0)
    assert zero[0].item() == 0 and zero[1].item() == pytest.approx(0, abs=1e-12)
    s = torch.zeros(1, 4, requires_grad=True)
    wb.losses.dkd_loss(s, t, y, 1.0).backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert wb.losses.dkd_terms(torch.zeros(1, 4), t, y, 1.0)[1].item() == pytest.approx(
        kl(torch.softmax(t[0, 1:].double(), 0).tolist(), [1 / 3] * 3), rel=1e-6)


@pytest.mark.parametrize("labels, match", [
    (torch.tensor([0.0, 1.0]), "labels must be a 1-D int64"),
    (torch.tensor([[0], [1]]), "labels must be a 1-D int64"),
    ([0, 1], "labels must be a 1-D int64 .* got list"),
    (torch.tensor([0, 1, 2]), r"labels must hold one label per row of the logits \(2\), got 3"),
    (torch.tensor([0, 3]), r"labels must be class indices in \[0, 3\).*got \[3\]"),
    (torch.tensor([-1, 0]), r"labels must be class indices in \[0, 3\).*got \[-1\]"),
])
def test_bad_labels_are_named(labels, match):
    with pytest.raises(ValueError, match=match):
        wb.losses.dkd_terms(torch.zeros(2, 3), torch.zeros(2, 3), labels, 4.0)


@pytest.mark.parametrize("name", ["tckd_weight", "nckd_weight"])
@pytest.mark.parametrize("value", [-0.5, 100.5, float("nan"), float("inf"), "8", True, None])
def test_bad_dkd_weights_are_named_with_their_range(name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a finite number in \[0, 100\], got {value!r}"):
        wb.losses.dkd_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0, 1]), 4.0, **{name: value})


@pytest.mark.parametrize("name", ["tckd_weight", "nckd_weight"])
def test_the_ends_of_the_weight_range_are_allowed(name):
    s, t, y = torch.randn(4, 3), torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    tckd, nckd = wb.losses.dkd_terms(s, t, y, 4.0)
    for w in (0.0, 100.0):
        weights = {"tckd_weight": 0.0, "nckd_weight": 0.0, name: w}
        term = tckd if name == "tckd_weight" else nckd
        assert wb.losses.dkd_loss(s, t, y, 4.0, **weights).item() == pytest.approx(w * term.item(), rel=1e-6)


def test_dkd_checks_its_logits_and_temperature():
    y = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="student_logits and teacher_logits must have the same shape"):
        wb.losses.dkd_terms(torch.zeros(2, 3), torch.zeros(2, 4), y, 4.0)
    with pytest.raises(ValueError, match="teacher_logits must be finite"):
        wb.losses.dkd_terms(torch.zeros(2, 3), torch.tensor([[0.0, float("nan"), 0], [0, 0, 0]]), y, 4.0)
    with pytest.raises(ValueError, match="student_logits must have at least 2 classes"):
        wb.losses.dkd_terms(torch.zeros(2, 1), torch.zeros(2, 1), torch.tensor([0, 0]), 4.0)
    with pytest.raises(ValueError, match="temperature must be a number from 0.01 to 1000"):
        wb.losses.dkd_loss(torch.zeros(2, 3), torch.zeros(2, 3), y, 0.0)


# --- logit standardization (Sun et al. 2024) ---------------------------------------------

def test_standardized_kd_on_a_worked_example():
    """Rows (1, 2, 3) and (3, 1, 2): mean 2, population std sqrt(2/3), so Z = (−a, 0, a) with
    a = sqrt(3/2) = 1.2247 (the unbiased std, 1, would give ±1), then T² · KL at T = 2."""
    a = math.sqrt(1.5)
    z_s, z_t = [-a, 0.0, a], [a, -a, 0.0]
    soft = lambda z, t: [math.exp(v / t) / sum(math.exp(w / t) for w in z) for v in z]
    expected = kl(soft(z_t, 2.0), soft(z_s, 2.0)) * 4
    got = wb.losses.standardized_kd_loss(torch.tensor([[1.0, 2, 3]]), torch.tensor([[3.0, 1, 2]]), 2.0)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    assert wb.losses.standardize(torch.tensor([[1.0, 2, 3]], dtype=torch.float64))[0].tolist() == \
        pytest.approx([-a, 0, a], rel=1e-12)


def test_standardized_kd_ignores_shift_and_positive_scale_of_either_side_and_kd_does_not():
    torch.manual_seed(2)
    s, t = torch.randn(32, 10, dtype=torch.float64), torch.randn(32, 10, dtype=torch.float64) * 2
    base = wb.losses.standardized_kd_loss(s, t, 2.0).item()
    for s2, t2 in ((s + 7.0, t), (s * 5.0, t), (s, t - 3.0), (s, t * 0.2), (3 * s - 1, 4 * t + 2)):
        assert wb.losses.standardized_kd_loss(s2, t2, 2.0).item() == pytest.approx(base, rel=1e-10)
    kd = wb.losses.kd_loss(s, t, 2.0).item()
    assert abs(wb.losses.kd_loss(s * 5.0, t, 2.0).item() - kd) > 0.1 * kd  # scale matters to plain KD
    assert abs(wb.losses.kd_loss(s, t * 0.2, 2.0).item() - kd) > 0.1 * kd
    # a shift of a whole row changes no softmax, for either loss; a shift of one class does
    shifted = s.clone()
    shifted[:, 0] += 3.0
    assert wb.losses.standardized_kd_loss(shifted, t, 2.0).item() != pytest.approx(base, rel=1e-3)


@pytest.mark.parametrize("t", [0.5, 2.0, 10.0])
def test_standardized_kd_is_kd_of_the_z_scored_logits(t):
    torch.manual_seed(3)
    s, teacher = torch.randn(16, 7, dtype=torch.float64) * 3, torch.randn(16, 7, dtype=torch.float64)
    zs = (s - s.mean(1, keepdim=True)) / s.std(1, correction=0, keepdim=True)
    zt = (teacher - teacher.mean(1, keepdim=True)) / teacher.std(1, correction=0, keepdim=True)
    assert wb.losses.standardized_kd_loss(s, teacher, t).item() == pytest.approx(
        wb.losses.kd_loss(zs, zt, t).item(), rel=1e-12)


def test_a_constant_row_is_only_centred_uniform_with_the_gradient_of_the_centred_logits():
    """An untrained head's zeros (or any constant row) have no std to divide by."""
    s = torch.zeros(2, 4, requires_grad=True)
    t = torch.tensor([[1.0, 2, 3, 4], [0.1, 0.1, 0.1, 0.1]])
    loss = wb.losses.standardized_kd_loss(s, t, 2.0)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(s.grad).all()
    p = torch.softmax(wb.losses.standardize(t[:1].double()) / 2, 1)[0]
    assert loss.item() == pytest.approx(kl(p.tolist(), [0.25] * 4) * 4 / 2, rel=1e-6)  # row 2: uniform to uniform
    # the gradient of T² · KL(p ‖ softmax(s / T)) at the centred logits s = 0: T · (1/4 − p) / B
    assert s.grad[0].tolist() == pytest.approx((2.0 * (0.25 - p) / 2).tolist(), rel=1e-5)
    assert s.grad[1].tolist() == pytest.approx([0.0] * 4, abs=1e-12)


# A float64 constant row whose mean is rounded: its centred values are 1.1e-16, not 0, and
# dividing by their std (1.1e-16) gave a gradient of 2.4e15 before constant rows were tested exactly.
ROUNDED_MEAN = 0.6779634485126913


def test_a_constant_row_whose_mean_rounds_is_still_only_centred():
    row = torch.full((1, 7), ROUNDED_MEAN, dtype=torch.float64)
    assert (row - row.mean(1, keepdim=True)).abs().max() > 0  # the rounding this test is about
    assert wb.losses.standardize(row).abs().max() < 1e-12  # Z = 0 (up to the rounding), not ±1
    torch.manual_seed(7)
    teacher = torch.randn(1, 7, dtype=torch.float64)
    # the gradient of a constant row is that of the centred logits: the same as at an all-zero row
    want = autograd_of(lambda z: wb.losses.standardized_kd_loss(z, teacher, 2.0), torch.zeros(1, 7,
                                                                                             dtype=torch.float64))
    got = autograd_of(lambda z: wb.losses.standardized_kd_loss(z, teacher, 2.0), row)
    assert torch.isfinite(got).all() and got.abs().max() < 1
    assert torch.allclose(got, want, rtol=0, atol=1e-12), (got, want)
    # and the loop's written-out gradient, on the same row (float64 logits)
    assert torch.allclose(loop_standardized(row, teacher, 2.0, 1.0)[1], want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("c", [3, 10])
@pytest.mark.parametrize("t", [1.0, 2.0])
def test_the_authors_unbiased_std_is_this_loss_at_a_higher_temperature_times_c_minus_1_over_c(c, t):
    """The relation the docstring states: with torch.std (divide by C − 1, no epsilon here),
    T² · KL of those z-scores at T = (C − 1) / C · standardized_kd_loss at T · sqrt(C / (C − 1))."""
    torch.manual_seed(8)
    s, teacher = torch.randn(16, c, dtype=torch.float64) * 3, torch.randn(16, c, dtype=torch.float64)
    unbiased = lambda z: (z - z.mean(1, keepdim=True)) / z.std(1, keepdim=True)
    theirs = wb.losses.kd_loss(unbiased(s), unbiased(teacher), t).item()
    ours = wb.losses.standardized_kd_loss(s, teacher, t * math.sqrt(c / (c - 1))).item()
    assert theirs == pytest.approx((c - 1) / c * ours, rel=1e-12)
    assert theirs != pytest.approx(wb.losses.standardized_kd_loss(s, teacher, t).item(), rel=1e-3)


def test_standardized_kd_checks_its_arguments():
    with pytest.raises(ValueError, match="must have the same shape"):
        wb.losses.standardized_kd_loss(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="student_logits must have 2 dimensions"):
        wb.losses.standardized_kd_loss(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="temperature must be a number from"):
        wb.losses.standardized_kd_loss(torch.zeros(2, 3), torch.zeros(2, 3), temperature=float("nan"))


# --- logit matching (Ba & Caruana 2014) and the high-temperature limit (item 1) ---------

def test_logit_matching_on_a_worked_example():
    s = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    t = torch.tensor([[1.0, 0.0, 5.0], [1.0, -1.0, 2.0]])
    # row 1: ½ (0 + 4 + 4) = 4; row 2: ½ (1 + 1 + 4) = 3; mean 3.5
    assert wb.losses.logit_matching(s, t).item() == pytest.approx(3.5, rel=1e-7)
    with pytest.raises(ValueError, match="must have the same shape"):
        wb.losses.logit_matching(s, t[:, :2])


def test_kd_at_a_high_temperature_is_logit_matching_of_centred_logits_over_c():
    """Hinton et al. 2015, section 2.1: as T grows, T² · KL → (1/C) · ½ Σ (s − t)² with
    each row's logits centred."""
    torch.manual_seed(4)
    c = 10
    s, t = torch.randn(64, c) * 2, torch.randn(64, c) * 2
    centred = lambda z: z - z.mean(1, keepdim=True)
    matching = wb.losses.logit_matching(centred(s), centred(t)).item() / c
    ratio = lambda temp: wb.losses.kd_loss(s, t, temp).item() / matching
    assert abs(ratio(1000.0) - 1) < 1e-3
    assert abs(ratio(1.0) - 1) > 0.2  # far from the limit at T = 1
    assert abs(ratio(100.0) - 1) < abs(ratio(10.0) - 1) < abs(ratio(1.0) - 1)  # and closer as T grows
    # uncentred logits differ by a per-row shift that no softmax sees, but logit matching does
    assert abs(wb.losses.logit_matching(s + 3.0, t).item() / c / matching - 1) > 0.5


# --- the loop's written-out gradients (workbench.response_loss) against autograd ---------

def autograd_of(loss_fn, s):
    s = s.clone().requires_grad_(True)
    loss_fn(s).backward()
    return s.grad


def loop_dkd(s, teacher, y, t, weights):
    """((TCKD, NCKD), gradient of weights[0] · TCKD + weights[1] · NCKD) the way the loop
    computes them: the teacher's side once (teacher_outputs), then three soft cross-entropies
    (response_loss.dkd_weights), each term T² · cross-entropy − T² · entropy."""
    soft, entropy = teacher_outputs.decoupled_soft_labels_and_entropy(teacher, y, t)
    targets = soft.permute(1, 2, 0).contiguous()
    far = torch.nn.functional.one_hot(y, s.shape[1]).t().to(s.dtype) * response_loss.FAR
    ces, grad = response_loss.cross_entropies_and_grad(
        s, targets, torch.full((3,), 1 / t, dtype=s.dtype), response_loss.dkd_weights(*weights).to(s.dtype) * t**2,
        torch.stack([far, far]), targets.sum(1, keepdim=True))  # the target left out of the NCKD terms' softmax
    kd, nckd, nckd_of_rest = (ces * t**2 - entropy.mean(0)).tolist()
    return (kd - nckd_of_rest, nckd), grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("t", [0.5, 4.0, 50.0])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_the_loops_dkd_terms_and_gradient_are_those_of_dkd_loss(t, scale, dtype):
    torch.manual_seed(5)
    s, teacher = torch.randn(48, 10, dtype=dtype) * scale, torch.randn(48, 10, dtype=dtype) * scale
    y = torch.randint(0, 10, (48,))
    y[0] = teacher[0].argmax()  # an example whose teacher puts nearly all its mass on the target (at scale 30)
    (tckd, nckd), grad = loop_dkd(s, teacher, y, t, (0.3, 2.5))
    want_tckd, want_nckd = wb.losses.dkd_terms(s.double(), teacher.double(), y, t)
    # float32: within the rounding the loop recomputes below (workbench.train.Response.exact_below)
    rounding = 1e-12 if dtype == torch.float64 else 2 * 4 * torch.finfo(torch.float32).eps * t**2 * math.log(10)
    assert tckd == pytest.approx(want_tckd.item(), rel=1e-6, abs=rounding)
    assert nckd == pytest.approx(want_nckd.item(), rel=1e-6, abs=rounding)
    want = autograd_of(lambda z: wb.losses.dkd_loss(z, teacher, y, t, 0.3, 2.5), s)
    assert torch.allclose(grad, want, rtol=0, atol=1e-5 * want.abs().max())


def test_dkd_as_cross_entropies_is_finite_where_the_teacher_is_certain():
    """p_t rounds to 1 (logits 200 apart at T = 1): p̂ is still the non-target softmax, not 0 / 0."""
    teacher = torch.tensor([[200.0, 1.0, 0.0]])
    s, y = torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([0])
    soft, entropy = teacher_outputs.decoupled_soft_labels_and_entropy(teacher, y, 1.0)
    assert soft[0, 0, 0] == 1.0 and torch.isfinite(soft).all() and torch.isfinite(entropy).all()
    assert torch.allclose(soft[0, 1], torch.tensor([0.0, math.e / (1 + math.e), 1 / (1 + math.e)]))
    (tckd, nckd), grad = loop_dkd(s, teacher, y, 1.0, (1.0, 1.0))
    want_tckd, want_nckd = wb.losses.dkd_terms(s.double(), teacher.double(), y, 1.0)
    assert (tckd, nckd) == (pytest.approx(want_tckd.item(), rel=1e-5), pytest.approx(want_nckd.item(), rel=1e-5))
    assert torch.isfinite(grad).all()


def loop_standardized(s, teacher, t, weight):
    """(the term, weight · its gradient) the way the loop computes them: the teacher's soft
    labels of its z-scored logits once (teacher_outputs.soft_labels_for), then
    response_loss.standardized_cross_entropies_and_grad (its labels' term weighted 0 here)."""
    soft, entropy = teacher_outputs.soft_labels_for("standardized", teacher, None, t)
    targets = torch.stack([torch.eye(s.shape[1], dtype=s.dtype)[torch.zeros(len(s), dtype=torch.long)], soft])
    ces, grad = response_loss.standardized_cross_entropies_and_grad(
        s, targets.transpose(1, 2).contiguous(), torch.tensor([1.0, 1 / t], dtype=s.dtype),
        torch.tensor([0.0, weight * t**2], dtype=s.dtype))
    return ces[1].item() * t**2 - entropy.mean().item(), grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("t", [0.5, 2.0, 50.0])
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_the_loops_standardized_term_and_gradient_are_those_of_standardized_kd_loss(t, scale, dtype):
    torch.manual_seed(6)
    s, teacher = torch.randn(48, 10, dtype=dtype) * scale, torch.randn(48, 10, dtype=dtype)
    s[0] = 1.5  # a constant row: uniform, no NaN
    term, grad = loop_standardized(s, teacher, t, 0.7)
    rounding = 1e-12 if dtype == torch.float64 else 2 * 4 * torch.finfo(torch.float32).eps * t**2 * math.log(10)
    assert term == pytest.approx(wb.losses.standardized_kd_loss(s.double(), teacher.double(), t).item(), rel=1e-6,
                                 abs=rounding)
    want = autograd_of(lambda z: 0.7 * wb.losses.standardized_kd_loss(z, teacher, t), s)
    assert torch.isfinite(grad).all() and torch.isfinite(want).all()
    assert torch.allclose(grad, want, rtol=0, atol=1e-5 * want.abs().max())


# --- DistillConfig -----------------------------------------------------------------------

def test_config_defaults_and_accepted_values():
    cfg = wb.DistillConfig()
    assert (cfg.kd_loss, cfg.tckd_weight, cfg.nckd_weight, cfg.label_smoothing) == ("kd", 1.0, 8.0, 0.0)
    cfg = wb.DistillConfig(kd_loss="dkd", tckd_weight=0, nckd_weight=100, label_smoothing=torch.tensor(0.1))
    assert (cfg.tckd_weight, cfg.nckd_weight) == (0.0, 100.0) and cfg.label_smoothing == pytest.approx(0.1)
    assert isinstance(cfg.label_smoothing, float)


@pytest.mark.parametrize("field, value, message", [
    ("kd_loss", "DKD", "kd_loss must be one of ['kd', 'dkd', 'standardized'], got 'DKD'"),
    ("tckd_weight", -1.0, "tckd_weight must be a finite number in [0, 100], got -1.0"),
    ("nckd_weight", 101, "nckd_weight must be a finite number in [0, 100], got 101"),
    ("nckd_weight", float("nan"), "nckd_weight must be a finite number in [0, 100], got nan"),
    ("label_smoothing", 1.0, "label_smoothing must be a number in [0, 1)"),
    ("label_smoothing", -0.1, "label_smoothing must be a number in [0, 1)"),
    ("label_smoothing", "0.1", "label_smoothing must be a number in [0, 1)"),
])
def test_bad_config_values_are_named_with_their_range_and_value(field, value, message):
    with pytest.raises(ValueError) as e:
        wb.DistillConfig(kd_loss="dkd" if field != "kd_loss" else value, **({field: value} if field != "kd_loss"
                                                                           else {}))
    assert message in str(e.value) and repr(value) in str(e.value)


def test_dkd_with_both_weights_zero_warns_that_the_teacher_does_nothing():
    with pytest.warns(UserWarning, match="tckd_weight and nckd_weight are both 0, so the teacher has no effect"):
        wb.DistillConfig(kd_loss="dkd", tckd_weight=0.0, nckd_weight=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wb.DistillConfig(kd_loss="dkd", tckd_weight=0.0)
        wb.DistillConfig(kd_loss="dkd", nckd_weight=0.0)


def test_dkd_weights_without_dkd_warn_that_they_do_nothing():
    with pytest.warns(UserWarning, match="nckd_weight set but kd_loss is 'standardized', so it has no effect"):
        wb.DistillConfig(kd_loss="standardized", nckd_weight=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wb.DistillConfig(kd_loss="dkd", nckd_weight=2.0)
        wb.DistillConfig(kd_loss="kd")
