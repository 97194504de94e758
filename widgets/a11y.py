"""Accessibility for every page the widgets appear on (WCAG 2.1 AA): one shared anywidget.

ipywidgets 8 leaves gaps a screen reader or a keyboard learner falls into: its slider
handles have no name and announce the raw value (a log slider its exponent), toggle
buttons do not say which is pressed, icon-only buttons have no name, and a Voila page
has no main landmark or descriptive title. The `A11y` widget's front end closes them
once per page, whatever builds the controls: a MutationObserver over the document

* names each slider handle from its description (aria-label) and says the value the
  learner sees (aria-valuetext "temperature T = 4.00", from the readout), kept in step;
* names the groups of ToggleButtons and RadioButtons, marks toggle buttons aria-pressed,
  names icon-only buttons from their tooltip or icon, and gives an ipywidgets Image alt
  text (its name set from Python, else its tooltip, else the caption shown above it);
* applies names set from Python with `name(widget, text)` (to a control, an image, a figure);
* makes elements of class `kd-status` polite live regions (role=status) and `kd-alert`
  assertive ones (role=alert), following a class that changes (live.Message does);
  `announce(text)` speaks through its own hidden region;
* gives a figure's main plotly SVG role="img" and, as its label, the summary shown beside
  it (class `kd-figure-summary` inside the figure's box of class `kd-figure`), or else its title;
* on a Voila page: lang="en", a descriptive title and a main landmark;
* switches an ipywidgets Tab with the arrow keys (Lumino moves the focus; this selects),
  and hands the focus from Run to Stop when a run starts and back when it ends (buttons of
  classes `kd-run` / `kd-stop` inside a `kd-runner` row), so Stop is one key press away;
* styles: darker tab labels (>= 4.5:1), a visible focus ring on every control (>= 3:1).

Display it once per page: the app includes it, and so does every run controller's row
(`ensure()` returns the one widget of this kernel). Displaying it twice is harmless: the
page's layer is installed once."""
import ipywidgets as W
import traitlets

import anywidget

TITLE = "KD Workbench — knowledge distillation labs"
NAME_CLASS = "kd-name-"  # + the widget's model id: the class that carries a name set from Python

