"""The training loop: hard-label training and distillation (response-based, plus the
feature and relation terms of workbench.features).

One loop serves all. The teacher's soft labels (and tapped features) on the transfer set
come from workbench.teacher_outputs: computed once per run while they fit in
cfg.teacher_memory_mb, so that each step costs one student forward and backward.
`steps(...)` yields an Event after every step and every epoch so that a widget can drive
it cooperatively; `distill` and `train` run it to the end with callbacks."""
import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .config import DistillConfig
from .data import Splits, check_teacher_split
from .device import autocast
from .analysis import agreement
from .features import Terms, predict
from .models import tap
from .optimizer import Optimizer
from .losses import dkd_terms, standardized_kd_loss
from .response_loss import FAR, cross_entropies_and_grad, dkd_weights, kd_term, standardized_cross_entropies_and_grad
from .teacher_outputs import TeacherOutputs, non_finite_rows

GATHER = 8  # batches whose rows are gathered at once (see _epoch)
KD_ROUNDING = 4 * torch.finfo(torch.float32).eps  # see Response.exact_below
DIVERGED = 1000.0  # a loss this many times the scale a run started from (or NaN, or inf) ends it: divergence_limit


@dataclass
class Event:
    """What a callback receives. kind is "step" (metrics of one batch) or "epoch"
    (the epoch's averages plus validation accuracy)."""
    kind: str
    epoch: int
    step: int
    metrics: dict


@dataclass
class Result:
    student: torch.nn.Module
    history: list = field(default_factory=list)  # one dict per finished epoch
    metrics: dict = field(default_factory=dict)  # final: train/val/test accuracy, ...
    stopped: bool = False
    regressors: torch.nn.ModuleList = None  # FitNets regressors, one per hint layer pair
    diverged: dict = None  # {"epoch", "step", "loss", "limit", "lr", "message"}: the step whose loss was NaN, inf
    # or over `limit` (divergence_limit); the run ended there (lower the learning rate)


def _check_run(model, splits, cfg, teacher):
    if not isinstance(splits, Splits):
        raise ValueError(f"splits must be a workbench.data.Splits (from wb.data.load), got {type(splits).__name__}")
    if not isinstance(cfg, DistillConfig):
        raise ValueError(f"cfg must be a workbench.DistillConfig, got {type(cfg).__name__}")
    for name, m in (("student", model), ("teacher", teacher)):
        if m is not None and not isinstance(m, torch.nn.Module):
            raise ValueError(f"{name} must be a torch.nn.Module, got {type(m).__name__}")


def _check_split(name, split, num_classes, input_shape, min_rows, why):
    """A ValueError naming splits.<name> unless it has at least `min_rows` examples, float32
    finite inputs of `input_shape` and int64 labels in [0, num_classes). Once per run, before
    the first step: a bad split found after the epochs would lose the run."""
    where, x, y = f"splits.{name}", split.x, split.y
    if len(x) != len(y):
        raise ValueError(f"{where} must have one label per input, got {len(x)} inputs and {len(y)} labels")
    if len(y) < min_rows:
        raise ValueError(f"{where} must hold at least {min_rows} example{'s' if min_rows > 1 else ''} ({why}), got "
                         f"{len(y)} example{'' if len(y) == 1 else 's'}{' (it is empty)' if len(y) == 0 else ''}")
    if x.dtype != torch.float32:
        fix = "x.float()" if x.is_floating_point() else "x.float(), scaled as the model expects (e.g. / 255 for pixels)"
        raise ValueError(f"{where}.x must be float32 (the dtype of every model and step here), got "
                         f"{str(x.dtype).replace('torch.', '')}: pass {fix}")
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(f"{where}.x must hold examples of splits.input_shape {tuple(input_shape)}, got "
                         f"{tuple(x.shape[1:])}")
    bad = non_finite_rows(x)  # one pass over the data; the steps then need no check of their own
    if bad:
        raise ValueError(f"{where}.x must be finite: {bad} of {len(x)} examples hold NaN or inf (bad data, not a "
                         f"learning rate to lower); drop or repair them, e.g. keep torch.isfinite(x).flatten(1).all(1)")
    if y.dtype != torch.int64 or y.dim() != 1:
        raise ValueError(f"{where}.y must be a 1-D int64 (torch.long) tensor of class indices, got "
                         f"{str(y.dtype).replace('torch.', '')} of shape {tuple(y.shape)}: pass y.long()")
    outside = (y < 0) | (y >= num_classes)
    if outside.any():
        seen = sorted(set(y[outside].tolist()))
        raise ValueError(f"{where}.y must be class indices in [0, {num_classes}) (splits.classes has {num_classes}), "
                         f"got {int(outside.sum())} of {len(y)} labels outside it: {seen[:5]}")


