"""workbench.collapse: each setting collapses under "replace", keeping real data holds
it, runs are seeded and stoppable, and bad input is named."""
import math
import statistics
import threading

import pytest
import torch

import workbench as wb
from workbench.collapse import gaussian, zipf

SEEDS = range(40)


def last(setting, seeds=SEEDS, **kw):
    return [wb.collapse.run(setting, seed=s, **kw)[-1] for s in seeds]


def test_every_generation_reports_the_required_numbers():
    for setting, extra in (("gaussian", "variance"), ("zipf", "vanished")):
        rows = wb.collapse.run(setting, generations=3, samples=50)
        assert [r["generation"] for r in rows] == [0, 1, 2]
        for r in rows:
            assert {"kl_to_truth", "tail_mass", extra} <= set(r)
            assert math.isfinite(r["kl_to_truth"]) and 0 <= r["tail_mass"] <= 1


def test_gaussian_variance_shrinks_and_its_tails_vanish():
    seeds = range(200)  # instant; the fitted variance has a long right tail across chains
    first = [wb.collapse.run("gaussian", generations=1, seed=s)[0] for s in seeds]
    final = last("gaussian", seeds)  # 80 generations of 50 samples; expected variance (49/50)^80 = 0.2
    # refitting loses variance: on average, and in most chains by far
    assert statistics.mean(r["variance"] for r in final) < 0.5
    assert statistics.median(r["variance"] for r in final) < 0.2
    assert statistics.mean(r["variance"] for r in first) > 0.9  # generation 0 is still a fair fit
    assert statistics.median(r["tail_mass"] for r in final) < 0.5 * gaussian.TAIL
    assert statistics.median(r["tail_mass"] for r in first) > 0.7 * gaussian.TAIL
    assert sum(r["tail_mass"] < gaussian.TAIL for r in final) >= 0.75 * len(final)


def test_zipf_tokens_vanish_for_good_and_their_number_grows():
    for seed in range(5):
        rows = wb.collapse.run("zipf", seed=seed)
        gone = set()
        for r in rows:
            zero = {i for i, q in enumerate(r["probs"]) if q == 0}
            assert gone <= zero, "a vanished token came back"
            assert r["vanished"] == len(zero)
            gone = zero
        assert rows[-1]["vanished"] > rows[0]["vanished"] + 200
        assert rows[-1]["tail_coverage"] < 0.5 * rows[0]["tail_coverage"]
        assert rows[-1]["entropy"] < rows[0]["entropy"] - 0.5


def test_zipf_sampling_below_temperature_one_drains_the_tail():
    cold = last("zipf", temperature=0.8, generations=10)
    warm = last("zipf", generations=10)
    assert max(r["tail_mass"] for r in cold) < 0.5 * zipf.TAIL
    assert statistics.mean(r["tail_mass"] for r in warm) > 0.8 * zipf.TAIL  # a refit at T=1 keeps it on average


@pytest.mark.parametrize("setting", ["gaussian", "zipf"])
def test_keeping_real_data_holds_the_chain_near_the_truth(setting):
    replace = statistics.mean(r["kl_to_truth"] for r in last(setting))
    mix = statistics.mean(r["kl_to_truth"] for r in last(setting, policy="mix", real_share=0.2))
    accumulate = statistics.mean(r["kl_to_truth"] for r in last(setting, policy="accumulate"))
    assert mix < 0.5 * replace and accumulate < 0.5 * replace


def test_real_share_with_the_default_policy_is_fresh_real_data():
    a = wb.collapse.run("gaussian", real_share=0.3, seed=3)
    b = wb.collapse.run("gaussian", policy="mix", real_share=0.3, seed=3)
    assert a == b
    assert wb.collapse.run("gaussian", real_share=1.0, seed=3)[-1]["variance"] > 0.7  # all real: no collapse


def test_digits_students_of_students_forget_the_rare_classes():
    replace, accumulate = [], []
    for seed in range(3):
        r = wb.collapse.run("digits", seed=seed)
        a = wb.collapse.run("digits", policy="accumulate", seed=seed)
        assert r[-1]["test_acc"] < r[0]["test_acc"] - 0.15
        assert r[-1]["tail_recall"] < r[0]["tail_recall"] - 0.2
        replace.append(r[-1]["kl_to_truth"])
        accumulate.append(a[-1]["kl_to_truth"])
    assert max(accumulate) < min(replace)


def test_lm_chain_loses_perplexity_and_rare_subjects_under_replace():
    for seed in range(3):
        rows = wb.collapse.run("lm", generations=3, seed=seed, device="cpu")
        ppl = [r["perplexity"] for r in rows]
        assert ppl[0] < ppl[1] < ppl[2]
        assert rows[-1]["tail_mass"] < rows[0]["tail_mass"] - 0.02
        assert rows[-1]["kl_to_truth"] > rows[0]["kl_to_truth"] + 0.3
        assert sum(rows[-1]["subject_probs"]) <= 1.0 + 1e-6


def test_same_seed_same_chain_and_seeds_differ():
    assert wb.collapse.run("zipf", generations=5, seed=7) == wb.collapse.run("zipf", generations=5, seed=7)
    assert wb.collapse.run("gaussian", seed=1) != wb.collapse.run("gaussian", seed=2)


def test_stop_keeps_the_generations_so_far():
    stop = threading.Event()
    rows = wb.collapse.run("digits", generations=5, stop=stop, callbacks=[lambda e: stop.set()])
    assert [r["generation"] for r in rows] == [0]
    events = wb.collapse.steps("digits", generations=2, samples=64)
    fractions = [e.metrics["fraction"] for e in events if e.kind == "step"]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, name", [
    (dict(samples=0), "samples"), (dict(generations=0), "generations"), (dict(real_share=1.5), "real_share"),
    (dict(real_share=-0.1), "real_share"), (dict(policy="keep"), "policy"), (dict(temperature=0), "temperature"),
    (dict(temperature=-1.0), "temperature"), (dict(policy="mix"), "real_share"), (dict(seed=-1), "seed"),
    (dict(labels="soft"), "options of setting 'gaussian'")])
def test_bad_input_is_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        wb.collapse.run("gaussian", **kwargs)


def test_unknown_setting_and_digits_labels_are_named():
    with pytest.raises(ValueError, match=r"setting must be one of \['gaussian', 'zipf', 'lm', 'digits'\]"):
        wb.collapse.run("images")
    with pytest.raises(ValueError, match="labels must be one of"):
        wb.collapse.run("digits", labels="fuzzy")
