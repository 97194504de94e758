"""The "Beyond Hinton" tab in a real browser (Debian's chromium driven by Playwright, as
test_browser.py): a teacher-assistant width that does not exist shows the engine's message
and no traceback; the capacity-gap experiment runs and draws its teachers, assistant,
early-stopped teacher and hard-label line, and reveals its outcome next to the prediction;
born-again generations draws its curve; the page passes axe's WCAG 2.1 A/AA checks.
Screenshots: test-artifacts/screenshots/beyond_capacity_gap.png and beyond_born_again.png."""
from test_a11y_axe import blocking_violations
from test_browser_board import screenshot_whole
from test_browser import SHOTS, app_url, open_tab, page, type_into  # noqa: F401 (fixtures)

TAB = "Beyond Hinton"
VISIBLE_PANEL = ".widget-tab-contents > .lm-Widget:visible, .lm-TabPanel-stackedPanel > .lm-Widget:visible"


def panel(page):
    return page.locator(VISIBLE_PANEL).last


def run_and_wait(page, row, timeout_ms=120_000):
    """Press Run and wait for the table to hold `row` (a row of this run's table: a "Done."
    may still be there from the run before) and for "Done."."""
    panel(page).locator("button:has-text('Run'):visible").click()
    panel(page).locator(f".kd-table:has-text('{row}'):visible").wait_for(timeout=timeout_ms)
    panel(page).locator(".kd-info:has-text('Done.'):visible").wait_for(timeout=timeout_ms)
    page.wait_for_timeout(500)  # the figure's last redraw


def choose_experiment(page, label):
    panel(page).locator(".widget-dropdown:has-text('experiment') select:visible").select_option(label=label)
    page.wait_for_timeout(500)


def test_the_beyond_tab_refuses_a_bad_width_runs_the_capacity_gap_and_born_again(page):
    from widgets import beyond_lab as bl
    open_tab(page, TAB)
    panel(page).locator(".widget-dropdown:has-text('experiment') select:visible").wait_for(timeout=60_000)
    shown = " ".join(panel(page).inner_text().split())
    assert bl.QUESTIONS["capacity_gap"][0] in shown and all(c in shown for c in bl.CAPACITY)  # asked before Run
    assert bl.OUTCOMES["capacity_gap"][1][:60] not in shown  # the outcome stays hidden

    type_into(page, "teacher assistant width", "32")
    panel(page).locator("button:has-text('Run'):visible").click()
    error = panel(page).locator(".kd-error:visible")
    error.wait_for(timeout=30_000)
    assert "assistant must be one of the available widths 8, 16, 64" in error.inner_text()
    assert "Traceback" not in page.inner_text("body")

    panel(page).locator("button:has-text('measured settings'):visible").click()
    box = panel(page).locator(".widget-text:has-text('teacher assistant width') input:visible")
    page.wait_for_function("(e) => e.value === '16'", arg=box.element_handle(), timeout=10_000)
    panel(page).locator(f"label:has-text(\"{bl.SMALLER}\"):visible").click()  # a prediction, by its label
    run_and_wait(page, "MLP 256x256, stopped at ")
    plot = panel(page).locator(".js-plotly-plot").first
    names = plot.locator(".legend .traces .legendtext").all_text_contents()
    assert names == ["teachers of rising size", "teacher assistant", "large teacher, stopped early",
                     "hard labels, no teacher"], names
    assert plot.locator(".scatterlayer .trace .points path").count() == 6  # four teachers, assistant, early stop
    revealed = panel(page).locator(".kd-reveal:visible").inner_text()
    assert revealed.startswith(f"You predicted: {bl.SMALLER}. What happened: This run (seed 0)"), revealed
    assert "Measured over seeds 0-5" in revealed and ("✓" in revealed or "✗" in revealed)
    assert "MLP 256x256, stopped at " in panel(page).locator(".kd-table:visible").inner_text()
    assert not page.query_selector_all(".kd-error:visible") and not page.errors
    assert blocking_violations(page) == []  # WCAG 2.1 A/AA (axe-core), after a run
    screenshot_whole(page, SHOTS / "beyond_capacity_gap.png", ".kd-app")

    choose_experiment(page, bl.EXPERIMENTS["born_again"])
    assert "Collapse" in panel(page).inner_text()  # the note pointing to the collapse chain
    run_and_wait(page, "generation 3 (from generation 2)")
    lines = panel(page).locator(".js-plotly-plot").first.locator(".scatterlayer .trace .lines path")
    assert sum(len(lines.nth(i).get_attribute("d") or "") > 20 for i in range(lines.count())) == 2  # test, val
    assert "generation 3 (from generation 2)" in panel(page).locator(".kd-table:visible").inner_text()
    assert not page.query_selector_all(".kd-error:visible") and not page.errors
    screenshot_whole(page, SHOTS / "beyond_born_again.png", ".kd-app")
