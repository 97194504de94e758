"""What a teacher knows and how a student compares: soft labels, entropy, dark knowledge,
agreement and calibration. Functions take logits (tensors) or a model and a Split.

A class with no example in the split gives NaN wherever a result is a mean over that
class's examples (a row of `dark_knowledge`, an entry of `per_class_accuracy`): there is
nothing to average, and a 0 would read as a measurement."""
import numpy as np
import torch
from scipy.linalg import orthogonal_procrustes
from sklearn.decomposition import PCA

from . import _check
from .data import Split
from .features import predict, predict_features
from .losses import normalised_distances, similarity_matrix, soft_targets  # noqa: F401 (public here too)


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
    teacher's soft label for class j at temperature T. Rows sum to 1, except the row of a
    class with no example in `data`, which is NaN (as in `per_class_accuracy`); the
    off-diagonal entries say which classes the teacher finds alike."""
    temperature = _check.temperature("temperature", temperature)
    data = _split("data", data)
    probs = soft_targets(predict(teacher, data.x), temperature)
    c = probs.shape[1]
    sums = torch.zeros(c, c, device=probs.device).index_add_(0, data.y, probs)
    counts = torch.bincount(data.y, minlength=c).unsqueeze(1)
    return (sums / counts).cpu()  # 0 / 0 = NaN for an absent class


def most_confusable(matrix, classes, k=5):
    """The k largest off-diagonal entries of a dark-knowledge matrix as
    (true class, confused with, probability), largest first; the NaN rows of classes
    absent from the split are left out."""
    off = matrix.clone().fill_diagonal_(float("nan"))
    off = torch.where(off.isnan(), float("-inf"), off)  # topk would put NaN first
    values, flat = off.flatten().topk(min(k, int(torch.isfinite(off).sum())))
    c = matrix.shape[1]
    return [(classes[i // c], classes[i % c], v) for i, v in zip(flat.tolist(), values.tolist())]


def accuracy(logits, labels):
    return (logits.argmax(-1) == labels).float().mean().item()


def per_class_accuracy(logits, labels, num_classes=None):
    """Accuracy on the examples of each true class (NaN where a class has no example, as
    in `dark_knowledge`)."""
    num_classes = num_classes or logits.shape[1]
    correct = (logits.argmax(1) == labels).float()
    hits = torch.zeros(num_classes, device=logits.device).index_add_(0, labels, correct)
    counts = torch.bincount(labels, minlength=num_classes).float()
    return (hits / counts).cpu()


def agreement(student, teacher, data):
    """Share of examples where student and teacher predict the same class (top-1 fidelity)."""
    data = _split("data", data)
    return accuracy(predict(student, data.x), predict(teacher, data.x).argmax(1))


def kl_to_teacher(student, teacher, data, temperature=1.0):
    """Mean over the examples of KL(p_teacher ‖ p_student) at temperature T, in nats: how
    far the student's whole predictive distribution is from its teacher's, the second
    fidelity measure of Stanton et al. 2021 ("Does Knowledge Distillation Really Work?")
    beside top-1 agreement. 0 only for a student that copies the teacher exactly."""
    data = _split("data", data)
    temperature = _check.temperature("temperature", temperature)
    log_s = (predict(student, data.x).double() / temperature).log_softmax(1)
    log_t = (predict(teacher, data.x).double() / temperature).log_softmax(1)
    return (log_t.exp() * (log_t - log_s)).sum(1).mean().item()


def expected_calibration_error(logits, labels, n_bins=15):
    """ECE (Guo et al. 2017): Σ_bins |B|/N · |accuracy(B) − confidence(B)| over equal-width
    confidence bins of the top-1 probability; a confidence on a boundary joins the bin
    above it. Written out here rather than taken from torchmetrics, whose import costs each
    app kernel 150 MB of memory (it pulls in sympy, torchvision and transformers)."""
    _check.logits("logits", logits, ndim=2)
    confidence, predicted = torch.softmax(logits.float(), 1).max(1)
    correct = (predicted == labels).float()
    edges = torch.linspace(0, 1, n_bins + 1, device=logits.device)
    bins = torch.bucketize(confidence, edges, right=True) - 1
    count = torch.zeros(n_bins + 1, device=logits.device).index_add_(0, bins, torch.ones_like(confidence))
    gap = torch.zeros(n_bins + 1, device=logits.device).index_add_(0, bins, correct - confidence)
    return (gap.abs().sum() / count.sum()).item()


def report(model, data, teacher=None):
    """The comparison-table row of a model on a split: accuracy, calibration, and
    agreement with the teacher when one is given."""
    data = _split("data", data)
    logits = predict(model, data.x)
    row = {"accuracy": accuracy(logits, data.y), "ece": expected_calibration_error(logits, data.y)}
    if teacher is not None:
        row["agreement"] = agreement(model, teacher, data)
        row["kl_to_teacher"] = kl_to_teacher(model, teacher, data)
    return row


def features(model, x, layer):
    """The named layer's output for inputs x, flattened per example (eval mode)."""
    return predict_features(model, x, [layer])[1][layer].flatten(1)


