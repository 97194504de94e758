"""Every named scenario of the labs shows the outcome it promises, over seeds 0-2, run
through the lab itself (the controls a click sets, then Run), and the run's own numbers
bear out the answer its question expects. Before Run a scenario asks its question (three
or more answers, shuffled) and keeps its outcome hidden; after Run the outcome is shown
next to the learner's prediction."""
import html
import statistics

import ipywidgets as W
import pytest
from conftest import LEFT_OUT_CFG, LEFT_OUT_CLASS, LEFT_OUT_SEEDS

import workbench as wb
from widgets import CollapseLab, FeatureLab, LLMLab, RelationLab, collapse_lab, lab as distillation, llm_lab
from widgets.lab import DistillationLab, SCENARIOS
from widgets.scenarios import numbers

SEEDS = range(3)


@pytest.fixture(scope="module")
def lab(digits):
    return DistillationLab(digits)


def each_seed(lab, scenario, seeds=SEEDS, **overrides):
    """Choose the scenario from the lab's menu (then any overrides), run it for each seed,
    and yield the lab after each run."""
    for seed in seeds:
        lab.picker.menu.value = "(choose one)"
        lab.picker.menu.value = scenario
        for control, value in overrides.items():
            getattr(lab, control).value = value
        lab.seed.value = seed
        lab.controller.start()
        assert lab.message.text == "Done."
        if lab.picker.menu.value == scenario:  # still the scenario: its expected answer, judged from this run
            assert lab.picker.judged == lab.picker.scenarios[scenario].expected, (scenario, seed, lab.picker.revealed)
        yield lab


def runs(lab, scenario, seeds=SEEDS, **overrides):
    """[(distilled row, hard-label row, per-class accuracy)] for each seed."""
    return [(lab.rows["student, distilled"], lab.rows["student, hard labels"], dict(lab.per_class))
            for lab in each_seed(lab, scenario, seeds, **overrides)]


def gains(results):
    return [d["accuracy"] - h["accuracy"] for d, h, _ in results]


def test_every_scenario_is_tested():
    assert set(SCENARIOS) == {"small data (the default)", "all the data", "left-out digit", "weak teacher",
                              "over-confident teacher", "alpha = 0", "DKD: NCKD alone", "DKD: TCKD alone",
                              "logit standardization"}  # the last three: tests/test_lab_beyond.py


DEFAULT_SEEDS = range(6)  # the default's gain is asserted paired by seed over seeds 0-5


def test_the_default_shows_distillation_helping_paired_by_seed(lab):
    """Distilled minus hard-label test accuracy, the same seed (same initial weights, same
    108 images, same batches). Measured, seeds 0-5: +5.0, +6.4, +2.8, +1.4, +3.1, +4.2 points
    (mean +3.8, sd 1.8); the hard-label student alone ranges 0.867-0.917 over those seeds,
    wider than the smallest gains, so only the paired differences show the effect. Each
    seed's gain above a point is the scenario's promise (judged in each_seed); the mean must
    stand three standard errors (2.2 points at that sd) above zero. Also the small MLP teacher,
    digits/mlp-small, against the CNN on the same seed: +2.2, +1.4, +2.8, +1.7, +2.8, +2.8
    points more (mean +2.3, sd 0.6); bounds under the smallest by about the sd."""
    results = runs(lab, "small data (the default)", DEFAULT_SEEDS)
    paired = gains(results)
    assert min(paired) > 0.01
    assert statistics.mean(paired) > 3 * statistics.stdev(paired) / len(paired) ** 0.5
    small = []
    for seed, (d, _, _) in zip(DEFAULT_SEEDS, results):  # the same students, taught by digits/mlp-small
        lab.seed.value = seed
        cfg = lab.config()
        res = wb.distill(lab.build_student(seed), wb.teachers.get("digits/mlp-small", device=lab.splits.train.x.device),
                         lab.transfer_set(cfg), cfg)
        small.append(wb.analysis.accuracy(wb.predict(res.student, lab.splits.test.x), lab.splits.test.y) - d["accuracy"])
    assert min(small) > 0.005 and statistics.mean(small) > 0.01, small
    lab.scenario.value = "(choose one)"
    fresh = DistillationLab(lab.splits)  # a fresh lab starts at the default scenario's settings
    assert (fresh.teacher.value, fresh.fraction.value, fresh.epochs.value) == ("digits/cnn", 0.1, 150)


