"""The page's accessibility layer (widgets.a11y): names set from Python, announcements,
the layer's place in the app and in every lab's run controls, and, in the real browser,
what its front end does to a small page of the shared controls: the log-scale temperature
slider's handle says its name and the temperature the learner sees, toggle buttons their
pressed state, an icon-only button and an image their names, the page its language, title and main
landmark; an announcement reaches the live region; and the focus goes from Run to Stop
while a run is in progress, and back when it ends."""
import json

import ipywidgets as W
import pytest

from widgets import a11y, controls
from widgets.runner import RunController

from test_browser import CHROMIUM_ARGS, ROOT, SHOTS, chromium_path, voila


def test_name_puts_the_name_on_the_widget_through_one_class_and_can_change_it():
    image = W.Image(format="png")
    assert a11y.name(image, "test image 3: a handwritten 7") is image
    classes = [c for c in image._dom_classes if c.startswith(a11y.NAME_CLASS)]
    assert classes == [a11y.NAME_CLASS + image.model_id]
    assert a11y.ensure().names[classes[0]] == "test image 3: a handwritten 7"
    a11y.name(image, "test image  4:\n a handwritten 1")  # the next image: same class, new name, spaces folded
    assert [c for c in image._dom_classes if c.startswith(a11y.NAME_CLASS)] == classes
    assert a11y.name_of(image) == "test image 4: a handwritten 1"
    other = a11y.name(W.Button(icon="stop"), "stop the run")
    assert a11y.name_of(other) == "stop the run" and a11y.name_of(image) == "test image 4: a handwritten 1"


@pytest.mark.parametrize("widget, text, match", [
    (W.Button(), "", "text must be a non-empty string"),
    (W.Button(), None, "text must be a non-empty string"),
    ("a button", "Run", "widget must be an ipywidgets DOMWidget"),
])
def test_name_refuses_what_cannot_name_a_control(widget, text, match):
    with pytest.raises(ValueError, match=match):
        a11y.name(widget, text)


def test_announce_says_each_text_once_even_the_same_text_twice():
    page = a11y.ensure()
    before = page.count
    assert a11y.announce("epoch 12 of 30") == "epoch 12 of 30"
    assert (page.message, page.urgent, page.count) == ("epoch 12 of 30", False, before + 1)
    a11y.announce("epoch 12 of 30")  # said again: the count changes, so the front end says it again
    assert page.count == before + 2
    a11y.announce("lr must be > 0, got -1", urgent=True)
    assert (page.message, page.urgent, page.count) == ("lr must be > 0, got -1", True, before + 3)
    with pytest.raises(ValueError, match="text must be a non-empty string"):
        a11y.announce("   ")
    with pytest.raises(ValueError, match="urgent must be True or False, got 'yes'"):
        a11y.announce("Done.", urgent="yes")


def test_there_is_one_layer_per_kernel_and_every_lab_with_a_run_button_shows_it():
    assert a11y.ensure() is a11y.ensure()
    controller = RunController(lambda stop: iter([1.0]), lambda: None)
    row = controller.widget.children[0]
    assert a11y.ensure() in row.children and "kd-runner" in row._dom_classes
    assert "kd-run" in controller.run_button._dom_classes and "kd-stop" in controller.stop_button._dom_classes


def test_the_app_shows_the_layer_and_marks_its_main_container(digits):
    from widgets.app import app
    dashboard = app(digits, query="")
    assert a11y.ensure() in dashboard.children and "kd-app" in dashboard._dom_classes


def test_a_run_says_its_progress_in_words_now_and_then_not_every_step():
    clock = iter(range(1000))  # one second per reading of the clock
    controller = RunController(lambda stop: iter([i / 40 for i in range(1, 41)]), lambda: None)
    controller.clock = lambda: next(clock)
    controller.work_slice, controller.pause, controller.note_interval = 0.0, 0.0, 10.0
    said = []
    controller.message.observe(lambda change: said.append(controller.message.text), names="value")
    controller.start()
    notes = [s for s in said if s.startswith("Running… ")]
    # 40 steps read the clock ~90 times: a note every 10 readings, not one per step
    assert 2 <= len(notes) <= 40 // 4 and all(s.endswith("% done") for s in notes), said
    assert said[-1] == "Done."
    said.clear()
    controller.progress_text = lambda: "epoch 3 of 30"
    controller.start()
    assert "Running… epoch 3 of 30" in said and said[-1] == "Done."


def test_the_shared_controls_are_named_by_what_they_set():
    assert controls.temperature_slider().description == "temperature T"
    assert controls.alpha_slider().description == "alpha (weight of KD)"
    with pytest.raises(ValueError, match="description must be a non-empty string .* got ''"):
        controls.temperature_slider(description="")
    with pytest.raises(ValueError, match="description must be a non-empty string"):
        controls.int_box(0, "  ")


