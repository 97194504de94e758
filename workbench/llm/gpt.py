"""A tiny GPT: a causal transformer over characters (Radford et al. 2018/2019; the
layout of nanoGPT: pre-LayerNorm blocks, learned positions, the output layer tied to the
token embedding)."""
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .. import _check
from .tokenizer import PAD


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    context: int = 32
    layers: int = 2
    width: int = 64
    heads: int = 4

    def __post_init__(self):
        for name in ("vocab_size", "context", "layers", "width", "heads"):
            _check.positive_int(name, getattr(self, name))
        if self.width % self.heads:
            raise ValueError(f"width must be a multiple of heads ({self.heads}), got {self.width}")


# The smallest sampling temperature: float32's smallest normal number (about 1.18e-38). Logits are
# shifted so the largest is 0 before they are divided by T, so every T from here up samples finitely
# (below it T itself rounds towards 0 in float32, and at 1e-300 the division gives 0/0).
MIN_TEMPERATURE = torch.finfo(torch.float32).tiny


def check_temperature(value, name="temperature"):
    """A sampling temperature: 0 (greedy) or a finite number >= MIN_TEMPERATURE, of any real
    type (NumPy scalars included, bools not); returns it as a Python float."""
    x = _check._real(value)  # None unless a finite real number of any type (0-d tensors too)
    if x is None or not (x == 0 or MIN_TEMPERATURE <= x):
        raise ValueError(f"{name} must be 0 (greedy) or a finite number from {MIN_TEMPERATURE:.3g} (float32's "
                         f"smallest normal number; sampling below it is not finite) up, got {value!r}")
    return x


def check_ids(ids, vocab_size, name="ids"):
    """ids must be a (batch, length) tensor of integer token ids in [0, vocab_size): a
    ValueError naming what is wrong, instead of torch's index errors inside the model."""
    if (not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.dtype == torch.bool
            or ids.is_floating_point() or ids.is_complex()):
        raise ValueError(f"{name} must be a (batch, length) tensor of integer token ids (tokenizer.batch gives one), "
                         f"got {type(ids).__name__} {getattr(ids, 'dtype', '')} of shape "
                         f"{tuple(getattr(ids, 'shape', ()))}")
    if ids.numel():
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= vocab_size:
            raise ValueError(f"{name} must hold token ids in [0, {vocab_size}) (the model's vocabulary), got "
                             f"{low if low < 0 else high}")
    return ids


class Block(nn.Module):
    """x + attention(LN(x)), then x + MLP(LN(x)); causal self-attention."""

    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg.heads
        self.ln1, self.ln2 = nn.LayerNorm(cfg.width), nn.LayerNorm(cfg.width)
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width)
        self.proj = nn.Linear(cfg.width, cfg.width)
        self.mlp = nn.Sequential(nn.Linear(cfg.width, 4 * cfg.width), nn.GELU(), nn.Linear(4 * cfg.width, cfg.width))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(att.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """forward(ids (B, T)) -> next-token logits (B, T, vocab_size). `tokenizer` is kept
    with the model so that text in and text out need nothing else."""

    def __init__(self, cfg, tokenizer=None):
        super().__init__()
        self.cfg, self.tokenizer = cfg, tokenizer
        self.tok = nn.Embedding(cfg.vocab_size, cfg.width)
        self.pos = nn.Embedding(cfg.context, cfg.width)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln = nn.LayerNorm(cfg.width)
        self.apply(_init)

    def forward(self, ids):
        if ids.shape[-1] > self.cfg.context:
            raise ValueError(f"a sequence may be at most the model's context of {self.cfg.context} tokens, "
                             f"got {ids.shape[-1]}: use a shorter prompt or fewer new tokens")
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[-1], device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.tok.weight.t()


def _init(m):
    if isinstance(m, (nn.Linear, nn.Embedding)):
        nn.init.normal_(m.weight, std=0.02)
    if isinstance(m, nn.Linear) and m.bias is not None:
        nn.init.zeros_(m.bias)


def build(tokenizer, context=32, layers=2, width=64, heads=4):
    """A fresh GPT for `tokenizer`'s vocabulary."""
    return GPT(GPTConfig(tokenizer.vocab_size, context, layers, width, heads), tokenizer)


def config_dict(model):
    return asdict(model.cfg)


@torch.no_grad()
def generate(model, ids, max_new_tokens, temperature=1.0, top_k=None, stop=None, generator=None):
    """Extend right-padded prompts ids (B, T) by up to max_new_tokens tokens each, all
    rows in one batch: each row continues from its own last character (causal attention
    never sees the padding after it). Sampling at `temperature` (0: greedy), `top_k`
    keeps the k most likely tokens; a row ends after the `stop` id. Returns the
    right-padded sequences (B, <= T + max_new_tokens)."""
    max_new_tokens = _check.positive_int("max_new_tokens", max_new_tokens)
    temperature = check_temperature(temperature)
    if top_k is not None:
        top_k = _check.positive_int("top_k", top_k)
    check_ids(ids, model.cfg.vocab_size)
    ids = ids.long()
    model.eval()
    lengths = (ids != PAD).sum(1)
    if (lengths == 0).any():
        raise ValueError("prompt must have at least one character (or the model a BOS text to start from)")
    ids = ids[:, :int(lengths.max())]  # extra padding on the right is not part of any prompt
    longest = int(lengths.max()) + max_new_tokens
    if longest > model.cfg.context:
        raise ValueError(f"prompt plus new tokens must fit the model's context of {model.cfg.context} tokens, "
                         f"got {int(lengths.max())} + {max_new_tokens}: shorten the prompt or ask for fewer tokens")
    buf = torch.full((len(ids), longest), PAD, dtype=torch.long, device=ids.device)
    buf[:, :ids.shape[1]] = ids
    rows = torch.arange(len(ids), device=ids.device)
    done = torch.zeros(len(ids), dtype=torch.bool, device=ids.device)
    for _ in range(max_new_tokens):
        logits = model(buf[:, :int(lengths.max())])[rows, lengths - 1].float()
        logits[:, PAD] = float("-inf")
        if temperature == 0:
            nxt = logits.argmax(-1)
        else:
            # shifted so the largest is 0 before dividing: softmax is unchanged, and no logit / T overflows
            logits = (logits - logits.max(-1, keepdim=True).values) / temperature
            if top_k is not None and top_k < logits.shape[-1]:
                kth = logits.topk(top_k, dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = torch.multinomial(F.softmax(logits, -1).cpu(), 1, generator=generator).squeeze(1).to(ids.device)
        nxt = nxt.masked_fill(done, PAD)
        buf[rows, lengths] = nxt
        lengths = lengths + (~done).long()
        if stop is not None:
            done |= nxt == stop
        if done.all():
            break
    return buf[:, :int(lengths.max())]


def token_logprobs(model, ids):
    """log p(ids[:, i+1] | ids[:, :i+1]) for every position (B, T-1); padding positions 0."""
    logits = model(ids[:, :-1]).float()
    lp = F.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    return lp.masked_fill(ids[:, 1:] == PAD, 0.0)
