"""CollapseLab: students learning from students, generation after generation.

Run trains several generational chains side by side (by default one per data policy:
replace, mix, accumulate) and draws their metrics across generations; the generation
slider and its Play button overlay each chain's distribution at that generation on the
truth, so the tails can be watched thinning under "replace" and holding where real data
is kept. "kl_to_truth" is a different KL in each setting; its panel, its table column and
the lab's text name the one shown (wb.collapse.KL_TO_TRUTH: direction and support)."""
import ipywidgets as W

import workbench as wb

from . import plots
from .controls import temperature_slider
from .live import guarded, html_table, live, refresh
from .runner import RunController, lockstep
from .scenarios import Scenario, ScenarioPicker, compare

SETTINGS = {"Gaussian (instant)": "gaussian", "Zipf vocabulary (instant)": "zipf",
            "digit classifiers (~5 s)": "digits", "tiny language models (~1 min)": "lm"}
METRICS = {"gaussian": ("kl_to_truth", "variance", "tail_mass"), "zipf": ("kl_to_truth", "vanished", "tail_coverage"),
           "digits": ("kl_to_truth", "test_acc", "tail_recall"), "lm": ("perplexity", "tail_mass", "invented")}
COMPARE = ("policies", "real-data shares", "one chain")
G, Z, D, L = (wb.collapse.SETTINGS[k] for k in ("gaussian", "zipf", "digits", "lm"))
DEFAULTS = dict(setting="gaussian", samples=G.samples, generations=G.generations, temperature=1.0, compare="policies",
                policy="replace", share=0.2, labels="hard")
FURTHEST = ("replace", "mix (fresh real data each generation)", "accumulate (all the data so far)",
            "none stands out: all within a factor of 2")
VANISHED = ("none: a word once seen keeps some probability", "fewer than 100", "between 100 and 600",
            "more than 600")
TAIL = ("over 12%: a low temperature flattens the distribution", "still near 10% (7% to 12%)",
        "between 1% and 7%", "under 1%: almost gone")
RECALL = ("lower than under accumulate, by more than 10 points", "within 10 points of accumulate",
          "higher than under accumulate, by more than 10 points")
PERPLEXITY = ("it rises every generation", "it falls every generation: the models grow more fluent",
              "it goes up and down")
DRIFT = ("every chain ends further from the truth than its generation 0", "only some chains do", "no chain does")


def last(lab, policy):
    """The last generation's row of the chain of `policy` (its label starts with the policy)."""
    return next(h[-1] for label, h in lab.histories.items() if label.startswith(policy))


def kl_name(setting):
    """The name of `setting`'s kl_to_truth: its direction and support, as the engine defines it."""
    return wb.collapse.KL_TO_TRUTH[setting]


def columns(setting):
    """COLUMNS with kl_to_truth named for `setting` (the table's headers)."""
    return {**COLUMNS, "kl_to_truth": kl_name(setting)}


def judge_furthest(lab):
    """Which of FURTHEST the chains' last kl_to_truth (the setting's named KL) bears out."""
    kl = {p: last(lab, p)["kl_to_truth"] for p in ("replace", "mix", "accumulate")}
    said = f"This run (seed {lab.seed.value}): {kl_name(lab.shown)} at the last generation " + \
        ", ".join(f"{p} {v:.3g}" for p, v in kl.items())
    top, second = sorted(kl, key=kl.get, reverse=True)[:2]
    if kl[top] <= 2 * kl[second]:
        return said, FURTHEST[3]
    return said, next(c for c in FURTHEST if c.startswith(top))


def judge_vanished(lab):
    """Which of VANISHED the replace chain's vanished words, beyond accumulate's, bear out."""
    more = last(lab, "replace")["vanished"] - last(lab, "accumulate")["vanished"]
    said = (f"This run (seed {lab.seed.value}): {last(lab, 'replace')['vanished']} words vanished under replace, "
            f"{last(lab, 'accumulate')['vanished']} under accumulate")
    return said, VANISHED[0] if more <= 0 else VANISHED[1] if more < 100 else \
        VANISHED[2] if more <= 600 else VANISHED[3]


def judge_tail(lab):
    """Which of TAIL the replace chain's last tail mass bears out."""
    tail = last(lab, "replace")["tail_mass"]
    said = f"This run (seed {lab.seed.value}): the tail holds {tail:.1%} of the probability under replace"
    return said, TAIL[0] if tail > 0.12 else TAIL[1] if tail >= 0.07 else TAIL[2] if tail >= 0.01 else TAIL[3]


def judge_recall(lab):
    """Which of RECALL the replace and accumulate chains' last recall of the rare digits bears out."""
    rep, acc = last(lab, "replace")["tail_recall"], last(lab, "accumulate")["tail_recall"]
    said = f"This run (seed {lab.seed.value}): recall of 7-9 {rep:.0%} under replace, {acc:.0%} under accumulate"
    return said, compare(acc, rep, 0.1, RECALL)


