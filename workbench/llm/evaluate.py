"""Measuring a language model: exact metrics against the facts language's truth,
held-out perplexity, a unigram baseline, and samples side by side."""
import math

import torch
import torch.nn.functional as F

from .facts import BOS, RELATIONS
from .. import _check
from .gpt import check_ids, generate
from .tokenizer import PAD

SECOND_KEPT = 0.1  # a second answer is kept when the model gives it at least a quarter of its true 0.4


def _device(model):
    return next(model.parameters()).device


@torch.no_grad()
def _log_probs(model, ids, chunk=512):
    """log-softmax of the model's next-token logits for right-padded ids: (B, L-1, V)."""
    model.eval()
    return torch.cat([F.log_softmax(model(c[:, :-1]).float(), -1) for c in ids.split(chunk)])


@torch.no_grad()
def answer_distributions(model, language):
    """What the model says after every fact's prompt:

    first (n_facts, 10): its probability of each of the relation's answers' first
        letters (the answers of a relation all begin with different letters, so this
        ranks the answers the way greedy decoding would choose among them);
    q (n_facts, 3): its exact probability of each true answer, " answer." to the end
        (0 where the fact has fewer answers)."""
    tok = model.tokenizer
    seqs, prompt_len, fact_row = [], [], []
    for f in language.facts:
        prompt = BOS + language.prompt(f.subject, f.relation)
        fact_row.append(len(seqs))
        for a in f.answers:
            seqs.append(prompt + language.completion(a))
            prompt_len.append(len(prompt))
    ids = tok.batch(seqs, "answers")[0].to(_device(model))
    logp = _log_probs(model, ids).cpu()
    ids = ids.cpu()
    lp = logp.gather(-1, ids[:, 1:, None]).squeeze(-1).masked_fill(ids[:, 1:] == PAD, 0.0)
    start = torch.tensor(prompt_len)[:, None]  # lp[:, j] predicts character j + 1; the completion starts at len(prompt)
    seq_q = (lp * (torch.arange(lp.shape[1])[None] >= start - 1)).sum(1).exp()
    rows = torch.tensor(fact_row)
    first_all = logp[rows, start[rows, 0]].exp()  # after the space: the answer's first letter
    first = torch.stack([p[[tok.stoi[a[0]] for a in RELATIONS[f.relation]]]
                         for f, p in zip(language.facts, first_all)])
    q = torch.zeros(len(language.facts), 3)
    for i, (f, r) in enumerate(zip(language.facts, fact_row)):
        q[i, :len(f.answers)] = seq_q[r:r + len(f.answers)]
    return first, q


def facts_metrics(model, language):
    """Exact measurements against the language's truth, each fact counted once:

    kl_to_truth           mean over facts of Σ_a p(a) (log p(a) − log q(a)), nats, where q(a)
                          is the model's probability of the whole answer after the prompt
    fact_accuracy         share of facts whose most likely answer the model ranks first
    rare_coverage         the same, over the facts of the rarer half of the subjects
    second_mode_coverage  share of 60/40 facts where the model gives the 40% answer
                          at least 0.1 (a quarter of its truth): does it keep it?
    one_answer_accuracy   fact_accuracy over the one-answer facts only: no second answer to
                          keep or drop, so a shortfall here is a student that learned less
    second_ranked_first   share of 60/40 facts where the model ranks the 40% answer first
    second_kept_when_right  second_mode_coverage counted only over the 60/40 facts the model
                          got right (60% answer ranked first): whether it keeps the second
                          answer where it did learn the fact (NaN when it got none right)"""
    first, q = answer_distributions(model, language)
    facts = language.facts
    truth = torch.zeros(len(facts), 3)
    for i, f in enumerate(facts):
        truth[i, :len(f.probs)] = torch.tensor(f.probs)
    kl = torch.where(truth > 0, truth * (truth.clamp(min=1e-30).log() - q.clamp(min=1e-30).log()), 0.0).sum(1)
    top = torch.tensor([RELATIONS[f.relation].index(f.answers[0]) for f in facts])
    correct = (first.argmax(1) == top).float()
    second = torch.tensor([RELATIONS[f.relation].index(f.answers[1]) if f.kind == "two" else -1 for f in facts])
    rare = torch.tensor([language.rare(f) for f in facts])
    two = torch.tensor([f.kind == "two" for f in facts])
    one = torch.tensor([f.kind == "one" for f in facts])
    kept = (q[:, 1] >= SECOND_KEPT).float()
    right_two = two & correct.bool()
    return {"kl_to_truth": kl.mean().item(), "fact_accuracy": correct.mean().item(),
            "rare_coverage": correct[rare].mean().item(),
            "second_mode_coverage": kept[two].mean().item(),
            "one_answer_accuracy": correct[one].mean().item(),
            "second_ranked_first": (first.argmax(1) == second).float()[two].mean().item(),
            "second_kept_when_right": kept[right_two].mean().item() if right_two.any() else float("nan")}


