"""The response-based part of a training step: its cross-entropies and, written out, their
gradient with respect to the student's logits z.

    loss = Σ_k w_k · CE(s_k · z, t_k),   ∂loss/∂z = Σ_k w_k · s_k · (softmax(s_k · z) − t_k) / B

Hard labels are one term (s = 1, t = one-hot y, w = 1). Distillation (Hinton et al. 2015)
is two: (s = 1, t = one-hot y, w = 1 − alpha) and (s = 1/T, t = the teacher's soft labels,
w = alpha · T²); CE to the soft labels is their KL plus the teacher's entropy, a constant,
so the gradients are those of kd_loss.

Why by hand: on the CPU every autograd node of a small batch costs ~15 µs, and torch's
log_softmax along a short class dimension (10 digits) ~30 µs forward and ~19 µs backward
on a batch of 128, where the same numbers laid out (classes, batch) take under 6 µs (torch
2.14). Two F.cross_entropy calls put ~10 nodes and two slow log-softmaxes in each step of
a small student (~0.5 ms), so a distillation step cost 1.4× a hard-label step. Here all
terms share one log_softmax in the (term, class, batch) layout, the targets come in it
(the loop gathers them so), and the gradient is a few elementwise ops;
hard-label training takes the same path, so the two stay comparable. The training loop
hands the gradient to torch.autograd.backward; tests check values and gradients against
F.cross_entropy and wb.losses.kd_loss (dkd_loss, standardized_kd_loss).

Decoupled KD and logit standardization take the same path: DKD as cross-entropies
(dkd_weights), the standardized term as one on the z-scored logits
(standardized_cross_entropies_and_grad). The Distillation lab's default run costs 1.08-1.09x
a KD run with DKD and 1.10-1.11x with logit standardization, against 1.56x and 1.27x written
with autograd (wb.losses; bench/bench_losses.py, docs/speed.md)."""
import torch

FAR = -1e30  # a logit that softmax turns into exactly 0 (finite, so 0 · (FAR − FAR) = 0, never NaN)


@torch.no_grad()
def cross_entropies_and_grad(logits, targets, scales, weights, masks=None, target_sums=None):
    """(ces, grad) for logits (B, C), targets (K, C, B), scales and weights (K,): with
    q_k = softmax(scales[k] · logits) per example, ces[k] = the batch mean of CE(q_k, t_k)
    = −Σ_c t_k · log q_k, and grad = ∂(Σ_k weights[k] · ces[k]) / ∂logits, which is
    Σ_k weights[k] · scales[k] · (Σ_c t_k · q_k − t_k) / B, and q_k − t_k where the targets
    sum to 1. masks (M, C, B), optional, are added to the last M terms' scaled logits (FAR
    leaves a class out of their softmax); target_sums (K, 1, B), optional, are the targets'
    sums where they are not 1. Not checked: the loop fixes shapes."""
    u = logits.t()[None] * scales[:, None, None]  # (K, C, B): over classes, the fast layout
    if masks is not None:
        u[len(u) - len(masks):] += masks
    ces, grads = _terms_and_grads(u, targets, scales, weights, target_sums)
    return ces, grads.sum(0).t()


@torch.no_grad()
def standardized_cross_entropies_and_grad(logits, targets, scales, weights):
    """cross_entropies_and_grad with logit standardization (Sun et al. 2024): two terms, the
    first (the labels) on the logits, the second (the soft labels of the teacher's z-scored
    logits) on their z-scores Z, its gradient taken back through the z-score
    (through_standardization)."""
    z, std = standardized_and_std(logits)
    u = torch.stack([logits, z]).transpose(1, 2) * scales[:, None, None]
    ces, grads = _terms_and_grads(u, targets, scales, weights)
    grads = grads.transpose(1, 2)
    return ces, grads[0] + through_standardization(grads[1], z, std)


