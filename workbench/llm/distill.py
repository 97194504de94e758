"""Distilling a language model, white-box or black-box, on a budget of teacher queries.

The budget is spent in rounds. Each round sends a share of the queries to the teacher
and adds what comes back to a pool; the student then takes its share of the optimizer
steps on batches drawn from everything collected so far. So a curve against "teacher
queries" shows what the student knows after spending that much.

    black-box   the teacher answers each prompt with text sampled at T (greedy at T = 0);
                the student is fine-tuned on prompt + answer with cross-entropy
                (supervised fine-tuning on teacher text; Kim & Rush 2016's sequence-level
                KD used the teacher's beam-search output, and T = 0 is the nearest here)
    white-box   the teacher samples an answer and returns its next-token distribution at
                every position; the student matches it token by token with forward KL,
                reverse KL or the generalized JSD (the divergences of GKD, Agarwal et al.
                2024). Reverse KL here is token-level on the teacher's text, not MiniLLM's
                sequence-level reverse KL on the student's own samples (Gu et al. 2024)
    top-k       white-box through an API that reveals only the k most likely tokens; the
                missing mass 1 − Σ top-k is kept as one "rest" bucket, dropped, or spread
                uniformly over the other tokens (cfg.tail, whitebox.TAILS). The top-k can
                come from a file written once (topk_cache) instead of a live teacher

Equal budget, same prompts: every round's prompts are drawn from a generator seeded by
cfg.seed and the round alone (`round_prompts`), never from what the method consumed
before. So white-box, black-box and top-k runs with one seed ask about the same prompts
in every round, and differ only in what comes back.

With on_policy = λ > 0 (white-box only), that share of the queries asks the teacher to
score sequences the student sampled itself, as in GKD, instead of its own. The prompts
are still the round's shared ones; the student picks only the completions of its share
(so those sequences, not the prompts, differ from an off-policy run). The student
samples them at the start of each round (GKD samples afresh for every batch; with ten
rounds the samples are at most a tenth of the run old)."""
import hashlib
import math
import time
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

from .. import _check
from ..losses import TOKEN_LOSSES
from ..train import Event, Result
from ..train import run as drive
from .blackbox import TextAPI
from .gpt import check_temperature, generate
from .tokenizer import PAD
from .whitebox import TAILS, LogitAPI, check_k

METHODS = ("white-box", "black-box", "top-k")


@dataclass(frozen=True)
class LLMConfig:
    """Every setting of one LLM distillation run, validated on construction.

    temperature is that of the distribution the student learns from: every completion is
    sampled at T (the teacher's, and in on-policy rounds the student's own), white-box
    losses compare softmax(logits / T), and a black-box teacher may answer greedily
    (T = 0: always its most likely answer). tail (top-k only) is what the student
    learns for the teacher's missing mass: one of TAILS, "bucket", "drop" or
    "uniform" (whitebox.TAILS: top_k_buckets, drop_tail, uniform_tail)."""
    method: str = "white-box"
    queries: int = 1200
    loss: str = "forward_kl"
    beta: float = 0.5
    temperature: float = 1.0
    on_policy: float = 0.0
    k: int = 5
    tail: str = "bucket"
    steps: int = 500
    batch_size: int = 32
    lr: float = 5e-3
    rounds: int = 10
    seed: int = 0

    def __post_init__(self):
        # every number is checked and stored as a plain Python int or float (NumPy numbers accepted)
        _check.one_of("method", self.method, METHODS)
        _check.one_of("loss", self.loss, TOKEN_LOSSES)
        _check.one_of("tail", self.tail, TAILS)
        checked = {name: _check.positive_int(name, getattr(self, name))
                   for name in ("queries", "k", "steps", "batch_size", "rounds")}
        checked.update(beta=_check.unit_interval("beta", self.beta),
                       on_policy=_check.unit_interval("on_policy", self.on_policy),
                       lr=_check.positive("lr", self.lr), seed=_check.seed("seed", self.seed),
                       temperature=self._temperature())
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        if self.method == "black-box" and self.on_policy > 0:
            raise ValueError(f"on_policy must be 0 for black-box distillation (a black-box teacher cannot score "
                             f"the student's samples), got {self.on_policy}")
        if self.method == "top-k" and self.tail == "drop" and (
                self.loss == "reverse_kl" or (self.loss == "jsd" and self.beta == 1)):
            raise ValueError(f"tail='drop' gives the teacher probability 0 outside its k tokens, and reverse KL "
                             f"(loss 'reverse_kl', or 'jsd' at beta=1) against a probability of 0 is infinite: with "
                             f"tail='drop' use loss 'forward_kl' or 'jsd' with beta < 1, or tail 'bucket' or "
                             f"'uniform'; got tail='drop', loss={self.loss!r}, beta={self.beta}")
        if self.rounds > self.queries:
            raise ValueError(f"queries must be at least rounds ({self.rounds}): each round asks the teacher at "
                             f"least once; got queries={self.queries}")

    def _temperature(self):
        """Black-box: the teacher's sampling temperature (0 greedy, else from float32's
        smallest normal number up). White-box and top-k: also the token losses' softmax
        temperature, so a distillation temperature (_check.temperature's range)."""
        t = self.temperature
        if self.method == "black-box":
            return check_temperature(t)
        if t == 0 and not isinstance(t, bool):
            raise ValueError(f"temperature must be > 0 for {self.method} distillation (0, greedy answers, is for "
                             f"black-box only: the token losses divide by T), got {t!r}")
        return _check.temperature("temperature", t)

    def replace(self, **changes):
        return replace(self, **changes)


