"""The instructor's class board in a real browser (Debian's chromium driven by Playwright,
as test_browser.py): notebooks/board.ipynb served by Voila over a SQLite board that a
simulated class of 12 filled, opened with the board's token. The figures draw the class,
the summaries name its numbers, a learner's hostile name shows as text and runs nothing,
rows added while the page is open appear within a live refresh, the CSV downloads, and
without the token the page is refused. Screenshot: test-artifacts/screenshots/board.png."""
import statistics

import pytest

from test_a11y_axe import blocking_violations
from test_browser import CHROMIUM_ARGS, ROOT, SHOTS, SHOTS_TAKEN, chromium_path, voila

HOSTILE = "<img src=x onerror=alert(1)>"
TOKEN = "browser-test-board-token"
POINTS = ".js-plotly-plot .scatterlayer .points path"
BOLD = "<b>cy</b>"  # a tag plotly would draw (bold) were it not escaped; it leaves an <img> as text anyway
NAMES = [HOSTILE, "'); DROP TABLE runs;--", "ada", "bo", BOLD, "di", "ed", "flo", "gus", "hal", "ivy", "jo"]


def class_runs():
    """(learner, T, alpha, gain): two runs each; at T = 1 a gain within a few tenths of a
    point of zero, at T = 4 or 8 two to six points, at T = 2 in between."""
    runs = []
    for i, name in enumerate(NAMES):
        alpha = (0.5, 0.9, 1.0)[i % 3]
        runs.append((name, 1.0, alpha, (i % 5 - 2) / 1000))
        runs.append((name, (2.0, 4.0, 8.0)[i % 3], alpha, 0.01 + i / 250 + (0.02 if i % 3 else 0)))
    return runs


def record(board, name, t, alpha, gain, i):
    """Learner i's run: the even learners leave the 3 out."""
    left = "3" if i % 2 == 0 else ""
    board.record(name, "Distillation lab",
                 {"scenario": "left-out digit" if left else "plain", "teacher": "digits/mlp-large", "width": 32,
                  "temperature": t, "alpha": alpha, "epochs": 30, "lr": 0.003, "fraction": 1.0, "left_out": left,
                  "seed": i},
                 {"distilled": 0.9 + gain / 2, "hard labels": 0.9 - gain / 2, "teacher": 0.97, "gain": gain,
                  "left_out": left or None, "left_out_recovery": 0.2 + i / 40 if left and t > 1 else None,
                  "left_out_recovery_hard": 0.0 if left and t > 1 else None})


def fill(board):
    from workbench.exercises import QUESTIONS
    for name, t, alpha, gain in class_runs():
        record(board, name, t, alpha, gain, NAMES.index(name))
    quiz = QUESTIONS["kd_loss"][0]["answers"]
    right = next(a["answer"] for a in quiz if a["correct"])
    wrong = next(a["answer"] for a in quiz if not a["correct"])
    for i, name in enumerate(NAMES):
        board.answer(name, "kd_loss-1", wrong if i < 7 else right, i >= 7)
        board.answer(name, "soft_labels-1", "the uniform distribution", True)
        board.check(name, "check_kd_loss", i % 3 != 0)
        if i < 5:
            board.check(name, "check_forward_reverse", i == 0)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    from workbench.board import Board
    path = tmp_path_factory.mktemp("board") / "board.sqlite"
    with Board(path) as b:
        fill(b)
    b = Board(path)
    yield b
    b.close()


@pytest.fixture(scope="module")
def browser(board, tmp_path_factory):
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    env = {"KD_WORKBENCH_BOARD": board.url.split("sqlite:///", 1)[1], "KD_WORKBENCH_BOARD_TOKEN": TOKEN}
    with voila(ROOT / "notebooks" / "board.ipynb", tmp_path_factory.mktemp("voila"), env) as url, \
            sync_api.sync_playwright() as pw:
        SHOTS.mkdir(parents=True, exist_ok=True)
        SHOTS_TAKEN.append(SHOTS)
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        chromium.url = url
        yield chromium
        chromium.close()


