"""The Voila app in a real browser: Debian's chromium driven by Playwright.

On a machine without chromium the test skips and says how to enable it; under CI
(CI=true) a missing browser fails instead."""
import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BARS = ".js-plotly-plot .bars .point path"
SHOTS_TAKEN = []  # set once a page is open: conftest then prints where the screenshots are


def chromium_path():
    found = os.environ.get("KD_WORKBENCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found and os.path.exists(found):
        return found
    how = ("browser tests need Chromium: on Debian/Ubuntu `apt-get install chromium`, elsewhere set "
           "KD_WORKBENCH_CHROMIUM to a Chromium or Chrome executable")
    if os.environ.get("CI") == "true":
        pytest.fail(f"no Chromium under CI: {how}")
    pytest.skip(how)


def test_a_missing_browser_skips_on_a_laptop_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("KD_WORKBENCH_CHROMIUM", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        chromium_path()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no Chromium under CI"):
        chromium_path()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def voila(notebook, log_dir, env=None):
    """Serve `notebook` with Voila on a free port; yield its URL. `env`: variables added to
    the Voila process's (so its kernels') environment, the hub's and the board's own removed."""
    port = free_port()
    log = open(log_dir / "voila.log", "w")
    exe = pathlib.Path(sys.executable).with_name("voila")
    environ = None if env is None else {**{k: v for k, v in os.environ.items() if k not in (
        "JUPYTERHUB_USER", "KD_WORKBENCH_INSTRUCTORS", "KD_WORKBENCH_BOARD_TOKEN", "QUERY_STRING")}, **env}
    proc = subprocess.Popen([str(exe), str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                             "--strip_sources=True", "--VoilaExecutor.iopub_timeout=60"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, env=environ)
    deadline = time.time() + 60
    while True:  # a TCP connect, not a GET: a GET of / would start a kernel run
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"voila did not start; see {log.name}")
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with voila("notebooks/app.ipynb", tmp_path_factory.mktemp("voila")) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    SHOTS_TAKEN.append(SHOTS)
    errors = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(app_url, timeout=120_000)
        pg.wait_for_selector(BARS, state="attached", timeout=120_000)
        pg.errors = errors
        yield pg
        browser.close()


def bar_paths(pg):
    return [e.get_attribute("d") for e in pg.query_selector_all(BARS)]


def type_into(pg, label, value):
    """Type `value` into the visible text box labelled `label` and press Enter; return the box."""
    box = pg.locator(f".widget-text:has-text('{label}') input:visible")
    box.fill(value)
    box.press("Enter")
    return box


def open_tab(pg, title):
    pg.click(f".lm-TabBar-tab:has-text('{title}')")
    pg.wait_for_timeout(500)


def test_app_renders_without_errors_and_the_slider_moves_the_bars(page):
    text = page.inner_text("body")
    assert "KD Workbench" in text and "Soft labels" in text
    assert "Traceback" not in text and not page.query_selector_all(".kd-error")
    assert not page.query_selector_all('[data-mime-type="application/vnd.jupyter.stderr"]')
    page.screenshot(path=str(SHOTS / "soft_labels.png"))
    before = bar_paths(page)
    assert len(before) == 20  # hard and soft bars for ten digits
    handle = page.query_selector(".widget-slider .noUi-handle")
    handle.focus()
    for _ in range(15):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"(b) => [...document.querySelectorAll('{BARS}')].map(e => e.getAttribute('d')).join() != b",
                           arg=",".join(before), timeout=10_000)
    assert bar_paths(page) != before
    page.screenshot(path=str(SHOTS / "soft_labels_hot.png"))
    page.click("button:has-text('your own numbers')")
    page.wait_for_function(f"() => document.querySelectorAll('{BARS}').length == 6", timeout=10_000)  # cat, dog, bird
    ticks = [t.text_content() for t in page.query_selector_all(".js-plotly-plot .xtick text")]
    assert {"cat", "dog", "bird"} <= set(ticks)
    page.screenshot(path=str(SHOTS / "soft_labels_own_numbers.png"))
    page.click("button:has-text('data set example')")
    assert not page.errors


def test_dark_knowledge_tab_draws_a_heatmap(page):
    open_tab(page, "Dark knowledge")
    page.wait_for_selector(".js-plotly-plot .heatmaplayer", state="attached", timeout=10_000)
    assert "Most confusable pairs" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "dark_knowledge.png"))


