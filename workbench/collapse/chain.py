"""The generational chain: generation 0 learns from real data, generation k from what
generation k − 1 produces, under one of three data policies:

    "replace"     only the previous generation's output: the setting of Shumailov et al.
                  2024 ("AI models collapse when trained on recursively generated data")
    "mix"         the previous generation's output plus a share `real_share` of fresh
                  real data: Alemohammad et al. 2023's "fresh data loop" ("Self-Consuming
                  Generative Models Go MAD"); Bertrand et al. 2023 ("On the Stability of
                  Iterative Retraining of Generative Models on their own Data") mix a share
                  of the original real data into every retraining
    "accumulate"  all the real data and every earlier generation's output, kept and reused
                  (Gerstgrasser et al. 2024, "Is Model Collapse Inevitable? Breaking the
                  Curse of Recursion by Accumulating Real and Synthetic Data")

Every generation's training set holds `samples` new items, of which real_share · samples
(rounded, at least one when the share is above 0) are fresh real data under any policy (so
"replace" with real_share > 0 is "mix").
Under "accumulate" the new items join everything before them. A setting (gaussian.py,
zipf.py, lm.py, digits.py) supplies the truth, real samples, the fit, the sampling at a
temperature and the measurements. `across_chains` summarises many seeds' chains."""
import inspect
import statistics

import torch
from tqdm.auto import tqdm

from .. import _check
from ..train import Event
from .digits import Digits
from .gaussian import Gaussian
from .lm import LM
from .zipf import Zipf

SETTINGS = {"gaussian": Gaussian, "zipf": Zipf, "lm": LM, "digits": Digits}
# What each setting's "kl_to_truth" is: a KL of a different direction and support in each,
# one name per setting, used on the lab's axes, tables and text (defined in each measure):
#   gaussian  KL(truth ‖ fitted Gaussian), over the real line, closed form
#   zipf      KL(model ‖ truth), over the vocabulary (the forward KL is infinite once a token vanishes)
#   digits    KL(one-hot true label ‖ model's softmax), per test image, class-weighted mean
#   lm        KL(truth ‖ model) over each fact's answers, mean over the facts
KL_TO_TRUTH = {name: cls.kl for name, cls in SETTINGS.items()}
POLICIES = ("replace", "mix", "accumulate")


# The smallest sampling temperature any setting takes: float32's smallest normal number, as
# workbench.llm.gpt samples ("lm"); below it T itself rounds towards 0 in float32.
MIN_TEMPERATURE = torch.finfo(torch.float32).tiny


def check(setting, generations, samples, real_share, policy, temperature, seed):
    """ValueError naming the first bad argument (with the allowed values), raised before
    anything trains; returns the arguments as plain Python numbers (NumPy numbers of any
    type are accepted). Each setting adds what its fit and sampling need (for example the
    Gaussian's at least two samples, see its `limits`)."""
    _check.one_of("setting", setting, SETTINGS)
    generations = _check.positive_int("generations", generations)
    samples = _check.positive_int("samples", samples)
    real_share = _check.unit_interval("real_share", real_share)
    _check.one_of("policy", policy, POLICIES)
    if policy == "mix" and real_share == 0:
        raise ValueError("real_share must be > 0 with policy 'mix' (the share of fresh real data each generation), "
                         "got 0")
    t = _check.positive("temperature", temperature)
    if t < MIN_TEMPERATURE:
        raise ValueError(f"temperature must be a finite number from {MIN_TEMPERATURE:.3g} (float32's smallest normal "
                         f"number; sampling below it is not finite) up, got {temperature!r}")
    seed = _check.seed("seed", seed)
    SETTINGS[setting].limits(generations, samples, t)
    return {"generations": generations, "samples": samples, "real_share": real_share, "temperature": t, "seed": seed}


def real_count(real_share, samples):
    """How many of a generation's `samples` are fresh real data: the share rounded half
    up, and at least one whenever the share is above 0."""
    return min(samples, max(int(real_share * samples + 0.5), 1 if real_share > 0 else 0))


def truth(setting, **options):
    """The truth the chain starts from, in the keys of the setting's generation dicts
    (for plotting it beside them): "mean" and "variance" for the Gaussian, "probs" for
    Zipf, "subject_probs" for lm, "class_probs" for digits, and its tail_mass."""
    _check.one_of("setting", setting, SETTINGS)
    return SETTINGS[setting].truth(**options)


