"""What a student is distilled on: where the prompts come from, how completions end,
and how the result is measured. One task for the facts language (exact metrics against
its truth) and one for real text (held-out perplexity)."""
import torch

from .. import _check
from . import evaluate
from .facts import BOS, STOP


class FactsTask:
    """Prompts are "<subject> <relation>", drawn as the language draws them (frequent
    subjects often, rare ones seldom); the teacher answers " <answer>.". `evaluate` gives
    the exact metrics of evaluate.facts_metrics and the answer perplexity: per character
    of the answers of held-out sentences, given their prompts (the floor is
    exp(language.answer_entropy_per_token()), about 1.05)."""
    bos, stop, max_new_tokens = BOS, STOP, 8

    def __init__(self, language, heldout=400, seed=12345):
        heldout, seed = _check.positive_int("heldout", heldout), _check.seed("seed", seed)
        self.language = language
        g = torch.Generator().manual_seed(seed)
        pairs = language.sample_pairs(heldout, g)
        self.heldout = language.tokenizer.batch([BOS + p + c for p, c in pairs])[0]
        self.heldout_start = torch.tensor([len(BOS) + len(p) for p, _ in pairs])  # answers are scored, prompts given

    def prompts(self, n, generator):
        return [self.language.prompt(f.subject, f.relation) for f in self.language.sample_facts(n, generator)]

    def evaluate(self, model):
        return {**evaluate.facts_metrics(model, self.language), "perplexity": evaluate.perplexity(model, self.heldout, self.heldout_start)}


class TextTask:
    """Prompts are windows of the corpus's training text; the teacher writes the next
    `max_new_tokens` characters. Measured by perplexity on held-out windows."""
    bos, stop = "", None

    def __init__(self, corpus, prompt_length=16, max_new_tokens=16, heldout=128, seed=12345):
        for name, value in (("prompt_length", prompt_length), ("max_new_tokens", max_new_tokens),
                            ("heldout", heldout)):
            _check.positive_int(name, value)
        prompt_length, max_new_tokens, heldout = int(prompt_length), int(max_new_tokens), int(heldout)
        seed = _check.seed("seed", seed)
        self.corpus, self.prompt_length, self.max_new_tokens = corpus, prompt_length, max_new_tokens
        g = torch.Generator().manual_seed(seed)
        self.heldout = corpus.windows(heldout, prompt_length + max_new_tokens, g, split="val")

    def prompts(self, n, generator):
        return [self.corpus.decode(w) for w in self.corpus.windows(n, self.prompt_length, generator)]

    def evaluate(self, model):
        return {"perplexity": evaluate.perplexity(model, self.heldout, self.prompt_length)}
