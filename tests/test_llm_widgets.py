"""The LLM widgets without a browser: the next-token viewer and the white- vs
black-box lab, controls in, figure data and messages out."""
import pytest
import torch

import workbench as wb
from widgets import LLMLab, NextTokenViewer, llm_lab, plots
from widgets.app import LLMTab


def bars(viewer):
    return torch.tensor(viewer.bars.data[0].y)


def test_the_viewer_shows_the_60_40_split_and_temperature_flattens_it():
    v = NextTokenViewer()
    lang = wb.llm.pretrained.language()
    f = next(f for f in lang.facts if f.kind == "two")
    assert v.prompt.value == lang.prompt(f.subject, f.relation) + " "
    labels = list(v.bars.data[0].x)
    top = dict(zip(labels[:2], bars(v)[:2].tolist()))
    assert top[f.answers[0][0]] == pytest.approx(0.6, abs=0.1) and top[f.answers[1][0]] == pytest.approx(0.4, abs=0.1)
    v.temperature.value = 5.0
    assert bars(v)[0] < 0.3 and "T = 5.00" in v.bars.layout.title.text


def test_the_black_box_side_returns_one_text_and_counts_queries():
    v = NextTokenViewer()
    first = v.sample()
    assert first.endswith(".") and "queries spent: 1" in v.answer.value
    v.sample()
    assert "queries spent: 2" in v.answer.value
    v.teacher.value = "pydoc"
    assert v.prompt.value.startswith("The for statement") and len(bars(v)) == 15 and v.answer.value == ""
    assert len(v.sample()) == 32  # 32 new characters, no stop character on real text


@pytest.mark.parametrize("prompt, message", [
    ("gunu lives in zürich", "prompt may only use the model's 27 characters"),
    ("gunu lives in " * 3, "at most the model's context of 32 tokens"),
])
def test_a_bad_prompt_shows_a_message_and_keeps_the_text_and_the_last_bars(prompt, message):
    v = NextTokenViewer()
    good = bars(v)
    v.prompt.value = prompt
    assert message in v.message.text and "Traceback" not in v.message.value
    assert torch.equal(bars(v), good) and v.prompt.value == prompt
    v.ask.click()
    assert message in v.message.text or "context" in v.message.text


@torch.no_grad()
def rare_share(model):
    """Share of the facts about the rarer half of the subjects whose likeliest answer the
    model ranks first, by the first letter it puts after "<subject> <relation> "."""
    lang = wb.llm.pretrained.language()
    tok, rare = model.tokenizer, [f for f in lang.facts if lang.rare(f)]
    right = 0
    for f in rare:
        ids = tok.batch([wb.llm.facts.BOS + lang.prompt(f.subject, f.relation) + " "])[0]
        answers = wb.llm.facts.RELATIONS[f.relation]
        p = model(ids)[0, -1, [tok.stoi[a[0]] for a in answers]]
        right += answers[int(p.argmax())] == f.answers[0]
    return right / len(rare)


def short_lab(**controls):
    lab = LLMLab(queries=200, steps=40)
    for name, value in controls.items():
        getattr(lab, name).value = value
    return lab


def test_the_lab_trains_both_students_on_the_same_budget_and_draws_them():
    lab = short_lab()
    lab.picker.prediction.buttons.value = llm_lab.KL[3]  # predicted before Run: the black-box student
    lab.controller.start()  # no event loop here: runs to the end
    assert lab.message.text == "Done."
    # the reveal: the prediction next to this run's own KL to the truth, judged from it
    w, b = (lab.final[n]["kl_to_truth"] for n in ("white-box", "black-box"))
    assert lab.picker.revealed.startswith(f"You predicted: {llm_lab.KL[3]}. What happened: This run (seed 0): "
                                          f"KL to the truth {w:.2f} nats white-box, {b:.2f} black-box")
    assert lab.picker.judged in llm_lab.KL and ("✓" in lab.picker.revealed) == (lab.picker.judged == llm_lab.KL[3])
    for name in ("white-box", "black-box"):
        assert [row["queries"] for row in lab.histories[name]] == [20 * i for i in range(1, 11)]
        # the curve's last point is the share of rare-subject facts the trained student ranks right, counted here
        # from its next-letter probabilities (issue 21: was a bound every share meets)
        assert lab.histories[name][-1]["rare_coverage"] == pytest.approx(rare_share(lab.students[name]), abs=1e-6)
    assert {t.name for t in lab.curves.data} == {"white-box", "black-box"} and len(lab.curves.data) == 4
    assert [t.name for t in lab.bars.data] == ["truth", "teacher", "student, white-box", "student, black-box"]
    assert "KL to the truth" in lab.table.value and "student, black-box" in lab.table.value
    assert "Samples for rare subjects" in lab.table.value
    before = [t.y for t in lab.bars.data]
    lab.fact.value = list(lab.facts)[3]
    assert [t.y for t in lab.bars.data] != before  # another fact, redrawn from the trained students


