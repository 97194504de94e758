"""workbench.optimizer makes torch.optim's updates, step for step, on the same gradients:
with a parameter that has no gradient on some steps (the first one included), with
param groups of their own lr and weight decay, and under an LR scheduler."""
import numpy as np
import pytest
import torch

import workbench as wb
from workbench.optimizer import Optimizer

SHAPES = [(4, 3), (3,), (2, 2)]


def reference(name, params, **settings):
    if name == "sgd":
        return torch.optim.SGD(params, **{"momentum": 0.9, "nesterov": True, **settings})
    return {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name](params, **settings)


def twins(seed=0):
    """Random parameters and an exact copy of them."""
    g = torch.Generator().manual_seed(seed)
    ours = [torch.randn(s, generator=g).requires_grad_() for s in SHAPES]
    return ours, [p.detach().clone().requires_grad_() for p in ours], g


def step_both(ours, theirs, opt, ref, g, steps, missing=lambda step: (), scheduler=None):
    """`steps` steps of both optimizers on the same random gradients; the parameters
    missing(step) names get none. Checks after each step that the parameters agree, and
    that a parameter without a gradient was left exactly as it was."""
    for step in range(steps):
        for a, b in zip(ours, theirs):
            a.grad = b.grad = torch.randn(a.shape, generator=g)
        for i in missing(step):
            ours[i].grad = theirs[i].grad = None
        before = [p.detach().clone() for p in ours]
        opt.step()
        ref.step()
        for sched in scheduler or ():
            sched.step()
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert torch.allclose(a, b, rtol=1e-6, atol=1e-7), (step, i, (a - b).abs().max().item())
            assert torch.equal(a, before[i]) == (i in missing(step)), (step, i)


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_steps_equal_torch_optims_including_a_parameter_without_a_gradient(name, weight_decay):
    """Five steps; the third parameter gets no gradient on steps 2 and 4 and must be left
    alone there (no decay, no momentum), as torch.optim leaves it."""
    ours, theirs, g = twins()
    cfg = wb.DistillConfig(optimizer=name, lr=0.05, weight_decay=weight_decay)
    opt, ref = Optimizer(cfg, ours), reference(name, theirs, lr=0.05, weight_decay=weight_decay)
    step_both(ours, theirs, opt, ref, g, 5, missing=lambda step: (2,) if step in (1, 3) else ())


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_a_parameter_whose_first_gradient_comes_after_step_one(name, weight_decay):
    """The second parameter gets its first gradient on step 3 (a layer the loss reaches
    only later, say a head switched on mid-run), the third on step 2 and then skips step 4:
    its state starts at its own first step, as torch.optim's does. (The fused SGD kernel
    raised TypeError here: it got a momentum buffer list with some entries still None.)"""
    ours, theirs, g = twins(1)
    cfg = wb.DistillConfig(optimizer=name, lr=0.05, weight_decay=weight_decay)
    opt, ref = Optimizer(cfg, ours), reference(name, theirs, lr=0.05, weight_decay=weight_decay)
    gaps = {0: (1, 2), 1: (1,), 3: (2,)}
    step_both(ours, theirs, opt, ref, g, 6, missing=lambda step: gaps.get(step, ()))


