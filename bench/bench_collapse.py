"""make bench, part 4: model collapse.

1. generations per second of the instant settings ("gaussian", "zipf") with 10,000
   samples per generation, under replace and under accumulate (whose training set grows
   every generation), median of 3 runs of 50 generations;
2. seconds per generation of the "digits" and "lm" settings at their defaults, and where
   a generation's time goes: training (fit), writing the next generation's data
   (produce) and measuring (measure)."""
import statistics
import time

import torch

import workbench as wb
from workbench.collapse import SETTINGS

REPEATS = 3


def generations_per_second(setting, policy, generations=50, samples=10_000):
    times = []
    for seed in range(REPEATS):
        t0 = time.perf_counter()
        wb.collapse.run(setting, generations=generations, samples=samples, policy=policy, seed=seed)
        times.append(time.perf_counter() - t0)
    return generations / statistics.median(times)


def seconds_per_phase(setting, generations):
    """Median seconds per generation of fit, produce and measure, timed phase by phase."""
    cls = SETTINGS[setting]
    world, g = cls(seed=0), torch.Generator().manual_seed(0)
    data = world.real(cls.samples, g)
    phases = {"fit": [], "produce": [], "measure": []}
    for _ in range(generations):
        t0 = time.perf_counter()
        fit = world.fit(data, g)
        try:
            while True:
                next(fit)
        except StopIteration as end:
            model = end.value
        t1 = time.perf_counter()
        world.measure(model)
        t2 = time.perf_counter()
        data = world.produce(model, cls.samples, 1.0, g)
        t3 = time.perf_counter()
        phases["fit"].append(t1 - t0)
        phases["measure"].append(t2 - t1)
        phases["produce"].append(t3 - t2)
    return {k: statistics.median(v) for k, v in phases.items()}


def main():
    torch.set_num_threads(2)
    print(f"model collapse on {wb.pick_device()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for setting in ("gaussian", "zipf"):
        rates = {p: generations_per_second(setting, p) for p in ("replace", "accumulate")}
        print(f"{setting:9s} 10,000 samples per generation: {rates['replace']:,.0f} generations/s replace, "
              f"{rates['accumulate']:,.0f} accumulate (accumulate/replace time per generation "
              f"{rates['replace'] / rates['accumulate']:.2f}x over 50 generations)")
    for setting, generations in (("digits", 4), ("lm", 3)):
        cls = SETTINGS[setting]
        p = seconds_per_phase(setting, generations)
        total = sum(p.values())
        print(f"{setting:9s} {cls.samples} samples per generation: {total:.2f} s per generation "
              f"(fit {p['fit']:.2f} s, produce {p['produce']:.2f} s, measure {p['measure']:.2f} s; "
              f"a default run of {cls.generations} generations x 3 chains ≈ {3 * cls.generations * total:.0f} s)")


if __name__ == "__main__":
    main()