ESM = r"""
const ICONS = {play: "play", pause: "pause", stop: "stop", retweet: "repeat", repeat: "repeat",
               link: "link", check: "check", download: "download", comment: "comment", plus: "add",
               minus: "remove", times: "close", close: "close", refresh: "refresh", undo: "undo"};
const ARROWS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];

function setAttr(el, name, value) {
  if (value === null || value === undefined) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

function textOf(el) {
  return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
}

function registeredName(state, el) {
  for (const cls of el.classList) {
    if (cls.startsWith("kd-name-") && state.names[cls]) return state.names[cls];
  }
  return "";
}

function labelOf(state, box) {
  return registeredName(state, box) || textOf(box.querySelector(":scope > .widget-label"));
}

function fixSlider(state, box) {
  const name = labelOf(state, box);
  if (!name) return;
  const readout = box.querySelector(":scope > .widget-readout");
  const handles = box.querySelectorAll(".noUi-handle");
  handles.forEach((handle, i) => {
    const which = handles.length > 1 ? (i === 0 ? " (lower)" : " (upper)") : "";
    setAttr(handle, "aria-label", name + which);
    const shown = textOf(readout);
    if (shown) setAttr(handle, "aria-valuetext", `${name} = ${shown}`);
  });
  if (readout) {
    setAttr(readout, "role", "textbox");
    setAttr(readout, "aria-label", `${name}, type a value`);
  }
}

function applyName(el, name) {
  if (el.matches(".widget-slider, .widget-toggle-buttons, .widget-radio, .js-plotly-plot")) return;  // below
  if (el.tagName === "IMG") { setAttr(el, "alt", name); return; }
  if (el.tagName === "BUTTON") { setAttr(el, "aria-label", name); return; }
  const img = el.querySelector("img");
  if (img) { setAttr(img, "alt", name); return; }
  const control = el.querySelector("input, select, textarea, button, [role=slider], [role=progressbar]");
  if (control) { setAttr(control, "aria-label", name); return; }
  if (!el.hasAttribute("role")) setAttr(el, "role", "group");
  setAttr(el, "aria-label", name);
}

function fixGroups(state) {
  for (const box of document.querySelectorAll(".widget-toggle-buttons")) {
    const group = box.querySelector(":scope > div");
    const name = labelOf(state, box);
    if (!group) continue;
    setAttr(group, "role", "group");
    if (name) setAttr(group, "aria-label", name);
  }
  for (const button of document.querySelectorAll("button.widget-toggle-button")) {
    setAttr(button, "aria-pressed", button.classList.contains("mod-active") ? "true" : "false");
  }
  for (const box of document.querySelectorAll(".widget-radio")) {
    const group = box.querySelector(".widget-radio-box");
    const name = labelOf(state, box);
    if (!group) continue;
    setAttr(group, "role", "radiogroup");
    if (name) setAttr(group, "aria-label", name);
  }
}

function iconName(button) {
  const icon = button.querySelector("i[class*='fa-']");
  if (!icon) return "";
  for (const cls of icon.classList) {
    if (cls.startsWith("fa-") && cls !== "fa-fw") {
      const key = cls.slice(3);
      return ICONS[key] || key.replace(/-/g, " ");
    }
  }
  return "";
}

function fixButtons(state) {
  for (const button of document.querySelectorAll("button")) {
    if (textOf(button) || registeredName(state, button) || button.hasAttribute("aria-labelledby")) continue;
    if (!button.closest(".jupyter-widgets")) continue;  // the widgets' buttons, not JupyterLab's
    const name = button.getAttribute("title") || iconName(button);
    if (name) setAttr(button, "aria-label", name);
  }
}

function fixImages(state) {
  // an ipywidgets Image has no alt: a name set from Python, else its tooltip, else the caption
  // shown just above it (an HTML widget)
  for (const img of document.querySelectorAll("img.widget-image, .kd-image img")) {
    const before = img.previousElementSibling;
    const caption = before && before.matches(".widget-html") ? textOf(before) : "";
    const name = registeredName(state, img) || img.getAttribute("title") || caption;
    if (name) setAttr(img, "alt", name);
  }
}

function fixLiveRegion(el) {
  // kd-status: said when the screen reader is free; kd-alert: at once. An element that lost
  // both classes (set here before) is a live region no more.
  const alert = el.classList.contains("kd-alert");
  const status = !alert && el.classList.contains("kd-status");
  setAttr(el, "role", alert ? "alert" : status ? "status" : null);
  setAttr(el, "aria-live", alert ? "assertive" : status ? "polite" : null);
  setAttr(el, "data-kd-live", alert || status ? "" : null);
}

function fixLiveRegions() {
  for (const el of document.querySelectorAll(".kd-status, .kd-alert, [data-kd-live]")) fixLiveRegion(el);
}

function figureLabel(state, plot) {
  const figure = plot.closest(".kd-figure");
  const summary = figure ? textOf(figure.querySelector(".kd-figure-summary")) : "";
  if (summary) return summary;
  const host = plot.closest("[class*='kd-name-']");
  const named = host ? registeredName(state, host) : "";
  if (named) return named;
  const title = textOf(plot.querySelector(".gtitle"));
  return title ? `Figure: ${title}` : "";
}

function fixFigures(state) {
  for (const plot of document.querySelectorAll(".js-plotly-plot")) {
    const svgs = plot.querySelectorAll(".main-svg");
    const label = figureLabel(state, plot);
    if (!svgs.length || !label) continue;
    setAttr(svgs[0], "role", "img");
    setAttr(svgs[0], "aria-label", label);
    for (const other of Array.from(svgs).slice(1)) setAttr(other, "aria-hidden", "true");
  }
}

function fixPage(state) {
  const root = document.documentElement;
  if (!root.getAttribute("lang")) root.setAttribute("lang", "en");
  const voila = document.getElementById("rendered_cells");  // Voila's page; JupyterLab keeps its own
  if (voila && state.title && document.title !== state.title) document.title = state.title;
  if (!document.querySelector("main, [role=main]")) {
    const target = voila || document.querySelector(".kd-app");
    if (target) target.setAttribute("role", "main");
  }
  for (const label of document.querySelectorAll(".widget-label[title='null']")) label.removeAttribute("title");
}

function applyAll(state) {
  fixPage(state);
  for (const box of document.querySelectorAll(".widget-slider")) fixSlider(state, box);
  for (const [cls, name] of Object.entries(state.names)) {
    for (const el of document.getElementsByClassName(cls)) applyName(el, name);
  }
  fixGroups(state);
  fixButtons(state);
  fixImages(state);
  fixLiveRegions();
  fixFigures(state);
}

function schedule(state) {
  if (state.timer) return;
  state.timer = setTimeout(() => { state.timer = null; applyAll(state); }, 60);
}

function partnerOf(button) {
  const row = button.closest(".kd-runner");
  if (!row) return null;
  if (button.classList.contains("kd-run")) return row.querySelector("button.kd-stop");
  if (button.classList.contains("kd-stop")) return row.querySelector("button.kd-run");
  return null;
}

function handOffFocus(state, el) {
  // Run disabled under the learner's focus: the focus goes to Stop (and back when the run ends)
  const lost = document.activeElement === el || document.activeElement === document.body || !document.activeElement;
  if (el.disabled && state.lastFocused === el && lost) state.pending = partnerOf(el);
  const next = state.pending;
  const idle = !document.activeElement || document.activeElement === document.body
    || (document.activeElement.disabled && document.activeElement === state.lastFocused);
  if (next && !next.disabled && idle && next.isConnected) {
    state.pending = null;
    next.focus();
  }
}

function onMutations(state, records) {
  let other = false;
  for (const record of records) {
    const el = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    if (!el || state.own.includes(el)) continue;
    if (el.classList.contains("noUi-handle") || el.classList.contains("widget-readout")) {
      const box = el.closest(".widget-slider");
      if (box) fixSlider(state, box);  // at once, before a screen reader reads the raw value
    } else if (record.attributeName === "class" && el.matches(".kd-status, .kd-alert, [data-kd-live]")) {
      fixLiveRegion(el);  // at once: the message that made it an alert follows
    } else if (record.attributeName === "disabled") {
      handOffFocus(state, el);
    } else if (el.closest(".js-plotly-plot") && !(record.type === "childList"
               && el.matches(".js-plotly-plot, .plot-container, .svg-container"))) {
      continue;  // a redraw inside a plot (every epoch of a run): only a new SVG needs its role and label again
    } else {
      other = true;
    }
  }
  if (other) schedule(state);
}

function onKeydown(event) {
  // Lumino's TabBar moves the focus along the tabs with the arrow keys; select the tab it reaches
  const tab = event.target;
  if (!ARROWS.includes(event.key) || !(tab instanceof Element) || !tab.matches(".widget-tab-bar .lm-TabBar-tab")) return;
  setTimeout(() => {
    const now = document.activeElement;
    if (now && now !== tab && now.matches(".widget-tab-bar .lm-TabBar-tab") && !now.classList.contains("lm-mod-current")) {
      now.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true, cancelable: true}));
    }
  }, 0);
}

function liveRegion(role) {
  const region = document.createElement("div");
  region.className = "kd-visually-hidden kd-announcer";
  region.setAttribute("role", role);
  region.setAttribute("aria-live", role === "alert" ? "assertive" : "polite");
  document.body.appendChild(region);
  return region;
}

function install() {
  const state = {models: [], names: {}, title: "", timer: null, pending: null, lastFocused: null};
  state.polite = liveRegion("status");
  state.alert = liveRegion("alert");
  state.own = [state.polite, state.alert];
  new MutationObserver((records) => onMutations(state, records)).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ["class", "disabled", "aria-valuetext", "title"]});
  document.addEventListener("keydown", onKeydown, true);
  document.addEventListener("focusin", (event) => { state.lastFocused = event.target; }, true);
  schedule(state);
  return state;
}

function say(state, message, urgent) {
  const region = urgent ? state.alert : state.polite;
  region.textContent = "";
  setTimeout(() => { region.textContent = message; }, 50);  // a new node: read even when repeated
}

function addModel(state, model) {
  if (state.models.includes(model)) return;
  state.models.push(model);
  const merge = () => {
    state.names = Object.assign({}, ...state.models.map((m) => m.get("names") || {}));
    state.title = model.get("title") || state.title;
    schedule(state);
  };
  model.on("change:names", merge);
  model.on("change:title", merge);
  model.on("change:count", () => say(state, model.get("message"), model.get("urgent")));
  merge();
}

function page() {
  if (!window.__kdA11y) window.__kdA11y = install();
  return window.__kdA11y;
}

export default {
  initialize({ model }) { addModel(page(), model); },
  render({ model, el }) { addModel(page(), model); el.classList.add("kd-a11y"); },
};
"""

