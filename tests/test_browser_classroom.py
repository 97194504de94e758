"""The app where a class records (`make classroom`): a learner gives a nickname once, the
browser keeps it across a reload, a finished run reaches the class board under it, and the
learner's panel shows their run and the class's spread without the other learners' names."""
import re

import pytest

from test_a11y_axe import blocking_violations
from test_browser import BARS, CHROMIUM_ARGS, SHOTS, chromium_path, open_tab, type_into, voila
from workbench.board import Board

HOSTILE = "<img src=x onerror=alert(1)>"


def test_a_nickname_is_kept_by_the_browser_and_the_run_is_recorded_under_it(tmp_path):
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "board.sqlite"
    with Board(str(path)) as board:  # another learner, already on the board
        board.record("mallory", "Distillation lab", {"temperature": 1.0, "scenario": HOSTILE}, {"gain": 0.0})
    dialogs = []
    recording = {"KD_WORKBENCH_RECORD": "1", "KD_WORKBENCH_BOARD": str(path)}  # as make classroom sets them
    with voila("notebooks/app.ipynb", tmp_path, recording) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url, timeout=120_000)
        page.wait_for_selector(BARS, state="attached", timeout=120_000)
        page.get_by_text("Your runs and the class board").click()
        page.get_by_text("You are recorded as anonymous#").wait_for(timeout=15_000)
        type_into(page, "nickname", "ada")
        page.get_by_role("button", name="Use this name").click()
        page.get_by_text("You are recorded as ada#").wait_for(timeout=10_000)
        me = page.evaluate("() => 'ada#' + window.localStorage.getItem('kd-workbench-browser')")
        assert re.fullmatch(r"ada#[0-9a-f]{6}", me), me

        page.reload()  # a new kernel: the name comes back from the browser, the section left closed
        page.wait_for_selector(BARS, state="attached", timeout=120_000)
        open_tab(page, "Distillation lab")
        type_into(page, "epochs", "3")
        page.locator("button:has-text('Run'):visible").click()
        page.locator("text=Done. >> visible=true").wait_for(timeout=120_000)
        page.get_by_text("Your runs and the class board").click()
        assert page.get_by_text(f"You are recorded as {me}").is_visible()
        page.get_by_role("button", name="Refresh").click()
        page.get_by_text("1 run of yours").wait_for(timeout=20_000)
        panel = page.locator(".kd-app").inner_text()
        assert "mallory" not in panel and "2 Distillation lab runs in the class," in panel
        assert blocking_violations(page) == []  # WCAG 2.1 A/AA (axe-core), the section open
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.get_by_text("Your runs and the class board").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "class_panel.png"), full_page=True)
        browser.close()
    assert not dialogs, dialogs
    with Board(str(path)) as board:
        runs = board.runs()
    assert list(runs["learner"]) == ["mallory", me]
    assert runs.iloc[1]["settings"]["epochs"] == 3
