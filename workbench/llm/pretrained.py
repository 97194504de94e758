"""Named, pretrained language models.

    "facts"       the default teacher: a GPT pretrained on sentences of the facts language
    "pydoc"       a teacher of real text: a GPT pretrained on Python's help texts
    "facts-base"  the default student before distillation: a smaller GPT that speaks the
                  facts language (pretrained on its sentences with the answers drawn at
                  random) but knows none of its facts, as a pretrained LLM knows a
                  language but not a teacher's knowledge
    "addition"    the reasoning lab's teacher: a GPT trained on additions of two 3-digit
                  numbers worked out column by column (workbench.llm.addition, verbose form),
                  none of them from the task's held-out sets

All ship with the package (small files, rebuilt by `python -m workbench.llm build`); a
missing or corrupt file is retrained on first use, with a progress bar, and cached."""
import pathlib
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .. import cache
from .._check import one_of
from ..device import pick_device
from . import addition, facts, gpt, text
from .tokenizer import CharTokenizer, PAD

SHIPPED_DIR = pathlib.Path(__file__).parent / "checkpoints"
FORMAT = 1


@dataclass(frozen=True)
class Recipe:
    corpus: str  # "facts", "facts-format" (random answers), "pydoc" or "addition"
    context: int
    layers: int
    width: int
    heads: int
    steps: int
    batch_size: int
    lr: float = 3e-3
    sentences: int = 50_000  # facts, addition: the size of the pretraining corpus (sentences, problems)
    seed: int = 0
    about: str = ""


RECIPES = {
    "facts": Recipe("facts", context=32, layers=3, width=64, heads=4, steps=1500, batch_size=128,
                    sentences=30_000, about="GPT, 3 layers of width 64 (~150k parameters), pretrained on 30,000 "
                                            "sentences of the facts language"),
    "pydoc": Recipe("pydoc", context=64, layers=3, width=96, heads=4, steps=2500, batch_size=64,
                    about="GPT, 3 layers of width 96 (~350k parameters), pretrained on Python's help texts"),
    "facts-base": Recipe("facts-format", context=32, layers=2, width=48, heads=4, steps=300, batch_size=64,
                         sentences=5_000, about="GPT, 2 layers of width 48 (~60k parameters): the facts language's "
                                                "grammar and answer words, none of its facts"),
    "addition": Recipe("addition", context=64, layers=3, width=96, heads=4, steps=3000, batch_size=64,
                       sentences=50_000, about="GPT, 3 layers of width 96 (~340k parameters), trained on 50,000 "
                                               "additions of two 3-digit numbers, worked column by column"),
}
TEACHERS = ("facts", "pydoc")


def available():
    return list(RECIPES)


def teachers():
    return list(TEACHERS)


def language():
    """The facts language the "facts" teacher was pretrained on."""
    return facts.make()


def tokenizer(name):
    corpus = RECIPES[name].corpus
    if corpus == "addition":
        return CharTokenizer(addition.CHARS)
    return CharTokenizer(text.ASCII) if corpus == "pydoc" else language().tokenizer


def lm_loss(model, ids):
    """Next-character cross-entropy over the non-padding positions of ids (B, L)."""
    logits = model(ids[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1), ignore_index=PAD)


