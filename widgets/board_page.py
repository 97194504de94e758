"""The instructor's class board: the room's runs and answers (workbench.board), live.

    from widgets.board_page import board_page
    board_page()    # in notebooks/board.ipynb, served by `make board`

Five figures, each a pure function of the DataFrames that `Board.runs()` and
`Board.answers()` return, with its one-sentence summary and its data as a table
(`plots.describe`):

* `gain_scatter`: each Distillation lab run's gain (distilled minus hard-label test
  accuracy, in accuracy points) against its temperature T, one series per α;
* `gain_histogram`: how the gains spread;
* `recovery_bars`: per learner (their latest run that left a digit out) the share of that
  digit's test images the distilled and the hard-label students recognise;
* `quiz_bars`: per question the share of learners whose first answer was right, with the
  most chosen wrong answer (the class's misconception);
* `exercise_bars`: per exercise, the learners who tried its check and those who passed.

`BoardPage` lays them out with a "last refreshed" line, a Refresh button, a refresh every
few seconds on the kernel's event loop, and a CSV download. `access` decides who sees it:
the link's token (KD_WORKBENCH_BOARD_TOKEN, which `make board` makes) or a hub user named in
KD_WORKBENCH_INSTRUCTORS; `board_page` shows everyone else a refusal and never opens the
board. Every learner's text (names, chosen answers, ids, settings) is shown as text:
escaped with html.escape before it reaches plotly's labels and hovers or an HTML widget."""
import asyncio
import base64
import collections
import csv
import datetime
import hmac
import html
import io
import math
import os
import pathlib
import shutil
import tempfile
import textwrap
import urllib.parse

import anywidget
import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go
from traitlets import Unicode

from workbench.board import Board, BoardError
from workbench.exercises import QUESTIONS

from . import a11y
from .live import Message, live, refresh
from .plots import GRID, OUTLINE, bar_style, describe, line_style, num  # PALETTE colours, dashes, markers, patterns

LAB = "Distillation lab"  # the lab whose runs the gain and recovery figures read
TOKEN_ENV = "KD_WORKBENCH_BOARD_TOKEN"
INSTRUCTORS_ENV = "KD_WORKBENCH_INSTRUCTORS"
NEEDED = ("open the link `make board` printed, with its token, or sign in as the hub's instructor")
REFRESH_SECONDS = 5
TITLE = "KD Workbench — class board"
# T groups the gain scatter's summary compares: "everyone who chose T = 1 saw no gain"
TEMPERATURE_GROUPS = (("T ≤ 1", lambda t: t <= 1), ("1 < T < 4", lambda t: 1 < t < 4), ("T ≥ 4", lambda t: t >= 4))
# α series of the gain scatter when the class used more than MAX_ALPHA_SERIES values of α
ALPHA_BINS = (("α < 0.5", lambda a: a < 0.5), ("0.5 ≤ α < 0.9", lambda a: 0.5 <= a < 0.9),
              ("α ≥ 0.9", lambda a: a >= 0.9))
MAX_ALPHA_SERIES = 4
# the Distillation lab's settings besides T and α: the scatter's sentence names those that varied
OTHER_SETTINGS = ("scenario", "teacher", "width", "epochs", "lr", "fraction", "left_out", "seed", "kd_loss",
                  "tckd_weight", "nckd_weight")
LABEL_CHARS = 48  # a question's text on its bar's axis label; the hover and the table hold all of it
BAR_ROW = 26  # pixels per category of a horizontal bar chart
FIGURE_WIDTH = 640  # pixels: two figures side by side on a 1400-pixel screen


def esc(s):
    """Text from the board (a learner's name, a chosen answer, an id), safe for HTML and for
    plotly's labels and hovers, which render a few tags: every <, >, &, " and ' escaped
    (plotly shows the entities as the characters)."""
    return html.escape(str(s))


