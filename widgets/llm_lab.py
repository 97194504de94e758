"""LLMLab: the same student distilled white-box and black-box, on the same budget.

Both start from the same base student (it speaks the facts language but knows none of
its facts) and spend the same number of teacher queries. The curves show KL to the
truth and rare-subject coverage against the queries spent; the bars show one 60/40
fact as the truth, the teacher and both students see it, redrawn as they learn. With
reverse KL on the default budget the white-box student learns fewer facts than with
forward KL (notebook 05 compares the two at equal fact accuracy)."""
import ipywidgets as W

import workbench as wb
from workbench.llm import evaluate

from . import plots
from .controls import LLM_T_MAX, LLM_T_MIN, temperature_slider
from .live import guarded, html_table, live, refresh
from .runner import RunController, lockstep
from .scenarios import Scenario, ScenarioPicker

RUNS = ("white-box", "black-box")
LOSSES = {"forward KL (mean-seeking)": "forward_kl", "reverse KL (mode-seeking)": "reverse_kl",
          "generalized JSD (β)": "jsd"}
METRICS = {"kl_to_truth": "KL to the truth", "fact_accuracy": "fact accuracy", "rare_coverage": "rare coverage",
           "second_mode_coverage": "second answers kept", "perplexity": "answer perplexity"}


def two_answer_facts(language):
    """{label: fact} for the 60/40 facts, most frequent subjects first."""
    facts = sorted((f for f in language.facts if f.kind == "two"), key=lambda f: f.rank)
    return {f"{language.prompt(f.subject, f.relation)} … ({f.answers[0]} 60%, {f.answers[1]} 40%; "
            f"subject #{f.rank + 1})": f for f in facts}


DEFAULTS = dict(queries=wb.llm.LLMConfig.queries, access="full logits", k=5, loss="forward KL (mean-seeking)", beta=0.5,
                on_policy=0.0, temperature=1.0, steps=wb.llm.LLMConfig.steps)
KL = ("the white-box student, by far: under half the other's KL", "the white-box student, by a little",
      "about the same (within 0.05 nats)", "the black-box student")
LEARNED = ("0.90 or more, as with forward KL: reverse KL only changes what happens to second answers",
           "between 0.65 and 0.90: on this budget it learns fewer facts, one-answer facts too",
           "under 0.65: committing to one answer costs it most of the two-answer facts")
LEARNED_ALL, LEARNED_FEW = 0.9, 0.65  # the bands of LEARNED; tests/test_llm.py asserts the runs against them


def judge_kl(lab):
    """Which of KL the run's final KL to the truth (white-box w, black-box b) bears out."""
    w, b = (lab.final[n]["kl_to_truth"] for n in RUNS)
    said = (f"This run (seed {lab.run_seed}): KL to the truth {w:.2f} nats white-box, {b:.2f} black-box, "
            f"after {lab.final['white-box'].get('teacher_queries', lab.queries.value):,} teacher queries each")
    return said, KL[0] if w < 0.5 * b else KL[1] if b - w > 0.05 else KL[3] if w - b > 0.05 else KL[2]


def judge_learned(lab):
    """Which of LEARNED the white-box student's fact accuracy bears out."""
    m = lab.final["white-box"]
    acc = m["fact_accuracy"]
    said = (f"This run (seed {lab.run_seed}): the white-box student knows {acc:.0%} of the facts and "
            f"{m['one_answer_accuracy']:.0%} of the one-answer facts; it keeps the 40% answer on "
            f"{m['second_kept_when_right']:.0%} of the 60/40 facts it got right")
    return said, LEARNED[0] if acc >= LEARNED_ALL else LEARNED[2] if acc < LEARNED_FEW else LEARNED[1]


