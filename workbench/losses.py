"""Distillation losses as plain functions of tensors, named after what they compute.

Reductions follow RepDistiller's for image KD (sum over classes, mean over the batch) and
TRL's GKD trainer for token-level KD (sum over the vocabulary, mean over the unmasked
positions), so a value here means the same as a value there.

The KL-type losses compute their log-probabilities and reduction in float64 and return the
input's dtype: at a high temperature log p_t − log p_s is the difference of two numbers
near −log C, and in float32 that cancellation made T²·KL of two close distributions 6-96%
wrong at T = 50 and negative at T = 1000 (measurements beside _check.TEMPERATURE_MAX).
Float64 is exact for the float32 logits and keeps the result within 1e-6 of the reference
across the accepted temperatures; autograd casts the gradient back to the logits' dtype."""
import math

import torch
import torch.nn.functional as F

from . import _check


def soft_targets(logits, temperature):
    """softmax(logits / T): the teacher's soft labels at temperature T (Hinton et al. 2015)."""
    temperature = _check.temperature("temperature", temperature)
    _check.logits("logits", logits)
    return F.softmax(logits / temperature, dim=-1)


def _log_probs64(logits, temperature):
    """log softmax(logits / T) in float64 (exact for float32 or bfloat16 logits)."""
    return F.log_softmax(logits.double() / temperature, dim=-1)


def _result_dtype(a, b):
    return torch.promote_types(a.dtype, b.dtype)


def kd_loss(student_logits, teacher_logits, temperature):
    """Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network":

        T² · mean_batch Σ_c p_t,c · (log p_t,c − log p_s,c),   p = softmax(logits / T)

    i.e. KL(p_t ‖ p_s) at temperature T. The T² factor keeps the gradient's size roughly
    independent of T (the soft-target gradients scale as 1/T²), so the weight alpha means
    the same at every temperature. Computed in float64 (module docstring), returned in the
    logits' dtype."""
    temperature = _check.temperature("temperature", temperature)
    _check.logits("student_logits", student_logits, ndim=2)
    _check.logits("teacher_logits", teacher_logits, ndim=2)
    _check.same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    log_p_s, log_p_t = _log_probs64(student_logits, temperature), _log_probs64(teacher_logits, temperature)
    kl = _kl(log_p_t, log_p_s).mean() * temperature**2
    return kl.to(_result_dtype(student_logits, teacher_logits))


def _labels(name, labels, batch, num_classes):
    """Class indices of a batch: a 1-D int64 tensor of length `batch`, each in [0, num_classes)."""
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64 or labels.dim() != 1:
        got = f"{str(labels.dtype).replace('torch.', '')} of shape {tuple(labels.shape)}" \
            if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"{name} must be a 1-D int64 (torch.long) tensor of class indices, got {got}")
    if len(labels) != batch:
        raise ValueError(f"{name} must hold one label per row of the logits ({batch}), got {len(labels)}")
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(f"{name} must be class indices in [0, {num_classes}) (the logits' classes), got "
                         f"{sorted(set(labels[outside].tolist()))[:5]}")
    return labels


# The largest weight of a DKD term (tckd_weight, nckd_weight; DistillConfig imports it).
# The authors' code (mdistiller, read at commit a08d46f) uses NCKD weights (their beta) of
# 8 (its default), 6 or 2 on CIFAR-100 at T = 4, and 0.5 (ResNet-34 to ResNet-18) or 2
# (ResNet-50 to MobileNet) on ImageNet at T = 1; its TCKD weight (their alpha) is 1 throughout.
LOSS_WEIGHT_MAX = 100.0


def _loss_weight(name, value):
    return _check.real(name, value, 0.0, LOSS_WEIGHT_MAX)


def _checked_pair(student_logits, teacher_logits, min_classes=1):
    _check.logits("student_logits", student_logits, ndim=2)
    _check.logits("teacher_logits", teacher_logits, ndim=2)
    _check.same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    if student_logits.shape[1] < min_classes:
        raise ValueError(f"student_logits must have at least {min_classes} classes (columns), got "
                         f"{student_logits.shape[1]}")


