"""Check for choosing T and alpha (exercise 03): the setting with the highest validation
accuracy averaged over at least 3 seeds, the test set left for one honest estimate."""
import statistics

import numpy as np

from ._judge import real_number, within
from .feedback import correct, is_unanswered, unanswered, wrong


def _mean_val(runs):
    return {setting: statistics.fmean(r["val_acc"] for r in rs) for setting, rs in runs.items()}


def _best(scores):
    """Every setting tied for the highest score (ties are common with a small validation split)."""
    top = max(scores.values())
    return [s for s, v in scores.items() if v >= top - 1e-9]


def _check_runs(runs):
    ok = isinstance(runs, dict) and runs and all(
        isinstance(rs, (list, tuple)) and rs and all(isinstance(r, dict) and real_number(r.get("val_acc")) is not None
                                                     for r in rs) for rs in runs.values())
    if not ok:
        raise ValueError("runs must be a dict {setting: [one dict per seed with 'val_acc' (and 'test_acc')]}, got "
                         f"{runs!r:.200}")


def _setting(answer, settings):
    """The setting the answer names: the same object, or the same number in any numeric type."""
    for s in settings:
        try:
            if answer == s and not isinstance(answer, np.ndarray):
                return s
        except (TypeError, ValueError):
            pass
    value = real_number(answer)
    for s in settings:
        if value is not None and real_number(s) is not None and abs(value - real_number(s)) < 1e-9:
            return s
    return None


def check_best(answer, runs, name="T"):
    """answer: the setting (a temperature, an alpha) to keep. runs: {setting: [one dict
    per seed, with "val_acc" and "test_acc"]}. Right is the setting with the highest
    validation accuracy averaged over the seeds (any of them when several tie); the test
    accuracies only name the mistake of choosing on the test set."""
    if is_unanswered(answer):
        return unanswered("Read the validation accuracies averaged over the seeds.")
    _check_runs(runs)
    settings = list(runs)
    seeds = min(len(rs) for rs in runs.values())
    chosen = _setting(answer, settings)
    value = real_number(answer)
    if chosen is None:
        accuracies = [r.get(k) for rs in runs.values() for r in rs for k in ("val_acc", "test_acc")]
        if value is not None and any(within(value, real_number(a) or -1, 5e-4) for a in accuracies if a is not None):
            return wrong(f"{answer!r} is an accuracy, not a {name}.", f"Answer with the {name} that gave it.")
        return wrong(f"{answer!r} is not one of the values of {name} you tried: {settings}.")
    if seeds < 3:
        return wrong(f"Each {name} was run with {seeds} seed{'s' * (seeds != 1)}: one seed's validation accuracy "
                     "moves by several points from seed to seed, so the comparison is mostly noise.",
                     "Run at least 3 seeds per setting and compare their means.")
    val = _mean_val(runs)
    best = _best(val)
    fmt = ", ".join(f"{s}: {v:.3f}" for s, v in val.items())
    if chosen in best:
        tie = f" (tied with {[s for s in best if s != chosen]})" if len(best) > 1 else ""
        return correct(f"Right: {name} = {chosen} has the highest validation accuracy averaged over {seeds} seeds, "
                       f"{val[chosen]:.3f}{tie}. Means: {fmt}. The test set is still untouched, so its accuracy "
                       "for this choice will be an honest estimate.")
    if all("test_acc" in r for rs in runs.values() for r in rs):
        test = {s: statistics.fmean(r["test_acc"] for r in rs) for s, rs in runs.items()}
        one_seed_test = [_best({s: rs[i]["test_acc"] for s, rs in runs.items()}) for i in range(seeds)]
        if chosen in _best(test) or any(chosen in b for b in one_seed_test):
            return wrong(f"{name} = {chosen} is the best on the test set, not on validation "
                         f"({val[chosen]:.3f} there, against {max(val.values()):.3f}).",
                         "A setting chosen on the test set makes its test accuracy an optimistic estimate: "
                         "choose on validation, look at test once at the end.")
    if len(settings) > 2 and val[chosen] <= min(val.values()) + 1e-9:
        return wrong(f"{name} = {chosen} has the lowest mean validation accuracy ({val[chosen]:.3f}).",
                     "Keep the highest mean, not the lowest.")
    for i in range(seeds):
        if chosen in _best({s: rs[i]["val_acc"] for s, rs in runs.items()}):
            return wrong(f"{name} = {chosen} was the best for seed number {i + 1} alone; averaged over the "
                         f"{seeds} seeds it gives {val[chosen]:.3f}, against {max(val.values()):.3f}.",
                         "One seed's ranking is mostly noise: compare the means over the seeds.")
    return wrong(f"{name} = {chosen} gave {val[chosen]:.3f} on validation, averaged over the seeds; another {name} "
                 "did better.", "Compare all the mean validation accuracies, not only the first ones.")
