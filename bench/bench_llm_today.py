"""make bench, part 4: LLM distillation as the field does it now (issue 22). Ratios, each
measured side by side in this one run:

1. an on-policy run (λ = 1, reverse KL: the student samples, the teacher scores) against
   an off-policy run (λ = 0, forward KL: the teacher samples and scores) at equal queries,
   the default 1,200 and 500 steps: whole-run seconds and the share spent collecting;
2. speculative decoding against plain sampling from the target (the facts teacher), with
   the base student and a white-box-distilled student as drafts, on the same prompts:
   wall time per new token and target passes per new token;
3. distilling from an offline top-k cache (written once) against the same run asking a
   live top-k teacher: whole-run seconds, and what writing the cache cost.

Runs alternate between the two sides of each ratio and the medians are compared."""
import os
import statistics
import tempfile
import time

import torch

import workbench as wb
from workbench.llm import distill, speculative, topk_cache
from workbench.llm.distill import LLMConfig
from workbench.llm.gpt import generate
from workbench.train import run as drive

REPEATS = 3
PROMPTS, NEW_TOKENS, LOOKAHEAD = 200, 8, 4


def on_against_off_policy():
    """Median seconds (and collecting share) of the on-policy and off-policy default runs."""
    runs = {"on-policy reverse KL": [], "off-policy forward KL": []}
    for seed in range(REPEATS):
        runs["on-policy reverse KL"].append(wb.llm.experiment("white-box", loss="reverse_kl", on_policy=1.0, seed=seed))
        runs["off-policy forward KL"].append(wb.llm.experiment("white-box", loss="forward_kl", seed=seed))
    med = statistics.median
    return {name: (med(r["seconds"] for r in rs), med(r["teacher_seconds"] / r["seconds"] for r in rs))
            for name, rs in runs.items()}


def speculative_against_plain():
    """{draft: (seconds per new token speculative / plain, target passes per new token,
    acceptance)} on the same prompts; plain sampling spends one target pass per token."""
    target, task = wb.llm.teacher("facts"), wb.llm.task()
    device = next(target.parameters()).device
    ids = speculative.prompt_ids(PROMPTS, 0, device)
    stop = target.tokenizer.stoi[task.stop]
    drafts = {"base student": wb.llm.student(0)}
    distilled = wb.llm.student(0)
    wb.llm.run(distilled, target, task, LLMConfig(method="white-box"))
    drafts["white-box student"] = distilled
    out = {}
    for name, draft in drafts.items():
        spec_s, plain_s, passes, acceptance = [], [], [], []
        for r in range(REPEATS):
            t0 = time.perf_counter()
            s = speculative.generate(target, draft, ids, NEW_TOKENS, LOOKAHEAD, 1.0, torch.Generator().manual_seed(r),
                                     stop)
            spec_s.append((time.perf_counter() - t0) / s.new_tokens)
            passes.append(s.target_passes / s.new_tokens)
            acceptance.append(s.acceptance)
            t0 = time.perf_counter()
            seqs = generate(target, ids, NEW_TOKENS, 1.0, None, stop, torch.Generator().manual_seed(r))
            new = int((seqs != 0).sum() - (ids != 0).sum())
            plain_s.append((time.perf_counter() - t0) / new)
        med = statistics.median
        out[name] = (med(spec_s) / med(plain_s), med(passes), med(acceptance))
    return out


def cache_against_live():
    """Median seconds of a top-k run from the cache and of the live top-k run, and the
    seconds writing the cache took."""
    teacher, task = wb.llm.teacher("facts"), wb.llm.task()
    cfg = LLMConfig(method="top-k", k=5)
    live, cached, written = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for r in range(REPEATS):
            path = os.path.join(folder, f"cache{r}.npz")
            t0 = time.perf_counter()
            cache = topk_cache.write(path, teacher, task, cfg)
            written.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            wb.llm.run(wb.llm.student(cfg.seed), teacher, task, cfg)
            live.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            drive(distill.steps(wb.llm.student(cfg.seed), None, task, cfg, cache=cache))
            cached.append(time.perf_counter() - t0)
    med = statistics.median
    return med(cached), med(live), med(written), cache.bytes_per_token


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    print(f"device {wb.pick_device()}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"default experiment: {LLMConfig.queries} queries, {LLMConfig.steps} steps; medians of {REPEATS}")
    wb.llm.experiment(queries=40, steps=10)  # warm-up: loads the models
    runs = on_against_off_policy()
    (on_s, on_share), (off_s, off_share) = runs.values()
    print(f"{'on-policy / off-policy run at equal queries (seconds)':62s} {on_s / off_s:8.2f}   "
          f"({on_s:.1f} s against {off_s:.1f} s; collecting {on_share:.0%} against {off_share:.0%} of each: "
          f"the student samples, the teacher only scores)")
    for name, (wall, passes, acceptance) in speculative_against_plain().items():
        print(f"{'speculative / plain target sampling, ' + name + ' (wall per token)':62s} {wall:8.2f}   "
              f"target passes per token {passes:.2f} (plain 1.00), acceptance {acceptance:.2f}, "
              f"lookahead {LOOKAHEAD}")
    cached, live, written, per_token = cache_against_live()
    print(f"{'top-k run from the cache / against a live top-k teacher':62s} {cached / live:8.2f}   "
          f"({cached:.1f} s against {live:.1f} s; writing the cache once {written:.1f} s, "
          f"{per_token:.1f} bytes per token at k=5)")


if __name__ == "__main__":
    main()
