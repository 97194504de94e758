"""KD Workbench widgets: plotly figures (widgets.plots, pure functions) and, on top of
them, the interactive controls used by the notebooks and the Voila app."""
from . import plots

__all__ = ["plots"]
