"""Dense against sparse supervision (issue 22, item 2): workbench.llm.dense_sparse.

The effect, at the module's defaults over seeds 0-2: on-policy distillation reaches the
drill set's fact-accuracy level in several times fewer sampled sequences than RL, and RL's
learning rate and KL penalty are its best of those tried (the control)."""
import copy
import statistics

import pytest
import torch

import workbench as wb
from workbench.llm import dense_sparse as ds
from workbench.llm.facts import RELATIONS

from in_processes import run_all


@pytest.fixture(scope="module")
def lang():
    return wb.llm.task().language


def a_fact(lang, kind):
    return next(f for f in lang.facts if f.kind == kind)


def test_the_reward_is_one_only_for_the_facts_most_likely_answer_exactly(lang):
    f = a_fact(lang, "two")
    prompt = lang.prompt(f.subject, f.relation)
    wrong = next(a for a in RELATIONS[f.relation] if a not in f.answers)
    assert ds.reward(lang, prompt, f" {f.answers[0]}.") == 1.0
    assert ds.reward(lang, prompt, f" {f.answers[1]}.") == 0.0  # the 40% answer: true, but not what is scored
    assert ds.reward(lang, prompt, f" {wrong}.") == 0.0
    assert ds.reward(lang, prompt, f" {f.answers[0]}") == 0.0  # no stop: not the sentence
    assert ds.reward(lang, prompt, f" {f.answers[0]}s.") == 0.0
    with pytest.raises(ValueError, match="prompt must be"):
        ds.reward(lang, "nobody likes", " tea.")


def test_the_leave_one_out_baseline_is_the_mean_of_the_others_of_the_same_prompt():
    assert ds.baseline([1.0, 0.0, 0.0, 1.0], group=4).tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1 / 3])
    # groups of two: each sample's baseline is the other sample of its prompt, never another prompt's
    assert ds.baseline([1.0, 0.0, 1.0, 1.0], group=2).tolist() == [0.0, 1.0, 1.0, 1.0]
    # b_i does not depend on r_i (what keeps the gradient's expectation unchanged)
    a, b = ds.baseline([0.0, 1.0, 0.0], group=3), ds.baseline([1.0, 1.0, 0.0], group=3)
    assert a[0] == b[0] and a[1] != b[1]
    with pytest.raises(ValueError, match="rewards must come in whole groups of 2, got 3 rewards"):
        ds.baseline([1.0, 0.0, 0.0], group=2)


def test_each_step_asks_about_drill_facts_in_groups_of_the_same_prompt(lang):
    prompts = ds.step_prompts(wb.llm.task(), 16, 0, 0)
    drill = {lang.prompt(f.subject, f.relation) for f in ds.drill_language(lang).facts}
    assert len(drill) == 2 * ds.DRILL_SUBJECTS and set(prompts) <= drill
    assert all(prompts[i] == prompts[i + 1] for i in range(0, 16, ds.GROUP))
    assert len(set(prompts)) > 1


def test_the_kl_penalty_pulls_toward_the_starting_student_and_teaches_no_fact(lang):
    """RL's KL term is zero at the start and grows as the student moves; its gradient
    leads back to the reference, which knows no facts."""
    student, task = wb.llm.student(0), wb.llm.task()
    prompts = ds.step_prompts(task, 8, 0, 0)
    ids, mask = ds._sample(student, task, prompts, torch.Generator().manual_seed(0))
    reference = copy.deepcopy(student)
    rewards = [0.0] * 8  # no reward signal: only the penalty acts
    assert ds.reinforce_loss(student, ids, mask, rewards, 2, reference, 0.5).item() == pytest.approx(0.0, abs=1e-6)
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.05 * torch.randn_like(p))
    moved = ds.reinforce_loss(student, ids, mask, rewards, 2, reference, 0.5)
    assert moved.item() > 1e-3
    assert ds.reinforce_loss(student, ids, mask, rewards, 2, reference, 0.0).item() == pytest.approx(0.0, abs=1e-6)


def test_the_baseline_leaves_the_expected_gradient_unchanged():
    """Exact expectation over every batch of two from a 3-way softmax policy: the REINFORCE
    gradient with the leave-one-out baseline equals the one without a baseline."""
    logits = torch.tensor([0.3, -0.2, 0.5])
    r = torch.tensor([1.0, 0.0, 0.5])
    p = logits.softmax(0)

    def expected_grad(with_baseline):
        total = torch.zeros(3)
        for i in range(3):
            for j in range(3):
                z = logits.clone().requires_grad_(True)
                lp = z.log_softmax(0)[[i, j]]
                rewards = r[[i, j]]
                adv = rewards - ds.baseline(rewards) if with_baseline else rewards
                (g,) = torch.autograd.grad((adv * lp).mean(), z)
                total += p[i] * p[j] * g
        return total
    assert torch.allclose(expected_grad(True), expected_grad(False), atol=1e-6)
    assert expected_grad(True).abs().max() > 1e-2  # not trivially zero