def open_page(browser, query, events):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.on("dialog", lambda d: (events.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: events.append(f"page error: {e}"))
    page.goto(browser.url + query, timeout=120_000)
    return page


def screenshot_whole(page, path, selector=".kd-board"):
    """A screenshot of the whole page (the board, or the element `selector` names): Voila
    scrolls inside a panel, not the document, so the viewport is made as tall as the
    panel's content first."""
    tall = page.evaluate(f"() => {{ let e = document.querySelector('{selector}');"
                         " while (e.parentElement && e.scrollHeight <= e.clientHeight) e = e.parentElement;"
                         " return e.scrollHeight; }")
    page.set_viewport_size({"width": 1400, "height": min(tall + 40, 8000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def show_names_by_keyboard(page, presses=40):
    """Reach the "show learners' names" box with Tab alone and tick it with Space."""
    page.locator("body").click(position={"x": 5, "y": 5})  # start from the top of the page
    for _ in range(presses):
        page.keyboard.press("Tab")
        label = page.evaluate("() => { const e = document.activeElement;"
                              " return e && e.closest('label, .widget-checkbox') ? e.closest('.widget-checkbox, label')"
                              ".textContent.trim() : ''; }")
        if label == "show learners' names":
            page.keyboard.press("Space")
            return
    raise AssertionError(f"the names box was not reached in {presses} Tab presses")


def test_the_board_shows_the_class_its_numbers_and_new_rows_within_a_refresh(browser, board):
    events = []
    page = open_page(browser, f"?token={TOKEN}", events)
    runs = class_runs()
    page.locator(POINTS).nth(len(runs) - 1).wait_for(state="attached", timeout=120_000)
    assert page.locator(POINTS).count() == len(runs)  # one marker per run
    high = [g * 100 for _, t, _, g in runs if t >= 4]
    text = " ".join(page.inner_text("body").split())
    low = statistics.mean(g * 100 for _, t, _, g in runs if t <= 1)
    assert -0.5 < low < 0.5 < 2 < statistics.mean(high)  # the spread the class was made with
    assert (f"{len(runs)} runs from {len(NAMES)} learners; mean gain at T ≤ 1 "
            f"{f'{low:+.1f}'.replace('-0.0', '+0.0')} points") in text
    assert f"at T ≥ 4 {statistics.mean(high):+.1f} points ({len(high)} runs from" in text
    assert "Last refreshed" in text and f"{len(NAMES)} learners, {len(runs)} runs" in text
    assert "hardest kd_loss-1 (0.42 right, most chosen wrong answer" in text  # 5 of 12 first answers right
    assert "token=" not in page.url  # gone from the address bar: the projector does not show it
    ticks = page.locator(".js-plotly-plot .ytick text").all_text_contents()
    assert "learner 1" in ticks and HOSTILE not in ticks  # names hidden until the instructor shows them
    show_names_by_keyboard(page)
    page.wait_for_function(f"() => [...document.querySelectorAll('.js-plotly-plot .ytick text')]"
                           f".some(t => t.textContent === {HOSTILE!r})", timeout=10_000)
    ticks = page.locator(".js-plotly-plot .ytick text").all_text_contents()
    assert HOSTILE in ticks and BOLD in ticks  # the learners' names, as text
    assert blocking_violations(page) == []  # WCAG 2.1 A/AA (axe-core), as every tab of the app
    assert not page.query_selector_all(".js-plotly-plot img, .widget-html img, .kd-figure img")
    page.locator("summary:has-text('Data as a table')").first.click()  # the scatter's data, opened
    page.locator(f".kd-data-table td:text-is('{HOSTILE}')").first.wait_for(timeout=10_000)

    board.record("newcomer", "Distillation lab", {"temperature": 8.0, "alpha": 0.9}, {"gain": 0.05})
    board.answer("newcomer", "kd_loss-1", "to make the loss positive", False)
    page.wait_for_function("() => document.body.textContent.includes("
                           f"'{len(runs) + 1} runs from {len(NAMES) + 1} learners')", timeout=15_000)
    assert page.locator(POINTS).count() == len(runs) + 1

    page.locator("button:has-text('Prepare the CSV files')").click()
    link = page.locator("a.kd-csv:text-is('runs.csv')")
    link.wait_for(timeout=10_000)
    with page.expect_download(timeout=10_000) as download:
        link.click()
    saved = download.value.path()
    content = open(saved, encoding="utf-8").read()
    assert download.value.suggested_filename == "runs.csv" and HOSTILE in content and "newcomer" in content
    screenshot_whole(page, SHOTS / "board.png")
    assert page.title() == "KD Workbench — class board" and not events, events  # no alert, no script error
    page.close()


def test_without_the_token_the_board_is_refused(browser):
    events = []
    page = open_page(browser, "?token=not-the-token", events)
    page.locator(".kd-board-refused").wait_for(timeout=120_000)
    text = page.inner_text(".kd-board-refused")
    assert "the link's token is not this board's" in text and "open the link make board printed" in text
    assert not page.query_selector_all(".js-plotly-plot") and "Last refreshed" not in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "board_refused.png"))
    assert not events, events
    page.close()
