"""One run controller for every lab: Run and Stop buttons, a progress bar, a message,
throttled redraws, and a run that never freezes the page. Hooks in `on_start` run when a
run starts and those in `on_end` (called with whether it ran to its end) when it ends:
the scenario picker locks the learner's prediction there, then reveals the outcome.

The message line (live.Message) is a live region (made role=status by widgets.a11y):
a screen reader hears "Running…", the progress every `note_interval` seconds ("Running…
epoch 3 of 30" when the lab sets `progress_text`, else "Running… 40% done"), "Stopped.",
"Done." and errors. Run and Stop (classes `kd-run`, `kd-stop` in a `kd-runner` row) hand
the keyboard focus to each other as a run starts and ends, so Stop is where the focus is.

A lab supplies `prepare(stop)`, which checks its controls (raising ValueError with a
message for the learner) and returns an iterator whose every `next()` does a small piece
of work (one optimizer step) and yields the fraction done (or None); and `redraw()`, which
pushes the lab's state to its figures. The controller drives the iterator as an asyncio
task on the kernel's event loop, so that Stop, a slider moved in another tab, and the
figures' own replies (all messages to the same kernel) are handled while a run is in
progress.

How a run shares the kernel, and why. Measured in the Voila app with headless Chromium
on two busy cores while the Distillation lab ran, ipykernel 7.4, before this design
(bench/browser_latency.py measures it again):

* A widget message (Stop, a slider) reached the kernel's shell thread 2-10 ms after the
  click, then waited 0.1-1.2 s for the main loop: the shell thread hands messages over
  through a ZMQ stream read one message per loop iteration, and each handler needs a few
  more iterations. Yielding with `sleep(0)` after every step gave the loop one
  iteration per step, behind the 2-3 replies plotly's figures send after each redraw.
* Redraws (both figures' whole history serialised) took 60-130 ms, one every 0.1 s:
  42% of the run's time, and as many figures for the browser to render.
* With two intra-op threads on busy cores an epoch's evaluation often stalled ~250 ms
  waiting for its second thread: 300 epochs took 7.4 s in a plain script, 0.9 s on
  one thread (0.6 s either way when the cores were less busy).
Stop took 0.7-2.2 s to show "Stopped.", a slider 0.25-1 s to redraw, a 150-epoch run
6-37 s.

So the controller runs steps for `work_slice` (50 ms), then sleeps `pause` (2 ms) of
real time, in which the loop drains everything queued; redraws at the end of a slice,
at most every `min_interval` and so that redrawing takes at most `redraw_share` (10%)
of the time (the browser spends 2-3 times as long drawing them); runs torch on
`threads` (1) intra-op thread; and says "Stopped." as soon as Stop is handled (the
next step sees it; the results are drawn after). Measured the same way: Stop 0.05-0.08
s, a slider 0.13-0.2 s, a 150-epoch run 1-2 s."""
import asyncio
import contextlib
import threading
import time

import ipywidgets as W
import torch

from . import a11y
from .live import Message


