"""workbench.optimizer makes torch.optim's updates, step for step."""
import pytest
import torch

import workbench as wb
from workbench.optimizer import Optimizer


def reference(name, params, lr, weight_decay):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    return {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name](params, lr=lr, weight_decay=weight_decay)


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_steps_equal_torch_optims_including_a_parameter_without_a_gradient(name, weight_decay):
    """Five steps on random gradients; the third parameter gets no gradient on steps 2 and
    4 and must be left alone there (no decay, no momentum), as torch.optim leaves it."""
    g = torch.Generator().manual_seed(0)
    shapes = [(4, 3), (3,), (2, 2)]
    ours = [torch.randn(s, generator=g).requires_grad_() for s in shapes]
    theirs = [p.detach().clone().requires_grad_() for p in ours]
    cfg = wb.DistillConfig(optimizer=name, lr=0.05, weight_decay=weight_decay)
    opt, ref = Optimizer(cfg, ours, torch.device("cpu")), reference(name, theirs, 0.05, weight_decay)
    for step in range(5):
        for a, b in zip(ours, theirs):
            a.grad = b.grad = torch.randn(a.shape, generator=g)
        if step in (1, 3):
            ours[2].grad = theirs[2].grad = None
        before = ours[2].detach().clone()
        opt.step()
        ref.step()
        for a, b in zip(ours, theirs):
            assert torch.allclose(a, b, rtol=1e-6, atol=1e-7), (name, step)
        if step in (1, 3):
            assert torch.equal(ours[2], before)
        else:
            assert not torch.equal(ours[2], before)
