"""The Voila app in a real browser while a lab is running: what a learner does during a
run gets an answer before the run ends. Fixtures and helpers come from test_browser.py
(its own Voila and browser, one per module); bench/browser_latency.py measures how fast.
No test here times anything: each waits, with a generous timeout, for the page to show
the answer while the run is still going."""
import pytest

from test_browser import SHOTS, app_url, open_tab, page, type_into  # noqa: F401 (fixtures)

# a lab's run is in progress while its Stop button (visible or in a hidden tab) is enabled
RUNNING = "() => [...document.querySelectorAll('button')].some(b => b.textContent.includes('Stop') && !b.disabled)"
# the bar paths of the first plot in view (the one under the slider), joined: a change
# means its bars were redrawn
SHOWN_BARS = ("() => { const p = [...document.querySelectorAll('.js-plotly-plot')].find(p => p.offsetParent);"
              " return p ? [...p.querySelectorAll('.bars .point path')].map(e => e.getAttribute('d')).join() : ''; }")


def start_long_run(page, tab, **fields):
    """Open `tab`, type `fields` ({label: value}) and press Run; return once it runs."""
    open_tab(page, tab)
    for label, value in fields.items():
        type_into(page, label, value)
    page.locator("button:has-text('Run'):visible").click()
    page.locator("text=Running… >> visible=true").wait_for(timeout=30_000)


def stop_the_run(page, tab):
    open_tab(page, tab)
    page.locator("button:has-text('Stop'):visible").click()
    page.locator("text=Stopped. >> visible=true").wait_for(timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('button')].some(b => b.offsetParent &&"
                           " b.textContent.includes('Run') && !b.disabled)", timeout=60_000)


def press_and_wait_for_new_bars(page, handle, key="ArrowRight"):
    before = page.evaluate(SHOWN_BARS)
    assert before, "no bars in view"
    handle.focus()
    page.keyboard.press(key)
    page.wait_for_function(f"(b) => ({SHOWN_BARS})() !== b", arg=before, timeout=30_000)


def test_the_soft_labels_slider_redraws_while_the_distillation_lab_runs(page):
    start_long_run(page, "Distillation lab", epochs="100000")
    try:
        open_tab(page, "Soft labels")
        handle = page.locator(".widget-slider .noUi-handle:visible").first
        for key in ("ArrowRight", "ArrowLeft", "ArrowRight"):
            press_and_wait_for_new_bars(page, handle, key)
            assert page.evaluate(RUNNING)  # redrawn during the run, not after it
        page.screenshot(path=str(SHOTS / "soft_labels_during_a_run.png"))
    finally:
        stop_the_run(page, "Distillation lab")
    assert not page.query_selector_all(".kd-error:visible") and not page.errors


def test_stop_is_answered_then_the_stopped_students_are_compared(page):
    start_long_run(page, "Distillation lab", epochs="100000")
    page.wait_for_timeout(1_000)  # curves being redrawn
    page.locator("button:has-text('Stop'):visible").click()
    page.locator("text=Stopped. >> visible=true").wait_for(timeout=30_000)
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator("button:has-text('Run'):visible")).to_be_enabled(timeout=60_000)
    page.wait_for_function("() => document.body.textContent.includes('student, distilled')", timeout=30_000)
    assert page.locator("text=Stopped. >> visible=true").count() == 1  # still says why the run ended
    assert not page.query_selector_all(".kd-error:visible") and not page.errors
    page.screenshot(path=str(SHOTS / "distillation_lab_stopped.png"), full_page=True)


def test_the_next_token_slider_redraws_while_the_llm_lab_below_it_runs(page):
    start_long_run(page, "LLM", **{"optimizer steps": "100000"})
    try:
        viewer = page.locator(".js-plotly-plot:visible").first
        viewer.locator(".bars .point path").first.wait_for(state="attached", timeout=30_000)
        handle = page.locator(".widget-slider:has-text('temperature') .noUi-handle:visible").first
        for key in ("ArrowRight", "ArrowLeft"):
            press_and_wait_for_new_bars(page, handle, key)
            assert page.evaluate(RUNNING)
        page.screenshot(path=str(SHOTS / "llm_viewer_during_a_run.png"), full_page=True)
    finally:
        stop_the_run(page, "LLM")
    assert not page.query_selector_all(".kd-error:visible") and not page.errors
