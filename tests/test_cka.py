"""Debiased linear CKA (the unbiased HSIC estimator of Song et al. 2012 in CKA) against its
defining formula and the properties a similarity index needs, and linear CKA's missing zero."""
import itertools

import pytest
import torch

import workbench as wb


def song_unbiased_hsic(x, y):
    """Song et al. (2012)'s HSIC₁ written straight from the paper's formula, on the raw
    (uncentred) linear kernels with their diagonals set to 0."""
    n = len(x)
    k, l = x @ x.t(), y @ y.t()
    k, l = k - torch.diag(k.diagonal()), l - torch.diag(l.diagonal())
    one = torch.ones(n, dtype=x.dtype)
    return ((k * l).sum() + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (one @ k @ l @ one)) / (n * (n - 3))


def u_statistic_hsic(x, y):
    """The same estimator as an average over every ordered quadruple of distinct examples of
    k_ij (l_ij + l_qr − 2 l_iq): each term's expectation is the population HSIC's."""
    k, l = x @ x.t(), y @ y.t()
    quads = list(itertools.permutations(range(len(x)), 4))
    return sum(k[i, j] * (l[i, j] + l[q, r] - 2 * l[i, q]) for i, j, q, r in quads) / len(quads)


def cka_from(hsic, x, y):
    return (hsic(x, y) / (hsic(x, x) * hsic(y, y)).sqrt()).item()


@pytest.mark.parametrize("n, d1, d2", [(40, 5, 7), (12, 60, 30)])  # the feature form, then the Gram form
def test_debiased_cka_is_song_et_al_unbiased_hsic_in_cka(n, d1, d2):
    g = torch.Generator().manual_seed(n)
    x = torch.randn(n, d1, generator=g, dtype=torch.float64) + 3.0  # not centred: HSIC₁ ignores a shift
    y = x[:, :1] * torch.randn(1, d2, generator=g, dtype=torch.float64) + torch.randn(n, d2, generator=g, dtype=torch.float64)
    expected = cka_from(song_unbiased_hsic, x, y)
    assert wb.analysis.debiased_cka(x, y) == pytest.approx(expected, rel=1e-9)
    assert abs(expected - wb.analysis.linear_cka(x, y)) > 0.01  # the two estimators differ here


def test_song_et_al_formula_is_the_u_statistic_over_distinct_quadruples():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(7, 3, generator=g, dtype=torch.float64), torch.randn(7, 2, generator=g, dtype=torch.float64)
    y = y + x[:, :2]
    assert song_unbiased_hsic(x, y).item() == pytest.approx(u_statistic_hsic(x, y).item(), rel=1e-9)
    assert wb.analysis.debiased_cka(x, y) == pytest.approx(cka_from(u_statistic_hsic, x, y), rel=1e-9)


@pytest.mark.parametrize("n, d", [(100, 6), (20, 300)])
def test_debiased_cka_is_one_for_the_same_features_up_to_rotation_scaling_and_shift(n, d):
    g = torch.Generator().manual_seed(d)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    assert wb.analysis.debiased_cka(x, x) == pytest.approx(1.0, abs=1e-9)
    assert wb.analysis.debiased_cka(x, 0.2 * x @ q - 5.0) == pytest.approx(1.0, abs=1e-9)
    stretched = x * torch.linspace(0.1, 3.0, d, dtype=torch.float64)  # a non-isotropic scaling is not invariant
    assert wb.analysis.debiased_cka(x, stretched) < 0.99


def test_independent_wide_features_score_high_linear_cka_but_about_zero_debiased():
    """50 examples of independent Gaussian features 500 wide: linear CKA is no "near 0 for
    unrelated features" (measured mean 0.91 over 100 pairs, sd 0.003 per pair), debiased CKA is
    (measured mean 0.005, sd 0.027 per pair, so sd 0.004 for a mean of 40 pairs)."""
    g = torch.Generator().manual_seed(0)
    pairs = [(torch.randn(50, 500, generator=g), torch.randn(50, 500, generator=g)) for _ in range(40)]
    linear = torch.tensor([wb.analysis.linear_cka(a, b) for a, b in pairs])
    debiased = torch.tensor([wb.analysis.debiased_cka(a, b) for a, b in pairs])
    assert linear.min() > 0.8
    assert abs(debiased.mean()) < 0.02 and debiased.min() < 0 < debiased.max()  # scattered around 0, both signs


def test_with_many_examples_and_few_features_the_two_estimators_agree():
    """The bias of linear CKA shrinks as n grows past the widths: at n = 4,000 and widths 3
    the two agree to 0.005 on related features."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4000, 3, generator=g, dtype=torch.float64)
    y = x @ torch.randn(3, 3, generator=g, dtype=torch.float64) + torch.randn(4000, 3, generator=g, dtype=torch.float64)
    lin, deb = wb.analysis.linear_cka(x, y), wb.analysis.debiased_cka(x, y)
    assert 0.2 < deb < 0.95 and lin == pytest.approx(deb, abs=0.005)


def test_bad_inputs_to_cka_are_named():
    x = torch.randn(10, 3)
    with pytest.raises(ValueError, match="x and y must describe the same examples, got 10 and 9 rows"):
        wb.analysis.debiased_cka(x, x[:9])
    with pytest.raises(ValueError, match="x and y must have at least 4 rows \\(examples\\), got 3"):
        wb.analysis.debiased_cka(x[:3], x[:3])
    with pytest.raises(ValueError, match=r"y must be a torch.Tensor of features with one row per example .*got \(10,\)"):
        wb.analysis.debiased_cka(x, torch.randn(10))
    with pytest.raises(ValueError, match="x must be a torch.Tensor of features .*got list"):
        wb.analysis.linear_cka([[1.0, 2.0]] * 10, x)
    with pytest.raises(ValueError, match="y must be finite"):
        wb.analysis.linear_cka(x, torch.full((10, 2), float("nan")))
    with pytest.raises(ValueError, match="y must vary across examples: its unbiased HSIC with itself is 0"):
        wb.analysis.debiased_cka(x, torch.ones(10, 4))
