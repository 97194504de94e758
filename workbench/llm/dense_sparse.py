"""Dense against sparse supervision: how many sampled sequences a student needs to learn
facts when each sequence brings one number (a reward) or a distribution at every token
(a teacher).

The same student (`experiments.student(seed)`: the base student, which speaks the facts
language and knows none of its facts) is trained from the same start three ways, with
the same optimizer (AdamW), learning rate, batch and prompts at every step
(`step_prompts`: seeded by the seed and the step only), on the drill set: the facts of
the language's `DRILL_SUBJECTS` most frequent subjects (16 facts), each step asking
about `batch_size / GROUP` of them, `GROUP` samples each. It is measured against the
number of sequences sampled:

    sft   "SFT on teacher samples" (black-box): the teacher writes a completion at T = 1;
          the student minimises the cross-entropy of its characters,
              L = −mean over completion tokens of log q(x_t | x_<t).
    rl    "RL, one reward per sequence": REINFORCE (Williams 1992) with a baseline on the
          student's own samples at T = 1,
              L = −mean over the batch of (r_i − b_i) · Σ_t log q(x_t | x_<t)
                  + KL_PENALTY · mean over completion positions of KL(q ‖ q_start),
          r_i = 1 when the sampled completion is exactly " <the fact's most likely
          answer>." and 0 otherwise (`reward`: what fact_accuracy scores, the one bit per
          sequence a verifier gives in RL with verifiable rewards; it needs only the right
          answer, not the truth's whole distribution). b_i is the mean reward of the other
          samples of the same prompt (`baseline`: the leave-one-out baseline of RLOO, Kool
          et al. 2019, over a group of GROUP samples per prompt, as GRPO also groups them):
          it does not depend on sequence i, so it leaves the gradient's expectation
          unchanged and only lowers its variance; a group whose rewards are all equal
          makes no update. The KL penalty to the starting student (as in RLHF: Ziegler
          et al. 2019, Ouyang et al. 2022) is the control that lets RL get there at all:
          without it (`kl_penalty=0`) the student soon answers every prompt of a relation
          with the answer right most often across subjects, stops sampling the others,
          and its fact accuracy stays where that answer puts it (seed 0: 0.25 from 256
          samples to the end of the 6,144).
          The starting student knows none of the facts, so the penalty teaches none.
    opd   "on-policy distillation": the student samples at T = 1, the teacher scores every
          position, the student minimises the per-token reverse KL
              L = mean over completion positions of Σ_v q(v) (log q(v) − log p(v))
          (losses.reverse_kl: generalized JSD at β = 1, the default of TRL's
          DistillationTrainer; on-policy as in GKD, Agarwal et al. 2024, λ = 1).

Every step spends `batch_size` sampled sequences, used once (RL stays on-policy; the
comparison is per sequence spent). A sequence's reward tells the student whether that
one answer was right; the teacher's distribution at the answer's first letter tells it
how likely every answer is, on every sample, right or wrong. `dense_vs_sparse` returns
each method's curve of the drill set's exact metrics (kl_to_truth, fact_accuracy, ...)
against sequences spent, and the sequences each needed to reach a stated share of
sampled answers right (`sampled_right`: the student's probability of the right answer,
averaged over the drill facts; RL's own objective, its expected reward, so the measure
that favours it most).

The metrics are exact population measures over the drill set's 16 facts (computed from
the known truth, not estimated on a held-out split); one learning rate serves all three
methods, and RL at 3e-4 or 3e-3, or without its KL penalty, is no closer to on-policy
distillation (tests/test_llm_dense_sparse.py)."""
import copy
import dataclasses
import hashlib

import torch
import torch.nn.functional as F

from .. import _check
from ..losses import reverse_kl
from ..train import Event
from .distill import completion_mask
from .evaluate import answer_distributions, facts_metrics
from .gpt import generate
from .tokenizer import PAD

METHODS = ("sft", "rl", "opd")
LABELS = {"sft": "SFT on teacher samples", "rl": "RL, one reward per sequence", "opd": "on-policy distillation"}
REWARD = ("correctness: 1 when the sampled completion is exactly ' <the fact's most likely answer>.', else 0 "
          "(what fact_accuracy scores; the one bit a verifier gives per sequence, needing only the right answer, "
          "not the truth's whole distribution)")
