"""ReasoningLab: what a small student learns from a teacher's worked steps
(workbench.llm.reasoning). The teacher adds two 3-digit numbers column by column; it is
reached as a black box and samples at a temperature, so it is sometimes wrong. The same
student, from the same start, is fine-tuned on the same teacher queries four ways: (a) the
teacher's final answers only, (b) its worked steps, (c) only the worked steps whose final
answer the verifier accepts, (d) the true answers (no teacher).

Before Run the learner predicts which student ends most accurate on held-out problems and
whether filtering the wrong traces helps; held-out accuracy is drawn live against teacher
queries spent, one line per way. After the run: a table per way (held-out accuracy, longer
problems, inherited mistakes, characters and pairs trained on, seconds) and one problem the
teacher got wrong, worked by the teacher, the truth and every student.

The engine runs in a background thread (as in widgets.beyond_lab): one round of one way
trains and then generates answers to 500 held-out problems, seconds on a CPU, which would
otherwise hold the page; the engine sees Stop within one optimizer step."""
import html
import queue
import threading

import ipywidgets as W
import plotly.graph_objects as go

from workbench.llm import addition, reasoning

from .a11y import name as a11y_name
from .controls import STYLE, int_box
from .live import html_table, live, refresh
from .plots import describe, line_style, num
from .predict import Prediction
from .runner import RunController

QUESTION = ("Which student ends most accurate on held-out problems, and does filtering out the teacher's wrong "
            "worked steps help?")
ANSWERS = "the teacher's answers only: the answer is all that is graded"
FILTERED = "worked steps, and filtering out the wrong ones helps: fewer mistakes to inherit"
UNFILTERED = ("worked steps, and filtering does not help: the student averages the teacher's occasional "
              "mistakes away")
TRUTH = "the true answers beat everything: the teacher's mistakes only hurt"
CHOICES = (ANSWERS, FILTERED, UNFILTERED, TRUTH)
MARGIN = 0.02  # a difference in held-out accuracy smaller than this (10 of 500 problems) counts as none
POLL = 0.05  # seconds the run waits for the engine's thread before the page gets its turn


def judge(result, margin=MARGIN):
    """The choice a result ({"accuracy": {way: share}, "inherited": {way: share or None}})
    bears out: the most accurate kind of student, if it leads the other kinds by `margin`;
    for worked steps, FILTERED when the verified student is more accurate by `margin`, and
    UNFILTERED only when it is not and the unfiltered student did not repeat more of the
    teacher's mistakes either (by `margin`): its reason is that they average away. None
    when no choice holds (or a way did not run)."""
    acc = result.get("accuracy") or {}
    if any(acc.get(w) is None for w in reasoning.WAYS):
        return None
    steps = max(acc["traces"], acc["verified"])
    answers = max(acc["answers"], acc["truth"])
    if steps >= answers + margin:
        if acc["verified"] >= acc["traces"] + margin:
            return FILTERED
        inherited = result.get("inherited") or {}
        kept, filtered = inherited.get("traces"), inherited.get("verified")
        averaged = kept is None or filtered is None or kept < filtered + margin
        return UNFILTERED if averaged else None
    if answers >= steps + margin:
        return TRUTH if acc["truth"] >= acc["answers"] + margin else ANSWERS
    return None


def accuracy_curves(curves, teacher_accuracy=None, title="Held-out accuracy by teacher queries spent"):
    """Held-out accuracy against teacher queries, one line per way ({way: [{"queries",
    "accuracy", ...}] a row per round}); the teacher's accuracy on its own queries, when
    given, as a dashed line. Pure: a new figure from the numbers."""
    fig = go.Figure()
    rows = []
    for i, (way, curve) in enumerate(curves.items()):
        xs, ys = [r["queries"] for r in curve], [r["accuracy"] for r in curve]
        fig.add_scatter(x=xs, y=ys, name=reasoning.LABELS[way], **line_style(i))
        rows += [[reasoning.LABELS[way], x, y] for x, y in zip(xs, ys)]
    if teacher_accuracy is not None:
        fig.add_hline(y=teacher_accuracy, line_dash="dash", line_color="#444444",
                      annotation_text=f"teacher, sampled, right on {num(teacher_accuracy)} of its queries",
                      annotation_position="bottom right")
    fig.update_layout(title=title, height=380, margin=dict(l=60, r=20, t=60, b=40), template="plotly_white",
                      xaxis_title="teacher queries spent", yaxis_title="held-out accuracy",
                      yaxis_range=[0, 1.02], legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))
    last = {w: c[-1] for w, c in curves.items() if c}
    if last:
        said = "; ".join(f"{reasoning.LABELS[w]} {num(r['accuracy'])} after {r['queries']} queries"
                         for w, r in last.items())
        if teacher_accuracy is not None:
            said += (f"; the teacher, sampling, was right on {num(teacher_accuracy)} of its own queries (not the "
                     "held-out problems; greedy it gets every one right)")
    else:
        said = "no run yet"
    return describe(fig, f"{title}: {said}.", ["way", "teacher queries", "held-out accuracy"], rows)


