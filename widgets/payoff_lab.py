"""PayoffLab: what distillation buys, measured on this machine, with its control.

Run trains a hard-label and a distilled MLP of each width side by side in two settings:
the claim's (wb.payoff's: 10% of the training images, where the teacher's soft labels carry
what the labels cannot) and the control's (all the training images, the data the teacher
learned from, so that the teacher's extra labels are no longer part of the gain). Then it
measures every model, the teacher included: validation and test accuracy, parameters and
latency at batch sizes 1 and 1024. Two scatters show one setting at a time, accuracy against
latency and against parameters, each kind's Pareto front drawn as a step line; a table lists
both settings' numbers with a finding for each, every "best" chosen on the validation split;
and any student can be exported to ONNX (float32 and int8), checked against PyTorch and
downloaded. The learner predicts the control's result before Run reveals it."""
import base64
import html
import pathlib
import re
import tempfile

import ipywidgets as W

import workbench as wb

from . import plots
from .controls import STYLE, alpha_slider, int_box, temperature_slider
from .live import Message, guarded, html_table, live, refresh
from .predict import Prediction
from .runner import RunController, check_diverged, lockstep
from .teacher_cache import teacher as cached_teacher

BATCH_SIZES = (1, 1024)
REPEATS = 30  # forward passes per latency median (wb.payoff's); a student's 33 take ~20 ms at batch 1024
# One measurement is one slice of the run, and Stop waits for it: the teacher's 33 passes at
# batch 1024 would take ~1.5 s on one busy core, so its medians are of fewer.
TEACHER_REPEATS = {1: 10, 1024: 5}
TRAIN_SHARE = 0.8  # of the progress bar: training; the rest is measuring
CONTROL = wb.payoff.CONTROL_FRACTION

QUESTION = ("Give every student all the training labels, the data the teacher learned from. How much smaller "
            "than the best hard-label student can a distilled student be and still be as accurate?")
# The widths double, so a distilled student can be about 2, 4, 8 or 16 times smaller (or 2, 4…
# times larger). Each choice names the band smaller_choice marks it right for: under 1.5× smaller
# (the same size or larger, or no match), 1.5× to 3×, 3× to 6×, and 6× or more (mlp(128) against
# mlp(16) is 7.9×).
SMALLER = ("no smaller: none is as accurate, or only one of the same size or larger", "about 2× smaller",
           "about 4× smaller", "about 8× smaller or more")


def smaller_choice(ratio):
    """The SMALLER choice a size ratio (best hard-label parameters / matching distilled
    student's, None when none matches) bears out: below 1.5 (a match of the same size or
    larger, or none) "no smaller", then about 2× up to 3, about 4× up to 6, and about 8×
    or more from 6 on."""
    if ratio is None or ratio < 1.5:
        return SMALLER[0]
    return SMALLER[1] if ratio < 3 else SMALLER[2] if ratio < 6 else SMALLER[3]


def duration(seconds):
    """Seconds as µs below a millisecond, else ms."""
    return f"{seconds * 1e6:,.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.1f} ms"


def times(a, b):
    """How many times larger a is than b, to two significant digits."""
    r = a / b
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def relative_size(p, q):
    """p's size against q's: "7.9× smaller", "the same size" or "2.0× larger"."""
    a, b = p["parameters"], q["parameters"]
    return f"{times(b, a)} smaller" if a < b else "the same size" if a == b else f"{times(a, b)} larger"


def setting(fraction):
    """A setting's short name: "10% of the labels" or "all the labels"."""
    return "all the labels" if fraction >= 1 else f"{fraction:.0%} of the labels"


