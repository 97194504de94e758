"""make bench: speed figures measured side by side in one run, printed as ratios.

1. a distillation epoch over a hard-label epoch (teacher outputs cached once per run);
2. this engine against a straightforward loop that runs the teacher on every batch
   through a DataLoader, same models, data, optimizer and epochs;
3. wall time of a full 30-epoch distillation on digits.
Each timing is the median of several interleaved repeats, so a burst of noise hits both
sides of a ratio alike."""
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import workbench as wb

REPEATS = 7


def student(splits, arch="mlp"):
    wb.seed_everything(0)
    size = {"hidden": (32,)} if arch == "mlp" else {"channels": (16, 32)}
    return wb.models.build(arch, splits.input_shape, splits.num_classes, **size)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def naive_distill(model, teacher, splits, cfg):
    """The loop a tutorial would write: DataLoader batches, teacher forward every batch."""
    loader = DataLoader(TensorDataset(splits.train.x, splits.train.y), batch_size=cfg.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(cfg.seed))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    for _ in range(cfg.epochs):
        model.train()
        for x, y in loader:
            with torch.no_grad():
                t_logits = teacher(x)
            s_logits = model(x)
            loss = cfg.alpha * wb.losses.kd_loss(s_logits, t_logits, cfg.temperature) \
                + (1 - cfg.alpha) * F.cross_entropy(s_logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            (model(splits.val.x).argmax(1) == splits.val.y).float().mean().item()


def row(label, value, target, ok):
    print(f"{label:62s} {value:8.3f}   target {target:8s} {'ok' if ok else 'MISSED'}")


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    device = wb.pick_device()
    splits = wb.data.load("digits", device=device)
    teacher = wb.teachers.get("digits/mlp-large", device=device)
    cfg = wb.DistillConfig(temperature=4.0, alpha=0.9, epochs=30)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"digits train set {len(splits.train)} examples, student mlp(32), teacher digits/mlp-large")

    wb.distill(student(splits), teacher, splits, cfg.replace(epochs=3))  # warm-up
    rich = cfg.replace(feature_weight=1.0, feature_pairs=[("act2", "act1")], relation_weight=1.0,
                       relation_loss="rkd_distance", relation_pair=("act2", "act1"))
    cnn_teacher = wb.teachers.get("digits/cnn", device=device)
    cnn_rich = cfg.replace(feature_weight=1.0, feature_pairs=[("block2", "block2")], relation_weight=1.0,
                           relation_loss="rkd_distance", relation_pair=("pool", "pool"))
    hard, kd, naive, cnn_hard, cnn_kd, feat, cnn_kd2, cnn_feat = [], [], [], [], [], [], [], []
    for _ in range(REPEATS):
        hard.append(timed(lambda: wb.train(student(splits), splits, cfg)))
        kd.append(timed(lambda: wb.distill(student(splits), teacher, splits, cfg)))
        naive.append(timed(lambda: naive_distill(student(splits), teacher, splits, cfg)))
        cnn_hard.append(timed(lambda: wb.train(student(splits, "cnn"), splits, cfg)))
        cnn_kd.append(timed(lambda: wb.distill(student(splits, "cnn"), teacher, splits, cfg)))
        feat.append(timed(lambda: wb.distill(student(splits), teacher, splits, rich)))
        cnn_kd2.append(timed(lambda: wb.distill(student(splits, "cnn"), cnn_teacher, splits, cfg)))
        cnn_feat.append(timed(lambda: wb.distill(student(splits, "cnn"), cnn_teacher, splits, cnn_rich)))
    med = statistics.median
    print(f"\nmedian of {REPEATS} runs of {cfg.epochs} epochs, mlp(32) student:")
    print(f"  hard-label {med(hard):.3f} s, distillation {med(kd):.3f} s, naive distillation loop {med(naive):.3f} s")
    print(f"  cnn(16, 32) student: hard-label {med(cnn_hard):.3f} s, distillation {med(cnn_kd):.3f} s")
    print(f"  mlp(32) with hint (act2 -> act1) and RKD distance (act2, act1) terms: {med(feat):.3f} s")
    print(f"  cnn(16, 32) from digits/cnn: response-only {med(cnn_kd2):.3f} s, with hint (block2) and RKD distance "
          f"(pool) terms {med(cnn_feat):.3f} s\n")
    ratio = med(kd) / med(hard)
    row("distillation epoch / hard-label epoch, mlp(32) student", ratio, "<= 1.15", ratio <= 1.15)
    ratio = med(cnn_kd) / med(cnn_hard)
    row("distillation epoch / hard-label epoch, cnn(16, 32) student", ratio, "<= 1.15", ratio <= 1.15)
    ratio = med(feat) / med(kd)
    row("epoch with hint + RKD terms / response-only, mlp(32) student", ratio, "<= 1.5", ratio <= 1.5)
    ratio = med(cnn_feat) / med(cnn_kd2)
    row("epoch with hint + RKD terms / response-only, cnn student", ratio, "<= 1.5", ratio <= 1.5)
    speedup = med(naive) / med(kd)
    row("naive DataLoader loop / this engine (same models, epochs)", speedup, ">= 2", speedup >= 2)
    print(f"{'full 30-epoch distillation on digits (seconds)':62s} {med(kd):8.3f}   target a few seconds")


if __name__ == "__main__":
    main()