def answer_probabilities(model, language, subject, relation):
    """{answer: the model's probability of " answer." after the prompt} for every answer
    of the relation: the student's distribution over one fact's answers."""
    language.fact(subject, relation)  # a ValueError naming an unknown subject or relation
    answers = RELATIONS[relation]
    prompt = BOS + language.prompt(subject, relation)
    ids = model.tokenizer.batch([prompt + language.completion(a) for a in answers], "answers")[0]
    logp = _log_probs(model, ids.to(_device(model))).cpu()
    lp = logp.gather(-1, ids[:, 1:, None]).squeeze(-1).masked_fill(ids[:, 1:] == PAD, 0.0)
    q = lp[:, len(prompt) - 1:].sum(1).exp()
    return dict(zip(answers, q.tolist()))


def _scored(ids, start):
    """(B, L-1) mask of the predictions that count: of characters at positions >= start
    (a row's prompt is given, not scored), never padding."""
    start = torch.as_tensor(start).reshape(-1, 1)
    return (torch.arange(1, ids.shape[1])[None] >= start) & (ids[:, 1:] != PAD)


def perplexity(model, ids, start=1):
    """exp(mean negative log-likelihood per character) of right-padded ids (B, L),
    counting the characters from position `start` on (a number, or one per row)."""
    check_ids(ids, model.cfg.vocab_size)
    logp = _log_probs(model, ids.to(_device(model))).cpu()
    ids = ids.cpu()
    nll = -logp.gather(-1, ids[:, 1:, None]).squeeze(-1)[_scored(ids, start)]
    return math.exp(nll.mean().item())


def unigram_perplexity(train_ids, ids, vocab_size, start=1):
    """The same measure for a unigram model (character frequencies of the training ids,
    add-one smoothed): the baseline any language model must beat."""
    counts = torch.bincount(train_ids[train_ids != PAD].flatten(), minlength=vocab_size).double() + 1
    counts[PAD] = 0
    logp = (counts / counts.sum()).log()
    return math.exp(-logp[ids[:, 1:][_scored(ids, start)]].mean().item())


def samples(models, prompts, temperature=1.0, max_new_tokens=16, stop=None, seed=0):
    """{name: [completion per prompt]} for each model in `models` ({name: model}),
    sampled with the same seed: teacher and student side by side."""
    if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
        raise ValueError(f"prompts must be a list of strings, got {type(prompts).__name__}")
    seed = _check.seed("seed", seed)
    out = {}
    for name, model in models.items():
        tok, bos = model.tokenizer, getattr(model, "bos", "")
        ids = tok.batch([bos + p for p in prompts], "prompt")[0].to(_device(model))
        stop_id = tok.stoi[stop] if stop else None
        seqs = generate(model, ids, max_new_tokens, temperature, None, stop_id,
                        torch.Generator().manual_seed(seed)).cpu()
        out[name] = [tok.decode(s[len(bos) + len(p):]) for s, p in zip(seqs, prompts)]
    return out