def steps(setting, generations=None, samples=None, real_share=0.0, policy="replace", temperature=1.0, seed=0,
          stop=None, **options):
    """Run the chain as a generator of Events, like wb.steps: kind "step" while a
    generation trains (metrics {"fraction": of the whole run}) and kind "generation"
    when one is measured (metrics: that generation's dict). Its return value is the
    list of generation dicts. `generations` and `samples` default to the setting's;
    `options` go to the setting (for example labels="soft" for "digits")."""
    cls = SETTINGS.get(setting) if isinstance(setting, str) else None
    generations = cls.generations if generations is None and cls else generations
    samples = cls.samples if samples is None and cls else samples
    checked = check(setting, generations, samples, real_share, policy, temperature, seed)
    generations, samples, real_share, temperature, seed = (checked[k] for k in (
        "generations", "samples", "real_share", "temperature", "seed"))
    allowed = [p for p in inspect.signature(cls).parameters if p != "seed"]
    for name in options:
        if name not in allowed:
            raise ValueError(f"options of setting {setting!r} are {allowed}, got {name!r}")
    world = cls(seed=seed, **options)
    g = torch.Generator().manual_seed(seed)
    data = world.real(samples, g)
    pool, history, step = [data], [], 0
    for k in range(generations):
        fit = world.fit(data, g)
        try:
            while True:
                if stop is not None and stop.is_set():
                    fit.close()
                    return history
                done = next(fit)
                step += 1
                yield Event("step", k, step, {"fraction": (k + done) / generations})
        except StopIteration as end:
            model = end.value
        row = {"generation": k, **world.measure(model)}
        history.append(row)
        yield Event("step", k, step, {"fraction": (k + 1) / generations})  # also for the fits that never yield
        yield Event("generation", k, step, row)
        if k == generations - 1 or (stop is not None and stop.is_set()):
            break
        n_real = real_count(real_share, samples)
        parts = ([world.real(n_real, g)] if n_real else []) + \
                ([world.produce(model, samples - n_real, temperature, g)] if n_real < samples else [])
        if policy == "accumulate":
            pool += parts
            parts = pool
        data = world.concat(parts)
    return history


def run(setting, generations=None, samples=None, real_share=0.0, policy="replace", temperature=1.0, seed=0,
        stop=None, callbacks=(), progress=False, **options):
    """Run the chain to the end; return one dict per generation (generation 0 first),
    each with at least "generation", "kl_to_truth" and "tail_mass" ("variance" for the
    Gaussian, "vanished" for Zipf). kl_to_truth is the KL that KL_TO_TRUTH[setting] names:
    its direction and support differ between settings (see each setting's measure). `callbacks` receive every "generation" Event;
    progress=True shows a progress bar (worth it for "lm", about 4 s a generation)."""
    events = steps(setting, generations, samples, real_share, policy, temperature, seed, stop, **options)
    with tqdm(total=1.0, desc=f"{setting}, {policy}", disable=not progress,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}") as bar:
        while True:
            try:
                event = next(events)
            except StopIteration as end:
                return end.value
            if event.kind == "generation":
                for cb in callbacks:
                    cb(event)
            else:
                bar.update(event.metrics["fraction"] - bar.n)


def across_chains(chains, metric):
    """The mean and the median of `metric` over many chains, generation by generation.
    chains: lists of generation dicts (as `run` returns, one list per seed, all the same
    length). Returns one dict per generation: "generation", "mean", "median", "chains".
    With a long right tail across chains (the Gaussian's variance) the two part ways:
    the mean follows the expectation, the median the typical chain."""
    chains = list(chains)
    if not chains:
        raise ValueError("chains must hold at least one chain (a list of generation dicts), got none")
    lengths = {len(c) for c in chains}
    if len(lengths) != 1:
        raise ValueError(f"chains must all have the same number of generations, got lengths {sorted(lengths)}")
    if metric not in chains[0][0]:
        raise ValueError(f"metric must be one of {sorted(chains[0][0])}, got {metric!r}")
    rows = []
    for g in range(lengths.pop()):
        values = [c[g][metric] for c in chains]
        rows.append({"generation": chains[0][g]["generation"], "mean": statistics.fmean(values),
                     "median": statistics.median(values), "chains": len(values)})
    return rows
