"""make bench, the payoff: what a student saves against its teacher, and what ONNX Runtime
and int8 save against PyTorch, as latency and size ratios measured side by side in one run.

The teacher is digits/cnn, the student a distilled mlp(32) (wb.payoff's default setting);
each is timed in PyTorch, in ONNX Runtime (float) and in ONNX Runtime (int8) at batch 1
and batch 1024, in rounds that interleave all six, and each figure is the median over the
rounds of wb.footprint.latency's medians."""
import statistics
import tempfile

import torch

import workbench as wb

ROUNDS, BATCHES = 5, (1, 1024)


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    splits = wb.data.load("digits", device="cpu")
    teacher = wb.teachers.get("digits/cnn", device="cpu")
    runs = wb.payoff.student_runs(splits, teacher, widths=(32,))
    _, _, student, events = runs["distilled, mlp(32)"]
    for _ in events:
        pass
    folder = tempfile.mkdtemp()
    files = {}
    for who, model in (("teacher", teacher), ("student", student)):
        info = wb.export.onnx(model, f"{folder}/{who}.onnx", splits)
        files[who] = {"pytorch": model, "onnx": info["path"], "int8": info["int8_path"],
                      "bytes": info["bytes"], "int8_bytes": info["int8_bytes"], "acc": info["test_acc"]}
    seconds = {}
    for _ in range(ROUNDS):
        for who, f in files.items():
            for runtime in ("pytorch", "onnx", "int8"):
                for b in BATCHES:
                    seconds.setdefault((who, runtime, b), []).append(
                        wb.footprint.latency(f[runtime], splits.input_shape, b, repeats=20))
    t = {k: statistics.median(v) for k, v in seconds.items()}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; teacher digits/cnn "
          f"({wb.footprint.parameters(teacher):,} parameters), student distilled mlp(32) "
          f"({wb.footprint.parameters(student):,}); median of {ROUNDS} interleaved rounds\n")
    for who, f in files.items():
        acc = f["acc"]
        print(f"{who:8s} test accuracy: PyTorch {acc['pytorch']:.3f}, ONNX Runtime {acc['onnx']:.3f}, int8 "
              f"{acc['onnx_int8']:.3f}; ONNX file {f['bytes'] / 1e3:.1f} KB, int8 {f['int8_bytes'] / 1e3:.1f} KB; "
              + ", ".join(f"{r} {t[(who, r, b)] * 1e6:.0f} µs at batch {b}"
                          for b in BATCHES for r in ("pytorch", "onnx", "int8")))
    print()
    for b in BATCHES:
        print(f"batch {b}:")
        for runtime in ("pytorch", "onnx", "int8"):
            print(f"  teacher / student latency, {runtime:8s} {t[('teacher', runtime, b)] / t[('student', runtime, b)]:8.2f}")
        for who in files:
            print(f"  {who:8s} PyTorch / ONNX Runtime      {t[(who, 'pytorch', b)] / t[(who, 'onnx', b)]:8.2f}")
            print(f"  {who:8s} ONNX float / int8           {t[(who, 'onnx', b)] / t[(who, 'int8', b)]:8.2f}")
    print(f"size: teacher / student (ONNX float) {files['teacher']['bytes'] / files['student']['bytes']:.2f}; "
          f"float / int8: teacher {files['teacher']['bytes'] / files['teacher']['int8_bytes']:.2f}, "
          f"student {files['student']['bytes'] / files['student']['int8_bytes']:.2f}")


if __name__ == "__main__":
    main()
