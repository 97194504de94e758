"""White-box access to a teacher: its next-token distribution at every position.

With full logits the student can match the teacher token by token (forward KL, reverse
KL, generalized JSD: GKD, Agarwal et al. 2024). With `k` set, each position returns only
the teacher's k most likely tokens and their log-probabilities, as commercial APIs do;
the student then matches the distribution coarsened to those k tokens plus "the rest"."""
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
        vocab = teacher.cfg.vocab_size
        if k is not None:
            k = _check.positive_int("k", k)
            if k >= vocab:
                raise ValueError(f"k must be smaller than the vocabulary ({vocab} tokens) to be a top-k API, got {k}; "
                                 f"use k=None for the full distribution")
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


def top_k_buckets(student_logits, teacher_top, temperature=1.0):
    """Both distributions coarsened to the teacher's k tokens plus one bucket for the
    rest: log-probabilities (..., k + 1) of the student at T and of the teacher, ready
    for the token losses at temperature 1. The KL between these is exact for what a
    top-k API reveals."""
    temperature = _check.temperature("temperature", temperature)
    values, index = teacher_top
    log_ps = F.log_softmax(student_logits / temperature, -1)
    s_top = log_ps.gather(-1, index)
    s_rest = log_ps.scatter(-1, index, float("-inf")).logsumexp(-1, keepdim=True)
    t_rest = torch.log1p(-values.exp().sum(-1, keepdim=True).clamp(max=1 - 1e-6))
    return torch.cat([s_top, s_rest], -1), torch.cat([values, t_rest], -1)
