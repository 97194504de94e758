"""The Exercises tab in a real browser: two page loads of the Voila app show the quiz's
answers in different orders, and each answer still gets its own feedback wherever it
lands. Served and driven like tests/test_browser.py (whose helpers it reuses)."""
import pytest

from test_browser import BARS, CHROMIUM_ARGS, SHOTS, chromium_path, open_tab, voila
from workbench import exercises as ex

FIRST_SECTION = ex.QUESTIONS["soft_labels"]  # the section the Exercises tab opens on


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with voila("notebooks/app.ipynb", tmp_path_factory.mktemp("voila")) as url:
        with sync_api.sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            chromium.app_url = url
            yield chromium
            chromium.close()


def load_and_read_exercises(browser, shot):
    """Load the app in a fresh page (a new kernel), open the Exercises tab, answer the first
    question right by its text; return the page and the answer texts of the first section's
    questions, in the order shown."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(browser.app_url, timeout=120_000)
    page.wait_for_selector(BARS, state="attached", timeout=120_000)
    open_tab(page, "Exercises")
    page.locator("text=Short questions on each topic >> visible=true").wait_for(timeout=30_000)
    groups = page.locator(".widget-radio:visible")
    groups.nth(len(FIRST_SECTION) - 1).wait_for(timeout=30_000)
    assert groups.count() == len(FIRST_SECTION)
    orders = [groups.nth(i).locator(".widget-radio-box label").all_inner_texts() for i in range(groups.count())]
    for i in range(groups.count()):  # each radio group keeps its accessible name
        assert groups.nth(i).locator(".widget-label").inner_text() == "your answer"
    right = next(a["answer"] for a in FIRST_SECTION[0]["answers"] if a["correct"])
    groups.first.locator(f".widget-radio-box label:has-text('{right}')").click()
    page.locator(".kd-feedback:visible").first.wait_for(timeout=10_000)
    assert page.locator(".kd-feedback:visible").first.inner_text().startswith("✓")
    page.screenshot(path=str(SHOTS / shot), full_page=True)
    assert not errors, errors
    return page, orders


def test_two_page_loads_show_the_answers_in_different_orders(browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    first_page, first = load_and_read_exercises(browser, "exercises_load_1.png")
    first_page.close()
    second_page, second = load_and_read_exercises(browser, "exercises_load_2.png")
    second_page.close()
    source = [[a["answer"].strip() for a in q["answers"]] for q in FIRST_SECTION]
    assert [sorted(o) for o in first] == [sorted(o) for o in second] == [sorted(o) for o in source]
    # 4 questions of 4 answers: two loads agree on all four orders with chance (1/24)^4 ≈ 3e-6
    assert first != second, first
