"""Learners' kernels for tests/test_board.py, as real processes writing to one board.

    python board_learner.py class URL LEARNERS RUNS   # LEARNERS processes at once, RUNS runs and answers each
    python board_learner.py culled URL RUNS           # RUNS runs, prints "recorded", then records until killed

Only the store is imported, not workbench/__init__ (torch): a kernel starts in a fraction
of a second, and the class's processes are forked from this one after that import."""
import importlib.util
import multiprocessing
import sys
import types

package = types.ModuleType("workbench")  # workbench's folder, without running its __init__
package.__path__ = list(importlib.util.find_spec("workbench").submodule_search_locations)
sys.modules["workbench"] = package
import sqlalchemy as sa  # noqa: E402

from workbench.board import Board  # noqa: E402

LAB = "Distillation lab"


def learner(url, name, runs, start):
    """One learner: waits for the class to start, then records `runs` runs and quiz answers."""
    start.wait()
    with Board(url) as board:
        for i in range(runs):
            board.record(name, LAB, {"seed": i, "temperature": 4.0}, {"gain": i / 100})
            board.answer(name, f"kd_loss-{i}", f"choice {i}", correct=i % 2 == 0)


def class_at_once(url, learners, runs):
    """`learners` processes, each its own Board, all writing at once. Exit status 1 if any failed."""
    sa.create_engine(url).dispose()  # the database driver imported once, here; no connection opened
    context = multiprocessing.get_context("fork")  # this process has no thread and no connection yet
    start = context.Event()
    processes = [context.Process(target=learner, args=(url, f"learner {k}", runs, start)) for k in range(learners)]
    for p in processes:
        p.start()
    start.set()
    for p in processes:
        p.join()
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if failed:
        sys.exit(f"{len(failed)} of {learners} learners failed (exit codes {failed})")


def culled(url, runs):
    """Record `runs` runs, say so, then keep recording until the kernel is killed."""
    board = Board(url)
    for i in range(runs):
        board.record("culled", LAB, {"seed": i}, {"gain": i / 100})
    print("recorded", flush=True)
    while True:
        board.record("culled", LAB, {"seed": "after"}, {"gain": None})


if __name__ == "__main__":
    mode, url, *numbers = sys.argv[1:]
    if mode == "class":
        class_at_once(url, *map(int, numbers))
    else:
        culled(url, int(numbers[0]))
