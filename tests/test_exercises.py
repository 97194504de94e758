"""The exercises: every solution passes its checks, every blank runs and says "not
answered", and every check fails the known-wrong answers with the mistake named (a
check that always passes or never passes is caught here)."""
import pathlib

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import workbench as wb
from workbench import exercises as ex

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.name for p in (NOTEBOOKS / "exercises").glob("*.ipynb"))


def checked_cells(path):
    """Run a notebook's code cells in one namespace (quizzes skipped); return the value
    of every cell that ends in an ex.check_… call."""
    ns, results = {}, []
    for cell in nbformat.read(path, 4).cells:
        if cell.cell_type != "code" or cell.source.startswith("quiz("):
            continue
        *body, last = cell.source.rstrip().split("\n")
        exec("\n".join(body if last.startswith("ex.check_") else body + [last]), ns)
        if last.startswith("ex.check_"):
            results.append((last, eval(last, ns)))
    return results


def test_there_is_a_solution_for_every_exercise():
    assert NAMES == sorted(p.name for p in (NOTEBOOKS / "solutions").glob("*.ipynb")) and len(NAMES) == 9


@pytest.mark.parametrize("name", NAMES)
def test_every_solution_passes_its_checks(name):
    results = checked_cells(NOTEBOOKS / "solutions" / name)
    assert results and all(fb.passed is True for _, fb in results), [(c, str(fb)) for c, fb in results]


@pytest.mark.parametrize("name", NAMES)
def test_a_blank_exercise_runs_and_says_not_answered(name):
    results = checked_cells(NOTEBOOKS / "exercises" / name)
    assert results and all(fb.passed is None for _, fb in results), [(c, str(fb)) for c, fb in results]


# ---- the KD term: every right way of writing it passes, every common mistake is named ----

def kl(a, b):
    return F.kl_div(a, b, reduction="batchmean", log_target=True)


def ls(z, T, dim=-1):
    return F.log_softmax(z / T, dim)


def sm(z, T, dim=-1):
    return F.softmax(z / T, dim)


def kd(s, t, T):
    return kl(ls(s, T), ls(t, T)) * T ** 2


def cat(z, T):
    return torch.distributions.Categorical(logits=z / T)


RIGHT_KD = {
    "kl_div, probability targets": lambda s, t, T: F.kl_div(ls(s, T), sm(t, T), reduction="batchmean") * T ** 2,
    "kl_div, log_target=True, T*T": lambda s, t, T: kl(ls(s, T), ls(t, T)) * T * T,
    "manual sum over the whole batch": lambda s, t, T: (sm(t, T) * (ls(t, T) - ls(s, T))).sum() / len(s) * T ** 2,
    "per-example sum, then mean": lambda s, t, T: (sm(t, T) * (ls(t, T) - ls(s, T))).sum(-1).mean() * T ** 2,
    "distributions.kl_divergence": lambda s, t, T: torch.distributions.kl_divergence(cat(t, T), cat(s, T)).mean()
    * T ** 2,
    "soft cross-entropy minus entropy": lambda s, t, T: (F.cross_entropy(s / T, sm(t, T)) - cat(t, T).entropy().mean())
    * pow(T, 2),
    "xlogy": lambda s, t, T: (torch.special.xlogy(sm(t, T), sm(t, T)) - sm(t, T) * ls(s, T)).sum(1).mean() * T ** 2,
    "log of softmax": lambda s, t, T: (sm(t, T) * (sm(t, T).log() - sm(s, T).log())).sum(1).mean() * T ** 2,
    "float64": lambda s, t, T: F.kl_div(ls(s.double(), T), sm(t.double(), T), reduction="batchmean") * T ** 2,
    "nn.KLDivLoss module": lambda s, t, T: torch.nn.KLDivLoss(reduction="batchmean")(ls(s, T), sm(t, T)) * T ** 2,
}


@pytest.mark.parametrize("form", RIGHT_KD)
def test_every_right_form_of_the_kd_term_passes(form):
    fb = ex.check_kd_loss(RIGHT_KD[form])
    assert fb.passed is True and "entropy" not in fb.message, str(fb)