def test_all_the_data_leaves_little_for_distillation(lab):
    full = gains(runs(lab, "all the data"))
    assert all(-0.01 < g < 0.02 for g in full)


def test_left_out_digit_is_recognised_only_by_the_distilled_student(lab, digits, left_out_runs):
    # the scenario sets up the suite's one left-out-digit experiment (conftest.left_out_runs) ...
    lab.picker.menu.value = "(choose one)"
    lab.picker.menu.value = "left-out digit"
    for seed in LEFT_OUT_SEEDS:
        lab.seed.value = seed
        assert lab.config() == LEFT_OUT_CFG.replace(seed=seed)
        assert (lab.teacher.value, lab.width.value, lab.fraction.value, lab.left_out.value) == \
            ("digits/mlp-large", 32, 1.0, str(LEFT_OUT_CLASS))
    # ... whose outcome is the one the scenario promises, for every seed
    for result in left_out_runs.values():
        per_class = {name: wb.analysis.per_class_accuracy(wb.predict(r.student, digits.test.x), digits.test.y)
                     for name, r in result.items()}
        assert per_class["hard labels"][LEFT_OUT_CLASS] == 0
        assert per_class["distilled"][LEFT_OUT_CLASS] > 0.7


def test_a_weak_teacher_makes_the_student_worse(lab):
    assert all(g < 0 for g in gains(runs(lab, "weak teacher")))


def test_an_over_confident_teacher_needs_a_high_temperature(lab):
    cold = gains(runs(lab, "over-confident teacher"))
    assert all(abs(g) < 0.01 for g in cold)
    hot = []
    for lab in each_seed(lab, "over-confident teacher", temperature=20.0):  # the learner's own settings now
        hot.append(gains([(lab.rows["student, distilled"], lab.rows["student, hard labels"], None)])[0])
        assert lab.picker.menu.value == "(choose one)" and lab.picker.judged == distillation.ahead(1)[0]
    assert all(g > 0.03 for g in hot)


def test_alpha_zero_trains_the_same_student_twice(lab):
    for d, h, _ in runs(lab, "alpha = 0"):
        assert d["accuracy"] == h["accuracy"] and d["ece"] == h["ece"]
    curves = [[row["val_acc"] for row in lab.histories[name]] for name in ("distilled", "hard labels")]
    assert curves[0] == curves[1] and len(curves[0]) == 150


def test_choosing_a_scenario_sets_the_controls_and_asks_its_question_not_its_outcome(lab):
    lab.scenario.value = "over-confident teacher"
    assert lab.teacher.value == "digits/cnn-overconfident" and lab.temperature.value == pytest.approx(1.0)
    shown = lab.picker.ask.children[0]
    assert shown is lab.picker.prediction.widget and "logits are 5 times larger" in shown.children[0].value
    assert lab.fraction.value == 0.1 and "Raise T to 20" not in page_text(lab.widget)
    lab.scenario.value = "(choose one)"
    assert lab.picker.prediction.question == distillation.OWN.question


def two_student_runs(lab, scenario):
    """[(metric with the term, metric without)] at the last epoch, seeds 0-2."""
    return [(lab.histories["with"][-1][lab.metric], lab.histories["without"][-1][lab.metric])
            for lab in each_seed(lab, scenario)]


def clears(effects, bar=0.0):
    """The effect over seeds: its mean less twice its seed-to-seed sd is above `bar`."""
    return statistics.fmean(effects) - 2 * statistics.stdev(effects) > bar


# Paired effects (with the term − without, same seed), measured 5 Dec with every random part of a run
# drawn from cfg.seed (issue 29: the FitNets regressors used to take the global random state):
#   attention transfer, linear CKA to the teacher, seeds 0-2: +0.012, +0.028, +0.021 (mean − 2 sd +0.004)
#   FitNets hint, seeds 0-4: +0.011, +0.040, +0.055, +0.019, +0.044 (mean +0.034, sd 0.018, mean − 2 sd −0.003).
#   The hint's students end at CKA 0.966-0.970 on every seed; without it, 0.915-0.958 by the seed's
#   initialisation: the spread is the unhinted student's, so the paired gain's sd is large. What the
#   lesson claims shows instead as every hinted student closer than every unhinted one, on 5 of 5 seeds.
#   (Wider or narrower students, block2 or pool, weights 10-100 and 40 epochs were tried: none made
#   the paired gain clear 2 sd.)
HINT_SEEDS = range(5)


