"""workbench.collapse at the edges (issue 29, items 6, 8 and 9): the sample sizes each
setting's fit needs, sampling temperatures whose powers underflow or overflow, NumPy
numbers for every numeric argument, and bad values named before generation 0 trains."""
import math

import numpy as np
import pytest
import torch

import workbench as wb
from workbench.collapse import digits, gaussian, zipf


# --- the sample sizes a fit needs --------------------------------------------------------------

@pytest.mark.parametrize("estimator", ["ml", "unbiased"])
def test_a_one_sample_gaussian_chain_is_refused_before_it_runs(estimator):
    """One sample has no variance (1/n gives 0, 1/(n − 1) is 0/0): the chain used to clamp
    it to 1e-300 and report a KL of 1.7e300 every generation."""
    with pytest.raises(ValueError, match=r"samples must be at least 2 for setting 'gaussian' .*got 1"):
        wb.collapse.run("gaussian", generations=3, samples=1, estimator=estimator)
    rows = wb.collapse.run("gaussian", generations=3, samples=2, estimator=estimator)
    assert all(math.isfinite(r["kl_to_truth"]) and r["kl_to_truth"] < 1e6 for r in rows)


def test_a_gaussian_fit_that_collapsed_to_a_point_is_said_so_not_clamped():
    """A fit of identical samples is a point mass: its KL from the truth is infinite and its
    tail mass 0 or 1 (the point inside or outside the truth's 95% interval)."""
    g = gaussian.Gaussian()
    model = g.fit(torch.full((5,), 0.25, dtype=torch.float64), None)
    try:
        next(model)
    except StopIteration as end:
        mean, var = end.value
    assert var == 0.0
    inside = g.measure((0.25, 0.0))
    outside = g.measure((3.0, 0.0))
    assert inside["kl_to_truth"] == math.inf and inside["tail_mass"] == 0.0 and inside["variance"] == 0.0
    assert outside["tail_mass"] == 1.0


# --- temperatures whose powers underflow or overflow --------------------------------------------

def test_zipf_sampling_at_a_small_temperature_picks_the_most_likely_token_and_does_not_crash():
    """q ** (1/T) underflows to 0 for every token at T = 0.001 (the most likely of 1000 Zipf
    tokens has q ≈ 0.13 and 0.13 ** 1000 ≈ 1e-886): torch.multinomial then refused the
    all-zero weights partway through the chain. In log space, shifted so the largest is 0,
    the most likely token keeps weight 1."""
    rows = wb.collapse.run("zipf", generations=4, samples=500, temperature=0.001, seed=0)
    assert len(rows) == 4
    assert rows[-1]["vanished"] == 999  # only the most likely token of generation 0 survives
    q = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    drawn = zipf.Zipf().produce(q, 50, 1e-3, torch.Generator().manual_seed(0))
    assert drawn.tolist() == [0] * 50
    tied = zipf.Zipf().produce(torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64), 400, 1e-30,
                                      torch.Generator().manual_seed(0))
    assert set(drawn.tolist()) <= {0} and set(tied.tolist()) == {0, 1}  # a tie at the top stays a tie


def test_zipf_sampling_at_a_large_temperature_is_uniform_over_the_tokens_still_there():
    q = torch.tensor([0.7, 0.3, 0.0, 0.0], dtype=torch.float64)
    drawn = zipf.Zipf().produce(q, 4000, 1e300, torch.Generator().manual_seed(0))
    counts = torch.bincount(drawn, minlength=4).tolist()
    assert counts[2:] == [0, 0] and abs(counts[0] - 2000) < 150  # binomial sd 32


def test_digits_labels_at_a_small_temperature_are_the_argmax_not_nan():
    """softmax(z / T) overflowed to NaN at T = 1.18e-38 (z / T is ±inf in float32, inf − inf = NaN)."""
    d = digits.Digits(steps=100)  # trained enough for logits of several units
    fit = d.fit(d.real(64, torch.Generator().manual_seed(0)), torch.Generator().manual_seed(0))
    try:
        while True:
            next(fit)
    except StopIteration as end:
        model = end.value
    x, soft = digits.Digits(steps=1, labels="soft").produce(model, 32, wb.llm.gpt.MIN_TEMPERATURE, torch.Generator().manual_seed(1))
    assert torch.isfinite(soft).all()
    assert torch.equal(soft.argmax(1), digits.predict(model, x).argmax(1))
    assert torch.allclose(soft.sum(1), torch.ones(32))