def _binary_and_rest(log_p, labels):
    """From log-probabilities (B, C) and the labels: log b = (log p_target, log(1 − p_target))
    as (B, 2), and log p̂ = the log-softmax over the C − 1 non-target classes, (B, C − 1).
    log(1 − p_target) is the logsumexp of the non-target log-probabilities (no 1 − p
    cancellation), and log p̂ those minus it."""
    b, c = log_p.shape
    target = F.one_hot(labels, c).bool()
    log_rest = log_p[~target].view(b, c - 1)
    log_other = log_rest.logsumexp(1, keepdim=True)
    return torch.cat([log_p.gather(1, labels[:, None]), log_other], 1), log_rest - log_other


def _dkd_per_sample(student_logits, teacher_logits, labels, temperature):
    """(tckd, nckd) per example, in float64, without the T² factor."""
    log_q, log_p = _log_probs64(student_logits, temperature), _log_probs64(teacher_logits, temperature)
    (bin_q, rest_q), (bin_p, rest_p) = _binary_and_rest(log_q, labels), _binary_and_rest(log_p, labels)
    return _kl(bin_p, bin_q), _kl(rest_p, rest_q)


def dkd_terms(student_logits, teacher_logits, labels, temperature):
    """The two terms of Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu & Liang,
    CVPR 2022, "Decoupled Knowledge Distillation"), each T² · the mean over the batch:

        TCKD = T² · KL(b_t ‖ b_s),   b = (p_target, 1 − p_target)             (target class)
        NCKD = T² · KL(p̂_t ‖ p̂_s),  p̂_i = p_i / (1 − p_target), i ≠ target  (non-target classes)

    with p = softmax(logits / T) and `labels` the true classes. Their reformulation of KD
    (Sec. 3.1) is KD = TCKD + (1 − p_target of the teacher) · NCKD, exact example by
    example (the batch mean of a product is not the product of the means). p̂ is the
    softmax of the non-target logits alone. What the authors' code (mdistiller) computes:
    the same two KL divergences at T, times T², summed over the batch and divided by its
    size; it reaches p̂ by subtracting 1000 from the target logit, which this excludes
    exactly. Computed in float64 (module docstring), returned in the logits' dtype. Needs
    at least 2 classes."""
    temperature = _check.temperature("temperature", temperature)
    _checked_pair(student_logits, teacher_logits, min_classes=2)
    _labels("labels", labels, *student_logits.shape)
    tckd, nckd = _dkd_per_sample(student_logits, teacher_logits, labels, temperature)
    dtype = _result_dtype(student_logits, teacher_logits)
    return (tckd.mean() * temperature**2).to(dtype), (nckd.mean() * temperature**2).to(dtype)


def dkd_loss(student_logits, teacher_logits, labels, temperature=4.0, tckd_weight=1.0, nckd_weight=8.0):
    """Decoupled KD (Zhao et al. 2022): tckd_weight · TCKD + nckd_weight · NCKD (dkd_terms).
    The defaults are the authors' CIFAR-100 defaults (their alpha = 1, beta = 8 at T = 4;
    LOSS_WEIGHT_MAX lists what else their code uses). Hinton's KD is the special case of
    weights 1 and (1 − p_target of the teacher), which is per example and couples NCKD to
    the teacher's confidence; DKD frees the weight of NCKD, the term that carries the dark
    knowledge. Each weight a number in [0, 100].

    This is the DKD term alone. The authors train on cross-entropy (weight 1) + this term,
    the term ramped up linearly over the first 20 epochs in their code (CIFAR-100; 1 epoch
    on ImageNet); DistillConfig(kd_loss="dkd") instead mixes alpha · this + (1 − alpha) ·
    cross-entropy, with no ramp: see its docstring for how the two relate."""
    tckd_weight, nckd_weight = _loss_weight("tckd_weight", tckd_weight), _loss_weight("nckd_weight", nckd_weight)
    tckd, nckd = dkd_terms(student_logits, teacher_logits, labels, temperature)
    return tckd_weight * tckd + nckd_weight * nckd


