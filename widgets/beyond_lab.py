"""BeyondLab: what distillation research learned since 2015 (issue 24), one experiment at a
time, on digits.

The "experiment" menu picks one of workbench.beyond's experiments: the capacity gap and
the teacher assistant, born-again generations, label-smoothed teachers, transfer sets, and
fidelity. Each is a named scenario (widgets.scenarios): choosing it sets the controls the
engine measured at, asks its question with shuffled answers before Run, and reveals after
Run what was measured over seeds (each engine module's docstring says it), judged against
this run's own numbers. Moving a control makes the settings the learner's own: the same question,
judged, with no promise of an outcome ("measured settings" brings the experiment's back).

Run calls the experiment's `run(seed=..., stop=...)` in a background thread, so the page
stays free for Stop (the engine checks its stop event between students and at every
step); a bad value (an assistant width that does not exist) comes back as the engine's
ValueError, shown next to the controls. Each experiment's figures are pure functions of
its result (widgets.beyond_plots); the last result of every experiment is kept, so going
back to one shows its figures again."""
import html
import inspect
import threading
import time

import ipywidgets as W

from workbench import _check

from . import a11y
from . import beyond_plots as bp
from .controls import STYLE, alpha_slider, int_box, temperature_slider
from .live import guarded, html_table, live, refresh
from .plots import num
from .runner import RunController
from .scenarios import OWN_SETTINGS, Scenario, ScenarioPicker, compare

EXPERIMENTS = {"capacity_gap": "capacity gap and the teacher assistant", "born_again": "born-again generations",
               "smoothing": "label-smoothed teachers", "transfer": "transfer sets", "fidelity": "fidelity"}
# the controls each experiment's run takes, beside the seed
PARAMETERS = {"capacity_gap": ("assistant", "temperature", "alpha"), "born_again": ("generations", "label_noise"),
              "smoothing": (), "transfer": (), "fidelity": ()}
POLL = 0.05  # seconds the run waits for the engine's thread before the page gets its turn

ABOUT = {
    "capacity_gap": "<b>A bigger teacher is not always a better teacher.</b> Cho &amp; Hariharan (2019, \"On the "
                    "Efficacy of Knowledge Distillation\") found that more accurate, larger teachers can make worse "
                    "teachers for a small student, and that stopping the large teacher's training early helps. "
                    "Mirzadeh et al. (2020, \"Improved Knowledge Distillation via Teacher Assistant\") put a "
                    "middle-sized <i>teacher assistant</i>, distilled from the large teacher, between the two. Here: a "
                    "linear student (softmax regression) on 10% of the digits, distilled from MLP teachers of rising "
                    "size, from an assistant and from the large teacher stopped early.",
    "born_again": "<b>Students the size of their teacher.</b> Furlanello et al. (2018, \"Born-Again Neural "
                  "Networks\") trained a student of the teacher's own architecture on the same data with the "
                  "teacher's outputs, then a student of that student, and on CIFAR the first student beat its "
                  "teacher. Here: an MLP of 32 hidden units on all the digits' training images, a share of their "
                  "labels wrong (as real labels often are); generation 0 learns the labels, each next generation is "
                  "distilled from the one before, on the same images and labels. Set the share to 0 for the control: "
                  "with clean labels no generation beats its teacher on digits, so what shows here is a related "
                  "effect, not Furlanello et al.'s: soft labels undoing a teacher's memorised wrong labels.",
    "smoothing": "<b>Label smoothing and distillation.</b> Müller, Kornblith &amp; Hinton (2019, \"When Does Label "
                 "Smoothing Help?\") showed that label smoothing pulls each class into a tight cluster, erasing "
                 "which wrong classes an example resembles, and that such a teacher distils worse. Yuan et al. "
                 "(2020, \"Revisiting Knowledge Distillation via Label Smoothing Regularization\") asked how much of "
                 "KD's gain a hand-made uniform \"teacher\" (label smoothing alone) gives. Here: MLP 256x256 "
                 "teachers trained with ε = 0, 0.1 and 0.3 each teach the same MLP student on 10% of the digits.",
    "transfer": "<b>Which inputs the teacher is asked about.</b> Hinton et al. (2015) distil on a <i>transfer "
                "set</i> that need not be labelled; Buciluă, Caruana &amp; Niculescu-Mizil (2006) labelled "
                "synthetic inputs with their ensemble; Lopes, Fenu &amp; Starner (2017, \"Data-Free Knowledge "
                "Distillation for Deep Neural Networks\") distilled with the training data gone. Here: the CNN "
                "teacher's soft labels alone (alpha = 1) on five transfer sets of the same size, from the real "
                "training images to uniform noise.",
    "fidelity": "<b>Does the student match its teacher?</b> Stanton et al. (2021, \"Does Knowledge Distillation "
                "Really Work?\") measured <i>fidelity</i>, how closely a student agrees with its teacher, apart from "
                "its accuracy, and found students often match far less than they could, more so away from the "
                "inputs they were taught on; longer training and augmented transfer data raise it. Here: an MLP "
                "student distilled from the CNN teacher on 25% of the digits for 30 epochs, for 300, and for 30 on "
                "augmented inputs; agreement = share of test images where both pick the same class.",
}
COLLAPSE_NOTE = ("<small>Set this beside the <b>Collapse</b> tab's digits setting: there each generation learns "
                 "from the labels the previous one gave, the real data replaced, and the rare digits fade; here "
                 "every generation keeps the real images and labels.</small>")