@pytest.mark.parametrize("setting", ["gaussian", "zipf", "lm", "digits"])
def test_a_temperature_below_float32s_smallest_normal_is_refused_before_generation_zero(setting, monkeypatch):
    """The lm setting samples with workbench.llm.gpt.generate, which refuses T < 1.18e-38: that
    used to fail after generation 0 had trained. Every setting now refuses it up front."""
    monkeypatch.setattr(wb.collapse.chain.SETTINGS[setting], "__init__",
                        lambda *a, **k: pytest.fail("the setting was built before the temperature was checked"))
    with pytest.raises(ValueError, match=r"temperature must be a finite number from 1.18e-38"):
        wb.collapse.run(setting, generations=2, temperature=1e-40)


def test_a_gaussian_hot_temperature_that_overflows_the_variance_is_refused():
    """Each Gaussian generation multiplies the variance by T in expectation: T ** generations
    past 1e300 overflows float64 (inf samples, then a NaN mean)."""
    with pytest.raises(ValueError, match=r"temperature must be at most 1e\+150 for setting 'gaussian' with 2 "
                                         r"generations .* got 1e\+300"):
        wb.collapse.run("gaussian", generations=2, temperature=1e300)


# --- NumPy numbers and bad values ---------------------------------------------------------------

@pytest.mark.parametrize("setting, options", [("gaussian", {}), ("zipf", {"vocab": np.int64(50),
                                                                        "exponent": np.float32(1.1)})])
def test_numpy_numbers_are_accepted_and_give_the_same_chain(setting, options):
    plain = {k: (int(v) if isinstance(v, np.integer) else float(v)) for k, v in options.items()}
    a = wb.collapse.run(setting, generations=np.int64(3), samples=np.int32(40), real_share=np.float64(0.25),
                        temperature=np.float32(0.5), seed=np.int64(3), **options)
    b = wb.collapse.run(setting, generations=3, samples=40, real_share=0.25, temperature=float(np.float32(0.5)),
                        seed=3, **plain)
    assert a == b


def test_digits_and_lm_options_accept_numpy_numbers_and_name_bad_ones():
    d = digits.Digits(steps=np.int64(3), lr=np.float32(0.01), hidden=(np.int64(8),))
    assert d.steps == 3 and d.hidden == (8,)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got -0.1"):
        digits.Digits(lr=-0.1)
    with pytest.raises(ValueError, match=r"hidden must be an integer >= 1, got 0"):
        digits.Digits(hidden=(0,))
    with pytest.raises(ValueError, match=r"heldout must be an integer >= 1, got 0"):
        wb.collapse.run("lm", generations=1, samples=10, heldout=0)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got nan"):
        wb.collapse.run("lm", generations=1, samples=10, lr=float("nan"))


@pytest.mark.parametrize("kwargs, message", [
    (dict(seed=1.5), r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got 1.5"),
    (dict(seed=np.int64(-1)), r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295"),
    (dict(real_share=float("nan")), r"real_share must be a number in \[0, 1\], got nan"),
    (dict(temperature=float("inf")), r"temperature must be a finite number"),
    (dict(temperature="1"), r"temperature must be a finite number .* got '1'"),
    (dict(samples=np.float64(50.0)), r"samples must be an integer >= 1, got"),
])
def test_bad_values_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        wb.collapse.run("gaussian", generations=2, **kwargs)


def test_a_zipf_vocabulary_too_small_to_have_a_tail_is_refused():
    """With 3 tokens at exponent 1.1 the rarest holds 17%: no tail, and tail_coverage was 0/0 = NaN."""
    with pytest.raises(ValueError, match=r"vocab must be large enough .* got vocab=3 with exponent=1.1"):
        wb.collapse.run("zipf", generations=2, vocab=3)
    assert math.isfinite(wb.collapse.run("zipf", generations=2, vocab=5)[-1]["tail_coverage"])


def test_the_gaussian_helpers_accept_numpy_integers():
    assert gaussian.expected_variance(np.int64(10), np.int32(50)) == gaussian.expected_variance(10, 50)
    assert gaussian.log_drift(np.int64(50)) == gaussian.log_drift(50)