CSS = r"""
/* the tab labels: the current text colour on the grey tabs is 4.45:1; ui-font-color1 is >= 12:1 */
.jupyter-widgets.jupyter-widget-tab > .lm-TabBar { --jp-ui-font-color2: var(--jp-ui-font-color1); }
/* each tab as wide as its label, not a fixed 144px shrunk alike: twelve labels fit 1400px uncut */
.jupyter-widgets.jupyter-widget-tab > .lm-TabBar .lm-TabBar-tab { flex: 0 1 auto; }

/* a focus ring on every control (ipywidgets removes outlines with !important; this puts one
   back): 2px of #1a5fb4, 6.4:1 against white, 5.5:1 against the grey of the tab bar */
.jupyter-widgets button:focus-visible, .jupyter-widgets input:focus-visible,
.jupyter-widgets select:focus-visible, .jupyter-widgets textarea:focus-visible,
.jupyter-widgets .noUi-handle:focus-visible, .jupyter-widgets .widget-readout:focus-visible,
.jupyter-widgets [tabindex]:focus-visible, .jupyter-widgets [contenteditable]:focus-visible,
.widget-tab-bar .lm-TabBar-tab:focus-visible, .jupyter-widgets a:focus-visible,
.jupyter-widgets summary:focus-visible {
  outline: 2px solid #1a5fb4 !important;
  outline-offset: 2px !important;
}
.widget-tab-bar .lm-TabBar-tab:focus-visible { outline-offset: -3px !important; }

/* read by a screen reader, not shown */
.kd-visually-hidden {
  position: absolute !important; width: 1px !important; height: 1px !important;
  margin: -1px !important; padding: 0 !important; overflow: hidden !important;
  clip: rect(0 0 0 0) !important; clip-path: inset(50%) !important;
  white-space: nowrap !important; border: 0 !important;
}
"""