@pytest.mark.parametrize("momentum, nesterov", [(0.9, True), (0.9, False), (0.5, False), (0.0, False)])
def test_sgd_momentum_and_nesterov_as_torch_optim_sgd(momentum, nesterov):
    ours, theirs, g = twins(2)
    groups = lambda ps: [{"params": ps, "momentum": momentum, "nesterov": nesterov}]
    opt = Optimizer(wb.DistillConfig(optimizer="sgd", lr=0.1, weight_decay=0.01), groups(ours))
    ref = torch.optim.SGD(groups(theirs), lr=0.1, weight_decay=0.01)
    step_both(ours, theirs, opt, ref, g, 5, missing=lambda step: (0,) if step == 0 else ())


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_two_param_groups_with_their_own_lr_and_weight_decay_under_a_step_lr_scheduler(name):
    """Group one: the first two parameters at cfg's lr and weight decay; group two: the
    third at 10x the lr and no decay. StepLR halves both every 2 steps; the schedule
    must reach the update (the lr is read from the group at each step)."""
    ours, theirs, g = twins(3)
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5, "weight_decay": 0.0}]
    opt = Optimizer(wb.DistillConfig(optimizer=name, lr=0.05, weight_decay=0.1), groups(ours))
    ref = reference(name, groups(theirs), lr=0.05, weight_decay=0.1)
    assert isinstance(opt, torch.optim.Optimizer)
    schedulers = [torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5) for o in (opt, ref)]
    step_both(ours, theirs, opt, ref, g, 7, missing=lambda step: (2,) if step == 0 else (), scheduler=schedulers)
    assert [group["lr"] for group in opt.param_groups] == pytest.approx([0.05 / 8, 0.5 / 8])
    assert [group["lr"] for group in opt.param_groups] == [group["lr"] for group in ref.param_groups]


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_state_dict_round_trips_and_a_group_added_later_is_stepped(name):
    """state_dict / load_state_dict as torch.optim's: a fresh optimizer loaded from the
    state continues exactly as the original; add_param_group's parameters are updated."""
    ours, theirs, g = twins(4)
    cfg = wb.DistillConfig(optimizer=name, lr=0.05)
    opt, ref = Optimizer(cfg, ours[:2]), reference(name, theirs[:2], lr=0.05)
    step_both(ours[:2], theirs[:2], opt, ref, g, 2)
    resumed = Optimizer(cfg, ours[:2])
    for p in ours:
        p.grad = None
    resumed.step()  # no gradients: nothing moves, but its lists are built, and must not outlive the load
    resumed.load_state_dict(opt.state_dict())
    step_both(ours[:2], theirs[:2], resumed, ref, g, 1)
    resumed.add_param_group({"params": ours[2:], "lr": 0.2})
    ref.add_param_group({"params": theirs[2:], "lr": 0.2})
    step_both(ours, theirs, resumed, ref, g, 3)


def test_bad_groups_are_named():
    p = torch.zeros(2, requires_grad=True)
    sgd = wb.DistillConfig(optimizer="sgd")
    with pytest.raises(ValueError, match=r"lr must be a number > 0 \(a param group's own lr included\), got -1"):
        Optimizer(sgd, [{"params": [p], "lr": -1}])
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\), got 1.5"):
        Optimizer(sgd, [{"params": [p], "momentum": 1.5}])
    with pytest.raises(ValueError, match="nesterov needs momentum > 0 and dampening 0"):
        Optimizer(sgd, [{"params": [p], "momentum": 0.0, "nesterov": True}])
    with pytest.raises(ValueError, match="weight_decay must be a number >= 0, got -0.1"):
        Optimizer(wb.DistillConfig(optimizer="adam"), [{"params": [p], "weight_decay": -0.1}])


def test_step_hooks_run_as_torch_optims_and_a_closure_gives_its_loss():
    p = torch.ones(3, requires_grad=True)
    opt = Optimizer(wb.DistillConfig(optimizer="sgd", lr=0.1), [p])
    seen = []
    handle = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", p.detach().clone())))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", p.detach().clone())))

    def closure():
        p.grad = None
        loss = (p**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 3.0
    assert [when for when, _ in seen] == ["pre", "post"]
    assert torch.equal(seen[0][1], torch.ones(3)) and torch.allclose(seen[1][1], torch.ones(3) - 0.1 * 2 * 1.9)
    handle.remove()
    opt.step(closure)
    assert [when for when, _ in seen] == ["pre", "post", "post"]


@pytest.mark.parametrize("lr, decay, momentum", [(np.float32(0.1), np.float64(0.01), np.float32(0.5)),
                                                 (np.float64(0.1), np.int64(0), np.float64(0.9))])
def test_a_param_group_takes_numpy_numbers_and_steps_as_with_python_floats(lr, decay, momentum):
    """Was: 'lr must be a number > 0 (...), got np.float32(0.1)' (a local isinstance check
    instead of workbench._check). The step equals torch.optim.SGD's with the same values."""
    ours, theirs, g = twins()
    opt = Optimizer(wb.DistillConfig(optimizer="sgd"), [{"params": ours, "lr": lr, "weight_decay": decay,
                                                         "momentum": momentum}])
    ref = reference("sgd", [{"params": theirs, "lr": float(lr), "weight_decay": float(decay),
                             "momentum": float(momentum)}])
    step_both(ours, theirs, opt, ref, g, steps=3)


@pytest.mark.parametrize("key, value", [("lr", np.float32(-0.1)), ("lr", np.float64(np.nan)), ("momentum", 1.0),
                                        ("weight_decay", np.float32(-1)), ("betas", (0.9, np.float64(1.0))),
                                        ("eps", "1e-8"), ("lr", True)])
def test_bad_param_group_values_are_named(key, value):
    kind = "adam" if key in ("betas", "eps") else "sgd"
    with pytest.raises(ValueError, match=key.replace("betas", r"betas\[1\]")):
        Optimizer(wb.DistillConfig(optimizer=kind), [{"params": twins()[0], key: value}])