def test_soft_cross_entropy_passes_with_the_offset_explained():
    """Same gradient as the KL, value larger by T² · H(teacher): accepted, and the note says so."""
    fb = ex.check_kd_loss(lambda s, t, T: F.cross_entropy(s / T, sm(t, T)) * T ** 2)
    assert fb.passed is True and "teacher's entropy" in fb.message and "gradient is the KL's" in fb.message, str(fb)
    with_ce = ex.check_kd_objective(lambda s, t, y, T, a: a * F.cross_entropy(s / T, sm(t, T)) * T ** 2
                                    + (1 - a) * F.cross_entropy(s, y))
    assert with_ce.passed is True and "H(p_teacher)" in with_ce.message, str(with_ce)


WRONG_KD = {  # the mistake -> (an implementation that makes it, words of its own message)
    "missing T²": (lambda s, t, T: kl(ls(s, T), ls(t, T)), "divided by T²"),
    "T instead of T²": (lambda s, t, T: kl(ls(s, T), ls(t, T)) * T, "scaled by T, not by T²"),
    "swapped": (lambda s, t, T: kl(ls(t, T), ls(s, T)) * T ** 2, "arguments swapped"),
    "reduction mean": (lambda s, t, T: F.kl_div(ls(s, T), sm(t, T), reduction="sum") / s.numel() * T ** 2,
                       "number of classes"),
    "reduction sum": (lambda s, t, T: F.kl_div(ls(s, T), sm(t, T), reduction="sum") * T ** 2,
                      "times the batch size"),
    "sum and missing T²": (lambda s, t, T: F.kl_div(ls(s, T), sm(t, T), reduction="sum"), "Two things"),
    "teacher unsoftened": (lambda s, t, T: kl(ls(s, T), ls(t, 1.0)) * T ** 2,
                           "teacher's distribution is taken at T = 1"),
    "student unsoftened": (lambda s, t, T: kl(ls(s, 1.0), ls(t, T)) * T ** 2,
                           "student's distribution is taken at T = 1"),
    "neither softened": (lambda s, t, T: kl(ls(s, 1.0), ls(t, 1.0)) * T ** 2, "Neither distribution is softened"),
    "logits multiplied by T": (lambda s, t, T: kl(ls(s, 1 / T), ls(t, 1 / T)) * T ** 2, "multiplied by T"),
    "probabilities as input": (lambda s, t, T: F.kl_div(sm(s, T), sm(t, T), reduction="batchmean") * T ** 2,
                               "got probabilities where it expects log-probabilities"),
    "log_target forgotten": (lambda s, t, T: F.kl_div(ls(s, T), ls(t, T), reduction="batchmean") * T ** 2, "NaN"),
    "probabilities read as log targets": (lambda s, t, T: F.kl_div(ls(s, T), sm(t, T), reduction="batchmean",
                                                                   log_target=True) * T ** 2,
                                          "reads your target probabilities as log-probabilities"),
    "softmax over the batch": (lambda s, t, T: F.kl_div(ls(s, T, 0), sm(t, T, 0), reduction="batchmean") * T ** 2,
                               "over the batch (dimension 0)"),
    "squared error on probabilities": (lambda s, t, T: F.mse_loss(sm(s, T), sm(t, T)),
                                       "squared error between the probabilities"),
    "squared error on logits": (lambda s, t, T: F.mse_loss(s, t), "squared error between the logits"),
    "hard labels": (lambda s, t, T: F.cross_entropy(s / T, t.argmax(-1)) * T ** 2, "teacher's argmax"),
    "wrong sign": (lambda s, t, T: (sm(t, T) * ls(s, T)).sum(-1).mean() * T ** 2, "wrong sign"),
    "not averaged over the batch": (lambda s, t, T: (sm(t, T) * (ls(t, T) - ls(s, T))).sum(-1) * T ** 2,
                                    "one number per example"),
    "no reduction": (lambda s, t, T: F.kl_div(ls(s, T), sm(t, T), reduction="none"), "one number"),
    "detached student": (lambda s, t, T: kd(s.detach(), t, T), "no gradient"),
    "returned as a float": (lambda s, t, T: kd(s, t, T).item(), "plain number (float)"),
    "returned as NumPy": (lambda s, t, T: np.float32(kd(s, t, T).item()), "plain number (float32)"),
    "a new tensor from the value": (lambda s, t, T: torch.tensor(kd(s, t, T).item(), requires_grad=True),
                                    "not connected to the student's logits"),
    "right value, zero gradient": (lambda s, t, T: kd(s, t, T).detach() + 0 * s.sum(), "it is zero"),
    "teacher changed in place": (lambda s, t, T: kl(ls(s, T), F.log_softmax(t.div_(T), -1)) * T ** 2, "in place"),
    "no return": (lambda s, t, T: None, "returned None"),
    "raises": (lambda s, t, T: 1 / 0, "raised ZeroDivisionError"),
    "the workbench's own kd_loss": (lambda s, t, T: wb.losses.kd_loss(s, t, T), "workbench's own kd_loss"),
}


