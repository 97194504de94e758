"""The training loop's optimizer: Adam (Kingma & Ba 2015), AdamW (Loshchilov & Hutter
2019) or SGD with momentum (Nesterov's by default, Sutskever et al. 2013), as torch.optim
computes them, called through torch.optim's functional form (torch.optim.adam.adam, ...)
with the lists it takes built once.

`Optimizer` is a torch.optim.Optimizer: param groups (each with its own lr, weight decay,
momentum, ...), LR schedulers, step hooks, state_dict and load_state_dict work as they do
for torch.optim.SGD / Adam / AdamW, and its state has their keys ("momentum_buffer";
"step", "exp_avg", "exp_avg_sq").

Why not torch.optim.Adam(...).step(): on the CPU each call spends ~70 µs in Python (the
scan of the parameter groups that rebuilds these lists, state look-ups per parameter)
around a ~15 µs fused kernel, a sixth of a small student's step. Here each group's lists
are built once and rebuilt only when the groups or the state change (add_param_group,
load_state_dict); a step reads each group's lr, so a scheduler's change takes effect.

Where the fast path applies: a group whose parameters are all float tensors on the CPU or
CUDA runs torch's fused kernel (one per parameter instead of ~10 small ops); any other
group (MPS, integer or complex tensors) runs the same functional update unfused. A
parameter without a gradient is skipped that step (no decay, no momentum), and its state
starts on the step it first gets one, as in torch.optim; for SGD those first-step
parameters go through a call of their own, since the fused kernel takes either no
momentum buffers at all (a first step) or all of them. Tests check every case against
the torch.optim classes step by step on the same gradients."""
import math

import torch
from torch.optim.adam import adam
from torch.optim.optimizer import _global_optimizer_post_hooks, _global_optimizer_pre_hooks
from torch.optim.sgd import sgd

from . import _check

BETAS, EPS, MOMENTUM = (0.9, 0.999), 1e-8, 0.9  # torch.optim's Adam defaults; SGD's Nesterov momentum
SETTINGS = {"sgd": {"momentum": MOMENTUM, "nesterov": True, "dampening": 0.0},
            "adam": {"betas": BETAS, "eps": EPS},
            "adamw": {"betas": BETAS, "eps": EPS}}
FUSED_DEVICES = ("cpu", "cuda")


def _as_float(value):
    """value as a Python float when it is a finite real number of any type (workbench._check:
    NumPy and 0-d torch scalars included, bools not), else None."""
    try:
        return _check.real("value", value)
    except ValueError:
        return None


def _number(name, value, low, high=math.inf, closed_high=False):
    """value as a float (any real type, NumPy's included: workbench._check) when low <= value
    < high (<= high when closed_high); else a ValueError naming `name`."""
    x = _as_float(value)
    if x is None or not low <= x or not (x <= high if closed_high else x < high):
        bounds = f">= {low}" if high == math.inf else f"in [{low}, {high}{']' if closed_high else ')'}"
        raise ValueError(f"{name} must be a number {bounds}, got {value!r}")
    return x


def _check_group(kind, group):
    """Check a param group's settings and store them as Python floats (the fused kernels
    take Python numbers; a NumPy float from a sweep is one)."""
    lr = _as_float(group["lr"])
    if lr is None or not lr > 0:
        raise ValueError(f"lr must be a number > 0 (a param group's own lr included), got {group['lr']!r}")
    group["lr"] = lr
    group["weight_decay"] = _number("weight_decay", group["weight_decay"], 0)
    if kind == "sgd":
        group["momentum"] = _number("momentum", group["momentum"], 0, 1)
        group["dampening"] = _number("dampening", group["dampening"], 0, 1, closed_high=True)
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError(f"nesterov needs momentum > 0 and dampening 0, got momentum={group['momentum']!r}, "
                             f"dampening={group['dampening']!r}")
    else:
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        group["betas"] = tuple(_number(f"betas[{i}]", beta, 0, 1) for i, beta in enumerate(betas))
        group["eps"] = _number("eps", group["eps"], 0)


class _Lists:
    """One param group's parameters and their state tensors, as lists in the order the
    functional update takes them. `fresh` counts parameters with no state yet."""

    def __init__(self, kind, group, state):
        self.params = list(group["params"])
        self.kernel = {"fused": True} if all(
            p.device.type in FUSED_DEVICES and p.is_floating_point() for p in self.params) else {}
        stored = [state.get(p) or None for p in self.params]
        if kind == "sgd":
            self.buffers = [s.get("momentum_buffer") if s else None for s in stored]
            self.fresh = sum(b is None for b in self.buffers)
        else:
            for p, s in zip(self.params, stored):
                if s is not None and s["step"].device != p.device and self.kernel:
                    s["step"] = s["step"].to(p.device)  # the fused kernel reads the count where the parameter is
            self.exp_avgs = [s["exp_avg"] if s else None for s in stored]
            self.exp_avg_sqs = [s["exp_avg_sq"] if s else None for s in stored]
            self.steps = [s["step"] if s else None for s in stored]
            self.fresh = sum(s is None for s in stored)


