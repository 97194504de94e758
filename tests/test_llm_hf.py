"""Hugging Face causal LMs through the same functions: a tiny randomly initialised
GPT-2 of `transformers` as student and as teacher, no download."""
import math

import pytest
import torch

import workbench as wb
from workbench.llm import LLMConfig, hf

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def teacher():
    return wb.llm.teacher("facts", device="cpu")


def test_a_hugging_face_student_distils_white_box_from_the_facts_teacher(teacher):
    student = hf.tiny_gpt2(teacher.tokenizer, layers=2, width=48, heads=4)
    before = wb.llm.evaluate.facts_metrics(student, wb.llm.pretrained.language())["kl_to_truth"]
    res = wb.llm.run(student, teacher, wb.llm.task(), LLMConfig(queries=300, steps=150, rounds=3))
    assert res.metrics["teacher_queries"] == 300
    # measured, seeds 0-1: KL 20.5 -> 2.8-3.7 nats, 33-36% of the facts known (1 in 10 by chance)
    assert math.isfinite(res.metrics["kl_to_truth"]) and res.metrics["kl_to_truth"] < before / 3
    assert res.metrics["fact_accuracy"] > 0.2


def test_a_hugging_face_teacher_answers_black_box_and_scores_white_box(teacher):
    hf_teacher = hf.tiny_gpt2(teacher.tokenizer).eval()
    api = wb.llm.TextAPI(hf_teacher, max_new_tokens=6, stop=".")
    out = api.complete(["gunu likes", "tuli lives in"])
    assert all(isinstance(t, str) and len(t) <= 6 for t in out) and api.queries == 2
    ids = teacher.tokenizer.batch(["\ngunu likes tea."])[0]
    assert wb.llm.LogitAPI(hf_teacher).score(ids).shape == (1, ids.shape[1] - 1, teacher.tokenizer.vocab_size)


def test_a_vocabulary_too_small_or_a_context_too_long_is_refused(teacher):
    from transformers import GPT2Config, GPT2LMHeadModel
    small = GPT2LMHeadModel(GPT2Config(vocab_size=10, n_positions=16, n_embd=16, n_layer=1, n_head=2,
                                       bos_token_id=None, eos_token_id=None))
    with pytest.raises(ValueError, match="must cover the tokenizer's 28 ids"):
        hf.wrap(small, teacher.tokenizer)
    model = hf.tiny_gpt2(teacher.tokenizer, context=16)
    with pytest.raises(ValueError, match="context of 16 tokens"):
        model(torch.ones(1, 20, dtype=torch.long))
