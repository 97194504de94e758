"""The views of issue 22 in a real browser (Debian's chromium driven by Playwright, as
test_browser.py): the LLM tab's recipe line and TRL text follow its controls, the "Dense
vs sparse" tab draws its three curves, the Payoff tab's speculative-decoding view fills
its table, and the "Reasoning" tab (issue 27) refuses a student width that is not a
multiple of the heads with the engine's message, then runs a tiny budget: one curve per
way, the table, one problem worked by the teacher, the truth and the four students, the
outcome revealed next to the prediction, and axe's WCAG 2.1 A/AA checks on the drawn page.
Each runs a tiny budget (one page load for all: each costs a kernel); screenshots go to
test-artifacts/screenshots/."""
import pytest

from test_a11y_axe import blocking_violations
from test_browser import SHOTS, app_url, open_tab, page, type_into  # noqa: F401 (fixtures)
from test_browser_board import screenshot_whole

VISIBLE_PANEL = ".widget-tab-contents > .lm-Widget:visible, .lm-TabPanel-stackedPanel > .lm-Widget:visible"


def recipe(page):
    return page.locator(".kd-recipe:visible").inner_text()


def test_the_llm_scenario_sets_the_recipe_and_the_line_follows_the_controls(page):
    from widgets import llm_lab
    open_tab(page, "LLM")
    page.locator(".kd-recipe:visible").wait_for(timeout=60_000)
    assert "λ = 0: every sequence is the teacher's own sample" in recipe(page)
    page.locator(".widget-dropdown:has-text('scenario') select:visible").select_option(label=llm_lab.ON_POLICY)
    page.wait_for_function("() => [...document.querySelectorAll('.kd-recipe')].some(e => e.offsetParent && "
                           "e.textContent.includes('λ = 1: every sequence is the student'))", timeout=10_000)
    assert "β = 1: reverse KL, KL(student ‖ teacher), mode-seeking" in recipe(page)
    shown = " ".join(page.inner_text("body").split())
    i = shown.find("Predict first:")
    assert llm_lab.SCENARIOS[llm_lab.ON_POLICY].question[:60] in shown, shown[i:i + 400]  # asked before Run
    assert all(choice in shown for choice in llm_lab.SECOND)
    errors = page.locator(".kd-error:visible").all_inner_texts()
    assert not errors, errors
    compared = page.locator(".widget-dropdown:has-text('compared with') select:visible")
    shown = compared.evaluate("s => s.options[s.selectedIndex].text").replace("\xa0", " ")  # ipywidgets: no-break spaces
    assert shown == llm_lab.FORWARD
    summary = page.locator("summary:has-text('The same settings in TRL'):visible")
    pre = page.locator("details:has(summary:has-text('The same settings in TRL')) pre")
    assert not pre.first.is_visible()  # collapsed
    summary.click()
    pre.first.wait_for(state="visible", timeout=10_000)
    assert "DistillationConfig(" in pre.first.inner_text() and "beta=1.0" in pre.first.inner_text()
    page.screenshot(path=str(SHOTS / "llm_on_policy_recipe.png"), full_page=False)
    handle = page.locator(".widget-slider:has-text('on-policy share λ') .noUi-handle:visible")
    handle.focus()
    page.keyboard.press("Home")  # λ = 0: off-policy
    page.wait_for_function("() => [...document.querySelectorAll('.kd-recipe')].some(e => e.offsetParent && "
                           "e.textContent.includes('λ = 0: every sequence is the teacher'))", timeout=10_000)
    page.wait_for_function("() => [...document.querySelectorAll('details pre')].some(e => e.offsetParent && "
                           "e.textContent.includes('GKDConfig('))", timeout=10_000)
    menu = page.locator(".widget-dropdown:has-text('scenario') select:visible")
    assert menu.evaluate("s => s.options[s.selectedIndex].text").replace("\xa0", " ") == "(choose one)"  # moved off it
    page.screenshot(path=str(SHOTS / "llm_off_policy_recipe.png"), full_page=False)
    assert not page.query_selector_all(".kd-error:visible") and not page.errors


def small_view_notebook(tmp_path, code):
    """A notebook showing one widget built by `code` (its last line), for a view whose budget the
    app fixes: the browser test runs it on a small setting of its own."""
    nbformat = pytest.importorskip("nbformat")
    notebook = tmp_path / "view.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), notebook)
    return notebook


