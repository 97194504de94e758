"""make bench, part 3: LLM distillation.

1. student training throughput (completion tokens trained per second of optimizer
   steps) for white-box and black-box distillation, and their ratio;
2. the share of a black-box run spent waiting for the teacher's text (and of a
   white-box run waiting for its text and logits);
3. one whole default experiment, in seconds (target: under 20 s on two CPU cores);
4. pretraining time of the shipped models "facts-base" and "facts" (the default teacher).
Runs are interleaved and the medians reported, so noise hits both sides of a ratio alike."""
import statistics
import time

import torch

import workbench as wb
from workbench.llm import pretrained

REPEATS = 3


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    device = wb.pick_device()
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"default experiment: {wb.llm.LLMConfig.queries} queries, {wb.llm.LLMConfig.steps} steps")
    wb.llm.experiment(queries=40, steps=10)  # warm-up: loads the models, imports what the optimizer needs
    runs = {"white-box": [], "black-box": []}
    for seed in range(REPEATS):
        for method in runs:
            runs[method].append(wb.llm.experiment(method, seed=seed))
    med = statistics.median
    speed = {m: med(r["student_tokens"] / (r["seconds"] - r["teacher_seconds"]) for r in rs) for m, rs in runs.items()}
    waiting = {m: med(r["teacher_seconds"] / r["seconds"] for r in rs) for m, rs in runs.items()}
    whole = {m: med(r["seconds"] for r in rs) for m, rs in runs.items()}
    print(f"\nmedian of {REPEATS} runs each:")
    for m in runs:
        print(f"  {m:9s}: {speed[m]:8.0f} student tokens/s in training, {waiting[m]:5.1%} of the run waiting for "
              f"the teacher, {whole[m]:5.1f} s per experiment")
    ratio = speed["white-box"] / speed["black-box"]
    print(f"{'white-box / black-box training throughput (tokens/s)':62s} {ratio:8.2f}   (a KL over the vocabulary "
          f"against the cached teacher logits, instead of cross-entropy)")
    longest = max(whole.values())
    print(f"{'one default experiment (seconds, slower method)':62s} {longest:8.1f}   target <= 20 "
          f"{'ok' if longest <= 20 else 'MISSED'}")
    print(f"{'black-box time spent generating teacher text':62s} {waiting['black-box']:8.1%}")
    for name in ("facts-base", "facts"):
        t0 = time.perf_counter()
        pretrained.fit(name, device=device, progress=False)
        r = pretrained.RECIPES[name]
        print(f"{'pretraining ' + name + f' ({r.steps} steps of {r.batch_size} sentences), seconds':62s} "
              f"{time.perf_counter() - t0:8.1f}")


if __name__ == "__main__":
    main()
