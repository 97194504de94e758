"""Pure figure functions: engine results in, plotly figures out.

Nothing here trains or touches a widget, so each figure can be tested without a browser
and reused by the notebooks and the live widgets alike."""
import html

import plotly.graph_objects as go
import torch

HARD = "#9aa5b1"
SOFT = "#1f77b4"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def text(s):
    """Text a user typed, made safe for a plotly label or title: plotly renders a few HTML
    tags inside text (an <img onerror=...> among them would run script), so <, > and &
    are escaped; plotly shows the entities as the characters themselves."""
    return html.escape(str(s), quote=False)


def _list(x):
    return x.detach().cpu().tolist() if isinstance(x, torch.Tensor) else list(x)


GRID = "#e5ecf6"
TRUTH = "#444444"


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
                           x=0.5, y=0.5, font=dict(color="#888"))
    return fig


def _empty(fig):
    """True for a figure with nothing to draw yet: no traces, or only lines without points."""
    return all(t.type == "scatter" and not len(t.x if t.x is not None else ()) for t in fig.data)


def soft_label_bars(probs, classes, hard_label=None, title="Soft labels"):
    """Bars of one example's soft labels over the classes, next to its one-hot hard
    label when `hard_label` (a class index) is given."""
    classes = [str(c) for c in classes]
    fig = go.Figure()
    if hard_label is not None:
        fig.add_bar(x=classes, y=[float(i == hard_label) for i in range(len(classes))], name="hard label",
                    marker_color=HARD)
    fig.add_bar(x=classes, y=_list(probs), name="soft label", marker_color=SOFT)
    return _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1], title="probability"),
                   xaxis=dict(title="class", type="category"))


def soft_labels_by_temperature(logits, classes, temperatures, title="One example at several temperatures"):
    """Grouped bars: softmax(logits / T) for each T, one colour per temperature."""
    logits = torch.as_tensor(logits, dtype=torch.float32)
    fig = go.Figure()
    for i, t in enumerate(temperatures):
        fig.add_bar(x=[str(c) for c in classes], y=_list(torch.softmax(logits / t, -1)), name=f"T = {t:g}",
                    marker_color=PALETTE[i % len(PALETTE)])
    return _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1], title="probability"),
                   xaxis=dict(title="class", type="category"))


def entropy_vs_temperature(temperatures, entropies, wrong_mass=None, max_entropy=None,
                           title="Softer labels as T rises"):
    """Entropy (nats) of the soft labels against T on a log axis; optionally the mass on
    the wrong classes (dark knowledge) on a second axis and log(C) as a ceiling."""
    t = _list(temperatures)
    fig = go.Figure()
    fig.add_scatter(x=t, y=_list(entropies), name="entropy (nats)", mode="lines+markers", line_color=SOFT)
    if max_entropy is not None:
        fig.add_scatter(x=[t[0], t[-1]], y=[max_entropy] * 2, name="uniform: log C", mode="lines",
                        line=dict(dash="dot", color=HARD))
    if wrong_mass is not None:
        fig.add_scatter(x=t, y=_list(wrong_mass), name="mass on wrong classes", mode="lines+markers",
                        line_color=PALETTE[1], yaxis="y2")
    return _layout(fig, title, xaxis=dict(type="log", title="temperature T"), yaxis=dict(title="entropy (nats)"),
                   yaxis2=dict(title="probability", overlaying="y", side="right", range=[0, 1], showgrid=False))


def dark_knowledge_heatmap(matrix, classes, title="Dark knowledge: mean soft label per true class"):
    """Class × class heatmap (rows: true class, columns: the teacher's soft label), with
    the diagonal hidden so the small off-diagonal mass is visible."""
    m = torch.as_tensor(matrix, dtype=torch.float32).clone()
    off = m.clone().fill_diagonal_(float("nan"))
    classes = [str(c) for c in classes]
    text = [[f"{v:.3f}" for v in row] for row in m.tolist()]
    fig = go.Figure(go.Heatmap(z=off.tolist(), x=classes, y=classes, text=text, hovertemplate=
                               "true %{y}, soft label for %{x}: %{text}<extra></extra>", colorscale="Blues",
                               colorbar=dict(title="p")))
    return _layout(fig, title, xaxis=dict(title="soft label for class", type="category"),
                   yaxis=dict(title="true class", type="category", autorange="reversed"))


