"""Pure figure functions: engine results in, plotly figures out.

Nothing here trains or touches a widget, so each figure can be tested without a browser
and reused by the notebooks and the live widgets alike."""
import html
import itertools
import math
import numbers
import re

import numpy as np
import plotly.graph_objects as go
import torch

# Okabe & Ito's colour-blind-safe palette (2008), ordered so that the first series differ
# most, for every eye: blue and vermillion first (the two of best contrast on white), yellow
# (1.3:1 on white) last. Every series also gets a dash style, a marker symbol and a bar
# pattern (`line_style`, `bar_style`), so that no two series are told apart by colour alone.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "cross", "triangle-down", "star", "hexagon",
           "pentagon"]
PATTERNS = ["", "/", ".", "x", "\\", "+", "-", "|"]
OUTLINE = "#333333"  # around bars and markers: a light colour's edge still stands 3:1 off white
HARD = "#888888"  # one-hot hard labels: grey, 3.5:1 on white
SOFT = PALETTE[0]
SEQUENTIAL = "Cividis"  # heatmaps: lightness rises from one end to the other, so greys read it too


def line_style(i, mode="lines+markers"):
    """Scatter-trace settings of series i: its colour, dash style and marker symbol."""
    colour = PALETTE[i % len(PALETTE)]
    return dict(mode=mode, line=dict(color=colour, dash=DASHES[i % len(DASHES)]),
                marker=dict(color=colour, symbol=SYMBOLS[i % len(SYMBOLS)], line=dict(color=OUTLINE, width=1)))


def bar_style(i, colour=None):
    """Bar-trace settings of series i: its colour and fill pattern, outlined."""
    return dict(marker=dict(color=colour or PALETTE[i % len(PALETTE)], line=dict(color=OUTLINE, width=1),
                            pattern=dict(shape=PATTERNS[i % len(PATTERNS)], fgcolor=OUTLINE, size=6)))


def text(s):
    """Text a user typed, made safe for a plotly label or title: plotly renders a few HTML
    tags inside text (an <img onerror=...> among them would run script), so <, > and &
    are escaped; plotly shows the entities as the characters themselves."""
    return html.escape(str(s), quote=False)


def _list(x):
    return x.detach().cpu().tolist() if isinstance(x, torch.Tensor) else list(x)


GRID = "#e5ecf6"
TRUTH = "#444444"


def plain(s):
    """A title or label as plain text: plotly's <br> a space, other tags dropped, entities read."""
    s = re.sub(r"<br\s*/?>", " ", str(s or ""))
    return html.unescape(re.sub(r"<[^>]*>", "", s)).strip()


def value(v, digits=4):
    """A value for a table: a number to `digits` significant digits (None for None, NaN or
    infinity), text as it is."""
    if isinstance(v, torch.Tensor):
        v = v.item()
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        return float(f"{v:.{digits}g}") if math.isfinite(v) else None
    return str(v)


def num(v, digits=2):
    """A number for a sentence: a probability as 0.91, others to 3 significant digits."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "no value"
    v = float(v)
    if v.is_integer():
        return str(int(v))
    return f"{v:.{digits}f}" if 0.01 <= abs(v) <= 1 else f"{v:.3g}"


def describe(fig, summary, columns, rows):
    """Attach a figure's text to it (in fig.layout.meta): a one-sentence `summary` of what it
    shows now, with its numbers, and its data as a table (`columns` names, `rows` of plain
    values). `live`/`refresh` and `show` put them beside the figure. Returns fig."""
    fig.update_layout(meta=dict(kd_summary=str(summary), kd_columns=[str(c) for c in columns],
                                kd_rows=[[value(v) for v in row] for row in rows]))
    return fig


def summary(fig):
    """The one-sentence summary `describe` attached to `fig` ("" when none)."""
    meta = fig.layout.meta
    return meta.get("kd_summary", "") if isinstance(meta, dict) else ""


def table(fig):
    """(columns, rows) that `describe` attached to `fig` (([], []) when none)."""
    meta = fig.layout.meta
    if not isinstance(meta, dict):
        return [], []
    return list(meta.get("kd_columns", [])), [list(r) for r in meta.get("kd_rows", [])]


def title_of(fig):
    """The figure's title as plain text."""
    return plain(fig.layout.title.text) if fig.layout.title and fig.layout.title.text else ""


