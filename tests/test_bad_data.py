"""Bad data is named before the first step (issue 29, items 2, 3 and 9): empty or too-small
splits, NaN or inf in the inputs or in the teacher's outputs, inputs or labels of the wrong
dtype, labels outside the classes, a student or teacher of another dtype or class count.
Each is a ValueError naming the split / tensor / model, raised before any step runs (so no
run is lost after its epochs), and never reported as divergence."""
import copy
import dataclasses
import math

import pytest
import torch

import workbench as wb
from workbench.data import Split
from workbench.train import steps

CFG = wb.DistillConfig(epochs=2, batch_size=64)


def student(splits, seed=0):
    wb.seed_everything(seed)
    return wb.models.build("mlp", splits.input_shape, splits.num_classes, hidden=(8,))


def with_split(splits, name, x=None, y=None):
    old = getattr(splits, name)
    return dataclasses.replace(splits, **{name: Split(old.x if x is None else x, old.y if y is None else y)})


def refused_before_a_step(run, *needles):
    """Drive a run's generator; it must raise ValueError before yielding one Event, and the
    message must contain every needle."""
    events = []
    with pytest.raises(ValueError) as err:
        for event in run:
            events.append(event)
    assert events == [], f"{len(events)} events ran before the refusal"
    for needle in needles:
        assert needle in str(err.value), (needle, str(err.value))
    return str(err.value)


# --- item 2: empty and too-small splits ---------------------------------------------------------

@pytest.mark.parametrize("name", ["train", "val", "test"])
def test_an_empty_split_is_refused_before_the_first_step_naming_it(digits, name):
    """Was: an empty test split raised torch.cat()'s 'expected a non-empty list' after every
    epoch had run (the Result lost); an empty val split after epoch 1."""
    empty = with_split(digits, name, digits.train.x[:0], digits.train.y[:0])
    refused_before_a_step(steps(student(digits), empty, CFG), f"splits.{name}", "empty")


def test_a_one_example_transfer_set_is_refused_where_a_batch_of_one_cannot_train(digits):
    """BatchNorm (and the relation terms) drop a batch of one: a one-example transfer set
    would run no step at all."""
    wb.seed_everything(0)
    cnn = wb.models.build("cnn", digits.input_shape, digits.num_classes, channels=(4,))
    one = with_split(digits, "train", digits.train.x[:1], digits.train.y[:1])
    refused_before_a_step(steps(cnn, one, CFG), "splits.train", "1 example")


def test_x_and_y_of_different_lengths_are_named(digits):
    short = with_split(digits, "val", y=digits.val.y[:-3])
    refused_before_a_step(steps(student(digits), short, CFG), "splits.val", str(len(digits.val.x)),
                          str(len(digits.val.y) - 3))


# --- item 3: NaN / inf data is bad data, not divergence ----------------------------------------