def finding(points, batch_size=1, n_train=None):
    """One line on what distillation bought in one setting (points: the teacher and the
    students of one data budget, each student with its "fraction"), from the numbers: the
    data budget, then the smallest distilled student at least as accurate as the best
    hard-label one (both chosen on validation, test accuracy shown), how many times fewer
    parameters it has and how much faster than the teacher it runs in PyTorch at
    `batch_size`; or, when no distilled student is that accurate, how far the best one falls short."""
    distilled = [p for p in points if p["kind"] == "distilled"]
    if not distilled or not any(p["kind"] == "hard labels" for p in points):
        return ""
    fractions = {p.get("fraction", wb.payoff.FRACTION) for p in points if p["kind"] != "teacher"}
    if len(fractions) != 1:
        raise ValueError(f"points must come from one data budget, got fractions {sorted(fractions)}")
    fraction = fractions.pop()
    said = wb.payoff.budget(fraction, n_train)
    head = (f"Control, on {said}, the teacher's data: " if fraction >= 1 else
            f"On {said[:-1]}; the teacher learned from all): " if said.endswith(")") else
            f"On {said} (the teacher learned from all): ")
    best, d = wb.payoff.smallest_match(points)
    said = f"the best hard-label student on validation, mlp({best['width']}) ({best['parameters']:,} parameters, " \
           f"test {best['test_acc']:.3f})"
    if d is None:
        top = wb.payoff.best(points, "distilled")
        return (f"{head}no distilled student is as accurate on validation as {said}: the best, mlp({top['width']}), "
                f"reaches {top['val_acc']:.3f} on validation against {best['val_acc']:.3f} "
                f"(test {top['test_acc']:.3f}).")
    verb = "as accurate as" if d["val_acc"] == best["val_acc"] else "more accurate on validation than"
    size = relative_size(d, best)
    line = (f"{head}a distilled mlp({d['width']}) ({d['parameters']:,} parameters, test {d['test_acc']:.3f}) is {verb} "
            f"{said}: {size}")
    teacher = next((p for p in points if p["kind"] == "teacher"), None)
    if teacher is not None:
        t, s = teacher["latency_s"][batch_size], d["latency_s"][batch_size]
        speed = f"{times(t, s)} faster" if t > s else f"{times(s, t)} slower"
        line += (f"; against the teacher ({teacher['parameters']:,} parameters, test {teacher['test_acc']:.3f}) it is "
                 f"{speed} at batch size {batch_size}, both in PyTorch")
    return line + "."


