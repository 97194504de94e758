"""Named, trained teachers.

Each name ("dataset/model") stands for a recipe: an architecture, its size and how to
train it. The digits teachers ship with the package (small files, rebuilt by
`python -m workbench.teachers build`); the others are trained on first use, with a
progress bar, and cached under ~/.cache/kd-workbench/teachers."""
import pathlib
import warnings
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .. import cache, data, models
from .._check import one_of
from ..config import DistillConfig
from ..device import as_device, seed_everything
from ..train import train

SHIPPED_DIR = pathlib.Path(__file__).parent / "checkpoints"
FORMAT = 1


@dataclass(frozen=True)
class Recipe:
    dataset: str
    arch: str
    size: dict = field(default_factory=dict)
    epochs: int = 40
    lr: float = 1e-3
    batch_size: int = 64
    weight_decay: float = 0.0
    optimizer: str = "adam"
    fraction: float = 1.0  # share of the training data it learns from
    sharpen: float = 1.0  # its logits multiplied by this after training (> 1: over-confident)
    seed: int = 0
    about: str = ""


RECIPES = {
    "digits/mlp-large": Recipe("digits", "mlp", {"hidden": (256, 256)}, epochs=60, weight_decay=1e-4,
                               about="MLP 64-256-256-10, ~83k parameters"),
    "digits/cnn": Recipe("digits", "cnn", {"channels": (32, 64)}, epochs=40,
                         about="2-block CNN (32, 64 channels), ~20k parameters"),
    "digits/mlp-small": Recipe("digits", "mlp", {"hidden": (24,)}, epochs=60,
                               about="MLP 64-24-10, ~1.8k parameters: less accurate than the others, yet its "
                                     "soft labels suit an MLP student well"),
    "digits/mlp-weak": Recipe("digits", "mlp", {"hidden": (32,)}, epochs=60, lr=1e-2, fraction=0.05,
                              about="MLP 64-32-10 trained on 5% of the training data: a weak teacher, "
                                    "worse than a student's own hard labels"),
    "digits/cnn-overconfident": Recipe("digits", "cnn", {"channels": (32, 64)}, epochs=40, sharpen=5.0,
                                       about="the digits/cnn teacher with its logits multiplied by 5: as accurate, "
                                             "but its soft labels are nearly one-hot until T is large"),
    "mnist/cnn": Recipe("mnist", "cnn", {"channels": (32, 64, 128)}, epochs=5, batch_size=128,
                        about="3-block CNN, ~95k parameters"),
    "mnist/resnet": Recipe("mnist", "resnet", {"widths": (16, 32, 64)}, epochs=5, batch_size=128,
                           about="small ResNet, ~78k parameters"),
    "fashion_mnist/cnn": Recipe("fashion_mnist", "cnn", {"channels": (32, 64, 128)}, epochs=10, batch_size=128,
                                about="3-block CNN, ~95k parameters"),
    "cifar10/resnet": Recipe("cifar10", "resnet", {"widths": (32, 64, 128), "blocks": 2}, epochs=30,
                             batch_size=256, weight_decay=5e-4, about="ResNet-14-ish, ~0.7M parameters (GPU advised)"),
}


def available(dataset=None):
    """Teacher names, all or those for one data set (what a dropdown offers)."""
    if dataset is not None:
        one_of("dataset", dataset, sorted({r.dataset for r in RECIPES.values()}))
    return [n for n, r in RECIPES.items() if dataset is None or r.dataset == dataset]


def _file_name(name):
    return name.replace("/", "--") + ".pt"


def _blank(recipe, splits_shape=None):
    shape, classes = splits_shape or _shape_of(recipe.dataset)
    return models.build(recipe.arch, shape, classes, **recipe.size)


def _shape_of(dataset):
    return {"digits": ((1, 8, 8), 10), "mnist": ((1, 28, 28), 10), "fashion_mnist": ((1, 28, 28), 10),
            "cifar10": ((3, 32, 32), 10)}[dataset]


