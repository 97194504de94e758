"""LLM distillation on tiny language models a laptop trains: white-box (the teacher's
token distributions) against black-box (only its text), on a synthetic language whose
truth is known ("facts") and on real text.

    import workbench as wb
    wb.llm.experiment("white-box", queries=1200, loss="forward_kl")   # a dict of measured numbers
    wb.llm.experiment("black-box", queries=1200)
"""
from . import evaluate, facts, gpt, hf, pretrained, text
from .blackbox import TextAPI
from .distill import METHODS, LLMConfig, run, steps
from .experiments import experiment, student, task, teacher
from .tasks import FactsTask, TextTask
from .tokenizer import CharTokenizer
from .whitebox import LogitAPI, top_k_buckets

__all__ = ["evaluate", "facts", "gpt", "hf", "pretrained", "text", "TextAPI", "METHODS", "LLMConfig", "run", "steps",
           "experiment", "student", "task", "teacher", "FactsTask", "TextTask", "CharTokenizer", "LogitAPI",
           "top_k_buckets"]
