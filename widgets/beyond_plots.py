"""Pure figure functions for the "Beyond Hinton" lab: the dict one experiment of
workbench.beyond returns in, a plotly figure out, each with its one-sentence summary and
its data as a table (plots.describe). Each takes None or {} before a run and then draws
"Press Run". Names that reach plotly pass through plots.text (escaped), those that reach
a summary through plots.plain.

    capacity_gap_figure(wb.beyond.capacity_gap.run())   # student against teacher accuracy
    born_again_figure(wb.beyond.born_again.run())       # accuracy per generation
    smoothing_heatmaps(result), smoothing_bars(result)  # dark knowledge; the students' accuracy
    transfer_bars(wb.beyond.transfer.run())             # student accuracy per transfer set
    fidelity_figure(wb.beyond.fidelity.run())           # accuracy beside agreement and KL"""
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .plots import HARD, NOTHING_YET, SEQUENTIAL, TRUTH, _layout, bar_style, describe, line_style, num, plain, text

# capacity_gap's rows: its teachers of rising size, then the teacher assistant, then the
# early-stopped large teacher; each kind is drawn as a series of its own
KINDS = {"teacher": "teachers of rising size", "assistant": "teacher assistant",
         "early-stopped": "large teacher, stopped early"}


def row_kind(row):
    """Which of KINDS a row of capacity_gap.run()["teachers"] is: its own "kind" when it
    has one, else read from its name ("assistant ...", "... stopped at 6 epochs")."""
    if row.get("kind") in KINDS:
        return row["kind"]
    name = str(row.get("name", "")).lower()
    return "assistant" if name.startswith("assistant") else "early-stopped" if "stopped" in name else "teacher"


def width_label(width):
    """Hidden units as people write them: (16,) -> "16", (256, 256) -> "256x256", () -> "linear"."""
    width = tuple(width) if isinstance(width, (tuple, list)) else (width,)
    return "x".join(map(str, width)) if width else "linear"


def point_label(row):
    """The short label next to a capacity-gap point: "16", "TA 16", "256x256 early"."""
    kind, w = row_kind(row), width_label(row.get("width", ()))
    return {"assistant": f"TA {w}", "early-stopped": f"{w} early"}.get(kind, w)


def accuracy_range(values, pad=0.02):
    """A y range for accuracies that shows differences of a point: from just below the
    lowest (to a multiple of 0.05) to just above the highest (at most 1)."""
    values = [v for v in values if v is not None]
    if not values:
        return [0, 1]
    low = math.floor((min(values) - pad) / 0.05) * 0.05
    return [max(0.0, round(low, 2)), min(1.0, max(values) + pad) + 0.01]


def two_lines(name):
    """A category label for a bar chart's axis, escaped, broken after its first comma so
    that long labels do not run into each other."""
    return text(name).replace(", ", ",<br>", 1)


def _empty_or(result, key):
    """result[key] (a list), or [] before a run."""
    return list((result or {}).get(key) or [])


def capacity_gap_figure(result, title="The capacity gap: the student's accuracy against its teacher's"):
    """One point per teacher: x its test accuracy, y the test accuracy of the student
    distilled from it; teachers of rising size, the teacher assistant and the early-stopped
    large teacher each a series of their own (colour, symbol), the student trained on hard
    labels alone a dashed grey line across. result: capacity_gap.run()'s dict."""
    rows = _empty_or(result, "teachers")
    hard = (result or {}).get("hard_labels")
    fig = go.Figure()
    for i, (kind, label) in enumerate(KINDS.items()):
        pts = [r for r in rows if row_kind(r) == kind]
        if pts:
            style = line_style(i, mode="markers+text")
            style["marker"].update(size=11)
            fig.add_scatter(x=[r["teacher_acc"] for r in pts], y=[r["student_acc"] for r in pts], name=label,
                            text=[text(point_label(r)) for r in pts], textposition="top center",
                            customdata=[text(r["name"]) for r in pts],
                            hovertemplate="%{customdata}: teacher %{x:.3f}, student %{y:.3f}<extra></extra>", **style)
    xs = [r["teacher_acc"] for r in rows]
    if hard is not None and xs:
        fig.add_scatter(x=[min(xs) - 0.005, max(xs) + 0.005], y=[hard, hard], mode="lines",
                        name="hard labels, no teacher",
                        line=dict(color=HARD, dash="dash", width=2),
                        hovertemplate=f"hard labels, no teacher: {hard:.3f}<extra></extra>")
    ys = [r["student_acc"] for r in rows] + ([hard] if hard is not None else [])
    _layout(fig, title, xaxis=dict(title="teacher's test accuracy"),
            yaxis=dict(title="student's test accuracy", range=accuracy_range(ys)),
            margin=dict(l=60, r=20, t=50, b=40))
    table = [[plain(r["name"]), KINDS[row_kind(r)], r.get("parameters"), r["teacher_acc"], r["student_acc"],
              r.get("student_val_acc")] for r in rows]
    if hard is not None:
        table.append(["hard labels, no teacher", "no teacher", None, None, hard, None])
    return describe(fig, f"{plain(title)}: {capacity_gap_summary(rows, hard)}",
                    ["teacher", "kind", "teacher parameters", "teacher test accuracy", "student test accuracy",
                     "student validation accuracy"], table)


