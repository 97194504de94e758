"""SpeculativeView: what a distilled draft is worth in speculative decoding.

The facts teacher is the target. Run distils three drafts from the same base student on
the same teacher-query budget (black-box, white-box forward KL, on-policy reverse KL) and
keeps the undistilled base student as the control; then each drafts for the target on
the same prompts (workbench.llm.speculative). A table shows each draft's acceptance,
measured and predicted from 1 − TV, the tokens per target pass and the speed-ups; bars
show the acceptance per draft. Before Run the learner predicts whether distilling the
draft changes the text the target produces (it does not: speculative sampling keeps the
target's distribution exactly; only the speed changes), and the run shows the answers
each draft's text gives next to the target's own."""
import ipywidgets as W
import plotly.graph_objects as go
import torch

import workbench as wb
from workbench import _check
from workbench.llm import speculative

from . import plots
from .controls import STYLE, int_box
from .live import guarded, html_table, live, refresh
from .predict import Prediction
from .runner import RunController, _torch_threads

LABELS = {"base": "base (not distilled)", "black-box": "black-box", "white-box": "white-box (forward KL)",
          "on-policy": "on-policy (reverse KL, λ = 1)"}
QUESTION = ("The distilled drafts will have more of their proposals accepted than the base student. Does "
            "distilling the draft change the text the target produces?")
TEXT = ("No: the text follows the target exactly; only the speed changes",
        "Yes: more draft tokens are kept, so the text moves towards the draft's",
        "Yes: the text improves, because the distilled draft learned the facts",
        "Only the base draft changes it: its wrong guesses slip in when accepted")


def acceptance_bars(rows, title="Acceptance per draft"):
    """Grouped bars of each draft's acceptance, measured (accepted / tested) and predicted
    (mean 1 − TV at the tested tokens). rows: speculative.measure(...) dicts with "draft"."""
    fig = go.Figure()
    names = [LABELS.get(r["draft"], r["draft"]) for r in rows]
    series = {"measured": [r["acceptance"] for r in rows], "predicted (1 − TV)": [r["predicted"] for r in rows]}
    for i, (label, ys) in enumerate(series.items()):
        fig.add_bar(x=names, y=ys, name=label, **plots.bar_style(i))
    lookahead = rows[0]["lookahead"] if rows else None
    full = f"{title} (lookahead γ = {lookahead})" if lookahead else title
    plots._layout(fig, full, barmode="group", yaxis=dict(range=[0, 1.05], title="share of proposals accepted"),
                  xaxis=dict(title="draft", type="category"))
    if rows:
        said = "; ".join(f"{n} {plots.num(a)} measured, {plots.num(p)} predicted"
                         for n, a, p in zip(names, *series.values())) + "."
    else:
        said = "nothing yet: press Run."
    table = [[n, a, p] for n, a, p in zip(names, *series.values())]
    return plots.describe(fig, f"{plots.plain(full)}: {said}", ["draft", *series], table)


def top_answer_share(model_text, language):
    """The share of texts "<BOS><subject> <relation> <answer>." whose answer is the
    fact's most likely one in the truth (None when there are none)."""
    right = total = 0
    for text in model_text:
        words = text.strip().rstrip(".").split(" ")
        for relation in language.relations:
            head = " ".join(words[1:1 + len(relation.split())])
            if head == relation:
                f = language.fact(words[0], relation)
                total += 1
                right += " ".join(words[1 + len(relation.split()):]) == f.answers[0]
    return right / total if total else None


