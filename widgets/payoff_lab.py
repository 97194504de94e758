"""PayoffLab: what distillation buys, measured on this machine.

Run trains a hard-label and a distilled MLP of each width side by side (wb.payoff's
setting: 10% of the training images, where the teacher's soft labels carry what the
labels cannot), then measures every model, the teacher included: test accuracy,
parameters and latency at batch sizes 1 and 1024. Two scatters show accuracy against
latency and against parameters, each kind's Pareto front drawn as a step line; a table
lists the numbers with one finding computed from them; and any student can be exported
to ONNX (float32 and int8), checked against PyTorch and downloaded."""
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
from .runner import RunController, check_diverged, lockstep
from .teacher_cache import teacher as cached_teacher

BATCH_SIZES = (1, 1024)
REPEATS = 30  # forward passes per latency median (wb.payoff's); a student's 33 take ~20 ms at batch 1024
# One measurement is one slice of the run, and Stop waits for it: the teacher's 33 passes at
# batch 1024 would take ~1.5 s on one busy core, so its medians are of fewer.
TEACHER_REPEATS = {1: 10, 1024: 5}
TRAIN_SHARE = 0.8  # of the progress bar: training; the rest is measuring


def duration(seconds):
    """Seconds as µs below a millisecond, else ms."""
    return f"{seconds * 1e6:,.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.1f} ms"


def times(a, b):
    """How many times larger a is than b, to two significant digits."""
    r = a / b
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def finding(points, batch_size=1):
    """One line on what distillation bought, from the numbers: the smallest distilled
    student at least as accurate as the best hard-label one, how many times fewer
    parameters it has and how much faster than the teacher it runs at `batch_size`; or, when no
    distilled student is that accurate, how far the best one falls short."""
    distilled = [p for p in points if p["kind"] == "distilled"]
    if not distilled or not any(p["kind"] == "hard labels" for p in points):
        return ""
    best, d = wb.payoff.smallest_match(points)
    said = f"the best hard-label student, mlp({best['width']}) ({best['parameters']:,} parameters, " \
           f"{best['test_acc']:.3f})"
    if d is None:
        top = max(distilled, key=lambda p: (p["test_acc"], -p["parameters"]))
        return f"No distilled student reaches {said}: the best, mlp({top['width']}), reaches {top['test_acc']:.3f}."
    verb = "as accurate as" if d["test_acc"] == best["test_acc"] else "more accurate than"
    size = (f"{times(best['parameters'], d['parameters'])} smaller" if best["parameters"] > d["parameters"]
            else "the same size" if best["parameters"] == d["parameters"] else
            f"{times(d['parameters'], best['parameters'])} larger")
    line = (f"A distilled mlp({d['width']}) ({d['parameters']:,} parameters, {d['test_acc']:.3f}) is {verb} "
            f"{said}: {size}")
    teacher = next((p for p in points if p["kind"] == "teacher"), None)
    if teacher is not None:
        t, s = teacher["latency_s"][batch_size], d["latency_s"][batch_size]
        speed = f"{times(t, s)} faster" if t > s else f"{times(s, t)} slower"
        line += (f"; against the teacher ({teacher['parameters']:,} parameters, {teacher['test_acc']:.3f}) it is "
                 f"{speed} at batch size {batch_size}")
    return line + "."