def table_html(fig):
    """The figure's data as an HTML <table>: a <caption> (its title), <th scope="col"> headers."""
    columns, rows = table(fig)
    esc = lambda v: "" if v is None else html.escape(str(v))
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    caption = esc(title_of(fig) or "Figure data")
    return (f'<table class="kd-data-table"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def details_html(fig):
    """The figure's table under a collapsed "Data as a table"."""
    return f"<details><summary>Data as a table</summary>{table_html(fig)}</details>"


def show(fig):
    """Display `fig` in a notebook with its summary and its data as a collapsed table (the
    text a screen reader reads; JupyterLab, Voila and nbconvert alike)."""
    from IPython.display import HTML, display

    display(fig._repr_mimebundle_(), raw=True)
    display(HTML(f'<div class="kd-figure-text"><p class="kd-figure-summary">{html.escape(summary(fig))}</p>'
                 f"{details_html(fig)}</div>"))


def _display_with_text(fig):
    """IPython's display of a plotly Figure: the figure, then its text when it has some."""
    from IPython.display import HTML, display

    display(fig._repr_mimebundle_(), raw=True)
    if summary(fig):
        display(HTML(f'<div class="kd-figure-text"><p class="kd-figure-summary">{html.escape(summary(fig))}</p>'
                     f"{details_html(fig)}</div>"))


def show_text_in_notebooks(shell=None):
    """Make every plotly Figure a notebook shows (a cell's last value, `display(fig)`) show its
    summary and its table below it, as `show` does: the lessons' figures get their text with no
    change to the notebooks. Done on import inside IPython; harmless outside it or twice."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = shell or get_ipython()
    if shell is not None:
        shell.display_formatter.ipython_display_formatter.for_type(go.Figure, _display_with_text)


show_text_in_notebooks()


NOTHING_YET = "nothing is drawn yet: press Run to draw this"


def _join(parts):
    return "; ".join(parts) if parts else ""


def _long_rows(series):
    """Rows (series, x, y) of {name: (xs, ys)}."""
    return [[name, x, y] for name, (xs, ys) in series.items() for x, y in zip(xs, ys)]


def _last_point(xs, ys):
    """(x, y) of the last point with a value, or None."""
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None and not (isinstance(y, float) and math.isnan(y))]
    return pts[-1] if pts else None


def _layout(fig, title, **kw):
    # A light style set directly: a named template costs ~8 ms per figure to validate,
    # too slow for a figure rebuilt on every slider move.
    kw.setdefault("legend", dict(orientation="h", y=-0.2))
    kw.setdefault("margin", dict(l=50, r=20, t=50, b=40))
    fig.update_layout(title=title, paper_bgcolor="white", plot_bgcolor="white", **kw)
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    if _empty(fig):
        # before a run: say so, rather than show plotly's made-up axes from -1 to 4
        fig.update_xaxes(showticklabels=False, zeroline=False)
        fig.update_yaxes(showticklabels=False, zeroline=False)
        fig.add_annotation(text="Press Run to draw this", showarrow=False, xref="paper", yref="paper",
                           x=0.5, y=0.5, font=dict(color="#595959"))
    return fig


def _empty(fig):
    """True for a figure with nothing to draw yet: no traces, or only lines without points."""
    return all(t.type == "scatter" and not len(t.x if t.x is not None else ()) for t in fig.data)


def soft_label_bars(probs, classes, hard_label=None, title="Soft labels"):
    """Bars of one example's soft labels over the classes, next to its one-hot hard
    label when `hard_label` (a class index) is given."""
    classes = [str(c) for c in classes]
    p = [float(v) for v in _list(probs)]
    hard = [float(i == hard_label) for i in range(len(classes))]
    fig = go.Figure()
    if hard_label is not None:
        fig.add_bar(x=classes, y=hard, name="hard label", **bar_style(1, HARD))
    fig.add_bar(x=classes, y=p, name="soft label", **bar_style(0, SOFT))
    _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1], title="probability"),
            xaxis=dict(title="class", type="category"))
    said = _top_mass(p, classes)
    if hard_label is not None:
        said += f" The hard label puts 1 on {plain(classes[hard_label])}."
    columns = ["class"] + (["hard label"] if hard_label is not None else []) + ["soft label"]
    rows = [[plain(c)] + ([int(h)] if hard_label is not None else []) + [v] for c, h, v in zip(classes, hard, p)]
    return describe(fig, f"{plain(title)}: {said}", columns, rows)


def _top_mass(p, classes, top=3):
    """"0.91 on 3, 0.05 on 5, 0.02 on 8; 0.04 on the other classes." for probabilities p."""
    order = sorted(range(len(p)), key=lambda i: -p[i])[:top]
    said = ", ".join(f"{num(p[i])} on {plain(classes[i])}" for i in order)
    rest = len(p) - len(order)
    if rest:
        other = "class" if rest == 1 else f"{rest} classes"
        said += f"; {num(max(0.0, 1 - sum(p[i] for i in order)))} on the other {other}"
    return said + "."


def soft_labels_by_temperature(logits, classes, temperatures, title="One example at several temperatures"):
    """Grouped bars: softmax(logits / T) for each T, one colour and pattern per temperature."""
    logits = torch.as_tensor(logits, dtype=torch.float32)
    classes = [str(c) for c in classes]
    fig = go.Figure()
    probs = {}
    for i, t in enumerate(temperatures):
        probs[t] = [float(v) for v in _list(torch.softmax(logits / t, -1))]
        fig.add_bar(x=classes, y=probs[t], name=f"T = {t:g}", **bar_style(i))
    _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1], title="probability"),
            xaxis=dict(title="class", type="category"))
    top = int(logits.argmax()) if len(logits) else 0
    said = ", ".join(f"{num(p[top])} at T = {t:g}" for t, p in probs.items())
    rows = [[plain(c)] + [p[k] for p in probs.values()] for k, c in enumerate(classes)]
    return describe(fig, f"{plain(title)}: the top class {plain(classes[top]) if classes else ''} gets {said}.",
                    ["class"] + [f"T = {t:g}" for t in probs], rows)


def entropy_vs_temperature(temperatures, entropies, wrong_mass=None, max_entropy=None,
                           title="Softer labels as T rises"):
    """Entropy (nats) of the soft labels against T on a log axis; optionally the mass on
    the wrong classes (dark knowledge) on a second axis and log(C) as a ceiling."""
    t, h = _list(temperatures), [float(v) for v in _list(entropies)]
    fig = go.Figure()
    fig.add_scatter(x=t, y=h, name="entropy (nats)", **line_style(0))
    if max_entropy is not None:
        fig.add_scatter(x=[t[0], t[-1]], y=[max_entropy] * 2, name="uniform: log C", mode="lines",
                        line=dict(dash="dot", color=HARD))
    wrong = [float(v) for v in _list(wrong_mass)] if wrong_mass is not None else None
    if wrong is not None:
        fig.add_scatter(x=t, y=wrong, name="mass on wrong classes", yaxis="y2", **line_style(1))
    _layout(fig, title, xaxis=dict(type="log", title="temperature T"), yaxis=dict(title="entropy (nats)"),
            yaxis2=dict(title="probability", overlaying="y", side="right", range=[0, 1], showgrid=False))
    said = f"the entropy goes from {num(h[0])} nats at T = {t[0]:g} to {num(h[-1])} at T = {t[-1]:g}" if t else ""
    if max_entropy is not None:
        said += f" (uniform labels: log C = {num(max_entropy)})"
    if wrong is not None and t:
        said += f"; the mass on the wrong classes from {num(wrong[0])} to {num(wrong[-1])}"
    columns = (["temperature T", "entropy (nats)"] + (["mass on wrong classes"] if wrong is not None else []) +
               (["uniform: log C"] if max_entropy is not None else []))
    rows = [[a, b] + ([wrong[k]] if wrong is not None else []) + ([max_entropy] if max_entropy is not None else [])
            for k, (a, b) in enumerate(zip(t, h))]
    return describe(fig, f"{plain(title)}: {said if t else NOTHING_YET}.", columns, rows)


def dark_knowledge_heatmap(matrix, classes, title="Dark knowledge: mean soft label per true class"):
    """Class × class heatmap (rows: true class, columns: the teacher's soft label), with
    the diagonal hidden so the small off-diagonal mass is visible."""
    m = torch.as_tensor(matrix, dtype=torch.float32).clone()
    off = m.clone().fill_diagonal_(float("nan"))
    classes = [str(c) for c in classes]
    text = [[f"{v:.3f}" for v in row] for row in m.tolist()]
    fig = go.Figure(go.Heatmap(z=off.tolist(), x=classes, y=classes, text=text, hovertemplate=
                               "true %{y}, soft label for %{x}: %{text}<extra></extra>", colorscale=SEQUENTIAL,
                               colorbar=dict(title="p")))
    _layout(fig, title, xaxis=dict(title="soft label for class", type="category"),
            yaxis=dict(title="true class", type="category", autorange="reversed"))
    pairs = sorted(((v, i, j) for i, row in enumerate(off.tolist()) for j, v in enumerate(row) if v == v),
                   reverse=True)[:3]
    said = ", ".join(f"true {plain(classes[i])} puts {num(v, 3)} on {plain(classes[j])}" for v, i, j in pairs)
    diagonal = [v for v in m.diagonal().tolist() if v == v]
    if diagonal:
        said += f"; on its own class {num(sum(diagonal) / len(diagonal), 3)} on average (not drawn)"
    rows = [[plain(c)] + row for c, row in zip(classes, m.tolist())]
    return describe(fig, f"{plain(title)}: the largest off-diagonal soft labels: {said}.",
                    ["true class"] + [f"soft label for {plain(c)}" for c in classes], rows)


AXIS_TITLES = {"val_acc": "validation accuracy", "train_acc": "training accuracy", "val_loss": "validation loss",
               "loss": "training loss", "kd": "KD term", "ce": "hard-label term", "cka": "linear CKA",
               "gap": "mean |student − teacher|", "epoch": "epoch", "queries": "teacher queries",
               "kl_to_truth": "KL to the truth (nats)", "rare_coverage": "rare-subject coverage",
               "fact_accuracy": "fact accuracy", "second_mode_coverage": "second answers kept",
               "perplexity": "perplexity", "generation": "generation", "variance": "variance",
               "tail_mass": "tail mass", "tail_coverage": "truth's tail still covered", "vanished": "vanished tokens",
               "entropy": "entropy (nats)", "test_acc": "test accuracy", "tail_recall": "recall on rare digits 7–9",
               "invented": "invented sentences", "distinct_ngrams": "distinct word pairs"}


def _course(name, xs, ys, x_name):
    """"distilled goes from 0.41 at epoch 1 to 0.95 at epoch 30" for one line."""
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None and y == y]
    if not pts:
        return f"{plain(name)} has no value yet"
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    if len(pts) == 1:
        return f"{plain(name)} is at {num(y0)} at {x_name} {num(x0)}"
    return f"{plain(name)} goes from {num(y0)} at {x_name} {num(x0)} to {num(y1)} at {x_name} {num(x1)}"


def _describe_lines(fig, title, series, x_name, y_name):
    """Attach the text of a line chart: each line's first and last value, and every point
    as a row (series, x, y). series: {name: (xs, ys)}."""
    said = _join([_course(name, xs, ys, x_name) for name, (xs, ys) in series.items()]) or NOTHING_YET
    return describe(fig, f"{plain(title)}: {said}.", ["series", x_name, y_name],
                    [[plain(name), x, y] for name, (xs, ys) in series.items() for x, y in zip(xs, ys)])


def training_curves(histories, metric="val_acc", title=None, x="epoch"):
    """One line per run: `metric` of each history row against its `x` (the epoch, or
    e.g. the teacher queries spent). histories: {label: history}."""
    fig = go.Figure()
    series = {}
    for i, (label, history) in enumerate(histories.items()):
        series[label] = ([row[x] for row in history], [row.get(metric) for row in history])
        fig.add_scatter(x=series[label][0], y=series[label][1], name=label, **line_style(i))
    name = AXIS_TITLES.get(metric, metric)
    _layout(fig, title or name, xaxis=dict(title=AXIS_TITLES.get(x, x)), yaxis=dict(title=name))
    return _describe_lines(fig, title or name, series, AXIS_TITLES.get(x, x), name)


def loss_parts(histories, title="Loss terms", kd_term="KD term (T² · KL)"):
    """The KD term and the hard-label (cross-entropy) term of each run, drawn apart: a
    colour and marker per run, a dash style per term. histories: {label: history}; a run
    without a teacher has only the hard-label term. kd_term names the KD term (a DKD or
    logit-standardized run's is not Hinton's T² · KL)."""
    fig = go.Figure()
    series = {}
    for i, (label, history) in enumerate(histories.items()):
        for k, (key, term) in enumerate((("kd", kd_term), ("ce", "hard-label term (CE)"))):
            if history and key in history[0]:
                name = f"{label}: {term}"
                series[name] = ([row["epoch"] for row in history], [row[key] for row in history])
                style = line_style(i)
                style["line"]["dash"] = DASHES[k * 2]  # solid for KD, dotted for CE
                style["marker"]["symbol"] = SYMBOLS[(2 * i + k) % len(SYMBOLS)]
                fig.add_scatter(x=series[name][0], y=series[name][1], name=name, **style)
    _layout(fig, title, xaxis=dict(title="epoch"), yaxis=dict(title="loss", type="log"))
    return _describe_lines(fig, title, series, "epoch", "loss")


def _describe_bars(fig, title, x_name, categories, series, said):
    """Attach the text of grouped bars: one row per category, one column per series."""
    rows = [[plain(c)] + [ys[k] for ys in series.values()] for k, c in enumerate(categories)]
    return describe(fig, f"{plain(title)}: {said}", [x_name] + [plain(s) for s in series], rows)


def per_class_accuracy(per_class, classes, title="Accuracy per class"):
    """Grouped bars of per-class accuracy. per_class: {label: tensor of C accuracies}."""
    fig = go.Figure()
    classes = [str(c) for c in classes]
    series = {label: [float(v) for v in _list(acc)] for label, acc in per_class.items()}
    for i, (label, acc) in enumerate(series.items()):
        fig.add_bar(x=classes, y=acc, name=label, **bar_style(i))
    _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1.05], title="accuracy"),
            xaxis=dict(title="true class", type="category"))
    parts = []
    for label, acc in series.items():
        low = min(range(len(acc)), key=lambda k: acc[k]) if acc else None
        if low is not None:
            parts.append(f"{plain(label)} averages {num(sum(acc) / len(acc))}, lowest {num(acc[low])} on "
                         f"{plain(classes[low])}")
    return _describe_bars(fig, title, "true class", classes, series, (_join(parts) or NOTHING_YET) + ".")


def comparison_table(rows, title="Comparison"):
    """A table with one row per model. rows: {label: {column: value}}; numbers shown to 3 places."""
    columns = list(dict.fromkeys(k for r in rows.values() for k in r))
    fmt = lambda v: f"{v:.3f}" if isinstance(v, (float, np.floating)) else str(v)  # NumPy floats too
    cells = [list(rows)] + [[fmt(r.get(c, "")) for r in rows.values()] for c in columns]
    fig = go.Figure(go.Table(header=dict(values=["model"] + columns, fill_color="#e8eef5", align="left"),
                             cells=dict(values=cells, align="left"),
                             columnwidth=[1.8] + [1] * len(columns)))  # the models' names on one line
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40, b=10), height=110 + 32 * len(rows))
    first = columns[0] if columns else None
    said = ", ".join(f"{plain(label)} {num(r[first], 3) if isinstance(r.get(first), float) else r.get(first, '')}"
                     for label, r in rows.items())
    said = f"{len(rows)} models; {first}: {said}." if rows else "no models yet."
    return describe(fig, f"{plain(title)}: {said}", ["model"] + columns,
                    [[label] + [r.get(c, "") for c in columns] for label, r in rows.items()])


def image(x, title=""):
    """A grey-scale picture of one image tensor (1, H, W) or (H, W); its table lists the
    pixel values of an image up to 16 × 16."""
    x = torch.as_tensor(x).detach().cpu().float()
    x = x[0] if x.dim() == 3 else x
    fig = go.Figure(go.Heatmap(z=x.tolist(), colorscale="Greys", showscale=False))
    fig.update_layout(title=title, width=220, height=240, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    h, w = x.shape
    said = f"{plain(title) + ': ' if plain(title) else ''}a grey-scale image of {h} × {w} pixels, values " \
           f"{num(x.min().item())} to {num(x.max().item())} (darker is higher)."
    small = h <= 16 and w <= 16
    return describe(fig, said, ["row"] + [f"column {j}" for j in range(w)] if small else [],
                    [[i] + row for i, row in enumerate(x.tolist())] if small else [])


def class_style(c):
    """Marker settings of class c in a scatter of points: a colour and a symbol of its own."""
    return dict(color=PALETTE[c % len(PALETTE)], symbol=SYMBOLS[c % len(SYMBOLS)], line=dict(color=OUTLINE, width=0.5))


def feature_projections(panels, labels, classes, title="Features of a probe batch, projected to 2-D"):
    """Side-by-side scatter plots of 2-D projected features, one panel per model
    (panels: {title: n × 2 points}), each point coloured and shaped by its true class. The
    table gives each class's centre and spread in each panel."""
    from plotly.subplots import make_subplots

    labels = _list(labels)
    fig = make_subplots(rows=1, cols=max(len(panels), 1), subplot_titles=list(panels))
    rows, parts = [], []
    for col, (panel, points) in enumerate(panels.items(), 1):
        points = _list(points)
        centres, spreads = [], []
        for c, name in enumerate(classes):
            pts = [p for p, y in zip(points, labels) if y == c]
            fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers", name=str(name),
                            legendgroup=str(name), showlegend=col == 1, row=1, col=col,
                            marker=dict(size=6, **class_style(c)))
            if pts:
                cx, cy = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
                spread = sum(math.dist(p, (cx, cy)) for p in pts) / len(pts)
                centres.append((cx, cy))
                spreads.append(spread)
                rows.append([plain(panel), str(name), len(pts), cx, cy, spread])
        apart = [math.dist(a, b) for a, b in itertools.combinations(centres, 2)]
        if apart and spreads and sum(spreads) > 0:
            ratio = (sum(apart) / len(apart)) / (sum(spreads) / len(spreads))
            parts.append(f"{plain(panel)}: class centres {num(ratio)} times their spread apart")
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    _layout(fig, title, legend=dict(orientation="v", x=1.02, y=1, title="class"),
            margin=dict(l=20, r=20, t=90, b=20))
    said = (f"{len(labels)} points of {len(classes)} classes; " + _join(parts)) if parts else NOTHING_YET
    return describe(fig, f"{plain(title)}: {said}.",
                    ["panel", "class", "points", "centre x", "centre y", "mean distance to centre"], rows)


def relation_heatmaps(panels, title="Relations within a probe batch", zmax=None):
    """Side-by-side heatmaps of batch × batch relation matrices (panels: {title: matrix})
    on one colour scale. The text gives each panel's range and its correlation with the
    first panel (the teacher's), not every entry of the matrices."""
    from plotly.subplots import make_subplots

    mats = [torch.as_tensor(m, dtype=torch.float32) for m in panels.values()]
    zmax = zmax if zmax is not None else max((m.max().item() for m in mats), default=1.0)
    zmin = min((m.min().item() for m in mats), default=0.0)
    fig = make_subplots(rows=1, cols=max(len(panels), 1), subplot_titles=list(panels), horizontal_spacing=0.04)
    for col, m in enumerate(mats, 1):
        fig.add_heatmap(z=m.tolist(), zmin=zmin, zmax=zmax, colorscale="Viridis", showscale=col == len(mats),
                        row=1, col=col)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    _layout(fig, title, margin=dict(l=20, r=20, t=90, b=20))
    names = [plain(n) for n in panels]
    rows = [[n, f"{m.shape[0]} × {m.shape[-1]}", m.min().item(), m.mean().item(), m.max().item(),
             _correlation(mats[0], m)] for n, m in zip(names, mats)]
    said = ", ".join(f"{r[0]} {num(r[5])}" for r in rows[1:])
    said = (f"{len(mats)} panels of {rows[0][1]}; correlation with {names[0]}: {said}" if len(mats) > 1 else
            f"one panel of {rows[0][1]}, values {num(rows[0][2])} to {num(rows[0][4])}") if mats else NOTHING_YET
    return describe(fig, f"{plain(title)}: {said}.",
                    ["panel", "size", "smallest", "mean", "largest", f"correlation with {names[0] if names else ''}"],
                    rows)


def _correlation(a, b):
    """Pearson correlation of the entries of two matrices of one shape (None otherwise)."""
    if a.shape != b.shape or a.numel() < 2:
        return None
    a, b = a.flatten().double(), b.flatten().double()
    a, b = a - a.mean(), b - b.mean()
    norm = (a.norm() * b.norm()).item()
    return (a @ b).item() / norm if norm > 0 else None


def curves_side_by_side(histories, metrics, x="queries", title=None, log_y=(), reference=None, titles=None):
    """One panel per metric, one line per run in each: `metric` against `x` (for the
    LLM lab: KL to the truth and rare coverage against teacher queries). `reference`
    ({metric: value}, for example the truth's) is drawn as a dashed grey line. `titles`
    ({metric: panel title}) names a metric where AXIS_TITLES' name is too vague, for
    example the collapse lab's "kl_to_truth", whose direction and support differ by
    setting (wb.collapse.KL_TO_TRUTH)."""
    from plotly.subplots import make_subplots

    titles = {**AXIS_TITLES, **(titles or {})}
    x_name = AXIS_TITLES.get(x, x)
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[titles.get(m, m) for m in metrics],
                        horizontal_spacing=0.12)
    parts, rows = [], []
    for col, metric in enumerate(metrics, 1):
        courses = []
        for i, (label, history) in enumerate(histories.items()):
            xs, ys = [row[x] for row in history], [row.get(metric) for row in history]
            fig.add_scatter(x=xs, y=ys, name=label, legendgroup=label, showlegend=col == 1, row=1, col=col,
                            **line_style(i))
            courses.append(_course(label, xs, ys, x_name))
            rows += [[plain(label), plain(titles.get(metric, metric)), a, b] for a, b in zip(xs, ys)]
        fig.update_xaxes(title_text=x_name, row=1, col=col)
        truth = ""
        if reference and reference.get(metric) is not None:
            fig.add_hline(y=reference[metric], line_dash="dash", line_color=TRUTH, row=1, col=col,
                          annotation_text="truth", annotation_position="bottom right")
            truth = f" (truth {num(reference[metric])})"
        if metric in log_y:
            fig.update_yaxes(type="log", row=1, col=col)
        if courses:
            parts.append(f"{plain(titles.get(metric, metric))}{truth}: " + ", ".join(courses))
    _layout(fig, title, margin=dict(l=50, r=20, t=70, b=40))
    said = _join(parts) if histories else NOTHING_YET
    return describe(fig, f"{plain(title) + ': ' if title else ''}{said}.", ["series", "quantity", x_name, "value"],
                    rows)