class RunController:
    work_slice = 0.05  # seconds of steps between two turns of the event loop
    pause = 0.002  # seconds the loop gets at each turn, to drain queued messages
    redraw_share = 0.1  # at most this share of a run's time goes to redraws
    threads = 1  # torch's intra-op threads while a run is in progress; None: leave them alone
    clock = staticmethod(time.perf_counter)
    note_interval = 5.0  # seconds between two progress notes in the live region (not every step)

    def __init__(self, prepare, redraw, min_interval=0.1):
        self.prepare, self.redraw, self.min_interval = prepare, redraw, min_interval
        self.run_button = W.Button(description="Run", button_style="primary", icon="play")
        self.stop_button = W.Button(description="Stop", icon="stop", disabled=True)
        self.run_button.add_class("kd-run")  # the page hands the focus from Run to Stop and back (a11y)
        self.stop_button.add_class("kd-stop")
        self.progress = W.FloatProgress(value=0, min=0, max=1, layout=W.Layout(width="200px"))
        a11y.name(self.progress, "progress of the run")
        self.message = Message()
        self.progress_text = None  # optional: a function giving the progress in words, e.g. "epoch 3 of 30"
        self.next_note = 0.0
        self.stop_event = threading.Event()
        self.task = None
        self.redraws = 0
        self.locked = []  # controls that define a run: disabled while one is in progress
        self.on_start = []  # called when a run starts (after its controls were checked)
        self.on_end = []  # called with completed (ran to its end: no Stop, no error) when a run ends
        self.run_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        row = W.HBox([self.run_button, self.stop_button, self.progress, a11y.ensure()])
        row.add_class("kd-runner")
        self.widget = W.VBox([row, self.message])

    def lock(self, *controls):
        """Register the controls that define a run: they are disabled while it runs, so
        a change cannot reach a run half-way (or mix two runs' figures)."""
        self.locked += controls

    def _set_locked(self, locked):
        for control in self.locked:
            control.disabled = locked

    @property
    def running(self):
        return self.task is not None and not self.task.done()

    def start(self):
        """Start a run; refused with a message while one is in progress."""
        if self.running:
            self.message.error("A run is already in progress: press Stop first.")
            return None
        self.stop_event = threading.Event()
        try:
            work = self.prepare(self.stop_event)
        except Exception as e:  # a bad value names itself; anything else still becomes a message
            self.message.error(e if isinstance(e, ValueError) else f"{type(e).__name__}: {e}")
            return None
        self._set_locked(True)  # before "Running…", so a page that shows the message shows the locks
        self.progress.value = 0
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.message.info("Running…")
        self.next_note = self.clock() + self.note_interval
        try:
            for hook in self.on_start:  # e.g. lock the prediction
                hook()
        except Exception as e:  # never leave the controls locked without a word
            self.run_button.disabled, self.stop_button.disabled = False, True
            self._set_locked(False)
            self.message.error(e if isinstance(e, ValueError) else f"{type(e).__name__}: {e}")
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a plain script or test): run to the end now
            asyncio.run(self._drive(work))
            return None
        self.task = loop.create_task(self._drive(work))
        return self.task

    def stop(self):
        """Ask the run to stop. Its next step sees it; say so now, while the run still
        evaluates the students it has and draws the results."""
        self.stop_event.set()
        if self.running:
            self.stop_button.disabled = True
            self.message.info("Stopped.")

    async def _drive(self, work):
        """Run `work` in slices of `work_slice` seconds with a real pause after each
        (see the module's docstring), redrawing at the end of a slice when one is due."""
        self._done, turn, next_redraw = 0.0, 0.0, 0.0  # the first step ends a slice, with a redraw
        try:
            with _torch_threads(self.threads):
                for done in work:
                    self._done = done if done is not None else self._done
                    now = self.clock()
                    if now < turn:
                        continue
                    if now >= next_redraw:
                        self._redraw()
                        cost = self.clock() - now
                        next_redraw = now + max(self.min_interval, cost / self.redraw_share)
                    if now >= self.next_note and not self.stop_event.is_set():
                        self.message.info(f"Running… {self.progress_words()}")
                        self.next_note = now + self.note_interval
                    await asyncio.sleep(self.pause)  # Stop, sliders, the figures' replies
                    turn = self.clock() + self.work_slice
                self._redraw()
            completed = not self.stop_event.is_set()
            self.message.info("Done." if completed else "Stopped.")
        except Exception as e:
            completed = False
            self.message.error(e if isinstance(e, ValueError) else f"{type(e).__name__}: {e}")
            with contextlib.suppress(Exception):  # draw what was trained before it failed
                self._redraw()
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True
            self._set_locked(False)
        for hook in self.on_end:  # e.g. reveal the outcome next to the learner's prediction
            try:
                hook(completed)
            except Exception as e:
                self.message.error(e if isinstance(e, ValueError) else f"{type(e).__name__}: {e}")

    def progress_words(self):
        """The progress said in the live region: the lab's `progress_text()` ("epoch 3 of
        30") if it gives one, else the share done ("40% done")."""
        if self.progress_text is not None:
            with contextlib.suppress(Exception):  # progress in words is a courtesy: never fail a run
                words = self.progress_text()
                if words:
                    return str(words)
        return f"{self._done:.0%} done"

    def _redraw(self):
        self.redraws += 1
        self.progress.value = self._done
        self.redraw()


_threads_before = []  # torch's thread count as each run in progress found it


@contextlib.contextmanager
def _torch_threads(n):
    """Set torch's intra-op threads to `n` for a run (None: leave them alone); when the
    last of overlapping runs ends, the number from before the first comes back."""
    if n is None:
        yield
        return
    _threads_before.append(torch.get_num_threads())
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(_threads_before.pop())


def check_diverged(results):
    """Raise a ValueError for the learner when a run's loss blew up (Result.diverged):
    which run, where, and what to change."""
    for name, res in results.items():
        d = getattr(res, "diverged", None)
        if d:
            raise ValueError(f"The {name} run diverged: its loss reached {d['loss']:.3g} at epoch {d['epoch']}, "
                             f"step {d['step']}, and training stopped there. Lower the learning rate "
                             f"(it was {d.get('lr', '?')}) and run again.")


def lockstep(runs, on_event, total_steps):
    """Advance several `wb.steps` generators one step each in turn, so that students
    trained side by side progress together; call on_event(name, event) for each event,
    yield the fraction done, and return {name: Result}."""
    live, results, step = dict(runs), {}, 0
    first = next(iter(runs))
    while live:
        for name, run in list(live.items()):
            try:
                event = next(run)
            except StopIteration as end:
                results[name] = end.value
                del live[name]
                continue
            on_event(name, event)
            if event.kind == "step" and name == first:
                step += 1
        yield min(step / max(total_steps, 1), 1.0)
    return results
