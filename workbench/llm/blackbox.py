"""Black-box access to a teacher: text in, text out, nothing else.

This is what an API user of a proprietary model gets, and what model imitation works
with: the student is fine-tuned on the answers the teacher samples (at temperature 1 by
default; 0 gives greedy answers). Kim & Rush's (2016) sequence-level KD fine-tunes on the
teacher's beam-search output instead, an approximation of its likeliest answer; greedy
answers are the nearest setting here. The wrapper counts the queries and the tokens it
is asked for, and refuses any request for logits or probabilities."""
import torch

from .. import _check
from .gpt import generate


class TextAPI:
    """`api(prompt) -> completion` or `api.complete(prompts) -> completions`.

    The teacher samples each completion at `temperature` (0: greedy; settable) from its
    `top_k` most likely tokens, up to `max_new_tokens` or its `stop` character.
    `queries` counts prompts answered, `tokens` the characters the teacher read and
    wrote."""
    __slots__ = ("_complete", "queries", "tokens", "_temperature")

    def __init__(self, teacher, temperature=1.0, top_k=None, max_new_tokens=16, stop=None, seed=0):
        if not isinstance(teacher, torch.nn.Module) or not hasattr(teacher, "tokenizer"):
            raise ValueError(f"teacher must be a language model of workbench.llm, got {type(teacher).__name__}")
        _check.positive_int("max_new_tokens", max_new_tokens)
        if top_k is not None:
            _check.positive_int("top_k", top_k)
        tok = teacher.tokenizer
        bos = getattr(teacher, "bos", "")
        stop_id = tok.encode(stop, "stop")[0] if stop else None
        generator = torch.Generator().manual_seed(seed)
        device = next(teacher.parameters()).device
        self.queries, self.tokens = 0, 0
        self.temperature = temperature

        def complete(prompts):
            ids, _ = tok.batch([bos + p for p in prompts], "prompt")
            out = generate(teacher, ids.to(device), max_new_tokens, self.temperature, top_k, stop_id, generator)
            texts = [tok.decode(row[len(bos) + len(p):]) for row, p in zip(out.cpu(), prompts)]
            self.queries += len(prompts)
            self.tokens += sum(len(bos) + len(p) + len(t) for p, t in zip(prompts, texts))
            return texts

        # the model is kept in this closure, not as an attribute: nothing in the public
        # interface hands it out (Python can always be introspected; the wrapper is the contract)
        self._complete = complete

    @property
    def temperature(self):
        return self._temperature

    @temperature.setter
    def temperature(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise ValueError(f"temperature must be a finite number >= 0 (0: greedy), got {value!r}")
        self._temperature = value

    def complete(self, prompts):
        """One completion (a str) per prompt; each prompt is one query."""
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise ValueError(f"prompts must be a list of strings, got {type(prompts).__name__}")
        return self._complete(list(prompts)) if prompts else []

    def __call__(self, prompt):
        if not isinstance(prompt, str):
            raise ValueError(f"prompt must be a string, got {type(prompt).__name__}")
        return self._complete([prompt])[0]

    def _refuse(self, *args, **kwargs):
        raise PermissionError("a black-box teacher returns text only: no logits, probabilities or scores. "
                              "Use workbench.llm.LogitAPI for white-box access.")

    logits = logprobs = probabilities = score = top_k = _refuse

    def __repr__(self):
        return f"TextAPI(queries={self.queries}, tokens={self.tokens})"