# the outcomes are asserted over seeds 0-2 in tests/test_llm.py (the `lessons` fixture runs these settings)
SCENARIOS = {
    "white-box against black-box (the default)": Scenario(
        {}, "Both students spend the same 1,200 teacher queries: one sees the teacher's whole next-token "
            "distributions, the other only its sampled text. Which ends closer to the truth (lower KL)?", KL, KL[0],
        "Over seeds 0-2 the white-box student ends far closer to the truth: KL 0.13-0.24 against 0.54-0.70 nats "
        "for the black-box one", judge_kl),
    "reverse KL": Scenario(
        {"loss": "reverse KL (mode-seeking)"},
        "The white-box student now learns by reverse KL, on the same 1,200 queries and 500 steps. With forward "
        "KL it knows 93-96% of the facts. What share of the facts will it know now (fact accuracy)?",
        LEARNED, LEARNED[1],
        "Over seeds 0-2 the reverse-KL student knows 69-74% of the facts and only 71-76% of the one-answer facts, "
        "where there is no second answer to drop: on this budget it learned less (KL to the truth 1.9-2.4 nats "
        "against 0.13-0.24). Part of its lower share of second answers kept (35-50% against 92-98%) is that: a "
        "forward-KL student stopped at 180 steps, which knows as many facts, also keeps fewer (57-75% of the "
        "60/40 facts it got right, against 92-97% at 500 steps). The larger part remains: the reverse-KL "
        "student keeps 27-52% there, the mode-seeking that shows once the control is in place (notebook 05 "
        "runs it)", judge_learned),
}
OWN = Scenario({}, "Which student will end closer to the truth (lower KL)?", KL, None, "", judge_kl)


