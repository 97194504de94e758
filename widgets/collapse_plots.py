"""Pure figure functions for the collapse lessons: numbers in, a plotly figure (or its
one-line summary) out. Notebook 06 draws the Gaussian chain's mean and median variance
across many chains with them.

    stats = {"maximum likelihood": wb.collapse.across_chains(ml_chains, "variance"),
             "unbiased": wb.collapse.across_chains(unbiased_chains, "variance")}
    mean_and_median(stats, theory)        # two panels: the mean, the median (log axis)
    mean_and_median_summary(stats)        # the same in one sentence, for a screen reader"""
import math
from plotly.subplots import make_subplots

from .plots import DASHES, PALETTE, SYMBOLS, TRUTH, _layout, describe, plain, text


def mean_and_median(stats, theory=None, title="The fitted variance across chains", truth=1.0):
    """Two panels on a log axis: the mean over chains of a per-generation quantity (left)
    and its median (right), one solid line per run. stats: {label: rows of
    workbench.collapse.across_chains ("generation", "mean", "median")}. theory: optional
    {label: {"mean": [...], "median": [...]}}, one value per generation, drawn dashed in
    the run's colour (for the Gaussian: gaussian.expected_variance and typical_variance).
    `truth` (None for none) is drawn as a grey dotted line in both panels."""
    if not stats:
        raise ValueError("stats must hold at least one run ({label: rows of across_chains}), got none")
    fig = make_subplots(rows=1, cols=2, subplot_titles=["mean over chains", "median over chains"],
                        horizontal_spacing=0.1, shared_yaxes=True)
    theory = theory or {}
    for i, (label, rows) in enumerate(stats.items()):
        # a run: solid, in its colour, with its marker symbol; its theory: dashed, no markers
        colour = PALETTE[i % len(PALETTE)]
        marker = dict(color=colour, symbol=SYMBOLS[i % len(SYMBOLS)], size=6)
        x = [r["generation"] for r in rows]
        for col, key in enumerate(("mean", "median"), 1):
            fig.add_scatter(x=x, y=[r[key] for r in rows], name=text(label), legendgroup=text(label),
                            showlegend=col == 1, mode="lines+markers", line=dict(color=colour, width=2),
                            marker=marker, row=1, col=col)
            if label in theory and theory[label].get(key) is not None:
                fig.add_scatter(x=x, y=list(theory[label][key]), name=text(f"{label}: theory"),
                                legendgroup=text(f"{label}: theory"), showlegend=col == 1, mode="lines",
                                line=dict(color=colour, dash=DASHES[1], width=1.5), row=1, col=col)
    for col in (1, 2):
        fig.update_xaxes(title_text="generation", row=1, col=col)
        if truth is not None:
            fig.add_hline(y=truth, line_dash="dot", line_color=TRUTH, row=1, col=col)
            # on a log axis an annotation's y is log10 of the value (add_hline's own label would sit at 10)
            fig.add_annotation(text="truth", x=1, xref="x domain", y=math.log10(truth), showarrow=False,
                               xanchor="right", yanchor="bottom", font=dict(color=TRUTH), row=1, col=col)
    fig.update_yaxes(type="log", title_text="variance (log scale)", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    _layout(fig, title, margin=dict(l=60, r=20, t=70, b=40))
    said = mean_and_median_summary(stats)
    if truth is not None:
        said += f" The truth is {truth:g}."
    return describe(fig, f"{plain(title)}: {said}", ["run", "generation", "mean", "median", "theory: mean",
                                                      "theory: median"], _rows(stats, theory))


def _rows(stats, theory):
    """Rows (run, generation, mean, median, theory's mean, theory's median) of every run."""
    out = []
    for label, rows in stats.items():
        t = theory.get(label, {})
        for k, r in enumerate(rows):
            out.append([plain(label), r["generation"], r["mean"], r["median"]] +
                       [t[key][k] if t.get(key) is not None else None for key in ("mean", "median")])
    return out


def mean_and_median_summary(stats, quantity="variance"):
    """One sentence per run: its mean and median over chains at the first and the last
    generation (the text a screen reader gets for `mean_and_median`)."""
    if not stats:
        raise ValueError("stats must hold at least one run ({label: rows of across_chains}), got none")
    parts = []
    for label, rows in stats.items():
        first, last = rows[0], rows[-1]
        parts.append(f"{label}: over {last['chains']} chains the mean {quantity} goes from {first['mean']:.3g} at "
                     f"generation {first['generation']} to {last['mean']:.3g} at generation {last['generation']}, "
                     f"the median from {first['median']:.3g} to {last['median']:.3g}.")
    return " ".join(parts)
