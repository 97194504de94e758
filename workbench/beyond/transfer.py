"""Transfer sets: which inputs the teacher is asked about decides what the student learns.

Hinton et al. 2015 distil on a "transfer set" that need not be labelled; with alpha = 1
the labels are never used, only the teacher's soft labels on the inputs. Lopes, Fenu &
Starner 2017 ("Data-Free Knowledge Distillation for Deep Neural Networks") asked what to
distil on when the training data are gone, and rebuilt inputs from activation statistics
the teacher's trainer had stored. Nothing here rebuilds inputs that way: the rows below
are this workbench's own comparison of what the teacher is asked about.

The setting (digits): the digits/cnn teacher (99.4% test accuracy); an MLP student (32
hidden units) distilled at T = 4, alpha = 1 for 60 epochs on as many inputs as the
training split holds (1,077), drawn from each transfer set:

    real images      the training images, labels unused
    20 augmented     2 real images per digit, shifted by up to a pixel (cyclically; the
                     digits' borders are blank) and noised
    20 repeated      the same 20 images, unchanged
    digits 0-4       the training images of digits 0-4 only (540), repeated to 1,077
    noise            uniform noise in [0, 1] per pixel

What it measured (seeds 0-3): test accuracy 0.964-0.969 on the real images, 0.819-0.850
on 20 augmented images, 0.758-0.769 on the same 20 repeated, 0.50-0.51 on digits 0-4 (seeds 0-2) and
0.097 on noise (chance). The student of digits 0-4 gets 5-9 almost all wrong, although
the teacher's soft labels on 0-4 give them some probability: in this setting dark
knowledge does not carry whole missing classes (Hinton et al. 2015, section 3, recovered
much of two missing digits only after raising their output biases). tests/test_beyond.py
asserts the order over seeds 0-2."""
import torch

from .. import _check, teachers
from ..data import Split
from ..train import predict
from . import _runs

TEACHER = "digits/cnn"
STUDENT_WIDTH = (32,)
RECIPE = dict(temperature=4.0, alpha=1.0, epochs=60, lr=3e-3)
SETS = {
    "real images": "the training images, labels unused",
    "20 augmented": "2 real images per digit, each copy shifted by up to a pixel and noised",
    "20 repeated": "the same 20 real images, unchanged",
    "digits 0-4": "the training images of digits 0 to 4 only, repeated to as many inputs as the others",
    "noise": "uniform noise in [0, 1] per pixel",
}


def inputs(name, seed=0):
    """The transfer set `name` (one of SETS) as inputs (N, 1, 8, 8), drawn with `seed`."""
    _check.one_of("name", name, SETS)
    train, g = _runs.digits().train, torch.Generator().manual_seed(seed)
    n = len(train)
    few = train.x[torch.cat([torch.nonzero(train.y == c)[:2, 0] for c in range(10)])]
    if name == "real images":
        return train.x
    if name == "digits 0-4":  # as many inputs as the others: fewer classes, not fewer inputs
        low = train.x[train.y < 5]
        return low.repeat(n // len(low) + 1, 1, 1, 1)[:n]
    if name == "noise":
        return torch.rand(train.x.shape, generator=g)
    repeated = few.repeat(n // len(few) + 1, 1, 1, 1)[:n]
    if name == "20 repeated":
        return repeated
    shifts = torch.randint(-1, 2, (n, 2), generator=g).tolist()
    shifted = torch.stack([torch.roll(x, tuple(s), dims=(-2, -1)) for x, s in zip(repeated, shifts)])
    return (shifted + 0.1 * torch.randn(shifted.shape, generator=g)).clamp(0, 1)


def distil_on(inputs, teacher=None, seed=0, stop=None):
    """(student, Result): the MLP student distilled from `teacher` (digits/cnn by default)
    on `inputs` alone (alpha = 1: the teacher's soft labels are the only targets; the
    split's labels are the teacher's top class, recorded but unused)."""
    if not isinstance(inputs, torch.Tensor) or inputs.ndim != 4 or tuple(inputs.shape[1:]) != (1, 8, 8):
        raise ValueError(f"inputs must be a tensor of digits images (N, 1, 8, 8), got "
                         f"{tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__}")
    if len(inputs) == 0:
        raise ValueError("inputs must hold at least one image (an empty transfer set teaches nothing), got 0")
    if not inputs.is_floating_point():
        raise ValueError(f"inputs must be float images with pixels in [0, 1] (as digits are), got dtype {inputs.dtype}")
    teacher = teacher if teacher is not None else teachers.get(TEACHER, device="cpu", progress=False)
    split = Split(inputs.float(), predict(teacher, inputs.float()).argmax(1))  # labels unused at alpha = 1
    return _runs.student(_runs.on(split), STUDENT_WIDTH, seed, teacher=teacher, stop=stop, **RECIPE)


def run(seed=0, sets=tuple(SETS), stop=None):
    """Distil the student on each transfer set in `sets`; {"sets": [{"name", "about",
    "inputs", "student_acc", "agreement"}], "teacher_acc", "setting", "stopped"}."""
    if isinstance(sets, str) or not sets:
        raise ValueError(f"sets must be a non-empty list of transfer sets among {list(SETS)}, got {sets!r}")
    for name in sets:
        _check.one_of("sets", name, SETS)
    teacher = teachers.get(TEACHER, device="cpu", progress=False)
    test = _runs.digits().test
    out = {"sets": [], "teacher_acc": float((predict(teacher, test.x).argmax(1) == test.y).float().mean()),
           "stopped": False,
           "setting": (f"MLP {STUDENT_WIDTH[0]} student distilled from {TEACHER} at T = {RECIPE['temperature']:g}, "
                       f"alpha = 1, {RECIPE['epochs']} epochs, seed {seed}")}
    try:
        for name in sets:
            x = inputs(name, seed)
            student, res = distil_on(x, teacher, seed, stop=stop)
            agree = float((predict(student, test.x).argmax(1) == predict(teacher, test.x).argmax(1)).float().mean())
            out["sets"].append({"name": name, "about": SETS[name], "inputs": len(x),
                                "student_acc": res.metrics["test_acc"], "agreement": agree})
    except _runs.Stopped:
        out["stopped"] = True
    return out
