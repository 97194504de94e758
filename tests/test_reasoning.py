"""The reasoning experiment (workbench.llm.reasoning, issue 27): its settings, how each way
builds its data from the same teacher texts, the rounds, the measures, and, at the
defaults over three seeds, the effects the lab teaches."""
import math

import pytest
import torch

from workbench.llm import addition, pretrained, reasoning
from workbench.llm.reasoning import ReasoningConfig

from in_processes import run_all

SEEDS = (0, 1, 2)
# The margins each claim keeps below mean - 2 sd of its per-seed effects, measured at the defaults (600 queries,
# teacher T = 1.4, 1,000 steps at lr 1e-2, student 2 x 48), seeds 0-2, one thread:
# (b) - (a) held-out accuracy: .856-.010, .920-.016, .834-.028 = +.85/+.90/+.81, mean .85, sd .05, mean - 2 sd .75
LOW_TRACES_OVER_ANSWERS = 0.5
# (c) - (b): .930-.856, .958-.920, .888-.834 = +.074/+.038/+.054, mean .055, sd .018, mean - 2 sd +.019
LOW_VERIFIED_OVER_TRACES = 0.0
# inherited (b) - (c): .95-0, .90-0, .78-0, mean .88, sd .09, mean - 2 sd .70
LOW_INHERITED = 0.5
# The defaults were chosen looking at seeds 0-2; fresh seeds 3 and 4 (not asserted here, to keep make test short)
# gave (a) .014/.010, (b) .916/.948, (c) .972/.966, inherited (b) .90/1.0, (c) 0/0: c - b +.056/+.018; over seeds
# 0-4 c - b has mean .048, sd .021, mean - 2 sd +.006. compare_forms, seeds 3-4: verbose .238/.228, terse .004/.014.


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, words", [
    ("task", "subtraction", ["task", "addition", "subtraction"]),
    ("ways", ("answers", "guesses"), ["way", "verified", "guesses"]),
    ("ways", (), ["ways", "at least one"]),
    ("queries", 0, ["queries", "0"]),
    ("width", 50, ["width", "multiple of 4", "16", "128", "50"]),
    ("width", 8, ["width", "16", "128", "8"]),
    ("width", 132, ["width", "128", "132"]),
    ("layers", 5, ["layers", "1", "4", "5"]),
    ("teacher_temperature", 0, ["teacher_temperature", "0"]),
    ("teacher_temperature", -1.0, ["teacher_temperature", "-1.0"]),
    ("rounds", 10, ["queries", "rounds", "10", "4"]),
    ("test_size", 501, ["test_size", "500", "501"]),
    ("ways", 5, ["ways", "answers", "5"]),
    ("steps", 9, ["steps", "at least 10", "4 rounds", "9"]),
    ("queries", 10**6, ["queries", "809,500", "1000000"]),
    ("layers", 0, ["layers", "1 to 4", "0"]),
])
def test_bad_settings_name_the_parameter_what_is_allowed_and_what_was_given(field, value, words):
    settings = {"queries": 4} if field == "rounds" else {}
    with pytest.raises(ValueError) as error:
        ReasoningConfig(**{**settings, field: value})
    for w in words:
        assert w in str(error.value), (w, str(error.value))


def test_the_entry_point_refuses_bad_settings_before_any_training():
    with pytest.raises(ValueError, match="way"):
        reasoning.distill_reasoning(ways=("answers", "traces", "cheating"))
    with pytest.raises(ValueError, match="curve"):
        reasoning.distill_reasoning(curve="yes")
    with pytest.raises(ValueError, match="forms"):
        reasoning.compare_forms(forms=("verbose", "short"))
    with pytest.raises(ValueError, match="forms must be a non-empty list"):
        reasoning.compare_forms(forms=5)
    with pytest.raises(ValueError, match="cfg must be a ReasoningConfig or None, got str"):
        reasoning.distill_reasoning(cfg="x")


def test_a_config_keeps_the_ways_in_order_once_each_and_takes_one_way_as_a_string():
    assert ReasoningConfig(ways=("traces", "answers", "traces")).ways == ("traces", "answers")
    assert ReasoningConfig(ways="verified").ways == ("verified",)


# --- the data of each way --------------------------------------------------------------------

def test_each_way_builds_its_pairs_from_the_same_teacher_texts():
    problems = [(347, 285), (120, 305), (999, 1)]
    texts = ["7+5+0=12,4+8+1=13,3+2+1=6,632.",  # right
             "0+5+0=5,2+0+0=2,1+3+0=4,435.",  # a wrong answer (the teacher misread a digit)
             "9+1+0=10,9+0+"]  # unfinished: no final answer
    pairs = {w: reasoning.examples(w, problems, texts) for w in reasoning.WAYS}
    assert pairs["traces"] == [(addition.prompt(*p), t) for p, t in zip(problems, texts)]
    assert pairs["verified"] == [("347+285=", texts[0])]
    assert pairs["answers"] == [("347+285=", "632."), ("120+305=", "435.")]  # the wrong answer kept, no steps
    assert pairs["truth"] == [("347+285=", "632."), ("120+305=", "425."), ("999+1=", "1000.")]


