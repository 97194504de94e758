"""Fake results of workbench.beyond's experiments, shaped as the engine's dicts, for the
tests of the "Beyond Hinton" lab and of its figures (tests/test_beyond_lab.py; the figure
checks of tests/test_figure_text.py can take FIGURES and HELPERS from here).

    from beyond_fakes import FakeEngine, capacity
    lab = BeyondLab(engine=FakeEngine(capacity_gap=capacity(large=0.94)).modules())"""
import types

from widgets import beyond_plots as bp

def capacity(k=0, large=0.85, best=0.92, hard=0.86):
    """capacity_gap.run()'s dict: the 16-unit teacher's student at `best`, the largest's at `large`."""
    rows = [("MLP 8", (8,), 0.875, 0.88), ("MLP 16", (16,), 0.94, best + k / 100), ("MLP 64", (64,), 0.96, 0.89),
            ("MLP 256x256", (256, 256), 0.97, large), ("assistant MLP 16 (from MLP 256x256)", (16,), 0.955, 0.851),
            ("MLP 256x256, stopped at 6 epochs", (256, 256), 0.94, 0.897)]
    return {"teachers": [{"name": n, "width": w, "parameters": 600 * (i + 1), "teacher_acc": t, "student_acc": s,
                          "student_val_acc": s + 0.005} for i, (n, w, t, s) in enumerate(rows)],
            "hard_labels": hard, "setting": "linear student, seed 0", "stopped": False}


def born_again(k=0, accs=(0.672, 0.742, 0.764, 0.747)):
    return {"test_acc": [a + k / 100 for a in accs], "val_acc": [0.89, 0.90, 0.91, 0.897][:len(accs)],
            "setting": "MLP 32", "stopped": False}


def matrix(spread):
    """A 10 x 10 dark-knowledge matrix: 0.9 on the diagonal, the rest unequal by `spread`."""
    return [[0.9 if i == j else 0.1 / 9 + spread * ((i + j) % 3 - 1) / 100 for j in range(10)] for i in range(10)]


def smoothing(k=0, students=(0.94, 0.92, 0.88)):
    return {"teachers": [{"label_smoothing": e, "teacher_acc": 0.972 + e / 20, "dark_knowledge": matrix(s),
                          "wrong_class_evenness": 0.68 + e, "student_acc": a + k / 100}
                         for e, s, a in zip((0.0, 0.1, 0.3), (1.0, 0.2, 0.05), students)],
            "hard_labels": 0.872, "uniform_teacher": 0.870, "uniform_epsilon": 0.05, "setting": "MLP 32 student",
            "stopped": False}


SETS = ("real images", "20 augmented", "20 repeated", "digits 0-4", "noise")


def transfer(k=0, accs=(0.967, 0.83, 0.76, 0.49, 0.097)):
    return {"sets": [{"name": n, "about": f"about {n}", "inputs": 1077 - 500 * (n == "digits 0-4"),
                      "student_acc": a + k / 100, "agreement": a - 0.003} for n, a in zip(SETS, accs)],
            "teacher_acc": 0.994, "setting": "MLP 32 student", "stopped": False}


def fidelity(k=0, agreements=(0.81, 0.95, 0.95)):
    names = ("30 epochs", "300 epochs", "30 epochs, augmented inputs")
    return {"rows": [{"name": n, "epochs": e, "inputs": i, "test_acc": a + 0.002, "agreement": a + k / 100,
                      "kl_to_teacher": 0.6 - a / 2, "kl_to_teacher_train": 0.5 - a / 2}
                     for n, e, i, a in zip(names, (30, 300, 30), (269, 269, 1345), agreements)],
            "teacher_acc": 0.994, "setting": "MLP 32 student", "stopped": False}


FAKES = {"capacity_gap": capacity, "born_again": born_again, "smoothing": smoothing, "transfer": transfer,
         "fidelity": fidelity}


class FakeEngine:
    """{experiment: a module-like object whose run(...) records its arguments and returns
    `results[experiment]`} (defaults: the fakes above); `error` makes run raise it."""

    def __init__(self, **results):
        self.results = {key: results.get(key, make()) for key, make in FAKES.items()}
        self.calls, self.error = [], None

    def modules(self):
        out = {}
        for key in FAKES:
            def run(seed=0, assistant=(16,), temperature=4.0, alpha=0.9, generations=3, label_noise=0.4, stop=None,
                    _key=key, **kw):
                self.calls.append((_key, dict(seed=seed, assistant=assistant, temperature=temperature, alpha=alpha,
                                              generations=generations, label_noise=label_noise), stop))
                if self.error is not None:
                    raise self.error
                return self.results[_key]
            out[key] = types.SimpleNamespace(run=run, ASSISTANT_WIDTHS=((8,), (16,), (64,)))
        return out


# each figure function of widgets.beyond_plots, built from two different sets of data (k = 0, 1)
FIGURES = {
    "capacity_gap_figure": lambda k: bp.capacity_gap_figure(capacity(k)),
    "born_again_figure": lambda k: bp.born_again_figure(born_again(k)),
    "smoothing_heatmaps": lambda k: bp.smoothing_heatmaps(smoothing(k) if k == 0 else
                                                          {**smoothing(), "teachers": smoothing()["teachers"][:2]}),
    "smoothing_bars": lambda k: bp.smoothing_bars(smoothing(k)),
    "transfer_bars": lambda k: bp.transfer_bars(transfer(k)),
    "fidelity_figure": lambda k: bp.fidelity_figure(fidelity(k)),
}
# the same functions, to be called before a run (None or {})
EMPTY = {"capacity_gap_figure": bp.capacity_gap_figure, "born_again_figure": bp.born_again_figure,
         "smoothing_heatmaps": bp.smoothing_heatmaps, "smoothing_bars": bp.smoothing_bars,
         "transfer_bars": bp.transfer_bars, "fidelity_figure": bp.fidelity_figure}


# the public functions of widgets.beyond_plots that draw nothing
HELPERS = {"row_kind", "width_label", "point_label", "accuracy_range", "capacity_gap_summary", "epsilon_label",
           "evenness", "wrong_class_mass", "two_lines"}