def distribution_bars(distributions, categories, title="Distributions", xaxis="answer"):
    """Grouped bars of several distributions over the same categories.
    distributions: {label: {category: probability}}."""
    fig = go.Figure()
    categories = list(categories)
    series = {label: [float(dist.get(c, 0.0)) for c in categories] for label, dist in distributions.items()}
    for i, (label, ys) in enumerate(series.items()):
        fig.add_bar(x=categories, y=ys, name=label, **bar_style(i))
    _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1.02], title="probability"),
            xaxis=dict(title=xaxis, type="category"))
    parts = []
    for label, ys in series.items():
        order = sorted(range(len(ys)), key=lambda k: -ys[k])[:2]
        parts.append(f"{plain(label)} " + ", ".join(f"{num(ys[k])} on {plain(categories[k])}" for k in order))
    return _describe_bars(fig, title, plain(xaxis), categories, series, (_join(parts) or NOTHING_YET) + ".")


def token_label(ch):
    """A printable label for one character: space (␣) and newline (⏎) made visible."""
    return {" ": "␣", "\n": "⏎"}.get(ch, ch)


def next_token_bars(probs, chars, top=15, title="Next-token distribution"):
    """Bars of the `top` most likely next tokens. probs: (vocab,) with id 0 the padding;
    chars: the tokenizer's characters (id i + 1 is chars[i])."""
    p = torch.as_tensor(probs, dtype=torch.float32).clone()
    p[0] = 0
    values, index = p.topk(min(top, len(p) - 1))
    labels = [token_label(chars[i - 1]) for i in index.tolist()]
    ys = [float(v) for v in _list(values)]
    fig = go.Figure(go.Bar(x=labels, y=ys, **bar_style(0, SOFT)))
    _layout(fig, title, yaxis=dict(range=[0, 1.02], title="probability"),
            xaxis=dict(title="next character", type="category"))
    said = (", ".join(f"{num(v)} on {plain(c)}" for v, c in list(zip(ys, labels))[:3]) +
            f"; the {len(ys)} likeliest characters hold {num(sum(ys))} in all.") if ys else NOTHING_YET + "."
    return _describe_bars(fig, title, "next character", labels, {"probability": ys}, said)


