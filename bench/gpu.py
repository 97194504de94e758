"""make bench-gpu (and the last part of make bench): MNIST and CIFAR-10 on the GPU.

    python bench/gpu.py [--device cuda] [--small] [--epochs 3]

For each data set, the epoch time of a hard-label and of a distilled (response KD) student
of two sizes, the distill/hard ratio, the teacher's one pass over the transfer set and the
memory of the teacher-output cache (workbench.teacher_outputs: soft labels and entropies
kept on the device for the whole run).

Data: the real files when they are in the cache (wb.data.load(..., download=False)),
else random data of the real shapes made on the device (MNIST 60,000 x 1x28x28, CIFAR-10
50,000 x 3x32x32, split as the loader splits them, and 10,000 test images), and the output
says which. Teachers: the architectures of the mnist/cnn and cifar10/resnet recipes with
untrained weights (an epoch's time does not depend on the weights; training them would
take longer than the bench).

Without a CUDA device it prints one line saying so and exits 0. `--device cpu --small`
runs the same code on the CPU with a few hundred images (tests/test_gpu_bench.py does, so
that this script cannot rot while no GPU is at hand)."""
import argparse
import statistics
import sys
import time

import torch

import workbench as wb
from workbench.data import Split, Splits
from workbench.teacher_outputs import TeacherOutputs

VAL_FRACTION = 1 / 12  # the share of the training files workbench.data keeps for validation
SETS = {  # name: (images in the training files, test images, shape, teacher's recipe, students)
    "mnist": (60_000, 10_000, (1, 28, 28), "mnist/cnn",
              {"mlp(128)": ("mlp", {"hidden": (128,)}), "cnn(16, 32)": ("cnn", {"channels": (16, 32)})}),
    "cifar10": (50_000, 10_000, (3, 32, 32), "cifar10/resnet",
                {"cnn(16, 32)": ("cnn", {"channels": (16, 32)}),
                 "resnet(16, 32, 64)": ("resnet", {"widths": (16, 32, 64), "blocks": 1})}),
}
SMALL = (160, 64)  # --small: training-file images, test images


def synthetic(name, device, small):
    """Random Splits of the real shapes, made on the device, split as workbench.data would."""
    files, test, shape, _, _ = SETS[name]
    if small:
        files, test = SMALL
    n_val = round(files * VAL_FRACTION)
    g = torch.Generator(device=device).manual_seed(0)
    split = lambda n: Split(torch.randn(n, *shape, generator=g, device=device),
                            torch.randint(0, 10, (n,), generator=g, device=device))
    return Splits(split(files - n_val), split(n_val), split(test), tuple(str(c) for c in range(10)), shape, name)


def data(name, device, small):
    """(Splits, a line saying where they came from): the files in the cache if they are
    there (the first SMALL images of each split with --small), else synthetic()."""
    try:
        splits = wb.data.load(name, device=device, download=False)
    except FileNotFoundError:
        splits = synthetic(name, device, small)
        return splits, "synthetic: random data of the real shapes made on the device (no files in the cache)"
    if small:
        cut = lambda s, n: Split(s.x[:n], s.y[:n])
        splits = Splits(cut(splits.train, SMALL[0]), cut(splits.val, SMALL[1]), cut(splits.test, SMALL[1]),
                        splits.classes, splits.input_shape, name)
    return splits, f"the real files from {wb.cache.cache_dir('data')}"


def teacher_for(name, device):
    """The recipe's architecture with untrained weights, in eval mode on the device."""
    recipe = wb.teachers.RECIPES[SETS[name][3]]
    wb.seed_everything(0)
    return wb.models.build(recipe.arch, SETS[name][2], 10, **recipe.size).to(device).eval()


