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
F.cross_entropy and wb.losses.kd_loss."""
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