def pretrain(model, batches, steps, lr=3e-3, progress=True, desc="pretraining"):
    """Plain language-model training: AdamW, a short warm-up then a linear decay,
    `batches()` giving a new (B, L) batch of ids each call. Returns the loss curve."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(steps // 20, 1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min((i + 1) / warm, (steps - i) / (steps - warm + 1)))
    curve = []
    model.train()
    with tqdm(total=steps, desc=desc, disable=not progress) as bar:
        for i in range(steps):
            loss = lm_loss(model, batches())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            curve.append(loss.item())
            bar.update(1)
            if i % 50 == 0:
                bar.set_postfix(loss=f"{curve[-1]:.3f}")
    model.eval()
    return curve


def _blank(name):
    r = RECIPES[name]
    model = gpt.build(tokenizer(name), r.context, r.layers, r.width, r.heads)
    model.bos = facts.BOS if r.corpus.startswith("facts") else ""
    model.about = r.about
    return model


def _batches(name, device, generator):
    r = RECIPES[name]
    if r.corpus == "addition":
        held_out = addition.held_out(addition.DIGITS)
        sums = addition.problems(r.sentences, seed=r.seed, exclude=held_out)
        ids = tokenizer(name).batch([addition.prompt(a, b) + addition.worked(a, b) for a, b in sums])[0]
        return lambda: ids[torch.randint(len(ids), (r.batch_size,), generator=generator)].to(device)
    if r.corpus != "pydoc":
        lang = language()
        pairs = lang.sample_pairs(r.sentences, generator)
        if r.corpus == "facts-format":  # the right kind of answer, drawn at random: grammar, no facts
            pairs = [(p, lang.completion(_random_answer(lang, p, generator))) for p, _ in pairs]
        ids = lang.tokenizer.batch([facts.BOS + p + c for p, c in pairs])[0]

        def batch():
            rows = ids[torch.randint(len(ids), (r.batch_size,), generator=generator)]
            return rows[:, :int((rows != PAD).sum(1).max())].to(device)
        return batch
    corpus = text.load(tokenizer=tokenizer(name))
    return lambda: corpus.windows(r.batch_size, r.context + 1, generator).to(device)


def _random_answer(lang, prompt, generator):
    answers = facts.RELATIONS[next(r for r in facts.RELATIONS if prompt.endswith(" " + r))]
    return answers[torch.randint(len(answers), (1,), generator=generator).item()]


def fit(name, device=None, progress=True):
    """Pretrain the model `name` from its recipe; return its checkpoint dict."""
    r = RECIPES[name]
    device = torch.device(device) if device is not None else pick_device()
    generator = torch.Generator().manual_seed(r.seed)
    torch.manual_seed(r.seed)
    model = _blank(name).to(device)
    t0 = time.perf_counter()
    curve = pretrain(model, _batches(name, device, generator), r.steps, r.lr, progress, f"pretraining {name}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return {"format": FORMAT, "name": name, "state_dict": state, "final_loss": sum(curve[-50:]) / 50,
            "seconds": time.perf_counter() - t0, "chars": model.tokenizer.chars}


def _validator(name, model):
    expected = {k: v.shape for k, v in model.state_dict().items()}

    def check(ckpt):
        if not isinstance(ckpt, dict) or ckpt.get("name") != name or ckpt.get("format") != FORMAT:
            raise ValueError("not a checkpoint of this model")
        if ckpt.get("chars") != model.tokenizer.chars:
            raise ValueError("its tokenizer is not the recipe's")
        if {k: v.shape for k, v in ckpt["state_dict"].items()} != expected:
            raise ValueError("its weights do not fit the recipe's architecture")
    return check


def get(name="facts", device=None, progress=True):
    """The pretrained model `name` (see `available()`), in eval mode with frozen
    weights, carrying its tokenizer (`.tokenizer`) and the text its sequences start
    with (`.bos`). Shipped checkpoint first, then the cache; pretrained when neither
    is usable (a corrupt file is rebuilt with a warning)."""
    one_of("name", name, RECIPES)
    device = torch.device(device) if device is not None else pick_device()
    model = _blank(name)
    check = _validator(name, model)
    file = f"llm--{name}.pt"
    shipped, cached = SHIPPED_DIR / file, cache.cache_dir("teachers") / file
    ckpt = cache.shipped_or_built(shipped, cached, check, lambda: fit(name, device=device, progress=progress))
    model.load_state_dict(ckpt["state_dict"])
    model.pretrain_seconds = ckpt.get("seconds")
    return model.to(device).eval().requires_grad_(False)


def build_shipped(names=None, progress=True):
    """Pretrain the shipped models on the CPU and write their checkpoints."""
    for name in names or available():
        ckpt = fit(name, device="cpu", progress=progress)
        cache.save(ckpt, SHIPPED_DIR / f"llm--{name}.pt")
        print(f"{name}: final training loss {ckpt['final_loss']:.3f} nats/char, {ckpt['seconds']:.0f} s "
              f"-> {SHIPPED_DIR / f'llm--{name}.pt'}")