def judge_perplexity(lab):
    """Which of PERPLEXITY the replace chain's held-out perplexity, generation by generation, bears out."""
    ppl = [row["perplexity"] for label, h in lab.histories.items() if label.startswith("replace") for row in h]
    said = f"This run (seed {lab.seed.value}): perplexity under replace " + " → ".join(f"{p:.2f}" for p in ppl)
    steps = [b - a for a, b in zip(ppl, ppl[1:])]
    return said, PERPLEXITY[0] if all(d > 0 for d in steps) else PERPLEXITY[1] if all(d < 0 for d in steps) \
        else PERPLEXITY[2]


def judge_drift(lab):
    """Which of DRIFT the chains bear out: each chain's distance to the truth (KL, or perplexity for
    the language models) at its last generation against its generation 0."""
    metric = METRICS[lab.shown][0]
    further = {label: h[-1][metric] > h[0][metric] for label, h in lab.histories.items() if h}
    said = f"This run (seed {lab.seed.value}), {columns(lab.shown)[metric]} from generation 0 to the last: " + \
        ", ".join(f"{label} {h[0][metric]:.3g} → {h[-1][metric]:.3g}" for label, h in lab.histories.items() if h)
    n = sum(further.values())
    return said, DRIFT[0] if n == len(further) else DRIFT[2] if n == 0 else DRIFT[1]


# questions asked before Run; each `expected` answer asserted (and judged from the run's
# numbers) over seeds in tests/test_scenarios.py (the LM chain's in tests/test_collapse.py)
SCENARIOS = {
    "Gaussian: three policies (the default)": Scenario(
        {}, f"Three chains refit a Gaussian, {G.generations} times, each to {G.samples} samples: replace (only the "
            f"last fit's samples), mix (20% of them fresh real data) and accumulate (all the data so far). "
            f"Whose fit will end furthest from the truth?", FURTHEST, FURTHEST[0],
        "Replace narrows the Gaussian towards a point (variance 0.045 after 80 generations, seed 0) while mix "
        f"and accumulate stay near the truth: over seeds 0-2 the {G.kl.split(',')[0]} of replace ends more than "
        "twice as high as both", judge_furthest),
    "Zipf: a vocabulary over generations": Scenario(
        {"setting": "zipf", "samples": Z.samples, "generations": Z.generations},
        f"A vocabulary of 1,000 words with Zipf frequencies is re-estimated from {Z.samples:,} samples of the "
        f"last estimate, {Z.generations} times. How many more words will have vanished (probability 0) under "
        f"replace than under accumulate?", VANISHED, VANISHED[2],
        "Under replace about 350 more of the 1,000 words vanish and never return; accumulate keeps every word "
        "its real data had", judge_vanished),
    "Zipf sampled at T = 0.8": Scenario(
        {"setting": "zipf", "samples": Z.samples, "generations": 10, "temperature": 0.8},
        "Each generation now samples its words at temperature 0.8. Under replace, what share of the probability "
        "will the tail hold (10% in the truth) after 10 generations?", TAIL, TAIL[3],
        "Sampling below temperature 1 moves mass from the tail to the head, generation after generation: under "
        "replace the tail is gone", judge_tail),
    "digits: rare digits over generations": Scenario(
        {"setting": "digits", "samples": D.samples, "generations": D.generations},
        "Each digit classifier learns from the labels the previous one gave (7, 8 and 9 are rare). At the last "
        "generation, how will the recall of 7-9 under replace compare?", RECALL, RECALL[0],
        "Each classifier learns the previous one's labels: under replace the rare digits are recognised less "
        "and less, while accumulating the real labels holds them. Notebook 06 runs the controls: with balanced "
        "classes the replace chain still falls, with argmax or soft labels in place of sampled ones it falls far "
        "less, so the driver is the noise of the sampled labels, compounding. Try labels 'argmax' or 'soft'",
        judge_recall),
    "language models (about 35 s)": Scenario(
        {"setting": "lm", "samples": L.samples, "generations": 3},
        "Each tiny GPT learns from text the previous one wrote. Under replace, what happens to the perplexity "
        "on held-out real sentences over 3 generations?", PERPLEXITY, PERPLEXITY[0],
        "Under replace, held-out perplexity rises every generation and rare subjects fade (asserted over seeds "
        "0-2 in the engine's tests); accumulate rises less", judge_perplexity),
}
OWN = Scenario({}, "Will the chains drift from the truth as the generations pass?", DRIFT, None, "", judge_drift)
SHARES = (0.0, 0.05, 0.2, 0.5)
COLUMNS = {"variance": "variance", "tail_mass": "tail mass",
           "vanished": "vanished", "tail_coverage": "tail covered", "entropy": "entropy", "test_acc": "test accuracy",
           "tail_recall": "recall 7–9", "perplexity": "perplexity", "fact_accuracy": "fact accuracy",
           "rare_coverage": "rare coverage", "invented": "invented", "distinct_ngrams": "distinct word pairs"}


