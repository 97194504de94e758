"""bench/bench_llm.py times white-box and black-box training on pools built from the
prompts a default experiment asks about (issue 21 made every method see the same prompts
each round, distill.round_prompts; issue 29 made the bench follow)."""
import pathlib
import sys

import pytest

import workbench as wb
from workbench.llm import distill
from workbench.llm.distill import LLMConfig
from workbench.llm.experiments import rounds_for

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
import bench_llm  # noqa: E402  (bench/ is not a package)

sys.path.pop(0)


def asked(monkeypatch, method, queries, seed):
    """The prompts wb.llm.experiment sends through _collect, round by round."""
    seen = []
    collect = distill._collect

    def record(pool, api, student, task, cfg, n, n_on, g, prompts=None):
        assert prompts is not None and len(prompts) == n
        seen.extend(prompts)
        return collect(pool, api, student, task, cfg, n, n_on, g, prompts)
    monkeypatch.setattr(distill, "_collect", record)
    wb.llm.experiment(method, queries=queries, steps=10, seed=seed)
    monkeypatch.setattr(distill, "_collect", collect)
    return seen


@pytest.mark.parametrize("seed", [0, 3])
def test_the_bench_pools_hold_the_experiments_prompts(monkeypatch, seed):
    queries = 45  # not a multiple of the 10 rounds: rounds of 4 and 5 prompts
    cfg = LLMConfig(queries=queries, rounds=rounds_for(queries), seed=seed)
    bench = bench_llm.experiment_prompts(wb.llm.task(), cfg)
    assert len(bench) == queries
    for method in ("white-box", "black-box"):
        assert asked(monkeypatch, method, queries, seed) == bench, method


def test_the_bench_uses_the_default_experiments_rounds():
    """training_throughput builds its pools with LLMConfig's defaults; the experiment
    splits the same budget into rounds_for(queries) rounds: they must agree."""
    assert LLMConfig().rounds == rounds_for(LLMConfig.queries)