def standardize(logits):
    """Z-score of each row, Z(z) = (z − mean(z)) / std(z), with the population standard
    deviation std(z) = sqrt(mean((z − mean(z))²)) (1/C, Sun et al. 2024, Algorithm 1). A
    constant row (std 0: an untrained head's zeros) has no scale to divide by: it is only
    centred, Z = 0 (up to the mean's rounding), the uniform distribution under a softmax,
    and its gradient that of the centred logits; never NaN or inf."""
    return standardize_with_std(logits)[0]


def constant_rows(logits):
    """(..., 1) bool: the rows whose entries are all equal. Tested exactly: a constant row's
    mean is rounded, so its centred values can be ~1e-16 rather than 0 (a float64 row of
    0.6779634485126913, C = 7: std 1.1e-16) and dividing by that std gave a gradient of
    2.4e15."""
    return (logits == logits[..., :1]).all(-1, keepdim=True)


def standardize_with_std(logits):
    """(Z, s): `standardize` and the divisor s of each row, (..., 1): its std, or 1 for a
    constant row."""
    centred = logits - logits.mean(-1, keepdim=True)
    var = centred.pow(2).mean(-1, keepdim=True)
    # clamped before the sqrt, so that a constant row's unused branch has a finite gradient (0 · inf is NaN)
    std = torch.where(constant_rows(logits), 1.0, var.clamp(min=torch.finfo(var.dtype).tiny).sqrt())
    return centred / std, std


def _standardized_kd(student_logits, teacher_logits, temperature):
    """Unchecked standardized_kd_loss in float64."""
    log_q = F.log_softmax(standardize(student_logits.double()) / temperature, dim=-1)
    log_p = F.log_softmax(standardize(teacher_logits.double()) / temperature, dim=-1)
    return _kl(log_p, log_q).mean() * temperature**2


def standardized_kd_loss(student_logits, teacher_logits, temperature=2.0):
    """KD with logit standardization (Sun, Ren, Li, Wang & Cao, CVPR 2024, "Logit
    Standardization in Knowledge Distillation"):

        T² · mean_batch KL(softmax(Z(t) / T) ‖ softmax(Z(s) / T)),   Z(z) = (z − mean(z)) / std(z)

    per row, T the base temperature. Each side gets its own temperature,
    T · std of its row: the student matches the teacher's logit relations, not their scale,
    and the loss is unchanged by shifting or by positive scaling of either side's logits.
    Followed: the paper's Algorithm 1, the population standard deviation (divide by C) and
    no epsilon. = kd_loss(Z(s), Z(t), T). The authors' code (logit-standardization-KD)
    divides by torch.std (divide by C − 1) plus 1e-7 instead: its z-scores are
    sqrt((C − 1) / C) times these, so, leaving out the 1e-7, its softmaxes at base
    temperature T are this one's at T' = T · sqrt(C / (C − 1)), while its T² factor is
    (C − 1) / C times T'²:

        theirs(s, t, T) = (C − 1) / C · standardized_kd_loss(s, t, T · sqrt(C / (C − 1)))

    (C = 10: 0.9 times this loss at 1.054 T). Computed in float64, returned in the logits'
    dtype."""
    temperature = _check.temperature("temperature", temperature)
    _checked_pair(student_logits, teacher_logits)
    kl = _standardized_kd(student_logits, teacher_logits, temperature)
    return kl.to(_result_dtype(student_logits, teacher_logits))


def logit_matching(student_logits, teacher_logits):
    """Logit regression (Ba & Caruana 2014, "Do Deep Nets Really Need to be Deep?"; after
    Buciluă, Caruana & Niculescu-Mizil 2006, "Model Compression"): the student regresses
    the teacher's logits with an L2 loss,

        mean_batch ½ · Σ_c (s_c − t_c)².

    Hinton et al. 2015 (section 2.1): at a high temperature, with each row's logits
    centred, kd_loss(s, t, T) → logit_matching(s, t) / C, so KD generalises logit
    matching. Computed in float64, returned in the logits' dtype."""
    _checked_pair(student_logits, teacher_logits)
    diff = student_logits.double() - teacher_logits.double()
    return (0.5 * diff.pow(2).sum(-1).mean()).to(_result_dtype(student_logits, teacher_logits))


