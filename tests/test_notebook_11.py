"""Notebook 11, "Distilling reasoning" (issue 27): stored as the repository stores notebooks
(nbformat 4.5, cell ids, no outputs); each run is preceded by a prediction and followed by
its reveal; the run is a reduced setting that says so, and the defaults it quotes are the
engine's (a default that changes fails here until the notebook's text is updated); every
paper the lesson credits is in its references. Running it top to bottom is nbval's job
(make test)."""
import pathlib
import re

import nbformat
import pytest

from workbench.llm import reasoning

from notebook_storage import assert_stored_like_the_others

PATH = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "11_distilling_reasoning.ipynb"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(PATH, 4).cells


def test_it_is_stored_like_the_other_notebooks():
    assert_stored_like_the_others(PATH)


def test_each_run_is_predicted_first_and_revealed_after(cells):
    code = [c.source for c in cells if c.cell_type == "code"]
    before = 0
    for run in (r"api\.complete\(", r"reasoning\.distill_reasoning\("):
        ran = next(i for i, c in enumerate(code) if re.search(run, c))
        asked = [i for i in range(before, ran) if "predict(" in code[i]]  # since the run before
        assert asked, run
        for name in (re.match(r"(\w+) = predict\(", code[i]).group(1) for i in asked):
            revealed = [i for i, c in enumerate(code) if f"{name}.reveal(" in c]
            assert revealed and min(revealed) >= ran, (run, name, revealed)
        before = ran + 1


def test_the_run_is_reduced_and_says_so_and_the_quoted_defaults_are_the_engines(cells):
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    text = " ".join(c.source for c in cells if c.cell_type == "markdown")
    reduced = eval(re.search(r"REDUCED = (dict\(.*?\))\n", code).group(1))
    cfg, default = reasoning.ReasoningConfig(**reduced), reasoning.ReasoningConfig()
    assert cfg.steps < default.steps and "reduced setting" in text
    words = " ".join(text.split())
    assert f"{default.queries:,} queries, {default.steps:,} steps" in words
    assert f"{cfg.queries} queries, {cfg.steps} steps" in words


def test_the_papers_it_credits_are_in_its_references(cells):
    refs = next(c.source for c in cells if c.cell_type == "markdown" and c.source.startswith("## References"))
    for name, year in [("Nye", 2021), ("Zelikman", 2022), ("Ho", 2023), ("Magister", 2023), ("Hsieh", 2023),
                       ("DeepSeek-AI", 2025), ("Muennighoff", 2025), ("Li", 2025), ("McLeish", 2024),
                       ("Lightman", 2023)]:
        assert re.search(rf"\*\*{name}\b[^*]*\({year}\)", refs), name
    assert any(c.source.strip() == 'quiz("reasoning")' for c in cells if c.cell_type == "code")