class Pool:
    """Every sequence collected so far, each trimmed to its length, where its completion
    starts, and what the teacher said about it: nothing (black-box), logits, or top-k
    (log-probs, ids)."""

    def __init__(self):
        self.ids, self.starts, self.targets = [], [], []

    def add(self, ids, starts, targets=None):
        lengths = (ids != PAD).sum(1).tolist()
        self.ids += [row[:n] for row, n in zip(ids, lengths)]
        self.starts += list(starts)
        if isinstance(targets, tuple):
            self.targets += [(v[:n - 1], i[:n - 1]) for v, i, n in zip(*targets, lengths)]
        elif targets is not None:
            self.targets += [t[:n - 1] for t, n in zip(targets, lengths)]

    def __len__(self):
        return len(self.ids)

    def batch(self, index):
        """Right-padded ids (B, L); the loss mask (B, L-1), True where a completion
        character is predicted; the teacher's targets for them, padded alike."""
        ids = pad_sequence([self.ids[i] for i in index], batch_first=True, padding_value=PAD)
        mask = completion_mask(ids, torch.tensor([self.starts[i] for i in index], device=ids.device))
        if not self.targets:
            return ids, mask, None
        if isinstance(self.targets[0], tuple):
            return ids, mask, tuple(pad_sequence([self.targets[i][j] for i in index], batch_first=True)
                                    for j in range(2))
        return ids, mask, pad_sequence([self.targets[i] for i in index], batch_first=True)


def completion_mask(ids, starts):
    """(B, L-1): True where position j predicts a completion character (j + 1 >= the
    row's prompt length, and not padding). The prompt is given, not learned, as in
    supervised fine-tuning and GKD."""
    j = torch.arange(ids.shape[1] - 1, device=ids.device)[None]
    return (j + 1 >= starts[:, None]) & (ids[:, 1:] != PAD)


def _loss(student, ids, mask, targets, cfg):
    logits = student(ids[:, :-1]).float()
    if targets is None:  # black-box: the teacher's text is the label
        return F.cross_entropy(logits[mask], ids[:, 1:][mask])
    kw = {"beta": cfg.beta} if cfg.loss == "jsd" else {}
    if isinstance(targets, tuple):  # top-k: only the k tokens the API revealed, and a tail for the rest
        s, t = TAILS[cfg.tail](logits, targets, cfg.temperature)
        return TOKEN_LOSSES[cfg.loss](s, t, temperature=1.0, mask=mask, **kw)
    return TOKEN_LOSSES[cfg.loss](logits, targets, temperature=cfg.temperature, mask=mask, **kw)


def round_prompts(task, n, seed, round_index):
    """The n prompts of round `round_index` (0-based) of a run seeded `seed`: drawn from
    a generator that depends on the seed and the round only, so every method with this
    seed asks about the same prompts in that round."""
    seed, round_index = _check.seed("seed", seed), _check.non_negative_int("round_index", round_index)
    key = hashlib.sha256(f"workbench.llm prompts, seed {seed}, round {round_index}".encode()).digest()
    return task.prompts(n, torch.Generator().manual_seed(int.from_bytes(key[:8], "little") >> 1))