AXIS_TITLES = {"val_acc": "validation accuracy", "train_acc": "training accuracy", "val_loss": "validation loss",
               "loss": "training loss", "kd": "KD term", "ce": "hard-label term", "cka": "linear CKA",
               "gap": "mean |student − teacher|", "epoch": "epoch", "queries": "teacher queries",
               "kl_to_truth": "KL to the truth (nats)", "rare_coverage": "rare-subject coverage",
               "fact_accuracy": "fact accuracy", "second_mode_coverage": "second answers kept",
               "perplexity": "perplexity", "generation": "generation", "variance": "variance",
               "tail_mass": "tail mass", "tail_coverage": "truth's tail still covered", "vanished": "vanished tokens",
               "entropy": "entropy (nats)", "test_acc": "test accuracy", "tail_recall": "recall on rare digits 7–9",
               "invented": "invented sentences", "distinct_ngrams": "distinct word pairs"}


def training_curves(histories, metric="val_acc", title=None, x="epoch"):
    """One line per run: `metric` of each history row against its `x` (the epoch, or
    e.g. the teacher queries spent). histories: {label: history}."""
    fig = go.Figure()
    for i, (label, history) in enumerate(histories.items()):
        fig.add_scatter(x=[row[x] for row in history], y=[row.get(metric) for row in history], name=label,
                        mode="lines+markers", line_color=PALETTE[i % len(PALETTE)])
    name = AXIS_TITLES.get(metric, metric)
    return _layout(fig, title or name, xaxis=dict(title=AXIS_TITLES.get(x, x)), yaxis=dict(title=name))


def loss_parts(histories, title="Loss terms"):
    """The KD term and the hard-label (cross-entropy) term of each run, drawn apart.
    histories: {label: history}; a run without a teacher has only the hard-label term."""
    fig = go.Figure()
    i = 0
    for label, history in histories.items():
        for key, term, dash in (("kd", "KD term (T² · KL)", "solid"), ("ce", "hard-label term (CE)", "dot")):
            if history and key in history[0]:
                fig.add_scatter(x=[row["epoch"] for row in history], y=[row[key] for row in history],
                                name=f"{label}: {term}", mode="lines+markers",
                                line=dict(color=PALETTE[i % len(PALETTE)], dash=dash))
        i += 1
    return _layout(fig, title, xaxis=dict(title="epoch"), yaxis=dict(title="loss", type="log"))


def per_class_accuracy(per_class, classes, title="Accuracy per class"):
    """Grouped bars of per-class accuracy. per_class: {label: tensor of C accuracies}."""
    fig = go.Figure()
    for i, (label, acc) in enumerate(per_class.items()):
        fig.add_bar(x=[str(c) for c in classes], y=_list(acc), name=label, marker_color=PALETTE[i % len(PALETTE)])
    return _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1.05], title="accuracy"),
                   xaxis=dict(title="true class", type="category"))


def comparison_table(rows, title="Comparison"):
    """A table with one row per model. rows: {label: {column: value}}; numbers shown to 3 places."""
    columns = list(dict.fromkeys(k for r in rows.values() for k in r))
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)
    cells = [list(rows)] + [[fmt(r.get(c, "")) for r in rows.values()] for c in columns]
    fig = go.Figure(go.Table(header=dict(values=["model"] + columns, fill_color="#e8eef5", align="left"),
                             cells=dict(values=cells, align="left")))
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40, b=10), height=110 + 32 * len(rows))
    return fig