@pytest.mark.parametrize("name", ["train", "val", "test"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_or_inf_in_the_inputs_is_named_with_the_split_and_row_count(digits, name, bad):
    """Was: a NaN in the training inputs ended the run as 'diverged ... lower the learning rate'."""
    x = getattr(digits, name).x.clone()
    x[3, 0, 2, 2] = bad
    x[7, 0, 0, 1] = bad
    refused_before_a_step(steps(student(digits), with_split(digits, name, x=x), CFG),
                          f"splits.{name}.x", "2 of", "NaN or inf")


def broken_teacher(teacher, value=math.nan):
    bad = copy.deepcopy(teacher)
    with torch.no_grad():
        bad.head.bias[4] = value
    return bad


@pytest.mark.parametrize("memory_mb", [512.0, 0.0])  # outputs kept (one pass), or computed per batch
def test_a_teacher_that_outputs_nan_is_named_not_called_divergence(digits, teacher, memory_mb):
    """Was: the run ended at step 1 as 'diverged ... lower the learning rate'."""
    cfg = CFG.replace(teacher_memory_mb=memory_mb)
    message = refused_before_a_step(steps(student(digits), digits, cfg, teacher=broken_teacher(teacher)),
                                    "teacher", "NaN or inf")
    assert "lower the learning rate" not in message


def test_a_teacher_that_outputs_inf_on_a_later_batch_is_named_when_run_per_batch(digits, teacher):
    """Outputs computed per batch (over the memory budget): only the first rows are checked
    up front; a later non-finite teacher batch must still be named as the teacher's, not as
    divergence. Rows from 100 on give inf logits through the input scale."""
    class LateInf(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            out = self.inner(x)
            return torch.where((x.flatten(1)[:, 0] == 12345.0)[:, None], torch.full_like(out, math.inf), out)

    x = digits.train.x.clone()
    x[200:, 0, 0, 0] = 12345.0  # finite inputs; the wrapped teacher's logits on them are inf
    splits = with_split(digits, "train", x=x)
    res = wb.distill(student(digits), LateInf(teacher), splits, CFG.replace(teacher_memory_mb=0.0))
    assert res.diverged is not None
    assert "teacher" in res.diverged["message"] and "lower the learning rate" not in res.diverged["message"]


def test_a_student_with_nan_weights_is_not_told_to_lower_the_learning_rate(digits):
    """The first step's loss comes before any update: the learning rate cannot be the cause."""
    s = student(digits)
    with torch.no_grad():
        s.fc1.weight[0, 0] = math.nan
    res = wb.train(s, digits, CFG)
    assert res.diverged["step"] == 1
    assert "lower the learning rate" not in res.diverged["message"] and "student" in res.diverged["message"]


# --- item 9: dtypes, labels and class counts named ---------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float64, torch.int64, torch.uint8])
def test_inputs_that_are_not_float32_are_named(digits, dtype):
    """Was: 'mat1 and mat2 must have the same dtype'."""
    x = (digits.train.x * 16).to(dtype)
    refused_before_a_step(steps(student(digits), with_split(digits, "train", x=x), CFG),
                          "splits.train.x", str(dtype).replace("torch.", ""), "float32")


def test_a_float64_student_is_named(digits):
    refused_before_a_step(steps(student(digits).double(), digits, CFG), "student", "float64",
                          "student.float()")


def test_a_float64_teacher_is_named(digits, teacher):
    refused_before_a_step(steps(student(digits), digits, CFG, teacher=copy.deepcopy(teacher).double()),
                          "teacher", "float64", "teacher.float()")


@pytest.mark.parametrize("dtype", [torch.int32, torch.uint8, torch.float32, torch.bool])
def test_labels_that_are_not_int64_are_named(digits, dtype):
    """Was: one_hot's 'only applicable to index tensor of type LongTensor'."""
    y = digits.train.y.to(dtype)
    refused_before_a_step(steps(student(digits), with_split(digits, "train", y=y), CFG),
                          "splits.train.y", str(dtype).replace("torch.", ""), "int64", ".long()")


@pytest.mark.parametrize("name", ["train", "val", "test"])
@pytest.mark.parametrize("label", [10, -1])
def test_labels_outside_the_classes_are_named_with_the_count(digits, name, label):
    """Was: 'Class values must be smaller than num_classes' from one_hot (train), or a wrong
    accuracy and an index error later (val, test)."""
    y = getattr(digits, name).y.clone()
    y[:3] = label
    refused_before_a_step(steps(student(digits), with_split(digits, name, y=y), CFG),
                          f"splits.{name}.y", "3 of", "[0, 10)", str(label))


@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("classes", [8, 12])
def test_a_teacher_with_another_class_count_is_refused_at_any_alpha(digits, alpha, classes):
    """Was: accepted silently at alpha = 0, its agreement then computed across different
    class sets (argmax over 8 classes compared with argmax over 10)."""
    wb.seed_everything(0)
    other = wb.models.build("mlp", digits.input_shape, classes, hidden=(8,))
    refused_before_a_step(steps(student(digits), digits, CFG.replace(alpha=alpha), teacher=other),
                          "teacher", f"{digits.num_classes} logits", f"got {classes}")