def test_a_batch_learns_the_completion_and_not_the_prompt_or_the_padding():
    pool = reasoning.Pool("cpu")
    pool.add([("347+285=", "632."), ("1+2=", "1+2+0=3,3.")])
    ids, mask = pool.batch([0, 1])
    tok = reasoning.tokenizer()
    for row, m, (p, c) in zip(ids, mask, [("347+285=", "632."), ("1+2=", "1+2+0=3,3.")]):
        learned = tok.decode(row[1:][m])  # the characters the masked positions predict
        assert learned == c


def test_every_way_starts_from_the_same_weights_and_the_seed_changes_them():
    a, b = reasoning.student(ReasoningConfig(seed=3)), reasoning.student(ReasoningConfig(seed=3))
    c = reasoning.student(ReasoningConfig(seed=4))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.tok.weight, c.tok.weight)
    torch.manual_seed(11)
    before = torch.rand(1)
    torch.manual_seed(11)
    reasoning.student(ReasoningConfig())
    assert torch.equal(torch.rand(1), before)  # building a student leaves the global generator alone


def test_the_queries_are_distinct_none_held_out_and_fixed_by_the_seed():
    q = reasoning.queries_for(ReasoningConfig(queries=600))
    assert len(set(q)) == 600 and not set(q) & set(addition.held_out())
    assert q == reasoning.queries_for(ReasoningConfig(queries=600))
    assert q != reasoning.queries_for(ReasoningConfig(queries=600, seed=1))
    assert q[:100] == reasoning.queries_for(ReasoningConfig(queries=100))  # a smaller budget asks the first ones


@pytest.mark.parametrize("total, rounds", [(1000, 4), (7, 3), (5, 5), (1000, 1)])
def test_rounds_share_the_queries_evenly_and_the_steps_by_the_pool_so_far(total, rounds):
    queries = [reasoning.round_share(total, rounds, r) for r in range(rounds)]
    steps = [reasoning.round_steps(total, rounds, r) for r in range(rounds)]
    assert sum(queries) == sum(steps) == total and min(queries) >= 1
    for r in range(rounds):  # steps in proportion to 1 : 2 : ... : rounds, within rounding
        assert abs(steps[r] - total * 2 * (r + 1) / (rounds * (rounds + 1))) < 1


class Parrot(torch.nn.Module):
    """A 'model' for `inherited`: solve() is replaced, so only its answers matter."""


def test_inherited_counts_the_teachers_wrong_answers_the_student_repeats(monkeypatch):
    problems = [(100, 100), (200, 200), (300, 300), (400, 400)]
    teacher = ["200.", "410.", "601.", "800"]  # right, wrong, wrong, unfinished (no answer to repeat)
    student = {"200+200=": "410.", "300+300=": "600.", "400+400=": "810.", "100+100=": "200."}
    monkeypatch.setattr(reasoning, "solve", lambda model, ps: [student[addition.prompt(*p)] for p in ps])
    assert reasoning.inherited(Parrot(), problems, teacher) == 0.5  # 410 repeated, 601 not
    assert reasoning.inherited(Parrot(), problems[:1], teacher[:1]) is None  # the teacher was never wrong


# --- a small run: the mechanics ---------------------------------------------------------------

@pytest.fixture(scope="module")
def teacher():
    return pretrained.get("addition", device="cpu")


def test_a_small_run_spends_its_budget_in_rounds_and_measures_every_way(teacher):
    events = []
    result = reasoning.distill_reasoning(queries=24, rounds=3, steps=6, batch_size=8, test_size=40, teacher=teacher,
                                         device="cpu",
                                         callbacks=[events.append])
    assert result["teacher"]["queries"] == 24 and not result["stopped"]  # every query once, for all four ways
    assert [e.kind for e in events] == ["round"] * 12 + ["done"]
    for w in reasoning.WAYS:
        curve = result["curves"][w]
        assert [r["queries"] for r in curve] == [8, 16, 24]
        assert all(0 <= r["accuracy"] <= 1 for r in curve)
        assert [r["tokens"] for r in curve] == sorted(r["tokens"] for r in curve) and curve[-1]["tokens"] > 0
        assert result["tokens"][w] == curve[-1]["tokens"] and 0 <= result["longer"][w] <= 1
    assert result["test_size"] == result["longer_size"] == 40
    assert result["examples"]["traces"] == result["examples"]["truth"] == 24
    assert result["examples"]["verified"] == result["teacher"]["right"]
    # a worked trace is several times longer than its answer: the cost of long traces, per pair trained on
    assert result["tokens"]["traces"] > 4 * result["tokens"]["truth"]
    ex = result["example"]
    assert set(ex["students"]) == set(reasoning.WAYS) and ex["true"] == addition.worked(*ex["problem"])


