"""make bench, part: distilling reasoning (issue 27). Ratios, each measured side by side
in this one run:

1. the Reasoning lab's default run (workbench.llm.reasoning.distill_reasoning(): four
   students, the default queries and steps) against the LLM lab's default run (the same
   student distilled white-box and black-box, wb.llm.experiment at its defaults): whole
   seconds, and the lab run's own seconds;
2. tokens per second of fine-tuning on worked steps against fine-tuning on answers only:
   the same student, the same number of optimizer steps on pools of the same problems.

Runs alternate between the two sides of each ratio and the medians are compared."""
import statistics
import time

import torch

import workbench as wb
from workbench.llm import addition, reasoning
from workbench.llm.reasoning import ReasoningConfig

REPEATS = 2
STEPS, PROBLEMS = 200, 600


def lab_against_llm_lab():
    """Median seconds of the Reasoning lab's default run and of the LLM lab's (white-box then black-box)."""
    lab, llm = [], []
    for seed in range(REPEATS):
        t0 = time.perf_counter()
        reasoning.distill_reasoning(seed=seed)
        lab.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        wb.llm.experiment("white-box", seed=seed)
        wb.llm.experiment("black-box", seed=seed)
        llm.append(time.perf_counter() - t0)
    return statistics.median(lab), statistics.median(llm)


def trace_against_answer_tokens():
    """Median tokens per second of STEPS optimizer steps on worked steps and on answers only."""
    cfg, device = ReasoningConfig(), wb.pick_device()
    problems = addition.problems(PROBLEMS, seed=1, exclude=addition.held_out())
    forms = {"worked steps": addition.worked, "answers only": addition.answer_only}
    rates = {name: [] for name in forms}
    for r in range(REPEATS + 1):
        for name, complete in forms.items():
            model, pool = reasoning.student(cfg).to(device), reasoning.Pool(device)
            pool.add([(addition.prompt(*p), complete(*p)) for p in problems])
            opt, sched = reasoning.optimizer(model, STEPS, cfg.lr)
            t0 = time.perf_counter()
            tokens = reasoning.train(model, opt, sched, pool, STEPS, cfg.batch_size, torch.Generator().manual_seed(r))
            rates[name].append(tokens / (time.perf_counter() - t0))
    return {name: statistics.median(v) for name, v in rates.items()}


def main():
    print(f"device {wb.pick_device()}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"medians of {REPEATS} runs each (tokens per second: {REPEATS + 1}), alternating")
    rates = trace_against_answer_tokens()
    trace, answer = rates["worked steps"], rates["answers only"]
    print(f"{'tokens/s fine-tuning on worked steps / on answers only':62s} {trace / answer:8.2f}   "
          f"({trace:,.0f} against {answer:,.0f} tokens/s, {STEPS} steps of {ReasoningConfig.batch_size})")
    lab, llm = lab_against_llm_lab()
    cfg = ReasoningConfig()
    print(f"{'Reasoning lab default run / LLM lab default run (seconds)':62s} {lab / llm:8.2f}   "
          f"({lab:.1f} s against {llm:.1f} s; the lab: {len(cfg.ways)} students, {cfg.queries} queries, "
          f"{cfg.steps} steps)")


if __name__ == "__main__":
    main()