def _collect(pool, api, student, task, cfg, n, n_on, g, prompts=None):
    """Spend n queries on the round's `prompts` (None: n drawn with g): the first
    n - n_on answered by the teacher, the last n_on answered by the student and scored
    by the teacher; add the sequences (and targets) to the pool. g draws the samples."""
    tok, device = student.tokenizer, next(student.parameters()).device
    stop_id = tok.stoi[task.stop] if task.stop else None
    prompts = task.prompts(n, g) if prompts is None else prompts
    starts = [len(task.bos) + len(p) for p in prompts]
    if cfg.method == "black-box":
        texts = [task.bos + p + c for p, c in zip(prompts, api.complete(prompts))]
        pool.add(tok.batch(texts, "the teacher's text")[0].to(device), starts)
        return
    ids = tok.batch([task.bos + p for p in prompts], "prompt")[0].to(device)
    if n > n_on:
        seqs, targets = api.complete(ids[:n - n_on], task.max_new_tokens, cfg.temperature, stop_id, g)
        pool.add(seqs, starts[:n - n_on], targets)
    if n_on:  # the student writes, the teacher scores
        seqs = generate(student, ids[n - n_on:], task.max_new_tokens, cfg.temperature, None, stop_id, g)
        pool.add(seqs, starts[n - n_on:], api.score(seqs, cfg.temperature))


def round_queries(cfg, round_index):
    """(n, n_on): the queries of round `round_index` and, of those, the on-policy ones
    (the student samples, the teacher scores). Rounding follows the running totals, so
    the rounds add up to cfg.queries and the on-policy ones to floor(λ · queries)."""
    before, after = cfg.queries * round_index // cfg.rounds, cfg.queries * (round_index + 1) // cfg.rounds
    return after - before, math.floor(cfg.on_policy * after) - math.floor(cfg.on_policy * before)


def round_steps(cfg, round_index):
    """The optimizer steps of round `round_index`: cfg.steps spread evenly over the rounds."""
    return cfg.steps * (round_index + 1) // cfg.rounds - cfg.steps * round_index // cfg.rounds


def batch_index(pool_size, cfg, g):
    """The pool rows of one batch, drawn with replacement by g. g also samples the
    completions, so these draws decide which sequences later rounds collect (what
    topk_cache.write replays)."""
    return torch.randint(pool_size, (min(cfg.batch_size, pool_size),), generator=g).tolist()


class _Counts:
    """The budget a cache-fed run spends: what the live LogitAPI would have counted."""
    queries, tokens = 0, 0