def test_a_short_run_draws_curves_and_the_final_table(page):
    open_tab(page, "Distillation lab")
    type_into(page, "epochs", "8")
    page.locator("button:has-text('Run'):visible").click()
    page.locator("text=Done. >> visible=true").wait_for(timeout=60_000)
    page.wait_for_function("() => document.body.textContent.includes('student, distilled')", timeout=10_000)
    lines = page.query_selector_all(".js-plotly-plot .scatterlayer .trace .lines path")
    assert len(lines) >= 2 and all(len(p.get_attribute("d") or "") > 20 for p in lines[:2])
    table = page.text_content(".js-plotly-plot .table")
    assert "test accuracy" in table and "student, hard labels" in table
    assert not page.query_selector_all(".kd-error") and not page.errors
    page.screenshot(path=str(SHOTS / "distillation_lab_top.png"))
    page.query_selector(".js-plotly-plot .table").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "distillation_lab.png"), full_page=True)


def run_in_tab(page, title, shot):
    """Run the visible lab with 3 epochs; return the locator of its tab panel."""
    open_tab(page, title)
    type_into(page, "epochs", "3")
    page.locator("button:has-text('Run'):visible").click()
    page.locator("text=Done. >> visible=true").wait_for(timeout=90_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / shot), full_page=True)
    assert not page.query_selector_all(".kd-error") and not page.errors
    return page.locator(".widget-tab-contents > .lm-Widget:visible, .lm-TabPanel-stackedPanel > .lm-Widget:visible").last


def test_feature_tab_draws_projections_and_cka(page):
    panel = run_in_tab(page, "Feature KD", "feature_kd.png")
    assert panel.locator(".js-plotly-plot .scatterlayer .trace .points path").count() > 100  # probe points
    assert "student with the feature term" in panel.text_content()


def test_relation_tab_draws_three_matrices(page):
    panel = run_in_tab(page, "Relation KD", "relation_kd.png")
    assert panel.locator(".js-plotly-plot .heatmaplayer image, .js-plotly-plot .hm image").count() >= 3
    assert "student with the relation term" in panel.text_content()


def test_llm_tab_types_a_prompt_asks_the_black_box_and_runs_the_lab(page):
    open_tab(page, "LLM")
    page.locator("text=White-box access >> visible=true").first.wait_for(timeout=60_000)
    viewer_bars = page.locator(".js-plotly-plot:visible").first.locator(".bars .point path")
    viewer_bars.first.wait_for(state="attached", timeout=30_000)
    before = [viewer_bars.nth(i).get_attribute("d") for i in range(viewer_bars.count())]
    prompt = page.locator(".widget-text:has-text('prompt') input:visible")
    prompt.fill("bupi likes ")
    page.wait_for_function(
        "(b) => { const p = [...document.querySelectorAll('.js-plotly-plot')].find(e => e.offsetParent);"
        " return [...p.querySelectorAll('.bars .point path')].map(e => e.getAttribute('d')).join() != b; }",
        arg=",".join(before), timeout=10_000)
    page.locator("button:has-text('Ask the black-box teacher'):visible").click()
    page.locator("text=queries spent: 1 >> visible=true").wait_for(timeout=10_000)
    prompt.fill("bupi lives in zürich")
    page.locator(".kd-error:visible:has-text('characters')").wait_for(timeout=10_000)
    assert prompt.input_value() == "bupi lives in zürich"  # what the learner typed stays
    prompt.fill("bupi lives in ")
    page.wait_for_function("() => ![...document.querySelectorAll('.kd-error')].some(e => e.offsetParent)",
                           timeout=10_000)
    for label, value in (("teacher queries", "200"), ("optimizer steps", "40")):
        type_into(page, label, value)
    page.locator("button:has-text('Run'):visible").click()
    page.locator("text=Done. >> visible=true").wait_for(timeout=90_000)
    page.wait_for_function("() => document.body.textContent.includes('Samples for rare subjects')", timeout=10_000)
    page.wait_for_timeout(500)
    tables = page.locator(".kd-table:visible")
    assert "student, white-box" in tables.first.text_content() and "KL to the truth" in tables.first.text_content()
    curves = page.locator(".js-plotly-plot:visible").nth(1).locator(".scatterlayer .trace .lines path")
    assert curves.count() >= 4 and all(len(curves.nth(i).get_attribute("d") or "") > 20 for i in range(4))
    assert not page.query_selector_all(".kd-error") and not page.errors
    page.screenshot(path=str(SHOTS / "llm.png"), full_page=True)


