"""The speculative-decoding view without a browser: prediction, Run on a small setting,
the table, the figure and its text, the reveal, the lookahead control and bad input."""
import pytest

import workbench as wb
from widgets import plots, speculative_view
from workbench.llm import speculative
from widgets.speculative_view import LABELS, TEXT, SpeculativeView, acceptance_bars


@pytest.fixture(scope="module")
def ran():
    view = SpeculativeView(seed=0, queries=100, steps=30, prompts=40)
    view.prediction.buttons.value = TEXT[1]  # a misconception: the text becomes more like the draft's
    view.controller.start()  # no event loop here: runs to the end
    return view


def test_the_prediction_offers_real_misconceptions_shuffled_and_is_answered():
    view = SpeculativeView()
    assert len(view.prediction.choices) >= 3 and set(view.prediction.shown) == set(TEXT)
    assert "press Run" in plots.summary(view.bars)
    assert view.table.value == ""


def test_run_trains_the_drafts_and_shows_table_figure_and_reveal(ran):
    assert ran.message.text == "Done.", ran.message.text
    assert [r["draft"] for r in ran.rows] == ["base", "black-box", "white-box", "on-policy"]
    for label in LABELS.values():
        assert label in ran.table.value
    target, draft = wb.llm.teacher("facts"), wb.llm.student(0)
    c = speculative.parameters(draft) / speculative.parameters(target)
    assert "tokens per target pass" in ran.table.value and f"c = {c:.2f}" in ran.table.value
    fig = acceptance_bars(ran.rows)
    assert [t.name for t in fig.data] == ["measured", "predicted (1 − TV)"]
    assert list(ran.bars.data[0].y) == [r["acceptance"] for r in ran.rows]
    summary = plots.summary(fig)
    assert f"{plots.num(ran.rows[0]['acceptance'])} measured" in summary and "lookahead γ = 4" in summary
    columns, rows = plots.table(fig)
    assert columns == ["draft", "measured", "predicted (1 − TV)"] and len(rows) == 4
    assert "You predicted: " + TEXT[1] in ran.prediction.result and "✗" in ran.prediction.result
    assert "Appendix A.1" in ran.prediction.result and "the target alone" in ran.prediction.result
    # every text, whatever the draft, is a sentence of the language with an answer
    shares = ran.shares()
    assert set(shares) == set(LABELS[n] for n in LABELS) | {"the target alone"}
    assert all(s is not None and 0 <= s <= 1 for s in shares.values())


def test_a_new_lookahead_measures_the_same_drafts_again(ran):
    before = {id(m) for m in ran.drafts.values()}
    ran.lookahead.value = 1
    assert {id(m) for m in ran.drafts.values()} == before
    assert all(r["lookahead"] == 1 for r in ran.rows)
    assert all(r["tokens_per_pass"] <= 2 for r in ran.rows)  # γ + 1 at most
    assert "lookahead γ = 1" in plots.summary(acceptance_bars(ran.rows))
    assert "at lookahead 1" in ran.message.text
    ran.lookahead.value = 4


def test_a_bad_seed_shows_a_message_not_a_traceback():
    view = SpeculativeView()
    view.seed.value = -1
    view.controller.start()
    assert "seed must be an integer from 0" in view.message.text and "Traceback" not in view.message.value
    assert view.rows == [] and not view.controller.running


def test_top_answer_share_reads_the_answers():
    lang = speculative_view.wb.llm.pretrained.language()
    f = lang.facts[0]
    right = "\n" + lang.prompt(f.subject, f.relation) + " " + f.answers[0] + "."
    wrong = "\n" + lang.prompt(f.subject, f.relation) + " " + next(
        a for a in speculative_view.wb.llm.facts.RELATIONS[f.relation] if a != f.answers[0]) + "."
    assert speculative_view.top_answer_share([right, wrong, right], lang) == pytest.approx(2 / 3)
    assert speculative_view.top_answer_share([], lang) is None