class SpeculativeView:
    def __init__(self, seed=0, queries=wb.llm.LLMConfig.queries, steps=wb.llm.LLMConfig.steps, prompts=200):
        self.queries, self.steps, self.prompts = queries, steps, prompts
        self.lookahead = W.IntSlider(value=4, min=1, max=8, description="lookahead γ (tokens the draft proposes)",
                                     continuous_update=False, style=STYLE, layout=W.Layout(width="420px"))
        self.seed = int_box(seed, "seed")
        self.prediction = Prediction(QUESTION, TEXT)
        self.controller = RunController(self.prepare, self.redraw)
        self.message = self.controller.message
        self.controller.lock(self.lookahead, self.seed, self.prediction.buttons)
        self.controller.on_end.append(self.reveal)
        self.drafts, self.rows, self.texts, self.changed = {}, [], {}, False
        self.status = ""
        self.controller.progress_text = lambda: self.status
        self.bars = live(acceptance_bars([]), width=760, height=360)
        self.table = W.HTML()
        self.lookahead.observe(guarded(self.message, lambda *_: self.remeasure()), names="value")
        intro = W.HTML("<b>Speculative decoding.</b> A small draft proposes γ tokens, the target checks them all in "
                       "one pass and keeps each with probability min(1, p/q); the text still follows the target "
                       "exactly (Leviathan et al. 2023; Chen et al. 2023). A proposal is accepted with probability "
                       "1 − TV(p, q), so a draft distilled towards the target is accepted more often (DistillSpec, "
                       "Zhou et al. 2023). Target: the facts teacher; drafts: the base student and three students "
                       f"distilled from it on {queries:,} teacher queries each.")
        # min_width, as llm_lab: the figure beside it would squeeze the column to ~270 px and fold the slider away
        controls = W.VBox([self.lookahead, self.seed, self.prediction.widget, self.controller.widget],
                          layout=W.Layout(width="440px", min_width="440px", padding="0 12px 0 0"))
        self.widget = W.VBox([intro, W.HBox([controls, self.bars.view]), self.table])

    def prepare(self, stop):
        seed = _check.seed("seed", self.seed.value)
        lookahead = _check.positive_int("lookahead", self.lookahead.value)
        for name in speculative.DRAFTS:  # every config checked before anything trains
            speculative.draft_config(name, seed, self.queries, self.steps)
        self.drafts, self.rows, self.texts, self.changed = {}, [], {}, True
        self.table.value = ""
        self.prediction.reset()
        return self._work(seed, lookahead, stop)

    def _work(self, seed, lookahead, stop):
        trained = [n for n in speculative.DRAFTS if n != "base"]
        parts = len(trained) + 1  # each distillation, then the drafting
        for name in speculative.DRAFTS:
            model, run = speculative.draft_steps(name, seed, self.queries, self.steps, stop=stop)
            for event in run or ():
                if event.kind == "step":
                    i = trained.index(name)
                    self.status = f"distilling the {LABELS[name]} draft ({i + 1} of {len(trained)}): step " \
                                  f"{event.step} of {self.steps}"
                    yield (i + event.step / self.steps) / parts
            if stop.is_set():
                return
            self.drafts[name] = model
        self.status = "drafting for the target with each draft"
        yield len(trained) / parts
        self.measure(seed, lookahead)

    def measure(self, seed, lookahead):
        """Each trained draft drafts for the target on the same prompts: the rows and the texts."""
        target = wb.llm.teacher("facts")
        ids = speculative.prompt_ids(self.prompts, seed, next(target.parameters()).device)
        stop_id = target.tokenizer.stoi[wb.llm.facts.STOP]
        rows, texts = [], {}
        for name, model in self.drafts.items():
            rows.append({"draft": name, **speculative.measure(target, model, ids, lookahead, seed=seed)})
            out = speculative.generate(target, model, ids, 8, lookahead, generator=torch.Generator().manual_seed(seed),
                                       stop=stop_id)
            texts[LABELS[name]] = [target.tokenizer.decode(s) for s in out.sequences]
        plain = wb.llm.gpt.generate(target, ids, 8, stop=stop_id, generator=torch.Generator().manual_seed(seed + 7))
        texts["the target alone"] = [target.tokenizer.decode(s) for s in plain]
        self.rows, self.texts, self.run_seed, self.changed = rows, texts, seed, True

    def remeasure(self):
        """A new lookahead: the same trained drafts, measured again (nothing retrains)."""
        if self.controller.running or len(self.drafts) < len(speculative.DRAFTS):
            return
        self.message.info(f"Measuring the drafts at lookahead {self.lookahead.value}…")
        with _torch_threads(RunController.threads):  # as during a run: one thread, no stalls on busy cores
            self.measure(self.run_seed, _check.positive_int("lookahead", self.lookahead.value))
        self.redraw()
        self.message.info(f"Done: the same drafts at lookahead {self.lookahead.value}.")

    def shares(self):
        """{who: share of its texts giving the truth's most likely answer}."""
        lang = wb.llm.pretrained.language()
        return {who: top_answer_share(t, lang) for who, t in self.texts.items()}

    def table_rows(self):
        if not self.rows:
            return {}
        c = self.rows[0]["cost_ratio"]
        shares = self.shares()
        return {LABELS[r["draft"]]: {
            "acceptance measured": r["acceptance"], "predicted (1 − TV)": r["predicted"],
            "tokens per target pass": r["tokens_per_pass"], "speed-up in target passes": r["speedup_passes"],
            f"wall speed-up, Leviathan eq. (c = {c:.2f})": r["speedup_wall_predicted"],
            f"wall speed-up from the counts (c = {c:.2f})": r["speedup_wall_counted"],
            "answers = truth's likeliest": shares[LABELS[r["draft"]]]} for r in self.rows}

    def board_results(self):
        """Each draft's measured acceptance and target passes saved, for the class board."""
        return {f"{LABELS[r['draft']]}: {k}": r[k] for r in self.rows
                for k in ("acceptance", "predicted", "tokens_per_pass") if k in r}

    def redraw(self):
        if not self.changed:
            return
        self.changed = False
        refresh(self.bars, acceptance_bars(self.rows))
        if not self.rows:
            self.table.value = ""
            return
        c = self.rows[0]["cost_ratio"]
        alone = self.shares()["the target alone"]
        self.table.value = (
            html_table(self.table_rows()) +
            f"<p>Seed {self.run_seed}, lookahead γ = {self.rows[0]['lookahead']}, {self.prompts} prompts at T = 1. "
            f"Acceptance = proposals accepted / proposals tested; predicted = mean 1 − TV(p, q) at the tested tokens. "
            f"Plain sampling spends one target pass per token. c = the draft's parameters / the target's "
            f"({self.rows[0]['draft_parameters']:,} / {self.rows[0]['target_parameters']:,} = {c:.2f}), not a "
            f"timing. Leviathan et al.'s formula assumes text that never ends; these answers end after about 6 "
            f"tokens, which caps each pass, so the speed-up from the counts is lower. The target alone gives the "
            f"truth's likeliest answer in {alone:.0%} of its texts.</p>")

    def reveal(self, completed):
        if not completed or not self.rows:
            return
        shares = self.shares()
        said = ", ".join(f"{who} {s:.0%}" for who, s in shares.items() if s is not None)
        accept = ", ".join(f"{LABELS[r['draft']]} {r['acceptance']:.2f}" for r in self.rows)
        n = self.prompts
        self.prediction.reveal(
            f"acceptance {accept}; yet the share of texts giving the truth's likeliest answer is {said}: the same "
            f"within sampling error (±{2 * (0.25 / n) ** 0.5:.0%} on {n} prompts). Speculative sampling keeps the "
            f"target's distribution exactly (Leviathan et al. 2023, Appendix A.1), so a better draft buys speed, "
            f"never different text", correct=TEXT[0])

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