def test_collapse_tab_runs_the_policies_and_plays_the_generations(page):
    open_tab(page, "Collapse")
    page.locator("text=Model collapse. >> visible=true").wait_for(timeout=60_000)
    gens = type_into(page, "generations", "0")
    page.locator("button:has-text('Run'):visible").click()
    page.locator(".kd-error:visible:has-text('generations must be an integer >= 1')").wait_for(timeout=10_000)
    assert gens.input_value() == "0"  # what the learner typed stays
    type_into(page, "generations", "40")
    page.locator("button:has-text('Run'):visible").click()
    page.locator("text=Done. >> visible=true").wait_for(timeout=60_000)
    page.wait_for_function("() => document.body.textContent.includes('Generation 39')", timeout=10_000)
    panel = page.locator(".js-plotly-plot:visible")
    curves = panel.nth(1).locator(".scatterlayer .trace .lines path")
    assert curves.count() >= 9 and all(len(curves.nth(i).get_attribute("d") or "") > 20 for i in range(3))
    title = lambda: panel.first.locator(".gtitle").text_content()
    assert title().startswith("Generation 39")
    slider = page.locator(".widget-slider:has-text('generation') .noUi-handle:visible")
    slider.focus()
    page.keyboard.press("Home")
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot .gtitle')]"
                           ".some(t => t.textContent.startsWith('Generation 0:'))", timeout=10_000)
    page.screenshot(path=str(SHOTS / "collapse_generation_0.png"), full_page=True)
    page.locator(".widget-play button:visible").first.click()  # play the generations
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot .gtitle')]"
                           ".some(t => /^Generation ([5-9]|[1-3][0-9]):/.test(t.textContent))", timeout=20_000)
    page.wait_for_timeout(2_000)
    page.screenshot(path=str(SHOTS / "collapse.png"), full_page=True)
    assert not page.query_selector_all(".kd-error:visible") and not page.errors


def test_payoff_tab_measures_every_model_and_exports_a_student(page):
    open_tab(page, "Payoff")
    page.locator("text=The payoff. >> visible=true").wait_for(timeout=60_000)
    page.locator("button:has-text('Run'):visible").first.click()  # the payoff lab's; speculative decoding's is below
    page.locator("text=Done. >> visible=true").wait_for(timeout=90_000)
    page.wait_for_function("() => document.body.textContent.includes('measured 21 models')", timeout=10_000)
    page.wait_for_timeout(500)
    plots = page.locator(".js-plotly-plot:visible")
    assert plots.count() == 3  # the two scatters, then the speculative section's acceptance bars (not run)
    for i in range(2):  # the teacher and ten students in each scatter, the widths printed next to them
        assert plots.nth(i).locator(".scatterlayer .trace .points path").count() == 11
        assert "128" in plots.nth(i).locator(".scatterlayer .textpoint").all_text_contents()
    findings = page.locator(".kd-finding:visible").all_inner_texts()  # the claim, then its control
    assert len(findings) == 2 and "10% of the training labels" in findings[0] and "a distilled mlp(" in findings[0]
    assert "Control, on all" in findings[1]
    page.locator("button:has-text('Export to ONNX'):visible").click()
    link = page.locator(".kd-download:visible")
    link.wait_for(timeout=60_000)
    assert link.get_attribute("download").endswith(".onnx")
    assert link.get_attribute("href").startswith("data:application/octet-stream;base64,")
    assert page.locator(".kd-table:visible").filter(has_text="ONNX Runtime, int8").count() == 1
    page.screenshot(path=str(SHOTS / "payoff.png"), full_page=True)
    assert not page.query_selector_all(".kd-error:visible") and not page.errors