@pytest.mark.parametrize("mistake", WRONG_KD)
def test_kd_loss_mistakes_are_named(mistake):
    fn, words = WRONG_KD[mistake]
    fb = ex.check_kd_loss(fn)
    assert fb.passed is False and words in fb.message, str(fb)
    assert "that is not the KD term" not in fb.message  # its own message, not the generic line
    assert "log_softmax(" not in str(fb) and "T**2" not in str(fb) and "T ** 2" not in str(fb)  # never the solution


def test_a_wrong_kd_term_gets_the_generic_line():
    fb = ex.check_kd_loss(lambda s, t, T: (s - t).abs().mean() + 0 * s.sum())
    assert fb.passed is False and "that is not the KD term" in fb.message, str(fb)


# ---- the whole objective ----

def obj(kd_term=kd, ce=F.cross_entropy):
    return lambda s, t, y, T, a: a * kd_term(s, t, T) + (1 - a) * ce(s, y)


RIGHT_OBJECTIVE = {
    "reference": obj(),
    "lerp": lambda s, t, y, T, a: torch.lerp(F.cross_entropy(s, y), kd(s, t, T), a),
    "nll of log-softmax": obj(ce=lambda s, y: F.nll_loss(F.log_softmax(s, -1), y)),
    "one-hot cross-entropy": obj(ce=lambda s, y: -(F.one_hot(y, s.shape[1]) * F.log_softmax(s, -1)).sum(1).mean()),
    "manual KL term": obj(kd_term=RIGHT_KD["per-example sum, then mean"]),
}


@pytest.mark.parametrize("form", RIGHT_OBJECTIVE)
def test_every_right_form_of_the_objective_passes(form):
    fb = ex.check_kd_objective(RIGHT_OBJECTIVE[form])
    assert fb.passed is True, str(fb)


