"""One run controller for every lab: Run and Stop buttons, a progress bar, a message,
throttled redraws, and a run that never freezes the page.

A lab supplies `prepare(stop)`, which checks its controls (raising ValueError with a
message for the learner) and returns an iterator whose every `next()` does a small piece
of work (one optimizer step) and yields the fraction done (or None); and `redraw()`, which pushes the lab's state to its
figures. The controller drives the iterator as an asyncio task on the kernel's event
loop, yielding between steps so that the Stop button (a message to the same kernel) is
handled while a run is in progress."""
import asyncio
import threading
import time

import ipywidgets as W

from .live import Message


class RunController:
    def __init__(self, prepare, redraw, min_interval=0.1):
        self.prepare, self.redraw, self.min_interval = prepare, redraw, min_interval
        self.run_button = W.Button(description="Run", button_style="primary", icon="play")
        self.stop_button = W.Button(description="Stop", icon="stop", disabled=True)
        self.progress = W.FloatProgress(value=0, min=0, max=1, layout=W.Layout(width="200px"))
        self.message = Message()
        self.stop_event = threading.Event()
        self.task = None
        self.redraws = 0
        self.locked = []  # controls that define a run: disabled while one is in progress
        self.run_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.widget = W.VBox([W.HBox([self.run_button, self.stop_button, self.progress]), self.message])

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
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a plain script or test): run to the end now
            asyncio.run(self._drive(work))
            return None
        self.task = loop.create_task(self._drive(work))
        return self.task

    def stop(self):
        self.stop_event.set()

    async def _drive(self, work):
        last, self._done = 0.0, 0.0
        try:
            for done in work:
                self._done = done if done is not None else self._done
                now = time.perf_counter()
                if now - last >= self.min_interval:
                    self._redraw()
                    last = time.perf_counter()
                await asyncio.sleep(0)  # let the kernel handle Stop, slider moves, ...
            self._redraw()
            self.message.info("Stopped." if self.stop_event.is_set() else "Done.")
        except Exception as e:
            self.message.error(e if isinstance(e, ValueError) else f"{type(e).__name__}: {e}")
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True
            self._set_locked(False)

    def _redraw(self):
        self.redraws += 1
        self.progress.value = self._done
        self.redraw()


def check_diverged(results):
    """Raise a ValueError for the learner when a run's loss blew up (Result.diverged):
    which run, where, and what to change."""
    for name, res in results.items():
        d = getattr(res, "diverged", None)
        if d:
            raise ValueError(f"The {name} run diverged: its loss reached {d['loss']:.3g} at epoch {d['epoch']}, "
                             f"step {d['step']}, and training stopped there. Lower the learning rate and run again.")


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