def _validator(name, model):
    expected = {k: v.shape for k, v in model.state_dict().items()}

    def check(ckpt):
        if not isinstance(ckpt, dict) or ckpt.get("name") != name or ckpt.get("format") != FORMAT:
            raise ValueError("not a checkpoint of this teacher")
        got = {k: v.shape for k, v in ckpt["state_dict"].items()}
        if got != expected:
            raise ValueError("its weights do not fit the recipe's architecture")
    return check


def trained_on(name):
    """Which examples the teacher `name` learns from: {"dataset", "seed", "fraction"}, the
    training split of split seed `seed`, subsampled to `fraction` with the same seed (what
    `wb.data.check_teacher_split` compares a run's splits with)."""
    recipe = RECIPES[one_of("name", name, RECIPES)]
    return {"dataset": recipe.dataset, "seed": recipe.seed, "fraction": recipe.fraction}


def fit(name, device=None, progress=True):
    """Train the teacher `name` from its recipe; return its checkpoint dict."""
    one_of("name", name, RECIPES)
    recipe = RECIPES[name]
    splits = data.load(recipe.dataset, device=device, seed=recipe.seed)
    if recipe.fraction < 1:
        splits = data.Splits(data.subsample(splits.train, recipe.fraction, seed=recipe.seed), splits.val,
                             splits.test, splits.classes, splits.input_shape, splits.name, splits.seed)
    seed_everything(recipe.seed)
    model = _blank(recipe, (splits.input_shape, splits.num_classes))
    cfg = DistillConfig(epochs=recipe.epochs, lr=recipe.lr, batch_size=recipe.batch_size,
                        weight_decay=recipe.weight_decay, optimizer=recipe.optimizer, seed=recipe.seed)
    with tqdm(total=recipe.epochs, desc=f"training teacher {name}", disable=not progress) as bar:
        def tick(event):
            bar.update(1)
            bar.set_postfix(val_acc=f"{event.metrics['val_acc']:.3f}")
        res = train(model, splits, cfg, callbacks=[tick])
    if recipe.sharpen != 1:
        with torch.no_grad():  # scaling the last layer scales the logits: same argmax, sharper softmax
            model.head.weight.mul_(recipe.sharpen)
            model.head.bias.mul_(recipe.sharpen)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return {"format": FORMAT, "name": name, "state_dict": state, "test_acc": res.metrics["test_acc"],
            "val_acc": res.metrics["val_acc"], "trained_on": trained_on(name)}


def get(name, device=None, progress=True):
    """The trained teacher `name` (see `available()`), in eval mode with frozen weights.

    Looks for the shipped checkpoint, then the cache, and trains (and caches) it when
    neither is usable. A corrupt file is rebuilt with one warning: over the shipped file
    when the install is writable, else into the cache, which later calls then use.
    `model.trained_on` says which split it learned from (see `trained_on`)."""
    one_of("name", name, RECIPES)
    device = as_device(device)
    model = _blank(RECIPES[name])
    check = _validator(name, model)
    shipped, cached = SHIPPED_DIR / _file_name(name), cache.cache_dir("teachers") / _file_name(name)
    ckpt = cache.shipped_or_built(shipped, cached, check, lambda: fit(name, device=device, progress=progress))
    model.load_state_dict(ckpt["state_dict"])
    model.test_acc = ckpt.get("test_acc")
    model.trained_on = trained_on(name)  # from the recipe: the shipped checkpoints predate the record
    return model.to(device).eval().requires_grad_(False)


DEFAULT = {"digits": "digits/cnn"}  # the lab's default: clearly better than a student of the default size


def build_shipped(names=None, progress=True):
    """Retrain the shipped (digits) teachers on the CPU and write their checkpoints."""
    names = names or available("digits")
    for name in names:  # every name checked before hours of training start
        one_of("name", name, RECIPES)
    for name in names:
        ckpt = fit(name, device="cpu", progress=progress)
        cache.save(ckpt, SHIPPED_DIR / _file_name(name))
        print(f"{name}: test accuracy {ckpt['test_acc']:.4f}, val accuracy {ckpt['val_acc']:.4f} "
              f"-> {SHIPPED_DIR / _file_name(name)}")