WRONG_OBJECTIVE = {
    "alpha swapped": (lambda s, t, y, T, a: (1 - a) * kd(s, t, T) + a * F.cross_entropy(s, y),
                      "alpha weighs the cross-entropy"),
    "missing T²": (obj(kd_term=lambda s, t, T: kd(s, t, T) / T ** 2), "missing its T² factor"),
    "T instead of T²": (obj(kd_term=lambda s, t, T: kd(s, t, T) / T), "scaled by T, not by T²"),
    "swapped KL": (obj(kd_term=lambda s, t, T: kd(t, s, T)), "arguments swapped"),
    "KD reduced with mean": (obj(kd_term=lambda s, t, T: kd(s, t, T) / s.shape[1]), "number of classes"),
    "cross-entropy at T": (lambda s, t, y, T, a: a * kd(s, t, T) + (1 - a) * F.cross_entropy(s / T, y),
                           "taken at temperature T"),
    "cross-entropy times T²": (lambda s, t, y, T, a: a * kd(s, t, T) + (1 - a) * F.cross_entropy(s, y) * T ** 2,
                               "scaled by T² too"),
    "probabilities into cross_entropy": (obj(ce=lambda s, y: F.cross_entropy(F.softmax(s, -1), y)),
                                         "F.cross_entropy got probabilities"),
    "nll_loss on logits": (obj(ce=F.nll_loss), "F.nll_loss got logits"),
    "teacher's argmax as labels": (lambda s, t, y, T, a: a * kd(s, t, T) + (1 - a) * F.cross_entropy(s, t.argmax(1)),
                                   "instead of the true labels"),
    "cross-entropy summed": (obj(ce=lambda s, y: F.cross_entropy(s, y, reduction="sum")), "summed over the examples"),
    "no (1 - alpha)": (lambda s, t, y, T, a: a * kd(s, t, T) + F.cross_entropy(s, y), "not weighted by (1 − alpha)"),
    "no weights": (lambda s, t, y, T, a: kd(s, t, T) + F.cross_entropy(s, y), "added without alpha"),
    "alpha swapped and missing T²": (lambda s, t, y, T, a: (1 - a) * kd(s, t, T) / T ** 2 + a * F.cross_entropy(s, y),
                                     "Two things"),
    "returned as a float": (lambda s, t, y, T, a: obj()(s, t, y, T, a).item(), "plain number (float)"),
    "returned as NumPy": (lambda s, t, y, T, a: np.float64(obj()(s, t, y, T, a).item()), "plain number (float64)"),
    "detached student": (lambda s, t, y, T, a: obj()(s.detach(), t, y, T, a), "detached from the student's logits"),
    "KD term on a detached student": (lambda s, t, y, T, a: a * kd(s.detach(), t, T) + (1 - a) * F.cross_entropy(s, y),
                                      "not this objective's gradient"),
    "two numbers": (lambda s, t, y, T, a: (a * kd(s, t, T), (1 - a) * F.cross_entropy(s, y)), "one number"),
    "labels changed in place": (lambda s, t, y, T, a: obj()(s, t, y.zero_(), T, a), "in place"),
}


@pytest.mark.parametrize("mistake", WRONG_OBJECTIVE)
def test_objective_mistakes_are_named(mistake):
    fn, words = WRONG_OBJECTIVE[mistake]
    fb = ex.check_kd_objective(fn)
    assert fb.passed is False and words in fb.message, str(fb)
    assert "that is not alpha" not in fb.message  # its own message, not the generic line


# ---- soft labels ----

RIGHT_SOFT = {
    "F.softmax": lambda z, T: F.softmax(z / T, dim=-1),
    "torch.softmax, dim=1": lambda z, T: torch.softmax(z / T, dim=1),
    "exp over its sum": lambda z, T: torch.exp(z / T) / torch.exp(z / T).sum(-1, keepdim=True),
    "minus logsumexp": lambda z, T: torch.exp(z / T - torch.logsumexp(z / T, -1, keepdim=True)),
    "power 1/T, renormalised": lambda z, T: (F.softmax(z, -1) ** (1 / T)) / (F.softmax(z, -1) ** (1 / T)).sum(
        -1, keepdim=True),
    "float64": lambda z, T: F.softmax(z.double() / T, -1),
}


@pytest.mark.parametrize("form", RIGHT_SOFT)
def test_every_right_form_of_the_soft_labels_passes(form):
    assert ex.check_soft_labels(RIGHT_SOFT[form]).passed is True


