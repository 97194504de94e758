"""Setting "digits": image classifiers, each trained on labels produced by the previous
one (one label sampled from its softmax, its top class, or the whole softmax).

Real data is imbalanced the way real data often is: digit d is drawn with probability
∝ 1/(d + 1), so 0 is the commonest and 7, 8 and 9, the tail, together make 11% of it
(classes="balanced": every digit 10%, the control without imbalance).
The images are always real (drawn afresh every generation with those class
probabilities); what a generation produces are labels. Generation 0 learns `samples`
images with their true labels; generation k learns `samples` new images labelled by
generation k − 1: with labels="hard" one class sampled from softmax(z/T) per image,
with labels="argmax" its top class (T makes no difference), with labels="soft" the whole
softmax(z/T).

What drives the fall under "replace" is mostly the noise of the sampled labels; the
imbalance adds to it. Measured over seeds 0-4 at the defaults (400 images, 10
generations), test accuracy goes from 0.86 to 0.46 with sampled labels, to 0.66 with
argmax labels and to 0.74 with soft labels; with balanced classes it still falls with
sampled labels (0.93 → 0.67) and hardly with argmax labels (0.93 → 0.87). The rare
digits' share of the predictions does not shrink steadily with sampled labels (0.110 →
0.096 on average, seed 0 rising to 0.160 on the way) while their recall falls (0.70 →
0.16); argmax labels, which do under-predict them (0.110 → 0.045), end more accurate.
tests/test_collapse_digits.py asserts this over seeds 0-2."""
import torch
import torch.nn.functional as F

from .. import _check
from ..data import load
from ..models import build
from ..train import predict

TAIL_CLASSES = (7, 8, 9)
LABELS = ("hard", "argmax", "soft")
CLASSES = ("imbalanced", "balanced")


def _class_shares(k=10, classes="imbalanced"):
    """The real class distribution: ∝ 1/(d + 1) for digit d, or uniform when balanced."""
    w = 1.0 / torch.arange(1, k + 1, dtype=torch.float64)
    if classes == "balanced":
        w = torch.ones(k, dtype=torch.float64)
    return w / w.sum()


class Digits:
    samples, generations = 400, 10
    about = "digit classifiers, each trained on the labels of the previous one (imbalanced classes)"
    kl = "KL(true label ‖ model), mean over test images, nats"  # what kl_to_truth measures here (see measure)

    def __init__(self, seed=0, labels="hard", classes="imbalanced", hidden=(32,), steps=250, lr=3e-3):
        _check.one_of("labels", labels, LABELS)
        _check.one_of("classes", classes, CLASSES)
        steps, lr = _check.positive_int("steps", steps), _check.positive("lr", lr)
        hidden = tuple(_check.positive_int("hidden", h) for h in (hidden if isinstance(hidden, (tuple, list))
                                                                   else (hidden,)))
        self.seed, self.labels, self.classes = seed, labels, classes
        self.hidden, self.steps, self.lr = hidden, steps, lr
        self.splits = load("digits", device="cpu")
        k = self.splits.num_classes
        self.p = _class_shares(k, classes)  # the real class distribution
        self.tail = torch.zeros(k, dtype=torch.bool)
        self.tail[list(TAIL_CLASSES)] = True
        self.by_class = [torch.nonzero(self.splits.train.y == c).squeeze(1) for c in range(k)]

    @staticmethod
    def limits(generations, samples, temperature):
        """Any number of images (a fit samples batches with replacement) and any
        temperature sampling takes (produce shifts the logits before dividing by T)."""

    @staticmethod
    def truth(classes="imbalanced", **options):
        _check.one_of("classes", classes, CLASSES)
        p = _class_shares(classes=classes)
        return {"class_probs": p.tolist(), "tail_mass": p[list(TAIL_CLASSES)].sum().item(), "kl_to_truth": 0.0, "test_acc": 1.0,
                "tail_recall": 1.0}

    def _images(self, n, generator):
        cls = torch.multinomial(self.p, n, replacement=True, generator=generator)
        pick = torch.stack([self.by_class[c][torch.randint(len(self.by_class[c]), (), generator=generator)]
                            for c in cls.tolist()]) if n else torch.zeros(0, dtype=torch.long)
        return self.splits.train.x[pick], cls

    def real(self, n, generator):
        x, y = self._images(n, generator)
        return x, F.one_hot(y, self.splits.num_classes).float()

    def fit(self, data, generator):
        """A fresh MLP trained with Adam for `steps` mini-batches of 64 on
        −Σ_c y_c log softmax(z)_c (cross-entropy with the labels, one-hot or soft): the
        same compute every generation, however much data the policy keeps. Yields the
        fraction done after every step."""
        x, y = data
        with torch.random.fork_rng():  # seeded initial weights, without touching the caller's global seed
            torch.manual_seed(int(torch.randint(2**31, (), generator=generator)))
            model = build("mlp", self.splits.input_shape, self.splits.num_classes, hidden=self.hidden)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        model.train()
        for i in range(self.steps):
            idx = torch.randint(len(x), (min(64, len(x)),), generator=generator)
            loss = -(y[idx] * F.log_softmax(model(x[idx]), 1)).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            yield (i + 1) / self.steps
        return model.eval()

    def produce(self, model, n, temperature, generator):
        x, _ = self._images(n, generator)
        z = predict(model, x)
        # shifted so the largest is 0 before dividing: softmax is unchanged, and no z / T overflows to ±inf
        p = F.softmax((z - z.max(1, keepdim=True).values) / temperature, 1)
        if self.labels == "hard":
            p = F.one_hot(torch.multinomial(p, 1, generator=generator).squeeze(1), p.shape[1]).float()
        elif self.labels == "argmax":
            p = F.one_hot(p.argmax(1), p.shape[1]).float()
        return x, p

    def measure(self, model):
        """On the test split, each class weighted by its real share p_c (weight p_c / n_c for
        each of the n_c test images of class c, so a class counts by its share whatever its
        test count): kl_to_truth: the forward KL(one-hot true label ‖ q(·|x)) over the 10
        classes, which is the cross-entropy −log q(y|x), averaged over the test images with
        those weights, Σ_c p_c · mean over the images x of class c of −log q(c|x), nats;
        tail_mass: the model's average probability of the tail classes 7, 8, 9, same
        weights (their real share is 0.11); test_acc: plain test accuracy; tail_recall:
        accuracy on test images of the tail classes."""
        test = self.splits.test
        q = F.softmax(predict(model, test.x), 1)
        count = torch.bincount(test.y, minlength=len(self.p)).clamp(min=1)
        w = (self.p / count)[test.y].float()
        w = w / w.sum()
        right = (q.argmax(1) == test.y).float()
        marginal = (w[:, None] * q).sum(0)  # the class distribution the model gives real data
        in_tail = self.tail[test.y]
        return {"kl_to_truth": -(w * q[torch.arange(len(q)), test.y].clamp(min=1e-12).log()).sum().item(),
                "tail_mass": marginal[self.tail].sum().item(),
                "test_acc": right.mean().item(),
                "tail_recall": right[in_tail].mean().item(),
                "class_probs": marginal.tolist()}

    @staticmethod
    def concat(parts):
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
