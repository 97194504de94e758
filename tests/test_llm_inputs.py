"""workbench.llm at the edges (issue 29, items 5, 8 and 9): a round without an optimizer
step records no loss (NaN, not a perfect 0.0), NumPy numbers are accepted wherever a
number is, and bad values get a ValueError naming them instead of a raw torch error."""
import math
import re
import threading

import numpy as np
import pytest
import torch

import workbench as wb
from workbench._check import TEMPERATURE_MAX, TEMPERATURE_MIN
from workbench.llm import LLMConfig, LogitAPI, TextAPI, evaluate, facts, gpt
from workbench.train import run


@pytest.fixture(scope="module")
def teacher():
    return wb.llm.teacher("facts", device="cpu")


def distil(cfg, teacher, stop=None, callbacks=(), every_step=False):
    student = wb.llm.student(cfg.seed, device="cpu")
    return run(wb.llm.steps(student, teacher, wb.llm.task(), cfg, stop=stop), callbacks, every_step)


# --- item 5: rounds without an optimizer step -----------------------------------------------------

def test_a_round_without_an_optimizer_step_records_nan_not_a_perfect_loss(teacher):
    """3 steps over 5 rounds: rounds 1 and 3 take no step (3·r//5 does not move). Their loss
    used to be 0.0, which reads as a perfect step; every other round's loss is the mean of
    its own steps' losses."""
    events = []
    res = distil(LLMConfig(queries=20, steps=3, rounds=5), teacher, callbacks=[events.append], every_step=True)
    taken = [[e.metrics["loss"] for e in events if e.kind == "step" and e.epoch == r] for r in range(1, 6)]
    assert [len(t) for t in taken] == [0, 1, 0, 1, 1]
    for row, losses in zip(res.history, taken):
        assert row["round_steps"] == len(losses)
        if losses:
            assert row["loss"] == pytest.approx(sum(losses) / len(losses)) and row["loss"] > 0
        else:
            assert math.isnan(row["loss"])


def test_a_stopped_round_averages_only_the_steps_it_took_and_no_round_is_recorded_before_one(teacher):
    stop, losses = threading.Event(), []

    def stop_at_first_step(event):
        if event.kind == "step":
            losses.append(event.metrics["loss"])
            stop.set()
    res = distil(LLMConfig(queries=20, steps=4, rounds=2), teacher, stop=stop, callbacks=[stop_at_first_step],
                 every_step=True)
    assert res.stopped and len(res.history) == 1 and res.history[0]["round_steps"] == 1
    assert res.history[0]["loss"] == losses[0]  # of the 2 steps planned in round 1, the one taken
    stop.set()  # set before the run: no queries, no rounds, no rows
    res = distil(LLMConfig(queries=20, steps=4, rounds=2), teacher, stop=stop)
    assert res.stopped and res.history == [] and res.metrics["steps"] == 0


def test_the_curve_rows_of_an_experiment_carry_nan_for_a_round_without_steps():
    """What experiment(curve=True) returns and the LLM lab plots: the same rows."""
    r = wb.llm.experiment(queries=4, steps=2, curve=True)  # 4 rounds, 2 steps: rounds 1 and 3 take none
    assert [row["round_steps"] for row in r["curve"]] == [0, 1, 0, 1]
    assert [math.isnan(row["loss"]) for row in r["curve"]] == [True, False, True, False]
    assert all(math.isfinite(row["kl_to_truth"]) for row in r["curve"])  # the student is still measured


def test_a_loss_curve_drawn_from_the_rows_has_a_gap_where_no_step_was_taken():
    """The widgets' curves (plots.curves_side_by_side, the LLM lab's figure) send NaN to the
    browser as null, which plotly draws as a gap; a 0.0 would have been drawn as a perfect step."""
    import json

    from widgets import plots
    rows = [{"queries": 10, "round_steps": 0, "loss": math.nan}, {"queries": 20, "round_steps": 1, "loss": 1.5}]
    fig = plots.curves_side_by_side({"run": rows}, ["loss"])
    assert json.loads(fig.to_json())["data"][0]["y"] == [None, 1.5]


# --- item 8: NumPy numbers ------------------------------------------------------------------------