def steps(student, teacher, task, cfg, stop=None, cache=None):
    """Run one distillation as a generator of Events: "step" after each optimizer step
    (its loss) and "round" after each round (queries and tokens spent so far,
    round_steps: the optimizer steps the round took, loss: their mean, NaN when it took
    none, as a round does when steps < rounds or Stop comes before its first step). Its
    return value is the Result; its `metrics` hold task.evaluate(student), the budget
    spent (teacher_queries, teacher_tokens), seconds, teacher_seconds (of those, the
    time spent collecting answers) and student_tokens (completion tokens trained on).

    cache: a topk_cache.TopKCache or the path of one. Each round then takes its sequences
    and the teacher's top-k from the file instead of asking the teacher (teacher may be
    None; when given it must be the one the cache was written from). Only for method
    "top-k" off-policy (on_policy 0), with the settings the cache was written with; the
    queries and tokens are counted as the live run would spend them."""
    if not isinstance(cfg, LLMConfig):
        raise ValueError(f"cfg must be a workbench.llm.LLMConfig, got {type(cfg).__name__}")
    for name, model in (("student", student), ("teacher", teacher)):
        if model is None and name == "teacher" and cache is not None:
            continue
        if not isinstance(model, torch.nn.Module) or not hasattr(model, "tokenizer"):
            raise ValueError(f"{name} must be a language model of workbench.llm (gpt.build, wb.llm.teacher, "
                             f"wb.llm.student or hf.wrap), got {type(model).__name__}")
    if teacher is not None and student.tokenizer.chars != teacher.tokenizer.chars and cfg.method != "black-box":
        raise ValueError("white-box distillation needs the student to share the teacher's tokenizer "
                         f"(teacher: {teacher.tokenizer.chars!r}, student: {student.tokenizer.chars!r}); "
                         "black-box distillation works across tokenizers")
    if cfg.method == "top-k":
        check_k(cfg.k, student.cfg.vocab_size)
    g = torch.Generator().manual_seed(cfg.seed)
    if cache is not None:
        cache = _cache(cache, teacher, student, cfg)
        api = _Counts()
    elif cfg.method == "black-box":
        api = TextAPI(teacher, cfg.temperature, None, task.max_new_tokens, task.stop, seed=cfg.seed)
    else:
        api = LogitAPI(teacher, cfg.k if cfg.method == "top-k" else None)
    pool = Pool()
    opt = torch.optim.AdamW(student.parameters(), lr=cfg.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / cfg.steps)
    result, step, t0, gen_seconds, trained_tokens = Result(student), 0, time.perf_counter(), 0.0, 0
    for r in range(cfg.rounds):
        if stop is not None and stop.is_set():  # no queries are spent after Stop
            result.stopped = True
            break
        n, n_on = round_queries(cfg, r)  # n_on never more than n
        t_gen = time.perf_counter()
        if cache is not None:
            _from_cache(pool, api, cache, student, task, r, round_prompts(task, n, cfg.seed, r))
            g.set_state(cache.generator_state(r))  # as if it had sampled them: the live run's batches follow
        else:
            _collect(pool, api, student, task, cfg, n, n_on, g, round_prompts(task, n, cfg.seed, r))
        gen_seconds += time.perf_counter() - t_gen

        losses = []
        student.train()
        for _ in range(round_steps(cfg, r)):
            if stop is not None and stop.is_set():
                result.stopped = True
                break
            index = batch_index(len(pool), cfg, g)
            ids_b, mask, targets_b = pool.batch(index)
            loss = _loss(student, ids_b, mask, targets_b, cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            losses.append(loss.item())
            trained_tokens += int(mask.sum())
            yield Event("step", r + 1, step, {"loss": losses[-1]})
        row = {"round": r + 1, "step": step, "queries": api.queries, "tokens": api.tokens,
               "round_steps": len(losses),  # no step, no loss: NaN, never a perfect-looking 0.0
               "loss": sum(losses) / len(losses) if losses else math.nan}
        result.history.append(row)
        yield Event("round", r + 1, step, row)
        if result.stopped:
            break
    student.eval()
    seconds = time.perf_counter() - t0
    result.metrics = {**task.evaluate(student), "teacher_queries": api.queries, "teacher_tokens": api.tokens,
                      "steps": step, "seconds": seconds, "teacher_seconds": gen_seconds,
                      "student_tokens": trained_tokens}
    return result


def _cache(cache, teacher, student, cfg):
    """The TopKCache to distil from (loaded when a path), checked against the run."""
    from . import topk_cache  # topk_cache builds on this module
    if cfg.method != "top-k" or cfg.on_policy != 0:
        raise ValueError(f"cache needs method 'top-k' with on_policy 0: a cache holds the teacher's top-k on the "
                         f"teacher's own text, and cannot score sequences the student samples during the run; got "
                         f"method={cfg.method!r}, on_policy={cfg.on_policy}")
    if not isinstance(cache, topk_cache.TopKCache):
        cache = topk_cache.load(cache)
    cache.check(teacher=teacher, tokenizer=student.tokenizer, cfg=cfg)
    return cache


def _from_cache(pool, counts, cache, student, task, r, prompts):
    """Round r of a cache-fed run: its sequences and top-k into the pool, counted as the
    live queries (one per sequence) and tokens (the characters the teacher read and wrote)."""
    device = next(student.parameters()).device
    seqs, starts, targets = cache.round(r, device)
    cached = [student.tokenizer.decode(row[:start]) for row, start in zip(seqs, starts)]
    if cached != [task.bos + p for p in prompts]:
        raise ValueError(f"cache holds other prompts than this task asks in round {r + 1} (it was written for "
                         f"{cache.header['task']!r}, got {type(task).__name__}): write the cache for this task")
    pool.add(seqs, starts, targets)
    counts.queries += len(seqs)
    counts.tokens += int((seqs != PAD).sum())


def run(student, teacher, task, cfg, callbacks=(), stop=None, cache=None):
    """Run `steps(...)` to the end, passing each round's Event to the callbacks; return
    the Result (the student trained in place, history, metrics, stopped)."""
    return drive(steps(student, teacher, task, cfg, stop=stop, cache=cache), callbacks)
