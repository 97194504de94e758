"""A classroom on one machine, simulated on loopback: N learners arrive at once.

For each class size N, `make classroom`'s Voila (preheated pool, one kernel per learner)
is started afresh; N headless Chromium pages open a link to the Distillation lab at the
same moment and press Run. Printed per N: time from opening the page to the first figure
(median and slowest), time from Run to "Done.", and memory as PSS (proportional set size:
shared pages split between the processes that share them, so the sum is what the machine
holds) per learner's kernel and for the whole server. From the largest N it estimates how
many learners a 24 GB machine serves.

    .venv/bin/python bench/load_test.py --learners 1 5 10 20 --pool 4 --epochs 30

Loopback only; every wait is bounded (--timeout seconds per step)."""
import argparse
import asyncio
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from browser_latency import CHROMIUM_ARGS, free_port  # bench/ is on the path when this file runs

ROOT = pathlib.Path(__file__).resolve().parents[1]

FIGURE = ".js-plotly-plot .main-svg"
MACHINE_GB = 24
EXTRA = []


def pss_mb(pid):
    """Proportional set size of one process, in MB (0 if it has gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("Pss:")) / 1024
    except (OSError, StopIteration):
        return 0.0


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def start_classroom(port, pool, log):
    """Voila as `make classroom` runs it (the same flags), on loopback, logging to `log`."""
    voila = pathlib.Path(sys.executable).with_name("voila")
    proc = subprocess.Popen([str(voila), "notebooks/app.ipynb", "--no-browser", f"--port={port}",
                             "--strip_sources=True", "--preheat_kernel=True", "--VoilaExecutor.iopub_timeout=60", *EXTRA,
                             "--Voila.ip=127.0.0.1",
                             f"--pool_size={pool}", "--MappingKernelManager.cull_interval=60",
                             "--MappingKernelManager.cull_idle_timeout=1200",
                             "--MappingKernelManager.cull_connected=True"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("voila did not start")
            time.sleep(0.2)


def wait_for_pool(proc, pool, timeout):
    """Until `pool` kernels have started and gone quiet (the app built in each)."""
    deadline = time.time() + timeout
    while len(children(proc.pid)) < pool and time.time() < deadline:
        time.sleep(0.5)
    quiet = 0
    while quiet < 3 and time.time() < deadline:  # three quiet seconds: the kernels have run the notebook
        before = sum(_cpu(p) for p in children(proc.pid))
        time.sleep(1)
        quiet = quiet + 1 if sum(_cpu(p) for p in children(proc.pid)) - before < 5 else 0


def _cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    except OSError:
        return 0


async def learner(browser, url, epochs, timeout):
    """One learner: open the link, wait for a figure, press Run, wait for Done. Returns
    (seconds to the first figure, seconds from Run to Done, what went wrong or None)."""
    page = await browser.new_page(viewport={"width": 1300, "height": 900})
    first = run = None
    try:
        t0 = time.perf_counter()
        await page.goto(f"{url}?tab=Distillation%20lab&epochs={epochs}", timeout=timeout * 1000)
        await page.wait_for_selector(FIGURE, state="attached", timeout=timeout * 1000)
        first = time.perf_counter() - t0
        await page.locator("button:has-text('Run'):visible").click()
        t1 = time.perf_counter()
        await page.locator("text=Done. >> visible=true").wait_for(timeout=timeout * 1000)
        run = time.perf_counter() - t1
        return first, run, None
    except Exception as e:  # one learner's failure is reported, not the end of the measurement
        await page.screenshot(path=tempfile.mktemp(prefix="learner-", suffix=".png"))
        return first, run, f"{'page' if first is None else 'run'}: {str(e).splitlines()[0]}"


def cpu_s(pids):
    """CPU seconds (user + system) the processes have used so far."""
    return sum(_cpu(p) for p in pids) / os.sysconf("SC_CLK_TCK")


async def one_class(n, pool, epochs, timeout):
    from playwright.async_api import async_playwright
    port = free_port()
    log = tempfile.NamedTemporaryFile("w", prefix=f"voila-{n}-learners-", suffix=".log", delete=False)
    proc = start_classroom(port, pool, log)
    try:
        wait_for_pool(proc, pool, timeout)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            server_before = cpu_s([proc.pid, *children(proc.pid)])
            results = await asyncio.gather(*[learner(browser, f"http://127.0.0.1:{port}/", epochs, timeout)
                                             for _ in range(n)])
            kernels = children(proc.pid)
            server_cpu = cpu_s([proc.pid, *kernels]) - server_before  # kernels gone meanwhile are not counted
            per_kernel = [pss_mb(p) for p in kernels]
            server = pss_mb(proc.pid)
            await browser.close()
        failed = [r[2] for r in results if r[2]]
        if failed:
            print(f"  {len(failed)} of {n} learners failed ({failed[0]}); Voila's log: {log.name}", flush=True)
        firsts = [r[0] for r in results if r[0] is not None] or [float("nan")]
        runs = [r[1] for r in results if r[1] is not None] or [float("nan")]
        # kernels beyond the learners' are the refilled pool, idle: report learners' kernels
        # as the n largest (a kernel that ran a lab holds more than a fresh one)
        learners_pss = sorted(per_kernel, reverse=True)[:n]
        return dict(n=n, first_median=statistics.median(firsts), first_max=max(firsts),
                    run_median=statistics.median(runs), run_max=max(runs),
                    kernel_pss=statistics.mean(learners_pss), idle_pss=statistics.mean(sorted(per_kernel)[:-n] or [0]),
                    total_gb=(sum(per_kernel) + server) / 1024, server=server, kernels=len(kernels),
                    cpu_per_learner=server_cpu / n)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--pool", type=int, default=4, help="preheated kernels; 0: as many as learners")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--fill-delay", type=float, default=None,
                        help="seconds before a used pool kernel is replaced (Voila's default: 1)")
    args = parser.parse_args()
    if args.fill_delay is not None:
        EXTRA.append(f"--VoilaKernelManager.fill_delay={args.fill_delay}")
    print(f"{'learners':>8} {'first figure median / max (s)':>30} {'Run to Done median / max (s)':>29} "
          f"{'PSS per kernel (MB)':>20} {'server total (GB)':>18} {'server CPU s per learner':>25}")
    rows = []
    for n in args.learners:
        r = asyncio.run(one_class(n, args.pool or n, args.epochs, args.timeout))
        rows.append(r)
        print(f"{n:8d} {r['first_median']:15.1f} / {r['first_max']:5.1f}      {r['run_median']:14.1f} / "
              f"{r['run_max']:5.1f}   {r['kernel_pss']:18.0f} {r['total_gb']:18.2f} {r['cpu_per_learner']:25.1f}",
              flush=True)
    last = rows[-1]
    fixed_gb = last["total_gb"] - last["n"] * last["kernel_pss"] / 1024  # server and idle pool
    fits = int((MACHINE_GB * 0.9 - fixed_gb) / (last["kernel_pss"] / 1024))  # keep 10% for the system
    print(f"\nOne {MACHINE_GB} GB machine: about {fits} learners ({last['kernel_pss']:.0f} MB per learner's kernel "
          f"after a run, {fixed_gb:.1f} GB for the server and the idle pool, 10% kept for the system).")


if __name__ == "__main__":
    main()