def epoch_seconds(student, teacher, splits, cfg, device):
    """(median seconds of the epochs after the first, seconds from the start to the first
    step's end: the teacher's one pass and one step), for a distilled run (teacher given) or
    a hard-label one (teacher None)."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    marks = {}

    def mark(event):
        if (event.kind == "step" and event.step == 1) or event.kind == "epoch":
            sync()
            marks["first step" if event.kind == "step" else event.epoch] = time.perf_counter()

    sync()
    start = time.perf_counter()
    if teacher is None:
        wb.train(student, splits, cfg, callbacks=[mark], every_step=True)
    else:
        wb.distill(student, teacher, splits, cfg, callbacks=[mark], every_step=True)
    epochs = [marks[e] - marks[e - 1] for e in range(2, cfg.epochs + 1)]
    return statistics.median(epochs), marks["first step"] - start


def cache_line(teacher, student, splits, cfg):
    """The teacher-output cache of a distilled run: MB, where, and what it keeps."""
    outputs = TeacherOutputs(teacher, student, splits.train.x, cfg)
    if not outputs.cached:
        return f"not kept (over cfg.teacher_memory_mb = {cfg.teacher_memory_mb:g}): the teacher runs per batch"
    kept = ", ".join(f"{k} {tuple(s)}" for k, s in outputs.kept.items())
    return (f"{outputs.bytes / 2**20:.2f} MB ({outputs.bytes:,} bytes) on {splits.train.x.device.type} "
            f"({len(splits.train):,} examples x [{kept}], float32)")


def bench(name, device, small, epochs):
    splits, source = data(name, device, small)
    _, _, _, recipe, students = SETS[name]
    teacher = teacher_for(name, device)
    cfg = wb.DistillConfig(epochs=epochs, batch_size=128)
    print(f"\n{name}: {len(splits.train):,} train / {len(splits.val):,} val / {len(splits.test):,} test, "
          f"{'x'.join(map(str, splits.input_shape))}; {source}")
    print(f"  teacher: the {recipe} recipe's architecture ({wb.teachers.RECIPES[recipe].about}), untrained weights")
    first = None
    print(f"  {'student':20s} {'hard epoch':>11s} {'distilled epoch':>16s} {'distill/hard':>13s} "
          f"{'peak GPU MB':>13s}")
    for label, (arch, size) in students.items():
        wb.seed_everything(0)
        hard, _ = epoch_seconds(wb.models.build(arch, splits.input_shape, 10, **size), None, splits, cfg, device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        wb.seed_everything(0)
        student = wb.models.build(arch, splits.input_shape, 10, **size)
        distilled, to_first_step = epoch_seconds(student, teacher, splits, cfg, device)
        peak = f"{torch.cuda.max_memory_allocated() / 2**20:13.0f}" if device.type == "cuda" else f"{'-':>13s}"
        first = first or (student, to_first_step)
        print(f"  {label:20s} {hard:10.3f}s {distilled:15.3f}s {distilled / hard:13.2f} {peak}")
    print(f"  start of a distilled run to its first step's end (the teacher's one pass): {first[1]:.3f} s")
    print(f"  teacher-output cache: {cache_line(teacher, first[0], splits, cfg)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda (default), or cpu to try the script without a GPU")
    ap.add_argument("--small", action="store_true", help=f"{SMALL[0]} training-file and {SMALL[1]} test images")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per run; the first is not timed (>= 2)")
    ap.add_argument("--sets", nargs="+", choices=sorted(SETS), default=list(SETS))
    args = ap.parse_args(argv)
    if args.epochs < 2:
        ap.error(f"--epochs must be >= 2 (the first epoch is not timed), got {args.epochs}")
    device = wb.device.as_device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("bench/gpu.py: skipped, no CUDA device on this machine (torch.cuda.is_available() is False); "
              "`python bench/gpu.py --device cpu --small` runs the same code on the CPU")
        return 0
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"bench/gpu.py on {device} ({name}), torch {torch.__version__}; batch 128, response KD (T = 4, "
          f"alpha = 0.9); an epoch's time is the median of epochs 2-{args.epochs} of a run "
          f"(the first holds the start-up and the teacher's pass){'; --small' if args.small else ''}")
    for name in args.sets:
        bench(name, device, args.small, args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