def two_answer_scatter(points, truth=(0.6, 0.4), title="Every 60/40 fact: where each student puts its mass"):
    """One point per two-answer fact and student: x the probability it gives the likelier
    answer, y the other. The truth is a star; points on the dotted line q1 + q2 = 1 give
    no mass to wrong answers. Mean-seeking students gather at the star, mode-seeking ones
    in the corners. points: {label: [(q1, q2), ...]}."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[1, 0], mode="lines", line=dict(dash="dot", color=HARD), name="q1 + q2 = 1")
    rows, parts = [], []
    for i, (label, pts) in enumerate(points.items()):
        pts = [tuple(map(float, p)) for p in pts]
        style = line_style(i + 1, mode="markers")
        style["marker"].update(size=9)
        fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], name=label, opacity=0.75, **style)
        rows += [[plain(label), k + 1, q1, q2] for k, (q1, q2) in enumerate(pts)]
        if pts:
            m1, m2 = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
            parts.append(f"{plain(label)} puts {num(m1)} and {num(m2)} on average over {len(pts)} facts")
    fig.add_scatter(x=[truth[0]], y=[truth[1]], mode="markers", name="truth", marker=dict(symbol="star", size=18,
                                                                                         color="black"))
    _layout(fig, title, xaxis=dict(title="probability of the likelier answer (truth 0.6)", range=[-0.03, 1.03]),
            yaxis=dict(title="probability of the other (truth 0.4)", range=[-0.03, 1.03], scaleanchor="x"),
            legend=dict(orientation="v", x=1.02, y=1))
    said = f"the truth is {num(truth[0])} and {num(truth[1])}; " + (_join(parts) or "no students yet")
    rows.append(["truth", "", float(truth[0]), float(truth[1])])
    return describe(fig, f"{plain(title)}: {said}.", ["student", "fact", "likelier answer", "other answer"], rows)


FIT_DASHES = [d for d in DASHES if d != "dash"]


def gaussian_fits(fits, truth, title="Each chain's Gaussian against the truth"):
    """Density curves of 1-D Gaussian fits over the truth's (dashed), the truth's tails
    shaded. fits: {label: (mean, variance)}; truth: {"mean", "variance", "low", "high"}.
    The table gives each Gaussian's mean and variance, from which its curve is drawn."""
    x = torch.linspace(-4.5, 4.5, 181, dtype=torch.float64)

    def density(mean, var):
        return (torch.exp(-(x - mean) ** 2 / (2 * var)) / (2 * torch.pi * var) ** 0.5).tolist()
    fig = go.Figure()
    fig.add_scatter(x=x.tolist(), y=density(truth["mean"], truth["variance"]), name="truth", mode="lines",
                    line=dict(color=TRUTH, dash="dash"))
    top = 0.45
    for i, (label, (mean, var)) in enumerate(fits.items()):
        y = density(mean, var)
        top = max(top, max(y))
        dash = FIT_DASHES[i % len(FIT_DASHES)]  # never the truth's dash
        fig.add_scatter(x=x.tolist(), y=y, name=label, mode="lines", line=dict(color=PALETTE[i % len(PALETTE)],
                                                                               dash=dash))
    for x0, x1 in ((-4.5, truth["low"]), (truth["high"], 4.5)):
        fig.add_vrect(x0=x0, x1=x1, fillcolor=PALETTE[1], opacity=0.07, line_width=0)
    fig.add_annotation(x=truth["high"] + 0.1, y=0.9 * min(top, 1.2), text="tails: 5% of the truth", showarrow=False,
                       xanchor="left", font=dict(size=11, color="#8a1c1c"))
    _layout(fig, title, xaxis=dict(title="x", range=[-4.5, 4.5]),
            yaxis=dict(title="density", range=[0, min(top, 1.2) * 1.05]))
    said = ", ".join(f"{plain(label)} mean {num(m)}, variance {num(v)}" for label, (m, v) in fits.items())
    said = f"the truth has mean {num(truth['mean'])}, variance {num(truth['variance'])}; " + (said or "no fits yet")
    rows = [["truth", truth["mean"], truth["variance"]]] + [[plain(k), m, v] for k, (m, v) in fits.items()]
    return describe(fig, f"{plain(title)}: {said}.", ["distribution", "mean", "variance"], rows)