def _check_model(who, model, x_probe, num_classes):
    """A ValueError naming `who` unless its parameters are float32 and (x_probe given) it
    outputs one logit per class on x_probe."""
    dtypes = sorted({str(p.dtype).replace("torch.", "") for p in model.parameters() if p.is_floating_point()} -
                    {"float32"})
    if dtypes:
        raise ValueError(f"{who} parameters are {', '.join(dtypes)}; the engine runs in float32 (its data, soft labels "
                         f"and steps): call {who}.float()")
    if x_probe is not None:
        _check_classes(who, predict(model, x_probe).shape[1], num_classes)


def _check_classes(who, got, num_classes):
    if got != num_classes:
        raise ValueError(f"{who} must output {num_classes} logits (the data set's classes), got {got}")


def _check_data(student, teacher, splits, drop_single, teacher_runs):
    """Every split, the student and the teacher checked once, before the first step. The
    teacher's class count is probed here when `teacher_runs` is False (alpha = 0, no
    feature or relation term: it is used for the final agreement alone, which compares
    argmaxes over the same classes); otherwise TeacherOutputs' one pass gives it."""
    one = "a batch of one is dropped (BatchNorm and the relation terms cannot use it)"
    needs = {"train": (2, one) if drop_single else (1, "a step needs an example"),
             "val": (1, "each epoch is scored on it"), "test": (1, "the run's final score")}
    for name, (min_rows, why) in needs.items():
        _check_split(name, getattr(splits, name), splits.num_classes, splits.input_shape, min_rows, why)
    probe = splits.train.x[:2]
    _check_model("student", student, probe, splits.num_classes)
    if teacher is not None:
        _check_model("teacher", teacher, None if teacher_runs else probe, splits.num_classes)


def _teacher_runs(teacher, cfg):
    """Whether the run needs the teacher's outputs on the transfer set."""
    return teacher is not None and (cfg.alpha > 0 or cfg.feature_weight > 0 or cfg.relation_weight > 0)


def _own_random_state(events, seed, device):
    """Drive the generator `events` with torch's global generators (the CPU's, and the run's
    CUDA device's) holding the run's own state, seeded from `seed`, and the caller's state
    everywhere else: whatever the run draws (FitNets regressors' initial weights, a student's
    dropout masks) comes from cfg.seed, the same however other code draws between its
    steps or however many runs take turns (a lab's two students in lockstep), and the
    caller's own random stream goes on as if the run had not happened. Two state swaps per
    step: about 2 µs on the CPU."""
    gens = [torch.random.default_generator]
    if device.type == "cuda":
        gens.append(torch.cuda.default_generators[device.index if device.index is not None
                                                  else torch.cuda.current_device()])
    run_states = None
    while True:
        callers = [g.get_state() for g in gens]
        try:
            if run_states is None:
                for g in gens:
                    g.manual_seed(seed)
            else:
                for g, state in zip(gens, run_states):
                    g.set_state(state)
            event = next(events)
        except StopIteration as done:
            return done.value
        finally:
            run_states = [g.get_state() for g in gens]
            for g, state in zip(gens, callers):
                g.set_state(state)
        yield event


def _batches(n, batch_size, per_gather, generator, device, drop_single):
    """The epoch's shuffled batches as (rows, slices): `rows` index `per_gather` batches of
    the transfer set, `slices` cut them into batches. With `drop_single`, a
    final batch of one is dropped (BatchNorm and the relation terms cannot use it)."""
    order = torch.randperm(n, generator=generator).to(device)
    for i in range(0, n, per_gather * batch_size):
        rows = order[i:i + per_gather * batch_size]
        slices = [slice(j, j + batch_size) for j in range(0, len(rows), batch_size)]
        if drop_single and n > 1 and len(rows) - slices[-1].start == 1:
            slices.pop()
        yield rows, slices


