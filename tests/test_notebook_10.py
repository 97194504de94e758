"""Notebook 10, "Beyond Hinton" (issue 24): stored as the repository stores notebooks
(nbformat 4.5, cell ids, no outputs); every item 1-7 asks for a prediction before the cell
that runs its experiment, and runs workbench.beyond's experiments at their defaults; each
"Measured over seeds" quote is its source's text word for word (the engine's docstring, or
the Distillation lab's scenario), so a docstring that changes its figures fails here until
the notebook is regenerated. Running it top to bottom is nbval's job (make test)."""
import pathlib
import re

import nbformat
import pytest

import workbench.beyond as beyond
from widgets.lab import SCENARIOS

from notebook_storage import assert_stored_like_the_others

PATH = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "10_beyond_hinton.ipynb"
EXPERIMENTS = ("capacity_gap", "born_again", "smoothing", "fidelity", "transfer")


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(PATH, 4).cells


def words(text):
    return " ".join(text.split())


def test_it_is_stored_like_the_other_notebooks():
    assert_stored_like_the_others(PATH)


def sections(cells):
    """{item number: [its cells]} for the sections "## 1." to "## 7."."""
    out, current = {}, None
    for cell in cells:
        heading = re.match(r"## (\d)\. ", cell.source) if cell.cell_type == "markdown" else None
        if heading:
            current = int(heading.group(1))
        elif cell.cell_type == "markdown" and cell.source.startswith("## "):
            current = None
        if current is not None:
            out.setdefault(current, []).append(cell)
    return out


RUNS = r"wb\.beyond\.\w+\.run\(|wb\.distill\(|wb\.losses\.kd_loss\("


def test_every_item_asks_for_a_prediction_before_its_run_and_reveals_it_after(cells):
    items = sections(cells)
    assert sorted(items) == list(range(1, 8))
    for item, its_cells in items.items():
        code = [c.source for c in its_cells if c.cell_type == "code"]
        asked = [i for i, c in enumerate(code) if "predict(" in c]
        ran = [i for i, c in enumerate(code) if re.search(RUNS, c)]
        revealed = [i for i, c in enumerate(code) if ".reveal(" in c]
        assert asked and ran and revealed, (item, code)
        assert asked[0] < ran[0] < revealed[-1], (item, asked, ran, revealed)
        assert any("**Measured over seeds**" in c.source or "No seeds" in c.source
                   for c in its_cells if c.cell_type == "markdown"), item


def test_the_experiments_run_at_their_defaults_with_one_seed(cells):
    source = "\n".join(c.source for c in cells if c.cell_type == "code")
    for name in EXPERIMENTS:
        calls = re.findall(rf"wb\.beyond\.{name}\.run\((.*?)\)", source)
        assert calls == [""], (name, calls)


def quotes(cells):
    """[(the source named, the quoted text)] of every "Measured over seeds" cell."""
    out = []
    for cell in cells:
        if cell.cell_type == "markdown" and cell.source.startswith("**Measured over seeds**"):
            head, _, body = cell.source.partition("\n\n")
            text = " ".join(line.removeprefix(">").strip() for line in body.splitlines())
            out.append((head, words(text)))
    return out


def test_each_measured_quote_is_its_source_word_for_word(cells):
    found = quotes(cells)
    sources = {f"workbench/beyond/{name}.py": words(getattr(beyond, name).__doc__) for name in EXPERIMENTS}
    named = {name: words(SCENARIOS[name].outcome) for name in ("DKD: NCKD alone", "DKD: TCKD alone",
                                                                "logit standardization")}
    seen = set()
    for head, text in found:
        module = next((path for path in sources if path in head), None)
        if module:
            assert text in sources[module], (module, text)
            assert text.startswith("What it measured"), module
            seen.add(module)
        else:
            scenarios = [n for n in named if f'"{n}"' in head]
            assert scenarios, head
            for n in scenarios:
                assert named[n] in text, (n, text)
            seen.update(scenarios)
    assert seen == set(sources) | set(named), seen
