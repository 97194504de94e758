"""make bench runs every part even when one fails (issue 29, item 11): bench/all.py runs
each part in its own process, reports each failure (the part, its exit status and the
exception it ended with), and exits non-zero at the end. Tested with tiny fake parts
written here, not the real bench (minutes of work)."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNNER = ROOT / "bench" / "all.py"


def write_part(folder, name, body):
    path = folder / name
    path.write_text(body)
    return path


def run_bench(*parts):
    return subprocess.run([sys.executable, str(RUNNER), *map(str, parts)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def summary_row(out, part):
    """The summary table's row for one part: (seconds, status)."""
    rows = [line for line in out.split("=====")[-1].splitlines() if line.startswith(str(part))]
    assert len(rows) == 1, f"one summary row for {part} expected, got {rows!r} in:\n{out}"
    seconds, status = rows[0][len(str(part)):].split(None, 1)
    return float(seconds), status


@pytest.fixture
def parts(tmp_path):
    """Four fake parts: one passes, one raises, one writes a file (so that we see it ran
    after the failure), one is killed by a signal."""
    ran = tmp_path / "third-ran"
    return ran, [
        write_part(tmp_path, "first.py", "print('first part says hello')\n"),
        write_part(tmp_path, "second.py", "import sys\nprint('second starts')\n"
                                          "raise RuntimeError('the run ended before Stop was pressed')\n"),
        write_part(tmp_path, "third.py", f"import pathlib, time\ntime.sleep(0.2)\n"
                                         f"pathlib.Path({str(ran)!r}).write_text('yes')\n"),
        write_part(tmp_path, "fourth.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"),
    ]


def test_a_failing_part_does_not_stop_the_others_and_the_bench_fails(parts):
    ran, paths = parts
    done = run_bench(*paths)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ran.read_text() == "yes", "the part after the failing one did not run"
    assert "first part says hello" in done.stdout and "second starts" in done.stdout
    assert "RuntimeError: the run ended before Stop was pressed" in done.stderr  # its traceback is shown
    first, second, third, fourth = (summary_row(done.stdout, p) for p in paths)
    assert first[1] == "ok" and third[1] == "ok"
    assert second[1] == "exit status 1: RuntimeError: the run ended before Stop was pressed"
    assert fourth[1] == "killed by SIGKILL"
    assert third[0] >= 0.2  # the part's own time (it sleeps 0.2 s)
    assert "2 of 4 parts ok" in done.stdout
    assert re.search(r"FAILED: .*second\.py, .*fourth\.py", done.stderr)


def test_all_parts_passing_exit_zero(parts):
    ran, paths = parts
    done = run_bench(paths[0], paths[2])
    assert done.returncode == 0, done.stdout + done.stderr
    assert ran.read_text() == "yes"
    assert "2 of 2 parts ok" in done.stdout and "FAILED" not in done.stderr


def test_a_part_that_is_not_there_is_refused_before_anything_runs(parts, tmp_path):
    ran, paths = parts
    done = run_bench(paths[2], tmp_path / "nope.py")
    assert done.returncode != 0 and "nope.py" in done.stderr and "not found" in done.stderr
    assert not ran.exists()


def test_the_exception_named_is_the_one_the_part_ended_with():
    sys.path.insert(0, str(RUNNER.parent))
    try:
        import all as runner
    finally:
        sys.path.remove(str(RUNNER.parent))
    playwright = ["Traceback (most recent call last):\n", '  File "x.py", line 3, in <module>\n',
                  "ValueError: first\n", "\n", "During handling of the above exception, another exception occurred:\n",
                  "Traceback (most recent call last):\n", '  File "x.py", line 9, in <module>\n',
                  "playwright._impl._errors.TimeoutError: Locator.click: Timeout 30000ms exceeded.\n",
                  "Call log:\n", "  - waiting for locator(\"button:has-text('Stop'):visible\")\n"]
    assert runner.last_exception(playwright) == \
        "playwright._impl._errors.TimeoutError: Locator.click: Timeout 30000ms exceeded."
    assert runner.last_exception(["make: *** [bench] Error 2\n"]) == "make: *** [bench] Error 2"
    assert runner.last_exception([]) == ""
    assert runner.status_text(2, "") == "exit status 2"


def test_make_bench_runs_every_part_through_the_runner():
    """The Makefile's bench target is the runner (not one line per part, where make stops
    at the first that fails), and the runner's parts are the bench's scripts."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.M).group(1).strip().splitlines()
    assert [line.strip() for line in recipe] == ["$(BIN)/python bench/all.py"]
    sys.path.insert(0, str(RUNNER.parent))
    try:
        import all as runner
    finally:
        sys.path.remove(str(RUNNER.parent))
    assert [p for p in runner.PARTS if not (ROOT / p).is_file()] == []
    assert {"bench/bench.py", "bench/bench_app.py", "bench/bench_llm.py", "bench/bench_collapse.py",
            "bench/bench_payoff.py", "bench/gpu.py"} <= set(runner.PARTS)