def _epoch(train, response, targets, batch_size, generator, drop_single):
    """(x, y, response targets, TeacherBatch or None) of each batch of an epoch, in a random
    order. Each tensor's rows are gathered once for GATHER batches, which then are slices
    of them: on the CPU an index_select costs ~20 µs, a slice ~1 µs. Where the teacher runs
    per batch (its outputs over the memory budget), a batch is gathered at a time."""
    per_gather = 1 if targets is not None and not targets.cached else GATHER
    for rows, slices in _batches(len(train), batch_size, per_gather, generator, train.x.device, drop_single):
        x, y = train.x.index_select(0, rows), train.y.index_select(0, rows)
        teacher = targets(rows) if targets is not None else None
        response_targets = response.targets(rows, teacher)
        for b in slices:
            yield x[b], y[b], [t[..., b] for t in response_targets], teacher.rows(b) if teacher is not None else None


def divergence_limit(first_loss, num_classes):
    """The loss above which a run has diverged: DIVERGED (1000) times the scale it started
    from, the larger of its first step's loss and ln C, the cross-entropy of a uniform
    guess over the C classes (where a classifier's loss starts). Three orders of magnitude
    above that is no noisy step but updates that overshoot and feed on themselves.

    Why not a ratio to the first loss alone: distillation's loss can start at zero. The KD
    term is a KL divergence: a student that starts as a copy of its teacher reads 0 (or a
    rounding error of either sign) from step to step. A loss at or below zero is never
    divergence; a non-finite loss always is."""
    return DIVERGED * max(first_loss, math.log(num_classes))


TEACHER_BROKE = ("the teacher's outputs on this batch are NaN or inf, so the loss is too: the teacher is broken "
                 "on these inputs (check wb.predict(teacher, splits.train.x)); the learning rate is not the cause")
BEFORE_ANY_UPDATE = ("this is before any update, so the learning rate is not the cause: the student's outputs are "
                     "NaN or inf (check its parameters: all(torch.isfinite(p).all() for p in student.parameters()))")


def _diverged(epoch, step, loss, limit, lr, cause=None):
    """Result.diverged for a step whose loss is non-finite or over `limit`, with the message
    a learner reads: where, the value seen, the limit and the learning rate to lower (or,
    given a `cause` that is not the learning rate, that cause)."""
    if not math.isfinite(loss):
        seen = f"the loss became {loss} at epoch {epoch}, step {step}"
    else:
        seen = (f"the loss reached {loss:.3g} at epoch {epoch}, step {step}, over {limit:.3g} ({DIVERGED:g} times "
                f"the scale the run started from)")
    message = f"{seen}: " + (cause or f"lr={lr:g} makes the updates overshoot and grow; lower the learning rate "
                                       f"(try lr={lr / 10:g})")
    return {"epoch": epoch, "step": step, "loss": loss, "limit": limit, "lr": lr, "message": message}


def _cause(loss, step, teacher_batch):
    """Why a loss is non-finite when the learning rate cannot be the reason: the teacher's
    outputs on the batch (when it runs per batch; kept outputs are checked once), or a
    first step, before any update. None: the updates."""
    if math.isfinite(loss):
        return None
    if teacher_batch is not None and any(
            t is not None and not torch.isfinite(t).all() for t in (*teacher_batch[:3], *teacher_batch.features.values())):
        return TEACHER_BROKE
    return BEFORE_ANY_UPDATE if step == 0 else None


def _evaluate(model, split):
    logits = predict(model, split.x)
    return {"acc": (logits.argmax(1) == split.y).float().mean().item(),
            "loss": F.cross_entropy(logits, split.y).item()}


def steps(student, splits, cfg, teacher=None, stop=None):
    """Run training as a generator of Events; its return value (StopIteration.value) is
    the Result. With a teacher the loss is

        alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · CE(s, y)
        + feature_weight · feature term + relation_weight · relation term

    (the last two when their weights are set; see DistillConfig) and the history
    records each term apart: "kd", "ce", "feature", "relation". With cfg.kd_loss "dkd"
    or "standardized" the KD term is wb.losses.dkd_loss or standardized_kd_loss (and
    "tckd", "nckd" are recorded for DKD); with cfg.label_smoothing the CE's targets
    are smoothed, and "ce" records that smoothed cross-entropy (not the CE to the
    one-hot labels; it cannot reach 0)."""
    _check_run(student, splits, cfg, teacher)
    batch_norm = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in student.modules())
    if batch_norm and cfg.batch_size == 1:
        raise ValueError("batch_size must be >= 2 for a student with BatchNorm (it normalises over the batch), got 1")
    if teacher is None and (cfg.feature_weight > 0 or cfg.relation_weight > 0):
        raise ValueError("feature_weight and relation_weight need a teacher: use wb.distill, not wb.train")
    device = splits.train.x.device
    student.to(device)
    if teacher is not None:
        check_teacher_split(teacher, splits)  # another data set: ValueError; another split seed: a warning
        teacher.to(device)
    _check_data(student, teacher, splits, batch_norm or cfg.relation_weight > 0, _teacher_runs(teacher, cfg))
    return (yield from _own_random_state(_run(student, splits, cfg, teacher, stop, batch_norm), cfg.seed, device))


