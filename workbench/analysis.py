"""What a teacher knows and how a student compares: soft labels, entropy, dark knowledge,
agreement and calibration. Functions take logits (tensors) or a model and a Split."""
import torch
from torchmetrics.functional.classification import multiclass_calibration_error

from . import _check
from .data import Split
from .losses import soft_targets
from .train import predict


def soft_labels(logits, temperature):
    """softmax(logits / T) (Hinton et al. 2015): higher T spreads mass onto the wrong
    classes, whose relative sizes are the dark knowledge."""
    return soft_targets(logits, temperature)


def entropy(probs):
    """Shannon entropy −Σ p log p in nats, along the last dimension (0 for one-hot,
    log C for uniform over C classes)."""
    if not isinstance(probs, torch.Tensor) or not torch.isfinite(probs).all() or (probs < 0).any():
        raise ValueError("probs must be a finite, non-negative torch.Tensor of probabilities")
    return torch.distributions.Categorical(probs=probs).entropy()


def wrong_class_mass(probs, labels):
    """Probability put on every class except the true one: the dark knowledge's total mass."""
    labels = torch.as_tensor(labels, device=probs.device)
    return 1.0 - probs.gather(-1, labels.reshape(*probs.shape[:-1], 1)).squeeze(-1)


def _split(name, data):
    if not isinstance(data, Split):
        raise ValueError(f"{name} must be a workbench.data.Split (e.g. splits.test), got {type(data).__name__}")
    return data


def dark_knowledge(teacher, data, temperature):
    """Class × class matrix M: M[i, j] = mean over examples of true class i of the
    teacher's soft label for class j at temperature T. Rows sum to 1; the off-diagonal
    entries say which classes the teacher finds alike."""
    _check.positive("temperature", temperature)
    data = _split("data", data)
    probs = soft_targets(predict(teacher, data.x), temperature)
    c = probs.shape[1]
    sums = torch.zeros(c, c, device=probs.device).index_add_(0, data.y, probs)
    counts = torch.bincount(data.y, minlength=c).clamp(min=1).unsqueeze(1)
    return (sums / counts).cpu()


def most_confusable(matrix, classes, k=5):
    """The k largest off-diagonal entries of a dark-knowledge matrix as
    (true class, confused with, probability), largest first."""
    off = matrix.clone().fill_diagonal_(float("-inf"))
    values, flat = off.flatten().topk(min(k, off.numel() - len(off)))
    c = matrix.shape[1]
    return [(classes[i // c], classes[i % c], v) for i, v in zip(flat.tolist(), values.tolist())]


def accuracy(logits, labels):
    return (logits.argmax(-1) == labels).float().mean().item()


def per_class_accuracy(logits, labels, num_classes=None):
    """Accuracy on the examples of each true class (NaN where a class has no example)."""
    num_classes = num_classes or logits.shape[1]
    correct = (logits.argmax(1) == labels).float()
    hits = torch.zeros(num_classes, device=logits.device).index_add_(0, labels, correct)
    counts = torch.bincount(labels, minlength=num_classes).float()
    return (hits / counts).cpu()


def agreement(student, teacher, data):
    """Share of examples where student and teacher predict the same class (top-1 fidelity)."""
    data = _split("data", data)
    return accuracy(predict(student, data.x), predict(teacher, data.x).argmax(1))


def expected_calibration_error(logits, labels, n_bins=15):
    """ECE (Guo et al. 2017): Σ_bins |B|/N · |accuracy(B) − confidence(B)| over equal-width
    confidence bins of the top-1 probability."""
    _check.logits("logits", logits, ndim=2)
    return multiclass_calibration_error(torch.softmax(logits, 1), labels, num_classes=logits.shape[1],
                                        n_bins=n_bins, norm="l1").item()


def report(model, data, teacher=None):
    """The comparison-table row of a model on a split: accuracy, calibration, and
    agreement with the teacher when one is given."""
    data = _split("data", data)
    logits = predict(model, data.x)
    row = {"accuracy": accuracy(logits, data.y), "ece": expected_calibration_error(logits, data.y)}
    if teacher is not None:
        row["agreement"] = accuracy(logits, predict(teacher, data.x).argmax(1))
    return row