def image(x, title=""):
    """A grey-scale picture of one image tensor (1, H, W) or (H, W)."""
    x = torch.as_tensor(x).detach().cpu().float()
    x = x[0] if x.dim() == 3 else x
    fig = go.Figure(go.Heatmap(z=x.tolist(), colorscale="Greys", showscale=False))
    fig.update_layout(title=title, width=220, height=240, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    return fig


CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"]


def feature_projections(panels, labels, classes, title="Features of a probe batch, projected to 2-D"):
    """Side-by-side scatter plots of 2-D projected features, one panel per model
    (panels: {title: n × 2 points}), each point coloured by its true class."""
    from plotly.subplots import make_subplots

    labels = _list(labels)
    fig = make_subplots(rows=1, cols=max(len(panels), 1), subplot_titles=list(panels))
    for col, points in enumerate(panels.values(), 1):
        points = _list(points)
        for c, name in enumerate(classes):
            pts = [p for p, y in zip(points, labels) if y == c]
            fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers", name=str(name),
                            legendgroup=str(name), showlegend=col == 1, row=1, col=col,
                            marker=dict(size=5, color=CLASS_COLOURS[c % len(CLASS_COLOURS)]))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return _layout(fig, title, legend=dict(orientation="v", x=1.02, y=1, title="class"),
                   margin=dict(l=20, r=20, t=90, b=20))


def relation_heatmaps(panels, title="Relations within a probe batch", zmax=None):
    """Side-by-side heatmaps of batch × batch relation matrices (panels: {title: matrix})
    on one colour scale."""
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
    return _layout(fig, title, margin=dict(l=20, r=20, t=90, b=20))


def curves_side_by_side(histories, metrics, x="queries", title=None, log_y=(), reference=None, titles=None):
    """One panel per metric, one line per run in each: `metric` against `x` (for the
    LLM lab: KL to the truth and rare coverage against teacher queries). `reference`
    ({metric: value}, for example the truth's) is drawn as a dashed grey line. `titles`
    ({metric: panel title}) names a metric where AXIS_TITLES' name is too vague, for
    example the collapse lab's "kl_to_truth", whose direction and support differ by
    setting (wb.collapse.KL_TO_TRUTH)."""
    from plotly.subplots import make_subplots

    titles = {**AXIS_TITLES, **(titles or {})}
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[titles.get(m, m) for m in metrics],
                        horizontal_spacing=0.12)
    for col, metric in enumerate(metrics, 1):
        for i, (label, history) in enumerate(histories.items()):
            fig.add_scatter(x=[row[x] for row in history], y=[row.get(metric) for row in history], name=label,
                            legendgroup=label, showlegend=col == 1, mode="lines+markers", row=1, col=col,
                            line_color=PALETTE[i % len(PALETTE)])
        fig.update_xaxes(title_text=AXIS_TITLES.get(x, x), row=1, col=col)
        if reference and reference.get(metric) is not None:
            fig.add_hline(y=reference[metric], line_dash="dash", line_color=TRUTH, row=1, col=col,
                          annotation_text="truth", annotation_position="bottom right")
        if metric in log_y:
            fig.update_yaxes(type="log", row=1, col=col)
    return _layout(fig, title, margin=dict(l=50, r=20, t=70, b=40))


def distribution_bars(distributions, categories, title="Distributions", xaxis="answer"):
    """Grouped bars of several distributions over the same categories.
    distributions: {label: {category: probability}}."""
    fig = go.Figure()
    for i, (label, dist) in enumerate(distributions.items()):
        fig.add_bar(x=list(categories), y=[dist.get(c, 0.0) for c in categories], name=label,
                    marker_color=PALETTE[i % len(PALETTE)])
    return _layout(fig, title, barmode="group", yaxis=dict(range=[0, 1.02], title="probability"),
                   xaxis=dict(title=xaxis, type="category"))


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
    fig = go.Figure(go.Bar(x=labels, y=_list(values), marker_color=SOFT))
    return _layout(fig, title, yaxis=dict(range=[0, 1.02], title="probability"),
                   xaxis=dict(title="next character", type="category"))