def test_llm_config_takes_numpy_numbers_and_stores_plain_ones(teacher):
    """LLMConfig accepted np.float32(0.7) and the run then failed with "temperature must be a
    finite number ... got np.float32(0.7)"."""
    cfg = LLMConfig(queries=np.int64(6), steps=np.int32(3), rounds=np.int64(3), temperature=np.float32(0.7),
                    beta=np.float64(0.3), on_policy=np.float32(0.5), lr=np.float32(5e-3), k=np.int64(4),
                    batch_size=np.int16(8), seed=np.int64(2), loss="jsd")
    plain = LLMConfig(queries=6, steps=3, rounds=3, temperature=float(np.float32(0.7)), beta=0.3, on_policy=0.5,
                      lr=float(np.float32(5e-3)), k=4, batch_size=8, seed=2, loss="jsd")
    assert cfg == plain
    assert all(type(v) in (int, float, str) for v in vars(cfg).values())
    a, b = distil(cfg, teacher), distil(plain, teacher)
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]


def test_numpy_numbers_reach_every_public_llm_function(teacher):
    g = torch.Generator().manual_seed(0)
    ids = teacher.tokenizer.batch(["\ngunu likes"])[0]
    assert gpt.check_temperature(np.float32(0.5)) == 0.5 and type(gpt.check_temperature(np.float32(0.5))) is float
    assert gpt.check_temperature(np.int64(0)) == 0
    out = gpt.generate(teacher, ids, np.int64(3), np.float64(0.0), np.int64(5), None, g)
    assert out.shape[1] == ids.shape[1] + 3
    api = TextAPI(teacher, temperature=np.float32(0.0), top_k=np.int64(3), max_new_tokens=np.int32(4),
                  seed=np.int64(1))
    assert isinstance(api("gunu likes"), str) and type(api.temperature) is float
    assert LogitAPI(teacher, k=np.int64(3)).score(ids, np.float32(2.0))[0].shape == (1, ids.shape[1] - 1, 3)
    lang = facts.make(subjects=np.int64(8), zipf=np.float32(1.5), seed=np.int64(3))
    assert lang == facts.make(subjects=8, zipf=float(np.float32(1.5)), seed=3)
    said = evaluate.samples({"teacher": teacher}, ["gunu likes"], temperature=np.float32(1.0),
                            max_new_tokens=np.int64(4), seed=np.int64(5))
    assert said == evaluate.samples({"teacher": teacher}, ["gunu likes"], max_new_tokens=4, seed=5)
    first = wb.llm.student(np.int64(1), device="cpu", pretrained_base=False, layers=1)
    again = wb.llm.student(1, device="cpu", pretrained_base=False, layers=1)
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), again.parameters()))
    assert wb.llm.experiment(queries=np.int64(2), steps=np.int64(1), seed=np.int64(0))["teacher_queries"] == 2


# _check.temperature's range, however its message words it
DISTILLATION_T = f"{re.escape(f'{TEMPERATURE_MIN:g}')}.*{re.escape(f'{TEMPERATURE_MAX:g}')}"


# --- item 9: bad values named, not raw torch errors --------------------------------------------

