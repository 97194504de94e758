"""What every check uses to judge an answer: one real number from any numeric type,
closeness of numbers and tensors, random logits to call the learner's function on,
in-place changes to its inputs, the gradient a loss carries back to the student's logits
(backward() on the learner's result against the reference), and whether the learner's
function just calls the workbench's own reference."""
import decimal
import inspect
import math
import numbers
import re

import numpy as np
import torch

from .feedback import wrong

BATCH, CLASSES = 8, 5


def random_logits(seed=0, batch=BATCH, classes=CLASSES):
    """(student logits, teacher logits, labels): a fixed random batch for `seed`."""
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(batch, classes, generator=g), 3 * torch.randn(batch, classes, generator=g), \
        torch.randint(classes, (batch,), generator=g)


def real_number(value):
    """A Python float from any real number: int, float, a NumPy scalar, a 0-d (or
    one-element) NumPy array or tensor, a Fraction or a Decimal. None for what is not one
    real number: bool, complex, str, None, a list, an array of several numbers, ..."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.dtype == torch.bool or value.is_complex():
            return None
        return value.detach().double().item()
    if isinstance(value, np.ndarray):
        return float(value.reshape(())) if value.size == 1 and value.dtype.kind in "iuf" else None
    return float(value) if isinstance(value, (numbers.Real, decimal.Decimal)) else None


def relatively_close(value, want, rtol=1e-4):
    """value is finite and within rtol of want (relative, or absolute below 1)."""
    return math.isfinite(value) and abs(value - want) <= rtol * max(1.0, abs(want))


def within(value, target, tol):
    """value is a finite number no further than tol from target."""
    return value is not None and math.isfinite(value) and abs(value - target) <= tol + 1e-12


def close_tensors(a, b):
    """a is a tensor of b's shape with the same values (rtol 1e-4, atol 1e-5)."""
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a.float(), b.float(), rtol=1e-4,
                                                                                 atol=1e-5)


def not_a_number(got, what, shape_hint):
    """Feedback for a result that is not one number; None when it is one."""
    if got is None:
        return wrong(f"Your function returned None instead of {what}.", "Did you forget `return`?")
    if real_number(got) is not None:
        return None
    shape = tuple(getattr(got, "shape", ()))
    return wrong(f"Expected {what}, one number (a 0-dim tensor); got {type(got).__name__} {shape}.", shape_hint)


def changed_inputs(pairs):
    """Feedback when the learner's function changed an input tensor in place."""
    for name, given, original in pairs:
        if not torch.equal(given.detach(), original):
            return wrong(f"Your function changed the {name} in place.",
                         "Compute on new tensors; never modify the inputs (no in-place operations such as div_).")
    return None


def reference_grad(loss_fn, s):
    """The gradient of loss_fn(s) with respect to s."""
    s = s.clone().requires_grad_(True)
    grad, = torch.autograd.grad(loss_fn(s), s)
    return grad


def gradient_problem(got, student, want_grad, what):
    """Feedback when a result that is right in value does not carry the right gradient back
    to the student's logits (backward() on the learner's result against the reference)."""
    if not isinstance(got, torch.Tensor):
        return wrong(f"The value is right, but your {what} is a plain number ({type(got).__name__}): training "
                     "calls backward() on it, and a number has no gradient.",
                     "Return the tensor itself, not .item() or a NumPy value.")
    if not got.requires_grad:
        return wrong(f"The value is right, but your {what} is detached from the student's logits: no gradient "
                     "reaches the student.",
                     "Keep every step on the student's side a torch operation on its logits, "
                     "without .detach(), .data, torch.no_grad() or NumPy.")
    try:
        grad, = torch.autograd.grad(got.sum(), student, allow_unused=True)
    except RuntimeError as e:  # e.g. the graph was already freed by a backward() inside the function
        return wrong(f"The value is right, but backward() on your {what} failed: {e}",
                     "Return the result without calling backward() on it yourself.")
    if grad is None:
        return wrong(f"The value is right, but your {what} is not connected to the student's logits: it requires "
                     "a gradient, yet backward() gives the student none.",
                     "A tensor built from a number starts a new graph of its own.")
    if not torch.allclose(grad, want_grad, rtol=1e-3, atol=1e-6):
        size = "it is zero" if not grad.abs().max() else f"its size is {grad.norm():.3g} against {want_grad.norm():.3g}"
        return wrong(f"The value is right, but the gradient that reaches the student's logits is not this {what}'s "
                     f"gradient ({size}).",
                     "Part of the computation on the student's side is cut off from the graph or replaced by a "
                     "constant.")
    return None


def calls_the_reference(fn, references, pattern):
    """The learner's function is, or calls by name, one of the workbench's own reference
    functions (passing the check without writing anything)."""
    if any(fn is r for r in references):
        return True
    code, found = getattr(fn, "__code__", None), False
    if code is not None:  # the globals it names, and module attributes two deep (wb.losses.kd_loss)
        names = set(code.co_names).union(*(c.co_names for c in code.co_consts if inspect.iscode(c)))
        reached = [getattr(fn, "__globals__", {}).get(n) for n in names]
        for _ in range(2):
            reached += [getattr(m, n, None) for m in reached if inspect.ismodule(m) for n in names]
        found = any(o is r for o in reached for r in references)
    try:
        return found or re.search(pattern, inspect.getsource(fn)) is not None
    except (OSError, TypeError):
        return found
