"""A synthetic language whose truth is known: "facts".

Every sentence is "<subject> <relation> <answer>." Subjects follow a Zipf law (a few
frequent, many rare: p(rank r) ∝ r^-s); each (subject, relation) pair, a fact, has its
own distribution over the relation's answers, of one of three kinds:

    "one"   a single answer (probability 1)
    "two"   two likely answers, 60 / 40 (does a student keep the second one?)
    "tail"  a main answer and rarer ones, 75 / 20 / 5

Because the distribution behind every answer is known exactly, KL to the truth, accuracy
on the facts and coverage of rare subjects and of second answers are computed exactly,
not estimated from samples."""
import math
from dataclasses import dataclass

import torch

from .. import _check
from .tokenizer import CharTokenizer

RELATIONS = {
    "lives in": ("paris", "oslo", "lima", "cairo", "delhi", "tokyo", "rome", "quito", "kyiv", "bern"),
    "likes": ("tea", "rice", "figs", "soup", "bread", "plums", "milk", "nuts", "eggs", "jam"),
}
KINDS = {"one": (1.0,), "two": (0.6, 0.4), "tail": (0.75, 0.2, 0.05)}
KIND_SHARES = {"one": 0.4, "two": 0.4, "tail": 0.2}
BOS = "\n"  # every sequence starts with a newline, so its first character is predicted too
STOP = "."
_CONSONANTS, _VOWELS = "bdfgklmnprstvz", "aeiou"


@dataclass(frozen=True)
class Fact:
    subject: str
    relation: str
    answers: tuple  # most likely first
    probs: tuple
    kind: str
    rank: int  # the subject's frequency rank, 0 = most frequent


@dataclass(frozen=True)
class Facts:
    """The language: subjects by frequency rank, their probabilities, and every fact."""
    subjects: tuple
    subject_probs: tuple
    facts: tuple
    zipf: float
    seed: int

    @property
    def relations(self):
        return tuple(RELATIONS)

    @property
    def tokenizer(self):
        return CharTokenizer(BOS + STOP + " " + "".join(self.subjects) + "".join(RELATIONS)
                             + "".join(a for answers in RELATIONS.values() for a in answers))

    def fact(self, subject, relation):
        if (subject, relation) not in self._index():
            _check.one_of("relation", relation, RELATIONS)
            raise ValueError(f"subject must be one of the language's {len(self.subjects)} subjects "
                             f"({', '.join(self.subjects[:5])}, ...), got {subject!r}")
        return self._index()[(subject, relation)]

    def _index(self):
        if "_by_key" not in self.__dict__:
            object.__setattr__(self, "_by_key", {(f.subject, f.relation): f for f in self.facts})
        return self.__dict__["_by_key"]

    def rare(self, fact):
        """A rare subject: in the less frequent half of the ranks."""
        return fact.rank >= len(self.subjects) // 2

    @staticmethod
    def prompt(subject, relation):
        return f"{subject} {relation}"

    @staticmethod
    def completion(answer):
        return f" {answer}{STOP}"

    def sample_facts(self, n, generator):
        """n facts drawn as the language draws them: a subject by its Zipf probability,
        then a relation uniformly."""
        s = torch.multinomial(torch.tensor(self.subject_probs), n, replacement=True, generator=generator)
        r = torch.randint(len(RELATIONS), (n,), generator=generator)
        rel = self.relations
        return [self.fact(self.subjects[i], rel[j]) for i, j in zip(s.tolist(), r.tolist())]

    def sample_pairs(self, n, generator):
        """n (prompt, completion) pairs: sentences of the language, cut where the answer starts."""
        out = []
        for f in self.sample_facts(n, generator):
            a = torch.multinomial(torch.tensor(f.probs), 1, generator=generator).item()
            out.append((self.prompt(f.subject, f.relation), self.completion(f.answers[a])))
        return out

    def sample_sentences(self, n, generator):
        """n sentences of the language (without the leading BOS)."""
        return [p + c for p, c in self.sample_pairs(n, generator)]

    def answer_entropy_per_token(self):
        """The exact entropy in nats per character of the answers (" answer." given its
        prompt), sentences weighted as the language draws them: exp() of it is the
        lowest answer perplexity any model can reach (what FactsTask measures)."""
        h = length = 0.0
        for f in self.facts:
            w = self.subject_probs[f.rank] / len(RELATIONS)
            h += w * -sum(p * math.log(p) for p in f.probs)
            length += w * sum(p * len(self.completion(a)) for a, p in zip(f.answers, f.probs))
        return h / length

    def entropy_per_token(self):
        """The language's exact entropy in nats per predicted character (BOS excluded):
        H(subject) + H(relation) + E[H(answer)], over the mean sentence length. exp() of
        it is the lowest perplexity any model can reach."""
        ps = torch.tensor(self.subject_probs, dtype=torch.float64)
        h = -(ps * ps.log()).sum().item() + math.log(len(RELATIONS))
        length = 0.0
        for f in self.facts:
            w = self.subject_probs[f.rank] / len(RELATIONS)
            h += w * -sum(p * math.log(p) for p in f.probs)
            length += w * sum(p * len(self.prompt(f.subject, f.relation) + self.completion(a))
                              for a, p in zip(f.answers, f.probs))
        return h / length


def _names(n, generator):
    """n distinct pronounceable names of two or three consonant-vowel syllables."""
    names, seen = [], set()
    while len(names) < n:
        k = 2 + int(torch.rand((), generator=generator) < 0.3)
        idx = torch.randint(0, 70, (k,), generator=generator).tolist()
        name = "".join(_CONSONANTS[i % 14] + _VOWELS[i // 14] for i in idx)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def make(subjects=48, zipf=1.0, seed=0):
    """The facts language: `subjects` names with Zipf exponent `zipf`, each fact's kind
    and answers drawn with `seed`. The same arguments always give the same language."""
    subjects = _check.positive_int("subjects", subjects)
    if subjects < 4:
        raise ValueError(f"subjects must be at least 4 (a frequent half and a rare half), got {subjects}")
    zipf, seed = _check.positive("zipf", zipf), _check.seed("seed", seed)
    g = torch.Generator().manual_seed(seed)
    names = _names(subjects, g)
    w = torch.arange(1, subjects + 1, dtype=torch.float64) ** -zipf
    probs = tuple((w / w.sum()).tolist())
    kinds, shares = list(KIND_SHARES), torch.tensor(list(KIND_SHARES.values()))
    facts = []
    for rank, name in enumerate(names):
        for relation, answers in RELATIONS.items():
            kind = kinds[torch.multinomial(shares, 1, generator=g).item()]
            p = KINDS[kind]
            pick = torch.randperm(len(answers), generator=g)[:len(p)].tolist()
            facts.append(Fact(name, relation, tuple(answers[i] for i in pick), p, kind, rank))
    return Facts(tuple(names), probs, tuple(facts), zipf, seed)