PAGE = """import sys, time
sys.path.insert(0, {root!r})
import ipywidgets as W
from widgets import a11y, controls
from widgets.runner import RunController

def slow(stop):
    def work():
        for i in range(400):  # 20 s unless stopped
            if stop.is_set():
                return
            time.sleep(0.05)
            yield i / 400
    return work()

temperature = controls.temperature_slider(4.0)
import torch
from widgets.live import png
picture = a11y.name(W.Image(value=png(torch.eye(8)), format="png", width=80, height=80), "test image 0: a diagonal stroke")
mode = W.ToggleButtons(options=["data set example", "your own numbers"], description="input")
icon_only = W.Button(icon="stop", tooltip="stop the animation")
say = W.Button(description="Say")
say.on_click(lambda _: a11y.announce("Done, said."))
runner = RunController(slow, lambda: None)
W.VBox([temperature, picture, mode, icon_only, say, runner.widget])"""

HANDLE = ("() => { const h = document.querySelector('.widget-slider .noUi-handle');"
          " return [h.getAttribute('aria-label'), h.getAttribute('aria-valuetext'),"
          " document.querySelector('.widget-slider .widget-readout').textContent]; }")


@pytest.fixture(scope="module")
def small_page(tmp_path_factory):
    """A Voila page of the shared controls, the layer and a run controller, in Chromium."""
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    folder = tmp_path_factory.mktemp("a11y_page")
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a11y", "metadata": {}, "outputs": [],
                           "source": PAGE.format(root=str(ROOT))}],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    (folder / "a11y_page.ipynb").write_text(json.dumps(notebook))
    with voila(folder / "a11y_page.ipynb", folder) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 600})
        page.goto(url, timeout=120_000)
        page.wait_for_function("() => { const h = document.querySelector('.widget-slider .noUi-handle');"
                               " return h && h.getAttribute('aria-label'); }", timeout=120_000)
        yield page
        browser.close()


def test_the_log_slider_says_its_name_and_the_temperature_not_its_exponent(small_page):
    page = small_page
    name, said, shown = page.evaluate(HANDLE)  # 4 on a grid of 0.01 in log10 T: 3.98 or so, never 0.6
    assert name == "temperature T" and said == f"temperature T = {shown}" and abs(float(shown) - 4.0) < 0.05
    page.focus(".widget-slider .noUi-handle")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.widget-slider .widget-readout').textContent !== '4.00'")
    page.wait_for_timeout(300)
    name, said, shown = page.evaluate(HANDLE)
    assert name == "temperature T" and said == f"temperature T = {shown}" and float(shown) > 4.0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "a11y_focused_slider.png"))


def test_the_page_the_buttons_and_the_image_are_named_and_toggles_say_which_is_pressed(small_page):
    page = small_page
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert page.title() == a11y.TITLE
    assert page.evaluate("() => document.querySelectorAll('main, [role=main]').length") == 1
    assert page.evaluate("() => document.querySelector('button[title=\"stop the animation\"]')"
                         ".getAttribute('aria-label')") == "stop the animation"
    assert page.evaluate("() => document.querySelector('img.widget-image').alt") == "test image 0: a diagonal stroke"
    pressed = "() => [...document.querySelectorAll('button.widget-toggle-button')].map(b => b.getAttribute('aria-pressed'))"
    assert page.evaluate(pressed) == ["true", "false"]
    page.click("button:has-text('your own numbers')")
    page.wait_for_function(f"() => ({pressed})().join() === 'false,true'", timeout=10_000)
    assert page.evaluate("() => document.querySelector('.widget-toggle-buttons [role=group]')"
                         ".getAttribute('aria-label')") == "input"


def test_an_announcement_reaches_the_live_region(small_page):
    page = small_page
    page.click("button:has-text('Say')")
    page.wait_for_function("() => [...document.querySelectorAll('.kd-announcer[role=status]')]"
                           ".some(e => e.textContent === 'Done, said.')", timeout=10_000)


def test_the_focus_goes_from_run_to_stop_and_back(small_page):
    page = small_page
    focused = "() => document.activeElement.textContent.trim()"
    page.focus("button.kd-run")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => ({focused})() === 'Stop'", timeout=15_000)
    page.screenshot(path=str(SHOTS / "a11y_focus_on_stop.png"))
    page.keyboard.press("Enter")  # Stop, with the keyboard alone
    page.wait_for_function("() => [...document.querySelectorAll('[role=status]')].some(e => e.textContent.includes('Stopped.'))",
                           timeout=15_000)
    page.wait_for_function(f"() => ({focused})() === 'Run'", timeout=15_000)