def capacity_gap_summary(rows, hard=None):
    """One sentence: the most accurate teacher's student against the best student (chosen
    on validation) and its teacher, then the assistant's, the early-stopped teacher's and
    the hard-label student's accuracy."""
    sized = [r for r in rows if row_kind(r) == "teacher"]
    if not sized:
        return NOTHING_YET + "."
    top = max(sized, key=lambda r: r["teacher_acc"])
    best = max(sized, key=lambda r: (r.get("student_val_acc", r["student_acc"]), r["student_acc"]))
    parts = [f"the most accurate teacher, {plain(top['name'])} ({num(top['teacher_acc'], 3)}), gives a student of "
             f"{num(top['student_acc'], 3)}; the best student on validation learns from {plain(best['name'])} "
             f"({num(best['teacher_acc'], 3)}) and reaches {num(best['student_acc'], 3)}"]
    for kind in ("assistant", "early-stopped"):
        for r in (r for r in rows if row_kind(r) == kind):
            parts.append(f"{plain(r['name'])}: teacher {num(r['teacher_acc'], 3)}, student {num(r['student_acc'], 3)}")
    if hard is not None:
        parts.append(f"hard labels alone {num(hard, 3)}")
    return "; ".join(parts) + "."


def born_again_figure(result, title="Born-again networks: accuracy per generation"):
    """Test and validation accuracy of each generation (0: trained on the labels; k: distilled
    from generation k - 1, same size, same data), one line each. result: born_again.run()'s dict."""
    test, val = _empty_or(result, "test_acc"), _empty_or(result, "val_acc")
    gens = list(range(len(test)))
    fig = go.Figure()
    for i, (label, ys) in enumerate((("test accuracy", test), ("validation accuracy", val))):
        if ys:
            fig.add_scatter(x=list(range(len(ys))), y=ys, name=label,
                            hovertemplate=f"generation %{{x}}: {label} %{{y:.3f}}<extra></extra>", **line_style(i))
    _layout(fig, title, yaxis=dict(title="accuracy", range=accuracy_range(test + val)),
            xaxis=dict(title="generation (0: the labels alone; each next one distilled from the one before)",
                       tickmode="array", tickvals=gens, ticktext=["0 (labels)"] + [str(g) for g in gens[1:]]))
    if test:
        said = ", ".join(f"{num(a, 3)} at generation {g}" for g, a in zip(gens, test))
        said = f"test accuracy {said}"
        if len(val) == len(test) and len(test) > 1:
            pick = max(gens, key=lambda g: (val[g], -g))
            said += f"; the best generation on validation, {pick}, has test accuracy {num(test[pick], 3)}"
    else:
        said = NOTHING_YET
    table = [[g, test[g], val[g] if g < len(val) else None] for g in gens]
    return describe(fig, f"{plain(title)}: {said}.", ["generation", "test accuracy", "validation accuracy"], table)


def epsilon_label(eps):
    """A label-smoothing ε for a label: 0 -> "ε = 0 (no smoothing)", 0.1 -> "ε = 0.1"."""
    return "ε = 0 (no smoothing)" if eps == 0 else f"ε = {eps:g}"


def evenness(teacher):
    """A smoothing teacher's wrong-class evenness (1: every wrong class equally likely, no
    dark knowledge left), under the engine's name for it."""
    return teacher.get("wrong_class_evenness", teacher.get("wrong_class_spread"))


def wrong_class_mass(matrix):
    """The mean over true classes of the probability put on the other classes."""
    return sum(sum(v for j, v in enumerate(row) if j != i) for i, row in enumerate(matrix)) / max(len(matrix), 1)