class Optimizer(torch.optim.Optimizer):
    """cfg gives the kind (cfg.optimizer: "adam", "adamw" or "sgd"), and the defaults lr and
    weight_decay; `params` is an iterable of tensors or of param-group dicts, as for
    torch.optim (a group may also set momentum, nesterov, dampening for SGD; betas, eps
    for Adam / AdamW). `step()` updates every parameter that has a .grad."""

    def __init__(self, cfg, params):
        self.kind, self._lists = cfg.optimizer, None
        super().__init__(params, {"lr": cfg.lr, "weight_decay": cfg.weight_decay, **SETTINGS[cfg.optimizer]})

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        _check_group(self.kind, self.param_groups[-1])
        self._lists = None

    def __setstate__(self, state):  # load_state_dict replaces the state and the groups
        super().__setstate__(state)
        self._lists = None

    def step(self, closure=None):
        """One update of every parameter with a gradient; returns closure()'s loss when given
        a closure (which is re-evaluated with gradients on, as torch.optim does). Step hooks
        (register_step_pre_hook, ...) run as torch.optim runs them."""
        if (self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks or _global_optimizer_pre_hooks
                or _global_optimizer_post_hooks):
            return _update_with_hooks(self, closure)
        return self._update(closure)

    # torch.optim.Optimizer wraps every step in the profiler's record_function and the hooks'
    # loop (~25 µs a call on the CPU, most of it record_function); here they run only when a
    # hook is registered
    step.hooked = True

    @torch.no_grad()
    def _update(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self._lists is None:
            self._lists = [_Lists(self.kind, group, self.state) for group in self.param_groups]
        update = self._sgd if self.kind == "sgd" else self._adam
        for group, lists in zip(self.param_groups, self._lists):
            grads = [p.grad for p in lists.params]
            keep = [i for i, g in enumerate(grads) if g is not None]  # a parameter the loss does not reach
            if keep:
                update(group, lists, keep, grads)
        return loss

    def _sgd(self, group, lists, keep, grads):
        settings = dict(weight_decay=group["weight_decay"], momentum=group["momentum"], lr=group["lr"],
                        dampening=group["dampening"], nesterov=group["nesterov"], maximize=False, **lists.kernel)
        if group["momentum"] == 0:
            sgd(*_take(keep, lists.params, grads), [None] * len(keep), **settings)
            return
        # the fused kernel takes all momentum buffers or none (a first step): parameters at
        # their first step go apart
        started = keep if not lists.fresh else [i for i in keep if lists.buffers[i] is not None]
        first = [] if not lists.fresh else [i for i in keep if lists.buffers[i] is None]
        for part in (started, first):
            if part:
                buffers = [lists.buffers[i] for i in part]
                sgd(*_take(part, lists.params, grads), buffers, **settings)  # fills a first step's buffers
                for i, buffer in zip(part, buffers):
                    lists.buffers[i] = buffer
                    self.state[lists.params[i]]["momentum_buffer"] = buffer
        lists.fresh -= len(first)

    def _adam(self, group, lists, keep, grads):
        if lists.fresh:
            self._start_adam(lists, keep)
        take = lambda ts: _take(keep, ts)[0]
        beta1, beta2 = group["betas"]
        adam(take(lists.params), take(grads), take(lists.exp_avgs), take(lists.exp_avg_sqs), [], take(lists.steps),
             amsgrad=False, beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
             eps=group["eps"], maximize=False, decoupled_weight_decay=self.kind == "adamw", **lists.kernel)

    def _start_adam(self, lists, keep):
        """Zero moments and a zero step count for the parameters of `keep` that have no
        state yet (torch.optim.Adam's: the count on the parameter's device for the fused
        kernel, on the CPU otherwise)."""
        for i in keep:
            if lists.steps[i] is None:
                p = lists.params[i]
                count = torch.zeros((), dtype=torch.float32, device=p.device if lists.kernel else "cpu")
                state = {"step": count, "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                         "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
                self.state[p] = state
                lists.steps[i], lists.exp_avgs[i], lists.exp_avg_sqs[i] = state["step"], state["exp_avg"], \
                    state["exp_avg_sq"]
                lists.fresh -= 1


_update_with_hooks = torch.optim.Optimizer.profile_hook_step(Optimizer._update)


def _take(keep, *lists):
    """Each list cut to the indices `keep` (the list itself when keep is all of it)."""
    return [ts if len(keep) == len(ts) else [ts[i] for i in keep] for ts in lists]