def verdict(problem, text):
    """The verifier's word on a completion: its final answer, right or wrong."""
    answer = addition.final_answer(text)
    if answer is None:
        return "no final answer ✗"
    return f"{answer}: right ✓" if addition.is_correct(problem, text) else f"{answer}: wrong ✗"


def steps_right(problem, text):
    """How many of the true worked steps a completion writes, in their places ("no steps"
    for an answer alone)."""
    true = addition.worked(*problem).split(",")[:-1]
    written = text.split(addition.STOP)[0].split(",")[:-1]
    if not written:
        return "no steps"
    same = sum(a == b for a, b in zip(written, true))
    return f"{same} of {len(true)} right" + ("" if len(written) == len(true) else f" ({len(written)} written)")



def example_html(example, labels, temperature):
    """One teacher query as an HTML table: the problem, the teacher's worked steps, the true
    ones and each student's completion, each with the verifier's word and its steps."""
    if not example:
        return ""
    problem = tuple(example["problem"])
    rows = [(f"teacher (sampling at T = {temperature:g})", example["teacher"]),
            ("true worked steps", example["true"])]
    rows += [(f"student {labels[w]}", text) for w, text in example["students"].items()]
    body = "".join(
        f"<tr><th scope='row' style='text-align:left;padding:2px 10px'>{html.escape(who)}</th>"
        f"<td style='padding:2px 10px;font-family:monospace;word-break:break-all'>{html.escape(text)}</td>"
        f"<td style='padding:2px 10px'>{html.escape(verdict(problem, text))}</td>"
        f"<td style='padding:2px 10px'>{html.escape(steps_right(problem, text))}</td></tr>"
        for who, text in rows)
    head = "".join(f"<th scope='col' style='text-align:left;padding:2px 10px'>{c}</th>"
                   for c in ("", "wrote", "final answer (the verifier)", "worked steps"))
    prompt = html.escape(addition.prompt(*problem))
    return (f"<table class='kd-example' style='border-collapse:collapse;max-width:980px'>"
            f"<caption style='text-align:left;caption-side:top'>One of the teacher's queries, "
            f"<code>{prompt}</code> (the first it got wrong, if it got one wrong), worked by the teacher, "
            f"the truth and each student (greedy)</caption>"
            f"<tr style='background:#e8eef5'>{head}</tr>{body}</table>")


def table_rows(result):
    """{way label: {column: value}} of a result, for the table after the run."""
    longer = f"longer problems ({addition.DIGITS + 1} digits)"
    rows = {}
    for w, label in result["labels"].items():
        inherited = result["inherited"][w]
        rows[label] = {"held-out accuracy": result["accuracy"][w], longer: result["longer"][w],
                       "inherited mistakes": "—" if inherited is None else inherited,
                       "characters trained on": f"{result['tokens'][w]:,}",
                       "pairs trained on": f"{result['examples'][w]:,}",
                       "seconds": f"{result['seconds'][w]:.1f}"}
    return rows


def teacher_words(result):
    t = result["teacher"]
    wrong = t["queries"] - t["right"]
    return (f"The teacher answered {t['queries']} queries sampling at T = {t['temperature']:g} and was right on "
            f"{t['right']} ({t['accuracy']:.1%}): {wrong} wrong answer{'' if wrong == 1 else 's'} a student could "
            f"inherit.")


def accuracy_words(result):
    return ", ".join(f"{result['labels'][w]} {num(a)}" for w, a in result["accuracy"].items())