def _token_log_probs(student_logits, teacher_logits, temperature, mask):
    """Checked float64 log-softmax of both at T, and the mask (None: every position)."""
    temperature = _check.temperature("temperature", temperature)
    _check.logits("student_logits", student_logits)
    _check.logits("teacher_logits", teacher_logits)
    _check.same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    if mask is not None and (not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool
                             or mask.shape != student_logits.shape[:-1]):
        raise ValueError(f"mask must be a bool tensor of shape {tuple(student_logits.shape[:-1])} (the logits "
                         f"without the vocabulary), got {getattr(mask, 'dtype', type(mask).__name__)} "
                         f"{tuple(getattr(mask, 'shape', ()))}")
    return _log_probs64(student_logits, temperature), _log_probs64(teacher_logits, temperature)


def _masked_mean(per_token, mask, like):
    """Mean over the positions where mask is True (all when None); 0 when none is; in the
    dtype of the logits `like` (a pair)."""
    mean = per_token.mean() if mask is None else (per_token * mask).sum() / mask.sum().clamp(min=1)
    return mean.to(_result_dtype(*like))


def _kl(log_p, log_q):
    """Σ_vocab p (log p − log q) per position."""
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def forward_kl(student_logits, teacher_logits, temperature=1.0, mask=None):
    """Forward KL, the token-level KD of white-box LLM distillation (Hinton et al. 2015;
    Kim & Rush 2016's word-level KD):

        mean over positions of Σ_vocab p_t (log p_t − log p_s),   p = softmax(logits / T)

    over the positions where `mask` is True (all when None), with no T² factor (TRL's
    GKD reduction). Mean-seeking: the student must cover every token the teacher gives
    mass to. Logits are (..., vocab)."""
    log_ps, log_pt = _token_log_probs(student_logits, teacher_logits, temperature, mask)
    return _masked_mean(_kl(log_pt, log_ps), mask, (student_logits, teacher_logits))


def reverse_kl(student_logits, teacher_logits, temperature=1.0, mask=None):
    """Token-level reverse KL:

        mean over positions of Σ_vocab p_s (log p_s − log p_t)

    same reduction as forward_kl. MiniLLM (Gu et al. 2024) minimises the sequence-level
    reverse KL on the student's own samples by policy gradient; GKD (Agarwal et al. 2024)
    uses this token-level form on student samples; on the teacher's text it is neither.
    Mode-seeking: a student too small to cover all the teacher's modes puts its mass on
    one of them rather than between them."""
    log_ps, log_pt = _token_log_probs(student_logits, teacher_logits, temperature, mask)
    return _masked_mean(_kl(log_ps, log_pt), mask, (student_logits, teacher_logits))


def generalized_jsd(student_logits, teacher_logits, temperature=1.0, mask=None, *, beta=0.5):
    """Generalized Jensen-Shannon divergence (GKD, Agarwal et al. 2024, eq. 1):

        β · KL(p_t ‖ m) + (1 − β) · KL(p_s ‖ m),   m = β · p_t + (1 − β) · p_s

    same reduction and positional arguments as forward_kl (β is keyword-only). As in
    TRL's GKD trainer, β = 0 is exactly forward KL and β = 1 exactly reverse KL. The
    formula itself vanishes at both ends (near β = 0 it is about β · KL(p_t ‖ p_s), near
    β = 1 about (1 − β) · KL(p_s ‖ p_t)), so values for 0 < β < 1 are on a smaller scale."""
    beta = _check.unit_interval("beta", beta)
    log_ps, log_pt = _token_log_probs(student_logits, teacher_logits, temperature, mask)
    if beta == 0:
        return _masked_mean(_kl(log_pt, log_ps), mask, (student_logits, teacher_logits))
    if beta == 1:
        return _masked_mean(_kl(log_ps, log_pt), mask, (student_logits, teacher_logits))
    log_m = torch.logaddexp(log_pt + math.log(beta), log_ps + math.log(1 - beta))
    return _masked_mean(beta * _kl(log_pt, log_m) + (1 - beta) * _kl(log_ps, log_m), mask,
                        (student_logits, teacher_logits))


