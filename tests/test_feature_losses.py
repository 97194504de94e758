import itertools
import math

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import workbench as wb
from workbench import losses

T = torch.tensor


def test_hint_loss_is_the_mean_squared_difference_and_needs_matching_shapes():
    assert losses.hint_loss(T([[1.0, 2.0], [3.0, 4.0]]), T([[0.0, 2.0], [3.0, 6.0]])).item() == pytest.approx(1.25)
    with pytest.raises(ValueError, match=r"student_features must have the teacher's shape \(2, 3\), got \(2, 2\).*regressor"):
        losses.hint_loss(torch.zeros(2, 2), torch.zeros(2, 3))


def test_attention_transfer_by_hand_and_with_pooling():
    fs = T([[[[1.0, 2.0]], [[3.0, 0.0]]]])  # 1 example, 2 channels, a 1x2 map
    ft = torch.ones(1, 1, 1, 2)
    a_s = [5 / math.sqrt(29), 2 / math.sqrt(29)]  # mean over channels of f², L2-normalised
    a_t = [1 / math.sqrt(2)] * 2
    by_hand = sum((a - b) ** 2 for a, b in zip(a_s, a_t)) / 2
    assert losses.attention_transfer(fs, ft).item() == pytest.approx(by_hand, rel=1e-6)
    big = ft.repeat(1, 3, 2, 2)  # a 2x4 map pools to the 1x2 one; 3 channels, same attention
    assert losses.attention_transfer(fs, big).item() == pytest.approx(by_hand, rel=1e-6)
    with pytest.raises(ValueError, match="at least 4 dimensions"):
        losses.attention_transfer(torch.zeros(2, 5), torch.zeros(2, 5))


def test_similarity_preserving_by_hand_and_across_widths():
    fs, ft = T([[1.0, 0.0], [0.0, 1.0]]), T([[1.0], [2.0]])
    g_t = [[1 / math.sqrt(5), 2 / math.sqrt(5)]] * 2  # rows of [[1, 2], [2, 4]], normalised
    g_s = [[1.0, 0.0], [0.0, 1.0]]
    by_hand = sum((g_t[i][j] - g_s[i][j]) ** 2 for i in range(2) for j in range(2)) / 4
    assert losses.similarity_preserving(fs, ft).item() == pytest.approx(by_hand, rel=1e-6)
    g = torch.Generator().manual_seed(0)
    wide, narrow = torch.randn(8, 17, generator=g), torch.randn(8, 5, generator=g)
    assert losses.similarity_preserving(narrow, wide).item() > 0
    assert losses.similarity_preserving(narrow, 3 * narrow).item() == pytest.approx(0.0, abs=1e-7)


def test_rkd_distance_by_hand_and_unchanged_by_scaling():
    es = T([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])  # distances 3, 4, 5: mean 4
    et = T([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])  # distances 1, 2, 1: mean 4/3
    # normalised: student 0.75, 1, 1.25; teacher 0.75, 1.5, 0.75; two entries differ by 0.5,
    # each twice in the 3x3 matrix: smooth-L1 0.5 · 0.5² each, mean over 9
    assert losses.rkd_distance(es, et).item() == pytest.approx(4 * 0.125 / 9, rel=1e-5)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(10, 6, generator=g), torch.randn(10, 3, generator=g)
    assert losses.rkd_distance(7.5 * a, 7.5 * b).item() == pytest.approx(losses.rkd_distance(a, b).item(), rel=1e-5)


def angle_loss_by_hand(es, et):
    def unit(v):
        n = math.sqrt(sum(c * c for c in v))
        return [c / n for c in v] if n > 0 else [0.0 for _ in v]

    def cosines(e):
        out = []
        for i, j, k in itertools.product(range(len(e)), repeat=3):
            u = unit([a - b for a, b in zip(e[j], e[i])])
            v = unit([a - b for a, b in zip(e[k], e[i])])
            out.append(sum(p * q for p, q in zip(u, v)))
        return out

    def smooth_l1(d):
        return 0.5 * d * d if abs(d) < 1 else abs(d) - 0.5
    cs, ct = cosines(es), cosines(et)
    return sum(smooth_l1(a - b) for a, b in zip(cs, ct)) / len(cs)


def test_rkd_distance_by_hand_where_smooth_l1_is_linear():
    es = T([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])  # distances 0, 1, 1: mean 2/3, normalised 0, 1.5, 1.5
    et = T([[0.0, 0.0], [10.0, 0.0], [11.0, 0.0]])  # distances 10, 11, 1: mean 22/3, normalised 15/11, 1.5, 3/22
    # two entries differ by 15/11 > 1: smooth-L1 |d| − 1/2 = 19/22 each, twice in the 3x3 matrix, mean over 9
    assert losses.rkd_distance(es, et).item() == pytest.approx(4 * (19 / 22) / 9, rel=1e-5)