@pytest.mark.parametrize("scenario", list(FeatureLab.scenarios))
def test_feature_scenarios_bring_the_student_closer_to_the_teacher(digits, scenario):
    lab = FeatureLab(digits)
    if scenario.startswith("FitNets"):
        results = [(lab.histories["with"][-1]["cka"], lab.histories["without"][-1]["cka"])
                   for lab in each_seed(lab, scenario, HINT_SEEDS)]
        with_, without = zip(*results)
        assert min(with_) > max(without), results  # the two groups of seeds do not overlap
        assert all(w - wo > 0.01 for w, wo in results), results  # the band the scenario's reveal marks right
        return
    gains = [with_ - without for with_, without in two_student_runs(lab, scenario)]
    assert clears(gains), gains  # closer to the teacher by more than twice the seed-to-seed sd
    assert all(g > 0.01 for g in gains), gains  # and on every seed in the band the scenario's reveal marks right


# Paired effects (without the term − with, same seed: how much the term closes the gap), seeds 0-2,
# measured 5 Dec:
#   RKD distance:             +0.015, +0.013, +0.012 (mean +0.013, sd 0.002, mean − 2 sd +0.010)
#   RKD angle:                +0.023, +0.015, +0.016 (mean +0.018, sd 0.004, mean − 2 sd +0.010)
#   similarity-preserving:    +0.0065, +0.0060, +0.0054 (mean +0.006, sd 0.0006, mean − 2 sd +0.005);
#                             ratio with/without 0.366, 0.367, 0.403 (mean 0.379, sd 0.021, mean + 2 sd 0.421)
#   CNN teacher, MLP student: +0.023, +0.013, +0.024 (mean +0.020, sd 0.006, mean − 2 sd +0.009)
@pytest.mark.parametrize("scenario", list(RelationLab.scenarios))
def test_relation_scenarios_close_the_relation_gap(digits, scenario):
    lab = RelationLab(digits)
    results = two_student_runs(lab, scenario)
    closed = [without - with_ for with_, without in results]
    assert clears(closed), closed
    assert all(c > 0 for c in closed), closed  # and a sign test: 3 of 3 seeds
    if scenario == "similarity-preserving":  # the gap more than halved: ratio with/without, mean + 2 sd < 0.5
        ratios = [with_ / without for with_, without in results]
        assert statistics.fmean(ratios) + 2 * statistics.stdev(ratios) < 0.5, ratios


def test_a_scenario_resets_what_another_scenario_changed(digits):
    lab = RelationLab(digits)
    lab.picker.menu.value = "CNN teacher, MLP student"
    assert (lab.teacher.value, lab.teacher_layer.value) == ("digits/cnn", "pool")
    lab.picker.menu.value = "RKD angle"
    assert (lab.teacher.value, lab.teacher_layer.value, lab.loss.value) == ("digits/mlp-large", "act2", "RKD angle")


def collapse_last(lab, scenario):
    """{chain: last generation's dict} for seeds 0-2, run through the Collapse lab."""
    return [{name: h[-1] for name, h in lab.histories.items()} for lab in each_seed(lab, scenario)]


def test_collapse_scenarios_show_their_outcomes():
    lab = CollapseLab()
    for r in collapse_last(lab, "Gaussian: three policies (the default)"):
        assert r["replace"]["kl_to_truth"] > 2 * max(r["mix (20% real)"]["kl_to_truth"], r["accumulate"]["kl_to_truth"])
    for r in collapse_last(lab, "Zipf: a vocabulary over generations"):
        assert r["replace"]["vanished"] > r["accumulate"]["vanished"] + 200
    for r in collapse_last(lab, "Zipf sampled at T = 0.8"):
        assert r["replace"]["tail_mass"] < 0.01 < r["accumulate"]["tail_mass"]
    for r in collapse_last(lab, "digits: rare digits over generations"):
        assert r["replace"]["tail_recall"] < r["accumulate"]["tail_recall"] - 0.1


def test_the_language_model_scenario_runs_the_chain_the_engine_test_asserts():
    """Too slow to run here three times (3 chains x 3 generations x 4 s); its replace
    chain is exactly the one tests/test_collapse.py runs over seeds 0-2."""
    lab = CollapseLab()
    lab.picker.menu.value = "language models (about 35 s)"
    runs = lab.runs()
    assert runs["replace"] == dict(setting="lm", generations=3, samples=wb.collapse.SETTINGS["lm"].samples,
                                   real_share=0.0, policy="replace", temperature=1.0, seed=0)