# --- the questions: each `expected` is what the engine's docstring states it measured over seeds ---

LARGEST = "the 256x256 teacher's, by more than a point"
SMALLER = "the 16-unit teacher's, by more than a point"
LEVEL = "neither: their students end within a point of each other"
CAPACITY = (LARGEST, SMALLER, LEVEL)

BETTER = "better by more than 3 points: a student of its teacher's size beats it"
HOLDS = "within 3 points of generation 0: the same network on the same labels learns the same"
WORSE = "worse by more than 3 points: it copies its teacher's mistakes and adds its own"
GENERATIONS = (BETTER, HOLDS, WORSE)

PLAIN = "the plain teacher (ε = 0): its student ends more than a point ahead"
SMOOTHED = "the smoothed teacher (ε = 0.3): its softer labels give a student more than a point ahead"
EVEN = "neither: equally accurate teachers, students within a point of each other"
SMOOTHING = (PLAIN, SMOOTHED, EVEN)

RECOVERED = "within 10 points of the student taught on all the real images: the soft labels teach 5-9 too"
PARTLY = "between 65% and 10 points short of the real-images student: some of 5-9 is recovered"
HALF = "about half right (35% to 65%): it learns almost nothing of 5-9"
CHANCE = "below 35%: it learns little of any digit"
TRANSFER = (RECOVERED, PARTLY, HALF, CHANCE)

HIGHER = "higher by more than 5 points: longer training raises fidelity"
SAME = "within 5 points: the student already matches its teacher as well as it can"
LOWER = "lower by more than 5 points: 300 epochs overfit the 270 images"
FIDELITY = (HIGHER, SAME, LOWER)


def judge_capacity(lab):
    """Which of CAPACITY the students of the 16-unit and the largest teacher bear out, a point apart."""
    rows = [r for r in lab.result["teachers"] if bp.row_kind(r) == "teacher"]
    small = next(r for r in rows if tuple(r["width"]) == (16,))
    large = rows[-1]  # rising size: the last is the largest
    said = (f"This run (seed {lab.result_seed}): the student of {small['name']} {num(small['student_acc'], 3)}, of "
            f"{large['name']} {num(large['student_acc'], 3)}")
    return said, compare(small["student_acc"], large["student_acc"], 0.01, (SMALLER, LEVEL, LARGEST))


def judge_generations(lab):
    """Which of GENERATIONS generation 1's test accuracy against generation 0's bears out."""
    acc = lab.result["test_acc"]
    said = f"This run (seed {lab.result_seed}): test accuracy by generation " + " → ".join(num(a, 3) for a in acc)
    return said, compare(acc[1], acc[0], 0.03, (BETTER, HOLDS, WORSE))


def judge_smoothing(lab):
    """Which of SMOOTHING the students of the plain and the most smoothed teacher bear out."""
    teachers = sorted(lab.result["teachers"], key=lambda t: t["label_smoothing"])
    plain, smooth = teachers[0], teachers[-1]
    said = (f"This run (seed {lab.result_seed}): the student of the plain teacher {num(plain['student_acc'], 3)}, "
            f"of the ε = {smooth['label_smoothing']:g} teacher {num(smooth['student_acc'], 3)}")
    return said, compare(plain["student_acc"], smooth["student_acc"], 0.01, (PLAIN, EVEN, SMOOTHED))


