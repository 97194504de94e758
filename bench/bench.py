"""make bench: speed figures measured side by side in one run, printed as ratios.

1. a distillation epoch over a hard-label epoch (teacher outputs cached once per run);
2. the feature and relation terms over response-only distillation, at the feature and
   relation labs' defaults and with both terms together; issue 21's relation-KD targets:
   on the cnn(16, 32) student the relation lab's term and hint + RKD over response-only
   (<= 1.5), on the mlp(32) student the loop's overhead beyond the terms' own cost,
   (run - response-only) / (the terms alone, timed in the same repeats) (<= 1.1);
3. this engine against a straightforward loop that runs the teacher on every batch
   through a DataLoader, same models, data, optimizer and epochs;
4. wall time of a full 30-epoch distillation on digits;
5. at real-data scale: an epoch on MNIST-shaped data (60,000 x 1x28x28) for an MLP and a
   CNN student, and the peak memory of a CIFAR-shaped run at two transfer-set sizes
   (bench/peak_memory.py), on the CPU and, when there is one, on the GPU.
Each timing is the median of several interleaved repeats, so a burst of noise hits both
sides of a ratio alike."""
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import workbench as wb
from workbench.data import Split, Splits

import peak_memory

REPEATS = 7


def student(splits, arch="mlp"):
    wb.seed_everything(0)
    arch, size = {"mlp": ("mlp", {"hidden": (32,)}), "cnn": ("cnn", {"channels": (16, 32)}),
                  "cnn8": ("cnn", {"channels": (8, 16)})}[arch]
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


def terms_alone(splits, student_arch, teacher, run_cfg, steps):
    """A function that runs the feature and relation terms of run_cfg by themselves `steps`
    times (as many as the run has steps), forward and backward, on one batch of 128: the
    loop's own Terms (regressors included) on the student's tapped features made leaves,
    and the teacher's outputs as the run keeps them. What the terms cost before any loop
    overhead, timed in the same interleaved repeats as the runs it is compared with."""
    model = student(splits, student_arch)
    x = splits.train.x[:128]
    targets = wb.teacher_outputs.TeacherOutputs(teacher, model, splits.train.x, run_cfg)
    terms = wb.features.Terms(model, targets.shapes, x[:2], run_cfg)
    teacher_batch = targets(torch.arange(128, device=x.device))
    with wb.models.tap(model, terms.student_layers) as tapped:
        logits = model(x)
    feats = {name: f.detach().requires_grad_() for name, f in tapped.items()}
    logits = logits.detach().requires_grad_()
    weights = {k: torch.tensor(w, device=x.device) for k, w in
               (("feature", run_cfg.feature_weight), ("relation", run_cfg.relation_weight))}
    leaves = [*feats.values(), logits, *terms.regressors.parameters()]

    def run():
        for _ in range(steps):
            for leaf in leaves:  # as the loop does before each step's backward
                leaf.grad = None
            out = terms(feats, logits, teacher_batch)
            torch.autograd.backward(list(out.values()), [weights[k] for k in out])

    return run


def row(label, value, target, ok):
    print(f"{label:72s} {value:8.3f}   target {target:8s} {'ok' if ok else 'MISSED'}")


def relation_targets(t):
    """Issue 21's relation-KD targets, from the medians t of one interleaved run. On the
    mlp(32) student the RKD distance term by itself costs 0.63-0.74 of a response-only step,
    so there the target is the loop's overhead beyond the terms' own cost:
    (run - response-only run) / (the terms alone, as many times as the run has steps)."""
    print("\nrelation-KD targets (issue 21), measured side by side in the runs above:")
    for label, run, base in (
            ("cnn(16, 32): relation lab's term (RKD distance pool, weight 25) / response-only",
             "cnn(16, 32): + RKD distance (pool, pool)", "response-only, cnn(16, 32) from digits/cnn"),
            ("cnn(16, 32): hint + RKD distance / response-only", "+ hint (block2) and RKD distance (pool)",
             "response-only, cnn(16, 32) from digits/cnn")):
        ratio = t[run] / t[base]
        row(label, ratio, "<= 1.5", ratio <= 1.5)
    for label, run, terms in (
            ("mlp(32): relation lab (RKD distance act2 -> act1): (run - response) / term alone",
             "relation lab: + RKD distance (act2, act1)", "the RKD distance term alone (act2, act1)"),
            ("mlp(32): hint + RKD distance: (run - response) / terms alone",
             "mlp(32): + hint and RKD distance (act2 -> act1)", "the hint and RKD distance terms alone (act2 -> act1)")):
        overhead = (t[run] - t["distill, mlp(32)"]) / t[terms]
        row(label, overhead, "<= 1.1", overhead <= 1.1)
        print(f"{'    the term(s) alone / the response-only run (the same steps)':72s} "
              f"{t[terms] / t['distill, mlp(32)']:8.3f}")