def chains(compare, policy, share):
    """{label: (policy, real_share)} of the chains one Run trains side by side."""
    if compare == "policies":
        share = share or 0.2  # mix needs some real data
        return {"replace": ("replace", 0.0), f"mix ({share:.0%} real)": ("mix", share),
                "accumulate": ("accumulate", 0.0)}
    if compare == "real-data shares":
        base = "replace" if policy == "mix" else policy
        return {f"{base}, {s:.0%} real": (base, s) for s in SHARES}
    return {f"{policy}, {share:.0%} real": (policy, share)}


class CollapseLab:
    def __init__(self, setting="gaussian", seed=0):
        style = {"description_width": "initial"}
        self.setting = W.Dropdown(options=SETTINGS, value=setting, description="setting", style=style,
                                  layout=W.Layout(width="360px"))
        cls = wb.collapse.SETTINGS[setting]
        self.samples = W.IntText(value=cls.samples, description="samples per generation", style=style,
                                 layout=W.Layout(width="260px"))
        self.generations = W.IntText(value=cls.generations, description="generations", style=style,
                                     layout=W.Layout(width="260px"))
        self.temperature = temperature_slider(1.0, continuous=False, low=0.5, high=2.0, description="sampling temperature",
                                              log=False, width="360px")
        self.compare = W.ToggleButtons(options=COMPARE, description="compare", style=style,
                                       tooltips=["replace, mix and accumulate side by side",
                                                 "0%, 5%, 20% and 50% fresh real data each generation",
                                                 "just the policy and share chosen below"])
        self.policy = W.Dropdown(options=wb.collapse.POLICIES, description="policy", style=style,
                                 layout=W.Layout(width="260px"))
        self.share = W.FloatSlider(value=0.2, min=0.0, max=1.0, step=0.05, description="real-data share",
                                   continuous_update=False, style=style, layout=W.Layout(width="360px"))
        self.labels = W.ToggleButtons(options=["hard", "argmax", "soft"], description="labels", style=style,
                                      tooltips=["one class sampled from softmax(z/T) per image",
                                                "the top class of each image (no sampling; T makes no difference)",
                                                "softmax(z/T) itself"])
        self.seed = W.IntText(value=seed, description="seed", style=style, layout=W.Layout(width="200px"))
        self.controller = RunController(self.prepare, self.redraw)
        self.message = self.controller.message
        self.picker = ScenarioPicker(self, SCENARIOS, DEFAULTS, OWN, self.controller)

        self.generation = W.IntSlider(value=0, min=0, max=0, description="generation", style=style,
                                      layout=W.Layout(width="520px"))
        self.play = W.Play(value=0, min=0, max=0, interval=200, description="play the generations")
        # linked in the kernel, not the browser: a browser-side link races the new maximum set after a run
        W.link((self.play, "value"), (self.generation, "value"))
        self.histories, self.fractions, self.summary = {}, {}, None
        self.shown = setting  # the setting whose chains the figures show
        self.changed = False
        self.curves = live(self.curve_figure(), width=980, height=320)
        self.overlay = live(self.distribution_figure(), width=760, height=360)
        self.table = W.HTML()
        self.setting.observe(guarded(self.message, lambda *_: self.setting_changed()), names="value")
        for control in (self.compare, self.policy):
            control.observe(lambda *_: self.show_options(), names="value")
        self.generation.observe(guarded(self.message, lambda *_: refresh(self.overlay, self.distribution_figure())),
                                names="value")
        self.show_options()
        self.controller.lock(self.picker.menu, self.setting, self.samples, self.generations, self.temperature,
                             self.compare, self.policy, self.share, self.labels, self.seed)
        controls = W.VBox([self.picker.widget, self.setting, self.samples, self.generations, self.temperature,
                           self.compare, self.policy, self.share, self.labels, self.seed, self.picker.ask,
                           self.controller.widget],
                          layout=W.Layout(width="560px", padding="0 12px 0 0"))
        viewer = W.VBox([W.HBox([self.play, self.generation]), self.overlay.view])
        self.widget = W.VBox([W.HBox([controls, viewer]), self.curves.view, self.table])

    # --- controls -------------------------------------------------------------------------

    def setting_changed(self):
        cls = wb.collapse.SETTINGS[self.setting.value]
        self.samples.value, self.generations.value = cls.samples, cls.generations
        self.show_options()

    def show_options(self):
        one = self.compare.value == "one chain"
        self.policy.layout.display = None if self.compare.value != "policies" else "none"
        self.share.layout.display = None if one or self.compare.value == "policies" else "none"
        self.labels.layout.display = None if self.setting.value == "digits" else "none"

    def runs(self):
        """{label: keyword arguments of wb.collapse.steps}, checked (ValueError names a bad value)."""
        setting = self.setting.value
        options = {"labels": self.labels.value} if setting == "digits" else {}
        out = {}
        for label, (policy, share) in chains(self.compare.value, self.policy.value, self.share.value).items():
            kw = dict(setting=setting, generations=self.generations.value, samples=self.samples.value,
                      real_share=share, policy=policy, temperature=self.temperature.value, seed=self.seed.value)
            wb.collapse.check(**kw)
            out[label] = {**kw, **options}
        return out

    # --- the run --------------------------------------------------------------------------

    def prepare(self, stop):
        runs = self.runs()
        self.shown = self.setting.value
        self.histories = {label: [] for label in runs}
        self.fractions = {label: 0.0 for label in runs}
        self.summary, self.changed = None, True
        self.table.value = ""
        self.generation.value = 0
        self.play.max = self.generation.max = 0
        events = {label: wb.collapse.steps(stop=stop, **kw) for label, kw in runs.items()}
        return self._work(events)

    def _work(self, events):
        gens = lockstep(events, self._record, 1)
        while True:
            try:
                next(gens)
            except StopIteration:
                break
            yield min(self.fractions.values())
        last = min((len(h) for h in self.histories.values()), default=0) - 1  # after Stop chains can differ
        names = columns(self.shown)
        self.summary = {label: {names[k]: v for k, v in h[last].items() if k in names}
                        for label, h in self.histories.items() if last >= 0}
        self.changed = True

    def _record(self, label, event):
        if event.kind == "generation":
            self.histories[label].append(event.metrics)
            self.changed = True
        else:
            self.fractions[label] = event.metrics["fraction"]

    def redraw(self):
        if not self.changed:
            return
        self.changed = False
        latest = min((len(h) for h in self.histories.values()), default=0) - 1
        moved = False
        if latest > self.generation.max:
            follow = self.generation.value == self.generation.max
            self.play.max = latest
            self.generation.max = latest
            if follow:
                self.generation.value = latest  # the slider's observer redraws the overlay
                moved = True
        refresh(self.curves, self.curve_figure())
        if not moved:
            refresh(self.overlay, self.distribution_figure())
        if self.summary:
            self.table.value = f"<b>Generation {latest}</b>" + html_table(self.summary)

    # --- figures --------------------------------------------------------------------------

    def curve_figure(self):
        metrics = METRICS[self.shown]
        truth = wb.collapse.truth(self.shown)
        kl = kl_name(self.shown).replace(" over ", "<br>over ").replace(", mean", ",<br>mean")  # two lines
        return plots.curves_side_by_side(self.histories, metrics, x="generation", reference=truth,
                                         title=f"{self.shown}: across generations (dashed: the truth)",
                                         titles={"kl_to_truth": kl})

    def distribution_figure(self):
        g = self.generation.value
        at = {label: h[g] for label, h in self.histories.items() if len(h) > g}
        truth = wb.collapse.truth(self.shown)
        title = f"Generation {g}" if at else "The truth (press Run)"
        if self.shown == "gaussian":
            return plots.gaussian_fits({k: (r["mean"], r["variance"]) for k, r in at.items()}, truth,
                                       title=f"{title}: each chain's fitted Gaussian")
        if self.shown == "zipf":
            return plots.rank_probabilities({f"{k} ({r['vanished']} vanished)": r["probs"] for k, r in at.items()},
                                            truth["probs"], title=f"{title}: token probabilities (vanished tokens "
                                                                  f"leave the plot)", xaxis="token rank in the truth")
        if self.shown == "lm":
            n = len(truth["subject_probs"])
            return plots.rank_probabilities({k: r["subject_probs"] for k, r in at.items()}, truth["subject_probs"],
                                            title=f"{title}: how often each subject starts a sentence",
                                            xaxis=f"subject rank in the truth (rare half: {n // 2 + 1}–{n})",
                                            log_x=False)
        digits = [str(d) for d in range(10)]
        dists = {"truth": dict(zip(digits, truth["class_probs"])),
                 **{k: dict(zip(digits, r["class_probs"])) for k, r in at.items()}}
        fig = plots.distribution_bars(dists, digits, title=f"{title}: the classes each chain's model predicts",
                                      xaxis="digit (7, 8, 9: the rare tail)")
        top = max(max(d.values()) for d in dists.values())
        return fig.update_yaxes(range=[0, max(0.42, 1.1 * top)])
