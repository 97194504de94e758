"""Setting "lm": tiny language models of the facts language (workbench.llm), each
generation trained on sentences sampled from the previous one (Shumailov et al. 2024's
language-model experiment, in miniature).

Real data are sentences of the facts language, whose truth is known exactly: subjects
follow a Zipf law and every fact has its own answer distribution. Each generation is a
fresh copy of the "facts-base" student (it knows the grammar and the answer words, none
of the facts) trained for `steps` batches on its training sentences; it then writes the
next generation's sentences from scratch, sampled at the chain's temperature. Rare
subjects are seen a few times at best; once a generation forgets one, the next never
reads about it."""
import copy
import math

import torch

from .. import _check
from ..device import pick_device
from ..llm import evaluate, experiments, facts, pretrained
from ..llm.gpt import generate, token_logprobs
from ..llm.tokenizer import PAD


class LM:
    samples, generations = 1000, 5
    about = "tiny GPTs of the facts language, each trained on sentences written by the previous one"
    kl = "KL(truth ‖ model) over each fact's answers, nats"  # what kl_to_truth measures here (see measure)

    def __init__(self, seed=0, steps=200, batch_size=64, lr=3e-3, device=None, heldout=500, probe=400):
        steps, batch_size = _check.positive_int("steps", steps), _check.positive_int("batch_size", batch_size)
        heldout, probe, lr = _check.positive_int("heldout", heldout), _check.positive_int("probe", probe), \
            _check.positive("lr", lr)
        self.seed, self.steps, self.batch_size, self.lr, self.probe = seed, steps, batch_size, lr, probe
        self.device = torch.device(device) if device is not None else pick_device()
        self.language = pretrained.language()
        self.tokenizer = self.language.tokenizer
        self.base = experiments._get("facts-base", self.device)
        g = torch.Generator().manual_seed(12345)  # the same held-out sentences for every run
        self.heldout = self._ids(self.language.sample_sentences(heldout, g))
        self.subjects = self._ids([s + " " for s in self.language.subjects])  # a name ends at its space
        half = len(self.language.subjects) // 2
        self.rare = torch.arange(len(self.language.subjects)) >= half
        self.known = {s + ".": True for s in self._all_sentences()}

    @staticmethod
    def limits(generations, samples, temperature):
        """Any number of sentences (batches are drawn with replacement); the temperature
        is one workbench.llm.gpt.generate samples at (chain.check refuses the rest)."""

    @staticmethod
    def truth(**options):
        lang = pretrained.language()
        probs = list(lang.subject_probs)
        return {"subject_probs": probs, "tail_mass": sum(probs[len(probs) // 2:]), "kl_to_truth": 0.0, "fact_accuracy": 1.0,
                "rare_coverage": 1.0, "invented": 0.0,
                "perplexity": math.exp(lang.entropy_per_token())}

    def _ids(self, sentences):
        return self.tokenizer.batch([facts.BOS + s for s in sentences])[0].to(self.device)

    def _all_sentences(self):
        lang = self.language
        return [lang.prompt(f.subject, f.relation) + " " + a for f in lang.facts for a in f.answers]

    def real(self, n, generator):
        return self.language.sample_sentences(n, generator)

    def fit(self, data, generator):
        """A fresh copy of "facts-base", trained with AdamW on the next-character loss
        over `steps` random batches of the sentences; yields the fraction done."""
        model = copy.deepcopy(self.base).requires_grad_(True).train()
        ids = self._ids(data)
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=0.01)
        warm = max(self.steps // 20, 1)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda i: min((i + 1) / warm, (self.steps - i) / (self.steps - warm + 1)))
        for i in range(self.steps):
            rows = ids[torch.randint(len(ids), (self.batch_size,), generator=generator).to(self.device)]
            loss = pretrained.lm_loss(model, rows[:, :int((rows != PAD).sum(1).max())])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            yield (i + 1) / self.steps
        return model.eval().requires_grad_(False)

    def produce(self, model, n, temperature, generator):
        """n sentences written from scratch (from BOS to the full stop) at `temperature`."""
        out = []
        for i in range(0, n, 512):
            bos = self.tokenizer.batch([facts.BOS] * min(512, n - i))[0].to(self.device)
            ids = generate(model, bos, model.cfg.context - 1, temperature=temperature,
                           stop=self.tokenizer.stoi[facts.STOP], generator=generator)
            out += [self.tokenizer.decode([t for t in row.tolist() if t != PAD]).lstrip(facts.BOS) for row in ids]
        return out

    @torch.no_grad()
    def measure(self, model):
        """perplexity: per character on held-out real sentences; kl_to_truth: the forward
        KL(truth ‖ model) of each fact's answer, Σ_a p(a) log(p(a) / q(a)) over the fact's
        true answers a (the truth's support, so the sum is the whole KL), q(a) the model's
        probability of " a." after the fact's prompt, averaged over the facts, nats (as
        workbench.llm.evaluate.facts_metrics); fact_accuracy, rare_coverage: exact, as there;
        tail_mass: the model's probability that a sentence starts with a subject of the
        rarer half (0.15 for the truth); subject_probs: that probability per subject;
        distinct_ngrams: distinct word pairs in `probe` sentences it writes at
        temperature 1; invented: the share of those that are not sentences of the language."""
        lp = token_logprobs(model, self.subjects).sum(1).exp().cpu()
        written = self.produce(model, self.probe, 1.0, torch.Generator().manual_seed(self.seed))
        pairs = {p for s in written for p in zip(s.split(), s.split()[1:])}
        return {**evaluate.facts_metrics(model, self.language),
                "perplexity": evaluate.perplexity(model, self.heldout, 1),
                "tail_mass": lp[self.rare].sum().item(),
                "distinct_ngrams": len(pairs),
                "invented": sum(s not in self.known for s in written) / len(written),
                "subject_probs": lp.tolist()}

    @staticmethod
    def concat(parts):
        return [s for p in parts for s in p]
