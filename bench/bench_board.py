"""make bench, part 5: the class board (issue 23). Ratios, each measured side by side in this
one run:

1. a Distillation lab run (its defaults: 150 epochs, the app's run controller) with recording
   on (a SQLite board in a temporary folder) against recording off, Run to "Done.": target
   ≤ 1.05×. Runs alternate between the two sides and the medians are compared; the time the
   background write then takes is printed beside it;
2. the instructor's board page refreshing (read the board, redraw every figure) with 30
   learners × 50 runs (and their quiz answers and exercise checks) against an empty board."""
import os
import random
import statistics
import tempfile
import time

REPEATS = 9
LEARNERS, RUNS_EACH = 30, 50


def lab_run_seconds(recording_on, folder):
    """Seconds from Run to "Done." of one default Distillation lab run (with its board write
    queued, when recording is on), and of waiting for that write afterwards."""
    from widgets.lab import DistillationLab
    from widgets.classroom import record_hook
    from workbench import recording

    os.environ["KD_WORKBENCH_RECORD"] = "1" if recording_on else "0"
    os.environ["KD_WORKBENCH_BOARD"] = os.path.join(folder, "board.sqlite")
    lab = DistillationLab()
    lab.controller.on_end.append(record_hook("Distillation lab", lab))
    t0 = time.perf_counter()
    lab.controller.start()
    run = time.perf_counter() - t0
    assert lab.controller.message.text == "Done.", lab.controller.message.text
    t0 = time.perf_counter()
    recording.flush()
    return run, time.perf_counter() - t0


def recording_on_against_off():
    with tempfile.TemporaryDirectory() as folder:
        lab_run_seconds(True, folder)  # warm-up: the teacher cache, the board's tables, imports
        lab_run_seconds(False, folder)
        on, off, writes = [], [], []
        for _ in range(REPEATS):
            run, write = lab_run_seconds(True, folder)
            on.append(run)
            writes.append(write)
            off.append(lab_run_seconds(False, folder)[0])
        from workbench.board import Board

        board = Board(os.path.join(folder, "board.sqlite"))
        direct = []
        for i in range(20):  # one write on its own, for scale: what the background thread spends
            t0 = time.perf_counter()
            board.record("bench", "Distillation lab", {"temperature": 4.0, "seed": i}, {"gain": 0.01})
            direct.append(time.perf_counter() - t0)
    return statistics.median(on), statistics.median(off), statistics.median(writes), statistics.median(direct)


def fill(board, learners=LEARNERS, runs_each=RUNS_EACH, seed=0):
    """A simulated class: `learners` × `runs_each` Distillation lab runs over a grid of T and α,
    each learner answering every quiz question once and running three exercise checks."""
    from workbench import exercises as ex

    rng = random.Random(seed)
    questions = [(f"{topic}-{i + 1}", q) for topic, qs in ex.QUESTIONS.items() for i, q in enumerate(qs)]
    for n in range(learners):
        name = f"learner{n:02d}"
        for _ in range(runs_each):
            t, a = rng.choice([1.0, 2.0, 4.0, 8.0]), rng.choice([0.5, 0.9, 1.0])
            d, h = 0.80 + rng.random() * 0.1, 0.78 + rng.random() * 0.1
            board.record(name, "Distillation lab", {"temperature": t, "alpha": a, "left_out": "3", "seed": 0},
                         {"distilled": d, "hard labels": h, "gain": d - h, "left_out": "3",
                          "left_out_recovery": rng.random(), "left_out_recovery_hard": 0.0})
        for qid, q in questions:
            a = rng.choice(q["answers"])
            board.answer(name, qid, a["answer"], bool(a["correct"]))
        for check in ("check_kd_loss", "check_soft_labels", "check_refit"):
            board.check(name, check, rng.random() < 0.6)


def refresh_seconds(board, repeats=REPEATS):
    """Median seconds of one refresh of the board page (read everything, redraw every figure)."""
    from widgets.board_page import BoardPage

    page = BoardPage(board, refresh_seconds=None)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        page.refresh()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def refresh_full_against_empty():
    from workbench.board import Board

    with tempfile.TemporaryDirectory() as folder:
        empty, full = Board(os.path.join(folder, "empty.sqlite")), Board(os.path.join(folder, "full.sqlite"))
        t0 = time.perf_counter()
        fill(full)
        filled = time.perf_counter() - t0
        refresh_seconds(empty, 1), refresh_seconds(full, 1)  # warm-up
        return refresh_seconds(empty), refresh_seconds(full), filled


def main():
    print("# part 5: the class board")
    on, off, waited, write = recording_on_against_off()
    print(f"Distillation lab run (150 epochs), Run to Done., median of {REPEATS} each, alternating:")
    print(f"  recording on {on:.3f} s, off {off:.3f} s: on/off {on / off:.3f}x (target <= 1.05x); "
          f"one board write takes {1000 * write:.1f} ms in the background thread (left to wait after Done.: "
          f"{1000 * waited:.1f} ms)")
    empty, full, filled = refresh_full_against_empty()
    print(f"board page refresh, median of {REPEATS}: empty board {1000 * empty:.0f} ms, {LEARNERS} learners x "
          f"{RUNS_EACH} runs {1000 * full:.0f} ms: full/empty {full / empty:.2f}x "
          f"(writing those {LEARNERS * RUNS_EACH} runs one by one took {filled:.1f} s)")


if __name__ == "__main__":
    main()
