"""The LLM widgets without a browser: the next-token viewer and the white- vs
black-box lab, controls in, figure data and messages out."""
import html

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
                                          f"KL to the truth {w:.2f} nats for white-box: λ = 0, forward KL, "
                                          f"{b:.2f} for black-box: teacher text")
    assert lab.picker.judged in llm_lab.KL and ("✓" in lab.picker.revealed) == (lab.picker.judged == llm_lab.KL[3])
    for name in ("white-box", "black-box"):
        assert [row["queries"] for row in lab.histories[name]] == [20 * i for i in range(1, 11)]
        # the curve's last point is the share of rare-subject facts the trained student ranks right, counted here
        # from its next-letter probabilities (issue 21: was a bound every share meets)
        assert lab.histories[name][-1]["rare_coverage"] == pytest.approx(rare_share(lab.students[name]), abs=1e-6)
    # three panels (KL to the truth, rare coverage, second answers kept), one line per run, named by its recipe
    assert [t.name for t in lab.curves.data] == ["white-box: λ = 0, forward KL", "black-box: teacher text"] * 3
    assert [t.name for t in lab.bars.data] == ["truth", "teacher", "student, white-box: λ = 0, forward KL",
                                               "student, black-box: teacher text"]
    assert list(lab.curves.data[5].y) == [row["second_mode_coverage"] for row in lab.histories["black-box"]]
    assert "KL to the truth" in lab.table.value and "student, black-box: teacher text" in lab.table.value
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


# --- on-policy distillation, first class (issue 22) ------------------------------------------------

def recipe_text(lab):
    return html.unescape(lab.recipe.value)


def test_the_recipe_line_states_the_direction_as_lambda_and_beta_move():
    lab = LLMLab(queries=200, steps=40)
    assert "λ = 0: every sequence is the teacher's own sample (off-policy)" in recipe_text(lab)
    assert "β = 0: forward KL, KL(teacher ‖ student), mean-seeking" in recipe_text(lab)
    lab.on_policy.value = 1.0
    assert "λ = 1: every sequence is the student's own sample, scored by the teacher token by token" in recipe_text(lab)
    lab.on_policy.value = 0.3
    assert "λ = 0.3: 30% of the sequences are the student's own samples" in recipe_text(lab)
    lab.loss.value = "reverse KL (mode-seeking)"
    assert "β = 1: reverse KL, KL(student ‖ teacher), mode-seeking" in recipe_text(lab)
    assert "forward KL, KL(teacher" not in recipe_text(lab)
    lab.loss.value, lab.beta.value = "generalized JSD (β)", 0.2
    assert "β = 0.2: generalized JSD" in recipe_text(lab) and "nearer forward" in recipe_text(lab)
    lab.beta.value = 0.85
    assert "β = 0.85: generalized JSD" in recipe_text(lab) and "nearer reverse" in recipe_text(lab)
    lab.beta.value = 1.0  # the JSD's end point is reverse KL exactly (losses.generalized_jsd, as TRL)
    assert "β = 1: reverse KL" in recipe_text(lab)
    assert "top-k" not in recipe_text(lab)
    lab.access.value, lab.k.value, lab.beta.value = "top-k", 3, 0.5
    assert "the teacher shows only its 3 likeliest tokens" in recipe_text(lab)
    assert llm_lab.TAIL_WORDS["bucket"] in recipe_text(lab)
    lab.tail.value = "uniform"
    assert llm_lab.TAIL_WORDS["uniform"] in recipe_text(lab)
    lab.temperature.value = 2.0
    assert "T = 2 on both sides" in recipe_text(lab)


def test_the_trl_recipe_is_the_current_settings_in_a_collapsed_details_to_copy():
    from workbench.llm import trl_recipe
    lab = LLMLab(queries=200, steps=40)
    for on_policy, loss, beta in ((0.0, "forward KL (mean-seeking)", 0.5), (1.0, "reverse KL (mode-seeking)", 0.5),
                                  (0.5, "generalized JSD (β)", 0.3)):
        lab.on_policy.value, lab.loss.value, lab.beta.value = on_policy, loss, beta
        cfg = lab.recipe_config()
        assert (cfg.on_policy, cfg.loss, cfg.beta) == (on_policy, llm_lab.LOSSES[loss], beta)  # the controls, read
        shown = lab.trl.value
        assert shown.startswith("<details><summary>The same settings in TRL</summary>")  # collapsed: no "open"
        pre = shown[shown.index("<pre"):]
        assert html.unescape(pre[pre.index(">") + 1:pre.index("</pre>")]) == trl_recipe.recipe_text(cfg)
    assert "DistillationConfig" not in lab.trl.value  # λ = 0.5: GKD's lmbda, not the fully on-policy trainer
    lab.on_policy.value = 1.0
    assert "DistillationConfig" in lab.trl.value