def test_the_lab_controls_reach_the_runs():
    lab = short_lab(access="top-k", k=3, loss="generalized JSD (β)", beta=0.2, on_policy=0.5, temperature=0.5)
    cfgs = lab.configs()
    white, black = cfgs["white-box"], cfgs["black-box"]
    assert (white.method, white.k, white.loss, white.beta, white.on_policy, white.temperature) == \
        ("top-k", 3, "jsd", 0.2, 0.5, 0.5)
    assert black.method == "black-box" and black.on_policy == 0 and black.queries == white.queries == 200
    assert lab.k.layout.display is None and lab.beta.layout.display is None
    lab.access.value, lab.loss.value = "full logits", "forward KL (mean-seeking)"
    assert lab.k.layout.display == "none" and lab.beta.layout.display == "none"
    assert lab.loss.layout.display is None and lab.on_policy.layout.display is None  # hiding k or β hides only them


@pytest.mark.parametrize("controls, message", [
    ({"queries": 0}, "queries must be an integer >= 1, got 0"),
    ({"steps": -5}, "steps must be an integer >= 1, got -5"),
    ({"seed": -1}, "seed must be an integer from 0 to 2**32 - 1"),
])
def test_bad_lab_values_show_a_message_and_start_nothing(controls, message):
    lab = short_lab(**controls)
    assert lab.controller.start() is None
    assert message in lab.message.text and not lab.histories["white-box"]
    assert getattr(lab, next(iter(controls))).value == next(iter(controls.values()))


def test_the_llm_tab_holds_the_viewer_and_the_lab():
    tab = LLMTab()
    assert tab.viewer.widget in tab.widget.children and tab.lab.widget in tab.widget.children


def test_next_token_bars_label_whitespace_and_skip_padding():
    chars = " .ab"
    probs = torch.tensor([0.5, 0.2, 0.1, 0.15, 0.05])  # id 0 is padding: never a bar
    fig = plots.next_token_bars(probs, chars, top=3)
    assert list(fig.data[0].x) == ["␣", "a", "."] and list(fig.data[0].y) == pytest.approx([0.2, 0.15, 0.1])


def test_two_answer_scatter_puts_one_point_per_fact_and_the_truth_as_a_star():
    fig = plots.two_answer_scatter({"a": [(0.6, 0.35), (0.55, 0.4)], "b": torch.tensor([[0.98, 0.0], [0.0, 0.97]])})
    names = [t.name for t in fig.data]
    assert names == ["q1 + q2 = 1", "a", "b", "truth"]
    assert list(fig.data[2].x) == pytest.approx([0.98, 0.0]) and list(fig.data[2].y) == pytest.approx([0.0, 0.97])
    assert (fig.data[3].x[0], fig.data[3].y[0]) == (0.6, 0.4) and fig.data[3].marker.symbol == "star"


@pytest.mark.parametrize("accuracy, expected", [(0.96, 0), (0.9, 0), (0.89, 1), (0.72, 1), (0.65, 1), (0.6, 2)])
def test_the_reverse_kl_scenario_judges_the_runs_fact_accuracy_by_the_tested_bands(accuracy, expected):
    """The bands are llm_lab.LEARNED_ALL and LEARNED_FEW, which tests/test_llm.py asserts over seeds."""
    from types import SimpleNamespace
    lab = SimpleNamespace(run_seed=4, final={"white-box": {"fact_accuracy": accuracy, "one_answer_accuracy": 0.8,
                                                           "second_kept_when_right": 0.4}})
    said, judged = llm_lab.judge_learned(lab)
    assert judged == llm_lab.LEARNED[expected]
    assert said == (f"This run (seed 4): the white-box student knows {accuracy:.0%} of the facts and 80% of the "
                    "one-answer facts; it keeps the 40% answer on 40% of the 60/40 facts it got right")
    scenario = llm_lab.SCENARIOS["reverse KL"]
    assert scenario.judge is llm_lab.judge_learned and scenario.expected == llm_lab.LEARNED[1]