def _number(v):
    """A setting or result as a finite float, or None (missing, text, NaN)."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _signed(v):
    """A number of points to one decimal, signed: +3.1, -0.4, and +0.0 (never -0.0)."""
    return f"{round(v, 1) + 0.0:+.1f}"


def _points(v):
    return f"{_signed(v)} points"


def _mean(xs):
    return sum(xs) / len(xs) if xs else None


def _style(fig, title, empty=None, **kw):
    """The board's light style; `empty` (e.g. "no runs yet") is said in the middle of a
    figure with nothing to draw, its axes hidden."""
    kw.setdefault("legend", dict(orientation="h", y=-0.25))
    kw.setdefault("margin", dict(l=60, r=20, t=50, b=50))
    fig.update_layout(title=title, paper_bgcolor="white", plot_bgcolor="white", **kw)
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    if empty:
        fig.update_xaxes(showticklabels=False, zeroline=False, showgrid=False, title=None)
        fig.update_yaxes(showticklabels=False, zeroline=False, showgrid=False, title=None)
        fig.add_annotation(text=empty.capitalize(), showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                           font=dict(color="#595959", size=16))
    return fig


def _rows(frame):
    """A DataFrame's rows as dicts, in id order when it has ids."""
    if frame is None or not len(frame):
        return []
    if "id" in frame.columns:
        frame = frame.sort_values("id", kind="stable")
    return frame.to_dict("records")


def _distillation_runs(runs):
    """The Distillation lab's runs that carry a gain (in [-1, 1]), as dicts: learner, temperature, alpha,
    gain (accuracy points), distilled, hard labels, left_out, recovery, recovery_hard."""
    out = []
    for r in _rows(runs):
        if r.get("lab") != LAB:
            continue
        settings = r.get("settings") if isinstance(r.get("settings"), dict) else {}
        results = r.get("results") if isinstance(r.get("results"), dict) else {}
        gain = _number(results.get("gain"))
        if gain is None or abs(gain) > 1:  # a difference of two accuracies: anything else is not a gain
            continue
        out.append(dict(settings=settings, learner=str(r.get("learner", "")),
                        temperature=_number(settings.get("temperature")),
                        alpha=_number(settings.get("alpha")), gain=100 * gain,
                        distilled=_number(results.get("distilled")), hard=_number(results.get("hard labels")),
                        left_out=results.get("left_out"), recovery=_number(results.get("left_out_recovery")),
                        recovery_hard=_number(results.get("left_out_recovery_hard"))))
    return out


def _alpha_series(points):
    """{series label: [points]}: one series per value of α when the class used at most
    MAX_ALPHA_SERIES values, else the ALPHA_BINS; runs without α last."""
    alphas = sorted({round(p["alpha"], 2) for p in points if p["alpha"] is not None})
    series = collections.OrderedDict()
    if len(alphas) <= MAX_ALPHA_SERIES:
        for a in alphas:
            series[f"α = {a:g}"] = [p for p in points if p["alpha"] is not None and round(p["alpha"], 2) == a]
    else:
        for label, inside in ALPHA_BINS:
            series[label] = [p for p in points if p["alpha"] is not None and inside(p["alpha"])]
    series["α not recorded"] = [p for p in points if p["alpha"] is None]
    return collections.OrderedDict((k, v) for k, v in series.items() if v)


def gain_scatter(runs, title="Gain of distillation against the temperature T"):
    """One marker per Distillation lab run: x its temperature T, y its gain (distilled minus
    hard-label test accuracy, in accuracy points), one series (colour and marker) per α.
    The summary gives the mean gain for T ≤ 1, 1 < T < 4 and T ≥ 4."""
    points = [p for p in _distillation_runs(runs) if p["temperature"] is not None]
    fig = go.Figure()
    for i, (label, pts) in enumerate(_alpha_series(points).items()):
        style = line_style(i, mode="markers")
        style["marker"].update(size=11, opacity=0.8)
        fig.add_scatter(x=[p["temperature"] for p in pts], y=[p["gain"] for p in pts], name=label,
                        text=[esc(p["learner"]) for p in pts],
                        hovertemplate=f"%{{text}}<br>T = %{{x:g}}, {label}<br>gain %{{y:+.1f}} points<extra></extra>",
                        **style)
    if points:
        fig.add_hline(y=0, line=dict(color=OUTLINE, width=1, dash="dot"))
    _style(fig, title, empty=None if points else "no runs yet",
           xaxis=dict(title="temperature T"), yaxis=dict(title="gain (accuracy points)"))
    if points:
        learners = len({p["learner"] for p in points})
        parts = []
        for label, inside in TEMPERATURE_GROUPS:
            band = [p for p in points if inside(p["temperature"])]
            if band:
                who = len({p["learner"] for p in band})
                parts.append(f"at {label} {_points(_mean([p['gain'] for p in band]))} ({len(band)} "
                             f"run{'s' * (len(band) != 1)} from {who} learner{'s' * (who != 1)})")
        said = (f"{len(points)} runs from {learners} learner{'s' * (learners != 1)}; mean gain "
                + ", ".join(parts))
        varied = [k for k in OTHER_SETTINGS if len({repr(p["settings"].get(k)) for p in points}) > 1]
        if varied:  # a comparison across T is fair only where the rest was held fixed: say what was not
            said += f"; the runs also differ in {', '.join(varied)}, so compare runs of the same settings (the table)"
    else:
        said = "no runs yet"
    rows = [[p["learner"], p["temperature"], p["alpha"], p["gain"], p["distilled"], p["hard"]] for p in points]
    return describe(fig, f"{title}: {said}.", ["learner", "temperature T", "α", "gain (accuracy points)",
                                               "distilled test accuracy", "hard-label test accuracy"], rows)