def mnist_shaped_epochs(device):
    """{arch: (seconds of the teacher's pass over the transfer set, seconds of the second
    epoch)} for distillation on random 60,000 x 1x28x28 images, an MLP and a CNN student of
    a CNN teacher; the second epoch, so that start-up costs stay out of it."""
    g = torch.Generator().manual_seed(0)
    split = lambda n: Split(torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)).to(device)
    splits = Splits(split(60_000), split(1000), split(1000), tuple("0123456789"), (1, 28, 28), "random")
    wb.seed_everything(0)
    teacher = wb.models.build("cnn", (1, 28, 28), 10, channels=(32, 64)).to(device).eval()
    seconds = {}
    for arch, size in (("mlp", {"hidden": (128,)}), ("cnn", {"channels": (16, 32)})):
        marks = [time.perf_counter()]
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

        def mark(event):  # the first step ends the teacher's pass; each epoch its own time
            if (event.kind == "step" and event.step == 1) or event.kind == "epoch":
                sync()
                marks.append(time.perf_counter())

        wb.distill(wb.models.build(arch, (1, 28, 28), 10, **size), teacher, splits,
                   wb.DistillConfig(epochs=2, batch_size=128), callbacks=[mark], every_step=True)
        seconds[arch] = (marks[1] - marks[0], marks[3] - marks[2])
    return seconds


