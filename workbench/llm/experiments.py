"""One call for notebooks, widgets and outside scripts: distil a fresh default student
from the default teacher on the facts language and measure it."""
import copy
import numbers

import torch

from .. import _check
from ..device import pick_device, seed_everything
from ..train import run
from . import distill, gpt, pretrained
from .distill import LLMConfig
from .tasks import FactsTask

_loaded = {}

# The control for forward against reverse KL: a forward-KL student stopped after this many
# optimizer steps (of the default 500, same 1,200 queries) knows on average as many facts as the
# reverse-KL student after all 500, so the two can be compared on second answers without
# comparing a student that learned more with one that learned less (tests/test_llm.py).
EQUAL_ACCURACY_STEPS = 180


def _get(name, device):
    key = (name, str(device))
    if key not in _loaded:
        _loaded[key] = pretrained.get(name, device=device)
    return _loaded[key]


def teacher(name="facts", device=None):
    """A pretrained teacher: "facts" (the default) or "pydoc" (real text); loaded once."""
    _check.one_of("name", name, pretrained.TEACHERS)
    return _get(name, torch.device(device) if device is not None else pick_device())


def student(seed=0, device=None, pretrained_base=True, **size):
    """A fresh default student: a trainable copy of "facts-base", which speaks the facts
    language but knows none of its facts. With pretrained_base=False, or a `size`
    (context, layers, width, heads), a randomly initialised GPT seeded with `seed`."""
    seed = _check.seed("seed", seed)
    device = torch.device(device) if device is not None else pick_device()
    base = _get("facts-base", device)
    if pretrained_base and not size:
        model = copy.deepcopy(base).requires_grad_(True)
    else:
        seed_everything(seed)
        r = pretrained.RECIPES["facts-base"]
        dims = {"context": r.context, "layers": r.layers, "width": r.width, "heads": r.heads, **size}
        model = gpt.build(base.tokenizer, **dims).to(device)
        model.bos = base.bos
    return model.train()


def task(device=None):
    if "task" not in _loaded:
        _loaded["task"] = FactsTask(pretrained.language())
    return _loaded["task"]


def rounds_for(queries):
    """Ten rounds of queries, or one per query on a budget under ten."""
    # NumPy integers too; anything else is left to LLMConfig to refuse
    whole = isinstance(queries, numbers.Integral) and not isinstance(queries, bool) and queries > 0
    return min(LLMConfig.rounds, int(queries)) if whole else LLMConfig.rounds


def experiment(method="white-box", queries=LLMConfig.queries, loss="forward_kl", temperature=1.0, on_policy=0.0,
               seed=0, k=5, beta=0.5, steps=LLMConfig.steps, curve=False, device=None, callbacks=(), stop=None,
               tail="bucket"):
    """Distil a fresh default student (`student()`) from the default teacher ("facts")
    with `method`: "white-box", "black-box", or "top-k" seeing the teacher's `k` most
    likely tokens (`tail`: what the student learns for the rest, LLMConfig.tail), on a budget of `queries` teacher queries. Every method with the same
    seed asks about the same prompts in every round (distill.round_prompts), so runs
    compared at one seed differ only in what the teacher returns. Returns a dict of
    measured numbers: kl_to_truth, perplexity, fact_accuracy, rare_coverage,
    second_mode_coverage, one_answer_accuracy, second_ranked_first,
    second_kept_when_right, teacher_queries, teacher_tokens and seconds, with the
    settings that produced them; with curve=True also "curve", the same numbers after
    every round of queries."""
    if not isinstance(curve, bool):
        raise ValueError(f"curve must be True or False, got {curve!r}")
    cfg = LLMConfig(method=method, queries=queries, loss=loss, beta=beta, temperature=temperature,
                    on_policy=on_policy, k=k, tail=tail, steps=steps, seed=seed, rounds=rounds_for(queries))
    t = teacher("facts", device)
    model = student(cfg.seed, device=next(t.parameters()).device)
    rows = []

    def measure(event):
        if event.kind == "round":
            rows.append({**event.metrics, **task().evaluate(model)})
    result = run(distill.steps(model, t, task(), cfg, stop=stop), [measure] * curve + list(callbacks))
    settings = {"method": cfg.method, "loss": cfg.loss, "queries": cfg.queries, "temperature": cfg.temperature,
                "on_policy": cfg.on_policy, "seed": cfg.seed}
    if method == "top-k":
        settings.update(k=cfg.k, tail=cfg.tail)
    if loss == "jsd":
        settings["beta"] = cfg.beta
    return {**settings, **result.metrics, "stopped": result.stopped, **({"curve": rows} if curve else {})}