TOKEN_LOSSES = {"forward_kl": forward_kl, "reverse_kl": reverse_kl, "jsd": generalized_jsd}


def _features(name, x, min_dim=2):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() < min_dim:
        raise ValueError(f"{name} must be a floating-point torch.Tensor with at least {min_dim} dimensions "
                         f"(batch first), got {getattr(x, 'shape', type(x).__name__)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} must be finite; it contains NaN or inf")
    return x


def _same_batch(fs, ft):
    if len(fs) != len(ft):
        raise ValueError(f"student and teacher features must have the same batch size, got {len(fs)} and {len(ft)}")


def hint_loss(student_features, teacher_features):
    """FitNets (Romero et al. 2015): mean over all elements of (f_s − f_t)², where f_s has
    already gone through the student's regressor (a linear or 1×1-conv layer) to the
    teacher's shape.

    The paper trains in two stages: first the student's layers up to the guided layer,
    with a convolutional regressor, on this hint loss alone; then the whole student by
    KD. The workbench adds the hint as a term of the KD loss and trains it jointly with
    the student from the start (DistillConfig.feature_loss="hint"): a one-stage variant."""
    _features("student_features", student_features)
    _features("teacher_features", teacher_features)
    if student_features.shape != teacher_features.shape:
        raise ValueError(f"student_features must have the teacher's shape {tuple(teacher_features.shape)}, got "
                         f"{tuple(student_features.shape)}: pass them through a regressor first "
                         f"(wb.models.regressor, as DistillConfig.feature_pairs does)")
    return F.mse_loss(student_features, teacher_features)


def attention_map(f, p=2):
    """a(f) = L2-normalise(mean over channels of f^p), flattened per sample (Zagoruyko &
    Komodakis 2017)."""
    return F.normalize(f.pow(p).mean(1).flatten(1), dim=1)


def attention_transfer(student_features, teacher_features, p=2):
    """Attention transfer (Zagoruyko & Komodakis 2017): mean over batch and positions of
    (a(f_s) − a(f_t))², a(f) = L2-normalise(mean_channels f^p). Channel counts may
    differ; when the maps differ in size the larger is average-pooled to the smaller."""
    fs = _features("student_features", student_features, min_dim=4)
    ft = _features("teacher_features", teacher_features, min_dim=4)
    _same_batch(fs, ft)
    return _attention_transfer(fs, ft, p)


def _attention_transfer(fs, ft, p=2):
    hs, ht = fs.shape[-2:], ft.shape[-2:]
    if hs != ht:
        small = (min(hs[0], ht[0]), min(hs[1], ht[1]))
        fs, ft = F.adaptive_avg_pool2d(fs, small), F.adaptive_avg_pool2d(ft, small)
    return (attention_map(fs, p) - attention_map(ft, p)).pow(2).mean()


def similarity_preserving(student_features, teacher_features):
    """Similarity-preserving KD (Tung & Mori 2019): G = f·fᵀ of the flattened batch with
    rows L2-normalised, loss Σ (G_t − G_s)² / B². Works across feature widths."""
    fs = _features("student_features", student_features)
    ft = _features("teacher_features", teacher_features)
    _same_batch(fs, ft)
    return _similarity_preserving(fs, ft)


def similarity_matrix(features):
    """The matrix similarity-preserving KD compares (Tung & Mori 2019): the batch's Gram
    matrix G = F·Fᵀ of the flattened features F (B × d), each row then divided by its L2
    norm, G̃[i, :] = G[i, :] / ‖G[i, :]‖₂. B × B whatever d, in the features' dtype and
    device. Not the cosines: its rows, not its diagonal, have norm 1."""
    f = features.flatten(1)
    return F.normalize(f @ f.t(), dim=1)


def _similarity_preserving(fs, ft):
    return (similarity_matrix(ft) - similarity_matrix(fs)).pow(2).sum() / len(fs) ** 2