def _run(student, splits, cfg, teacher, stop, batch_norm):
    """`steps` once its arguments are checked."""
    train, device = splits.train, splits.train.x.device
    targets = terms = None
    if _teacher_runs(teacher, cfg):
        targets = TeacherOutputs(teacher, student, train.x, cfg, train.y)  # the teacher's one pass
        _check_classes("teacher", targets.num_classes, splits.num_classes)
        if cfg.feature_weight > 0 or cfg.relation_weight > 0:
            terms = Terms(student, targets.shapes, train.x[:2], cfg)
    response = Response(train.y, splits.num_classes, cfg, soft=targets is not None and targets.soft)

    params = [p for p in student.parameters() if p.requires_grad]
    if not params:
        raise ValueError("student has no trainable parameters (requires_grad is False on all of them, as on a "
                         "teacher from wb.teachers.get): call student.requires_grad_(True) to train it")
    if terms is not None:
        params += list(terms.regressors.parameters())  # trained with the student
    opt = Optimizer(cfg, params)
    gen = torch.Generator().manual_seed(cfg.seed)
    result, step, t0 = Result(student), 0, time.perf_counter()
    limit = math.inf  # divergence_limit, from the first step's loss
    result.regressors = terms.regressors if terms is not None else None
    term_weights = {name: torch.tensor(w, device=device) for name, w in response.term_weights.items()}
    with tap(student, terms.student_layers if terms is not None else []) as student_feats:
        for epoch in range(1, cfg.epochs + 1):
            student.train()
            sums, seen, correct = {}, 0, 0
            for x, y, response_targets, teacher_batch in _epoch(train, response, targets, cfg.batch_size, gen,
                                                                batch_norm or cfg.relation_weight > 0):
                if stop is not None and stop.is_set():
                    result.stopped = True
                    break
                with autocast(device):
                    logits = student(x).float()
                ces, grad = response.cross_entropies_and_grad(logits, response_targets)
                extra = terms(student_feats, logits, teacher_batch) if terms is not None else {}
                with torch.no_grad():  # every number of the step in one read from the device
                    hits = (logits.argmax(1) == y).sum(dtype=torch.float32)
                    entropy = [teacher_batch.entropy.mean(0).reshape(-1)] if response.term else []
                    numbers = torch.cat([ces, torch.stack([hits, *extra.values()]), *entropy]).tolist()
                batch, hits = response.history_row(numbers, list(extra))
                response.exact_if_small(batch, logits, y, teacher_batch)
                value = batch["loss"]
                if step == 0 and math.isfinite(value):
                    limit = divergence_limit(value, splits.num_classes)
                if not math.isfinite(value) or value > limit:  # stepping on only makes it worse
                    result.diverged = _diverged(epoch, step + 1, value, limit, cfg.lr, _cause(value, step, teacher_batch))
                    break
                for param in params:  # = opt.zero_grad(set_to_none=True), without its ~30 µs profiler wrapper
                    param.grad = None
                # = loss.backward() for loss = Σ weights·ces + Σ weight·term: the response
                # terms' gradient is written out (workbench.response_loss), the others are autograd's
                torch.autograd.backward([logits, *extra.values()], [grad, *(term_weights[k] for k in extra)])
                opt.step()

                step += 1
                for k, v in batch.items():
                    sums[k] = sums.get(k, 0.0) + v * len(y)
                seen += len(y)
                correct += hits
                yield Event("step", epoch, step, batch)
            if result.stopped or result.diverged:
                break
            row = {"epoch": epoch, **{k: v / seen for k, v in sums.items()}, "train_acc": correct / seen}
            val = _evaluate(student, splits.val)
            row.update(val_acc=val["acc"], val_loss=val["loss"])
            result.history.append(row)
            yield Event("epoch", epoch, step, row)

    test = _evaluate(student, splits.test)
    result.metrics = {"test_acc": test["acc"], "test_loss": test["loss"], "epochs": len(result.history),
                      "steps": step, "seconds": time.perf_counter() - t0}
    if result.history:
        result.metrics.update(train_acc=result.history[-1]["train_acc"], val_acc=result.history[-1]["val_acc"])
    if teacher is not None:
        result.metrics["test_agreement"] = agreement(student, teacher, splits.test)
    student.eval()
    return result