class A11y(anywidget.AnyWidget):
    """The page's accessibility layer (see the module's docstring). Use `ensure()` for the
    one of this kernel, and `name` / `announce` to drive it."""
    _esm = ESM
    _css = CSS
    names = traitlets.Dict().tag(sync=True)  # {kd-name-<model id>: accessible name}
    title = traitlets.Unicode(TITLE).tag(sync=True)  # the Voila page's title
    message = traitlets.Unicode("").tag(sync=True)  # the last announcement
    urgent = traitlets.Bool(False).tag(sync=True)  # whether it was said as an alert
    count = traitlets.Int(0).tag(sync=True)  # announcements so far: each change is said once

    def __init__(self):
        super().__init__(layout=W.Layout(display="none"))


_PAGE = []  # the one A11y widget of this kernel, once made


def ensure():
    """The one A11y widget of this kernel (made on the first call): put it in a layout that
    is displayed (the app, a lab shown alone); showing it in several is harmless."""
    if not _PAGE:
        _PAGE.append(A11y())
    return _PAGE[0]


def _text(text, parameter):
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{parameter} must be a non-empty string, got {text!r}")
    return " ".join(text.split())


def name(widget, text):
    """Set the accessible name of `widget` (a control, an Image, an HTML or a figure widget)
    to `text`, for one whose visible description is missing or ambiguous; call again to
    change it. Returns the widget."""
    if not isinstance(widget, W.DOMWidget):
        raise ValueError(f"widget must be an ipywidgets DOMWidget (a control, Image, HTML or figure), "
                         f"got {type(widget).__name__}")
    text = _text(text, "text")
    cls = NAME_CLASS + widget.model_id
    if cls not in widget._dom_classes:
        widget.add_class(cls)
    page = ensure()
    if page.names.get(cls) != text:
        page.names = {**page.names, cls: text}
    return widget


def name_of(widget):
    """The accessible name set with `name(widget, ...)`, or None."""
    return ensure().names.get(NAME_CLASS + widget.model_id) if isinstance(widget, W.Widget) else None


def announce(text, urgent=False):
    """Say `text` through the page's hidden live region: politely ("epoch 12 of 30",
    "Done."), or at once with urgent=True (an error). Returns the text said."""
    text = _text(text, "text")
    if not isinstance(urgent, bool):
        raise ValueError(f"urgent must be True or False, got {urgent!r}")
    page = ensure()
    with page.hold_sync():
        page.message, page.urgent = text, urgent
        page.count += 1
    return text
