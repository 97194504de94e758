"""LLM distillation on tiny language models a laptop trains: white-box (the teacher's
token distributions) against black-box (only its text), on a synthetic language whose
truth is known ("facts") and on real text.

    import workbench as wb
    wb.llm.experiment("white-box", queries=1200, loss="forward_kl")   # a dict of measured numbers
    wb.llm.experiment("black-box", queries=1200)
    wb.llm.experiment("white-box", loss="reverse_kl", on_policy=1.0)    # on-policy distillation
    wb.llm.dense_vs_sparse(seed=0)      # SFT, RL with one reward per sequence, on-policy distillation
    wb.llm.speculative.compare_drafts()  # what a distilled draft is worth in speculative decoding
    wb.llm.topk_cache.compare_tails(k=5) # distilling from an offline cache of the teacher's top-k
    print(wb.llm.trl_recipe.recipe_text(wb.llm.LLMConfig(on_policy=1.0, loss="reverse_kl")))
    wb.llm.addition.worked(347, 285)     # '7+5+0=12,4+8+1=13,3+2+1=6,632.': the reasoning lab's task
    wb.llm.distill_reasoning(seed=0)     # one student four ways: the teacher's answers, steps, verified steps, truth
    wb.llm.reasoning.compare_forms()     # verbose against terse worked steps for the smallest student
"""
from . import (addition, dense_sparse, evaluate, facts, gpt, hf, pretrained, reasoning, speculative, text, topk_cache,
               trl_recipe)
from .dense_sparse import dense_vs_sparse
from .reasoning import ReasoningConfig, distill_reasoning
from .blackbox import TextAPI
from .distill import METHODS, LLMConfig, run, steps
from .experiments import experiment, student, task, teacher
from .tasks import FactsTask, TextTask
from .tokenizer import CharTokenizer
from .whitebox import LogitAPI, top_k_buckets

__all__ = ["addition", "dense_sparse", "dense_vs_sparse", "reasoning", "ReasoningConfig", "distill_reasoning", "speculative", "topk_cache", "trl_recipe",
           "evaluate", "facts", "gpt", "hf", "pretrained", "text", "TextAPI", "METHODS", "LLMConfig", "run",
           "steps", "experiment", "student", "task", "teacher", "FactsTask", "TextTask", "CharTokenizer",
           "LogitAPI", "top_k_buckets"]