def smoothing_heatmaps(result, title="Dark knowledge of teachers trained with label smoothing"):
    """Each teacher's dark-knowledge matrix (rows: true class, columns: the class its soft
    label at T = 4 is for; the diagonal hidden, so the wrong-class mass shows) side by side
    on one colour scale. result: smoothing.run()'s dict."""
    teachers = _empty_or(result, "teachers")
    names = [f"{epsilon_label(t['label_smoothing'])}, teacher {num(t['teacher_acc'], 3)}" for t in teachers]
    fig = make_subplots(rows=1, cols=max(len(teachers), 1), subplot_titles=[text(n) for n in names] or None,
                        horizontal_spacing=0.05)
    offs = [[[None if i == j else v for j, v in enumerate(row)] for i, row in enumerate(t["dark_knowledge"])]
            for t in teachers]
    zmax = max((v for m in offs for row in m for v in row if v is not None), default=1.0)
    for col, (t, off) in enumerate(zip(teachers, offs), 1):
        classes = [str(c) for c in range(len(off))]
        fig.add_heatmap(z=off, x=classes, y=classes, zmin=0, zmax=zmax, colorscale=SEQUENTIAL,
                        showscale=col == len(teachers), colorbar=dict(title="p"), row=1, col=col,
                        hovertemplate="true %{y}, soft label for %{x}: %{z:.4f}<extra></extra>")
        fig.update_xaxes(type="category", title_text="soft label for class", row=1, col=col)
        fig.update_yaxes(type="category", autorange="reversed", showticklabels=col == 1, row=1, col=col)
    fig.update_yaxes(title_text="true class", row=1, col=1)
    _layout(fig, title, margin=dict(l=60, r=20, t=80, b=50))
    if teachers:
        said = "; ".join(f"{epsilon_label(t['label_smoothing'])}: {num(wrong_class_mass(t['dark_knowledge']), 3)} on "
                         f"the wrong classes on average, wrong-class evenness {num(evenness(t), 3)}"
                         for t in teachers)
    else:
        said = NOTHING_YET
    size = len(teachers[0]["dark_knowledge"]) if teachers else 10
    table = [[epsilon_label(t["label_smoothing"]), str(i)] + list(row) + [evenness(t)]
             for t in teachers for i, row in enumerate(t["dark_knowledge"])]
    return describe(fig, f"{plain(title)}: {said}.", ["teacher", "true class"] +
                    [f"soft label for {c}" for c in range(size)] +
                    ["teacher's wrong-class evenness (1: all equally likely)"], table)


def smoothing_bars(result, title="What each teacher is worth to the student"):
    """The student's test accuracy (bars) distilled from each label-smoothed teacher,
    trained with label smoothing alone (the "uniform teacher") and on hard labels, beside
    each teacher's own accuracy. result: smoothing.run()'s dict."""
    teachers = _empty_or(result, "teachers")
    r = result or {}
    names = [f"teacher, {epsilon_label(t['label_smoothing'])}" for t in teachers]
    student = [t["student_acc"] for t in teachers]
    own = [t["teacher_acc"] for t in teachers]
    eps = f", ε = {r['uniform_epsilon']:g}" if r.get("uniform_epsilon") is not None else ""
    for key, name in (("uniform_teacher", f"uniform teacher, label smoothing alone{eps}"),
                      ("hard_labels", "hard labels")):
        if r.get(key) is not None:
            names.append(name)
            student.append(r[key])
            own.append(None)
    series = {"the student": student, "the teacher itself": own}
    fig = go.Figure()
    if names:
        for i, (label, ys) in enumerate(series.items()):
            fig.add_bar(x=[two_lines(n) for n in names], y=ys, name=label, texttemplate="%{y:.3f}",
                        textposition="outside",
                        **bar_style(i))
    low = accuracy_range(student + own, pad=0.03)
    _layout(fig, title, barmode="group", xaxis=dict(type="category"),
            yaxis=dict(title=f"test accuracy (axis from {low[0]:.2f})", range=low), margin=dict(l=60, r=20, t=50, b=60))
    if names:
        said = ", ".join(f"{plain(n)} {num(s, 3)}" for n, s in zip(names, student))
        said = f"the student's test accuracy: {said}"
    else:
        said = NOTHING_YET
    rows = [[n, s, t] for n, s, t in zip(names, student, own)]
    return describe(fig, f"{plain(title)}: {said}.", ["taught by", "student test accuracy", "teacher test accuracy"],
                    rows)