def test_the_payoff_tab_holds_the_speculative_view_and_a_small_run_fills_its_table(page, tmp_path):
    from test_browser import voila
    open_tab(page, "Payoff")
    page.locator("h3:has-text('What a distilled draft is worth: speculative decoding'):visible").wait_for(timeout=60_000)
    assert page.locator("text=lookahead γ >> visible=true").count() >= 1  # the view, under its heading
    # the app's view distils three drafts on 1,200 queries each: run the same view on a small budget here
    notebook = small_view_notebook(tmp_path, "from widgets.speculative_view import SpeculativeView\n"
                                             "view = SpeculativeView(queries=100, steps=20, prompts=20)\nview.widget")
    with voila(notebook, tmp_path) as url:
        other = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        other.on("pageerror", lambda e: errors.append(str(e)))
        try:
            other.goto(url, timeout=120_000)
            other.locator("button:has-text('Run'):visible").click(timeout=120_000)
            other.locator("text=Done. >> visible=true").wait_for(timeout=90_000)
            table = other.locator(".kd-table:visible").first
            table.wait_for(timeout=10_000)
            text = table.inner_text()
            assert "acceptance measured" in text and "tokens per target pass" in text
            assert "base (not distilled)" in text and "on-policy (reverse KL, λ = 1)" in text
            bars = other.locator(".js-plotly-plot .bars .point path")
            assert bars.count() == 8  # four drafts, measured and predicted
            other.screenshot(path=str(SHOTS / "speculative_view.png"), full_page=True)
            assert not other.query_selector_all(".kd-error:visible") and not errors
        finally:
            other.close()


def test_dense_vs_sparse_runs_a_tiny_budget_and_draws_three_curves(page):
    from workbench.llm import dense_sparse
    open_tab(page, "Dense vs sparse")
    page.locator("text=Dense against sparse supervision. >> visible=true").wait_for(timeout=60_000)
    type_into(page, "sampled sequences per method", str(2 * dense_sparse.EVERY))  # two points of each curve
    page.locator("button:has-text('Run'):visible").click()
    page.locator("text=Done. >> visible=true").wait_for(timeout=90_000)
    page.wait_for_function("() => document.body.textContent.includes('of sampled answers right:')",
                           timeout=10_000)
    page.wait_for_timeout(500)
    panel = page.locator(VISIBLE_PANEL).last
    names = panel.locator(".js-plotly-plot .legend .traces .legendtext").all_text_contents()
    assert [n for n in names if n in dense_sparse.LABELS.values()] == list(dense_sparse.LABELS.values())
    lines = panel.locator(".js-plotly-plot .scatterlayer .trace .lines path")
    drawn = [lines.nth(i).get_attribute("d") or "" for i in range(lines.count())]
    assert sum(len(d) > 20 for d in drawn) >= 9  # three methods in each of the three panels
    table = panel.locator(".kd-table:visible").first.inner_text()
    assert all(label in table for label in dense_sparse.LABELS.values()) and "samples to level" in table
    page.screenshot(path=str(SHOTS / "dense_vs_sparse.png"), full_page=True)
    panel.locator(".js-plotly-plot").first.screenshot(path=str(SHOTS / "dense_vs_sparse_curves.png"))
    assert not page.query_selector_all(".kd-error:visible") and not page.errors


def test_the_reasoning_tab_refuses_a_bad_width_then_runs_a_tiny_budget(page):
    from widgets import reasoning_lab as rl
    from workbench.llm import reasoning
    open_tab(page, "Reasoning")
    panel = page.locator(VISIBLE_PANEL).last
    page.locator("text=Distilling reasoning. >> visible=true").wait_for(timeout=60_000)
    shown = " ".join(panel.inner_text().split())
    assert rl.QUESTION in shown and all(c in shown for c in rl.CHOICES)  # asked before Run

    type_into(page, "student width", "50")
    panel.locator("button:has-text('Run'):visible").click()
    error = panel.locator(".kd-error:visible")
    error.wait_for(timeout=30_000)
    assert "width must be a multiple of 4 from 16 to 128" in error.inner_text() and "got 50" in error.inner_text()
    assert "Traceback" not in page.inner_text("body")

    type_into(page, "student width", str(reasoning.ReasoningConfig().width))
    type_into(page, "teacher queries", "8")
    type_into(page, "rounds", "2")
    type_into(page, "optimizer steps", "4")
    panel.locator(f"label:has-text(\"{rl.UNFILTERED}\"):visible").click()  # a prediction, by its label
    page.wait_for_timeout(300)
    panel.locator("button:has-text('Run'):visible").click()
    panel.locator(".kd-table:has-text('inherited mistakes'):visible").wait_for(timeout=120_000)
    panel.locator(".kd-info:has-text('Done.'):visible").wait_for(timeout=60_000)
    page.wait_for_timeout(500)  # the figure's last redraw

    labels = [reasoning.LABELS[w] for w in reasoning.WAYS]
    plot = panel.locator(".js-plotly-plot").first
    assert plot.locator(".legend .traces .legendtext").all_text_contents() == labels
    assert plot.locator(".scatterlayer .trace .points path").count() == 2 * len(labels)  # two rounds each
    table = panel.locator(".kd-table:visible").inner_text()
    assert all(label in table for label in labels) and "longer problems" in table
    example = panel.locator(".kd-example:visible").inner_text()
    assert all(f"student {label}" in example for label in labels) and "true worked steps" in example
    revealed = panel.locator(".kd-reveal:visible").inner_text()
    assert revealed.startswith(f"You predicted: {rl.UNFILTERED}. What happened: This run (seed 0, 8 teacher "
                               "queries), held-out accuracy (a)"), revealed
    assert not page.query_selector_all(".kd-error:visible") and not page.errors
    assert blocking_violations(page) == []  # WCAG 2.1 A/AA (axe-core), with the table and the example drawn
    screenshot_whole(page, SHOTS / "reasoning.png", ".kd-app")