def test_exercises_tab_gives_feedback_on_an_answer(page):
    open_tab(page, "Exercises")
    page.locator("text=Short questions on each topic >> visible=true").wait_for(timeout=30_000)
    page.locator(".widget-radio-box label:has-text('the one-hot hard label'):visible").click()
    page.locator(".kd-feedback:visible:has-text('✗'):has-text('T → 0')").wait_for(timeout=10_000)
    page.locator(".widget-radio-box label:has-text('the uniform distribution'):visible").click()
    page.locator(".kd-feedback:visible:has-text('✓')").first.wait_for(timeout=10_000)
    page.screenshot(path=str(SHOTS / "exercises.png"), full_page=True)
    assert not page.errors


XSS = "<img src=x onerror=\"document.title='XSS'\">"


def test_text_a_learner_types_is_shown_never_run(page):
    open_tab(page, "Soft labels")
    page.click("button:has-text('your own numbers')")
    type_into(page, "classes", f"cat, {XSS}, bird")  # the second class is the top class: its name goes into the stats line too
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot .xtick text')]"
                           ".some(t => t.textContent.includes('<img'))", timeout=10_000)
    page.wait_for_timeout(500)
    assert page.title() != "XSS" and not page.query_selector_all(".js-plotly-plot img, .widget-html img")
    open_tab(page, "LLM")
    page.locator(".widget-dropdown:has-text('teacher') select:visible").first.select_option("pydoc")
    prompt = page.locator(".widget-text:has-text('prompt') input:visible")
    prompt.fill("<img src=x onerror=t()>")  # the title shows a prompt's last 24 characters: a whole tag
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot .gtitle')]"
                           ".some(t => t.textContent.includes('<img'))", timeout=20_000)
    assert not page.query_selector_all(".js-plotly-plot img")
    page.locator("button:has-text('Ask the black-box teacher'):visible").click()
    page.locator("text=queries spent >> visible=true").first.wait_for(timeout=20_000)
    page.wait_for_timeout(500)
    assert page.title() != "XSS"
    page.screenshot(path=str(SHOTS / "escaped_text.png"), full_page=True)
    open_tab(page, "Soft labels")
    page.click("button:has-text('data set example')")


def test_stop_then_run_again_and_the_controls_are_locked_meanwhile(page):
    open_tab(page, "Distillation lab")
    epochs = type_into(page, "epochs", "100000")  # long enough that Stop always comes first
    page.locator("button:has-text('Run'):visible").click()
    expect = pytest.importorskip("playwright.sync_api").expect
    page.locator("text=Running… >> visible=true").wait_for(timeout=10_000)
    expect(epochs).to_be_disabled(timeout=5_000)
    selects = page.locator("select:visible")  # scenario, teacher, student width
    assert selects.count() >= 3
    for i in range(selects.count()):
        expect(selects.nth(i)).to_be_disabled(timeout=5_000)
    page.locator("button:has-text('Stop'):visible").click()
    page.locator("text=Stopped. >> visible=true").wait_for(timeout=10_000)
    expect(epochs).to_be_enabled(timeout=5_000)
    type_into(page, "epochs", "5")
    page.locator("button:has-text('Run'):visible").click()
    page.locator("text=Done. >> visible=true").wait_for(timeout=60_000)
    assert not page.query_selector_all(".kd-error:visible") and not page.errors