def test_the_llm_scenarios_are_the_settings_whose_lessons_are_asserted():
    """Each LLM lab run takes ~10 s; the lessons are asserted over seeds 0-2 in
    tests/test_llm.py by wb.llm.experiment with these exact configs."""
    lab = LLMLab()
    lab.picker.menu.value = "white-box against black-box (the default)"
    cfgs = lab.configs()
    assert cfgs["white-box"] == wb.llm.LLMConfig(rounds=wb.llm.experiments.rounds_for(1200))
    assert cfgs["black-box"] == wb.llm.LLMConfig(method="black-box", rounds=wb.llm.experiments.rounds_for(1200))
    lab.picker.menu.value = "reverse KL"
    assert lab.configs()["white-box"] == wb.llm.LLMConfig(loss="reverse_kl",
                                                          rounds=wb.llm.experiments.rounds_for(1200))


def test_moving_a_control_away_from_the_scenario_clears_the_menu_and_its_promise(digits):
    lab = DistillationLab(digits)
    lab.picker.menu.value = "left-out digit"
    assert lab.picker.menu.value == "left-out digit"  # setting it did not clear it
    assert lab.picker.prediction.question == SCENARIOS["left-out digit"].question
    lab.seed.value = 3  # not part of any scenario: the claim holds over seeds
    assert lab.picker.menu.value == "left-out digit"
    lab.lr.value = 1000.0
    assert lab.picker.menu.value == "(choose one)" and lab.picker.prediction.question == distillation.OWN.question


# --- predict, then see -----------------------------------------------------------------

LABS = {"Distillation lab": (distillation.SCENARIOS, distillation.OWN),
        "Feature KD": (FeatureLab.scenarios, FeatureLab.own),
        "Relation KD": (RelationLab.scenarios, RelationLab.own), "LLM": (llm_lab.SCENARIOS, llm_lab.OWN),
        "Collapse": (collapse_lab.SCENARIOS, collapse_lab.OWN)}
EVERY = [(tab, name, s) for tab, (scenarios, own) in LABS.items()
         for name, s in [*scenarios.items(), ("(choose one)", own)]]


def page_text(widget):
    """Every string a learner can read in a widget tree before Run: HTML, labels, options, text boxes."""
    out = []
    if isinstance(widget, (W.HTML, W.HTMLMath)):
        out.append(html.unescape(widget.value))
    elif isinstance(widget, (W.Label, W.Text, W.Textarea)):
        out.append(str(widget.value))
    out += [str(getattr(widget, a)) for a in ("description", "placeholder", "tooltip") if getattr(widget, a, None)]
    out += [str(o) for o in getattr(widget, "options", ()) if isinstance(o, str)]
    for child in getattr(widget, "children", ()):
        out += page_text(child)
    return out


@pytest.mark.parametrize("tab, name, scenario", EVERY, ids=[f"{t}: {n}" for t, n, _ in EVERY])
def test_every_scenario_asks_a_question_with_real_alternatives(tab, name, scenario):
    assert scenario.question.strip().endswith(("?", "..."))
    assert scenario.judge is not None  # the reveal tells the truth about this run, not a canned line
    if name != "(choose one)":  # the learner's own settings have no stated outcome to expect
        assert scenario.expected is not None and scenario.outcome


@pytest.mark.parametrize("choices, expected, match", [
    (("a", "b"), "a", "three or more"), (("a", "a", "b"), "a", "three or more"), (("a", "b", "c"), "d", "expected"),
])
def test_a_scenario_without_real_alternatives_is_refused(choices, expected, match):
    from widgets.scenarios import Scenario
    with pytest.raises(ValueError, match=match):
        Scenario({}, "Which?", choices, expected, "it was a")


@pytest.mark.parametrize("tab, name, scenario", [e for e in EVERY if e[1] != "(choose one)"],
                         ids=[f"{t}: {n}" for t, n, _ in EVERY if n != "(choose one)"])
def test_no_question_gives_its_outcome_away(tab, name, scenario):
    """The results the outcome states (numbers of two characters or more that the question
    and its settings do not already say: "2.8", "350", "0.045") appear nowhere in the
    question or its choices, and the outcome's sentences nowhere before Run."""
    asked = " ".join([scenario.question, *scenario.choices])
    settings = numbers(" ".join(str(v) for v in scenario.changes.values()))
    results = {n for n in numbers(scenario.outcome) - numbers(scenario.question) - settings if len(n) >= 2}
    assert not results & numbers(" ".join(scenario.choices)), results & numbers(asked)
    for sentence in scenario.outcome.split(": "):
        assert sentence.strip() not in asked


