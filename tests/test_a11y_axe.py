"""WCAG 2.1 level A and AA in the real browser: axe-core checks each of the app's ten tabs.

axe-core is a JavaScript library from npm (MPL-2.0), used as is: the test loads its
axe.min.js into the page and asks it for the violations of the rules tagged wcag2a, wcag2aa,
wcag21a and wcag21aa. A tab passes with no serious or critical violation; the moderate and
minor ones are printed (and written to test-artifacts/a11y/axe.json) so that the counts per
rule can be compared before and after a change (docs/accessibility.md).

Where axe.min.js comes from: KD_WORKBENCH_AXE (a path), else the npm cache that .ci/run
fills (~/.cache/kd-workbench/node/node_modules/axe-core/axe.min.js). Without it the test
skips on a laptop and says how to install it; under CI (CI=true) it fails."""
import collections
import json
import os
import pathlib

import pytest

from test_browser import ROOT, app_url, open_tab, page  # noqa: F401 (fixtures)

AXE_CACHE = pathlib.Path.home() / ".cache" / "kd-workbench" / "node" / "node_modules" / "axe-core" / "axe.min.js"
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
IMPACTS = ("critical", "serious", "moderate", "minor")  # axe's impacts, worst first
BLOCKING = IMPACTS[:2]
REPORT = ROOT / "test-artifacts" / "a11y" / "axe.json"

# the tab panel in view (ipywidgets 8 hides the others with display: none)
SHOWN_PANEL = ("[...document.querySelectorAll('.widget-tab-contents > .lm-Widget, .lm-TabPanel-stackedPanel > .lm-Widget')]"
               ".find(p => p.offsetParent)")
# the panel's size of markup and number of drawn figures: unchanged for a while means it is built and drawn
PANEL_STATE = f"() => {{ const p = {SHOWN_PANEL}; return p ? [p.innerHTML.length, p.querySelectorAll('.main-svg').length," \
              " p.textContent.includes('Loading…')] : null; }"
RUN_AXE = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return {axe: axe.version, passed: r.passes.length,
          violations: r.violations.map(v => ({rule: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                                              targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))};
}"""


def axe_path():
    """The axe.min.js to load: KD_WORKBENCH_AXE, else the npm cache; skip (fail under CI) without one."""
    found = os.environ.get("KD_WORKBENCH_AXE") or str(AXE_CACHE)
    if os.path.isfile(found):
        return found
    how = (f"the WCAG check needs axe-core: `npm install --prefix ~/.cache/kd-workbench/node axe-core@4` "
           f"(Node.js's npm), or set KD_WORKBENCH_AXE to an axe.min.js; looked for {found}")
    if os.environ.get("CI") == "true":
        pytest.fail(f"no axe-core under CI: {how}")
    pytest.skip(how)


def test_a_missing_axe_skips_on_a_laptop_and_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("KD_WORKBENCH_AXE", str(tmp_path / "no-such-axe.min.js"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="npm install .*axe-core"):
        axe_path()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no axe-core under CI"):
        axe_path()
    found = tmp_path / "axe.min.js"
    found.write_text("// axe")
    monkeypatch.setenv("KD_WORKBENCH_AXE", str(found))
    assert axe_path() == str(found)


def wait_until_drawn(page, timeout_s=60):
    """Wait until the shown tab is built (no 'Loading…') and its markup stops changing for 1 s."""
    last, still = None, 0
    for _ in range(int(timeout_s / 0.25)):
        state = page.evaluate(PANEL_STATE)
        still = still + 1 if state == last and state and not state[2] else 0
        if still >= 4:
            return
        last = state
        page.wait_for_timeout(250)
    raise AssertionError(f"the tab did not settle in {timeout_s} s: {last}")


def check_tab(page, title):
    """Open tab `title`, wait until it is drawn, run axe over the page; return its result."""
    open_tab(page, title)
    selected = page.locator(".lm-TabBar-tab.lm-mod-current").inner_text().strip()
    assert selected == title, f"opened {title!r}, but the tab bar shows {selected!r}"
    wait_until_drawn(page)
    if not page.evaluate("() => typeof axe === 'object'"):  # the page keeps it once loaded
        page.add_script_tag(path=axe_path())
    return page.evaluate(RUN_AXE, WCAG21_AA)


def blocking_violations(page):
    """Run axe over `page` as it is now; return its serious and critical WCAG 2.1 A/AA
    violations as lines (rule, impact, nodes, help), after checking that axe ran at all."""
    if not page.evaluate("() => typeof axe === 'object'"):
        page.add_script_tag(path=axe_path())
    result = page.evaluate(RUN_AXE, WCAG21_AA)
    assert result["passed"] >= 10, f"axe passed only {result['passed']} rules: did it run?"
    return [f"{v['rule']} [{v['impact']}] x{v['nodes']}: {v['help']} ({'; '.join(v['targets'][:2])})"
            for v in result["violations"] if v["impact"] in BLOCKING]


def per_rule(results):
    """{(rule, impact): {tab: nodes}} from {tab: result}."""
    table = collections.defaultdict(dict)
    for tab, result in results.items():
        for v in result["violations"]:
            table[(v["rule"], v["impact"])][tab] = v["nodes"]
    return table


def summary(results):
    """One line per rule: its impact, the nodes on each tab and in all."""
    version = next(iter(results.values()))["axe"] if results else "?"
    lines = [f"axe-core {version}, WCAG 2.1 A/AA violations over {len(results)} tabs (nodes per tab):"]
    rules = per_rule(results)
    for rule, impact in sorted(rules, key=lambda key: (IMPACTS.index(key[1]) if key[1] in IMPACTS else 9, key[0])):
        tabs = rules[(rule, impact)]
        shown = ", ".join(f"{tab} {n}" for tab, n in tabs.items())
        lines.append(f"  {rule} [{impact}]: {sum(tabs.values())} nodes on {len(tabs)} tabs ({shown})")
    if len(lines) == 1:
        lines.append("  none")
    return "\n".join(lines)


def test_no_tab_has_a_serious_or_critical_wcag_violation(page):
    from widgets.app import TABS
    axe_path()  # skip (or fail under CI) before any tab is opened
    results = {title: check_tab(page, title) for title, _ in TABS}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(results, indent=1))
    print("\n" + summary(results) + f"\n(details: {REPORT})")
    for title, result in results.items():  # axe ran over a drawn page, not an empty one
        assert result["passed"] >= 10, f"axe passed only {result['passed']} rules on {title!r}: did it run?"
    blocking = {title: [f"{v['rule']} [{v['impact']}] x{v['nodes']}: {v['help']} ({'; '.join(v['targets'][:2])})"
                        for v in result["violations"] if v["impact"] in BLOCKING]
                for title, result in results.items()}
    blocking = {title: found for title, found in blocking.items() if found}
    assert not blocking, "serious or critical WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"{title}:\n    " + "\n    ".join(found) for title, found in blocking.items())