def test_a_constant_reward_makes_no_update_and_a_varied_one_favours_the_right_answer(lang):
    student = wb.llm.student(0)
    f = a_fact(lang, "one")
    prompt = lang.prompt(f.subject, f.relation)
    wrong = next(a for a in RELATIONS[f.relation] if a not in f.answers)
    texts = [ds_text(lang, prompt, f.answers[0]), ds_text(lang, prompt, wrong)]
    ids = student.tokenizer.batch(texts)[0]
    mask = wb.llm.distill.completion_mask(ids, torch.tensor([1 + len(prompt)] * 2))
    rewards = [ds.reward(lang, prompt, t[1 + len(prompt):]) for t in texts]
    assert rewards == [1.0, 0.0]

    def grads(r):
        student.zero_grad()
        ds.reinforce_loss(student, ids, mask, r).backward()
        return [p.grad.clone() for p in student.parameters()]
    assert all(g.abs().max() == 0 for g in grads([1.0, 1.0]))
    grads(rewards)
    opt = torch.optim.SGD(student.parameters(), lr=1e-3)  # one small step: first order
    before = ds.sequence_logprob(student, ids, mask).detach()
    opt.step()
    after = ds.sequence_logprob(student, ids, mask).detach()
    assert after[0] > before[0] and after[1] < before[1]


def ds_text(lang, prompt, answer):
    return wb.llm.task().bos + prompt + lang.completion(answer)


def test_on_policy_distillation_is_scored_by_the_teacher():
    task, teacher, student = wb.llm.task(), wb.llm.teacher(), wb.llm.student(0)
    prompts = ds.step_prompts(task, 8, 0, 0)
    loss, _ = ds._loss("opd", student, teacher, task, prompts, torch.Generator().manual_seed(0))
    assert loss.item() > 0.3  # the base student knows no facts: far from the teacher
    same, _ = ds._loss("opd", student, copy.deepcopy(student), task, prompts, torch.Generator().manual_seed(0))
    assert same.item() == pytest.approx(0.0, abs=1e-6)  # a teacher identical to the student teaches nothing


def test_every_method_starts_from_the_same_weights_and_sees_the_same_prompts(monkeypatch):
    seen, starts = {}, {}
    step_prompts, steps = ds.step_prompts, ds.steps

    def recording_prompts(task, n, seed, step):
        out = step_prompts(task, n, seed, step)
        seen.setdefault(current[0], []).append(out)
        return out

    current = [None]

    def recording_steps(method, student, *args, **kw):
        current[0] = method
        starts[method] = torch.cat([p.detach().flatten() for p in student.parameters()])
        return steps(method, student, *args, **kw)
    monkeypatch.setattr(ds, "step_prompts", recording_prompts)
    monkeypatch.setattr(ds, "steps", recording_steps)
    out = ds.dense_vs_sparse(samples=16, batch_size=8, every=8, seed=3)
    assert set(seen) == set(ds.METHODS) and len(seen["rl"]) == 2
    assert seen["sft"] == seen["rl"] == seen["opd"]
    assert torch.equal(starts["sft"], starts["rl"]) and torch.equal(starts["rl"], starts["opd"])
    assert ds.step_prompts(wb.llm.task(), 8, 3, 0) != ds.step_prompts(wb.llm.task(), 8, 4, 0)
    for m in ds.METHODS:  # one point at the start and one per `every` samples; the first is the same start
        assert [row["samples"] for row in out["curves"][m]] == [0, 8, 16]
        assert out["curves"][m][0] == out["curves"]["sft"][0]
    assert out["level"] == {"metric": "sampled_right", "value": ds.LEVEL}
    assert "correct" in out["reward"] and "leave-one-out" in out["baseline"]


def test_samples_to_level_is_the_first_point_at_or_over_the_level():
    curve = [{"samples": 0, "fact_accuracy": 0.1}, {"samples": 8, "fact_accuracy": 0.3},
             {"samples": 16, "fact_accuracy": 0.2}, {"samples": 24, "fact_accuracy": 0.5}]
    assert ds.samples_to_level(curve, 0.3, "fact_accuracy") == 8
    assert ds.samples_to_level(curve, 0.4, "fact_accuracy") == 24
    assert ds.samples_to_level(curve, 0.6, "fact_accuracy") is None
    assert ds.samples_to_level([{"samples": 0, ds.METRIC: 0.2}, {"samples": 8, ds.METRIC: 0.6}], 0.5) == 8