BASELINE = ("leave-one-out mean reward of the other samples of the same prompt (RLOO, Kool et al. 2019, groups of "
            "4); it does not depend on the sequence it is subtracted from, so the gradient's expectation is unchanged")
METRIC = "sampled_right"  # RL's own objective, its expected reward: the fairest measure for it
METRICS = ("kl_to_truth", "fact_accuracy", "sampled_right", "second_mode_coverage", "one_answer_accuracy")

# The setting that shows the lesson (measured over seeds 0-2 in tests/test_llm_dense_sparse.py). Each
# sequence is used once, so samples / batch_size is also the number of optimizer steps. On all 96 facts
# the tiny student needs too many steps for a lesson (on-policy distillation 3,000-5,000 samples to reach
# 0.4 at batch 8, RL not within 8,192); the drill set of 16 facts keeps the run to seconds.
DRILL_SUBJECTS = 8
SAMPLES, BATCH_SIZE, GROUP, EVERY, LEVEL = 6144, 16, 2, 256, 0.5
LR = 1e-3
KL_PENALTY = 0.5


def drill_language(language, subjects=DRILL_SUBJECTS):
    """The language restricted to the facts of its `subjects` most frequent subjects: what
    the three methods are asked about and measured on."""
    subjects = _check.positive_int("subjects", subjects)
    if subjects > len(language.subjects):
        raise ValueError(f"subjects must be at most the language's {len(language.subjects)} subjects, "
                         f"got {subjects}")
    return dataclasses.replace(language, facts=tuple(f for f in language.facts if f.rank < subjects))


