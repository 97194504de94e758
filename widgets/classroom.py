"""The learner's side of the class board (workbench.board, workbench.recording) in the app.

`record_hook(title, lab)` is the one hook each lab records through: added to the lab's
RunController (`on_end`), it queues a finished run's settings (the controls a link would
set, widgets.url_settings) and results (`results_of`) for the board, in the background; a
write that fails becomes a notice after "Done.", never an error.

`ClassPanel` is the learner's view, shown only where recording is on: the name they record
under (the hub's user, or a nickname they may give and their browser's id, both kept in
their browser by `BrowserNickname`), their own runs, and the class's spread without names.
Reading the board runs off the kernel's event loop, so a slow board never freezes a slider."""
import asyncio
import html
import math
import numbers
import statistics

import anywidget
import ipywidgets as W
import plotly.graph_objects as go
from traitlets import Unicode

from workbench import recording

from . import a11y, plots
from . import url_settings
from .live import Message, guarded, html_table, live, refresh

DISTILLATION = "Distillation lab"
MAX_RESULTS = 40  # numbers kept from a lab's summary


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _flat(summary, limit=MAX_RESULTS):
    """{"row: column": number} of a {row: {column: value}} summary (numbers only, the first `limit`)."""
    out = {}
    for row, values in (summary or {}).items():
        for column, v in (values.items() if isinstance(values, dict) else [("", values)]):
            if _number(v) and len(out) < limit:
                out[f"{row}: {column}" if column else str(row)] = float(v)
    return out


def results_of(lab):
    """The final numbers of a lab's last run: its own `board_results()` if it has one, else
    the numbers of the summary table it shows (`summary`, `rows` or `result`)."""
    if hasattr(lab, "board_results"):
        return lab.board_results()
    for name in ("summary", "rows", "result"):
        found = getattr(lab, name, None)
        if isinstance(found, dict) and found:
            return _flat(found)
    return {}


def settings_of(lab):
    """The lab's run-defining settings, by the names a link uses."""
    return {name: w.value for name, w in url_settings.controls(lab).items()}


def record_hook(title, lab):
    """An `on_end` hook for `lab`'s RunController: a completed run goes to the board (when
    recording is on), in the background; a failure is said after the run's message."""
    message = lab.controller.message

    def hook(completed):
        if not completed or not recording.enabled():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None

        def notice(text):
            def show():  # after "Done." when it still says so; else where quiz and check notices go
                if message.text == "Done.":
                    message.info(f"Done. {text}")
                else:
                    (recording._state["notice"] or message.info)(text)
            try:
                loop.call_soon_threadsafe(show)
            except (AttributeError, RuntimeError):  # no loop (a script), or it closed since
                show()
        try:
            recording.record_run(title, settings_of(lab), results_of(lab), on_error=notice)
        except Exception as e:  # settings or results that cannot be stored: a notice, the lab goes on
            notice(recording._notice(e))
    return hook


NICKNAME_ESM = """
const KEY = "kd-workbench-nickname", ID = "kd-workbench-browser";
function render({ model, el }) {
  let saved = "", id = "";
  try {
    saved = window.localStorage.getItem(KEY) || "";
    id = window.localStorage.getItem(ID) || "";
    if (!/^[0-9a-f]{6}$/.test(id)) {
      id = Array.from(crypto.getRandomValues(new Uint8Array(3)), b => b.toString(16).padStart(2, "0")).join("");
      window.localStorage.setItem(ID, id);
    }
  } catch (e) {}
  if (id) { model.set("browser_id", id); }
  if (saved && !model.get("nickname")) { model.set("nickname", saved); }
  model.save_changes();
  const keep = () => {
    try {
      const name = model.get("nickname");
      if (name) { window.localStorage.setItem(KEY, name); } else { window.localStorage.removeItem(KEY); }
    } catch (e) {}
  };
  model.on("change:nickname", keep);
  return () => model.off("change:nickname", keep);
}
export default { render };
"""


class BrowserNickname(anywidget.AnyWidget):
    """The learner's nickname and their browser's id (6 hex digits, drawn once), kept in
    the browser's localStorage: sent to the kernel when the page opens, the nickname saved
    when the kernel sets it. Shows nothing."""

    _esm = Unicode(NICKNAME_ESM).tag(sync=True)
    nickname = Unicode("").tag(sync=True)
    browser_id = Unicode("").tag(sync=True)


def spread_figure(class_runs, mine, title="The class's distillation gain (no names)"):
    """Histogram of distilled − hard-label test accuracy (points) over the class's Distillation
    lab runs, with the learner's own runs as a second series."""
    def gains(runs):
        if runs is None or len(runs) == 0:
            return []
        runs = runs[runs["lab"] == DISTILLATION] if "lab" in runs else runs
        return [100 * r["gain"] for r in runs["results"] if _number(r.get("gain"))]
    everyone, own = gains(class_runs), gains(mine)
    fig = go.Figure()
    start = math.floor(min(everyone + own, default=0))  # one grid of 1-point bins for both series
    for i, (name, xs) in enumerate((("the class", everyone), ("you", own))):
        fig.add_trace(go.Histogram(x=xs, name=name, xbins=dict(start=start, size=1), opacity=0.75,
                                   **plots.bar_style(i)))
    fig.update_layout(barmode="overlay", title=title, xaxis_title="distilled − hard-label test accuracy (points)",
                      yaxis_title="runs", legend=dict(orientation="h", y=-0.25), margin=dict(t=50, b=90))
    if not everyone:
        said = "No Distillation lab runs on the class board yet."
    else:
        ahead = sum(g > 0 for g in everyone)
        said = (f"{len(everyone)} Distillation lab runs in the class, yours among them, every setting pooled: the "
                f"distilled student ended ahead in "
                f"{ahead} ({ahead / len(everyone):.0%}), gain from {min(everyone):+.1f} to {max(everyone):+.1f} "
                f"points, median {statistics.median(everyone):+.1f}")
        if own:
            said += f"; your {len(own)}: median {statistics.median(own):+.1f}"
    rows = [["the class", g] for g in everyone] + [["you", g] for g in own]
    return plots.describe(fig, said + ".", ["who", "gain (points)"], rows)


