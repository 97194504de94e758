"""The training loop's optimizer: Adam, AdamW (Loshchilov & Hutter 2019) or SGD with
Nesterov momentum, as torch.optim computes them, called through torch.optim's functional
form (torch.optim.adam.adam, ...) with its state lists built once.

Why not torch.optim.Adam(...).step(): on the CPU each call spends ~70 µs in Python (a
profiler hook, the scan of the parameter groups that rebuilds these lists) around a
~15 µs fused kernel, a sixth of a small student's step. The update is torch.optim's own;
tests check it against the torch.optim classes step by step."""
import torch
from torch.optim.adam import adam
from torch.optim.adamw import adamw
from torch.optim.sgd import sgd

BETAS, EPS, MOMENTUM = (0.9, 0.999), 1e-8, 0.9  # torch.optim's Adam defaults; SGD's Nesterov momentum


class Optimizer:
    """`step()` updates `params` from their .grad, skipping any without one (as torch.optim
    does). cfg gives optimizer ("adam", "adamw", "sgd"), lr and weight_decay."""

    def __init__(self, cfg, params, device):
        self.cfg, self.params = cfg, list(params)
        # fused kernels (one per parameter instead of ~10 small ops) where torch has them
        self.kernel = {"fused": True} if device.type in ("cpu", "cuda") else {}
        if cfg.optimizer == "sgd":
            self.momentum = [None] * len(self.params)  # sgd() creates them on the first step
        else:
            self.exp_avgs = [torch.zeros_like(p) for p in self.params]
            self.exp_avg_sqs = [torch.zeros_like(p) for p in self.params]
            on = lambda p: p.device if self.kernel else "cpu"  # where torch.optim.Adam keeps its step counts
            self.steps = [torch.zeros((), dtype=torch.float32, device=on(p)) for p in self.params]

    @torch.no_grad()
    def step(self):
        grads = [p.grad for p in self.params]
        keep = range(len(grads))
        if any(g is None for g in grads):  # a parameter the loss does not reach
            keep = [i for i, g in enumerate(grads) if g is not None]
        take = lambda ts: ts if len(keep) == len(ts) else [ts[i] for i in keep]
        cfg, params, grads = self.cfg, take(self.params), take(grads)
        if cfg.optimizer == "sgd":
            momentum = take(self.momentum)
            sgd(params, grads, momentum, weight_decay=cfg.weight_decay, momentum=MOMENTUM, lr=cfg.lr,
                dampening=0.0, nesterov=True, maximize=False, **self.kernel)
            for i, buffer in zip(keep, momentum):
                self.momentum[i] = buffer
            return
        update = adamw if cfg.optimizer == "adamw" else adam
        update(params, grads, take(self.exp_avgs), take(self.exp_avg_sqs), [], take(self.steps), amsgrad=False,
               beta1=BETAS[0], beta2=BETAS[1], lr=cfg.lr, weight_decay=cfg.weight_decay, eps=EPS, maximize=False,
               **self.kernel)
