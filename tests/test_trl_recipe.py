"""The TRL recipe (issue 22, item 5): the configuration trl_recipe.recipe names is built with
TRL itself (trl is in the test extra) and every mapped field is read back from it."""
import importlib

import pytest
import trl  # not importorskip: the test extra installs it, and CI must run this
from trl.experimental.gkd import GKDConfig

from workbench.llm import LLMConfig
from workbench.llm.tasks import FactsTask
from workbench.llm.trl_recipe import TOP_K_NOTE, recipe, recipe_text


def build(cfg, tmp_path, task=None):
    name, kwargs = recipe(cfg, task)
    module, cls = name.rsplit(".", 1)
    return getattr(importlib.import_module(module), cls)(output_dir=str(tmp_path), report_to="none", use_cpu=True,
                                                         **kwargs)


class Length:
    max_new_tokens = 13


# (cfg, the TRL class, the β TRL must hold)
SETTINGS = [
    (LLMConfig(on_policy=1.0, loss="reverse_kl"), trl.DistillationConfig, 1.0),
    (LLMConfig(on_policy=1.0, loss="forward_kl", temperature=0.7), trl.DistillationConfig, 0.0),
    (LLMConfig(on_policy=1.0, loss="jsd", beta=0.3, method="top-k", k=3), trl.DistillationConfig, 0.3),
    (LLMConfig(on_policy=0.0, loss="forward_kl"), GKDConfig, 0.0),
    (LLMConfig(on_policy=0.5, loss="jsd", beta=0.8, lr=1e-3, steps=40, batch_size=4, seed=7),
     GKDConfig, 0.8),
    (LLMConfig(on_policy=0.25, loss="reverse_kl", temperature=2.0), GKDConfig, 1.0),
]


@pytest.mark.parametrize("cfg, cls, beta", SETTINGS)
def test_each_mapped_field_reads_back_from_the_trl_config(cfg, cls, beta, tmp_path):
    for task, length in ((None, FactsTask.max_new_tokens), (Length(), 13)):
        args = build(cfg, tmp_path, task)
        assert type(args) is cls
        assert args.beta == beta  # TRL's β: 0 forward KL, 1 reverse KL
        assert args.temperature == cfg.temperature
        assert (args.learning_rate, args.max_steps, args.per_device_train_batch_size, args.seed) == (
            cfg.lr, cfg.steps, cfg.batch_size, cfg.seed)
        if cls is trl.DistillationConfig:  # always on-policy: no λ to set
            assert args.max_completion_length == length
            assert args.top_k == 0  # the sampling top-k, never the teacher's k
        else:
            assert args.lmbda == cfg.on_policy and args.seq_kd is True and args.max_new_tokens == length


def test_black_box_is_supervised_fine_tuning_on_the_teachers_answers(tmp_path):
    cfg = LLMConfig(method="black-box", temperature=0, lr=2e-3, steps=30, batch_size=8, seed=3)
    args = build(cfg, tmp_path)
    assert type(args) is trl.SFTConfig and args.completion_only_loss is True
    assert (args.learning_rate, args.max_steps, args.per_device_train_batch_size, args.seed) == (2e-3, 30, 8, 3)
    assert "supervised fine-tuning" in recipe_text(cfg) and "greedy" in recipe_text(cfg)


def test_the_text_is_python_that_builds_the_same_config(tmp_path):
    for cfg, cls, _ in SETTINGS + [(LLMConfig(method="black-box"), trl.SFTConfig, None)]:
        text = recipe_text(cfg).replace('output_dir="distilled-student"', f"output_dir={str(tmp_path)!r}, use_cpu=True")
        scope = {}
        exec(compile(text, "recipe", "exec"), scope)
        built = build(cfg, tmp_path)
        assert type(scope["args"]) is cls
        for key in recipe(cfg)[1]:
            assert getattr(scope["args"], key) == getattr(built, key), key


def test_top_k_says_plainly_that_trl_has_no_teacher_top_k():
    text = recipe_text(LLMConfig(method="top-k", k=4, tail="drop"))
    assert "k=4" in text and "tail='drop'" in text
    assert " ".join(line.lstrip("# ") for line in text.splitlines()).count("no teacher top-k") == 1
    assert "no teacher top-k" in TOP_K_NOTE
    assert "k" not in recipe(LLMConfig(method="top-k", k=4))[1] and "top_k" not in recipe(LLMConfig(method="top-k"))[1]


def test_recipe_refuses_what_is_not_a_config():
    with pytest.raises(ValueError, match="cfg must be a workbench.llm.LLMConfig, got dict"):
        recipe({"method": "white-box"})
