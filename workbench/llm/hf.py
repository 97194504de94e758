"""Hugging Face causal language models as teachers or students.

With `transformers` installed (`pip install 'kd-workbench[llm]'`), `wrap(model, tokenizer)`
puts a causal LM of any `transformers` architecture (GPT-2, Llama, ...) behind the
interface the rest of workbench.llm uses: forward(ids) -> logits (B, T, V), `.cfg.context`
and `.cfg.vocab_size`, `.tokenizer` and `.bos`. So the same TextAPI, LogitAPI,
distillation loop and evaluation work on it. Its ids are the workbench tokenizer's: build
or train it on that vocabulary (a pretrained checkpoint's own subword ids mean nothing to
a character tokenizer). White-box distillation needs teacher and student to share one
tokenizer; black-box does not."""
from dataclasses import dataclass

from torch import nn

from .. import _check


@dataclass(frozen=True)
class Shape:
    vocab_size: int
    context: int


class CausalLM(nn.Module):
    """A Hugging Face causal LM whose ids are those of a workbench tokenizer. Logits
    beyond the tokenizer's ids are dropped, so the distribution is over its vocabulary."""

    def __init__(self, model, tokenizer, bos=""):
        super().__init__()
        if not isinstance(model, nn.Module) or not hasattr(model, "get_input_embeddings"):
            raise ValueError(f"model must be a transformers causal LM (e.g. GPT2LMHeadModel), got {type(model).__name__}")
        vocab = model.get_input_embeddings().num_embeddings
        if vocab < tokenizer.vocab_size:
            raise ValueError(f"the model's vocabulary ({vocab} ids) must cover the tokenizer's {tokenizer.vocab_size} "
                             f"ids: build it with vocab_size >= {tokenizer.vocab_size}")
        context = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions")
        self.model, self.tokenizer, self.bos = model, tokenizer, bos
        self.cfg = Shape(tokenizer.vocab_size, int(context))

    def forward(self, ids):
        if ids.shape[-1] > self.cfg.context:
            raise ValueError(f"a sequence may be at most the model's context of {self.cfg.context} tokens, "
                             f"got {ids.shape[-1]}: use a shorter prompt or fewer new tokens")
        return self.model(input_ids=ids).logits[..., :self.cfg.vocab_size]


def wrap(model, tokenizer, bos=""):
    """A `transformers` causal LM whose embedding covers `tokenizer`'s ids, as a workbench
    teacher or student."""
    return CausalLM(model, tokenizer, bos)


def tiny_gpt2(tokenizer, context=32, layers=1, width=32, heads=2, bos="\n", seed=0):
    """A randomly initialised GPT-2 of `transformers` with the given size: no download."""
    try:
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError as e:
        raise ImportError("Hugging Face models need transformers: pip install 'kd-workbench[llm]'") from e
    context, layers, width, heads = (_check.positive_int(name, value) for name, value in (
        ("context", context), ("layers", layers), ("width", width), ("heads", heads)))
    torch.manual_seed(_check.seed("seed", seed))
    config = GPT2Config(vocab_size=tokenizer.vocab_size, n_positions=context, n_embd=width, n_layer=layers,
                        n_head=heads, bos_token_id=None, eos_token_id=None)
    return wrap(GPT2LMHeadModel(config), tokenizer, bos)