def file_name(name):
    """A file name for a model's name: "distilled, mlp(16)" -> "distilled-mlp-16"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class PayoffLab:
    def __init__(self, splits=None, teacher_names=None, widths=wb.payoff.WIDTHS, epochs=wb.payoff.CONFIG.epochs):
        self.splits = splits or wb.data.load("digits")
        self.widths = widths
        names = teacher_names or wb.teachers.available(self.splits.name)
        default = wb.teachers.DEFAULT.get(self.splits.name)
        self.teacher = W.Dropdown(options=names, value=default if default in names else names[0],
                                  description="teacher", style=STYLE)
        self.fraction = W.FloatSlider(value=wb.payoff.FRACTION, min=0.05, max=1.0, step=0.05,
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
        self.controller = RunController(self.prepare, self.redraw)
        self.message = self.controller.message
        self.controller.lock(self.teacher, self.fraction, self.epochs, self.temperature, self.alpha, self.seed)

        self.points, self.models, self.teacher_name, self.status_text = [], {}, self.teacher.value, ""
        self.changed = False  # points measured since the figures were last drawn
        self.latency_fig = live(plots.payoff_scatter([], "latency_s", self.batch.value), width=640, height=400)
        self.size_fig = live(plots.payoff_scatter([], "parameters"), width=640, height=400)
        self.status = W.HTML()
        self.table = W.HTML()
        self.batch.observe(guarded(self.message, lambda _: self.draw()), names="value")

        self.folder = None  # a temporary folder for the exported files, made at the first export
        self.export_choice = W.Dropdown(options=[], description="student", style=STYLE,
                                        layout=W.Layout(width="300px"), disabled=True)
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
                         self.controller.widget, self.status], layout=W.Layout(width="440px", padding="0 12px 0 0"))
        self.widget = W.VBox([W.HBox([column, W.VBox([self.latency_fig, self.size_fig])]), self.table,
                              W.HTML("<hr>"), export])

    def teacher_model(self):
        return cached_teacher(self.teacher.value, self.splits.train.x.device)

    # --- the run --------------------------------------------------------------------------

    def prepare(self, stop):
        """Check the controls (a ValueError is shown next to them) and set up the students' runs."""
        cfg = wb.payoff.CONFIG.replace(temperature=self.temperature.value, alpha=self.alpha.value,
                                       epochs=self.epochs.value, seed=self.seed.value)
        teacher = self.teacher_model()
        runs = wb.payoff.student_runs(self.splits, teacher, self.widths, cfg, self.fraction.value, stop=stop)
        self.points, self.models, self.teacher_name, self.exported = [], {}, self.teacher.value, None
        self.export_choice.options, self.export_result.value = [], ""
        self.export_message.clear()
        self.export_choice.disabled = self.export_button.disabled = True
        self.status_text = f"Training {len(runs)} students…"
        self.changed = True
        return self._work(teacher, runs, cfg.epochs, stop)

    def _work(self, teacher, runs, epochs, stop):
        """Train the students in lockstep, then measure the teacher and each student, one
        batch size per slice; the export section offers the students measured, whatever happens."""
        try:
            self.epoch = 0
            training = lockstep({name: run[3] for name, run in runs.items()}, self._record, 1)
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
            check_diverged(results)
            models = [("teacher", None, teacher)] + [run[:3] for run in runs.values()]
            for i, (kind, width, model) in enumerate(models):
                point = None
                for j, b in enumerate(BATCH_SIZES):
                    if stop.is_set():
                        self.status_text = f"Stopped: {len(self.points)} of {len(models)} models measured."
                        return
                    self.status_text = f"Measuring {i + 1} of {len(models)}: {wb.payoff.name(kind, width)}"
                    yield TRAIN_SHARE + (1 - TRAIN_SHARE) * (2 * i + j) / (2 * len(models))
                    repeats = TEACHER_REPEATS[b] if kind == "teacher" else REPEATS
                    m = wb.payoff.measure(kind, width, model, self.splits, (b,), repeats=repeats)
                    point = m if point is None else {**point, "latency_s": {**point["latency_s"], **m["latency_s"]}}
                self.points.append(point)
                if kind != "teacher":
                    self.models[point["name"]] = model
                self.changed = True
            self.status_text = f"Trained {len(runs)} students for {epochs} epochs and measured {len(models)} models."
            yield 1.0
        finally:
            self.offer_export()

    def _record(self, name, event):
        if event.kind == "epoch":
            self.epoch = max(self.epoch, event.epoch)

    def redraw(self):
        self.status.value = f"<span style='color:#2d4a6b'>{html.escape(self.status_text)}</span>"
        if self.changed:
            self.changed = False
            self.draw()

    def draw(self):
        """Both scatters and the table from the points measured so far."""
        refresh(self.latency_fig, plots.payoff_scatter(self.points, "latency_s", self.batch.value))
        refresh(self.size_fig, plots.payoff_scatter(self.points, "parameters"))
        self.table.value = self.table_html()

    def table_html(self):
        if not self.points:
            return ""
        rows = {(f"teacher ({self.teacher_name})" if p["kind"] == "teacher" else p["name"]): {
            "parameters": f"{p['parameters']:,}", "test accuracy": p["test_acc"],
            **{f"latency, batch {b}": duration(p["latency_s"][b]) for b in BATCH_SIZES}} for p in self.points}
        line = finding(self.points, self.batch.value)
        return ((f"<p class='kd-finding' style='max-width:980px'><b>{html.escape(line)}</b></p>" if line else "") +
                html_table(rows) +
                f"<p style='color:#555;max-width:980px'>Latency: the median of {REPEATS} forward passes (the "
                f"teacher's: {TEACHER_REPEATS[1]} at batch size 1, {TEACHER_REPEATS[1024]} at 1024) on this machine's "
                f"CPU, one thread, after 3 warm-up passes. At batch size 1 every student takes about the same time: "
                f"calling the model costs more than its arithmetic. At 1024 the arithmetic shows.</p>")

    # --- export ---------------------------------------------------------------------------

    def offer_export(self):
        """The students measured, in the export menu; the most accurate distilled one first chosen."""
        students = [p for p in self.points if p["kind"] != "teacher"]
        self.export_choice.options = [p["name"] for p in students]
        distilled = [p for p in students if p["kind"] == "distilled"] or students
        if distilled:
            self.export_choice.value = max(distilled, key=lambda p: (p["test_acc"], -p["parameters"]))["name"]
        self.export_choice.disabled = self.export_button.disabled = not students

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