def transfer_bars(result, title="Which inputs the teacher is asked about"):
    """Per transfer set, the test accuracy of the student distilled on it and its top-1
    agreement with the teacher on the test set (grouped bars), the teacher's own accuracy
    a dashed grey line. result: transfer.run()'s dict."""
    sets = _empty_or(result, "sets")
    teacher = (result or {}).get("teacher_acc")
    names = [s["name"] for s in sets]
    series = {"student test accuracy": [s["student_acc"] for s in sets],
              "agreement with the teacher": [s["agreement"] for s in sets]}
    fig = go.Figure()
    if sets:
        for i, (label, ys) in enumerate(series.items()):
            fig.add_bar(x=[two_lines(n) for n in names], y=ys, name=label,
                        customdata=[text(s.get("about", "")) for s in sets],
                        hovertemplate="%{x}: %{y:.3f}<br>%{customdata}<extra></extra>", **bar_style(i))
        if teacher is not None:
            fig.add_scatter(x=[two_lines(n) for n in names], y=[teacher] * len(names), mode="lines",
                            name="the teacher's test accuracy", line=dict(color=TRUTH, dash="dash", width=2))
    _layout(fig, title, barmode="group", xaxis=dict(type="category", title="transfer set"),
            yaxis=dict(title="share of the test set", range=[0, 1.05]), margin=dict(l=60, r=20, t=50, b=60))
    if sets:
        said = "; ".join(f"{plain(s['name'])} ({s['inputs']:,} inputs): student {num(s['student_acc'], 3)}, agreement "
                         f"{num(s['agreement'], 3)}" for s in sets)
        if teacher is not None:
            said += f"; the teacher {num(teacher, 3)}"
    else:
        said = NOTHING_YET
    rows = [[plain(s["name"]), plain(s.get("about", "")), s["inputs"], s["student_acc"], s["agreement"]] for s in sets]
    if teacher is not None and sets:
        rows.append(["the teacher", "", None, teacher, None])
    return describe(fig, f"{plain(title)}: {said}.", ["transfer set", "what it is", "inputs", "student test accuracy",
                                                      "agreement with the teacher"], rows)


FIDELITY_PANELS = (("test_acc", "test accuracy"), ("agreement", "top-1 agreement with the teacher"),
                   ("kl_to_teacher", "KL(teacher ‖ student), test set"),
                   ("kl_to_teacher_train", "KL(teacher ‖ student), transfer set"))


def fidelity_figure(result, title="Fidelity: does the student match its teacher?"):
    """Per student (a row of fidelity.run()), its test accuracy beside its top-1 agreement
    with the teacher (left), and its KL(teacher ‖ student) on the test set beside the one
    on the inputs it was distilled on (right): generalization beside fidelity."""
    rows = _empty_or(result, "rows")
    names = [two_lines(r["name"]) for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["accuracy and agreement (higher: closer)",
                                                        "KL to the teacher (nats; lower: closer)"],
                        horizontal_spacing=0.12)
    if rows:
        for i, (key, label) in enumerate(FIDELITY_PANELS):
            fig.add_bar(x=names, y=[r.get(key) for r in rows], name=label, row=1, col=1 + i // 2,
                        hovertemplate=f"%{{x}}: {label} %{{y:.3f}}<extra></extra>", **bar_style(i))
    accuracies = [r[k] for r in rows for k in ("test_acc", "agreement")]
    low = accuracy_range(accuracies)
    fig.update_yaxes(title_text=f"share of the test set (axis from {low[0]:.2f})", range=low, row=1, col=1)
    fig.update_yaxes(title_text="nats", rangemode="tozero", row=1, col=2)
    _layout(fig, title, barmode="group", margin=dict(l=60, r=20, t=80, b=60))
    if rows:
        said = "; ".join(f"{plain(r['name'])}: test {num(r['test_acc'], 3)}, agreement {num(r['agreement'], 3)}, "
                         f"KL {num(r['kl_to_teacher'], 3)} (transfer set {num(r.get('kl_to_teacher_train'), 3)})"
                         for r in rows)
    else:
        said = NOTHING_YET
    table = [[plain(r["name"]), r.get("epochs"), r.get("inputs")] + [r.get(k) for k, _ in FIDELITY_PANELS]
             for r in rows]
    return describe(fig, f"{plain(title)}: {said}.", ["student", "epochs", "inputs"] +
                    [label for _, label in FIDELITY_PANELS], table)
