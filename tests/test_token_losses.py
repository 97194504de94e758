"""The token-level losses of white-box LLM distillation: hand-computed values, the
identities that tie them together, masking, and bad input."""
import math

import pytest
import torch

from workbench.losses import forward_kl, generalized_jsd, reverse_kl

# One position, two tokens: the student says 50/50, the teacher 75/25.
S = torch.tensor([[0.0, 0.0]])
T = torch.tensor([[math.log(3.0), 0.0]])


def test_hand_computed_values():
    # forward: 0.75 ln(0.75/0.5) + 0.25 ln(0.25/0.5)
    assert forward_kl(S, T).item() == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5), abs=1e-6)
    assert forward_kl(S, T).item() == pytest.approx(0.130812, abs=1e-6)
    # reverse: 0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25)
    assert reverse_kl(S, T).item() == pytest.approx(0.143841, abs=1e-6)
    # JSD at beta 0.5: m = (0.625, 0.375); 0.5 KL(t||m) + 0.5 KL(s||m) = 0.5 * 0.035375 + 0.5 * 0.032269
    assert generalized_jsd(S, T, beta=0.5).item() == pytest.approx(0.033822, abs=1e-5)
    # beta 0.3 weights the teacher's side: m = 0.3 p_t + 0.7 p_s = (0.575, 0.425);
    # 0.3 KL(t||m) + 0.7 KL(s||m) = 0.3 * 0.066620 + 0.7 * 0.011379 (with beta and 1 - beta swapped: 0.029002)
    assert generalized_jsd(S, T, beta=0.3).item() == pytest.approx(0.027951, abs=2e-6)


def test_temperature_softens_both_sides():
    # at T = 2 the teacher's logits (ln 3, 0) become 75/25 -> sqrt(3):1, i.e. p = 0.634, 0.366
    p = math.sqrt(3) / (1 + math.sqrt(3))
    expected = p * math.log(p / 0.5) + (1 - p) * math.log((1 - p) / 0.5)
    assert forward_kl(S, T, temperature=2.0).item() == pytest.approx(expected, abs=1e-6)


def test_beta_ends_are_exactly_forward_and_reverse_kl():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(4, 7, 11, generator=g) * 2, torch.randn(4, 7, 11, generator=g) * 2
    assert torch.equal(generalized_jsd(s, t, beta=0.0), forward_kl(s, t))
    assert torch.equal(generalized_jsd(s, t, beta=1.0), reverse_kl(s, t))
    inner = generalized_jsd(s, t, beta=0.5)
    assert 0 < inner < math.log(2)  # a JSD with weights 1/2 is bounded by ln 2


def test_a_divergence_matches_kl_div_on_random_logits():
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(3, 5, 9, generator=g), torch.randn(3, 5, 9, generator=g)
    ls, lt = s.log_softmax(-1), t.log_softmax(-1)
    by_kl_div = torch.nn.functional.kl_div(ls, lt, reduction="none", log_target=True).sum(-1).mean()
    assert forward_kl(s, t).item() == pytest.approx(by_kl_div.item(), rel=1e-5)
    by_kl_div = torch.nn.functional.kl_div(lt, ls, reduction="none", log_target=True).sum(-1).mean()
    assert reverse_kl(s, t).item() == pytest.approx(by_kl_div.item(), rel=1e-5)


@pytest.mark.parametrize("loss", [forward_kl, reverse_kl, lambda s, t, **kw: generalized_jsd(s, t, beta=0.3, **kw)])
def test_masked_positions_change_nothing_and_identical_logits_give_zero(loss):
    g = torch.Generator().manual_seed(2)
    s, t = torch.randn(2, 6, 5, generator=g), torch.randn(2, 6, 5, generator=g)
    mask = torch.tensor([[True, True, False, True, False, False], [True, False, False, False, False, False]])
    scrambled = s.clone()
    scrambled[~mask] = torch.randn(int((~mask).sum()), 5, generator=g) * 10
    assert loss(s, t, mask=mask).item() == pytest.approx(loss(scrambled, t, mask=mask).item(), abs=1e-6)
    # the mean is per unmasked token: the same as the loss over those positions alone
    assert loss(s, t, mask=mask).item() == pytest.approx(loss(s[mask], t[mask]).item(), abs=1e-6)
    assert loss(t, t).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(s, t).item() > 0.01


def test_forward_kl_spreads_and_reverse_kl_picks_a_mode():
    """A student with one free distribution fitting a two-peaked teacher, where the
    student can only be a softmax over a shared 'shape' scaled per token: forward KL
    keeps mass on both peaks, reverse KL concentrates on one."""
    teacher = torch.log(torch.tensor([[0.49, 0.02, 0.49]]))
    results = {}
    for name, loss in (("forward", forward_kl), ("reverse", reverse_kl)):
        # the student is a unimodal bump: softmax(-(x - mu)^2 / w) over positions 0, 1, 2
        mu, logw = torch.tensor(0.3, requires_grad=True), torch.tensor(0.0, requires_grad=True)
        opt = torch.optim.Adam([mu, logw], lr=0.05)
        for _ in range(400):
            logits = (-(torch.arange(3.0) - mu) ** 2 / logw.exp())[None]
            l = loss(logits, teacher)
            opt.zero_grad()
            l.backward()
            opt.step()
        results[name] = torch.softmax(logits.detach(), -1)[0]
    assert results["forward"][1] > 0.2  # mean-seeking: mass between the peaks
    assert results["reverse"].max() > 0.8  # mode-seeking: one peak


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="beta must be a number in \\[0, 1\\], got 1.5"):
        generalized_jsd(S, T, beta=1.5)
    with pytest.raises(ValueError, match="temperature must be a number .*got 0"):  # _check.temperature's range
        forward_kl(S, T, temperature=0)
    with pytest.raises(ValueError, match="mask must be a bool tensor of shape \\(1,\\)"):
        reverse_kl(S, T, mask=torch.ones(2, dtype=torch.bool))
    with pytest.raises(ValueError, match="same shape"):
        forward_kl(S, torch.zeros(1, 3))
    with pytest.raises(ValueError, match="student_logits must be finite"):
        forward_kl(torch.tensor([[float("nan"), 0.0]]), T)
