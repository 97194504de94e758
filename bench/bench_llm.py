"""make bench, part 3: LLM distillation.

1. student training throughput (completion tokens trained per second) for white-box and
   black-box distillation, side by side on pools of 1,200 queries collected once (the
   prompts of a default experiment with seed 0, every round's, the same for both methods,
   as `experiment_prompts` draws them): chunks of optimizer steps alternate between the
   two and the medians are compared;
2. the share of a default experiment spent waiting for the teacher (its text for
   black-box, its text and logits for white-box);
3. one whole default experiment, in seconds (target: under 20 s on two CPU cores);
4. pretraining time of the shipped models "facts-base" and "facts" (the default teacher)."""
import statistics
import time

import torch

import workbench as wb
from workbench.llm import pretrained
from workbench.llm.distill import LLMConfig, Pool, _collect, _loss, round_prompts

REPEATS = 3
CHUNKS, CHUNK_STEPS = 7, 40


def experiment_prompts(task, cfg):
    """Every prompt a run with `cfg` asks the teacher about, round by round, as
    workbench.llm.distill.steps draws them (round_prompts): the same for every method."""
    sizes = [cfg.queries * (r + 1) // cfg.rounds - cfg.queries * r // cfg.rounds for r in range(cfg.rounds)]
    return [p for r, n in enumerate(sizes) for p in round_prompts(task, n, cfg.seed, r)]


def training_throughput(device):
    """{method: completion tokens per second of optimizer steps}, each method's pool
    holding the teacher's answers to the same prompts (a default experiment's)."""
    teacher, task = wb.llm.teacher("facts", device), wb.llm.task()
    runs = {}
    for method in ("white-box", "black-box"):
        cfg = LLMConfig(method=method)
        student, pool, g = wb.llm.student(device=device), Pool(), torch.Generator().manual_seed(cfg.seed)
        api = wb.llm.LogitAPI(teacher) if method == "white-box" else wb.llm.TextAPI(
            teacher, cfg.temperature, None, task.max_new_tokens, task.stop, seed=cfg.seed)
        prompts = experiment_prompts(task, cfg)
        _collect(pool, api, student, task, cfg, len(prompts), 0, g, prompts)
        runs[method] = (student, pool, g, torch.optim.AdamW(student.parameters(), lr=cfg.lr), cfg)
    speed = {m: [] for m in runs}
    for _ in range(CHUNKS):
        for method, (student, pool, g, opt, cfg) in runs.items():
            tokens, t0 = 0, time.perf_counter()
            for _ in range(CHUNK_STEPS):
                ids, mask, targets = pool.batch(torch.randint(len(pool), (cfg.batch_size,), generator=g).tolist())
                loss = _loss(student, ids, mask, targets, cfg)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                tokens += int(mask.sum())
            speed[method].append(tokens / (time.perf_counter() - t0))
    return {m: statistics.median(v) for m, v in speed.items()}


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    device = wb.pick_device()
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"default experiment: {LLMConfig.queries} queries, {LLMConfig.steps} steps")
    wb.llm.experiment(queries=40, steps=10)  # warm-up: loads the models, imports what the optimizer needs
    speed = training_throughput(device)
    runs = {"white-box": [], "black-box": []}
    for seed in range(REPEATS):
        for method in runs:
            runs[method].append(wb.llm.experiment(method, seed=seed))
    med = statistics.median
    waiting = {m: med(r["teacher_seconds"] / r["seconds"] for r in rs) for m, rs in runs.items()}
    whole = {m: med(r["seconds"] for r in rs) for m, rs in runs.items()}
    print(f"\nmedian of {CHUNKS} alternating chunks of {CHUNK_STEPS} steps; of {REPEATS} experiments each:")
    for m in runs:
        print(f"  {m:9s}: {speed[m]:8.0f} student tokens/s in training, {waiting[m]:5.1%} of an experiment waiting "
              f"for the teacher, {whole[m]:5.1f} s per experiment")
    ratio = speed["white-box"] / speed["black-box"]
    print(f"{'white-box / black-box training throughput (tokens/s)':62s} {ratio:8.2f}   (the same student step, "
          f"a KL over the vocabulary against cached teacher logits instead of a cross-entropy)")
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
