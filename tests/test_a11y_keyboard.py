"""The app with the keyboard alone: no mouse click anywhere in this file.

A learner who cannot use a mouse moves with Tab, Shift+Tab, the arrow keys, Enter and
Space. These tests walk the app as such a learner would: switch tabs with the arrow keys,
reach the distillation lab's Run button, start a long run, reach Stop while it runs, press
it and hear "Stopped." from a live region; and on every stop of the way the focus must be
visible (WCAG 2.1: 2.1.1 Keyboard, 2.4.3 Focus Order, 2.4.7 Focus Visible, 1.4.11 Non-text
Contrast, 4.1.3 Status Messages). Fixtures come from test_browser.py."""
import pytest

from test_browser import SHOTS, app_url, page  # noqa: F401 (fixtures)

LAB = "Distillation lab"
MAX_PRESSES = 40  # Tab presses from the lab's tab to its Run button (17 in the app of issue 26)
MIN_FOCUS_CONTRAST = 3.0  # WCAG 2.1 SC 1.4.11: a focus indicator against what is next to it

# what has the focus: its tag, role, text, the label of its widget, whether it is disabled
FOCUSED = """() => { const e = document.activeElement;
  const w = e && e.closest('.widget-inline-hbox, .widget-text, .widget-slider');
  const label = w && w.querySelector('label');
  return {tag: e ? e.tagName : '', role: e ? e.getAttribute('role') || '' : '',
          text: e ? (e.innerText || e.value || '').trim().slice(0, 60) : '',
          label: label ? label.textContent.trim() : '', disabled: !!(e && e.disabled),
          selected: e ? e.getAttribute('aria-selected') : null}; }"""
CURRENT_TAB = "() => document.querySelector('.lm-TabBar-tab.lm-mod-current').textContent.trim()"
# the focus ring of an element: outline and box-shadow, and the colour behind it (its parent's
# background, the first one that is not transparent, white at the top)
RING = """(e) => { const s = getComputedStyle(e);
  let p = e.parentElement, bg = 'rgb(255, 255, 255)';
  for (; p; p = p.parentElement) { const b = getComputedStyle(p).backgroundColor;
    if (b && !/rgba\\(.*, 0\\)$/.test(b) && b !== 'transparent') { bg = b; break; } }
  return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0, outlineColor: s.outlineColor,
          shadow: s.boxShadow, background: bg}; }"""
# the live regions a screen reader reads out: aria-live, or a role that implies it
LIVE = "[aria-live]:not([aria-live='off']), [role='status'], [role='alert'], [role='log']"
LIVE_TEXT = f"() => [...document.querySelectorAll(\"{LIVE}\")].map(e => e.textContent).join(' | ')"


def focused(page):
    return page.evaluate(FOCUSED)


def tab_until(page, wanted, limit, key="Tab"):
    """Press `key` until `wanted(focused)` holds; return the presses it took (fail after `limit`)."""
    seen = []
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        now = focused(page)
        if wanted(now):
            return presses
        seen.append(f"{now['tag']} {now['role']} {now['label'] or now['text']!r}")
    raise AssertionError(f"not reached with {limit} x {key}; the focus went: " + " -> ".join(seen))


def is_tab(title=None):
    return lambda f: f["role"] == "tab" and (title is None or f["text"] == title)


def is_button(text):
    return lambda f: f["tag"] == "BUTTON" and f["text"] == text and not f["disabled"]


def focus_the_tab_bar(page):
    """Move the focus to the tab bar's current tab: forward from the top of a page where
    nothing has the focus, else backward (the tab bar comes before every tab's controls)."""
    now = focused(page)
    if is_tab()(now):
        return
    if now["tag"] in ("BODY", ""):
        try:
            tab_until(page, is_tab(), limit=MAX_PRESSES)
            return
        except AssertionError:  # the browser went on from where the last focus was, past the tab bar
            pass
    # back over whatever the last test left the focus in: a whole lab's controls and figures
    tab_until(page, is_tab(), limit=5 * MAX_PRESSES, key="Shift+Tab")


def open_tab_by_keyboard(page, title):
    """Arrow along the tab bar to `title` and press Enter; wait until its panel is in view."""
    focus_the_tab_bar(page)
    if focused(page)["text"] != title:
        tab_until(page, is_tab(title), limit=9, key="ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => ({CURRENT_TAB})() === {title!r}", timeout=10_000)
    page.locator("text=Loading… >> visible=true").wait_for(state="detached", timeout=60_000)


