"""A figure with its text: the plot, a one-sentence summary of what it shows now and its
data as a real HTML table, collapsed under "Data as a table" (WCAG 2.1 SC 1.1.1).

`FigureView` is the VBox (CSS class `kd-figure`) a lab lays out: its `figure` (a plotly
FigureWidget), its summary (an HTML widget of class `kd-figure-summary`, read by the a11y
front end into the plot's SVG aria-label) and its `DataTable`. `show(fig)` sets all three
from one figure built by a pure function of `plots` (which attached the text with
`plots.describe`). The table keeps its open or closed state across updates: a learner who
opened it while a run redraws every epoch keeps reading it."""
import html

import anywidget
import ipywidgets as W
from traitlets import Bool, Unicode

from . import plots

DETAILS = """
export default {
  render({ model, el }) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "Data as a table";
    const body = document.createElement("div");
    body.className = "kd-figure-table-body";
    details.append(summary, body);
    el.append(details);
    const draw = () => { body.innerHTML = model.get("table"); };
    const follow = () => { details.open = model.get("expanded"); };
    details.addEventListener("toggle", () => {
      if (model.get("expanded") !== details.open) { model.set("expanded", details.open); model.save_changes(); }
    });
    model.on("change:table", draw);
    model.on("change:expanded", follow);
    draw();
    follow();
  }
};
"""


class DataTable(anywidget.AnyWidget):
    """An HTML <details> "Data as a table", closed until the learner opens it, whose
    <table> (`table`, HTML) is replaced on update without closing it (`expanded` follows the
    learner's toggle)."""

    _esm = Unicode(DETAILS).tag(sync=True)
    table = Unicode("").tag(sync=True)
    expanded = Bool(False).tag(sync=True)


class FigureView(W.VBox):
    """The figure, its summary and its table, in one box (class `kd-figure`)."""

    def __init__(self, figure, fig=None):
        self.figure = figure
        self.summary = W.HTML()
        self.summary.add_class("kd-figure-summary")
        self.table = DataTable()
        self.table.add_class("kd-figure-table")
        super().__init__([figure, self.summary, self.table])
        self.add_class("kd-figure")
        if fig is not None:
            self.show(fig)

    def show(self, fig):
        """Show the summary and the table that `fig` carries (see plots.describe)."""
        self.summary.value = f"<p>{html.escape(plots.summary(fig))}</p>"
        self.table.table = plots.table_html(fig)

    @property
    def text(self):
        """The summary as plain text."""
        return plots.plain(self.summary.value)
