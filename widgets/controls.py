"""The controls several labs share, built in one place so that they look and behave
alike everywhere: the temperature slider (softmax(z / T), Hinton et al. 2015), the KD
weight alpha, and the integer boxes for epochs and the seed.

A control's description is its accessible name too (widgets.a11y gives it to a slider's
handle, and the value the learner sees as "temperature T = 4.00"), so it says what the
control sets, with its unit where it has one; an empty one is refused."""
import math

import ipywidgets as W

T_MIN, T_MAX = 0.5, 50.0  # the image labs' temperature range
LLM_T_MIN, LLM_T_MAX = 0.1, 10.0  # a language model's sampling temperature
STYLE = {"description_width": "initial"}


def _description(description):
    """`description` checked: the name a screen reader says for the control."""
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"description must be a non-empty string naming what the control sets (with its unit), "
                         f"got {description!r}")
    return description


def temperature_slider(value=4.0, continuous=True, low=T_MIN, high=T_MAX, description="temperature T", log=True,
                       step=None, width="420px"):
    """A slider for a softmax temperature T between `low` and `high`: log-scale by
    default (T = 1 in the middle of 0.1-10, steps of 0.01 in log10 T), linear with
    `log=False` (steps of `step`, default 0.05). `continuous=False` redraws on release,
    for views that cost more than a slider move."""
    common = dict(value=value, description=_description(description), continuous_update=continuous, style=STYLE,
                  layout=W.Layout(width=width))
    if not log:
        return W.FloatSlider(min=low, max=high, step=step or 0.05, **common)
    return W.FloatLogSlider(base=10, min=math.log10(low), max=math.log10(high), step=step or 0.01,
                            readout_format=".2f", **common)


def alpha_slider(value=0.9):
    """alpha, the weight of the KD term against the hard-label term (1 − alpha)."""
    return W.FloatSlider(value=value, min=0, max=1, step=0.05, description="alpha (weight of KD)",
                         continuous_update=False, style=STYLE, layout=W.Layout(width="420px"))


def int_box(value, description, width="200px"):
    """A box for a whole number (epochs, the seed), named by `description` with its unit
    if it has one (e.g. "epochs", "samples per generation"); the engine checks its range."""
    return W.IntText(value=value, description=_description(description), style=STYLE, layout=W.Layout(width=width))