@pytest.fixture(scope="module")
def built(digits):
    return {"Distillation lab": DistillationLab(digits), "Feature KD": FeatureLab(digits),
            "Relation KD": RelationLab(digits), "LLM": LLMLab(), "Collapse": CollapseLab()}


@pytest.mark.parametrize("tab, name, scenario", EVERY, ids=[f"{t}: {n}" for t, n, _ in EVERY])
def test_before_run_the_lab_shows_the_question_and_hides_the_outcome(built, tab, name, scenario):
    lab = built[tab]
    lab.picker.menu.value = name
    text = page_text(lab.widget)
    assert scenario.question in " ".join(text) and all(c in text for c in scenario.choices)
    assert lab.picker.prediction.buttons.description == "your prediction"  # its accessible name
    assert isinstance(lab.picker.prediction.buttons, W.RadioButtons)  # reached and chosen with the keyboard
    page = " ".join(text)
    assert not [part for part in scenario.outcome.split(": ") if len(part) > 20 and part in page]
    asked = numbers(" ".join([*page_text(lab.picker.menu), *page_text(lab.picker.ask)]))
    results = {n for n in numbers(scenario.outcome) - numbers(scenario.question) if len(n) >= 2}
    assert not results & asked, results & asked  # the picker shows no result before Run


def test_the_reveal_shows_the_prediction_next_to_this_runs_numbers():
    lab = CollapseLab()
    scenario = collapse_lab.SCENARIOS["Gaussian: three policies (the default)"]
    lab.picker.prediction.buttons.value = "accumulate (all the data so far)"
    lab.controller.start()
    shown = lab.picker.prediction.out.value
    assert lab.picker.revealed.startswith("You predicted: accumulate (all the data so far). What happened: This run")
    kl = lab.histories["replace"][-1]["kl_to_truth"]
    assert f"replace {kl:.3g}" in lab.picker.revealed and scenario.outcome in lab.picker.revealed
    assert lab.picker.judged == "replace" and "✗" in lab.picker.revealed and "kd-reveal" in shown
    lab.picker.prediction.buttons.value = "replace"
    lab.controller.start()
    assert "✓" in lab.picker.revealed


def test_a_run_without_a_prediction_still_runs_and_reveals():
    lab = CollapseLab()
    lab.picker.menu.value = "Zipf sampled at T = 0.8"
    assert lab.picker.prediction.choice is None
    lab.controller.start()
    assert lab.message.text == "Done." and lab.picker.revealed.startswith("You predicted: (no prediction).")
    assert "✓" not in lab.picker.revealed and "✗" not in lab.picker.revealed


def test_the_learners_own_settings_are_judged_from_the_run_alone():
    lab = CollapseLab()
    lab.picker.menu.value = "(choose one)"
    lab.compare.value = "one chain"
    lab.policy.value = "accumulate"
    lab.picker.prediction.buttons.value = collapse_lab.DRIFT[2]
    lab.controller.start()
    (chain,) = lab.histories.values()
    further = chain[-1]["kl_to_truth"] > chain[0]["kl_to_truth"]
    assert lab.picker.judged == (collapse_lab.DRIFT[0] if further else collapse_lab.DRIFT[2])
    assert "Over seeds" not in lab.picker.revealed  # no scenario's claim for settings it did not name


def test_the_prediction_is_locked_while_a_run_is_in_progress_and_stop_reveals_nothing():
    import asyncio

    lab = CollapseLab()
    lab.picker.menu.value = "digits: rare digits over generations"
    lab.picker.prediction.buttons.value = collapse_lab.RECALL[1]

    async def run_then_stop():
        task = lab.controller.start()
        await asyncio.sleep(0.05)
        assert lab.picker.prediction.buttons.disabled
        lab.controller.stop()
        await task

    asyncio.run(run_then_stop())
    assert lab.message.text == "Stopped." and lab.picker.revealed is None and lab.picker.prediction.out.value == ""
    assert not lab.picker.prediction.buttons.disabled and lab.picker.prediction.choice == collapse_lab.RECALL[1]


def test_choices_are_shown_shuffled():
    orders = {tuple(CollapseLab().picker.prediction.shown) for _ in range(12)}
    assert len(orders) > 1 and all(sorted(o) == sorted(collapse_lab.FURTHEST) for o in orders)