def rank_probabilities(dists, truth, title="Probability by rank in the truth", xaxis="rank in the truth",
                       log_x=True):
    """Each distribution's probability of every item, items ordered by the truth's
    rank, on log axes: an item of probability 0 (vanished) leaves the plot.
    dists: {label: probabilities in the truth's order}; truth: the truth's. The table lists
    every rank up to 100 items, and ranks 1, 2, 5, 10, 20, 50, ... beyond."""
    ranks = list(range(1, len(truth) + 1))
    fig = go.Figure()
    truth = [float(v) for v in _list(truth)]
    fig.add_scatter(x=ranks, y=truth, name="truth", mode="lines", line=dict(color=TRUTH, dash="dash"))
    small = len(truth) <= 100
    series = {}
    for i, (label, q) in enumerate(dists.items()):
        series[label] = [float(v) for v in _list(q)]
        style = line_style(i, mode="lines+markers" if small else "markers")
        style["marker"]["size"] = 5 if small else 4
        fig.add_scatter(x=ranks, y=[v if v > 0 else None for v in series[label]], name=label, **style)
    _layout(fig, title, xaxis=dict(title=xaxis, type="log" if log_x else "linear"),
            yaxis=dict(title="probability", type="log"))
    shown = ranks if small else [r for r in ranks if str(r)[0] in "125" and set(str(r)[1:]) <= {"0"}] + [ranks[-1]]
    shown = sorted(set(shown))
    rows = [[r, truth[r - 1]] + [q[r - 1] for q in series.values()] for r in shown]
    parts = [f"{plain(k)} gives {num(q[0])} to the first and nothing to {sum(v <= 0 for v in q)} (vanished)"
             for k, q in series.items()]
    said = f"{len(truth)} items; " + (_join(parts) or "no distributions yet")
    return describe(fig, f"{plain(title)}: {said}.", [plain(xaxis), "truth"] + [plain(k) for k in series], rows)