def test_stop_ends_the_run_within_a_step_and_skips_the_final_measures(teacher):
    import threading
    stop, events = threading.Event(), []

    def stop_after_the_first(event):
        events.append(event)
        stop.set()
    result = reasoning.distill_reasoning(queries=16, rounds=2, steps=40, batch_size=8, test_size=20, teacher=teacher,
                                         device="cpu", callbacks=[stop_after_the_first], stop=stop)
    assert result["stopped"] and [e.kind for e in events] == ["round", "done"]
    assert len(result["curves"]["answers"]) == 1 and result["curves"]["traces"] == []
    assert result["tokens"]["traces"] == 0 and result["example"] is None  # stopped before its first step
    assert set(result["longer"].values()) == set(result["inherited"].values()) == {None}


def test_without_the_curve_the_same_training_ends_on_the_same_numbers(teacher):
    kw = dict(queries=16, rounds=2, steps=4, batch_size=8, test_size=40, ways=("answers", "traces"), teacher=teacher,
              device="cpu")
    full, last = reasoning.distill_reasoning(**kw), reasoning.distill_reasoning(curve=False, **kw)
    assert [r["accuracy"] for r in last["curves"]["traces"]][0] is None
    assert last["accuracy"] == full["accuracy"] and last["tokens"] == full["tokens"]
    assert last["inherited"] == full["inherited"]


# --- the lesson, at the defaults, over three seeds --------------------------------------------

def low(effects):
    """mean - 2 sd of per-seed effects: what a claimed margin must stay under."""
    m = sum(effects) / len(effects)
    return m - 2 * math.sqrt(sum((e - m) ** 2 for e in effects) / (len(effects) - 1))


def lesson(seed, **settings):
    """The lab's default run (ways (a)-(c): the control (d) is reported, not claimed),
    measured after the last round only: the same training as the lab's."""
    result = reasoning.distill_reasoning(seed=seed, device="cpu", curve=False, ways=("answers", "traces", "verified"),
                                         **settings)
    result.pop("models")
    return result


def forms(seed, **settings):
    return reasoning.compare_forms(seed=seed, device="cpu", **settings)


@pytest.fixture(scope="module")
def lessons():
    """Seeds 0-2 of the default run and of compare_forms' default, each in a one-thread process."""
    results = run_all([(lesson, (s,)) for s in SEEDS] + [(forms, (s,)) for s in SEEDS])
    return dict(zip(SEEDS, results[:len(SEEDS)])), dict(zip(SEEDS, results[len(SEEDS):]))


def paired(runs, key, a, b):
    return [runs[s][key][a] - runs[s][key][b] for s in SEEDS]


def test_at_the_defaults_the_teacher_is_wrong_on_some_queries_but_not_most(lessons):
    runs = lessons[0]
    for s in SEEDS:
        assert 0.90 <= runs[s]["teacher"]["accuracy"] <= 0.97  # .927/.943/.930 of its 600 queries
        assert runs[s]["teacher"]["queries"] == ReasoningConfig.queries


def test_worked_steps_teach_far_more_than_answers_alone_at_equal_queries(lessons):
    runs = lessons[0]
    effects = paired(runs, "accuracy", "traces", "answers")
    assert low(effects) > LOW_TRACES_OVER_ANSWERS, effects


def test_verified_traces_beat_unverified_ones_and_pass_on_fewer_of_the_teachers_mistakes(lessons):
    runs = lessons[0]
    effects = paired(runs, "accuracy", "verified", "traces")
    assert low(effects) > LOW_VERIFIED_OVER_TRACES, effects
    inherited = paired(runs, "inherited", "traces", "verified")
    assert low(inherited) > LOW_INHERITED, inherited
    for s in SEEDS:
        assert runs[s]["inherited"]["verified"] <= 0.1


def test_worked_steps_cost_several_times_the_tokens_of_answers(lessons):
    runs = lessons[0]
    for s in SEEDS:
        assert runs[s]["tokens"]["traces"] > 4 * runs[s]["tokens"]["answers"]


def test_the_smallest_student_learns_more_from_the_verbose_worked_steps_on_every_seed(lessons):
    """compare_forms' default: a 2 x 16 student, the true worked steps of the same 600
    problems in each form. Measured, seeds 0-2: verbose .278/.068/.248, terse .000/.008/.002;
    each seed's difference is several times the 500 problems' standard error (about .01-.02),
    but the spread across seeds (sd .12) is too wide to claim a margin beyond the sign."""
    runs = lessons[1]
    for s in SEEDS:
        acc, tokens = runs[s]["accuracy"], runs[s]["tokens"]
        assert acc["verbose"] - acc["terse"] > 0.05, (s, acc)
        assert tokens["verbose"] > 2 * tokens["terse"]  # the verbose form costs more than twice the characters
