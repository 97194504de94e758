"""KD Workbench widgets: plotly figures (widgets.plots, pure functions) and the
interactive controls built on them, used by the notebooks and the Voila app."""
from . import plots
from .app import Dashboard, app
from .collapse_lab import CollapseLab
from .dark_knowledge import DarkKnowledgeMap
from .exercises_tab import ExercisesTab, quiz
from .feature_lab import FeatureLab
from .lab import DistillationLab
from .llm_lab import LLMLab
from .next_token import NextTokenViewer
from .payoff_lab import PayoffLab
from .predict import Prediction, predict
from .relation_lab import RelationLab
from .runner import RunController
from .temperature import TemperatureExplorer

__all__ = ["plots", "app", "Dashboard", "CollapseLab", "DarkKnowledgeMap", "DistillationLab", "FeatureLab", "LLMLab", "NextTokenViewer", "PayoffLab",
           "RelationLab", "RunController", "TemperatureExplorer", "ExercisesTab", "quiz",
           "Prediction", "predict"]