def _centred_pair(x, y, min_rows=2):
    """x and y as float64 n × d matrices (one row per example, the rest flattened),
    each column centred; a ValueError names what is wrong with them."""
    for name, f in (("x", x), ("y", y)):
        if not isinstance(f, torch.Tensor) or f.dim() < 2:
            shape = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
            raise ValueError(f"{name} must be a torch.Tensor of features with one row per example "
                             f"(n × d, or n × ... flattened), got {shape}")
    if len(x) != len(y):
        raise ValueError(f"x and y must describe the same examples, got {len(x)} and {len(y)} rows")
    if len(x) < min_rows:
        raise ValueError(f"x and y must have at least {min_rows} rows (examples), got {len(x)}")
    x, y = x.detach().flatten(1).double().cpu(), y.detach().flatten(1).double().cpu()
    for name, f in (("x", x), ("y", y)):
        if not torch.isfinite(f).all():
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    return x - x.mean(0), y - y.mean(0)


def _gram_inner(a, b):
    """⟨K, L⟩_F for the linear Gram matrices K = A Aᵀ and L = B Bᵀ of the same n examples,
    equal to ‖Bᵀ A‖²_F: computed from the n × n Gram matrices when the features are wider
    than there are examples (a conv layer's d can be far above n), else from the d₂ × d₁
    product, so memory is min(n, d)², never d² for n ≪ d."""
    if len(a) < max(a.shape[1], b.shape[1]):
        return ((a @ a.t()) * (b @ b.t())).sum()
    return (b.t() @ a).pow(2).sum()


def linear_cka(x, y):
    """Linear centred kernel alignment (Kornblith et al. 2019) of two feature matrices
    of the same examples (n × d₁, n × d₂; widths may differ):

        CKA = ‖Yᵀ X‖²_F / (‖Xᵀ X‖_F · ‖Yᵀ Y‖_F),  X, Y centred per column,

    or, the same number from the n × n Gram matrices K = X Xᵀ and L = Y Yᵀ:
    ⟨K, L⟩_F / (‖K‖_F · ‖L‖_F) (used when the features are wider than there are examples).

    1 for features equal up to rotation and isotropic scaling. It has NO zero for unrelated
    features: it is built on the biased HSIC estimator, whose bias grows with the widths
    over n. 360 examples of independent Gaussian features 128 and 512 wide already score
    about 0.16, and features that share only the inputs' coarse structure score far higher
    (on digits, raw pixels against a CNN's first block: 0.95). Read a value against a
    floor measured on the same batch (the raw inputs, an untrained network), or use
    `debiased_cka`."""
    x, y = _centred_pair(x, y)
    return (_gram_inner(x, y) / (_gram_inner(x, x) * _gram_inner(y, y)).sqrt()).item()