def test_a_run_that_blows_up_inside_the_lab_ends_with_a_message_not_silence(page):
    """The engine stops a diverging run (Result.diverged) and the lab raises: the page
    says what happened and what to change, and the controls come back."""
    open_tab(page, "Distillation lab")
    type_into(page, "epochs", "5")
    lr = type_into(page, "learning rate", "1000")
    page.locator("button:has-text('Run'):visible").click()
    error = page.locator(".kd-error:visible")
    error.wait_for(timeout=60_000)
    assert "diverged" in error.inner_text() and "Lower the learning rate" in error.inner_text()
    pytest.importorskip("playwright.sync_api").expect(lr).to_be_enabled(timeout=5_000)
    page.wait_for_timeout(500)
    assert not page.locator("text=Press Run to draw this >> visible=true").count()  # the epoch it trained is drawn
    page.screenshot(path=str(SHOTS / "diverged.png"))
    type_into(page, "learning rate", "0.01")
    assert "Traceback" not in page.inner_text("body") and not page.errors


def test_predict_with_the_keyboard_then_run_shows_the_prediction_next_to_the_outcome(page):
    """Predict, then see: the question is asked before Run (its outcome hidden), a choice
    is made with the keyboard alone, and Run's end shows it next to what happened."""
    open_tab(page, "Distillation lab")
    type_into(page, "epochs", "5")  # the learner's own settings now: the lab's own question
    radios = page.locator(".kd-prediction:visible input[type=radio]")
    assert radios.count() >= 3 and page.locator("text=Predict first: >> visible=true").count()
    assert not page.locator(".kd-reveal:visible").count()  # nothing revealed before Run
    radios.first.focus()
    page.keyboard.press("Space")  # checks the focused choice
    page.keyboard.press("ArrowDown")  # moves to the next and checks it
    checked = page.locator(".kd-prediction:visible input[type=radio]:checked")
    pytest.importorskip("playwright.sync_api").expect(checked).to_have_count(1, timeout=5_000)
    chosen = checked.evaluate("e => e.closest('label').textContent.trim()")
    page.screenshot(path=str(SHOTS / "prediction_before_run.png"))
    page.locator("button:has-text('Run'):visible").click()
    reveal = page.locator(".kd-reveal:visible")
    reveal.wait_for(timeout=60_000)
    text = reveal.inner_text()
    assert text.startswith(f"You predicted: {chosen}. What happened: This run") and "test accuracy" in text
    assert ("✓" in text) != ("✗" in text)  # judged from this run's accuracies
    page.screenshot(path=str(SHOTS / "prediction_revealed.png"))
    assert not page.errors


def test_a_link_opens_the_lab_with_its_settings(page, app_url):
    bad = "%3Cimg%20src%3Dx%20onerror%3D%22document.title%3D'XSS'%22%3E"
    linked = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        linked.goto(f"{app_url}?tab=Distillation%20lab&scenario=left-out%20digit&epochs=5&lr={bad}",
                    timeout=120_000)
        linked.locator("text=Settings from the link >> visible=true").wait_for(timeout=120_000)
        assert linked.locator(".widget-text:has-text('classes left out') input:visible").input_value() == "3"
        assert linked.locator(".widget-text:has-text('epochs') input:visible").input_value() == "5"
        assert "ignored lr=" in linked.inner_text("body") and linked.title() != "XSS"
        linked.locator("button:has-text('Run'):visible").click()
        linked.locator("text=Done. >> visible=true").wait_for(timeout=60_000)
        linked.locator("button:has-text('Link to these settings')").click()
        linked.locator(".kd-link:has-text('left_out=3')").wait_for(timeout=10_000)
        linked.screenshot(path=str(SHOTS / "linked_settings.png"), full_page=True)
        assert linked.title() != "XSS"
    finally:
        linked.close()