def step_prompts(task, n, seed, step, group=GROUP):
    """The n prompts of optimizer step `step` (0-based) of a run seeded `seed`: n / group
    facts of the drill set drawn uniformly, each asked `group` times in a row, from a
    generator that depends on the seed and the step only, so every method asks about the
    same prompts at every step."""
    seed, step = _check.seed("seed", seed), _check.non_negative_int("step", step)
    n, group = _check.positive_int("n", n), _check.positive_int("group", group)
    if n % group:
        raise ValueError(f"n must be a multiple of group ({group}): each prompt is sampled group times; got {n}")
    key = hashlib.sha256(f"workbench.llm dense_sparse prompts, seed {seed}, step {step}".encode()).digest()
    g = torch.Generator().manual_seed(int.from_bytes(key[:8], "little") >> 1)
    facts = drill_language(task.language).facts
    return [task.language.prompt(facts[i].subject, facts[i].relation)
            for i in torch.randint(len(facts), (n // group,), generator=g).tolist() for _ in range(group)]


def answer_of(language, prompt):
    """The fact's most likely answer after `prompt` ("<subject> <relation>")."""
    for f in language.facts:
        if language.prompt(f.subject, f.relation) == prompt:
            return f.answers[0]
    raise ValueError(f"prompt must be '<subject> <relation>' of one of the language's facts, got {prompt!r}")


def reward(language, prompt, completion):
    """1.0 when `completion` is exactly " <the fact's most likely answer>." (the sampled
    answer is the one fact_accuracy counts as right), else 0.0."""
    return float(completion == language.completion(answer_of(language, prompt)))


def baseline(rewards, group=GROUP):
    """The leave-one-out baseline (RLOO, Kool et al. 2019): rewards come in consecutive
    groups of `group` samples of one prompt; for each sequence i, the mean reward of the
    other samples of its group, b_i = (Σ_group r_j − r_i) / (group − 1). A group of one
    gets b = 0."""
    rewards = torch.as_tensor(rewards, dtype=torch.float32)
    group = _check.positive_int("group", group)
    if len(rewards) % group:
        raise ValueError(f"rewards must come in whole groups of {group}, got {len(rewards)} rewards")
    if group < 2:
        return torch.zeros_like(rewards)
    r = rewards.view(-1, group)
    return ((r.sum(1, keepdim=True) - r) / (group - 1)).view(-1)


def sequence_logprob(model, ids, mask):
    """Σ over completion positions of log q(x_t | x_<t): (B,), with gradient."""
    logits = model(ids[:, :-1]).float()
    lp = F.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    return (lp * mask).sum(1)


def reinforce_loss(model, ids, mask, rewards, group=GROUP, reference=None, kl_penalty=0.0):
    """−mean_i (r_i − b_i) · Σ_t log q(x_t): REINFORCE with the leave-one-out baseline; with
    a `reference` model, plus kl_penalty · the mean over completion positions of
    KL(q ‖ q_reference) over the vocabulary."""
    advantage = torch.as_tensor(rewards, dtype=torch.float32, device=ids.device) - baseline(rewards, group).to(ids.device)
    logits = model(ids[:, :-1]).float()
    log_q = F.log_softmax(logits, -1)
    lp = (log_q.gather(-1, ids[:, 1:, None]).squeeze(-1) * mask).sum(1)
    loss = -(advantage * lp).mean()
    if reference is not None and kl_penalty > 0:
        with torch.no_grad():
            ref_logits = reference(ids[:, :-1]).float()
        loss = loss + kl_penalty * reverse_kl(logits, ref_logits, mask=mask)
    return loss


def _sample(model, task, prompts, g):
    """Right-padded sequences BOS + prompt + sampled completion at T = 1, and the
    completion mask (B, L-1)."""
    tok, device = model.tokenizer, next(model.parameters()).device
    ids = tok.batch([task.bos + p for p in prompts], "prompt")[0].to(device)
    seqs = generate(model, ids, task.max_new_tokens, 1.0, None, tok.stoi[task.stop], g)
    starts = torch.tensor([len(task.bos) + len(p) for p in prompts], device=device)
    return seqs, completion_mask(seqs, starts)


def _completions(tok, seqs, task, prompts):
    return [tok.decode(s)[len(task.bos) + len(p):] for s, p in zip(seqs.cpu(), prompts)]


def _loss(method, student, teacher, task, prompts, g, reference=None, kl_penalty=KL_PENALTY, group=GROUP):
    """One batch's loss and the batch's mean reward (of the sequences trained on)."""
    tok = student.tokenizer
    writer = teacher if method == "sft" else student
    seqs, mask = _sample(writer, task, prompts, g)
    student.train()
    rewards = [reward(task.language, p, c) for p, c in zip(prompts, _completions(tok, seqs, task, prompts))]
    if method == "sft":
        logits = student(seqs[:, :-1]).float()
        loss = F.cross_entropy(logits[mask], seqs[:, 1:][mask])
    elif method == "rl":
        loss = reinforce_loss(student, seqs, mask, rewards, group, reference, kl_penalty)
    else:
        with torch.no_grad():
            teacher_logits = teacher(seqs[:, :-1]).float()
        loss = reverse_kl(student(seqs[:, :-1]).float(), teacher_logits, mask=mask)
    return loss, sum(rewards) / len(rewards)


def _check_settings(samples, batch_size, every, lr, seed):
    samples = _check.positive_int("samples", samples)
    batch_size = _check.positive_int("batch_size", batch_size)
    every = _check.positive_int("every", every)
    if batch_size % GROUP:
        raise ValueError(f"batch_size must be a multiple of {GROUP} (each prompt is sampled {GROUP} times), "
                         f"got {batch_size}")
    if samples < batch_size:
        raise ValueError(f"samples must be at least batch_size ({batch_size}): each step spends batch_size "
                         f"sampled sequences; got samples={samples}")
    return samples, batch_size, every, _check.positive("lr", lr), _check.seed("seed", seed)


def measure(student, task):
    """The drill set's exact metrics (METRICS) of `student`: evaluate.facts_metrics, and
    sampled_right, the mean over the drill facts of the student's probability of the
    whole most likely answer: the share of its sampled answers that are right, which is
    RL's expected reward."""
    drill = drill_language(task.language)
    m = facts_metrics(student, drill)
    m["sampled_right"] = answer_distributions(student, drill)[1][:, 0].mean().item()
    return {k: m[k] for k in METRICS}


def steps(method, student, teacher, task, samples=SAMPLES, seed=0, batch_size=BATCH_SIZE, lr=LR, every=EVERY,
          kl_penalty=KL_PENALTY, stop=None):
    """Train `student` in place with `method` ("sft", "rl" or "opd"; see the module) as a
    generator of Events: "step" after each optimizer step (loss, mean reward of the
    batch, samples spent) and "eval" at 0 samples and then every `every` samples and at
    the end ({"samples": n, **measure(student, task)}). `kl_penalty` weighs RL's KL to
    the starting student. `stop` (a threading.Event) ends it before the next step.
    Returns the list of "eval" rows."""
    _check.one_of("method", method, METHODS)
    samples, batch_size, every, lr, seed = _check_settings(samples, batch_size, every, lr, seed)
    kl_penalty = _check.non_negative("kl_penalty", kl_penalty)
    g = torch.Generator().manual_seed(seed)
    reference = copy.deepcopy(student).eval().requires_grad_(False) if method == "rl" and kl_penalty else None
    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.0)
    curve = [{"samples": 0, **measure(student, task)}]
    yield Event("eval", 0, 0, curve[-1])
    spent, n_steps = 0, samples // batch_size
    for step in range(n_steps):
        if stop is not None and stop.is_set():
            break
        loss, mean_reward = _loss(method, student, teacher, task, step_prompts(task, batch_size, seed, step), g,
                                  reference, kl_penalty)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        spent += batch_size
        yield Event("step", 0, step + 1, {"loss": loss.item(), "reward": mean_reward, "samples": spent})
        if spent // every > (spent - batch_size) // every or step == n_steps - 1:
            curve.append({"samples": spent, **measure(student, task)})
            yield Event("eval", 0, step + 1, curve[-1])
    student.eval()
    return curve


def samples_to_level(curve, level, metric=METRIC):
    """The first `samples` in curve whose metric reaches `level`, or None."""
    return next((row["samples"] for row in curve if row[metric] >= level), None)


def _run(gen):
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


def dense_vs_sparse(samples=SAMPLES, seed=0, batch_size=BATCH_SIZE, level=LEVEL, every=EVERY, lr=LR,
                    kl_penalty=KL_PENALTY, methods=METHODS, device=None):
    """Train the base student three ways on `samples` sampled sequences each (see the
    module) and return {"reward", "baseline", "level": {"metric": "sampled_right",
    "value"}, "curves": {method: [{"samples", sampled_right, fact_accuracy, kl_to_truth,
    ...}]}, "samples_to_level": {method: first samples reaching the level or None},
    "factor": RL's samples-to-level over on-policy distillation's (None when either is
    None), "factor_at_least": when RL did not reach the level within the budget and
    on-policy distillation did, samples / on-policy distillation's (the factor is at
    least that), and the settings}. `lr`: one learning rate for all, or a {method: lr} dict."""
    from .experiments import student, task, teacher  # experiments imports distill; keep this module light
    samples, batch_size, every, _, seed = _check_settings(samples, batch_size, every, 1.0, seed)
    level = _check.fraction("level", level)
    if isinstance(methods, str) or not methods:
        raise ValueError(f"methods must be a non-empty list of {list(METHODS)}, got {methods!r}")
    for m in methods:
        _check.one_of("methods", m, METHODS)
    if isinstance(lr, dict):
        rates = dict.fromkeys(METHODS, LR)
        for m, v in lr.items():
            rates[_check.one_of("lr", m, METHODS)] = _check.positive(f"lr[{m!r}]", v)
    else:
        rates = dict.fromkeys(METHODS, _check.positive("lr", lr))
    t, the_task = teacher("facts", device), task()
    curves = {}
    for m in methods:
        model = student(seed, device=next(t.parameters()).device)
        curves[m] = _run(steps(m, model, t, the_task, samples, seed, batch_size, rates[m], every, kl_penalty))
    reached = {m: samples_to_level(c, level) for m, c in curves.items()}
    rl, opd = reached.get("rl"), reached.get("opd")
    factor = rl / opd if rl is not None and opd else None
    return {"reward": REWARD, "baseline": BASELINE, "level": {"metric": METRIC, "value": level},
            "curves": curves, "samples_to_level": reached, "factor": factor,
            "factor_at_least": samples / opd if opd and rl is None else None, "samples": samples, "seed": seed,
            "batch_size": batch_size, "group": GROUP, "every": every, "lr": {m: rates[m] for m in methods},
            "kl_penalty": kl_penalty, "optimizer": "AdamW", "temperature": 1.0,
            "facts": len(drill_language(the_task.language).facts)}
