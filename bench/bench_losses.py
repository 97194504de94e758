"""make bench, the KD losses of issue 24: decoupled KD (Zhao et al. 2022) and logit
standardization (Sun et al. 2024) against Hinton's KD, as ratios of the time of one
Distillation-lab-sized run on the same student: mlp(32) from digits/cnn (the lab's
default teacher), 10% of the digits training set, 150 epochs, T = 4, alpha = 0.9,
DistillConfig.kd_loss the only difference. Each time is the median of REPEATS
interleaved repeats, so a burst of noise hits both sides of a ratio alike. Target for
each ratio: <= 1.2."""
import dataclasses
import statistics
import time

import torch

import workbench as wb

REPEATS = 9
TARGET = 1.2
LOSSES = ("kd", "dkd", "standardized")


def lab_sized(device):
    """(splits with the lab's 10% transfer set, teacher, cfg) of the Distillation lab's default run."""
    splits = wb.data.load("digits", device=device)
    cfg = wb.DistillConfig(temperature=4.0, alpha=0.9, epochs=150)
    transfer = dataclasses.replace(splits, train=wb.data.subsample(splits.train, 0.1, seed=cfg.seed))
    return transfer, wb.teachers.get("digits/cnn", device=device), cfg


def one_run(splits, teacher, cfg):
    wb.seed_everything(cfg.seed)
    student = wb.models.build("mlp", splits.input_shape, splits.num_classes, hidden=(32,))
    t0 = time.perf_counter()
    wb.distill(student, teacher, splits, cfg)
    return time.perf_counter() - t0


def main():
    torch.set_num_threads(1)  # as the labs run (widgets.runner.RunController.threads)
    device = wb.pick_device()
    splits, teacher, cfg = lab_sized(device)
    configs = {name: cfg.replace(kd_loss=name) for name in LOSSES}
    for c in configs.values():  # warm-up
        one_run(splits, teacher, c.replace(epochs=3))
    times = {name: [] for name in LOSSES}
    for _ in range(REPEATS):
        for name, c in configs.items():
            times[name].append(one_run(splits, teacher, c))
    t = {name: statistics.median(v) for name, v in times.items()}
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} thread; mlp(32) from digits/cnn, "
          f"{len(splits.train)} training images, {cfg.epochs} epochs; median of {REPEATS} interleaved runs (seconds):")
    for name, seconds in t.items():
        print(f"  kd_loss={name!r:16s} {seconds:6.3f}")
    for name in LOSSES[1:]:
        ratio = t[name] / t["kd"]
        print(f"{'kd_loss=' + repr(name) + ' / kd_loss=' + repr('kd'):40s} {ratio:6.3f}   target <= {TARGET} "
              f"{'ok' if ratio <= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
