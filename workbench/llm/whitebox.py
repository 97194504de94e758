"""White-box access to a teacher: its next-token distribution at every position.

With full logits the student can match the teacher token by token (forward KL, reverse
KL, generalized JSD: GKD, Agarwal et al. 2024). With `k` set, each position returns only
the teacher's k most likely tokens and their log-probabilities, as commercial APIs do;
what the student matches then depends on how the missing mass, 1 − Σ top-k, is treated
(TAILS: a "rest" bucket, dropped, or spread uniformly; one function each below)."""
import math

import torch
import torch.nn.functional as F

from .. import _check
from .gpt import check_ids, generate


class LogitAPI:
    """Teacher queries that return distributions. Each sequence scored is one query;
    `tokens` counts the characters the teacher read and wrote."""

    def __init__(self, teacher, k=None):
        if not isinstance(teacher, torch.nn.Module) or not hasattr(teacher, "cfg"):
            raise ValueError(f"teacher must be a language model of workbench.llm, got {type(teacher).__name__}")
        if k is not None:
            k = check_k(k, teacher.cfg.vocab_size)
        self.teacher, self.k = teacher, k
        self.device = next(teacher.parameters()).device  # results come back on the caller's device
        self.queries, self.tokens = 0, 0

    @torch.no_grad()
    def score(self, ids, temperature=1.0):
        """The teacher's distribution after every position of right-padded ids (B, L):
        logits (B, L-1, V), or with k a pair (log-probs at T (B, L-1, k), token ids)."""
        temperature = _check.temperature("temperature", temperature)
        _ids(ids, self.teacher.cfg.vocab_size)
        self.queries += len(ids)
        self.tokens += int((ids != 0).sum())
        logits = self.teacher(ids[:, :-1].to(self.device)).float()
        if self.k is None:
            return logits.to(ids.device)
        values, index = F.log_softmax(logits / temperature, -1).topk(self.k, dim=-1)
        return values.to(ids.device), index.to(ids.device)

    def complete(self, ids, max_new_tokens, temperature=1.0, stop=None, generator=None):
        """The teacher samples a completion of each prompt and returns the sequences with
        its distributions along them (one query per prompt)."""
        _ids(ids, self.teacher.cfg.vocab_size)
        seqs = generate(self.teacher, ids.to(self.device), max_new_tokens, temperature, None, stop, generator)
        return seqs.to(ids.device), self.score(seqs, temperature)


def _ids(ids, vocab_size):
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.dim() != 2:
        raise ValueError(f"ids must be a (batch, length) torch.long tensor of token ids (tokenizer.batch gives one), "
                         f"got {type(ids).__name__} {getattr(ids, 'dtype', '')}")
    check_ids(ids, vocab_size)


def check_k(k, vocab_size):
    """k for a top-k API over a vocabulary of vocab_size ids: an integer from 1 to
    vocab_size - 1 (k = vocab_size would be the full distribution), returned as an int."""
    k = _check.positive_int("k", k)
    if k >= vocab_size:
        raise ValueError(f"k must be smaller than the vocabulary ({vocab_size} tokens) to be a top-k API: an integer "
                         f"from 1 to {vocab_size - 1}, got {k}; use k=None (white-box) for the full distribution")
    return k


def top_k_buckets(student_logits, teacher_top, temperature=1.0):
    """Both distributions coarsened to the teacher's k tokens plus one bucket for the
    rest (tail="bucket"):

        teacher (p_1, ..., p_k, 1 − Σ p_i),   student (s_1, ..., s_k, 1 − Σ s_i)

    log-probabilities (..., k + 1) of the student at T and of the teacher, ready for the
    token losses at temperature 1. The KL between these is exact for what a top-k API
    reveals; the teacher's rest is floored at 1e-6 so its log stays finite."""
    temperature = _check.temperature("temperature", temperature)
    values, index = teacher_top
    log_ps = F.log_softmax(student_logits / temperature, -1)
    s_top = log_ps.gather(-1, index)
    s_rest = log_ps.scatter(-1, index, float("-inf")).logsumexp(-1, keepdim=True)
    t_rest = torch.log1p(-values.exp().sum(-1, keepdim=True).clamp(max=1 - 1e-6))
    return torch.cat([s_top, s_rest], -1), torch.cat([values, t_rest], -1)


# A log-probability whose exp is exactly 0 in float64 (exp underflows below about -745) yet
# finite, so the token losses' input checks accept it: "probability 0" for a dropped tail.
LOG_ZERO = -1e4


def drop_tail(student_logits, teacher_top, temperature=1.0):
    """The teacher's k probabilities renormalised to sum to 1, nothing for the other
    tokens:

        q_i = p_i / Σ_{j in top-k} p_j  for the k tokens,   q = 0 for the rest

    returned like top_k_buckets, over the k tokens plus the rest (..., k + 1): the
    student's log-probabilities at T (its rest bucket holds all its other tokens), the
    teacher's with log 0 = LOG_ZERO for the rest. Forward KL is then
    Σ_{i in top-k} q_i (log q_i − log s_i): the student is pushed up on the k tokens only.
    Any loss with KL(s ‖ q) in it (reverse KL, JSD at β = 1) is infinite wherever the
    student gives the rest any mass, so LLMConfig refuses tail="drop" with those."""
    temperature = _check.temperature("temperature", temperature)
    values, index = teacher_top
    log_ps = F.log_softmax(student_logits / temperature, -1)
    s_top = log_ps.gather(-1, index)
    s_rest = log_ps.scatter(-1, index, float("-inf")).logsumexp(-1, keepdim=True)
    t_top = values - values.logsumexp(-1, keepdim=True)
    return torch.cat([s_top, s_rest], -1), torch.cat([t_top, torch.full_like(s_rest, LOG_ZERO)], -1)


def uniform_tail(student_logits, teacher_top, temperature=1.0):
    """The teacher's missing mass spread evenly over the V − k tokens outside its top k:

        q_i = p_i  for the k tokens,   q_v = (1 − Σ_{j in top-k} p_j) / (V − k)  for the rest

    over the whole vocabulary (..., V): the student's log-probabilities at T and log q.
    The padding id counts among the V − k: the teacher's top-k log-probabilities are
    normalised over all V ids, padding included, and so is the student's softmax. The
    missing mass is floored at 1e-6 (as in top_k_buckets), so every q_v > 0 and all three
    token losses are finite."""
    temperature = _check.temperature("temperature", temperature)
    values, index = teacher_top
    log_ps = F.log_softmax(student_logits / temperature, -1)
    vocab, k = log_ps.shape[-1], values.shape[-1]
    missing = torch.log1p(-values.exp().sum(-1, keepdim=True).clamp(max=1 - 1e-6))
    log_q = (missing - math.log(vocab - k)).expand_as(log_ps).scatter(-1, index, values.to(log_ps.dtype))
    return log_ps, log_q


# tail name -> function(student_logits, (values, index), temperature) -> (student, teacher) log-probs
# for the token losses at temperature 1
TAILS = {"bucket": top_k_buckets, "drop": drop_tail, "uniform": uniform_tail}
