"""Distillation losses as plain functions of tensors, named after what they compute.

Reductions follow RepDistiller's (sum over classes, mean over the batch), so a value here
means the same as a value there."""
import torch.nn.functional as F

from . import _check


def soft_targets(logits, temperature):
    """softmax(logits / T): the teacher's soft labels at temperature T (Hinton et al. 2015)."""
    _check.positive("temperature", temperature)
    _check.logits("logits", logits)
    return F.softmax(logits / temperature, dim=-1)


def kd_loss(student_logits, teacher_logits, temperature):
    """Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network":

        T² · mean_batch Σ_c p_t,c · (log p_t,c − log p_s,c),   p = softmax(logits / T)

    i.e. KL(p_t ‖ p_s) at temperature T. The T² factor keeps the gradient's size roughly
    independent of T (the soft-target gradients scale as 1/T²), so the weight alpha means
    the same at every temperature."""
    _check.positive("temperature", temperature)
    _check.logits("student_logits", student_logits, ndim=2)
    _check.logits("teacher_logits", teacher_logits, ndim=2)
    _check.same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    log_p_s = F.log_softmax(student_logits / temperature, dim=-1)
    log_p_t = F.log_softmax(teacher_logits / temperature, dim=-1)
    return F.kl_div(log_p_s, log_p_t, reduction="batchmean", log_target=True) * temperature**2


