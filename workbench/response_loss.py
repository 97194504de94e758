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
F.cross_entropy and wb.losses.kd_loss (dkd_loss, standardized_kd_loss)."""
import torch


@torch.no_grad()
def cross_entropies_and_grad(logits, targets, scales, weights):
    """(ces, grad) for logits (B, C), targets (K, C, B) (columns summing to 1), scales and
    weights (K,): ces[k] = CE(scales[k] · logits, targets[k].T), the mean over the batch,
    and grad = ∂(Σ_k weights[k] · ces[k]) / ∂logits. Not checked: the loop fixes shapes."""
    b = len(logits)
    log_q = (logits.t()[None] * scales[:, None, None]).log_softmax(1)  # (K, C, B): over classes, the fast layout
    ces = (targets * log_q).sum((1, 2)).mul_(-1 / b)
    grad = ((log_q.exp_() - targets) * (weights * scales / b)[:, None, None]).sum(0).t()
    return ces, grad


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


# Decoupled KD and logit standardization, each giving its terms and adding their gradient, for
# the same reason as above. Written with autograd (wb.losses), a step of the Distillation
# lab's default run (bench/bench_losses.py) cost 1.56x a KD step with DKD and 1.27x with
# logit standardization; the student's and the teacher's logits go through each op
# together here, (2, C, B), in float64 as in wb.losses.

FAR = -1e30  # a logit that softmax turns into exactly 0 (finite, so 0 · (FAR - FAR) = 0, never NaN)


@torch.no_grad()
def dkd_terms_and_grad(logits, teacher_logits, labels, temperature, weights, grad):
    """TCKD and NCKD as wb.losses.dkd_terms computes them (T² · the batch mean, float64,
    shape (2,)), adding ∂(weights[0] · TCKD + weights[1] · NCKD) / ∂logits to `grad` (B, C)
    in place. With q = softmax(logits / T), q̂ = softmax over the non-target classes (0 at
    the target), p and p̂ the teacher's, per example:

        NCKD = Σ p̂ (log p̂ − log q̂),   TCKD = KD − (1 − p_target) · NCKD   (Zhao et al., Sec. 3.1)
        ∂TCKD/∂logits = T · (q_target − p_target) · (onehot − q̂) / B
        ∂NCKD/∂logits = T · (q̂ − p̂) / B

    Not checked: the loop fixes shapes."""
    b, t = len(logits), temperature
    w_t, w_n = weights[0] * t / b, weights[1] * t / b
    u = torch.stack([logits, teacher_logits]).transpose(1, 2).double().div_(t)  # (2, C, B): student, teacher
    index = labels.expand(2, 1, b)
    log = u.log_softmax(1)
    log_hat = u.scatter_(1, index, FAR).log_softmax(1)  # over the non-target classes
    hat = log_hat.exp()  # q̂, p̂
    target = log.gather(1, index).exp_()  # q_target, p_target: (2, 1, B)
    kd = (log[1].exp() * (log[1] - log[0])).sum(0)
    nckd = (hat[1] * (log_hat[1] - log_hat[0])).sum(0)
    terms = torch.stack([torch.addcmul(kd, target[1, 0] - 1, nckd), nckd]).sum(1)  # TCKD = KD − (1 − p_t) NCKD
    c = (target[0] - target[1]).mul_(w_t)
    grad += hat[0].mul(w_n - c).sub_(hat[1], alpha=w_n).scatter_add_(0, labels[None], c).t()
    return terms.mul_(t**2 / b)


@torch.no_grad()
def standardized_kd_and_grad(logits, teacher_logits, temperature, weight, grad):
    """wb.losses.standardized_kd_loss (float64, shape (1,)), adding weight · its gradient
    with respect to the logits to `grad` (B, C) in place. With Z = (z − mean) / std per row
    (population std), q = softmax(Z_student / T), p = softmax(Z_teacher / T) and d = q − p,
    back through the z-score:

        ∂/∂z = T · (d − Z · mean_classes(d · Z)) / std / B       (mean(d) = 0 as Σ q = Σ p)

    Not checked: the loop fixes shapes."""
    (b, c), t = logits.shape, temperature
    x = torch.stack([logits, teacher_logits]).transpose(1, 2).double()  # (2, C, B): student, teacher
    centred = x - x.sum(1, keepdim=True).mul_(1 / c)  # (torch.std_mean is ~10x slower on this layout)
    std = (centred * centred).sum(1, keepdim=True).mul_(1 / c).sqrt_()
    # a constant row is only centred (wb.losses.standardize); tested exactly, not std == 0: the
    # mean's rounding can leave its std at ~1e-16, and a gradient of ~1e15
    std.masked_fill_((x == x[:, :1]).all(1, keepdim=True), 1.0)
    z = centred.div_(std)
    log = (z / t).log_softmax(1)
    p = log[1].exp()
    kd = (p * (log[1] - log[0])).sum() * (t**2 / b)
    d = log[0].exp() - p
    grad += (d - z[0] * (d * z[0]).sum(0).mul_(1 / c)).div_(std[0]).mul_(weight * t / b).t()
    return kd[None]
