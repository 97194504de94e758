"""make bench: every part of the bench, each in its own process, one after the other.

A part that fails does not stop the parts after it: each runs to its end (its output
shown as it comes), then a summary table gives each part's status (ok, or its exit
status and the exception it ended with) and its seconds. The exit status is 1 when any
part failed, 0 when all passed.

    .venv/bin/python bench/all.py                    # the parts of `make bench`, in order
    .venv/bin/python bench/all.py bench/bench_llm.py # only the parts named"""
import pathlib
import re
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
PARTS = ("bench/bench.py", "bench/bench_app.py", "bench/bench_llm.py", "bench/bench_llm_today.py",
         "bench/bench_collapse.py", "bench/bench_payoff.py", "bench/bench_board.py",
         "bench/bench_losses.py", "bench/bench_reasoning.py", "bench/gpu.py")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Timeout)\b")


def last_exception(stderr_lines):
    """The line naming the exception a Python process ended with ("RuntimeError: ..."):
    the first unindented line after the last traceback header; else the last non-empty
    line of its stderr; "" when it wrote nothing there."""
    lines = [line.rstrip() for line in stderr_lines if line.strip()]
    headers = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if headers:
        after = lines[headers[-1] + 1:]
        named = [line for line in after if not line[:1].isspace() and _EXCEPTION.match(line)]
        if named:
            return named[0]
    return lines[-1] if lines else ""


def status_text(returncode, exception=""):
    """A part's status as the summary prints it: "ok", "exit status N" or "killed by SIGNAME",
    with the exception it ended with."""
    if returncode == 0:
        return "ok"
    if returncode < 0:
        try:
            text = f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            text = f"killed by signal {-returncode}"
    else:
        text = f"exit status {returncode}"
    return f"{text}: {exception}" if exception else text


def run_part(path, python=sys.executable):
    """Run one part (a Python script) from the repository root, its stdout straight to
    ours and its stderr passed through line by line (kept to name its exception).
    Returns (returncode, the exception line or "", seconds)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen([python, str(path)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                                errors="replace", bufsize=1)
    except OSError as e:  # the interpreter itself could not be started
        return 127, f"{type(e).__name__}: {e}", time.perf_counter() - t0
    lines = []
    for line in proc.stderr:
        sys.stderr.write(line)
        lines.append(line)
        del lines[:-200]  # a traceback's end is all the summary needs
    returncode = proc.wait()
    return returncode, ("" if returncode == 0 else last_exception(lines)), time.perf_counter() - t0


def summary(rows):
    """The table printed at the end: part, status, seconds."""
    width = max([len("part")] + [len(str(part)) for part, _, _ in rows])
    out = [f"{'part':{width}s}  {'seconds':>8s}  status", f"{'-' * width}  {'-' * 8}  {'-' * 6}"]
    out += [f"{str(part):{width}s}  {seconds:8.1f}  {status}" for part, status, seconds in rows]
    return "\n".join(out)


def main(argv=None):
    """Run the parts named in argv (default: PARTS) in order; print the summary; return 1
    if any failed, 0 if all passed."""
    parts = list(argv if argv is not None else sys.argv[1:]) or list(PARTS)
    missing = [p for p in parts if not (ROOT / p).is_file()]
    if missing:
        raise ValueError(f"parts must be Python scripts, relative to {ROOT} or absolute; not found: {missing}")
    rows = []
    for part in parts:
        print(f"\n===== {part} =====", flush=True)
        returncode, exception, seconds = run_part(part)
        rows.append((part, status_text(returncode, exception), seconds))
        sys.stdout.flush()
    failed = [part for part, status, _ in rows if status != "ok"]
    print(f"\n===== make bench: {len(rows) - len(failed)} of {len(rows)} parts ok =====", flush=True)
    print(summary(rows), flush=True)
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
