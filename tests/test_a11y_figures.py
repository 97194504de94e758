"""Figures a screen reader can read, in the real browser (issue 26, WCAG 2.1 SC 1.1.1).

Each figure of the app sits in a `kd-figure` box (widgets/figure_view.py) with a one-sentence
summary (`kd-figure-summary`) of what it shows now and its data as a real HTML table,
collapsed by default under a toggle (an HTML <details> or an ipywidgets Accordion); the
plot's SVG has role="img" and the summary as its label. When the figure changes, the
summary, the label and the table change with it and agree with what is drawn.

The Soft labels tab is the case: the temperature slider moves with the arrow keys and the
soft labels, their summary ("Soft labels at T = 4: 0.91 on 3, …") and their table follow.
Fixtures come from test_browser.py."""
import re

import pytest

from test_browser import SHOTS, app_url, open_tab, page  # noqa: F401 (fixtures)

FIGURE = ".kd-figure:visible:has(.js-plotly-plot .bars)"  # the soft-label bars and their texts
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
# what the figure draws (the y values of its traces), its summary, its SVG's label, its table
STATE = """(box) => {
  const plot = box.querySelector('.js-plotly-plot');
  const table = box.querySelector('table');
  const svg = box.querySelector('svg[role="img"]');
  return {drawn: (plot.data || []).map(t => Array.from(t.y || [], Number)),
          summary: (box.querySelector('.kd-figure-summary') || {}).textContent || '',
          label: svg ? svg.getAttribute('aria-label') || '' : null,
          headers: table ? [...table.querySelectorAll('th')].map(th => th.textContent.trim()) : [],
          cells: table ? [...table.querySelectorAll('td')].map(td => td.textContent.trim()) : [],
          // a closed <details> keeps its content laid out but skipped (content-visibility)
          table_shown: !!(table && table.checkVisibility() && !table.closest('details:not([open])'))};
}"""
# the toggle that opens the table: a <summary> of <details>, or the Accordion's title
TOGGLE = "details > summary, .lm-AccordionPanel-title, .jupyter-widget-Collapse-header, .p-Collapse-header"


def squeeze(text):
    return " ".join(text.split())


def numbers(texts):
    return [float(n) for text in texts for n in NUMBER.findall(text)]


def figure_state(box):
    state = box.evaluate(STATE)
    state["summary"], state["label"] = squeeze(state["summary"]), state["label"] and squeeze(state["label"])
    return state


def check_texts_match_the_drawing(state):
    """The summary is a sentence with numbers, the SVG carries it, and every drawn value is in the table."""
    assert len(state["summary"]) > 20 and numbers([state["summary"]]), f"no summary with numbers: {state['summary']!r}"
    assert state["label"] == state["summary"], f"the plot's SVG says {state['label']!r}, the summary {state['summary']!r}"
    assert state["headers"] and state["cells"], "no table with <th> headers and <td> cells"
    in_table = numbers(state["cells"])
    missing = [y for trace in state["drawn"] for y in trace if not any(abs(y - n) <= 0.006 for n in in_table)]
    assert not missing, f"drawn values not in the table (rounded to 2 decimals or finer): {missing[:5]}"


def test_the_summary_and_the_table_follow_the_soft_labels_when_the_temperature_moves(page):
    open_tab(page, "Soft labels")
    page.click("button:has-text('data set example')")
    box = page.locator(FIGURE).first
    try:
        box.wait_for(timeout=30_000)
    except Exception as timeout:  # playwright's TimeoutError
        raise AssertionError("no .kd-figure box (widgets/figure_view.py) around the soft-label bars") from timeout
    before = figure_state(box)
    assert not before["table_shown"], "the table should be collapsed until asked for"
    toggle = box.locator(TOGGLE).first
    toggle.focus()
    assert toggle.evaluate("e => e === document.activeElement"), "the table's toggle cannot take the keyboard focus"
    page.keyboard.press("Enter")  # open "Data as a table" from the keyboard
    page.wait_for_function(f"(box) => ({STATE})(box).table_shown", arg=box.element_handle(), timeout=10_000)
    check_texts_match_the_drawing(before)

    handle = page.locator(".widget-slider:has-text('temperature') .noUi-handle:visible").first
    readout = page.locator(".widget-slider:has-text('temperature') .widget-readout:visible").first
    handle.focus()
    for _ in range(15):  # a higher temperature: softer labels
        page.keyboard.press("ArrowRight")
    try:
        page.wait_for_function(f"([box, summary, drawn]) => {{ const s = ({STATE})(box);"
                               " return s.summary.split(/\\s+/).join(' ').trim() !== summary &&"
                               " JSON.stringify(s.drawn) !== JSON.stringify(drawn); }",
                               arg=[box.element_handle(), before["summary"], before["drawn"]], timeout=20_000)
    except Exception as timeout:  # playwright's TimeoutError
        now = figure_state(box)
        raise AssertionError(f"20 s after the slider moved: bars redrawn {now['drawn'] != before['drawn']}, "
                             f"summary still {now['summary']!r}") from timeout
    page.wait_for_timeout(500)  # the table and the label are sent with the summary
    after = figure_state(box)
    assert after["drawn"] != before["drawn"] and after["cells"] != before["cells"]
    assert after["table_shown"], "the table the learner opened closed again when the figure changed"
    check_texts_match_the_drawing(after)
    shown_t = float(readout.inner_text())
    said_t = re.search(r"T\s*=\s*(\d+(?:\.\d+)?)", after["summary"])
    assert said_t, f"the summary does not say the temperature: {after['summary']!r}"
    assert float(said_t.group(1)) == pytest.approx(shown_t, rel=0.05), (said_t.group(0), shown_t)
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "figure_summary_and_table.png"), full_page=True)
