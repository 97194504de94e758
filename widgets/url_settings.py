"""Settings in the page's URL, as TensorFlow Playground does: `?tab=Distillation lab&
scenario=left-out digit&epochs=30` opens that tab with those controls set, so an
instructor can hand a class one link. Voila passes the query string to the kernel as
the QUERY_STRING environment variable.

The settable controls of a lab are the ones that define a run (those its RunController
locks), by their attribute names. A bad or unknown value is ignored and named in a note,
never raised."""
import urllib.parse

import ipywidgets as W


def parse(query):
    """{key: value} from a query string (the first value of a repeated key)."""
    return {k: v[0] for k, v in urllib.parse.parse_qs(query or "", keep_blank_values=True).items()}


def controls(lab):
    """{name: widget} of the lab's run-defining controls, the scenario menu first (as
    "scenario"), so the other settings apply on top of it."""
    locked = getattr(getattr(lab, "controller", None), "locked", [])
    menu = getattr(getattr(lab, "picker", None), "menu", None)
    found = {name: w for name, w in vars(lab).items() if w is not menu and any(w is c for c in locked)}
    return {**({"scenario": menu} if menu is not None else {}), **found}


def _convert(widget, text):
    """The widget's value for `text`; ValueError saying what is allowed."""
    if isinstance(widget, (W.IntText, W.IntSlider, W.BoundedIntText)):
        return int(text)
    if isinstance(widget, (W.FloatText, W.FloatSlider, W.FloatLogSlider, W.BoundedFloatText)):
        value = float(text)
        if isinstance(widget, (W.FloatSlider, W.FloatLogSlider)):
            low, high = (widget.min, widget.max) if isinstance(widget, W.FloatSlider) else \
                (widget.base ** widget.min, widget.base ** widget.max)
            if not low <= value <= high:
                raise ValueError(f"must be between {low:g} and {high:g}")
        return value
    if isinstance(widget, (W.Checkbox, W.ToggleButton)):  # a link writes True / False
        for value in (True, False):
            if text.lower() == str(value).lower():
                return value
        raise ValueError("must be True or False")
    if isinstance(widget, (W.Dropdown, W.ToggleButtons, W.RadioButtons)):
        values = [o[1] if isinstance(o, tuple) else o for o in widget._options_full] \
            if hasattr(widget, "_options_full") else list(widget.options)
        for v in values:
            if str(v) == text:
                return v
        raise ValueError(f"must be one of {[str(v) for v in values]}")
    return text


def apply(lab, settings):
    """Set the lab's controls from `settings` ({name: text}); return notes on what was
    ignored and why (an empty list when everything applied)."""
    notes, known = [], controls(lab)
    if "scenario" in known and "scenario" not in settings:
        known["scenario"].value = "(choose one)"  # the controls will no longer be a named scenario's
    for name in sorted(settings, key=lambda n: list(known).index(n) if n in known else len(known)):
        if name not in known:
            notes.append(f"ignored unknown setting {name!r} (this lab has: {', '.join(known)})")
            continue
        try:
            known[name].value = _convert(known[name], settings[name])
        except Exception as e:  # a value from a URL: never a crash, always a note
            notes.append(f"ignored {name}={settings[name]!r}: {e}")
    return notes


def link(tab, lab):
    """The query string that reopens `tab` with the lab's current settings."""
    values = {"tab": tab, **{name: w.value for name, w in controls(lab).items()}}
    return "?" + urllib.parse.urlencode(values, quote_via=urllib.parse.quote)