def file_name(name):
    """A file name for a model's name: "distilled, mlp(16), 10% of the labels" ->
    "distilled-mlp-16-10-of-the-labels"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class PayoffLab:
    def __init__(self, splits=None, teacher_names=None, widths=wb.payoff.WIDTHS, epochs=wb.payoff.CONFIG.epochs):
        self.splits = splits or wb.data.load("digits")
        self.widths = widths
        names = teacher_names or wb.teachers.available(self.splits.name)
        default = wb.teachers.DEFAULT.get(self.splits.name)
        self.teacher = W.Dropdown(options=names, value=default if default in names else names[0],
                                  description="teacher", style=STYLE)
        # the claim's share; the control always has all of it, so the slider stops below 1
        self.fraction = W.FloatSlider(value=wb.payoff.FRACTION, min=0.05, max=0.9, step=0.05,
                                      description="share of training data", continuous_update=False, style=STYLE,
                                      layout=W.Layout(width="420px"))
        self.epochs = int_box(epochs, "epochs")
        self.temperature = temperature_slider(wb.payoff.CONFIG.temperature, continuous=False)
        self.alpha = alpha_slider(wb.payoff.CONFIG.alpha)
        self.seed = int_box(0, "seed")
        # 1024 first: at batch size 1 the students' latencies differ by noise and their points pile up
        self.batch = W.ToggleButtons(options=[(str(b), b) for b in BATCH_SIZES], value=1024,
                                     description="latency at batch size", style=STYLE,
                                     tooltips=["one request at a time", "a large batch (throughput)"])
        self.shown = W.ToggleButtons(options=self.setting_options(self.fraction.value), value="claim", description="scatters show",
                                     style=STYLE, tooltips=["the students' share of the training labels",
                                                            "the control: every student has the teacher's data"])
        self.prediction = Prediction(QUESTION, SMALLER)
        self.controller = RunController(self.prepare, self.redraw)
        self.message = self.controller.message
        self.controller.lock(self.teacher, self.fraction, self.epochs, self.temperature, self.alpha, self.seed,
                            self.prediction.buttons)  # no changing the prediction once the control's line shows

        self.points, self.models, self.teacher_name, self.status_text = [], {}, self.teacher.value, ""
        self.fractions = (self.fraction.value, CONTROL)  # the settings of the points measured
        self.changed = False  # points measured since the figures were last drawn
        self.latency_fig = live(plots.payoff_scatter([], "latency_s", self.batch.value), width=640, height=400)
        self.size_fig = live(plots.payoff_scatter([], "parameters"), width=640, height=400)
        self.status = W.HTML()
        self.table = W.HTML()
        self.batch.observe(guarded(self.message, lambda _: self.draw()), names="value")
        self.shown.observe(guarded(self.message, lambda _: self.draw()), names="value")

        self.folder = None  # a temporary folder for the exported files, made at the first export
        self.export_choice = W.Dropdown(options=[], description="student", style=STYLE,
                                        layout=W.Layout(width="420px"), disabled=True)
        self.export_button = W.Button(description="Export to ONNX", icon="download", disabled=True,
                                      layout=W.Layout(width="160px"))
        self.export_message = Message()
        self.exported = None
        self.export_result = W.HTML()
        self.export_button.on_click(guarded(self.export_message, lambda _: self.export()))
        export = W.VBox([W.HTML("<b>Take a student away: export it to ONNX</b> (float32, and int8 after ONNX "
                                "Runtime's static quantization, calibrated on 256 training images), checked "
                                "against PyTorch on the test set."),
                         W.HBox([self.export_choice, self.export_button, self.export_message]), self.export_result])

        column = W.VBox([self.teacher, self.fraction, self.epochs, self.temperature, self.alpha, self.seed, self.batch,
                         self.shown, self.prediction.widget, self.controller.widget, self.status],
                        layout=W.Layout(width="440px", padding="0 12px 0 0"))
        self.widget = W.VBox([W.HBox([column, W.VBox([self.latency_fig.view, self.size_fig.view])]), self.table,
                              W.HTML("<hr>"), export])

    def setting_options(self, fraction):
        """The toggle's labels, for the share the points on show were measured with."""
        return [(setting(fraction), "claim"), ("all the labels (control)", "control")]

    def setting_points(self, which):
        """The teacher and the students of one setting ("claim" or "control") measured so far."""
        fraction = self.fractions[which == "control"]
        return [p for p in self.points if p["kind"] == "teacher" or p["fraction"] == fraction]

    def teacher_model(self):
        return cached_teacher(self.teacher.value, self.splits.train.x.device)

    # --- the run --------------------------------------------------------------------------

    def prepare(self, stop):
        """Check the controls (a ValueError is shown next to them) and set up the students' runs
        in both settings: the claim's share of the training data and the control's all of it."""
        cfg = wb.payoff.CONFIG.replace(temperature=self.temperature.value, alpha=self.alpha.value,
                                       epochs=self.epochs.value, seed=self.seed.value)
        teacher = self.teacher_model()
        fractions = (self.fraction.value, CONTROL)
        budgets = wb.payoff.budget_runs(self.splits, teacher, self.widths, cfg, fractions, stop=stop)
        self.control_epochs = wb.payoff.matched_epochs(self.splits, CONTROL, cfg, fractions[0])
        runs = {(f, name): (f, *run) for f, rs in budgets.items() for name, run in rs.items()}
        self.points, self.models, self.teacher_name, self.exported = [], {}, self.teacher.value, None
        self.fractions = fractions
        if self.shown.options[0][0] != setting(fractions[0]):  # relabelled only when a run uses a new share
            shown = self.shown.value
            self.shown.options = self.setting_options(fractions[0])
            self.shown.value = shown
        self.export_choice.options, self.export_result.value = [], ""
        self.export_message.clear()
        self.export_choice.disabled = self.export_button.disabled = True
        self.prediction.reset()
        self.status_text = f"Training {len(runs)} students…"
        self.changed = True
        return self._work(teacher, runs, cfg.epochs, stop)

    def _work(self, teacher, runs, epochs, stop):
        """Train the students of both settings in lockstep, then measure the teacher and each
        student, one batch size per slice (a control student runs the same network as the
        claim's student of its kind and width, so it takes that one's latency); the export
        section offers the students measured, whatever happens."""
        try:
            self.epoch = 0
            training = lockstep({key: run[4] for key, run in runs.items()}, self._record, 1)
            while True:
                try:
                    next(training)
                except StopIteration as end:
                    results = end.value
                    break
                if stop.is_set():  # each run has ended within its step; none is worth measuring
                    self.status_text = f"Stopped at epoch {self.epoch} of {epochs}: nothing measured."
                    return
                self.status_text = f"Training {len(runs)} students: epoch {self.epoch} of {epochs}"
                yield TRAIN_SHARE * self.epoch / epochs
            check_diverged({f"{name}, {setting(f)}": r for (f, name), r in results.items()})
            models = [(None, "teacher", None, teacher)] + [run[:4] for run in runs.values()]
            timed = {}  # (kind, width): latencies of the first student measured with that network
            for i, (fraction, kind, width, model) in enumerate(models):
                label = wb.payoff.name(kind, width) + ("" if fraction is None else f", {setting(fraction)}")
                known = timed.get((kind, width))
                point = None
                for j, batch in enumerate([()] if known else [(b,) for b in BATCH_SIZES]):
                    if stop.is_set():
                        self.status_text = f"Stopped: {len(self.points)} of {len(models)} models measured."
                        return
                    self.status_text = f"Measuring {i + 1} of {len(models)}: {label}"
                    yield TRAIN_SHARE + (1 - TRAIN_SHARE) * (2 * i + j) / (2 * len(models))
                    repeats = TEACHER_REPEATS[batch[0]] if kind == "teacher" else REPEATS
                    m = wb.payoff.measure(kind, width, model, self.splits, batch, repeats=repeats)
                    point = m if point is None else {**point, "latency_s": {**point["latency_s"], **m["latency_s"]}}
                if kind != "teacher":
                    point["latency_s"] = dict(known or point["latency_s"])
                    timed.setdefault((kind, width), point["latency_s"])
                    point["fraction"] = fraction
                    self.models[label] = model
                self.points.append(point)
                self.changed = True
            share = setting(self.fractions[0])
            self.status_text = (f"Trained {len(runs)} students for as many steps each ({len(runs) // 2} on {share} for "
                                f"{epochs} epochs, {len(runs) // 2} on all of them for {self.control_epochs}) and measured "
                                f"{len(self.points)} models.")
            self.reveal()
            yield 1.0
        finally:
            self.offer_export()

    def reveal(self):
        """Show the control's result next to the learner's prediction."""
        control = wb.payoff.payoff(self.setting_points("control"))
        claim = wb.payoff.payoff(self.setting_points("claim"))

        def said(r):
            hard = f"the best hard-label student, mlp({r['hard']['width']})"
            if r["match"] is None:
                return f"no distilled student is as accurate on validation as {hard}"
            return (f"a distilled mlp({r['match']['width']}) is as accurate on validation as {hard}, and "
                    f"{relative_size(r['match'], r['hard'])}")
        outcome = f"with all the training labels, {said(control)}; with {setting(self.fractions[0])}, {said(claim)}"
        return self.prediction.reveal(outcome, correct=smaller_choice(control["ratio"]))

    def _record(self, name, event):
        if event.kind == "epoch":
            self.epoch = max(self.epoch, event.epoch)

    def board_results(self):
        """The last run's test accuracy of every model measured, for the class board:
        {"distilled 32 (10% of the data)": 0.93, ..., "teacher": 0.99}."""
        out = {}
        for p in self.points:
            name = p["kind"] if p["kind"] == "teacher" else \
                f"{p['kind']} {p['width']} ({p.get('fraction', wb.payoff.FRACTION):.0%} of the data)"
            out[name] = p["test_acc"]
        return out

    def redraw(self):
        self.status.value = f"<span style='color:#2d4a6b'>{html.escape(self.status_text)}</span>"
        if self.changed:
            self.changed = False
            self.draw()

    def draw(self):
        """Both scatters (the setting chosen) and the table (both settings) from the points measured so far."""
        shown = self.setting_points(self.shown.value)
        name = setting(self.fractions[self.shown.value == "control"])
        refresh(self.latency_fig, plots.payoff_scatter(shown, "latency_s", self.batch.value,
                                                       title=f"Accuracy against latency, students on {name}"))
        refresh(self.size_fig, plots.payoff_scatter(shown, "parameters",
                                                    title=f"Accuracy against size, students on {name}"))
        self.table.value = self.table_html()

    def table_html(self):
        if not self.points:
            return ""
        n = len(self.splits.train)
        rows = {}
        for p in self.points:
            label = f"teacher ({self.teacher_name})" if p["kind"] == "teacher" else p["name"]
            row = rows.setdefault(label, {"parameters": f"{p['parameters']:,}"})
            for f in self.fractions:
                if p["kind"] == "teacher" or p["fraction"] == f:
                    row[f"{setting(f)}: validation / test"] = f"{p['val_acc']:.3f} / {p['test_acc']:.3f}"
            row.update({f"latency, batch {b}": duration(p["latency_s"][b]) for b in BATCH_SIZES})
        lines = [finding(self.setting_points(which), self.batch.value, n) for which in ("claim", "control")]
        said = "".join(f"<p class='kd-finding' style='max-width:980px'><b>{html.escape(line)}</b></p>"
                       for line in lines if line)
        return (said + f"<p style='max-width:980px'>Where each number comes from: the first line's students learned "
                f"from {html.escape(wb.payoff.budget(self.fractions[0], n))}, the control's from all {n:,} training "
                f"images and labels, the data the teacher learned from, for as many training steps; “best” and “as "
                f"accurate” are judged on the validation split and the accuracies quoted are on the test split.</p>" +
                html_table(rows) +
                f"<p style='color:#555;max-width:980px'>Latency: the median of {REPEATS} forward passes in PyTorch "
                f"(the teacher's: {TEACHER_REPEATS[1]} at batch size 1, {TEACHER_REPEATS[1024]} at 1024) on this "
                f"machine's CPU, one thread, after 3 warm-up passes; a student trained on all the labels is the same "
                f"network as the one of its kind and width above, and takes its time. At batch size 1 every student "
                f"takes about the same time: calling the model costs more than its arithmetic. At 1024 the arithmetic "
                f"shows.</p>")

    # --- export ---------------------------------------------------------------------------

    def offer_export(self):
        """The students measured, in the export menu; the distilled one the claim's finding
        picks (the best distilled on validation when none matches) first chosen."""
        self.export_choice.options = list(self.models)
        claim = self.setting_points("claim")
        if any(p["kind"] == "distilled" for p in claim) and any(p["kind"] == "hard labels" for p in claim):
            match = wb.payoff.smallest_match(claim)[1] or wb.payoff.best(claim, "distilled")
            self.export_choice.value = f"{match['name']}, {setting(match['fraction'])}"
        self.export_choice.disabled = self.export_button.disabled = not self.models

    def export(self):
        """Export the chosen student with wb.export.onnx, time it with ONNX Runtime against
        PyTorch at batch size 1, and show the numbers and a download link."""
        name = self.export_choice.value
        if name not in self.models:
            raise ValueError("press Run first: there is no trained student to export yet")
        self.export_message.info("Exporting…")
        self.folder = self.folder or tempfile.mkdtemp(prefix="kd-workbench-onnx-")
        path = pathlib.Path(self.folder) / f"{file_name(name)}.onnx"
        model, shape = self.models[name], self.splits.input_shape
        info = wb.export.onnx(model, path, self.splits)
        info["latency_s"] = {"pytorch": wb.footprint.latency(model, shape), "onnx": wb.footprint.latency(path, shape),
                             "onnx_int8": wb.footprint.latency(info["int8_path"], shape)}
        self.exported = {"name": name, **info}
        self.export_result.value = self.export_html(path.read_bytes())
        self.export_message.info(f"Exported {name}.")

    def export_html(self, data):
        e, kb = self.exported, lambda n: f"{n / 1024:,.1f} KB"
        rows = {"PyTorch": {"file": "", "size": "", "test accuracy": e["test_acc"]["pytorch"],
                            "largest |logit − PyTorch's|": "",
                            "latency, batch 1": duration(e["latency_s"]["pytorch"])},
                "ONNX Runtime, float32": {"file": pathlib.Path(e["path"]).name, "size": kb(e["bytes"]),
                                          "test accuracy": e["test_acc"]["onnx"],
                                          "largest |logit − PyTorch's|": f"{e['max_abs_diff']:.2g}",
                                          "latency, batch 1": duration(e["latency_s"]["onnx"])},
                "ONNX Runtime, int8": {"file": pathlib.Path(e["int8_path"]).name, "size": kb(e["int8_bytes"]),
                                       "test accuracy": e["test_acc"]["onnx_int8"],
                                       "largest |logit − PyTorch's|": f"{e['int8_max_abs_diff']:.2g}",
                                       "latency, batch 1": duration(e["latency_s"]["onnx_int8"])}}
        file = html.escape(pathlib.Path(e["path"]).name)
        link = (f"<a class='kd-download' download='{file}' href='data:application/octet-stream;base64,"
                f"{base64.b64encode(data).decode()}'>⬇ Download {file}</a> ({kb(len(data))}; ONNX Runtime, "
                f"onnxruntime-web and most inference servers run it).")
        return f"<p><b>{html.escape(e['name'])}</b></p>" + html_table(rows) + f"<p>{link}</p>"
