"""Peak memory of one distillation epoch on random CIFAR-shaped data, in a fresh process.

    python bench/peak_memory.py --examples 2000 [--teacher-memory-mb 512] [--arch resnet]

prints one line of JSON: the peak resident memory of the process (CPU) or the peak of
torch's CUDA allocator (GPU), the size of the data, and whether the teacher's outputs
were cached. `measure(...)` runs it from another script (make bench, the memory test)."""
import argparse
import json
import resource
import subprocess
import sys
import threading

SIZES = {  # teacher and student widths; the hint taps the first stage, the relation term the pooled features
    "resnet": ({"widths": (32, 64, 128), "blocks": 2}, {"widths": (16, 32, 64), "blocks": 1}, "stage1"),
    "cnn": ({"channels": (32, 64)}, {"channels": (8, 16)}, "block1"),
}


def peak_resident_mb():
    """This process's peak resident memory: VmHWM of /proc/self/status on Linux, which a new
    program starts afresh (getrusage's ru_maxrss carries the parent's peak across fork and
    exec, so a child of a big test process would report the parent's size), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 2**10
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # kB on Linux, bytes on macOS


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, required=True)
    ap.add_argument("--teacher-memory-mb", type=float, default=None)
    ap.add_argument("--arch", choices=sorted(SIZES), default="resnet")
    ap.add_argument("--image", type=int, default=32, help="height and width of the 3-channel images")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=None, help="stop after this many steps (default: the epoch)")
    args = ap.parse_args(argv)

    import torch
    import workbench as wb
    from workbench.data import Split, Splits

    torch.set_num_threads(2)
    device = wb.device.as_device(args.device)
    g = torch.Generator().manual_seed(0)
    shape = (3, args.image, args.image)
    split = lambda n: Split(torch.rand(n, *shape, generator=g), torch.randint(0, 10, (n,), generator=g)).to(device)
    splits = Splits(split(args.examples), split(256), split(256), tuple("0123456789"), shape, "random")
    teacher_size, student_size, hint = SIZES[args.arch]
    wb.seed_everything(0)
    teacher = wb.models.build(args.arch, shape, 10, **teacher_size).to(device).eval()
    student = wb.models.build(args.arch, shape, 10, **student_size)
    cfg = wb.DistillConfig(epochs=1, batch_size=128, feature_weight=1.0, feature_pairs=[(hint, hint)],
                           relation_weight=1.0, relation_pair=("pool", "pool"))
    if args.teacher_memory_mb is not None:
        cfg = cfg.replace(teacher_memory_mb=args.teacher_memory_mb)
    cached = {}
    real = wb.teacher_outputs.TeacherOutputs.__init__

    def spy(self, *a, **k):  # record what the run decided, without changing it
        real(self, *a, **k)
        cached.update(cached=self.cached, cache_mb=self.bytes / 2**20)

    wb.teacher_outputs.TeacherOutputs.__init__ = spy
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    stop = threading.Event()
    enough = lambda event: args.steps is not None and event.step >= args.steps and stop.set()
    wb.distill(student, teacher, splits, cfg, callbacks=[enough], stop=stop, every_step=True)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = peak_resident_mb()
    data = sum(s.x.numel() * 4 + s.y.numel() * 8 for s in (splits.train, splits.val, splits.test)) / 2**20
    print(json.dumps({"examples": args.examples, "peak_mb": peak, "data_mb": data, "device": device.type, **cached}))


def measure(examples, teacher_memory_mb=None, arch="resnet", image=32, device="cpu", steps=None):
    """Run main in a fresh Python (so the peak is this run's alone); its JSON as a dict."""
    cmd = [sys.executable, __file__, "--examples", str(examples), "--arch", arch, "--image", str(image),
           "--device", device]
    if teacher_memory_mb is not None:
        cmd += ["--teacher-memory-mb", str(teacher_memory_mb)]
    if steps is not None:
        cmd += ["--steps", str(steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
