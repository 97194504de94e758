"""KD Workbench engine: data, models, teachers, losses, the training loop and analysis.

    import workbench as wb
    splits = wb.data.load("digits")
    teacher = wb.teachers.get("digits/mlp-large")
    student = wb.models.build("mlp", splits.input_shape, splits.num_classes, hidden=(32,))
    res = wb.distill(student, teacher, splits, wb.DistillConfig(temperature=4, alpha=0.9))
"""
from . import analysis, beyond, cache, collapse, data, exercises, export, footprint, llm, losses, models, payoff, teacher_outputs, teachers
from .config import DistillConfig
from .device import pick_device, seed_everything
from .train import Event, Result, distill, predict, steps, train

__all__ = ["analysis", "beyond", "cache", "collapse", "exercises", "data", "export", "footprint", "payoff", "llm", "losses", "models", "teachers", "DistillConfig", "pick_device",
           "seed_everything", "Event", "Result", "distill", "predict", "steps", "train"]
