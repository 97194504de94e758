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
    uses this token-level form on student samples; on the teacher's text it is neither. Mode-seeking: a student too small to cover all the
    teacher's modes puts its mass on one of them rather than between them."""
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
