"""Live figures and messages: the pieces every widget shares.

A figure is built by a pure function in `plots`; `live(fig)` wraps it once in a
FigureWidget and `refresh(widget, fig)` copies a newly built figure into it inside one
`batch_update()`, so each redraw is a single message to the browser. The FigureWidget's
`view` (a `figure_view.FigureView`, CSS class `kd-figure`) is what a lab lays out: the
figure with its one-sentence summary and its data as a table, which `refresh` updates
with it."""
import html
import io

import anywidget
import ipywidgets as W
import numpy as np
import torch
from PIL import Image
from traitlets import Bytes, Int, Unicode

from .figure_view import FigureView
from .figure_widget import FigureWidget

IN_PLACE = ("bar", "scatter")


def live(fig, width=None, height=None):
    """A FigureWidget showing `fig` at a fixed size (kept by every `refresh`). Build it
    from the figure it first shows: a browser that connects later (Voila) receives the
    widget's initial state, not the updates made to it before it was displayed."""
    widget = FigureWidget(fig)
    widget.update_layout(width=width, height=height)
    widget.view = FigureView(widget, fig)
    return widget


def refresh(widget, fig):
    """Make `widget` show `fig`: bar and line traces updated in place when their number
    and types match (no flicker), traces replaced otherwise (a restyle of nested arrays,
    a table's cells or a heatmap's z, is not reliable); layout copied; the summary and the
    table beside it follow. `widget` may also be the FigureView that holds it."""
    if isinstance(widget, FigureView):
        widget = widget.figure
    gone = _absent(widget.layout.to_plotly_json(), fig.layout.to_plotly_json())
    if gone:  # the browser merges a new layout into the old one: remove what the new one lacks, as a relayout
        widget.plotly_relayout(gone)  # of its own (a batch or layout.update would drop the None values)
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
    if widget.view is not None:
        widget.view.show(fig)


def _absent(old, new, prefix=""):
    """{"dotted.path": None} for every layout property in `old` that `new` does not set."""
    out = {}
    for key, value in old.items():
        if key in ("width", "height", "template"):
            continue
        if key not in new:
            out[prefix + key] = None
        elif isinstance(value, dict) and isinstance(new[key], dict):
            out.update(_absent(value, new[key], f"{prefix}{key}."))
    return out


class Message(W.HTML):
    """A one-line message next to the controls: an error in red, or information. It is a
    live region (class `kd-status`: the a11y front end makes it role="status"), so a screen
    reader says "epoch 12 of 30" or "Stopped." as it appears. While it shows an error its
    class is `kd-alert` instead (role="alert": said at once); the class changes before the
    text, so the text arrives in a region of the right kind, and never two regions nested."""

    def __init__(self):
        super().__init__(value="", layout=W.Layout(min_height="1.6em"))
        self.add_class("kd-status")

    def _region(self, kind):
        """Make this a live region of `kind`: "kd-status" or "kd-alert"."""
        self.remove_class("kd-alert" if kind == "kd-status" else "kd-status")
        self.add_class(kind)

    def error(self, text):
        self._region("kd-alert")
        self.value = f'<span class="kd-error" style="color:#b00020">⚠ {html.escape(str(text))}</span>'

    def info(self, text):
        self._region("kd-status")
        self.value = f'<span class="kd-info" style="color:#2d4a6b">{html.escape(str(text))}</span>'

    def clear(self):
        self._region("kd-status")
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


def png(image, size=160):
    """PNG bytes of one image tensor ((C, H, W) or (H, W)), min-max scaled and enlarged
    without smoothing; one channel is drawn as dark ink on white. An ipywidgets.Image of
    this costs a few hundred bytes, where a plotly FigureWidget ships ~5 MB of
    JavaScript to the browser."""
    x = torch.as_tensor(image).detach().cpu().float()
    x = (x - x.min()) / (x.max() - x.min()).clamp(min=1e-12)
    if x.dim() == 3 and x.shape[0] == 3:
        img = Image.fromarray((x.permute(1, 2, 0) * 255).byte().numpy(), mode="RGB")
    else:
        img = Image.fromarray(((1 - x.reshape(x.shape[-2:])) * 255).byte().numpy(), mode="L")
    buf = io.BytesIO()
    img.resize((size, size), Image.NEAREST).save(buf, format="PNG")
    return buf.getvalue()


PICTURE = """
export default {
  render({ model, el }) {
    const img = document.createElement("img");
    el.append(img);
    let url = null;
    const draw = () => {
      const png = model.get("value");
      if (url) URL.revokeObjectURL(url);
      url = png && png.byteLength ? URL.createObjectURL(new Blob([png], { type: "image/png" })) : null;
      if (url) img.src = url; else img.removeAttribute("src");
      img.alt = model.get("alt");
      img.width = model.get("width");
      img.height = model.get("height");
    };
    model.on("change", draw);
    draw();
    return () => { if (url) URL.revokeObjectURL(url); };
  }
};
"""


class Picture(anywidget.AnyWidget):
    """A PNG shown as an <img> with alternative text (`alt`): ipywidgets' Image has no alt,
    and its tooltip (the <img>'s title) fails to render in ipywidgets 8's front end."""

    _esm = Unicode(PICTURE).tag(sync=True)
    value = Bytes(b"").tag(sync=True)
    alt = Unicode("").tag(sync=True)
    width = Int(160).tag(sync=True)
    height = Int(160).tag(sync=True)


def html_table(rows, formats=None):
    """An HTML table, one row per model: rows {label: {column: value}}; floats to 3
    places unless `formats` ({column: format spec}) says otherwise. A few hundred bytes,
    where a plotly table widget ships the whole plotting library."""
    columns = list(dict.fromkeys(k for r in rows.values() for k in r))
    formats = formats or {}

    def cell(c, v):
        if isinstance(v, (float, np.floating)):  # NumPy floats too
            return format(v, formats.get(c, ".3f"))
        return html.escape(str(v))
    head = "".join(f"<th style='text-align:left;padding:2px 10px'>{html.escape(c)}</th>" for c in [""] + columns)
    body = "".join("<tr><td style='padding:2px 10px'><b>" + html.escape(label) + "</b></td>" +
                   "".join(f"<td style='padding:2px 10px'>{cell(c, r.get(c, ''))}</td>" for c in columns) + "</tr>"
                   for label, r in rows.items())
    return f"<table class='kd-table' style='border-collapse:collapse'><tr style='background:#e8eef5'>{head}</tr>{body}</table>"
