"""DenseSparseLab: the same base student trained three ways on the same sampled sequences
(workbench.llm.dense_sparse): SFT on the teacher's samples, RL with one reward per
sequence (REINFORCE, leave-one-out baseline over two samples of each prompt, a KL penalty to
the starting student, reward 1 for the fact's most likely answer),
and on-policy distillation (the teacher scores every token of the student's samples,
per-token reverse KL). Before Run the learner predicts how many times more samples RL
needs than on-policy distillation to reach the level of sampled answers right; the curves of
sampled answers right, fact accuracy and KL to the truth are drawn live against samples spent, with the level as a
horizontal line, and a table of samples-to-level follows the run."""
import html

import ipywidgets as W
from plotly.subplots import make_subplots

import workbench as wb
from workbench import _check
from workbench.llm import dense_sparse as ds

from .a11y import name as a11y_name
from .live import html_table, live, refresh
from .plots import describe, line_style, num  # line_style: PALETTE colours, dashes and markers
from .predict import Prediction
from .runner import RunController, lockstep

QUESTION = ("How many times more sampled sequences does RL (one reward per sequence) need than on-policy "
            "distillation (the teacher scores every token) before half of its sampled answers are right?")
SAME, TWICE, MANY, FASTER = ("about the same: a sample is a sample", "about 2x",
                             "3x or more, or RL not within the budget",
                             "fewer: the reward is exactly what is measured, so RL gets there first")
CHOICES = (SAME, TWICE, MANY, FASTER)
PANELS = (("sampled_right", "sampled answers right"), ("fact_accuracy", "fact accuracy"),
          ("kl_to_truth", "KL to the truth (nats)"))


def judge(reached, samples):
    """The choice that samples-to-level {method: n or None} on a budget of `samples`
    bears out (None when on-policy distillation itself never reached the level, or when
    RL did not within a budget too short to say it needs 2.75 times as many)."""
    rl, opd = reached.get("rl"), reached.get("opd")
    if not opd:
        return None
    if rl is None:  # not within the budget: at least samples / opd times as many
        return MANY if samples / opd >= 2.75 else None
    factor = rl / opd
    return FASTER if factor < 0.75 else SAME if factor < 1.5 else TWICE if factor < 2.75 else MANY


def reached_words(reached):
    return ", ".join(f"{ds.LABELS[m]} {'not within the budget' if n is None else f'{n} samples'}"
                     for m, n in reached.items())


def curves_figure(curves, level, title="Three ways to learn the facts, by sampled sequences spent"):
    """Fact accuracy and KL to the truth against samples spent, one line per method
    ({method: [{"samples", "sampled_right", "fact_accuracy", "kl_to_truth", ...}]}), the level
    as a dashed line on the first panel (sampled answers right). Pure: a new figure from the numbers."""
    fig = make_subplots(rows=1, cols=len(PANELS), subplot_titles=[t for _, t in PANELS], horizontal_spacing=0.12)
    rows = []
    for col, (metric, label) in enumerate(PANELS, 1):
        for i, (m, curve) in enumerate(curves.items()):
            xs, ys = [r["samples"] for r in curve], [r[metric] for r in curve]
            fig.add_scatter(x=xs, y=ys, name=ds.LABELS[m], legendgroup=m, showlegend=col == 1, row=1, col=col,
                            **line_style(i))
            rows += [[ds.LABELS[m], label, x, y] for x, y in zip(xs, ys)]
        fig.update_xaxes(title_text="sampled sequences spent" if col == 2 else "", row=1, col=col)
    fig.add_hline(y=level, line_dash="dash", line_color="#444444", row=1, col=1,
                  annotation_text=f"level {num(level)}", annotation_position="bottom right")
    fig.update_layout(title=title, height=400, margin=dict(l=50, r=20, t=70, b=40), template="plotly_white",
                      legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))
    reached = {m: ds.samples_to_level(c, level) for m, c in curves.items()}
    if curves:
        said = (f"samples to reach {num(level)} of sampled answers right: {reached_words(reached)}; last share right "
                + ", ".join(f"{ds.LABELS[m]} {num(c[-1][ds.METRIC])}" for m, c in curves.items() if c))
    else:
        said = "no run yet"
    return describe(fig, f"{title}: {said}.", ["method", "quantity", "sampled sequences", "value"], rows)