def _terms_and_grads(u, targets, scales, weights, target_sums=None):
    """(ces, the terms' gradients (K, C, B), unsummed) from scaled logits u (K, C, B)."""
    log_q = u.log_softmax(1)
    ces = (targets * log_q).sum((1, 2)).mul_(-1 / u.shape[2])
    q = log_q.exp_() if target_sums is None else log_q.exp_().mul_(target_sums)
    return ces, (q - targets) * (weights * scales / u.shape[2])[:, None, None]


@torch.no_grad()
def kd_term(logits, teacher_logits, temperature):
    """T² · mean_batch KL(softmax(teacher_logits / T) ‖ softmax(logits / T)), the number
    wb.losses.kd_loss gives, for a training history: computed in float64 from both sides'
    logits, returned as a float64 0-d tensor. Not checked: the loop fixes shapes.

    Why not T² · soft cross-entropy − T² · the teacher's entropy in float32: the two are
    each near T² · ln C and their difference is the KL, which that cancellation loses. For
    a student 0.01 (logit noise) from its teacher, B = 128, C = 10, it was 4-6% off at
    T = 4, 10-12x at T = 50 and 5000x at T = 1000; this stays within 1e-6 of a float64
    reference (tests/test_precision.py)."""
    log_q = (logits.double() / temperature).log_softmax(-1)
    log_p = (teacher_logits.double() / temperature).log_softmax(-1)
    return (log_p.exp() * (log_p - log_q)).sum(-1).mean() * temperature**2


def dkd_weights(tckd_weight, nckd_weight):
    """Decoupled KD (Zhao et al. 2022) as three of cross_entropies_and_grad's soft terms
    at T: their weights (3,). Zhao et al.'s Eq. (1), KD = TCKD + (1 − p_t) · NCKD per
    example, turns the loss into

        w_t · TCKD + w_n · NCKD = w_t · KD + w_n · NCKD − w_t · (1 − p_t) · NCKD

    The terms' targets (teacher_outputs.decoupled_soft_labels_and_entropy): KD's, p =
    softmax(teacher / T); NCKD's, p̂, the teacher's softmax over the non-target classes,
    with the target left out of the student's softmax too (masks of FAR); and, on the same
    masked softmax, p with its target zeroed, (1 − p_t) · p̂, which sums to 1 − p_t: its
    term is (1 − p_t) · NCKD, gradient and value. Each value is T² · (cross-entropy − the
    teacher's entropy), and TCKD = KD − the third. Tests check the terms and the gradient
    against wb.losses.dkd_loss."""
    return torch.tensor([tckd_weight, nckd_weight, -tckd_weight])


@torch.no_grad()
def standardized_and_std(logits):
    """(Z, std): each row's z-score and its std, as wb.losses.standardize_with_std (a
    constant row only centred, its std taken as 1). Sums times 1 / C: torch's mean along a
    short dimension costs twice as much on the CPU."""
    c = logits.shape[1]
    centred = logits - logits.sum(1, keepdim=True).mul_(1 / c)
    std = (centred * centred).sum(1, keepdim=True).mul_(1 / c).sqrt_()
    low, high = torch.aminmax(logits, dim=1, keepdim=True)
    std.masked_fill_(low == high, 1.0)  # a constant row, tested exactly (wb.losses.constant_rows)
    return centred.div_(std), std


@torch.no_grad()
def through_standardization(grad, z, std):
    """∂/∂logits from g = ∂/∂Z (B, C) through Z = (logits − mean) / std, the population std:

        ∂/∂logits = (g − mean(g) − Z · mean(g · Z)) / std     (means over the C classes)

    with mean(g) = 0 left out: g is a softmax minus targets that sum to 1, per row (Sun et
    al. 2024's loss, logit standardization, through cross_entropies_and_grad). A constant
    row (Z = 0, std 1) gets g back: the gradient of the centred logits."""
    return torch.addcmul(grad, z, (grad * z).sum(1, keepdim=True), value=-1 / z.shape[1]).div_(std)