# each kind: a colour, a marker symbol, a dash style for its front, and a text colour
# of 4.5:1 or more on white for its labels
PAYOFF_STYLE = {"teacher": dict(color=TRUTH, symbol="star", size=16, text="middle left", dash="solid", ink=TRUTH),
                "hard labels": dict(color=HARD, symbol="circle", size=10, text="bottom right", dash="dot",
                                    ink="#595959"),
                "distilled": dict(color=SOFT, symbol="diamond", size=11, text="top center", dash="solid",
                                  ink=SOFT)}
PAYOFF_COSTS = {"latency_s": "latency at batch size {b} (µs, log scale)", "parameters": "parameters (log scale)"}


def payoff_scatter(points, cost="latency_s", batch_size=1, title=None):
    """Test accuracy against a cost on a log axis, one marker per model (points: dicts as
    `wb.payoff.measure` returns them): the teacher, and the hard-label and distilled students,
    each student labelled with its width. Each kind's Pareto front (the best accuracy at
    that cost or less, `wb.payoff.front`) is a step line, so a front above and to the left
    of another gives more accuracy for less. cost: "latency_s" (µs at `batch_size`) or
    "parameters"."""
    from workbench.payoff import front

    if cost not in PAYOFF_COSTS:
        raise ValueError(f"cost must be one of {list(PAYOFF_COSTS)}, got {cost!r}")
    x = (lambda p: p["latency_s"][batch_size] * 1e6) if cost == "latency_s" else (lambda p: p["parameters"])
    unit = " µs" if cost == "latency_s" else " parameters"
    hover = f"%{{customdata}}<br>test accuracy %{{y:.3f}}<br>%{{x:,.0f}}{unit}<extra></extra>"
    # Students of about one cost (latency at batch size 1) sit in one column: their labels
    # alternate sides in order of accuracy, so that neighbours do not print over each other.
    students = sorted((p for p in points if p["kind"] != "teacher"), key=lambda p: p["test_acc"])
    crowded = len(students) > 2 and max(map(x, students)) < 2 * min(map(x, students))
    side = {p["name"]: ("middle right" if i % 2 else "middle left") for i, p in enumerate(students)}
    fig = go.Figure()
    for kind, style in PAYOFF_STYLE.items():
        pts = sorted((p for p in points if p["kind"] == kind), key=lambda p: (p["width"] or 0))
        if not pts:
            continue
        if kind != "teacher":
            best = sorted((p for p in pts if p["name"] in front(pts, cost, batch_size)), key=x)
            fig.add_scatter(x=[x(p) for p in best], y=[p["test_acc"] for p in best], mode="lines", line_shape="hv",
                            line=dict(color=style["color"], width=2, dash=style["dash"]), legendgroup=kind,
                            showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=[x(p) for p in pts], y=[p["test_acc"] for p in pts], name=kind, legendgroup=kind,
                        mode="markers+text", text=["teacher" if kind == "teacher" else str(p["width"]) for p in pts],
                        textposition=[side[p["name"]] for p in pts] if crowded and kind != "teacher" else style["text"],
                        textfont=dict(size=11, color=style["ink"]),
                        marker=dict(color=style["color"], symbol=style["symbol"], size=style["size"],
                                    line=dict(color=OUTLINE, width=1)),
                        customdata=[p["name"] for p in pts], hovertemplate=hover)
    title = title or ("Accuracy against latency" if cost == "latency_s" else "Accuracy against size")
    axis = PAYOFF_COSTS[cost].format(b=batch_size)
    _layout(fig, title, xaxis=dict(type="log", title=axis), yaxis=dict(title="test accuracy"),
            legend=dict(orientation="h", y=-0.25))
    parts = []
    for kind in PAYOFF_STYLE:
        pts = [p for p in points if p["kind"] == kind]
        if pts:
            best = max(pts, key=lambda p: p["test_acc"])
            parts.append(f"{best['name']} {num(best['test_acc'], 3)} at {x(best):,.0f}{unit}")
    rows = [[p["name"], p["kind"], p["width"], x(p), p["test_acc"]] for p in points]
    said = f"the best test accuracy of each kind: {_join(parts)}." if parts else NOTHING_YET + "."
    return describe(fig, f"{plain(title)}: {said}", ["model", "kind", "width", plain(axis), "test accuracy"], rows)