def own_runs_html(runs, last=10):
    """The learner's last runs as a table: when, which lab, and the key numbers."""
    if runs is None or len(runs) == 0:
        return "<p><i>No runs of yours on the class board yet: a run is saved when it ends with “Done.”</i></p>"
    rows = {}
    for _, r in runs.tail(last).iloc[::-1].iterrows():
        s, res = r["settings"], r["results"]
        keys = {k: s[k] for k in ("scenario", "temperature", "alpha", "epochs", "seed") if k in s}
        numbers_ = {k: v for k, v in res.items() if _number(v)}
        shown = {k: numbers_[k] for k in ("gain", "distilled", "hard labels") if k in numbers_} or \
            dict(list(numbers_.items())[:3])
        label = f"{r['at'].to_pydatetime().astimezone():%H:%M:%S} {r['lab']}"  # the learner's clock
        rows[label] = {**{k: str(v) for k, v in keys.items()}, **shown}
    return html_table(rows)


class ClassPanel:
    """What a learner sees of the class board: the name they record under (a nickname box
    where there is no hub login), their own runs and the class's spread, refreshed on demand."""

    def __init__(self):
        self.message = Message()
        self.store = BrowserNickname(layout=W.Layout(display="none"))
        self.nickname = W.Text(placeholder="optional, e.g. ada", description="nickname", layout=W.Layout(width="300px"))
        self.use = W.Button(description="Use this name", icon="user")
        self.name_line = W.HTML()
        self.runs_html = W.HTML()
        self.spread = live(spread_figure(None, None), width=640, height=320)
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
        self.use.on_click(guarded(self.message, lambda _: self.set_name(self.nickname.value)))
        self.store.observe(guarded(self.message, self._from_browser), names="nickname")
        self.store.observe(guarded(self.message, lambda change: (recording.set_browser(change["new"]),
                                                                 self.show_name())), names="browser_id")
        self.refresh_button.on_click(guarded(self.message, lambda _: self.refresh_soon()))
        recording.set_notice(self.notice)
        naming = [] if recording.on_hub() else [W.HBox([self.nickname, self.use])]
        intro = W.HTML("<p style='max-width:900px'>Recording is on: when a run ends with “Done.”, its settings "
                       "and results go to the class board, as do your answers in <i>Exercises</i>. Your instructor "
                       "sees the whole class; you see your own runs and the class's spread, without names.</p>")
        body = W.VBox([intro, self.name_line, *naming, self.message, self.refresh_button, self.runs_html,
                       self.spread.view])
        self.widget = W.Accordion(children=[body], titles=["Your runs and the class board"], selected_index=None)
        try:
            self.loop = asyncio.get_running_loop()  # where notices from the writer thread are shown
        except RuntimeError:
            self.loop = None
        self.show_name()

    def show_name(self):
        self.name_line.value = f"<p>You are recorded as <b>{html.escape(recording.learner())}</b>.</p>"

    def set_name(self, name):
        """Record under `name` from now on and keep it in the browser ("" : anonymous again)."""
        recording.set_nickname(name)
        self.store.nickname = name.strip() if isinstance(name, str) else ""
        self.show_name()
        self.message.info(f"Saved: your runs are recorded as {recording.learner()}.")

    def _from_browser(self, change):
        if change["new"] and change["new"] != self.nickname.value:
            recording.set_nickname(change["new"])
            self.nickname.value = change["new"]
            self.show_name()

    def notice(self, text):
        """Show a failed write's notice (from the writer thread: handed to the event loop)."""
        try:
            self.loop.call_soon_threadsafe(self.message.info, text)
        except (AttributeError, RuntimeError):
            self.message.info(text)

    def read(self):
        """(the learner's runs, the class's Distillation lab runs without names) from the board,
        once the writes queued so far are done (a run that just ended is among them)."""
        recording.flush()
        board = recording.board()
        return board.runs(learner=recording.learner()), board.runs(lab=DISTILLATION, anonymous=True)

    def refresh_soon(self):
        """Refresh on the event loop, the board read in a thread (a script: now)."""
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            return self.refresh()

        async def later():
            self.message.info("Reading the class board…")
            try:
                self.show(*await asyncio.to_thread(self.read))
            except Exception as e:  # a board that cannot be read: say so, keep what is shown
                self.message.error(recording._notice(e).replace("Not saved to", "Could not read"))
        return self.loop.create_task(later())

    def refresh(self):
        """Read the learner's own runs and the class's (anonymous) ones from the board, now."""
        self.show(*self.read())

    def show(self, mine, everyone):
        self.runs_html.value = own_runs_html(mine)
        refresh(self.spread, spread_figure(everyone, mine))
        self.message.info(f"Read the class board: {plural(len(mine), 'run')} of yours, "
                          f"{plural(len(everyone), 'Distillation lab run')} in the class.")