def test_plotly_code_reaches_the_browser_once_by_url_not_per_figure(page, app_url):
    """Every tab opened in a fresh page: the figures' widget code comes as one HTTP file,
    and the websocket carries data only (each go.FigureWidget would send ~5 MB)."""
    from widgets.figure_widget import NAME
    fresh = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
    sent, bundles = [], []
    fresh.on("websocket", lambda ws: ws.on("framereceived", lambda frame: sent.append(len(frame))))
    fresh.on("response", lambda r: bundles.append(r.status) if r.url.endswith(NAME) else None)
    try:
        fresh.goto(app_url, timeout=120_000)
        fresh.wait_for_selector(BARS, state="attached", timeout=120_000)
        from widgets.app import TABS
        for title, _ in TABS[1:]:
            before = fresh.locator(".js-plotly-plot").count()
            open_tab(fresh, title)
            if title != "Exercises":  # the one tab without a figure
                fresh.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length > {before}",
                                        timeout=60_000)
        assert fresh.locator(".js-plotly-plot").count() >= 12
        assert sum(sent) < 10e6, f"{sum(sent) / 1e6:.1f} MB over the websocket"
        assert bundles == [200], bundles  # fetched once for all figures
    finally:
        fresh.close()


def test_a_figure_still_draws_when_its_plotly_code_cannot_be_fetched(page, tmp_path):
    """The loader's fallback: no served bundle, so the kernel sends it over the websocket."""
    nbformat = pytest.importorskip("nbformat")
    notebook = tmp_path / "fallback.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import plotly.graph_objects as go\n"
        "from widgets.figure_widget import FigureWidget, LOADER, NEED_BUNDLE\n"
        "widget = FigureWidget(go.Figure(go.Bar(x=['a', 'b', 'c'], y=[3, 1, 2])))\n"
        "widget._esm = LOADER % {'name': 'no-such-bundle.js', 'need': NEED_BUNDLE}\n"
        "widget")]), notebook)
    with voila(notebook, tmp_path) as url:
        other = page.context.browser.new_page()
        try:
            other.goto(url, timeout=120_000)
            other.wait_for_selector(BARS, state="attached", timeout=120_000)
            assert len(other.query_selector_all(BARS)) == 3
        finally:
            other.close()


def test_a_script_in_any_text_box_or_any_link_setting_never_runs(page, app_url):
    """The XSS string typed into every text box of every tab, then put into every
    setting of the Distillation lab's link, loaded in the browser: no script runs and no
    tag is made of it. (Every other lab's link: tests/test_url_settings.py, in Python, on
    the same Message widget; each page load here costs a kernel.)"""
    from widgets.app import TABS
    LABS = ("Distillation lab",)  # the tab whose link the browser loads
    injected = "() => document.querySelectorAll('.widget-html img, .widget-htmlmath img, .js-plotly-plot img, " \
               ".kd-info img, .kd-error img').length"
    queries = []
    for title, _ in TABS:
        open_tab(page, title)
        boxes = page.locator(".widget-text input[type=text]:visible, .widget-textarea textarea:visible")
        for i in range(boxes.count()):
            if boxes.nth(i).is_enabled():
                boxes.nth(i).fill(XSS)
                boxes.nth(i).press("Enter")
        page.wait_for_timeout(700)
        assert page.title() != "XSS" and page.evaluate(injected) == 0, title
        if title in LABS:  # wait for this tab's link: the previous tab's may still be on the page
            page.locator("button:has-text('Link to these settings')").click()
            shown = page.locator(f".kd-link code:has-text('tab={urllib.parse.quote(title)}')")
            shown.wait_for(timeout=30_000)
            names = [kv.split("=")[0] for kv in shown.inner_text().lstrip("?").split("&")]
            queries.append("&".join([f"tab={urllib.parse.quote(title)}"] +
                                    [f"{n}={urllib.parse.quote(XSS)}" for n in names if n != "tab"]))
    linked = page.context.browser.new_page()
    try:
        for query in queries:
            linked.goto(f"{app_url}?{query}", timeout=120_000)
            linked.locator("text=Settings from the link >> visible=true").wait_for(timeout=120_000)
            assert linked.title() != "XSS" and linked.evaluate(injected) == 0, query
    finally:
        linked.close()
