"""The shape of the distillation, feature and relation labs: two students of the same
architecture, from the same initial weights, trained on the same batches in lockstep
(one optimizer step each in turn), one with something the other lacks (the teacher's
soft labels, or an extra feature or relation term), their curves growing live.

A subclass builds its own controls and figures and hands them to `assemble`; it says
which student it builds (`student_recipe`), how each is trained (`run_configs`), what
is watched after every epoch (`start`, `watch`), what happens at the end (`finish`) and
what is drawn (`redraw`). The run itself (checking the controls, building the students,
driving both runs, reporting a diverged one) is written here once."""
import ipywidgets as W

import workbench as wb

from .controls import STYLE
from .live import Message
from .runner import RunController, check_diverged, lockstep
from .scenarios import ScenarioPicker
from .teacher_cache import teacher as cached_teacher


class TwoStudentsLab:
    runs = ("with", "without")  # the two students, by the names their curves carry
    scenarios = {}  # {name: Scenario}; the first is the lab's default
    own = None  # the Scenario (its question) asked when the controls are the learner's own

    def __init__(self, splits=None, teacher_names=None, teacher=None):
        self.splits = splits or wb.data.load("digits")
        names = teacher_names or wb.teachers.available(self.splits.name)
        self.teacher = W.Dropdown(options=names, value=teacher if teacher in names else names[0],
                                  description="teacher", style=STYLE)
        self.controller = RunController(self.prepare, self.redraw)
        self.controller.progress_text = self.epochs_done  # said in the live region: "epoch 12 of 30"
        self.message = self.controller.message
        self.histories = {name: [] for name in self.runs}

    def assemble(self, controls, beside, below, defaults):
        """The scenario menu (a scenario sets `defaults`, then its own changes), the
        controls locked while a run is in progress (all of `controls` but messages), and
        the layout: the menu, `controls`, the scenario's question (predict, then Run) and
        Run/Stop in a column, `beside` it, `below` them all."""
        self.picker = ScenarioPicker(self, self.scenarios, defaults, self.own, self.controller) \
            if self.scenarios else None
        menu = [self.picker.menu] if self.picker else []
        if self.picker:
            self.scenario = self.picker.menu
        self.controller.lock(*menu, *(c for c in controls if not isinstance(c, Message)))
        column = W.VBox(menu + list(controls) + ([self.picker.ask] if self.picker else []) + [self.controller.widget],
                        layout=W.Layout(width="440px", padding="0 12px 0 0"))
        self.widget = W.VBox([W.HBox([column, beside]), below])

    def teacher_model(self):
        """The teacher the dropdown names, from the cache all the labs share."""
        return cached_teacher(self.teacher.value, self.splits.train.x.device)

    def build_student(self, seed):
        """A fresh student of `student_recipe()`, its weights drawn after seeding with
        `seed` (so both students start equal)."""
        arch, size = self.student_recipe()
        wb.seed_everything(seed)
        return wb.models.build(arch, self.splits.input_shape, self.splits.num_classes, **size)

    def config(self, **more):
        return wb.DistillConfig(temperature=self.temperature.value, alpha=self.alpha.value, epochs=self.epochs.value,
                                seed=self.seed.value, **more)

    def prepare(self, stop):
        """Check the controls (a ValueError is shown next to them) and set up both runs."""
        cfg = self.config()
        configs = self.run_configs(cfg)
        transfer = self.transfer_set(cfg)
        teacher = self.teacher_model()
        self.students = {name: self.build_student(cfg.seed) for name in self.runs}
        runs = {name: wb.steps(self.students[name], transfer, run_cfg, teacher=teacher if taught else None, stop=stop)
                for name, (run_cfg, taught) in configs.items()}
        self.histories = {name: [] for name in self.runs}
        self.start(teacher)
        steps_per_epoch = max(1, -(-len(transfer.train) // cfg.batch_size))
        return self._work(runs, teacher, cfg.epochs * steps_per_epoch)

    def _work(self, runs, teacher, total):
        results = yield from lockstep(runs, self._record, total)
        self.finish(results, teacher)
        check_diverged(results)

    def epochs_done(self):
        """The run's progress in words, "epoch k of n" (the students run in lockstep: the fewer)."""
        done = min((len(h) for h in getattr(self, "histories", {}).values()), default=0)
        return f"epoch {done} of {self.epochs.value}"

    def _record(self, name, event):
        if event.kind == "epoch":
            self.histories[name].append({**event.metrics, **self.watch(name, self.students[name])})

    def student_recipe(self):
        """(architecture, size keywords) of the students, from the controls (subclasses)."""
        raise NotImplementedError

    def run_configs(self, cfg):
        """{run name: (its DistillConfig, whether it learns from the teacher)} (subclasses)."""
        raise NotImplementedError

    def transfer_set(self, cfg):
        """The Splits both students train on: all of the lab's data unless a subclass says otherwise."""
        return self.splits

    def start(self, teacher):
        """Set up what is watched for a new run (subclasses)."""

    def watch(self, name, student):
        """Per-epoch measurements of a student, added to its history (subclasses)."""
        return {}

    def finish(self, results, teacher):
        """What a lab does with the runs' Results ({name: Result}) at the end (subclasses)."""

    def redraw(self):
        """Push the lab's state to its figures (subclasses)."""
        raise NotImplementedError