WRONG_SOFT = {
    "no temperature": (lambda z, T: F.softmax(z, -1), "do not change with T"),
    "multiplied by T": (lambda z, T: F.softmax(z * T, -1), "sharper"),
    "divided by T²": (lambda z, T: F.softmax(z / T ** 2, -1), "divided by T², not by T"),
    "log-probabilities": (lambda z, T: F.log_softmax(z / T, -1), "log-probabilities"),
    "over the examples": (lambda z, T: F.softmax(z / T, 0), "Each column sums to 1"),
    "over the whole batch": (lambda z, T: F.softmax((z / T).flatten(), 0).view_as(z), "whole batch sums to 1"),
    "no softmax": (lambda z, T: z / T, "scaled logits"),
    "not normalised": (lambda z, T: torch.exp(z / T), "not normalised"),
    "sigmoid": (lambda z, T: torch.sigmoid(z / T), "sigmoid"),
    "probabilities divided by T": (lambda z, T: F.softmax(z, -1) / T, "divided the probabilities by T"),
    "hard labels": (lambda z, T: F.one_hot(z.argmax(-1), z.shape[-1]).float(), "hard labels"),
    "in place": (lambda z, T: F.softmax(z.div_(T), -1), "in place"),
    "NumPy": (lambda z, T: F.softmax(z / T, -1).numpy(), "NumPy array"),
    "one example": (lambda z, T: F.softmax(z / T, -1)[0], "one distribution per example"),
    "no return": (lambda z, T: None, "returned None"),
    "the workbench's own soft labels": (lambda z, T: wb.analysis.soft_labels(z, T), "workbench's own soft labels"),
}


@pytest.mark.parametrize("mistake", WRONG_SOFT)
def test_soft_label_mistakes_are_named(mistake):
    fn, words = WRONG_SOFT[mistake]
    fb = ex.check_soft_labels(fn)
    assert fb.passed is False and words in fb.message, str(fb)
    assert "differ from softmax(logits / T)" not in fb.message


# ---- the bias correction ----

def edited(change):
    def add_bias(z, c, d):
        out = z.clone()
        change(out, c, d)
        return out
    return add_bias


def raise_column(z, c, d):
    z[:, c] += d


def lower_the_others(z, c, d):
    z[:, [j for j in range(z.shape[1]) if j != c]] -= d


RIGHT_BIAS = {
    "clone, then add": edited(raise_column),
    "one-hot": lambda z, c, d: z + d * F.one_hot(torch.tensor(c), z.shape[1]),
    "index_add": lambda z, c, d: z.index_add(1, torch.tensor([c]), torch.full((len(z), 1), float(d))),
    "concatenated": lambda z, c, d: torch.cat([z[:, :c], z[:, c:c + 1] + d, z[:, c + 1:]], 1),
}


@pytest.mark.parametrize("form", RIGHT_BIAS)
def test_every_right_form_of_the_bias_correction_passes(form):
    fb = ex.check_bias_correction(RIGHT_BIAS[form])
    assert fb.passed is True and "constant per row" not in fb.message, str(fb)


def test_the_same_softmax_passes_with_a_note():
    """Lowering every other class by delta is the same correction: softmax cannot tell."""
    fb = ex.check_bias_correction(edited(lower_the_others))
    assert fb.passed is True and "constant per row" in fb.message, str(fb)


def in_place(z, c, d):
    z[:, c] += d
    return z


WRONG_BIAS = {
    "a row instead of a column": (edited(lambda z, c, d: z[c].add_(d)), "shifted a row"),
    "every class": (lambda z, c, d: z + d, "Every class got the same shift"),
    "in place": (in_place, "in place"),
    "subtracted": (edited(lambda z, c, d: z[:, c].sub_(d)), "lowered the class's logits"),
    "multiplied": (edited(lambda z, c, d: z[:, c].mul_(d)), "multiplied"),
    "class 3 hard-coded": (edited(lambda z, c, d: z[:, 3].add_(d)), "You changed class 3, but cls was 2"),
    "delta hard-coded": (edited(lambda z, c, d: z[:, c].add_(1.0)), "not by delta"),
    "softmax of the result": (lambda z, c, d: F.softmax(edited(raise_column)(z, c, d), -1), "probabilities"),
    "unchanged": (lambda z, c, d: z.clone(), "unchanged"),
    "only the column": (lambda z, c, d: z[:, c] + d, "Expected new logits of shape"),
    "NumPy": (lambda z, c, d: edited(raise_column)(z, c, d).numpy(), "NumPy array"),
    "no return": (lambda z, c, d: None, "returned None"),
}


