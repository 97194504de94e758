"""Settings in the page's URL: a link reopens a tab with its lab's settings; bad or
unknown values are ignored with a note, never a crash, and never become HTML."""
import urllib.parse

from widgets import CollapseLab, collapse_lab, url_settings
from widgets.app import app
from widgets.lab import DistillationLab


def test_a_link_reproduces_the_settings_it_was_made_from(digits):
    lab = DistillationLab(digits)
    lab.scenario.value = "left-out digit"
    lab.epochs.value, lab.lr.value, lab.seed.value = 12, 0.003, 4
    query = url_settings.link("Distillation lab", lab)
    settings = url_settings.parse(query.lstrip("?"))
    assert settings.pop("tab") == "Distillation lab"
    fresh = DistillationLab(digits)
    assert url_settings.apply(fresh, settings) == []
    assert {n: w.value for n, w in url_settings.controls(fresh).items()} == \
           {n: w.value for n, w in url_settings.controls(lab).items()}


def test_bad_and_unknown_values_are_ignored_and_named(digits):
    lab = DistillationLab(digits)
    notes = url_settings.apply(lab, {"epochs": "many", "teacher": "digits/gpt", "temperature": "500", "nope": "1",
                                     "seed": "7"})
    assert lab.seed.value == 7 and lab.epochs.value == 150 and lab.teacher.value == "digits/cnn"
    text = " | ".join(notes)
    assert "ignored epochs='many'" in text and "ignored teacher='digits/gpt': must be one of" in text
    assert "must be between 0.5 and 50" in text and "unknown setting 'nope'" in text


def test_settings_apply_after_the_scenario_and_the_setting_they_depend_on():
    lab = CollapseLab()
    assert url_settings.apply(lab, {"generations": "5", "setting": "zipf"}) == []
    assert (lab.setting.value, lab.generations.value, lab.samples.value) == ("zipf", 5, 2000)


def test_the_app_opens_the_linked_tab_with_its_settings_and_notes_the_rest(digits):
    page = app(digits, query="tab=Distillation%20lab&scenario=left-out%20digit&epochs=7&bogus=%3Cb%3Ex%3C/b%3E")
    message, (link_button, link), tabs = page.children[1], page.children[2].children, page.children[-1]
    assert tabs.selected_index == 2
    lab = tabs.children[2].children[0]
    controls = lab.children[0].children[0].children  # the lab's control column
    assert any(getattr(c, "value", None) == 7 for c in controls)
    assert "unknown setting 'bogus'" in message.text and "<b>" not in message.value
    link_button.click()
    assert "tab=Distillation%20lab" in link.value and "epochs=7" in link.value


def test_a_script_in_the_url_never_becomes_html(digits):
    page = app(digits, query="tab=%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert "<img" not in page.children[1].value and "&lt;img" in page.children[1].value
    assert app(digits, query="").children[1].text == ""


def test_every_lab_takes_its_scenario_from_the_link_and_drops_it_when_other_settings_come_alone():
    lab = CollapseLab()
    assert url_settings.apply(lab, {"scenario": "Zipf sampled at T = 0.8"}) == []
    assert (lab.setting.value, lab.temperature.value, lab.picker.menu.value) == ("zipf", 0.8, "Zipf sampled at T = 0.8")
    assert url_settings.apply(lab, {"setting": "digits"}) == []
    assert lab.picker.menu.value == "(choose one)" and lab.picker.prediction.question == collapse_lab.OWN.question
    # a link carries settings, never a learner's prediction
    assert not any(w is p.buttons for w in url_settings.controls(lab).values() for p in lab.picker.predictions.values())


def _html_values(widget):
    """The HTML of every HTML widget under `widget`."""
    import ipywidgets as W
    found = [widget.value] if isinstance(widget, (W.HTML, W.HTMLMath)) else []
    for child in getattr(widget, "children", ()):
        found += _html_values(child)
    return found


def test_a_script_in_every_setting_of_every_labs_link_never_becomes_html(digits):
    """The XSS string as the value of every setting of every tab that has settings: it is
    ignored or kept as text, and no HTML of the page holds a tag made of it (the browser
    test loads one such link in Chromium)."""
    from widgets.app import TABS
    xss = "<img src=x onerror=\"document.title='XSS'\">"
    page, checked = app(digits, query=""), []
    for index, (title, _) in enumerate(TABS):
        page.open_tab(index)
        lab = page.lab_of(index)
        if lab is None:
            continue
        names = list(url_settings.controls(lab))
        page.open_link(urllib.parse.urlencode({"tab": title, **dict.fromkeys(names, xss)}))
        assert page.tabs.selected_index == index
        for value in _html_values(page):
            assert "<img" not in value, (title, value[:200])
        assert "&lt;img" in page.message.value or all(
            getattr(w, "value", None) == xss for w in url_settings.controls(lab).values()), title
        checked.append(title)
    assert {"Distillation lab", "LLM", "Collapse", "Payoff", "Reasoning", "Dense vs sparse"} <= set(checked)
