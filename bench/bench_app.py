"""make bench, part 2: how the widgets feel.

1. server-side time of one temperature-slider update (the value set, the handler run,
   the figure updated);
2. time from Run to the first curve point in the distillation lab;
3. the app as `make app` serves it, in headless Chromium (skipped without one): page to
   first figure with a preheated kernel, the data sent over the websocket with every tab
   open, a run's time, slider redraws idle and while a lab runs, Stop to "Stopped.", and
   the kernel's memory (PSS); each with its target from the classroom issue."""
import asyncio
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

import torch

import workbench as wb
from widgets import DistillationLab, TemperatureExplorer
from widgets.app import TABS

import browser_latency  # bench/ is on the path when this file runs
from load_test import children, free_port, pss_mb, start_classroom, wait_for_pool

ROOT = pathlib.Path(__file__).resolve().parents[1]


def row(label, value, unit, target, ok):
    print(f"{label:62s} {value:8.2f} {unit:3s} target {target:9s} {'ok' if ok else 'MISSED'}")


def slider_update_ms(splits):
    te = TemperatureExplorer(splits)
    values = [0.5 * 1.05**i for i in range(90)]  # 0.5 .. ~40, as a drag would send them
    times = []
    for v in values:
        t0 = time.perf_counter()
        te.temperature.value = v
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=10)[-1]


def run_to_first_point_s(splits):
    lab = DistillationLab(splits)
    lab.epochs.value = 30
    first = {}
    draw = lab.redraw

    def redraw():
        draw()
        if "t" not in first and any(lab.histories.values()):
            first["t"] = time.perf_counter()
    lab.controller.redraw = redraw

    async def go():
        t0 = time.perf_counter()
        await lab.controller.start()
        return first["t"] - t0
    return asyncio.run(go())


def classroom_rows():
    """The app as `make app` serves it (one preheated kernel), in headless Chromium:
    [(label, value, unit, target or None)]. None without chromium."""
    chromium = shutil.which("chromium")
    if not chromium:
        return None
    from playwright.sync_api import sync_playwright
    port = free_port()
    proc = start_classroom(port, pool=1, log=subprocess.DEVNULL)
    rows = []
    try:
        wait_for_pool(proc, 1, timeout=120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=browser_latency.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            received = []
            page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.append(len(frame))))
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.wait_for_selector(browser_latency.BARS, state="attached", timeout=120_000)
            rows.append(("page opened -> first figure (preheated kernel)", time.perf_counter() - t0, "s", 5.0))
            for title, _ in TABS[1:]:
                before = page.locator(".js-plotly-plot").count()
                browser_latency.open_tab(page, title)
                if title != "Exercises":
                    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length > {before}",
                                           timeout=60_000)
            page.wait_for_timeout(1000)
            rows.append((f"websocket data with every tab open ({page.locator('.js-plotly-plot').count()} figures)",
                         sum(received) / 1e6, "MB", 10.0))
            rows += [(label, value, "s", target) for label, value, target in browser_latency.measure(page)]
            kernels = children(proc.pid)
            rows.append(("the learner's kernel after all of this, PSS", max(pss_mb(k) for k in kernels), "MB", None))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return rows


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    splits = wb.data.load("digits")
    median, worst = slider_update_ms(splits)
    row("temperature slider update, server side (median)", median, "ms", "<= 30 ms", median <= 30)
    print(f"{'  90th percentile of 90 updates':62s} {worst:8.1f} ms")
    cold = run_to_first_point_s(splits)  # includes torch's one-time import of torch._dynamo by the first optimizer
    warm = run_to_first_point_s(splits)
    print(f"{'Run to the first curve point, first Run in a fresh kernel':62s} {cold:8.1f} s")
    row("Run to the first curve point in the lab (later Runs)", warm, "s", "<= 1 s", warm <= 1)
    rows = classroom_rows()
    if rows is None:
        print("The app in a browser: skipped (no chromium on PATH)")
        return
    for label, value, unit, target in rows:
        if target is None:
            print(f"{label:62s} {value:8.2f} {unit}")
        else:
            row(label, value, unit, f"<= {target:g} {unit}", value <= target)


if __name__ == "__main__":
    main()