def judge_transfer(lab):
    """Which of TRANSFER the student distilled on digits 0-4 bears out, against the real-images one."""
    sets = {s["name"]: s["student_acc"] for s in lab.result["sets"]}
    part, real = sets["digits 0-4"], sets["real images"]
    said = (f"This run (seed {lab.result_seed}): the student of digits 0-4 {num(part, 3)} on all ten digits, of the "
            f"real images {num(real, 3)}")
    choice = RECOVERED if part >= real - 0.10 else PARTLY if part > 0.65 else HALF if part >= 0.35 else CHANCE
    return said, choice


def judge_fidelity(lab):
    """Which of FIDELITY the 300-epoch student's test agreement against the 30-epoch one's bears out."""
    rows = {r["name"]: r for r in lab.result["rows"]}
    short, long = rows["30 epochs"]["agreement"], rows["300 epochs"]["agreement"]
    said = (f"This run (seed {lab.result_seed}): test agreement {num(short, 3)} after 30 epochs, {num(long, 3)} "
            f"after 300")
    return said, compare(long, short, 0.05, (HIGHER, SAME, LOWER))


QUESTIONS = {
    "capacity_gap": ("A linear student learns on 10% of the digits from MLP teachers of rising size: 8, 16, 64 and "
                     "256x256 hidden units, the largest the most accurate. Whose student will be more accurate: the "
                     "16-unit teacher's or the 256x256 teacher's?",
                     CAPACITY, judge_capacity),
    "born_again": ("Generation 0, an MLP, learns the digits' training images with 40% of their labels wrong. "
                   "Generation 1, the same MLP, learns the same images and labels plus generation 0's soft labels. "
                   "How will its test accuracy compare with generation 0's?", GENERATIONS, judge_generations),
    "smoothing": ("Teachers trained with label smoothing are about as accurate as one trained without. Which makes "
                  "the better teacher for the same student: the one trained with ε = 0.3, or the plain one?",
                  SMOOTHING, judge_smoothing),
    "transfer": ("A student is distilled on the training images of digits 0-4 only: the teacher's soft labels on "
                 "them still give some probability to 5-9. How will it do on the test images of all ten digits?",
                 TRANSFER, judge_transfer),
    "fidelity": ("Distilled on the same images, a student trained for 300 epochs instead of 30: how will its "
                 "agreement with the teacher on the test images change?", FIDELITY, judge_fidelity),
}
# the outcome each scenario reveals after a run, from its engine module's docstring (seeds named);
# fidelity's ranges were measured through this lab over seeds 0-5
OUTCOMES = {
    "capacity_gap": (SMALLER, "Measured over seeds 0-5: the student of the 16-unit teacher (94.2% accurate) beats "
                              "the student of the 256x256 teacher (97.2%) on every seed, by 1.1 to 6.9 points (mean "
                              "4.3). The large teacher stopped early (3 epochs, chosen on the validation split) gives "
                              "back most of the gap on average (3.1 of 4.3 points); the teacher assistant does not "
                              "close it here: distilled from the large teacher, it copies it (-0.6 to +1.4 points)"),
    "born_again": (BETTER, "Measured over seeds 0-4: with 40% of the labels wrong, generation 0 memorises them and "
                           "reaches 0.65-0.73 on the test set; generation 1 beats it by 5.3 to 8.1 points (mean "
                           "6.5), and generation 2 holds that. The control, with clean labels (share 0): generation "
                           "1 is within a point of generation 0 (-0.6 to +0.5 points), as at 37 other settings "
                           "tried; a teacher that fits its images perfectly says little beyond their labels"),
    "smoothing": (PLAIN, "Measured over seeds 0-3: the smoothed teachers are as accurate (0.978 against 0.972) but "
                         "their wrong classes are almost equally likely (evenness 0.68 without smoothing, 0.996 at "
                         "ε = 0.1, 0.999 at ε = 0.3): little dark knowledge is left. Each seed's ε = 0.3 student "
                         "ends 2-6 points below its plain teacher's. Label smoothing alone (the uniform teacher) "
                         "gives none of KD's gain here: within 2.5 points of hard labels, while the plain teacher "
                         "adds 3-7 points"),
    "transfer": (HALF, "Measured over seeds 0-2: 0.50-0.51 on digits 0-4 (repeated to as many inputs as the other "
                       "sets), against 0.96-0.97 on the real images: unlike one left-out digit (the Distillation "
                       "lab's scenario), five missing digits are not recovered from dark knowledge in this setting. 20 images augmented teach 0.82-0.85, the same 20 repeated 0.76-0.77, and "
                       "uniform noise 0.10, chance"),
    "fidelity": (HIGHER, "Measured over seeds 0-5: test agreement 0.68-0.86 after 30 epochs, 0.94-0.96 after 300; "
                         "yet after 300 epochs the KL to the teacher on the test set (0.12-0.18) stays 2.5 to 6 "
                         "times the KL on the images it was taught on (0.03-0.05): the student matches where it was "
                         "taught, much less elsewhere. Augmented inputs raise agreement to 0.93-0.96 in 30 epochs, "
                         "with a test KL (0.15-0.19) close to the transfer set's (0.12-0.17)"),
}