def test_rkd_angle_matches_the_triple_loop():
    es = [[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]
    et = [[0.0, 0.0, 1.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    assert losses.rkd_angle(T(es), T(et)).item() == pytest.approx(angle_loss_by_hand(es, et), rel=1e-5)


def test_rkd_angle_by_the_law_of_cosines_equals_the_angles_of_the_difference_vectors():
    g = torch.Generator().manual_seed(0)
    e = (torch.randn(40, 7, generator=g, dtype=torch.float64) + 3).relu()
    e[5] = e[9]  # a repeated point: its angles are 0, as normalising a zero vector gives
    diff = torch.nn.functional.normalize(e[None] - e[:, None], dim=2)  # x_j − x_i at [i, j], unit
    by_vectors = (diff @ diff.transpose(1, 2)).flatten()
    assert torch.allclose(losses._angles(e), by_vectors, atol=1e-12)
    assert torch.allclose(losses._angles(e.float()), by_vectors.float(), atol=1e-5)


class LargestTensor(TorchDispatchMode):
    """Records the most elements any op's output has while the mode is on."""
    numel = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.numel = max([self.numel] + [t.numel() for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)])
        return out


@pytest.mark.parametrize("name", ["rkd_distance", "rkd_angle", "similarity"])
def test_relation_terms_on_wide_features_never_build_a_tensor_larger_than_the_batch_or_b_cubed(name):
    b, d = 64, 10**6  # on the meta device: shapes without memory, so a B·B·D tensor would show, not crash
    es = torch.empty(b, d, device="meta", requires_grad=True)
    with LargestTensor() as probe:
        losses.UNCHECKED[name](es, torch.empty(b, d, device="meta")).backward()
    assert probe.numel <= max(b**3, b * d)


TINY = (torch.randn(8, 4, generator=torch.Generator().manual_seed(0)) * 1e-10).tolist()
TINY[3] = TINY[5]


@pytest.mark.parametrize("points", [[[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]], [[0.5, 0.5]] * 3, TINY],
                         ids=["a repeated point", "all one point (a collapsed student)",
                              "features of 1e-10 with a repeated point"])
def test_relation_losses_have_finite_values_and_gradients_even_with_repeated_points(points):
    e = torch.tensor(points, requires_grad=True)
    t = torch.randn(len(e), 4, generator=torch.Generator().manual_seed(0))
    for fn in (losses.rkd_distance, losses.rkd_angle, losses.similarity_preserving):
        value = fn(e, t)
        (g,) = torch.autograd.grad(value, e)
        assert torch.isfinite(value) and torch.isfinite(g).all(), fn.__name__


def test_bad_feature_inputs_are_named():
    with pytest.raises(ValueError, match="same batch size, got 3 and 4"):
        losses.rkd_distance(torch.zeros(3, 2), torch.zeros(4, 2))
    bad = torch.zeros(3, 2)
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="teacher_embeddings must be finite"):
        losses.rkd_angle(torch.zeros(3, 2), bad)


def test_regressor_shapes_and_the_shapes_it_cannot_match():
    assert isinstance(wb.models.regressor((32,), (256,)), torch.nn.Linear)
    conv = wb.models.regressor((8, 4, 4), (32, 4, 4))
    assert conv(torch.zeros(2, 8, 4, 4)).shape == (2, 32, 4, 4)
    assert wb.models.regressor((8, 4, 4), (64,))(torch.zeros(2, 8, 4, 4)).shape == (2, 64)
    with pytest.raises(ValueError, match=r"\(8, 4, 4\) cannot be regressed to the teacher's \(32, 2, 2\)"):
        wb.models.regressor((8, 4, 4), (32, 2, 2))


def test_linear_cka_is_one_under_rotation_and_scaling_and_low_for_unrelated_features():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 6, generator=g)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g))
    assert wb.analysis.linear_cka(x, 3 * x @ q) == pytest.approx(1.0, abs=1e-9)
    assert wb.analysis.linear_cka(x, torch.randn(200, 9, generator=g)) < 0.15
    with pytest.raises(ValueError, match="same examples"):
        wb.analysis.linear_cka(x, x[:10])


@pytest.mark.parametrize("n, d1, d2", [(300, 12, 20), (40, 500, 30), (40, 30, 500)])
def test_linear_cka_gram_and_feature_forms_agree(n, d1, d2):
    g = torch.Generator().manual_seed(n + d1)
    x = torch.randn(n, d1, generator=g, dtype=torch.float64)
    y = x[:, :min(d1, d2)].repeat(1, d2 // min(d1, d2) + 1)[:, :d2] + torch.randn(n, d2, generator=g, dtype=torch.float64)
    xc, yc = x - x.mean(0), y - y.mean(0)
    feature_form = ((yc.t() @ xc).norm() ** 2 / ((xc.t() @ xc).norm() * (yc.t() @ yc).norm())).item()
    assert wb.analysis.linear_cka(x, y) == pytest.approx(feature_form, rel=1e-9)
    assert 0.05 < feature_form < 0.99  # related but not equal: a value the two forms could disagree on


def test_linear_cka_of_very_wide_features_needs_only_the_examples_gram_matrices():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(16, 3, generator=g), torch.randn(16, 3, generator=g)
    wide = torch.randn(3, 300_000, generator=g) / 300_000 ** 0.5  # nearly orthonormal rows; d × d would be 720 GB
    assert wb.analysis.linear_cka(a @ wide, 2 * a @ wide) == pytest.approx(1.0, abs=1e-9)
    narrow = wb.analysis.linear_cka(a, b)  # the same examples' relations, 3 features wide
    assert wb.analysis.linear_cka(a @ wide, b @ wide) == pytest.approx(narrow, abs=0.02) and narrow < 0.9