def test_a_recipe_the_engine_refuses_shows_its_message_and_a_good_one_clears_it():
    lab = LLMLab(queries=200, steps=40)
    lab.access.value, lab.tail.value, lab.loss.value = "top-k", "drop", "reverse KL (mode-seeking)"
    assert "tail='drop' gives the teacher probability 0" in lab.message.text and "Traceback" not in lab.message.value
    assert "not valid" in recipe_text(lab) and lab.trl.value == ""
    lab.tail.value = "bucket"
    assert lab.message.text == "" and "β = 1: reverse KL" in recipe_text(lab)


def test_the_comparison_is_black_box_or_off_policy_forward_kl():
    lab = LLMLab(queries=200, steps=40)
    lab.on_policy.value, lab.loss.value = 1.0, "reverse KL (mode-seeking)"
    assert set(lab.configs()) == {"white-box", "black-box"}
    lab.compare.value = llm_lab.FORWARD
    cfgs = lab.configs()
    assert list(cfgs) == ["white-box", "forward KL"]
    assert cfgs["white-box"] == wb.llm.LLMConfig(queries=200, steps=40, loss="reverse_kl", on_policy=1.0,
                                                 rounds=10)
    assert cfgs["forward KL"] == wb.llm.LLMConfig(queries=200, steps=40, loss="forward_kl", beta=0.0, on_policy=0.0,
                                                  rounds=10)


def test_the_on_policy_scenario_sets_the_field_recipe_against_off_policy_forward_kl():
    lab = LLMLab()
    lab.picker.menu.value = llm_lab.ON_POLICY
    cfgs = lab.configs()
    assert cfgs == {"white-box": wb.llm.LLMConfig(loss="reverse_kl", on_policy=1.0, rounds=10),
                    "forward KL": wb.llm.LLMConfig(loss="forward_kl", beta=0.0, rounds=10)}
    scenario = llm_lab.SCENARIOS[llm_lab.ON_POLICY]
    assert scenario.judge is llm_lab.judge_second and scenario.expected == llm_lab.SECOND[0]
    assert "EQUAL_ACCURACY_STEPS" in scenario.outcome and "fewer facts" in scenario.outcome  # names the control
    lab.compare.value = llm_lab.BLACK_BOX  # another comparison: no longer the scenario
    assert lab.picker.menu.value == "(choose one)"


def test_a_run_against_off_policy_forward_kl_draws_both_recipes_and_judges_second_answers():
    lab = LLMLab(queries=100, steps=20)
    lab.picker.menu.value = llm_lab.ON_POLICY
    lab.queries.value, lab.steps.value = 100, 20  # a short run: the learner's own settings now
    lab.picker.menu.value = "(choose one)"
    lab.controller.start()
    assert lab.message.text == "Done."
    labels = ["white-box: λ = 1, reverse KL", "white-box: λ = 0, forward KL"]
    assert [t.name for t in lab.curves.data] == labels * 3
    assert [t.name for t in lab.bars.data][2:] == [f"student, {name}" for name in labels]
    assert list(lab.summary) == ["teacher"] + [f"student, {label}" for label in labels]  # the table's rows
    for name, label in zip(("white-box", "forward KL"), labels):
        assert f"student, {label}" in html.unescape(lab.table.value)
        assert lab.final[name]["teacher_queries"] == 100
    said, _ = llm_lab.judge_second(lab)  # the bands are tested on their own below
    on, off = lab.final["white-box"], lab.final["forward KL"]
    assert said == (f"This run (seed 0): {labels[0]} keeps the 40% answer on {on['second_mode_coverage']:.0%} of "
                    f"the 60/40 facts and knows {on['fact_accuracy']:.0%} of the facts; {labels[1]} keeps "
                    f"{off['second_mode_coverage']:.0%} and knows {off['fact_accuracy']:.0%}")