def scenario(key):
    """The named scenario of experiment `key`: its question, its measured outcome, its judge."""
    question, choices, judge = QUESTIONS[key]
    expected, outcome = OUTCOMES[key]
    return Scenario({"experiment": key}, question, choices, expected, outcome, judge)


def own(key):
    """The same question at the learner's own settings: judged, no outcome promised."""
    question, choices, judge = QUESTIONS[key]
    return Scenario({}, question, choices, None, "", judge)


SCENARIOS = {EXPERIMENTS[key]: scenario(key) for key in EXPERIMENTS}


def engine_modules():
    """{experiment: its module of workbench.beyond}."""
    from workbench import beyond
    return {key: getattr(beyond, key) for key in EXPERIMENTS}


def run_defaults(run):
    """{parameter: default} of an experiment's run function (the settings it was measured at)."""
    return {name: p.default for name, p in inspect.signature(run).parameters.items()
            if p.default is not inspect.Parameter.empty}


def figures(key, result):
    """The experiment's figures for its result (None before a run): one or two."""
    if key == "capacity_gap":
        return [bp.capacity_gap_figure(result)]
    if key == "born_again":
        return [bp.born_again_figure(result)]
    if key == "smoothing":
        return [bp.smoothing_heatmaps(result), bp.smoothing_bars(result)]
    if key == "transfer":
        return [bp.transfer_bars(result)]
    return [bp.fidelity_figure(result)]


def table_rows(key, result):
    """{row: {column: value}} of a result, for the table under the figures."""
    r = result or {}
    if key == "capacity_gap":
        rows = {t["name"]: {"teacher parameters": f"{t['parameters']:,}", "teacher test accuracy": t["teacher_acc"],
                            "student test accuracy": t["student_acc"],
                            "student validation accuracy": t["student_val_acc"]} for t in r.get("teachers", [])}
        if r.get("hard_labels") is not None:
            rows["hard labels, no teacher"] = {"student test accuracy": r["hard_labels"]}
        return rows
    if key == "born_again":
        return {f"generation {g}" + (" (the labels)" if g == 0 else f" (from generation {g - 1})"):
                {"test accuracy": t, "validation accuracy": v}
                for g, (t, v) in enumerate(zip(r.get("test_acc", []), r.get("val_acc", [])))}
    if key == "smoothing":
        rows = {f"teacher, {bp.epsilon_label(t['label_smoothing'])}": {
            "teacher test accuracy": t["teacher_acc"], "wrong-class evenness": bp.evenness(t),
            "student test accuracy": t["student_acc"]} for t in r.get("teachers", [])}
        if r.get("uniform_teacher") is not None:
            eps = r.get("uniform_epsilon")
            name = "uniform teacher, label smoothing alone" + (f", ε = {eps:g}" if eps is not None else "")
            rows[name] = {"student test accuracy": r["uniform_teacher"]}
        if r.get("hard_labels") is not None:
            rows["hard labels"] = {"student test accuracy": r["hard_labels"]}
        return rows
    if key == "transfer":
        return {s["name"]: {"what it is": s["about"], "inputs": f"{s['inputs']:,}", "student test accuracy":
                            s["student_acc"], "agreement with the teacher": s["agreement"]} for s in r.get("sets", [])}
    return {row["name"]: {"epochs": row["epochs"], "inputs": f"{row['inputs']:,}", "test accuracy": row["test_acc"],
                          "agreement with the teacher": row["agreement"],
                          "KL to the teacher, test": row["kl_to_teacher"],
                          "KL to the teacher, transfer set": row["kl_to_teacher_train"]} for row in r.get("rows", [])}