@pytest.mark.parametrize("mistake", WRONG_BIAS)
def test_bias_correction_mistakes_are_named(mistake):
    fn, words = WRONG_BIAS[mistake]
    fb = ex.check_bias_correction(fn)
    assert fb.passed is False and words in fb.message, str(fb)
    assert "every other entry left as it was" not in fb.message


def test_a_hard_coded_class_that_happens_to_match_is_still_caught():
    """The check's first call uses cls = 2; a function fixed on class 2 fails on the second."""
    fb = ex.check_bias_correction(edited(lambda z, c, d: z[:, 2].add_(d)))
    assert fb.passed is False and "but cls was 4" in fb.message, str(fb)


# ---- choosing delta: on the split given (validation), any real number type ----

def left_out_split():
    logits = torch.zeros(20, 4)
    logits[:, 0] = 1.0
    logits[10:, 2] = 2.0
    return logits, torch.tensor([3] * 10 + [2] * 10)


def test_left_out_delta_fails_when_wrong_and_passes_when_right():
    logits, labels = left_out_split()
    low = ex.check_left_out_delta(0.5, logits, labels, 3)
    assert low.passed is False and "validation 3s" in low.message  # 3s still lose
    assert ex.check_left_out_delta(1.5, logits, labels, 3)         # 3s win, the 2s stay 2s
    assert "too much" in ex.check_left_out_delta(5.0, logits, labels, 3).message
    assert "test 3s" in ex.check_left_out_delta(0.5, logits, labels, 3, split="test").message


@pytest.mark.parametrize("delta", [1.5, np.float64(1.5), np.float32(1.5), np.array(1.5), np.array([1.5]),
                                   torch.tensor(1.5), np.int64(2), 2])
def test_a_number_of_any_real_type_is_accepted(delta):
    logits, labels = left_out_split()
    assert ex.check_left_out_delta(delta, logits, labels, 3).passed is True


@pytest.mark.parametrize("delta", ["1.5", True, 1.5 + 0j, float("nan"), float("inf"), [1.5, 2.0],
                                   np.array([1.5, 2.0]), torch.tensor([1.5, 2.0])])
def test_what_is_not_one_real_number_is_refused(delta):
    logits, labels = left_out_split()
    fb = ex.check_left_out_delta(delta, logits, labels, 3)
    assert fb.passed is False and "delta must be a finite number" in fb.message, str(fb)


def test_exercise_04_chooses_on_validation_and_looks_at_test_once():
    """Issue 28, lesson 7: the delta is checked on validation logits; the test set is read in
    one cell only, after the choice, and only once the choice passes on validation."""
    for kind in ("exercises", "solutions"):
        cells = [c.source for c in nbformat.read(NOTEBOOKS / kind / "04_left_out_class.ipynb", 4).cells
                 if c.cell_type == "code"]
        choose = [i for i, c in enumerate(cells) if "check_left_out_delta(delta, val_logits, val_labels" in c]
        test_reads = [i for i, c in enumerate(cells) if "splits.test" in c]
        assert len(choose) == 2 and len(test_reads) == 1 and test_reads[0] > choose[0], (choose, test_reads)
        assert cells[test_reads[0]].index("check_left_out_delta") < cells[test_reads[0]].index("splits.test")


# ---- everything else ----

def test_unfinished_answers_never_crash():
    def unfinished(*args):
        raise NotImplementedError
    for check in (ex.check_soft_labels, ex.check_kd_loss, ex.check_kd_objective, ex.check_bias_correction):
        assert check(unfinished).passed is None and check(None).passed is None and check(...).passed is None


def test_feedback_shows_itself_in_a_notebook():
    fb = ex.check_kd_loss(WRONG_KD["swapped"][0])
    html = fb._repr_html_()
    assert "kd-not-yet" in html and "Hint:" in html and "✗" in str(fb) and not fb