def normalised_distances(e):
    """Pairwise Euclidean distances of a batch divided by the mean off-diagonal distance.
    Written out (|a|² + |b|² − 2a·b) rather than torch.cdist, whose CPU backward is
    several times slower; the diagonal is exactly 0 with a zero gradient."""
    e = e.flatten(1)
    sq = (e * e).sum(1)
    d2 = (sq[:, None] + sq[None, :] - 2 * e @ e.t()).clamp(min=1e-12)
    d = d2.sqrt() * (1 - torch.eye(len(e), device=e.device, dtype=e.dtype))
    return d / (d.sum() / max(len(e) * (len(e) - 1), 1))


def rkd_distance(student_embeddings, teacher_embeddings):
    """RKD distance (Park et al. 2019): pairwise Euclidean distances of the batch, each
    matrix divided by the mean of its off-diagonal entries; smooth-L1 (β = 1), mean over
    all B² entries. Unchanged when both embeddings are scaled. Paper's weight: 25."""
    es = _features("student_embeddings", student_embeddings)
    et = _features("teacher_embeddings", teacher_embeddings)
    _same_batch(es, et)
    return _rkd_distance(es, et)


def _rkd_distance(es, et):
    # the B(B − 1)/2 distances of F.pdist (one autograd node) rather than the B×B matrix:
    # the diagonal is 0 on both sides and each pair appears twice among the B² entries
    with torch.no_grad():  # the teacher's side is a constant target
        dt = F.pdist(et.flatten(1))
        dt = dt / dt.mean().clamp(min=1e-12)
    ds = F.pdist(es.flatten(1))
    return F.smooth_l1_loss(ds / ds.mean().clamp(min=1e-12), dt, reduction="sum") * (2 / len(es) ** 2)


def _angles(e):
    """cos of the angle at x_i between x_j − x_i and x_k − x_i, at [i, j, k] for all B³
    triples, by the law of cosines: (d_ij² + d_ik² − d_jk²) / (2 · d_ij · d_ik). It needs
    the B×B distances only, never the B×B×D difference vectors (gigabytes for wide
    features); where x_j or x_k coincides with x_i the cosine is 0."""
    e = e.flatten(1)
    e = e - e.mean(0)  # angles ignore the origin; centring keeps |a|² + |b|² − 2a·b precise
    sq = (e * e).sum(1)
    d2 = (sq[:, None] + sq[None, :] - 2 * e @ e.t()).clamp(min=0)
    # closer than float rounding of the Gram form can tell apart: the same point
    same = d2 <= 16 * torch.finfo(e.dtype).eps * sq.max().detach()
    inv = torch.where(same, 0.0, torch.where(same, 1.0, d2).rsqrt())  # 1 / d_ij; the inner where keeps
    # the unused branch finite, or its gradient would be 0 · inf = NaN
    cos = (d2[:, :, None] + d2[:, None, :] - d2[None, :, :]) * (0.5 * inv[:, :, None] * inv[:, None, :])
    return cos.clamp(-1, 1).flatten()


def rkd_angle(student_embeddings, teacher_embeddings):
    """RKD angle (Park et al. 2019): cosines of the angle at i between x_j − x_i and
    x_k − x_i for all B³ triples; smooth-L1, mean over B³. Paper's weight: 50."""
    es = _features("student_embeddings", student_embeddings)
    et = _features("teacher_embeddings", teacher_embeddings)
    _same_batch(es, et)
    return _rkd_angle(es, et)


def _rkd_angle(es, et):
    with torch.no_grad():
        target = _angles(et)
    return F.smooth_l1_loss(_angles(es), target)


# The training loop calls these without the argument checks (shapes are fixed once per
# run; an isfinite check of every batch would cost more than the loss itself).
UNCHECKED = {
    "hint": F.mse_loss,
    "attention": _attention_transfer,
    "rkd_distance": _rkd_distance,
    "rkd_angle": _rkd_angle,
    "rkd": lambda s, t: _rkd_distance(s, t) + 2 * _rkd_angle(s, t),  # Park et al.'s 25 : 50
    "similarity": _similarity_preserving,
}
