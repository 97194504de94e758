"""The run controller leaves the kernel's event loop room to answer while a run is in
progress (see widgets/runner.py). Time here is counted in steps and in a fake clock
that each step advances: nothing depends on how fast this machine is."""
import asyncio
import collections
import time

import torch

from widgets.runner import RunController

STEP = 0.01  # fake seconds per step


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def controller(work, redraw=lambda: None, clock=None, **settings):
    """A RunController over `work(stop)` (a generator function) with a fake clock."""
    rc = RunController(work, redraw)
    rc.clock = clock or FakeClock()
    for name, value in settings.items():
        setattr(rc, name, value)
    return rc


def stepping(clock, steps, at_step=lambda i: None):
    """A run's work: up to 10,000 steps of STEP fake seconds each, recorded in `steps`,
    ending at the next step once stopped; at_step(i) after each."""
    def work(stop):
        for i in range(10_000):
            if stop.is_set():
                return
            clock.now += STEP
            steps.append(i)
            at_step(i)
            yield i / 10_000
    return work


def test_a_message_queued_behind_others_is_handled_within_a_slice():
    """The kernel hands the main loop one message per loop iteration (a ZMQ stream),
    and each message's handler needs a few more iterations. Here eleven such messages
    arrive at step 5, the last one a Stop: the run must end within a slice of steps,
    not one message per step."""
    clock, steps, inbox = FakeClock(), [], collections.deque()

    async def handle(message):
        for _ in range(3):  # a handler is a coroutine: a few turns of the loop
            await asyncio.sleep(0)
        if message == "stop":
            rc.stop()

    def pump():  # one message per loop iteration, as zmq's ZMQStream does
        loop = asyncio.get_running_loop()
        loop.create_task(handle(inbox.popleft()))
        if inbox:
            loop.call_soon(pump)

    def at_step(i):
        if i == 5:
            inbox.extend(["figure reply"] * 10 + ["stop"])
            asyncio.get_running_loop().call_soon(pump)

    rc = controller(stepping(clock, steps, at_step), clock=clock, work_slice=0.05, pause=0.02)

    async def scenario():
        await rc.start()

    asyncio.run(scenario())
    assert len(steps) - 6 <= round(0.05 / STEP) + 2  # handled at the end of the slice it arrived in
    assert rc.message.text == "Stopped."


def test_stop_says_so_at_once_and_the_run_ends_within_a_slice():
    clock, steps = FakeClock(), []
    said = []

    rc = controller(stepping(clock, steps), clock=clock, work_slice=0.05)

    async def scenario():
        task = rc.start()
        while len(steps) < 20:
            await asyncio.sleep(0)
        at = len(steps)
        rc.stop_button.click()
        said.append((rc.message.text, rc.stop_button.disabled, rc.run_button.disabled))
        await task
        return at

    at = asyncio.run(scenario())
    assert said == [("Stopped.", True, True)]  # Stop answered, Run still busy finishing
    assert len(steps) - at <= round(0.05 / STEP) + 1
    assert rc.message.text == "Stopped." and not rc.run_button.disabled and rc.stop_button.disabled


def test_redraws_take_a_bounded_share_of_the_run():
    """A redraw that costs 50 ms of (fake) time is followed by 450 ms of steps or more
    (redraw_share 10%), and the first step is drawn at once."""
    clock, drawn = FakeClock(), []

    def redraw():
        drawn.append(clock.now)
        clock.now += 0.05

    def work(stop):
        for i in range(2_000):  # 20 s of fake steps
            clock.now += STEP
            yield i / 2_000

    rc = controller(work, redraw, clock=clock, redraw_share=0.1)
    rc.start()  # no event loop: runs to the end
    assert drawn[0] == STEP
    gaps = [b - a for a, b in zip(drawn, drawn[1:-1])]  # the last one is the final redraw
    assert all(g >= 0.5 - 1e-9 for g in gaps)
    assert len(drawn) >= 20 / 0.5 * 0.8  # still redrawn all along
    assert rc.message.text == "Done."


def test_torch_runs_on_one_thread_during_a_run_and_gets_its_threads_back():
    before = torch.get_num_threads()
    seen = []

    def work(stop):
        for i in range(3):
            seen.append(torch.get_num_threads())
            yield None

    rc = controller(work)
    rc.start()
    assert seen == [1, 1, 1] and torch.get_num_threads() == before

    def failing(stop):
        yield None
        raise RuntimeError("broken")

    controller(failing).start()
    assert torch.get_num_threads() == before
    rc = controller(work, threads=None)
    seen.clear()
    rc.start()
    assert seen == [before] * 3


def test_overlapping_runs_restore_the_threads_when_the_last_one_ends():
    before = torch.get_num_threads()

    async def scenario():
        ends = {"a": asyncio.Event(), "b": asyncio.Event()}

        def work(name):
            def steps(stop):
                while not ends[name].is_set():
                    yield None
            return steps

        a, b = controller(work("a"), clock=time.perf_counter), controller(work("b"), clock=time.perf_counter)
        task_a, task_b = a.start(), b.start()
        await asyncio.sleep(0.01)
        ends["a"].set()
        await task_a
        assert torch.get_num_threads() == 1  # b still runs
        ends["b"].set()
        await task_b

    asyncio.run(scenario())
    assert torch.get_num_threads() == before