@pytest.mark.parametrize("on, off, expected", [
    ((0.40, 0.70), (0.95, 0.95), 0),  # far fewer second answers, fewer facts
    ((0.40, 0.93), (0.95, 0.95), 1),  # far fewer second answers, as many facts (within FACTS_GAP)
    ((0.40, 0.99), (0.95, 0.95), 1),  # more facts: still the whole gap is mode-seeking
    ((0.85, 0.70), (0.95, 0.95), 2),  # within SECOND_GAP
    ((0.95, 0.70), (0.75, 0.95), 3),  # keeps more
])
def test_the_on_policy_scenario_judges_by_the_tested_bands(on, off, expected):
    """The bands are llm_lab.SECOND_GAP and FACTS_GAP, which tests/test_llm.py asserts over seeds."""
    from types import SimpleNamespace
    final = {"white-box": {"second_mode_coverage": on[0], "fact_accuracy": on[1]},
             "forward KL": {"second_mode_coverage": off[0], "fact_accuracy": off[1]}}
    lab = SimpleNamespace(run_seed=1, names=("white-box", "forward KL"), labels={"white-box": "a", "forward KL": "b"},
                          final=final)
    assert llm_lab.judge_second(lab)[1] == llm_lab.SECOND[expected]


def test_top_k_shows_the_missing_mass_and_cache_options_only_with_top_k():
    lab = LLMLab(queries=200, steps=40)
    assert lab.tail.layout.display == "none" and lab.cache.layout.display == "none"
    lab.access.value = "top-k"
    assert lab.tail.layout.display is None and lab.cache.layout.display is None
    for tail in ("bucket", "drop", "uniform"):
        lab.tail.value = tail
        assert lab.configs()["white-box"].tail == tail
    assert lab.configs()["black-box"].method == "black-box"


def test_the_cache_option_writes_the_teachers_top_k_once_and_distils_from_it(monkeypatch):
    from workbench.llm import topk_cache
    lab = LLMLab(queries=100, steps=20)
    lab.access.value, lab.k.value, lab.cache.value = "top-k", 4, True
    written, given = [], []
    write, steps = topk_cache.write, wb.llm.steps
    monkeypatch.setattr(topk_cache, "write", lambda *a, **kw: written.append(write(*a, **kw)) or written[-1])
    monkeypatch.setattr(wb.llm, "steps", lambda *a, **kw: given.append(kw.get("cache")) or steps(*a, **kw))
    lab.controller.start()
    assert lab.message.text == "Done." and len(written) == 1
    assert given == [written[0], None]  # the configurable student reads the cache, the other run its own teacher
    assert f"{written[0].bytes_per_token:.1f} bytes per token (k = 4)" in lab.cache_info.value
    assert lab.cache_info.layout.display is None
    lab.on_policy.value = 0.5  # the student's own samples cannot come from a file written before it sampled them
    lab.controller.start()
    assert "on_policy" in lab.message.text and "Traceback" not in lab.message.value


def test_a_link_carries_the_new_controls_there_and_back():
    from widgets import url_settings
    lab = LLMLab(queries=200, steps=40)
    lab.compare.value, lab.access.value, lab.tail.value, lab.cache.value = llm_lab.FORWARD, "top-k", "uniform", True
    query = url_settings.link("LLM", lab)
    other = LLMLab()
    settings = url_settings.parse(query.lstrip("?"))
    assert settings.pop("tab") == "LLM" and url_settings.apply(other, settings) == []  # every setting applied
    assert (other.compare.value, other.access.value, other.tail.value, other.cache.value) == \
        (llm_lab.FORWARD, "top-k", "uniform", True)
    assert other.configs() == lab.configs()
    notes = url_settings.apply(other, {"cache": "maybe", "tail": "<b>"})
    assert notes == ["ignored tail='<b>': must be one of ['bucket', 'drop', 'uniform']",
                     "ignored cache='maybe': must be True or False"]


def test_the_app_puts_dense_vs_sparse_after_llm_and_the_speculative_view_in_payoff(digits):
    from widgets.app import SPECULATIVE_HEADING, TABS, DenseSparseTab, PayoffTab
    from widgets.speculative_view import SpeculativeView
    titles = [title for title, _ in TABS]
    assert titles[titles.index("LLM") + 1] == "Dense vs sparse"
    assert dict(TABS)["Dense vs sparse"] is DenseSparseTab and dict(TABS)["Payoff"] is PayoffTab
    payoff = PayoffTab(digits)
    assert isinstance(payoff.speculative, SpeculativeView)
    children = list(payoff.widget.children)
    assert children.index(payoff.lab.widget) < children.index(payoff.speculative.widget)
    heading = children[children.index(payoff.speculative.widget) - 1]
    assert heading.value == SPECULATIVE_HEADING and "speculative decoding" in heading.value