def rgba(css):
    """(r, g, b, alpha) of 'rgb(r, g, b)' or 'rgba(r, g, b, a)', r, g, b in 0-255."""
    parts = [float(c) for c in css[css.index("(") + 1:css.index(")")].split(",")]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def over(colour, background):
    """`colour` as seen over `background`: a half-transparent shadow is a paler colour."""
    *fg, alpha = rgba(colour)
    bg = rgba(background)[:3]
    mixed = [round(alpha * f + (1 - alpha) * b) for f, b in zip(fg, bg)]
    return f"rgb({mixed[0]}, {mixed[1]}, {mixed[2]})"


def luminance(css):
    """Relative luminance (WCAG 2.1) of an opaque 'rgb(r, g, b)'."""
    channels = [c / 255 for c in rgba(css)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    """WCAG contrast ratio of two CSS colours, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def first_colour(css):
    """The first rgb()/rgba() colour in a CSS value such as a box-shadow, or None."""
    start = css.find("rgb")
    return css[start:css.index(")", start) + 1] if start >= 0 else None


def ring_problem(focused_ring, unfocused_ring):
    """Why a focus indicator is not visible enough, or None: an outline, or a box-shadow that
    appears with the focus, in a colour of >= 3:1 against the background around it."""
    colours = []
    if focused_ring["outline"] != "none" and focused_ring["width"] >= 1:
        colours.append(focused_ring["outlineColor"])
    if focused_ring["shadow"] != "none" and focused_ring["shadow"] != unfocused_ring["shadow"]:
        colours.append(first_colour(focused_ring["shadow"]))
    colours = [over(c, focused_ring["background"]) for c in colours if c and rgba(c)[3] > 0]
    if not colours:
        return f"no focus indicator (outline {focused_ring['outline']}, box-shadow unchanged by the focus)"
    best = max(contrast(c, focused_ring["background"]) for c in colours)
    if best < MIN_FOCUS_CONTRAST:
        return f"focus indicator {colours} is {best:.2f}:1 against {focused_ring['background']}, below 3:1"
    return None


def test_contrast_follows_wcag():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)
    ring = dict(outline="solid", width=2, outlineColor="rgb(100, 181, 246)", shadow="none", background="rgb(255, 255, 255)")
    assert "below 3:1" in ring_problem(ring, dict(ring, outline="none"))  # ipywidgets' light blue: 2.1:1
    assert ring_problem(dict(ring, outlineColor="rgb(26, 95, 180)"), ring) is None
    faint = dict(ring, outline="none", shadow="rgba(0, 0, 0, 0.14) 0px 2px 2px 0px")  # a button's elevation
    assert "below 3:1" in ring_problem(faint, dict(faint, shadow="none"))
    assert ring_problem(dict(faint, shadow="rgba(0, 0, 0, 0.9) 0px 0px 0px 2px"), dict(faint, shadow="none")) is None
    assert "no focus indicator" in ring_problem(dict(ring, outline="none"), dict(ring, outline="none"))


def test_the_arrow_keys_move_along_the_tab_bar_and_enter_opens_the_tab(page):
    """WAI-ARIA tabs with manual activation: the arrows move the focus, Enter opens the tab
    (each tab is built when first opened, so passing over one does not build it)."""
    from widgets.app import TABS
    titles = [title for title, _ in TABS]
    focus_the_tab_bar(page)
    start = focused(page)["text"]
    assert focused(page)["selected"] == "true" and start == page.evaluate(CURRENT_TAB)
    page.keyboard.press("ArrowRight")
    assert focused(page)["text"] == titles[(titles.index(start) + 1) % len(titles)]
    page.keyboard.press("ArrowLeft")
    assert focused(page)["text"] == start
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    following = titles[(titles.index(start) + 1) % len(titles)]
    page.wait_for_function(f"() => ({CURRENT_TAB})() === {following!r}", timeout=10_000)
    assert focused(page)["selected"] == "true"


def test_the_focus_is_visible_on_every_stop_from_the_lab_tab_to_run(page):
    """Every control on the way from the lab's tab to its Run button shows a focus
    indicator (an outline or a box-shadow the focus adds) of >= 3:1 against its background."""
    open_tab_by_keyboard(page, LAB)
    problems, seen = [], []
    for _ in range(MAX_PRESSES):
        page.evaluate("() => { window.kdFocused = document.activeElement; }")
        ring = page.evaluate(f"() => ({RING})(document.activeElement)")
        now = focused(page)
        page.keyboard.press("Tab")
        page.wait_for_timeout(100)  # past the buttons' box-shadow transition
        unfocused = page.evaluate(f"() => ({RING})(window.kdFocused)")
        name = f"{now['tag']} {now['role']} {now['label'] or now['text']!r}"
        seen.append(name)
        problem = ring_problem(ring, unfocused)
        if problem:
            problems.append(f"{name}: {problem}")
        if is_button("Run")(now):
            break
    else:
        raise AssertionError(f"Run not reached with {MAX_PRESSES} x Tab: " + " -> ".join(seen))
    page.keyboard.press("Shift+Tab")  # back on Run
    page.screenshot(path=str(SHOTS / "focus_on_run.png"))
    assert not problems, f"{len(problems)} of {len(seen)} focus stops without a visible focus:\n" + "\n".join(problems)


def test_keyboard_only_a_run_starts_stops_and_stopped_is_announced(page):
    open_tab_by_keyboard(page, LAB)
    tab_until(page, lambda f: f["tag"] == "INPUT" and f["label"] == "epochs", limit=MAX_PRESSES)
    page.keyboard.press("Control+A")
    page.keyboard.type("100000")  # long enough that the run is still going when Stop is pressed
    presses = tab_until(page, is_button("Run"), limit=MAX_PRESSES)
    page.keyboard.press("Enter")
    page.locator("text=Running… >> visible=true").wait_for(timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('button')].some(b => b.offsetParent &&"
                           " b.textContent.trim() === 'Stop' && !b.disabled)", timeout=30_000)
    try:
        to_stop = tab_until(page, is_button("Stop"), limit=10)
    except AssertionError:  # Run, now disabled, lost the focus: Stop may be behind it
        to_stop = tab_until(page, is_button("Stop"), limit=10, key="Shift+Tab")
    page.screenshot(path=str(SHOTS / "focus_on_stop.png"))
    page.keyboard.press("Enter")
    page.locator("text=Stopped. >> visible=true").wait_for(timeout=30_000)  # the run did stop
    try:
        page.wait_for_function(f"() => ({LIVE_TEXT})().includes('Stopped.')", timeout=10_000)
    except Exception as timeout:  # playwright's TimeoutError
        raise AssertionError(f"'Stopped.' is on the page but in no live region ({LIVE}); they say: "
                             f"{page.evaluate(LIVE_TEXT)!r}") from timeout
    print(f"\nkeyboard: Run after {presses} Tab presses from the epochs box, Stop {to_stop} presses later")


RECIPE_SAYS = "(t) => [...document.querySelectorAll('.kd-recipe')].some(e => e.offsetParent && e.textContent.includes(t))"


def test_keyboard_only_the_llm_recipe_controls_and_the_trl_text(page):
    """The LLM lab's controls of issue 22 with the keyboard alone: the comparison menu, top-k
    and its missing mass, the on-policy share λ (the recipe line follows, said in words), and
    the collapsed TRL text opened with Enter."""
    from widgets import llm_lab
    open_tab_by_keyboard(page, "LLM")
    tab_until(page, lambda f: f["tag"] == "SELECT" and f["label"] == "compared with", limit=MAX_PRESSES)
    page.keyboard.press("ArrowDown")  # the next comparison: off-policy forward KL
    page.wait_for_function("() => [...document.querySelectorAll('select')].some(s => s.offsetParent && "
                           "s.options[s.selectedIndex].text.replace(/\\u00a0/g, ' ') === " + repr(llm_lab.FORWARD) + ")",
                           timeout=10_000)
    tab_until(page, is_button("top-k"), limit=5)
    page.keyboard.press("Enter")
    page.locator("button:has-text('spread it uniformly'):visible").wait_for(timeout=10_000)
    tab_until(page, is_button("spread it uniformly"), limit=10)
    page.keyboard.press("Enter")
    page.wait_for_function(RECIPE_SAYS, arg=llm_lab.TAIL_WORDS["uniform"], timeout=10_000)
    tab_until(page, lambda f: f["label"] == "on-policy share λ", limit=MAX_PRESSES)
    page.keyboard.press("End")
    page.wait_for_function(RECIPE_SAYS, arg="λ = 1: every sequence is the student's own sample", timeout=10_000)
    # the TRL text is redrawn for λ = 1 too: tab on only once it has been, or the redraw drops the focus
    page.wait_for_function("() => [...document.querySelectorAll('details pre')]"
                           ".some(p => p.textContent.includes('DistillationConfig('))", timeout=10_000)
    page.wait_for_timeout(300)
    is_trl = lambda f: f["tag"] == "SUMMARY" and f["text"] == "The same settings in TRL"  # noqa: E731
    try:
        tab_until(page, is_trl, limit=MAX_PRESSES)
    except AssertionError:  # after a full-file run the focus can sit past it (in the figures): go back
        tab_until(page, is_trl, limit=3 * MAX_PRESSES, key="Shift+Tab")
    page.keyboard.press("Enter")
    page.locator("details[open] pre:visible").first.wait_for(timeout=10_000)
    assert "DistillationConfig(" in page.locator("details[open] pre:visible").first.inner_text()
    page.screenshot(path=str(SHOTS / "llm_keyboard_recipe.png"))
