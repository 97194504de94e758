"""Live figures and messages: the pieces every widget shares.

A figure is built by a pure function in `plots`; `live(fig)` wraps it once in a
FigureWidget and `refresh(widget, fig)` copies a newly built figure into it inside one
`batch_update()`, so each redraw is a single message to the browser."""
import html

import ipywidgets as W
import plotly.graph_objects as go

IN_PLACE = ("bar", "scatter")


def live(fig, width=None, height=None):
    """A FigureWidget showing `fig` at a fixed size (kept by every `refresh`). Build it
    from the figure it first shows: a browser that connects later (Voila) receives the
    widget's initial state, not the updates made to it before it was displayed."""
    widget = go.FigureWidget(fig)
    widget.update_layout(width=width, height=height)
    return widget


def refresh(widget, fig):
    """Make `widget` show `fig`: bar and line traces updated in place when their number
    and types match (no flicker), traces replaced otherwise (a restyle of nested arrays,
    a table's cells or a heatmap's z, is not reliable); layout copied."""
    with widget.batch_update():
        same = len(widget.data) == len(fig.data) and all(
            a.type == b.type and a.type in IN_PLACE for a, b in zip(widget.data, fig.data))
        if same:
            for old, new in zip(widget.data, fig.data):
                old.update(new.to_plotly_json(), overwrite=True)
        else:
            widget.data = ()
            widget.add_traces(list(fig.data))
        width, height = widget.layout.width, widget.layout.height
        widget.layout = fig.layout
        widget.update_layout(width=fig.layout.width or width, height=fig.layout.height or height)


class Message(W.HTML):
    """A one-line message next to the controls: an error in red, or information."""

    def __init__(self):
        super().__init__(value="", layout=W.Layout(min_height="1.6em"))

    def error(self, text):
        self.value = f'<span class="kd-error" style="color:#b00020">⚠ {html.escape(str(text))}</span>'

    def info(self, text):
        self.value = f'<span class="kd-info" style="color:#2d4a6b">{html.escape(str(text))}</span>'

    def clear(self):
        self.value = ""

    @property
    def text(self):
        return html.unescape(self.value.split(">", 1)[-1].rsplit("<", 1)[0]) if self.value else ""


def guarded(message, fn):
    """Wrap a widget callback so that a bad value shows its message instead of a
    traceback (which Voila would swallow silently)."""
    def callback(*args):
        try:
            fn(*args)
        except ValueError as e:
            message.error(e)
        except Exception as e:  # anything unexpected: still a message, never a dead page
            message.error(f"{type(e).__name__}: {e}")
    return callback