def _bin_width(low, high):
    """A round bin width that cuts [low, high] into at most 20 bins."""
    for width in (0.5, 1, 2, 5, 10, 20, 50):
        if (high - low) / width <= 20:
            return width
    return 100


def _gain_bins(gains):
    """[(from, to, count)] of the gains in bins of a round width, empty bins between included."""
    if not gains:
        return []
    width = _bin_width(min(gains), max(gains))
    start = math.floor(min(gains) / width)
    counts = collections.Counter(math.floor(g / width) - start for g in gains)
    return [((start + k) * width, (start + k + 1) * width, counts.get(k, 0)) for k in range(max(counts) + 1)]


def gain_histogram(runs, title="How the gains spread"):
    """Bars of how many Distillation lab runs gained how much (accuracy points), in bins of
    a round width; a dotted line at zero."""
    gains = sorted(p["gain"] for p in _distillation_runs(runs))
    bins = _gain_bins(gains)
    fig = go.Figure()
    if bins:
        fig.add_bar(x=[(a + b) / 2 for a, b, _ in bins], y=[n for _, _, n in bins], width=bins[0][1] - bins[0][0],
                    name="runs", customdata=[[a, b] for a, b, _ in bins],
                    hovertemplate="gain %{customdata[0]:+g} to %{customdata[1]:+g} points: %{y} runs<extra></extra>",
                    **bar_style(0))
        fig.add_vline(x=0, line=dict(color=OUTLINE, width=1, dash="dot"))
    _style(fig, title, empty=None if bins else "no runs yet", showlegend=False, bargap=0.05,
           xaxis=dict(title="gain (accuracy points)"), yaxis=dict(title="runs"))
    if gains:
        median = (gains[(len(gains) - 1) // 2] + gains[len(gains) // 2]) / 2
        above = sum(g > 0 for g in gains)
        said = (f"{len(gains)} runs; median gain {_points(median)}, {above} of {len(gains)} above zero, "
                f"from {_signed(gains[0])} to {_points(gains[-1])}")
    else:
        said = "no runs yet"
    return describe(fig, f"{title}: {said}.", ["gain from (points)", "gain to (points)", "runs"],
                    [list(b) for b in bins])


def _latest_by_learner(points):
    """Each learner's last point (the runs come in id order)."""
    return list({p["learner"]: p for p in points}.values())


def _height(categories, series=1):
    return max(320, 110 + BAR_ROW * categories * (1 + 0.6 * (series - 1)))


def recovery_bars(runs, title="The left-out digit, recovered"):
    """Per learner, from their latest Distillation lab run that left a digit out: the share
    of that digit's test images the distilled student recognises, beside the hard-label
    student's. Learners are named (this is the instructor's page); best recovery on top."""
    points = [p for p in _distillation_runs(runs) if p["recovery"] is not None]
    latest = sorted(_latest_by_learner(points), key=lambda p: (-p["recovery"], p["learner"]))
    names = [esc(p["learner"]) for p in latest]
    digits = [esc(p["left_out"] if p["left_out"] not in (None, "") else "?") for p in latest]
    fig = go.Figure()
    for i, (label, key) in enumerate((("distilled", "recovery"), ("hard labels", "recovery_hard"))):
        if latest:
            fig.add_bar(y=names, x=[p[key] for p in latest], orientation="h", name=label, customdata=digits,
                        texttemplate="%{x:.2f}", textposition="outside", cliponaxis=False,
                        hovertemplate=(f"%{{y}}: {label} student recognises %{{x:.2f}} of the left-out "
                                       f"digit %{{customdata}}<extra></extra>"), **bar_style(i))
    _style(fig, title, empty=None if latest else "no runs with a left-out digit yet", barmode="group",
           height=_height(len(latest), 2),
           xaxis=dict(title="share of the left-out digit's test images recognised", range=[0, 1.1]),
           yaxis=dict(type="category", autorange="reversed", automargin=True))
    if latest:
        distilled = _mean([p["recovery"] for p in latest])
        hard = _mean([p["recovery_hard"] for p in latest if p["recovery_hard"] is not None])
        better = sum(p["recovery_hard"] is not None and p["recovery"] > p["recovery_hard"] for p in latest)
        said = (f"{len(latest)} learner{'s' * (len(latest) != 1)} left a digit out; on average the distilled "
                f"students recognise {num(distilled)} of its test images, the hard-label students {num(hard)}; "
                f"the distilled student recognises more for {better} of {len(latest)}")
        left = sorted({str(p["left_out"]) for p in latest if p["left_out"] not in (None, "")})
        if len(left) > 1:  # digits differ in how hard they are to recover: say the mean mixes them
            said += f" (digits left out: {', '.join(left)}; the table gives each learner's)"
    else:
        said = "no runs with a left-out digit yet"
    rows = [[p["learner"], p["left_out"], p["recovery"], p["recovery_hard"], p["temperature"], p["alpha"]]
            for p in latest]
    return describe(fig, f"{title}: {said}.", ["learner", "left-out digit", "distilled recognises",
                                               "hard labels recognise", "temperature T", "α"], rows)


def _question_texts(questions=None):
    """{question id: its text}: "<topic>-<i+1>" for workbench.exercises.QUESTIONS[topic][i]."""
    questions = QUESTIONS if questions is None else questions
    return {f"{topic}-{i + 1}": q["question"] for topic, qs in questions.items() for i, q in enumerate(qs)}


def _first_answers(answers, kind):
    """Each learner's first row of `kind` per question (rows in id order)."""
    first = {}
    for r in _rows(answers):
        if r.get("kind") == kind:
            first.setdefault((r["learner"], r["question_id"]), r)
    return list(first.values())


def _correct(v):
    """True / False, or None for no right answer (a missing value in a DataFrame too)."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else bool(v)


def _quiz_summary(answers, questions=None):
    """Per question answered, from each learner's first answer: [{id, question, answered,
    scored, right, share, wrong, wrong_count}], hardest first (lowest share right; questions
    with no right answer last). `wrong` is the most chosen wrong answer (the first chosen on
    a tie), None when none was wrong."""
    texts = _question_texts(questions)
    by_question = collections.defaultdict(list)
    for r in _first_answers(answers, "quiz"):
        by_question[r["question_id"]].append(r)
    out = []
    for qid, rows in by_question.items():
        marks = [_correct(r["correct"]) for r in rows]
        scored = [m for m in marks if m is not None]
        wrong = collections.Counter(r["choice"] for r, m in zip(rows, marks) if m is False).most_common(1)
        out.append(dict(id=qid, question=texts.get(qid, qid), answered=len(rows), scored=len(scored),
                        right=sum(scored), share=sum(scored) / len(scored) if scored else None,
                        wrong=wrong[0][0] if wrong else None, wrong_count=wrong[0][1] if wrong else 0))
    return sorted(out, key=lambda q: (q["share"] is None, q["share"] or 0, q["id"]))


def _short(text, chars=LABEL_CHARS):
    return text if len(text) <= chars else text[:chars - 1].rstrip() + "…"


def _label(q):
    """A bar's label: the question's id and text, and on a second line the wrong answer
    most chosen (the misconception to discuss), so it shows on the projected figure."""
    text = q["question"] if q["question"] != q["id"] else ""
    label = esc(f"{q['id']}: {_short(text)}" if text else q["id"])
    return label + (f"<br><i>most chose: {esc(_short(str(q['wrong'])))}</i>" if q["wrong"] else "")


def _wrapped(text, width=60):
    """Escaped text wrapped into lines for a hover."""
    return "<br>".join(esc(line) for line in textwrap.wrap(str(text), width) or [""])


def quiz_bars(answers, questions=None, title="Quiz: share of the class whose first answer was right"):
    """One bar per question answered: the share of learners whose first answer was right,
    hardest on top, labelled with the question's id and text (an unknown id shows as
    itself); the hover and the table name the most chosen wrong answer."""
    summary = _quiz_summary(answers, questions)
    fig = go.Figure()
    if summary:
        hover = [f"{_wrapped(q['question'])}<br>{q['right']} of {q['scored']} first answers right"
                 + (f"<br>most chosen wrong answer ({q['wrong_count']}):<br>{_wrapped(q['wrong'])}" if q["wrong"]
                    else "") for q in summary]
        fig.add_bar(y=[_label(q) for q in summary], x=[q["share"] for q in summary], orientation="h",
                    name="first answer right", hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
                    texttemplate="%{x:.2f}", textposition="outside", cliponaxis=False,
                    **bar_style(0))
    _style(fig, title, empty=None if summary else "no quiz answers yet", showlegend=False,
           height=_height(len(summary)), margin=dict(l=60, r=20, t=50, b=50),
           xaxis=dict(title="share of learners whose first answer was right", range=[0, 1.1]),
           yaxis=dict(type="category", autorange="reversed", automargin=True))
    if summary:
        learners = len({r["learner"] for r in _first_answers(answers, "quiz")})
        right, scored = sum(q["right"] for q in summary), sum(q["scored"] for q in summary)
        hardest = summary[0]
        said = (f"{len(summary)} question{'s' * (len(summary) != 1)} answered by {learners} "
                f"learner{'s' * (learners != 1)}, {right} of {scored} first answers right; hardest {hardest['id']} "
                f"({num(hardest['share'])} right")
        said += (f", most chosen wrong answer “{hardest['wrong']}” by {hardest['wrong_count']})" if hardest["wrong"]
                 else ")")
    else:
        said = "no quiz answers yet"
    rows = [[q["id"], q["question"], q["answered"], q["share"], q["wrong"] or "", q["wrong_count"]] for q in summary]
    return describe(fig, f"{title}: {said}.", ["question id", "question", "learners answered", "share right",
                                               "most chosen wrong answer", "learners who chose it"], rows)


def _exercise_summary(answers):
    """Per exercise checked: [{id, tried, passed}] (learners), fewest passed (as a share of
    those who tried) first."""
    tried, passed = collections.defaultdict(set), collections.defaultdict(set)
    for r in _rows(answers):
        if r.get("kind") == "exercise":
            tried[r["question_id"]].add(r["learner"])
            if _correct(r["correct"]):
                passed[r["question_id"]].add(r["learner"])
    out = [dict(id=e, tried=len(tried[e]), passed=len(passed[e])) for e in tried]
    return sorted(out, key=lambda e: (e["passed"] / e["tried"], e["id"]))


def exercise_bars(answers, title="Exercises: learners who tried each check and who passed it"):
    """Per exercise id, bars of the learners who ran its check and of those who passed it;
    fewest passed (as a share of those who tried) on top."""
    summary = _exercise_summary(answers)
    fig = go.Figure()
    names = [esc(e["id"]) for e in summary]
    for i, (label, key) in enumerate((("tried", "tried"), ("passed", "passed"))):
        if summary:
            fig.add_bar(y=names, x=[e[key] for e in summary], orientation="h", name=label, texttemplate="%{x}",
                        textposition="outside", cliponaxis=False,
                        hovertemplate=f"%{{y}}: %{{x}} learners {label}<extra></extra>", **bar_style(i + 2))
    _style(fig, title, empty=None if summary else "no exercise checks yet", barmode="group",
           height=_height(len(summary), 2), xaxis=dict(title="learners", rangemode="tozero", dtick=1 if summary
                                                        and max(e["tried"] for e in summary) <= 10 else None),
           yaxis=dict(type="category", autorange="reversed", automargin=True))
    if summary:
        learners = len({r["learner"] for r in _rows(answers) if r.get("kind") == "exercise"})
        fewest = summary[0]
        passes, tries = sum(e["passed"] for e in summary), sum(e["tried"] for e in summary)
        said = (f"{len(summary)} exercise{'s' * (len(summary) != 1)} checked by {learners} "
                f"learner{'s' * (learners != 1)}, {passes} pass{'es' * (passes != 1)} of {tries} "
                f"tr{'ies' if tries != 1 else 'y'} (learner and exercise); fewest passed {fewest['id']}: "
                f"{fewest['passed']} of {fewest['tried']} who tried")
    else:
        said = "no exercise checks yet"
    return describe(fig, f"{title}: {said}.", ["exercise", "learners who tried", "learners who passed"],
                    [[e["id"], e["tried"], e["passed"]] for e in summary])


# (figure function, which frame it reads) in the page's order
FIGURES = ((gain_scatter, "runs"), (gain_histogram, "runs"), (recovery_bars, "runs"), (quiz_bars, "answers"),
           (exercise_bars, "answers"))


def access(query_string, env):
    """(allowed, reason) for a page request: allowed when the query's `token` equals env's
    KD_WORKBENCH_BOARD_TOKEN (compared in constant time; an unset or empty token never
    matches), or when env's JUPYTERHUB_USER is one of KD_WORKBENCH_INSTRUCTORS (comma-
    separated). The reason says why, or what is needed."""
    query = urllib.parse.parse_qs((query_string or "").lstrip("?"), keep_blank_values=True)
    given = (query.get("token") or [""])[0]
    expected = env.get(TOKEN_ENV) or ""
    if expected and given and hmac.compare_digest(given.encode(), expected.encode()):
        return True, "the link's token is this board's"
    user = (env.get("JUPYTERHUB_USER") or "").strip()
    instructors = {name.strip() for name in (env.get(INSTRUCTORS_ENV) or "").split(",") if name.strip()}
    if user and user in instructors:
        return True, f"{user} is the hub's instructor"
    if given:
        found = "the link's token is not this board's"
    elif user:
        found = f"{user} is not one of the hub's instructors"
    else:
        found = "the link has no token"
    return False, f"The class board is for the instructor, and {found}: {NEEDED}."


def refusal(reason):
    """The page shown instead of the board: why, and what is needed."""
    shown = esc(reason).replace("`make board`", "<code>make board</code>")  # after escaping: a fixed tag
    text = W.HTML(f"<p class='kd-board-refused'>{shown}</p>")
    a11y.ensure().title = TITLE
    return W.VBox([a11y.ensure(), text])


def _csv_link(path):
    """An <a download> of a CSV file as a data: URI."""
    data = pathlib.Path(path).read_bytes()
    rows = max(sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8")))) - 1, 0)  # a name may hold a newline
    href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    name = esc(pathlib.Path(path).name)
    return f'<a download="{name}" href="{href}" class="kd-csv">{name}</a> ({rows} row{"s" * (rows != 1)})'


EMPTY_RUNS = pd.DataFrame(columns=["id", "learner", "lab", "settings", "results", "at"])
EMPTY_ANSWERS = pd.DataFrame(columns=["id", "learner", "kind", "question_id", "choice", "correct", "at"])
_LIVE = []  # the running refresh of this kernel's latest page: a new page stops the old one's

FORGET_TOKEN_ESM = """
function render({ model, el }) {
  const url = new URL(window.location.href);
  if (url.searchParams.has("token")) {
    url.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }
}
export default { render };
"""


class ForgetToken(anywidget.AnyWidget):
    """Takes the token out of the page's address bar once the page has opened, so a board
    on the projector does not show it (the kernel checked it already). Shows nothing."""

    _esm = Unicode(FORGET_TOKEN_ESM).tag(sync=True)


def pseudonyms(runs, answers):
    """`runs` and `answers` with each learner renamed "learner 1", "learner 2", … in the order
    they first appear, the same learner the same number in both: for the projector."""
    order = list(dict.fromkeys([*runs.sort_values("id")["learner"], *answers.sort_values("id")["learner"]]))
    names = {name: f"learner {i + 1}" for i, name in enumerate(order)}
    return runs.assign(learner=runs["learner"].map(names)), answers.assign(learner=answers["learner"].map(names))


class BoardPage(W.VBox):
    """The class board of `board` (a workbench.board.Board), redrawn every `refresh_seconds`
    while the kernel's event loop runs (Voila, JupyterLab; None: only when Refresh is
    pressed) and whenever Refresh is pressed. A refresh that fails (a locked or unreachable
    board) says so and keeps the figures it has; the next one tries again."""

    def __init__(self, board, refresh_seconds=REFRESH_SECONDS):
        if refresh_seconds is not None and (isinstance(refresh_seconds, bool) or not isinstance(
                refresh_seconds, (int, float)) or not 0 < refresh_seconds <= 3600):
            raise ValueError(f"refresh_seconds must be a number of seconds in (0, 3600], or None for no live "
                             f"refresh, got {refresh_seconds!r}")
        self.board = board
        self.refresh_seconds = None if refresh_seconds is None else float(refresh_seconds)
        self.message = Message()
        self.status = W.HTML()
        self.status.add_class("kd-board-status")
        self.refresh_button = W.Button(description="Refresh now", icon="refresh", layout=W.Layout(width="150px"))
        self.live_box = W.Checkbox(value=self.refresh_seconds is not None, indent=False,
                                   description=f"refresh every {self.refresh_seconds or 0:g} s",
                                   layout=W.Layout(display=None if self.refresh_seconds else "none"))
        self.download_button = W.Button(description="Prepare the CSV files", icon="download",
                                        layout=W.Layout(width="220px"))
        self.links = W.HTML()
        self.links.add_class("kd-board-links")
        # names off by default: the page goes on the projector; "learner 3" is the same learner in every figure
        self.names_box = W.Checkbox(value=False, indent=False, description="show learners' names")
        self.names_box.observe(lambda _: self.show(*self.frames), names="value")
        self.refresh_button.on_click(lambda _: self.refresh_soon())
        self.download_button.on_click(lambda _: self.download())
        self.seen, self.refreshed, self.task, self.failing = None, None, None, False
        try:
            runs, answers = self.read()
        except Exception as e:  # the page still opens, empty, and says why; the live refresh tries again
            runs, answers = EMPTY_RUNS, EMPTY_ANSWERS
            self.status.value = "Not read yet."
            self._failed(e)
        self.frames = runs, answers
        shown = dict(zip(("runs", "answers"), pseudonyms(runs, answers)))
        self.figures = [live(self._draw(fn, shown[which])) for fn, which in FIGURES]
        if not self.failing:
            self.seen = self._signature(runs, answers)
            self._say_refreshed(runs, answers)
        a11y.ensure().title = TITLE
        for f in self.figures:  # each figure's sentence and table as wide as the figure
            f.view.layout = W.Layout(width=f"{FIGURE_WIDTH + 16}px", overflow="auto")
        grid = W.Box([f.view for f in self.figures], layout=W.Layout(display="flex", flex_flow="row wrap",
                                                                     grid_gap="12px"))
        download = W.HBox([self.download_button, self.links], layout=W.Layout(align_items="center"))
        super().__init__([a11y.ensure(), ForgetToken(layout=W.Layout(display="none")),
                          W.HBox([self.status, self.refresh_button, self.live_box, self.names_box],
                                 layout=W.Layout(align_items="center", grid_gap="16px")),
                          self.message, grid, download])
        self.add_class("kd-board")
        self.start()

    @staticmethod
    def _draw(fn, frame):
        """fn's figure of `frame` at the page's width: two figures side by side on a wide
        screen (set in the figure itself, so a browser that connects later gets it too)."""
        return fn(frame).update_layout(width=FIGURE_WIDTH)

    def read(self):
        """(runs, answers) DataFrames from the board."""
        return self.board.runs(), self.board.answers()

    @staticmethod
    def _signature(runs, answers):
        """What changes when a row is added: the count and last id of each table."""
        last = lambda f: int(f["id"].max()) if len(f) else None
        return len(runs), last(runs), len(answers), last(answers)

    def show(self, runs, answers, force=True):
        """Redraw the figures from `runs` and `answers` (unless nothing changed and not
        `force`) and say when."""
        signature = self._signature(runs, answers)
        self.frames = runs, answers
        if force or signature != self.seen:
            frames = dict(zip(("runs", "answers"), (runs, answers) if self.names_box.value else pseudonyms(runs, answers)))
            for widget, (fn, which) in zip(self.figures, FIGURES):
                refresh(widget, self._draw(fn, frames[which]))
            self.seen = signature
        if self.failing:
            self.failing = False
            self.message.clear()
        self._say_refreshed(runs, answers)

    def _say_refreshed(self, runs, answers):
        learners = len(set(runs["learner"]) | set(answers["learner"]))
        self.refreshed = datetime.datetime.now()
        self.status.value = (f"Last refreshed {self.refreshed:%H:%M:%S}: {learners} learner{'s' * (learners != 1)}, "
                             f"{len(runs)} run{'s' * (len(runs) != 1)}, {len(answers)} "
                             f"answer{'s' * (len(answers) != 1)}.")

    def _failed(self, error):
        self.failing = True
        since = f"; the figures show the board as it was at {self.refreshed:%H:%M:%S}" if self.refreshed else ""
        again = (f"Trying again in {self.refresh_seconds:g} s." if self.refresh_seconds and self.live_box.value
                 else "Press Refresh now to try again.")
        self.message.error(f"The board could not be read ({error}){since}. {again}")

    def refresh(self):
        """Read the board and redraw now. Returns True when it worked; a failure is shown
        in the message line and the figures stay as they were."""
        try:
            self.show(*self.read())
            return True
        except Exception as e:  # BoardError, or anything else: a message, never a dead page
            self._failed(e)
            return False

    def refresh_soon(self):
        """Refresh now, the board read in a thread so a slow board never freezes the page's
        buttons (without a running event loop: at once, as `refresh`)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self.refresh()

        async def now():
            try:
                self.show(*await asyncio.to_thread(self.read))
            except Exception as e:
                self._failed(e)
        return loop.create_task(now())

    async def _live(self):
        while True:
            await asyncio.sleep(self.refresh_seconds)
            if not self.live_box.value:
                continue
            try:  # read off the event loop: an unreachable server never freezes the buttons
                frames = await asyncio.to_thread(self.read)
                self.show(*frames, force=False)
            except Exception as e:
                self._failed(e)

    def start(self):
        """Refresh every `refresh_seconds` on the running event loop (the kernel's); stops
        this kernel's previous page's refresh. Without a running loop (a script, a test)
        nothing starts: call `refresh()`. Returns the task or None."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self.refresh_seconds is None:
            return None
        while _LIVE:
            _LIVE.pop().cancel()
        self.task = loop.create_task(self._live())
        _LIVE.append(self.task)
        return self.task

    def stop(self):
        """Stop the live refresh."""
        if getattr(self, "task", None) is not None:  # (a page whose __init__ failed has none)
            self.task.cancel()
            self.task = None

    def download(self):
        """Export runs.csv and gradebook.csv (board.export_csv) and show a link to each."""
        folder = tempfile.mkdtemp(prefix="kd-board-")
        try:
            paths = self.board.export_csv(folder)
            links = " · ".join(_csv_link(p) for p in paths)
        except (ValueError, BoardError) as e:
            self.message.error(f"The CSV files could not be written: {e}")
            return None
        except Exception as e:  # never a silent button
            self.message.error(f"The CSV files could not be written: {type(e).__name__}: {e}")
            return None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.links.value = f"The board at {datetime.datetime.now():%H:%M:%S}: {links}"
        return self.links.value

    def close(self):
        self.stop()
        super().close()


def board_page(query=None, env=None, refresh_seconds=REFRESH_SECONDS):
    """The class board for a page request, or a refusal: `query` the page's query string
    (default: the QUERY_STRING Voila passes to the kernel), `env` the environment (default
    os.environ). The board (KD_WORKBENCH_BOARD) is opened only once access is allowed."""
    env = os.environ if env is None else env
    query = env.get("QUERY_STRING", "") if query is None else query
    allowed, reason = access(query, env)
    if not allowed:
        return refusal(reason)
    try:
        board = Board(env.get("KD_WORKBENCH_BOARD") or None)
    except (ValueError, BoardError) as e:
        message = Message()
        message.error(f"The class board could not be opened: {e}")
        return W.VBox([a11y.ensure(), message])
    return BoardPage(board, refresh_seconds)