def _unbiased_hsic(a, b):
    """n(n − 3) × the unbiased HSIC estimator of Song et al. (2012) with linear kernels,
    for column-centred a and b (n × d):

        n(n−3)·HSIC₁ = tr(K̃ L̃) + (1ᵀK̃1)(1ᵀL̃1) / ((n−1)(n−2)) − 2/(n−2) · 1ᵀK̃ L̃1,

    K̃ = A Aᵀ and L̃ = B Bᵀ with their diagonals set to 0. With centred columns
    1ᵀK̃1 = −Σᵢ kᵢᵢ and K̃1 = −diag(K), which gives the form computed here:
    ⟨K, L⟩_F − n/(n−2) · Σᵢ kᵢᵢ lᵢᵢ + (Σᵢ kᵢᵢ)(Σᵢ lᵢᵢ) / ((n−1)(n−2))."""
    n = len(a)
    ka, kb = a.pow(2).sum(1), b.pow(2).sum(1)  # the diagonals of K and L
    return _gram_inner(a, b) - n / (n - 2) * (ka @ kb) + ka.sum() * kb.sum() / ((n - 1) * (n - 2))


def debiased_cka(x, y):
    """Linear CKA with the biased HSIC estimator replaced by the unbiased one of Song,
    Smola, Gretton, Bedo & Borgwardt (2012, *Feature Selection via Dependence
    Maximization*), as Nguyen, Raghu & Kornblith (2021, *Do Wide and Deep Networks Learn
    the Same Things?*) computed CKA:

        CKA₁ = HSIC₁(K, L) / √(HSIC₁(K, K) · HSIC₁(L, L)),  K = X Xᵀ, L = Y Yᵀ

    (HSIC₁ is written out in `_unbiased_hsic`). Like `linear_cka` it is 1 for features equal
    up to rotation, isotropic scaling and a shift; unlike it, its numerator is an
    unbiased estimate of the population HSIC, so for independent features it is about 0 on
    average at any width (single batches scatter around 0 and can be negative). Only the
    numerator and the two norms are unbiased, not their ratio. Needs n >= 4 examples."""
    x, y = _centred_pair(x, y, min_rows=4)
    xx, yy = _unbiased_hsic(x, x), _unbiased_hsic(y, y)
    for name, v in (("x", xx), ("y", yy)):
        if not v > 0:
            raise ValueError(f"{name} must vary across examples: its unbiased HSIC with itself is {v.item():.3g}, "
                             "not > 0 (constant features, or too few examples)")
    return (_unbiased_hsic(x, y) / (xx * yy).sqrt()).item()


def project_2d(feats, reference=None):
    """2-D PCA of features (scikit-learn). With `reference` (another n × 2 projection of
    the same examples) the result is rotated, reflected and scaled onto it by orthogonal
    Procrustes (SciPy), so two models' pictures can be compared point by point."""
    points = PCA(n_components=2).fit_transform(feats.flatten(1).double().cpu().numpy())
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64)
        rotation, _ = orthogonal_procrustes(points, ref)
        points = points @ rotation
        points *= np.linalg.norm(ref) / max(np.linalg.norm(points), 1e-12)
    return points


def probe_batch(split, per_class=4):
    """A fixed probe batch of a split: its first `per_class` examples of each class
    present, sorted by class, so that relation matrices show one block per class."""
    split = _split("split", split)
    idx = torch.cat([torch.nonzero(split.y == c).flatten()[:per_class] for c in split.y.unique().tolist()])
    return Split(split.x[idx], split.y[idx])


def relation_matrix(feats, kind="distance"):
    """Pairwise relations of a batch: "distance" (Euclidean, divided by the mean
    off-diagonal distance, as RKD sees it) or "cosine" similarity. The matrix
    similarity-preserving KD compares is not the cosines: see `similarity_matrix`."""
    _check.one_of("kind", kind, ("distance", "cosine"))
    f = feats.flatten(1).float()
    if kind == "cosine":
        f = torch.nn.functional.normalize(f, dim=1)
        return (f @ f.t()).cpu()
    return normalised_distances(f).cpu()
