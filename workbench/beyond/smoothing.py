"""Label smoothing and distillation (Müller, Kornblith & Hinton 2019, "When Does Label
Smoothing Help?"; Yuan, Tay, Li, Wang & Feng 2020, "Revisiting Knowledge Distillation via
Label Smoothing Regularization").

Label smoothing trains on targets (1 − ε)·one-hot + ε/C. Müller et al. showed it pulls
each class's examples into tight, equidistant clusters, erasing the information on
which wrong classes an example resembles, and that a teacher trained with it makes a
worse teacher for distillation. Yuan et al. read KD as learned label smoothing and asked
how much of KD's gain a hand-made "teacher" (label smoothing alone, a uniform spread of
ε over the classes) already gives.

The setting (digits): MLP 256x256 teachers trained on all training images with ε = 0,
0.1 and 0.3 (60 epochs); an MLP student (32 hidden units) distilled at T = 4, alpha =
0.9 on 10% of the training images (the Distillation lab's recipe); a student trained on
hard labels, and one with label smoothing alone (ε chosen on the validation split).

Dark knowledge left, `wrong_class_evenness`: the entropy of the teacher's probabilities
over the wrong classes (renormalised) as a share of log 9, averaged over validation
images at T = 4: 1 means every wrong class is equally likely, nothing said about which
digits look alike.

What it measured (each teacher is one training, seed 0; seeds 0-3 vary the students: their
images, initial weights and batches): the smoothed teachers are as accurate (0.978 vs 0.972) but
their wrong-class evenness at T = 4 rises from 0.68 to 0.996 (ε = 0.1) and 0.999 (ε =
0.3). Their students end lower: 0.917-0.947 from the plain teacher, 0.889-0.925 (ε =
0.1) and 0.881-0.897 (ε = 0.3), each seed's ε = 0.3 student 2-6 points below its plain
one. Label smoothing alone gives none of KD's gain here: within ±2.5 points of hard
labels (0.87-0.92) while the plain teacher adds 3-7 points. tests/test_beyond.py asserts
these over seeds."""
import math

import torch

from .. import _check
from ..analysis import dark_knowledge
from ..train import predict
from . import _runs

TEACHER_WIDTH, STUDENT_WIDTH = (256, 256), (32,)
EPSILONS = (0.0, 0.1, 0.3)
UNIFORM_EPSILONS = (0.05, 0.1, 0.2, 0.3)  # the uniform "teacher"'s ε, chosen on the validation split
FRACTION, TEMPERATURE, ALPHA = 0.1, 4.0, 0.9


def wrong_class_evenness(logits, labels, temperature):
    """Mean over examples of H(wrong-class probabilities, renormalised) / log(C − 1) at
    temperature T: 1 when the wrong classes are equally likely (no dark knowledge), lower
    the more they differ."""
    p = (logits.double() / _check.temperature("temperature", temperature)).softmax(1)
    wrong = torch.ones_like(p, dtype=torch.bool)
    wrong[torch.arange(len(labels)), labels] = False
    q = p[wrong].view(len(labels), -1)
    q = q / q.sum(1, keepdim=True)
    return float((-(q * q.clamp_min(1e-300).log()).sum(1)).mean() / math.log(q.shape[1]))


def run(seed=0, epsilons=EPSILONS, stop=None):
    """{"teachers": [{"label_smoothing", "teacher_acc", "dark_knowledge" (C x C lists, T = 4,
    validation images), "wrong_class_evenness", "student_acc"}], "hard_labels",
    "uniform_teacher", "uniform_epsilon", "setting", "stopped"}."""
    if isinstance(epsilons, (str, bytes)) or not hasattr(epsilons, "__iter__") or not list(epsilons):
        raise ValueError(f"epsilons must be a non-empty list of label-smoothing values in [0, 1), got {epsilons!r}")
    bad = [e for e in epsilons if _check._real(e) is None or not 0 <= _check._real(e) < 1]
    if bad:
        raise ValueError(f"epsilons must be label-smoothing values in [0, 1) (1 would be a uniform target), got {bad!r}")
    epsilons = [_check._real(e) for e in epsilons]
    splits, transfer = _runs.digits(), _runs.share(FRACTION, seed)
    out = {"teachers": [], "stopped": False,
           "setting": (f"MLP {STUDENT_WIDTH[0]} student on {FRACTION:.0%} of the training images, T = "
                       f"{TEMPERATURE:g}, alpha = {ALPHA:g}, seed {seed}; MLP 256x256 teachers on all of them")}
    try:
        for eps in epsilons:
            teacher, teacher_acc = _runs.teacher(TEACHER_WIDTH, label_smoothing=eps, stop=stop)
            _, res = _runs.student(transfer, STUDENT_WIDTH, seed, teacher=teacher, stop=stop,
                                   temperature=TEMPERATURE, alpha=ALPHA)
            out["teachers"].append({
                "label_smoothing": eps, "teacher_acc": teacher_acc, "student_acc": res.metrics["test_acc"],
                "dark_knowledge": dark_knowledge(teacher, splits.val, TEMPERATURE).tolist(),
                "wrong_class_evenness": wrong_class_evenness(predict(teacher, splits.val.x), splits.val.y,
                                                             TEMPERATURE)})
        hard = _runs.student(transfer, STUDENT_WIDTH, seed, stop=stop)[1].metrics["test_acc"]
        smoothed = {eps: _runs.student(transfer, STUDENT_WIDTH, seed, stop=stop, label_smoothing=eps)[1].metrics
                    for eps in UNIFORM_EPSILONS}
    except _runs.Stopped:
        out["stopped"] = True
        return out
    best = max(UNIFORM_EPSILONS, key=lambda eps: smoothed[eps]["val_acc"])  # chosen on validation, not test
    out.update(hard_labels=hard, uniform_teacher=smoothed[best]["test_acc"], uniform_epsilon=best)
    return out