@pytest.mark.parametrize("kw, message", [
    (dict(samples=4, batch_size=8), "samples must be at least batch_size"),
    (dict(samples=0), "samples must be an integer >= 1, got 0"),
    (dict(batch_size=-2), "batch_size must be an integer >= 1, got -2"),
    (dict(batch_size=7), "batch_size must be a multiple of 2 .each prompt is sampled 2 times., got 7"),
    (dict(kl_penalty=-0.1), "kl_penalty must be"),
    (dict(every=0), "every must be an integer >= 1, got 0"),
    (dict(lr=0.0), "lr must be a finite number > 0, got 0.0"),
    (dict(lr={"ppo": 1e-3}), r"lr must be one of \['sft', 'rl', 'opd'\], got 'ppo'"),
    (dict(methods=["sft", "dpo"]), r"methods must be one of \['sft', 'rl', 'opd'\], got 'dpo'"),
    (dict(level=0), r"level must be a number in \(0, 1\], got 0"),
    (dict(level=1.5), r"level must be a number in \(0, 1\], got 1.5"),
    (dict(seed=-1), "seed must be an integer from 0"),
])
def test_bad_input_names_the_parameter_what_is_allowed_and_what_was_given(kw, message):
    with pytest.raises(ValueError, match=message):
        ds.dense_vs_sparse(**kw)


def test_the_generator_refuses_an_unknown_method_and_stops_on_stop():
    import threading
    with pytest.raises(ValueError, match=r"method must be one of \['sft', 'rl', 'opd'\], got 'ppo'"):
        next(ds.steps("ppo", wb.llm.student(0), wb.llm.teacher(), wb.llm.task()))
    stop = threading.Event()
    gen = ds.steps("rl", wb.llm.student(0), wb.llm.teacher(), wb.llm.task(), samples=64, batch_size=8, every=64,
                   stop=stop)
    kinds = [next(gen).kind, next(gen).kind]
    stop.set()
    rest = list(gen)
    assert kinds == ["eval", "step"] and rest == []


def dense_vs_sparse(seed, **kw):
    return ds.dense_vs_sparse(seed=seed, **kw)


@pytest.fixture(scope="module")
def effect():
    """The defaults over seeds 0-2 (the lesson's setting), and RL's two controls at seed 0
    (CONTROLS), each in a one-thread worker process (tests/in_processes.py); the controls
    are kept in effect.controls."""
    runs = run_all([(dense_vs_sparse, (seed,)) for seed in range(3)] +
                   [(dense_vs_sparse, (0,), dict(methods=("rl",), **kw)) for kw in CONTROLS])
    effect = Effect(runs[:3])
    effect.controls = runs[3:]
    return effect


class Effect(list):
    """The three default runs, with the controls beside them."""


def rl_needs_at_least(out):
    """How many times on-policy distillation's samples-to-level RL needed: the measured
    factor, or, when RL did not reach the level within the budget, the lower bound
    budget / on-policy distillation's samples."""
    return out["factor"] if out["factor"] is not None else out["factor_at_least"]


def test_on_policy_distillation_reaches_the_level_in_several_times_fewer_samples_than_rl(effect):
    """Measured (seeds 0/1/2, level 0.5 of sampled answers right on the 16 drill facts,
    6,144 samples, two runs on this machine): on-policy distillation reached it at
    1,536-1,792 samples; RL did not within the budget (its best share 0.32-0.42, 0.08-0.18
    under the level), so it needs at least 3.4-4.0 times the samples. Asserted: on-policy
    distillation reaches the level with a third of the budget to spare, and RL stays at
    least 0.05 under it or, if it gets there, needs >= 2.5 times the samples."""
    for out in effect:
        reached = out["samples_to_level"]
        assert reached["opd"] is not None and reached["opd"] <= out["samples"] / 3, reached
        assert rl_needs_at_least(out) >= 2.5, reached
        if reached["rl"] is None:
            assert max(r[ds.METRIC] for r in out["curves"]["rl"]) <= ds.LEVEL - 0.05, out["curves"]["rl"]
        ends = {m: c[-1][ds.METRIC] for m, c in out["curves"].items()}
        assert ends["opd"] > ends["rl"] + 0.2, ends  # RL has not caught up by the end of the budget


CONTROLS = (dict(lr=3e-3), dict(kl_penalty=0.0))


@pytest.mark.parametrize("index", [0, 1], ids=["rl lr 3e-3", "rl without the KL penalty"])
def test_rl_at_other_settings_is_no_closer(effect, index):
    """The control for "RL is just under-tuned", at seed 0: at three times the learning rate
    and without the KL penalty, RL also needs at least 2.5 times on-policy distillation's
    samples (or does not get there: its fact accuracy stayed at 0.12-0.44 and 0.25). A lower
    rate (3e-4) was no closer either when measured; it is left out of the suite for time."""
    kw, out = CONTROLS[index], effect.controls[index]
    other = out["samples_to_level"]["rl"]
    opd = effect[0]["samples_to_level"]["opd"]
    assert other is None or other >= 2.5 * opd, (kw, other, opd)