class BeyondLab:
    def __init__(self, splits=None, engine=None, seed=0):
        """`splits` is unused (the engine loads its own digits; the app passes its splits to
        every tab); `engine`: {experiment: module with run(...)}, workbench.beyond's by default."""
        self.engine = engine or engine_modules()
        capacity = run_defaults(self.engine["capacity_gap"].run)
        born = run_defaults(self.engine["born_again"].run)
        self.widths = [bp.width_label(w) for w in self.engine["capacity_gap"].ASSISTANT_WIDTHS]
        self.experiment = W.Dropdown(options=[(title, key) for key, title in EXPERIMENTS.items()],
                                     value="capacity_gap", description="experiment", style=STYLE,
                                     layout=W.Layout(width="420px"))
        self.seed = int_box(seed, "seed")
        self.assistant = int_box(capacity["assistant"][0], "teacher assistant width (hidden units)", width="300px")
        self.temperature = temperature_slider(capacity["temperature"], continuous=False)
        self.alpha = alpha_slider(capacity["alpha"])
        self.generations = int_box(born["generations"], "generations after generation 0", width="300px")
        self.label_noise = W.FloatSlider(value=born["label_noise"], min=0.0, max=0.9, step=0.05,
                                         description="share of wrong training labels", readout_format=".0%",
                                         continuous_update=False, style=STYLE, layout=W.Layout(width="420px"))
        self.defaults = {"assistant": capacity["assistant"][0], "temperature": capacity["temperature"],
                         "alpha": capacity["alpha"], "generations": born["generations"],
                         "label_noise": born["label_noise"]}
        self.widths_note = W.HTML(f"<small>available widths: {', '.join(self.widths)} hidden units (each distilled "
                                  f"from the largest teacher)</small>")
        self.about = W.HTML(layout=W.Layout(max_width="440px"))
        self.collapse_note = W.HTML(COLLAPSE_NOTE, layout=W.Layout(max_width="440px"))
        self.measured = W.Button(description="measured settings", icon="undo", layout=W.Layout(width="200px"),
                                 tooltip="the settings the experiment's stated outcome was measured at")
        a11y.name(self.measured, "back to the experiment's measured settings")

        self.controller = RunController(self.prepare, self.redraw)
        self.message = self.controller.message
        self.controller.progress_text = self.progress_words
        self.picker = ScenarioPicker(self, SCENARIOS, self.defaults, own("capacity_gap"), self.controller)
        self.controller.lock(self.picker.menu, self.experiment, self.seed, self.assistant, self.temperature,
                             self.alpha, self.generations, self.label_noise)
        self.controller.on_start.append(lambda: setattr(self.measured, "disabled", True))
        self.controller.on_end.append(lambda completed: setattr(self.measured, "disabled", False))
        self.results, self.seeds = {}, {}  # the last result of each experiment, and its seed
        self.ran = None  # the experiment of the last run
        self.started, self.changed = None, False
        self.main = live(figures("capacity_gap", None)[0], width=760, height=440)
        self.side = live(bp.smoothing_bars(None), width=760, height=400)
        self.setting = W.HTML()
        self.table = W.HTML()
        self.experiment.observe(guarded(self.message, lambda change: self.choose(change["new"])), names="value")
        self.measured.on_click(guarded(self.message, lambda _: self.use_measured()))
        column = W.VBox([self.experiment, self.about, self.seed, self.assistant, self.widths_note, self.temperature,
                         self.alpha, self.generations, self.label_noise, self.collapse_note, self.measured,
                         self.picker.ask,
                         self.controller.widget], layout=W.Layout(width="460px", min_width="460px",
                                                                  padding="0 12px 0 0"))
        self.widget = W.VBox([W.HBox([column, W.VBox([self.main.view, self.side.view])]), self.setting, self.table])
        self.show_controls()
        self.draw()

    # --- the experiment and its controls -----------------------------------------------

    @property
    def key(self):
        return self.experiment.value

    @property
    def result(self):
        """The last result of the experiment chosen (None before its first run)."""
        return self.results.get(self.key)

    @property
    def result_seed(self):
        return self.seeds.get(self.key)

    def choose(self, key):
        """Another experiment: its question (at its measured settings), its controls, its last figures."""
        self.picker.own = own(key)
        self.picker.predictions.pop(OWN_SETTINGS, None)  # the own question is the new experiment's
        if self.picker.menu.value != EXPERIMENTS[key]:
            self.picker.menu.value = EXPERIMENTS[key]
        self.show_controls()
        self.changed = True
        self.draw()

    def use_measured(self):
        """Back to the settings the chosen experiment's outcome was measured at."""
        self.picker.menu.value = OWN_SETTINGS
        self.picker.menu.value = EXPERIMENTS[self.key]

    def show_controls(self):
        key = self.key
        self.about.value = ABOUT[key]
        shown = {"assistant": self.assistant, "widths_note": self.widths_note, "temperature": self.temperature,
                 "alpha": self.alpha, "generations": self.generations, "label_noise": self.label_noise}
        wanted = set(PARAMETERS[key]) | ({"widths_note"} if key == "capacity_gap" else set())
        for name, control in shown.items():
            control.layout.display = None if name in wanted else "none"
        self.collapse_note.layout.display = None if key == "born_again" else "none"
        self.side.view.layout.display = None if key == "smoothing" else "none"

    def arguments(self):
        """The keyword arguments of the chosen experiment's run, from the controls; the
        engine checks them (a ValueError names the parameter)."""
        args = {"seed": _check.seed("seed", self.seed.value)}
        if self.key == "capacity_gap":
            args.update(assistant=self.assistant.value, temperature=self.temperature.value, alpha=self.alpha.value)
        elif self.key == "born_again":
            args.update(generations=self.generations.value, label_noise=self.label_noise.value)
        return args

    # --- the run --------------------------------------------------------------------------

    def prepare(self, stop):
        key, args = self.key, self.arguments()
        self.started = time.perf_counter()
        return self._work(key, args, stop)

    def _work(self, key, args, stop):
        """Run the engine in a thread; yield while it works so the page handles Stop."""
        box = {}

        def target():
            try:
                box["result"] = self.engine[key].run(stop=stop, **args)
            except Exception as e:  # raised here, in the run: the controller shows it
                box["error"] = e

        worker = threading.Thread(target=target, name=f"beyond-{key}", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(POLL)
            yield None
        if "error" in box:
            raise box["error"]
        self.results[key], self.seeds[key], self.ran = box["result"], args["seed"], key
        self.changed = True

    def progress_words(self):
        if self.started is None:
            return ""
        return f"{EXPERIMENTS[self.key]}: {time.perf_counter() - self.started:.0f} s so far"

    def board_results(self):
        """The numbers of the last run, for the class board: accuracies by row, and the
        agreements and KLs where the experiment measures them."""
        key, r = self.ran, self.results.get(self.ran) or {}
        out = {}
        if key == "capacity_gap":
            out = {f"student of {t['name']}": t["student_acc"] for t in r.get("teachers", [])}
        elif key == "born_again":
            out = {f"generation {g}": a for g, a in enumerate(r.get("test_acc", []))}
        elif key == "smoothing":
            out = {f"student of teacher ε = {t['label_smoothing']:g}": t["student_acc"] for t in r.get("teachers", [])}
            if r.get("uniform_teacher") is not None:
                out["uniform teacher"] = r["uniform_teacher"]
        elif key == "transfer":
            for s in r.get("sets", []):
                out[f"{s['name']}: student"], out[f"{s['name']}: agreement"] = s["student_acc"], s["agreement"]
        elif key == "fidelity":
            for row in r.get("rows", []):
                for k in ("test_acc", "agreement", "kl_to_teacher"):
                    out[f"{row['name']}: {k}"] = row[k]
        if r.get("hard_labels") is not None:
            out["hard labels"] = r["hard_labels"]
        return out

    # --- drawing --------------------------------------------------------------------------

    def redraw(self):
        if self.changed:
            self.draw()

    def draw(self):
        """The chosen experiment's figures, setting and table from its last result."""
        self.changed = False
        key, result = self.key, self.result
        figs = figures(key, result)
        refresh(self.main, figs[0])
        if len(figs) > 1:
            refresh(self.side, figs[1])
        if not result:
            self.setting.value = self.table.value = ""
            return
        stopped = " Stopped before the end: what finished is shown." if result.get("stopped") else ""
        setting = html.escape(str(result.get("setting", "")))
        self.setting.value = (f"<p style='max-width:980px'><b>Setting:</b> {setting}."
                              f"{html.escape(stopped)}</p>")
        self.table.value = html_table(table_rows(key, result))