class DenseSparseLab:
    def __init__(self, samples=ds.SAMPLES, seed=0, level=ds.LEVEL):
        self.samples = W.BoundedIntText(value=samples, min=ds.BATCH_SIZE, max=100_000, step=ds.BATCH_SIZE,
                                        description="sampled sequences per method",
                                        style={"description_width": "initial"})
        self.seed = W.BoundedIntText(value=seed, min=0, max=2**32 - 1, description="seed")
        self.level = W.BoundedFloatText(value=level, min=0.01, max=1.0, step=0.05, description="level: share of sampled answers right",
                                        style={"description_width": "initial"})
        a11y_name(self.level, "share of sampled answers right each method must reach")
        self.prediction = Prediction(QUESTION, CHOICES)
        self.controller = RunController(self.prepare, self.redraw)
        self.controller.lock(self.samples, self.seed, self.level)
        self.controller.progress_text = lambda: f"sample {self.spent} of {self.total}"
        self.controller.on_start.append(self._started)
        self.controller.on_end.append(self._ended)
        self.message = self.controller.message
        self.curves, self.result, self.spent, self.total, self.changed = {}, None, 0, 0, False
        self.figure = live(curves_figure({}, level))
        self.line, self.table = W.HTML(), W.HTML()
        notes = W.HTML(f"<small>Reward: {html.escape(ds.REWARD)}. Baseline: {html.escape(ds.BASELINE)}. RL also "
                       f"pays a KL penalty ({ds.KL_PENALTY}) to the starting student, which knows no facts: without "
                       "it RL answers every prompt of a relation with one answer and stops learning. The metrics "
                       f"are exact, computed from the known truth over the drill set: the {2 * ds.DRILL_SUBJECTS} "
                       f"facts of the {ds.DRILL_SUBJECTS} most frequent subjects (no test split).</small>")
        self.widget = W.VBox([W.HBox([self.samples, self.seed, self.level]), self.prediction.widget,
                              self.controller.widget, self.figure.view, self.line, self.table, notes])

    def prepare(self, stop):
        samples = _check.positive_int("samples", self.samples.value)
        level = _check.fraction("level", self.level.value)
        seed = _check.seed("seed", self.seed.value)
        if samples < ds.BATCH_SIZE:
            raise ValueError(f"samples must be at least batch_size ({ds.BATCH_SIZE}), got {samples}")
        teacher, task = wb.llm.teacher("facts"), wb.llm.task()
        self.run_level, self.total, self.spent = level, samples, 0
        self.curves = {m: [] for m in ds.METHODS}
        runs = {m: ds.steps(m, wb.llm.student(seed), teacher, task, samples, seed, stop=stop) for m in ds.METHODS}
        self.result, self.line.value, self.table.value, self.changed = None, "", "", True
        return self._work(runs, samples // ds.BATCH_SIZE)

    def _work(self, runs, total):
        yield from lockstep(runs, self._record, total)
        reached = {m: ds.samples_to_level(c, self.run_level) for m, c in self.curves.items()}
        rl, opd = reached["rl"], reached["opd"]
        self.result = {"samples_to_level": reached, "factor": rl / opd if rl is not None and opd else None,
                       "samples": self.total}
        self.changed = True

    def _record(self, method, event):
        if event.kind == "step" and method == ds.METHODS[0]:
            self.spent = event.metrics["samples"]
        if event.kind == "eval":
            self.curves[method].append(event.metrics)
            self.changed = True

    def _started(self):
        self.prediction.reset()
        self.prediction.buttons.disabled = True

    def _ended(self, completed):
        self.prediction.buttons.disabled = False
        if not completed or self.result is None:
            return
        reached, factor = self.result["samples_to_level"], self.result["factor"]
        said = f"to {num(self.run_level)} of sampled answers right: {reached_words(reached)}"
        said += f" (RL / on-policy distillation = {factor:.1f}x)" if factor else ""
        self.prediction.reveal(f"This run (seed {self.seed.value}), samples {said}",
                               correct=judge(reached, self.result["samples"]))

    def redraw(self):
        if not self.changed:
            return
        self.changed = False
        refresh(self.figure, curves_figure(self.curves, getattr(self, "run_level", self.level.value)))
        if self.result:
            reached = self.result["samples_to_level"]
            factor = self.result["factor"]
            self.line.value = html.escape(
                f"Samples to reach {num(self.run_level)} of sampled answers right: {reached_words(reached)}."
                + (f" RL needed {factor:.1f}x the samples of on-policy distillation." if factor else ""))
            self.table.value = html_table({ds.LABELS[m]: {
                "samples to level": "not reached" if n is None else n,
                "last share of sampled answers right": self.curves[m][-1][ds.METRIC],
                "last fact accuracy": self.curves[m][-1]["fact_accuracy"],
                "last KL to the truth": self.curves[m][-1]["kl_to_truth"]} for m, n in reached.items()})