class ReasoningLab:
    def __init__(self, splits=None, **settings):
        """`splits` is unused (the app passes its digits to every tab); `settings`: starting
        values of ReasoningConfig's fields (queries, rounds, steps, teacher_temperature,
        width, seed), its defaults otherwise."""
        start = reasoning.ReasoningConfig(**settings)
        self.queries = int_box(start.queries, "teacher queries", width="210px")
        self.rounds = int_box(start.rounds, "rounds", width="150px")
        self.steps = int_box(start.steps, "optimizer steps per student", width="260px")
        self.teacher_temperature = W.FloatText(value=start.teacher_temperature, step=0.1,
                                               description="teacher temperature T", style=STYLE,
                                               layout=W.Layout(width="230px"))
        self.width = int_box(start.width, f"student width (a multiple of {reasoning.HEADS})", width="280px")
        self.seed = int_box(start.seed, "seed", width="150px")
        # the names a screen reader says begin with the labels shown (WCAG 2.5.3)
        a11y_name(self.queries, "teacher queries: problems the teacher is asked to work out")
        a11y_name(self.rounds, "rounds the teacher queries are spent in")
        a11y_name(self.width, f"student width (a multiple of {reasoning.HEADS} from {reasoning.WIDTHS[0]} to "
                              f"{reasoning.WIDTHS[1]})")
        self.prediction = Prediction(QUESTION, CHOICES)
        self.controller = RunController(self.prepare, self.redraw)
        self.controller.lock(self.queries, self.rounds, self.steps, self.teacher_temperature, self.width, self.seed)
        self.controller.progress_text = self.progress_words
        self.controller.on_start.append(self._started)
        self.controller.on_end.append(self._ended)
        self.message = self.controller.message
        self.cfg, self.curves, self.result, self.events, self.changed = None, {}, None, 0, False
        self.figure = live(accuracy_curves({}))
        self.teacher_line, self.table, self.example = W.HTML(), W.HTML(), W.HTML()
        notes = W.HTML(
            f"<small>Held-out: {addition.TEST_SIZE} problems of two {addition.DIGITS}-digit numbers that no "
            f"query and no student saw; longer: {reasoning.LONGER_SIZE} problems of two {addition.DIGITS + 1}-digit "
            "numbers. Students answer greedily. <i>Inherited mistakes</i>: of the queries the teacher answered "
            "wrong, the share where the student gives the teacher's same wrong answer (— when the teacher was "
            "never wrong). <i>Characters trained on</i>: the completion characters a student learned from (the "
            "prompt is given, not learned). The verifier checks the final answer only, never the steps.</small>",
            layout=W.Layout(max_width="980px"))
        controls = W.HBox([self.queries, self.rounds, self.steps, self.teacher_temperature, self.width, self.seed],
                          layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox([controls, self.prediction.widget, self.controller.widget, self.figure.view,
                              self.teacher_line, self.table, self.example, notes])

    def config(self):
        """The run's ReasoningConfig from the controls: a bad value raises the engine's ValueError."""
        return reasoning.ReasoningConfig(queries=self.queries.value, rounds=self.rounds.value,
                                         steps=self.steps.value, teacher_temperature=self.teacher_temperature.value,
                                         width=self.width.value, seed=self.seed.value)

    def prepare(self, stop):
        cfg = self.config()
        self.cfg, self.curves, self.result, self.events = cfg, {w: [] for w in cfg.ways}, None, 0
        self.teacher_line.value = self.table.value = self.example.value = ""
        self.changed = True
        return self._work(cfg, stop)

    def _work(self, cfg, stop):
        """Run the engine in a thread; take its events as they come and yield the share done."""
        events, failed = queue.SimpleQueue(), []

        def target():
            try:
                for event in reasoning.steps(cfg, stop=stop):
                    events.put(event)
            except Exception as e:  # raised here, in the run: the controller shows it
                failed.append(e)

        worker = threading.Thread(target=target, name="reasoning", daemon=True)
        worker.start()
        total = cfg.rounds * len(cfg.ways) + 1  # the last event comes after the final measurements
        try:
            while worker.is_alive() or not events.empty():
                worker.join(POLL)
                while not events.empty():
                    self._record(events.get())
                yield min(self.events / total, 1.0)
        except BaseException:  # left early (closed, or a redraw raised): the engine stops within a step
            stop.set()
            raise
        if failed:
            raise failed[0]

    def _record(self, event):
        self.events += 1
        if event.kind == "round":
            self.curves[event.metrics["way"]].append(event.metrics)
        elif event.kind == "done":
            self.result = event.metrics
        self.changed = True

    def progress_words(self):
        cfg = self.cfg
        if cfg is None:
            return ""
        done = self.events
        if done >= cfg.rounds * len(cfg.ways):
            return "measuring the students on held-out and longer problems"
        return f"round {done // len(cfg.ways) + 1} of {cfg.rounds}, {done % len(cfg.ways)} of {len(cfg.ways)} students"

    def board_results(self):
        """The last run's numbers for the class board: each way's held-out accuracy and
        inherited mistakes, and the teacher's accuracy on its queries."""
        r = self.result
        if not r:
            return {}
        out = {f"{w}: accuracy": a for w, a in r["accuracy"].items() if a is not None}
        out.update({f"{w}: inherited": s for w, s in r["inherited"].items() if s is not None})
        out["teacher accuracy"] = r["teacher"]["accuracy"]
        return out

    def _started(self):
        self.prediction.reset()
        self.prediction.buttons.disabled = True

    def _ended(self, completed):
        self.prediction.buttons.disabled = False
        if not completed or self.result is None:
            return
        r = self.result
        said = f"held-out accuracy {accuracy_words(r)}"
        inherited = r["inherited"]
        if inherited.get("traces") is not None and inherited.get("verified") is not None:
            said += (f"; of the teacher's wrong answers, (b) reproduced {num(inherited['traces'])} and "
                     f"(c) {num(inherited['verified'])}")
        said += f" (differences under {MARGIN} count as none)"
        self.prediction.reveal(f"This run (seed {r['config']['seed']}, {r['teacher']['queries']} teacher queries), "
                               f"{said}", correct=judge(r))

    def redraw(self):
        if not self.changed:
            return
        self.changed = False
        r = self.result
        refresh(self.figure, accuracy_curves(self.curves, r["teacher"]["accuracy"] if r else None))
        if r and not r.get("stopped"):  # a stopped run keeps its curves; its final measures were not taken
            self.teacher_line.value = f"<p style='max-width:980px'>{html.escape(teacher_words(r))}</p>"
            self.table.value = html_table(table_rows(r))
            self.example.value = example_html(r["example"], r["labels"], r["teacher"]["temperature"])