def two_answer_scatter(points, truth=(0.6, 0.4), title="Every 60/40 fact: where each student puts its mass"):
    """One point per two-answer fact and student: x the probability it gives the likelier
    answer, y the other. The truth is a star; points on the dotted line q1 + q2 = 1 give
    no mass to wrong answers. Mean-seeking students gather at the star, mode-seeking ones
    in the corners. points: {label: [(q1, q2), ...]}."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[1, 0], mode="lines", line=dict(dash="dot", color=HARD), name="q1 + q2 = 1")
    for i, (label, pts) in enumerate(points.items()):
        pts = [tuple(map(float, p)) for p in pts]
        fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers", name=label, opacity=0.75,
                        marker=dict(size=9, color=PALETTE[(i + 2) % len(PALETTE)]))
    fig.add_scatter(x=[truth[0]], y=[truth[1]], mode="markers", name="truth", marker=dict(symbol="star", size=18,
                                                                                         color="black"))
    return _layout(fig, title, xaxis=dict(title="probability of the likelier answer (truth 0.6)", range=[-0.03, 1.03]),
                   yaxis=dict(title="probability of the other (truth 0.4)", range=[-0.03, 1.03], scaleanchor="x"),
                   legend=dict(orientation="v", x=1.02, y=1))


def gaussian_fits(fits, truth, title="Each chain's Gaussian against the truth"):
    """Density curves of 1-D Gaussian fits over the truth's (dashed), the truth's tails
    shaded. fits: {label: (mean, variance)}; truth: {"mean", "variance", "low", "high"}."""
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
        fig.add_scatter(x=x.tolist(), y=y, name=label, mode="lines", line_color=PALETTE[i % len(PALETTE)])
    for x0, x1 in ((-4.5, truth["low"]), (truth["high"], 4.5)):
        fig.add_vrect(x0=x0, x1=x1, fillcolor="#d62728", opacity=0.07, line_width=0)
    fig.add_annotation(x=truth["high"] + 0.1, y=0.9 * min(top, 1.2), text="tails: 5% of the truth", showarrow=False,
                       xanchor="left", font=dict(size=11, color="#8a1c1c"))
    return _layout(fig, title, xaxis=dict(title="x", range=[-4.5, 4.5]),
                   yaxis=dict(title="density", range=[0, min(top, 1.2) * 1.05]))


def rank_probabilities(dists, truth, title="Probability by rank in the truth", xaxis="rank in the truth",
                       log_x=True):
    """Each distribution's probability of every item, items ordered by the truth's
    rank, on log axes: an item of probability 0 (vanished) leaves the plot.
    dists: {label: probabilities in the truth's order}; truth: the truth's."""
    ranks = list(range(1, len(truth) + 1))
    fig = go.Figure()
    fig.add_scatter(x=ranks, y=_list(truth), name="truth", mode="lines", line=dict(color=TRUTH, dash="dash"))
    small = len(truth) <= 100
    for i, (label, q) in enumerate(dists.items()):
        fig.add_scatter(x=ranks, y=[v if v > 0 else None for v in _list(q)], name=label,
                        mode="lines+markers" if small else "markers", marker=dict(size=5 if small else 3),
                        line_color=PALETTE[i % len(PALETTE)], marker_color=PALETTE[i % len(PALETTE)])
    return _layout(fig, title, xaxis=dict(title=xaxis, type="log" if log_x else "linear"),
                   yaxis=dict(title="probability", type="log"))


PAYOFF_STYLE = {"teacher": dict(color=TRUTH, symbol="star", size=16, text="middle left"),
                "hard labels": dict(color=HARD, symbol="circle", size=10, text="bottom right"),
                "distilled": dict(color=SOFT, symbol="diamond", size=11, text="top center")}
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
                            line=dict(color=style["color"], width=2), legendgroup=kind, showlegend=False,
                            hoverinfo="skip")
        fig.add_scatter(x=[x(p) for p in pts], y=[p["test_acc"] for p in pts], name=kind, legendgroup=kind,
                        mode="markers+text", text=["teacher" if kind == "teacher" else str(p["width"]) for p in pts],
                        textposition=[side[p["name"]] for p in pts] if crowded and kind != "teacher" else style["text"],
                        textfont=dict(size=11, color=style["color"]),
                        marker=dict(color=style["color"], symbol=style["symbol"], size=style["size"],
                                    line=dict(color="white", width=1)),
                        customdata=[p["name"] for p in pts], hovertemplate=hover)
    title = title or ("Accuracy against latency" if cost == "latency_s" else "Accuracy against size")
    return _layout(fig, title, xaxis=dict(type="log", title=PAYOFF_COSTS[cost].format(b=batch_size)),
                   yaxis=dict(title="test accuracy"), legend=dict(orientation="h", y=-0.25))