class LLMLab:
    def __init__(self, queries=wb.llm.LLMConfig.queries, steps=wb.llm.LLMConfig.steps, seed=0):
        style = {"description_width": "initial"}
        wide = lambda: W.Layout(width="420px")  # one Layout each: hiding one control must not hide another
        self.language = wb.llm.pretrained.language()
        self.task = wb.llm.task()
        self.queries = W.IntText(value=queries, description="teacher queries (each method)", style=style,
                                 layout=W.Layout(width="300px"))
        self.access = W.ToggleButtons(options=["full logits", "top-k"], description="white-box access", style=style,
                                      tooltips=["the whole next-token distribution at every position",
                                                "only the k most likely tokens, as commercial APIs return"])
        self.k = W.IntSlider(value=5, min=1, max=26, description="k", continuous_update=False, style=style,
                             layout=wide())
        self.loss = W.Dropdown(options=list(LOSSES), value=list(LOSSES)[0], description="white-box loss", style=style,
                               layout=wide())
        self.beta = W.FloatSlider(value=0.5, min=0, max=1, step=0.05, description="β (0 forward KL, 1 reverse KL)",
                                  continuous_update=False, style=style, layout=wide())
        self.on_policy = W.FloatSlider(value=0.0, min=0, max=1, step=0.1, description="on-policy share λ",
                                       continuous_update=False, style=style, layout=wide())
        self.temperature = temperature_slider(1.0, continuous=False, low=LLM_T_MIN, high=LLM_T_MAX,
                                              description="temperature")
        self.steps = W.IntText(value=steps, description="optimizer steps", style=style, layout=W.Layout(width="220px"))
        self.seed = W.IntText(value=seed, description="seed", style=style, layout=W.Layout(width="220px"))
        self.facts = two_answer_facts(self.language)
        # by default a subject of middling frequency: a few queries each, where samples and logits differ most
        middle = min(self.facts, key=lambda k: abs(self.facts[k].rank - len(self.language.subjects) // 2))
        self.fact = W.Dropdown(options=list(self.facts), value=middle, description="a 60/40 fact", style=style,
                               layout=W.Layout(width="560px"))
        self.controller = RunController(self.prepare, self.redraw)
        self.message = self.controller.message
        self.picker = ScenarioPicker(self, SCENARIOS, DEFAULTS, OWN, self.controller)

        self.histories = {name: [] for name in RUNS}
        self.students, self.summary, self.dists, self.final = {}, None, {}, {}
        self.changed = False  # figures are redrawn only after a round, not after every step
        self._teacher_fact = (None, None)  # (fact, the teacher's answer distribution), computed once per fact
        self.curves = live(self.curve_figure(), width=760, height=330)
        self.bars = live(self.fact_figure(), width=760, height=330)
        self.table = W.HTML()
        for control in (self.access, self.loss):
            control.observe(lambda *_: self.show_options(), names="value")
        self.fact.observe(guarded(self.message, lambda *_: self.show_fact()), names="value")
        self.show_options()
        self.controller.lock(self.picker.menu, self.queries, self.access, self.k, self.loss, self.beta, self.on_policy,
                             self.temperature, self.steps, self.seed)
        controls = W.VBox([self.picker.widget, self.queries, self.access, self.k, self.loss, self.beta,
                           self.on_policy, self.temperature, self.steps, self.seed, self.picker.ask,
                           self.controller.widget],
                          layout=W.Layout(width="440px", padding="0 12px 0 0"))
        self.widget = W.VBox([W.HBox([controls, W.VBox([self.curves.view, self.fact, self.bars.view])]), self.table])

    def show_options(self):
        self.k.layout.display = None if self.access.value == "top-k" else "none"
        self.beta.layout.display = None if LOSSES[self.loss.value] == "jsd" else "none"

    def configs(self):
        """The two runs' configs from the controls (ValueError names a bad value)."""
        white = wb.llm.LLMConfig(method="top-k" if self.access.value == "top-k" else "white-box",
                                 queries=self.queries.value, loss=LOSSES[self.loss.value], beta=self.beta.value,
                                 temperature=self.temperature.value, on_policy=self.on_policy.value, k=self.k.value,
                                 steps=self.steps.value, seed=self.seed.value,
                                 rounds=wb.llm.experiments.rounds_for(self.queries.value))
        return {"white-box": white, "black-box": white.replace(method="black-box", on_policy=0.0)}

    def prepare(self, stop):
        cfgs = self.configs()
        teacher = wb.llm.teacher("facts")
        self.students = {name: wb.llm.student(cfgs[name].seed) for name in RUNS}
        self.run_seed = cfgs["white-box"].seed
        runs = {name: wb.llm.steps(self.students[name], teacher, self.task, cfgs[name], stop=stop) for name in RUNS}
        self.histories = {name: [] for name in RUNS}
        self.summary, self.dists, self.final, self.changed = None, {}, {}, True
        self.table.value = ""
        return self._work(runs, cfgs["white-box"].steps)

    def _work(self, runs, total):
        results = yield from lockstep(runs, self._record, total)
        self._summarise(results)

    def _record(self, name, event):
        if event.kind == "round":
            self.histories[name].append({**event.metrics, **self.task.evaluate(self.students[name])})
            self.dists[f"student, {name}"] = self.student_answers(self.students[name])
            self.changed = True

    def _summarise(self, results):
        teacher = wb.llm.teacher("facts")
        rows = {"teacher": self.task.evaluate(teacher)}
        self.final = {name: res.metrics for name, res in results.items()}
        for name, res in results.items():
            rows[f"student, {name}"] = res.metrics
        cols = {**METRICS, "teacher_queries": "teacher queries", "teacher_tokens": "teacher tokens"}
        self.summary = {label: {cols[k]: r[k] for k in cols if k in r} for label, r in rows.items()}
        rare = [f for f in self.language.facts if self.language.rare(f) and f.kind == "two"][:4]
        prompts = [self.language.prompt(f.subject, f.relation) for f in rare]
        said = evaluate.samples({"teacher": teacher, **{f"student, {n}": r.student for n, r in results.items()}},
                                prompts, max_new_tokens=8, stop=wb.llm.facts.STOP, seed=self.run_seed)
        self.samples = {p: {who: said[who][i] for who in said} for i, p in enumerate(prompts)}
        self.changed = True

    def curve_figure(self):
        return plots.curves_side_by_side(self.histories, ["kl_to_truth", "rare_coverage"], x="queries",
                                         title="What each student knows, by teacher queries spent")

    def current_fact(self):
        return self.facts[self.fact.value]

    def student_answers(self, model):
        f = self.current_fact()
        return evaluate.answer_probabilities(model, self.language, f.subject, f.relation)

    def show_fact(self):
        """Another fact picked: its truth and teacher, and the students as they are now."""
        self.dists = {f"student, {name}": self.student_answers(m) for name, m in self.students.items()}
        refresh(self.bars, self.fact_figure())

    def fact_figure(self):
        f = self.current_fact()
        if self._teacher_fact[0] != f:
            teacher = evaluate.answer_probabilities(wb.llm.teacher("facts"), self.language, f.subject, f.relation)
            self._teacher_fact = (f, teacher)
        dists = {"truth": dict(zip(f.answers, f.probs)), "teacher": self._teacher_fact[1], **self.dists}
        return plots.distribution_bars(dists, wb.llm.facts.RELATIONS[f.relation],
                                       title=f"{self.language.prompt(f.subject, f.relation)} …")

    def redraw(self):
        if not self.changed:
            return
        self.changed = False
        refresh(self.curves, self.curve_figure())
        refresh(self.bars, self.fact_figure())
        if self.summary:
            self.table.value = ("<b>Test against the truth</b>" + html_table(self.summary) +
                                "<br><b>Samples for rare subjects</b> (60/40 facts)" + html_table(self.samples))