class Response:
    """The response-based terms of a run, for cross_entropies_and_grad: the one-hot labels
    (weight 1 − alpha when distilling, 1 otherwise; smoothed by cfg.label_smoothing) and,
    when distilling, cfg.kd_loss's soft terms at T (scale 1/T), from the teacher's soft
    labels (teacher_outputs.soft_labels_for):
      "kd": one term, weight alpha · T² (Hinton et al. 2015);
      "dkd": three (response_loss.dkd_weights, times alpha · T²);
      "standardized": one on the student's z-scored logits, weight alpha · T²
        (response_loss.standardized_cross_entropies_and_grad).
    Each soft term's value is its KL: T² · cross-entropy − T² · the teacher's entropy."""

    def __init__(self, labels, num_classes, cfg, soft):
        self.onehot = smoothed(F.one_hot(labels, num_classes).float(), cfg.label_smoothing)
        self.labels, self.cfg = labels, cfg
        self.term = cfg.kd_loss if soft else None  # "kd", "dkd", "standardized", or None: hard labels only
        t, a, device = cfg.temperature, cfg.alpha, labels.device
        # the soft terms in the labels' call, and their weights (times alpha · T²)
        soft_weights = {None: [], "kd": [1.0], "dkd": dkd_weights(cfg.tckd_weight, cfg.nckd_weight).tolist(),
                        "standardized": [1.0]}[self.term]
        self.scales = torch.tensor([1.0] + [1 / t] * len(soft_weights), device=device)
        self.weights = torch.tensor([1 - a if soft else 1.0] + [a * t**2 * w for w in soft_weights], device=device)
        if self.term == "dkd":  # FAR at each example's label, to leave it out of the NCKD terms' softmax: (2, C, N)
            self.far = F.one_hot(labels, num_classes).t().mul(FAR).expand(2, num_classes, len(labels)).contiguous()
        self.term_weights = {"feature": cfg.feature_weight, "relation": cfg.relation_weight}
        # A soft term's value, T² · cross-entropy − T² · entropy in float32, cancels two
        # numbers near T² · ln C: its rounding error stays under KD_ROUNDING · T² · ln C
        # (measured at most ~0.03 of that bound, B = 128, C = 10). Under 100 times that, the
        # step's terms are recomputed exactly (float64, from both sides' logits): below
        # 0.0018 at T = 4, 0.28 at T = 50, always at T >= 1000.
        self.exact_below = 100 * KD_ROUNDING * t**2 * math.log(num_classes) if soft else 0.0

    def targets(self, idx, teacher_batch):
        """The rows idx laid out for the step's cross_entropies_and_grad calls, each tensor
        with the batch last: [targets (K, C, B)], and for "dkd" [targets, masks (2, C, B),
        target sums (K, 1, B)]."""
        onehot = self.onehot.index_select(0, idx)
        if self.term is None:
            return [onehot[None].transpose(1, 2).contiguous()]
        soft = teacher_batch.soft_labels
        if self.term != "dkd":  # "kd", "standardized": soft is (B, C)
            return [torch.stack([onehot, soft]).transpose(1, 2).contiguous()]
        # "dkd": soft is (B, 3, C), decoupled_soft_labels_and_entropy's p, p̂ and p with its target zeroed
        targets = torch.cat([onehot[:, None], soft], 1).permute(1, 2, 0).contiguous()
        return [targets, self.far.index_select(2, idx), targets.sum(1, keepdim=True)]

    def cross_entropies_and_grad(self, logits, batch):
        """(ces, grad) of the step's response terms: their batch-mean cross-entropies (the
        labels' first) and the gradient of their weighted sum with respect to the logits."""
        if self.term == "dkd":
            return cross_entropies_and_grad(logits, batch[0], self.scales, self.weights, *batch[1:])
        if self.term == "standardized":
            return standardized_cross_entropies_and_grad(logits, batch[0], self.scales, self.weights)
        return cross_entropies_and_grad(logits, batch[0], self.scales, self.weights)

    def history_row(self, numbers, extra):
        """The step's history row from the numbers read off the device, [the cross-entropies
        of cross_entropies_and_grad…, hits, the extra terms…, the teacher's mean T² ·
        entropies (distilling)…], and its hits."""
        cfg, n, m = self.cfg, len(self.scales), len(self.scales) + 1 + len(extra)
        (ce, *soft_ces), (hits, *rest), entropies = numbers[:n], numbers[n:m], numbers[m:]
        row = {"loss": ce, "ce": ce}
        if self.term:
            kl = [soft_ce * cfg.temperature**2 - h for soft_ce, h in zip(soft_ces, entropies)]  # CE − entropy
            # "dkd": KL of KD, NCKD and (1 − p_t) · NCKD (response_loss.dkd_weights)
            chosen = {"tckd": kl[0] - kl[2], "nckd": kl[1]} if self.term == "dkd" else {}
            kd = self._dkd(chosen) if chosen else kl[0]
            row = {"loss": cfg.alpha * kd + (1 - cfg.alpha) * ce, "ce": ce, "kd": kd, **chosen}
        for name, value in zip(extra, rest):
            row[name] = value
            row["loss"] += self.term_weights[name] * value
        return row, int(hits)

    def _dkd(self, terms):
        return self.cfg.tckd_weight * terms["tckd"] + self.cfg.nckd_weight * terms["nckd"]

    def _set_kd(self, row, kd):
        """Put the KD term kd (unweighted by alpha) into the row, and into its loss."""
        row["loss"] += self.cfg.alpha * (kd - row["kd"])
        row["kd"] = kd

    def exact_if_small(self, row, logits, labels, teacher_batch):
        """Recompute the row's soft terms in float64 from both sides' logits (kd_term,
        wb.losses.dkd_terms, wb.losses.standardized_kd_loss) where one is under exact_below."""
        names = ("tckd", "nckd") if self.term == "dkd" else ("kd",) if self.term else ()
        if not names or min(row[name] for name in names) >= self.exact_below:
            return
        logits, teacher_logits, t = logits.detach(), teacher_batch.logits, self.cfg.temperature
        if self.term == "dkd":
            terms = dkd_terms(logits.double(), teacher_logits.double(), labels, t)
            row.update(zip(names, (term.item() for term in terms)))
            self._set_kd(row, self._dkd(row))
        elif self.term == "standardized":
            self._set_kd(row, standardized_kd_loss(logits.double(), teacher_logits.double(), t).item())
        else:
            self._set_kd(row, kd_term(logits, teacher_logits, t).item())