@pytest.mark.parametrize("kw, message", [
    ({"seed": np.int64(-1)}, r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got"),
    ({"seed": 1.5}, r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got 1.5"),
    ({"temperature": float("nan")}, r"temperature must be a number .*got nan"),
    ({"temperature": 1e-30}, "temperature must be a number .*" + DISTILLATION_T),  # white-box: a distillation T
    ({"method": "top-k", "temperature": 1e30}, "temperature must be a number .*" + DISTILLATION_T),
    ({"method": "black-box", "temperature": np.float32(np.nan)}, r"temperature must be 0 \(greedy\) or a finite"),
    ({"lr": float("inf")}, r"lr must be a finite number > 0, got inf"),
    ({"on_policy": np.float64(1.5)}, r"on_policy must be a number in \[0, 1\]"),
])
def test_bad_llm_config_values_are_named(kw, message):
    with pytest.raises(ValueError, match=message):
        LLMConfig(**kw)


def test_a_black_box_teacher_still_samples_at_any_temperature_from_float32s_tiny():
    assert LLMConfig(method="black-box", temperature=np.float32(1e-30)).temperature == pytest.approx(1e-30)
    assert LLMConfig(method="black-box", temperature=np.int64(0)).temperature == 0


@pytest.mark.parametrize("call, message", [
    (lambda t: gpt.generate(t, torch.ones(1, 3), 2), r"ids must be a \(batch, length\) tensor of integer token ids"),
    (lambda t: gpt.generate(t, torch.ones(3, dtype=torch.long), 2),
     r"ids must be a \(batch, length\) tensor of integer token ids"),
    (lambda t: gpt.generate(t, torch.full((1, 3), 999), 2), r"ids must hold token ids in \[0, 28\) .*got 999"),
    (lambda t: evaluate.perplexity(t, torch.full((1, 3), -1)), r"ids must hold token ids in \[0, 28\) .*got -1"),
    (lambda t: evaluate.samples({"teacher": t}, ["gunu"], seed=-2), r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got -2"),
    (lambda t: evaluate.samples({"teacher": t}, "gunu"), r"prompts must be a list of strings"),
    (lambda t: LogitAPI(t).score(t.tokenizer.batch(["\ngunu"])[0], float("nan")),
     "temperature must be a number .*" + DISTILLATION_T + ".* got nan"),
    (lambda t: TextAPI(t, seed=-1), r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got -1"),
    (lambda t: wb.llm.top_k_buckets(torch.zeros(1, 2, 30), (torch.zeros(1, 2, 3), torch.zeros(1, 2, 3).long()),
                                    temperature=0), "temperature must be a number .*" + DISTILLATION_T + ".* got 0"),
    (lambda t: wb.llm.student(seed=-1, pretrained_base=False), r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got -1"),
    (lambda t: wb.llm.TextTask(wb.llm.text.load(), seed=1.5), r"seed must be an integer from 0 to 2\*\*32 - 1 = 4294967295, got 1.5"),
    (lambda t: wb.llm.text.load(val_share=1.5), r"val_share must be a number in \(0, 1\) .*got 1.5"),
    (lambda t: wb.llm.text.load(min_chars=-3), r"min_chars must be an integer >= 1, got -3"),
])
def test_bad_input_is_a_value_error_naming_it_not_a_torch_error(teacher, call, message):
    with pytest.raises(ValueError, match=message):
        call(teacher)


# --- issue 22: λ, β, k, the tail and the cache, named --------------------------------------------

@pytest.mark.parametrize("kw, message", [
    ({"on_policy": -0.1}, r"on_policy must be a number in \[0, 1\], got -0.1"),
    ({"on_policy": 1.01}, r"on_policy must be a number in \[0, 1\], got 1.01"),
    ({"beta": 1.5, "loss": "jsd"}, r"beta must be a number in \[0, 1\], got 1.5"),
    ({"beta": -0.2}, r"beta must be a number in \[0, 1\], got -0.2"),
    ({"k": 0, "method": "top-k"}, r"k must be an integer >= 1, got 0"),
    ({"k": 2.5, "method": "top-k"}, r"k must be an integer >= 1, got 2.5"),
    ({"tail": "spread", "method": "top-k"}, r"tail must be one of \['bucket', 'drop', 'uniform'\], got 'spread'"),
    ({"tail": "drop", "method": "top-k", "loss": "reverse_kl"},
     r"with tail='drop' use loss 'forward_kl' or 'jsd' with beta < 1.*got tail='drop', loss='reverse_kl'"),
])
def test_bad_lambda_beta_k_and_tail_are_named(kw, message):
    with pytest.raises(ValueError, match=message):
        LLMConfig(**kw)


@pytest.mark.parametrize("k", [28, 100])
def test_k_beyond_the_vocabulary_is_refused_by_the_run_naming_k(teacher, k):
    """LLMConfig cannot know the vocabulary; the run (and LogitAPI) can: 28 ids here."""
    cfg = LLMConfig(method="top-k", k=k, queries=4, steps=1, rounds=1)
    message = rf"k must be smaller than the vocabulary \(28 tokens\) to be a top-k API: an integer from 1 to 27, got {k}"
    with pytest.raises(ValueError, match=message):
        distil(cfg, teacher)
    with pytest.raises(ValueError, match=message):
        LogitAPI(teacher, k=k)
    with pytest.raises(ValueError, match=message):  # a run from a cache asks no teacher, and still checks k
        wb.llm.steps(wb.llm.student(0, device="cpu"), None, wb.llm.task(), cfg, cache="no-such-file.npz").send(None)


def test_a_cache_from_another_teacher_or_tokenizer_is_a_value_error_naming_cache(teacher, tmp_path):
    """The full set (another k, seed, queries, temperature; corrupt and newer files) is in
    tests/test_topk_cache.py."""
    from workbench.llm import topk_cache
    cfg = LLMConfig(method="top-k", k=2, queries=4, steps=1, rounds=1)
    cache = topk_cache.write(tmp_path / "c.npz", teacher, wb.llm.task(), cfg)
    with pytest.raises(ValueError, match=r"cache '.*c.npz' was written from another teacher"):
        cache.check(teacher=wb.llm.student(0, device="cpu"))
    with pytest.raises(ValueError, match=r"cache '.*c.npz' holds ids of another tokenizer: written for characters"):
        cache.check(tokenizer=wb.llm.CharTokenizer("xyz"))
