"""Lesson 2 of notebook 02 (issue 28): with no 3 in the transfer set, the more accurate CNN
teacher teaches an MLP student none of the test 3s, where the MLP teacher teaches most of
them (Hinton et al. 2015, section 3). The CNN is the LESS confident teacher; what it lacks
is contrast: the probability it gives class 3 on the transfer set's other digits at T = 8 is
nearly the same on every image, so it does not say which of them look like a 3. The
student's 3-logit still points the right way: Hinton et al.'s bias correction (class 3's
logit raised by delta, delta chosen on validation as exercise 04 does) recovers most test 3s."""
import dataclasses

import pytest
from conftest import LEFT_OUT_CFG, LEFT_OUT_CLASS, LEFT_OUT_SEEDS, small_student

import workbench as wb

DELTAS = [0.25 * i for i in range(41)]  # 0 to 10


@pytest.fixture(scope="module")
def cnn(digits):
    return wb.teachers.get("digits/cnn", device=digits.train.x.device)


@pytest.fixture(scope="module")
def transfer(digits):
    return dataclasses.replace(digits, train=wb.data.without_classes(digits.train, [LEFT_OUT_CLASS]))


@pytest.fixture(scope="module")
def cnn_taught(digits, cnn, transfer):
    """{(temperature, seed): the mlp(32) student distilled from digits/cnn without 3s}, the
    suite's left-out setting (LEFT_OUT_CFG: alpha = 1, 30 epochs) at T = 1, 2, 4 and 8."""
    return {(t, seed): wb.distill(small_student(digits, seed), cnn, transfer,
                                  LEFT_OUT_CFG.replace(temperature=t, seed=seed)).student
            for t in (1.0, 2.0, 4.0, 8.0) for seed in LEFT_OUT_SEEDS}


def recall_and_rest(logits, labels, delta):
    """(share of the left-out class recognised, accuracy on the other classes) with the
    left-out class's logit raised by delta."""
    z = logits.clone()
    z[:, LEFT_OUT_CLASS] += delta
    pred, mine = z.argmax(1), labels == LEFT_OUT_CLASS
    return (pred[mine] == LEFT_OUT_CLASS).float().mean().item(), (pred[~mine] == labels[~mine]).float().mean().item()


def three_mass(teacher, transfer):
    return wb.analysis.soft_labels(wb.predict(teacher, transfer.train.x), 8.0)[:, LEFT_OUT_CLASS]


def test_the_cnn_is_the_more_accurate_but_less_confident_teacher(digits, teacher, cnn):
    acc = {n: wb.analysis.accuracy(wb.predict(t, digits.test.x), digits.test.y) for n, t in (("mlp", teacher), ("cnn", cnn))}
    conf = {n: wb.analysis.dark_knowledge(t, digits.test, 4.0).diagonal().mean().item()
            for n, t in (("mlp", teacher), ("cnn", cnn))}
    assert acc["cnn"] > acc["mlp"] + 0.01  # 0.994 against 0.969
    assert conf["cnn"] < conf["mlp"] - 0.15  # 0.46 against 0.75


def test_the_cnns_three_mass_has_little_contrast(teacher, cnn, transfer):
    """On the transfer set at T = 8: about the same mean 3-mass (0.087 CNN, 0.066 MLP), but
    its spread across images is 3.4 times smaller (std 0.016 against 0.054)."""
    mlp_m, cnn_m = three_mass(teacher, transfer), three_mass(cnn, transfer)
    assert cnn_m.mean() > mlp_m.mean()  # it is not that the CNN gives class 3 less probability
    assert mlp_m.std() > 2 * cnn_m.std()


def test_no_temperature_lets_the_cnn_teach_the_left_out_digit(digits, cnn_taught, left_out_runs):
    """Seeds 0-2 at T = 1, 2, 4, 8: 0% of the 37 test 3s in every run (also seeds 3-4, measured);
    the MLP teacher's student recognises 89% at T = 8 in every seed."""
    for (t, seed), student in cnn_taught.items():
        recall, _ = recall_and_rest(wb.predict(student, digits.test.x), digits.test.y, 0.0)
        mlp_recall, _ = recall_and_rest(wb.predict(left_out_runs[seed]["distilled"].student, digits.test.x),
                                        digits.test.y, 0.0)
        assert recall < 0.05 and mlp_recall > 0.7, (t, seed, recall, mlp_recall)


def test_a_bias_chosen_on_validation_recovers_the_cnn_taught_threes(digits, cnn_taught):
    """Delta: the smallest (step 0.25) that recognises 70% of the validation 3s. Measured
    over seeds 0-4 at T = 8: delta 3.0-3.5, 65-81% of the test 3s recognised (from 0%), for
    0.6-1.9 points of accuracy on the other digits; bounds a few test 3s (2.7 points each)
    and one point beyond that spread."""
    for seed in LEFT_OUT_SEEDS:
        student = cnn_taught[(8.0, seed)]
        val, test = wb.predict(student, digits.val.x), wb.predict(student, digits.test.x)
        delta = next(d for d in DELTAS if recall_and_rest(val, digits.val.y, d)[0] >= 0.7)
        (before, rest_before), (after, rest_after) = (recall_and_rest(test, digits.test.y, d) for d in (0.0, delta))
        assert before < 0.05 and after > 0.55, (seed, delta, after)
        assert rest_before - rest_after < 0.03, (seed, delta, rest_before - rest_after)


def test_a_student_built_like_the_cnn_learns_the_threes_from_it(digits, cnn, transfer):
    """The CNN's soft labels do carry the 3, for a student that computes like it: the same
    2-block CNN (32, 64 channels), distilled from digits/cnn without 3s in the same setting
    (T = 8), recognised 92%, 78% and 65% of the test 3s (seeds 0-2) where the MLP student
    recognised 0%; the bound is the lowest less about five test 3s (2.7 points each)."""
    for seed in LEFT_OUT_SEEDS:
        wb.seed_everything(seed)
        student = wb.models.build("cnn", digits.input_shape, digits.num_classes, channels=(32, 64))
        wb.distill(student, cnn, transfer, LEFT_OUT_CFG.replace(seed=seed))
        recall, _ = recall_and_rest(wb.predict(student, digits.test.x), digits.test.y, 0.0)
        assert recall > 0.5, (seed, recall)