def smoothed(onehot, eps):
    """Label smoothing (Szegedy et al. 2016): (1 − ε) · one-hot + ε / C; the one-hot
    targets themselves, untouched, at ε = 0."""
    return onehot if eps == 0 else onehot * (1 - eps) + eps / onehot.shape[1]


def run(events, callbacks=(), every_step=False):
    """Drive a `steps(...)` generator to the end, passing every event but the per-step
    ones (epochs, rounds; steps too when every_step) to each callback; return its Result."""
    while True:
        try:
            event = next(events)
        except StopIteration as done:
            return done.value
        if event.kind != "step" or every_step:
            for cb in callbacks:
                cb(event)


def distill(student, teacher, splits, cfg, callbacks=(), stop=None, every_step=False):
    """Train `student` on the teacher's soft labels mixed with the hard labels (see
    `steps`). `stop` (a threading.Event) ends the run within one step; the Result keeps
    the history so far and says stopped=True."""
    if teacher is None:
        raise ValueError("teacher must be a torch.nn.Module; use wb.train for hard labels only")
    return run(steps(student, splits, cfg, teacher=teacher, stop=stop), callbacks, every_step)


def train(model, splits, cfg, callbacks=(), stop=None, every_step=False):
    """Hard-label training (cross-entropy only; cfg.temperature and cfg.alpha are unused).
    Same Result shape as `distill`."""
    return run(steps(model, splits, cfg, teacher=None, stop=stop), callbacks, every_step)