def real_scale(devices):
    print("\nreal-data scale (random inputs of the real shapes; one epoch, batch 128)")
    for device in devices:
        for arch, (teacher_pass, epoch) in mnist_shaped_epochs(device).items():
            student_name = "mlp(128)" if arch == "mlp" else "cnn(16, 32)"
            print(f"  {device}: MNIST-shaped (60,000 x 1x28x28), {student_name} student of a cnn(32, 64) teacher: "
                  f"an epoch {epoch:6.2f} s; the teacher's one pass {teacher_pass:5.2f} s")
    print("  CIFAR-shaped run (resnet teacher (32, 64, 128) x 2 blocks, student (16, 32, 64), hint on stage1, "
          "RKD on pool), peak memory:")
    for device in devices:
        runs = [peak_memory.measure(n, device=device) for n in (2000, 8000)]
        for r in runs:
            kept = f"teacher outputs kept ({r['cache_mb']:.0f} MB)" if r["cached"] else "teacher run per batch"
            print(f"    {device}, {r['examples']:5d} images: peak {r['peak_mb']:6.0f} MB, "
                  f"data {r['data_mb']:4.0f} MB, {kept}")
        grew, data = runs[1]["peak_mb"] - runs[0]["peak_mb"], runs[1]["data_mb"] - runs[0]["data_mb"]
        row(f"{device}: peak growth 2,000 -> 8,000 images, over the data's growth ({data:.0f} MB)", grew / data,
            "<= 2", grew <= 2 * data)


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    device = wb.pick_device()
    splits = wb.data.load("digits", device=device)
    teacher = wb.teachers.get("digits/mlp-large", device=device)
    cnn_teacher = wb.teachers.get("digits/cnn", device=device)
    cfg = wb.DistillConfig(temperature=4.0, alpha=0.9, epochs=30)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"digits train set {len(splits.train)} examples")
    hint_rkd = dict(feature_weight=1.0, relation_weight=1.0, relation_loss="rkd_distance")
    runs = {  # name: (student, teacher or None for hard labels, cfg)
        "hard, mlp(32)": ("mlp", None, cfg),
        "distill, mlp(32)": ("mlp", teacher, cfg),
        "naive loop, mlp(32)": ("mlp", "naive", cfg),
        "hard, cnn(16, 32)": ("cnn", None, cfg),
        "distill, cnn(16, 32)": ("cnn", teacher, cfg),
        # the feature lab's default: cnn(8, 16) from digits/cnn, hint block1 -> block1, weight 10
        "response-only, cnn(8, 16) from digits/cnn": ("cnn8", cnn_teacher, cfg),
        "feature lab: + hint on block1": ("cnn8", cnn_teacher, cfg.replace(
            feature_weight=10.0, feature_pairs=[("block1", "block1")])),
        # the relation lab's default: mlp(32) from digits/mlp-large, RKD distance (act2, act1), weight 25
        "relation lab: + RKD distance (act2, act1)": ("mlp", teacher, cfg.replace(
            relation_weight=25.0, relation_pair=("act2", "act1"))),
        "response-only, cnn(16, 32) from digits/cnn": ("cnn", cnn_teacher, cfg),
        # the relation lab's loss and weight on the cnn(16, 32) student: RKD distance (pool, pool), weight 25
        "cnn(16, 32): + RKD distance (pool, pool)": ("cnn", cnn_teacher, cfg.replace(
            relation_weight=25.0, relation_pair=("pool", "pool"))),
        "+ hint (block2) and RKD distance (pool)": ("cnn", cnn_teacher, cfg.replace(
            feature_pairs=[("block2", "block2")], relation_pair=("pool", "pool"), **hint_rkd)),
        "mlp(32): + hint and RKD distance (act2 -> act1)": ("mlp", teacher, cfg.replace(
            feature_pairs=[("act2", "act1")], relation_pair=("act2", "act1"), **hint_rkd)),
    }

    def go(arch, who, run_cfg):
        model = student(splits, arch)
        if who == "naive":
            return naive_distill(model, teacher, splits, run_cfg)
        return wb.train(model, splits, run_cfg) if who is None else wb.distill(model, who, splits, run_cfg)

    steps = cfg.epochs * -(-len(splits.train) // cfg.batch_size)  # no batch of one to drop on digits
    alone = {  # the terms by themselves, as many times as a run has steps: name -> the run they are part of
        "the RKD distance term alone (act2, act1)": "relation lab: + RKD distance (act2, act1)",
        "the hint and RKD distance terms alone (act2 -> act1)": "mlp(32): + hint and RKD distance (act2 -> act1)"}
    jobs = {name: (lambda arch=arch, who=who, run_cfg=run_cfg: go(arch, who, run_cfg))
            for name, (arch, who, run_cfg) in runs.items()}
    jobs.update({name: terms_alone(splits, "mlp", teacher, runs[run][2], steps) for name, run in alone.items()})
    wb.distill(student(splits), teacher, splits, cfg.replace(epochs=3))  # warm-up
    times = {name: [] for name in jobs}
    for _ in range(REPEATS):  # interleaved, so that a burst of noise hits both sides of a ratio
        for name, job in jobs.items():
            times[name].append(timed(job))
    t = {name: statistics.median(v) for name, v in times.items()}
    print(f"\nmedian of {REPEATS} runs of {cfg.epochs} epochs (seconds):")
    for name, seconds in t.items():
        print(f"  {name:60s} {seconds:6.3f}")
    print()
    for label, a, b, target in (
            ("distillation epoch / hard-label epoch, mlp(32) student", "distill, mlp(32)", "hard, mlp(32)", 1.15),
            ("distillation epoch / hard-label epoch, cnn(16, 32) student", "distill, cnn(16, 32)",
             "hard, cnn(16, 32)", 1.15),
            ("feature lab default (hint) / response-only", "feature lab: + hint on block1",
             "response-only, cnn(8, 16) from digits/cnn", 1.5),
            # on the mlp(32) student these two have the overhead target of relation_targets instead
            ("relation lab default (RKD distance act2 -> act1) / response-only, mlp(32)",
             "relation lab: + RKD distance (act2, act1)", "distill, mlp(32)", None),
            ("hint + RKD terms / response-only, mlp(32) student", "mlp(32): + hint and RKD distance (act2 -> act1)",
             "distill, mlp(32)", None)):
        ratio = t[a] / t[b]
        if target is None:
            print(f"{label:72s} {ratio:8.3f}   (see the relation-KD targets below)")
        else:
            row(label, ratio, f"<= {target}", ratio <= target)
    relation_targets(t)
    speedup = t["naive loop, mlp(32)"] / t["distill, mlp(32)"]
    row("naive DataLoader loop / this engine (same models, epochs)", speedup, ">= 3", speedup >= 3)
    print(f"{'full 30-epoch distillation on digits (seconds)':62s} {t['distill, mlp(32)']:8.3f}   target a few seconds")
    if "--digits-only" not in sys.argv:
        gpu = ["cuda"] if torch.cuda.is_available() else []
        real_scale(gpu if "--scale-on-gpu-only" in sys.argv else ["cpu"] + gpu)


if __name__ == "__main__":
    main()
