"""The Distillation lab's KD-loss choice (issue 24, item 5) and fidelity (item 6): the named
scenarios asserted over seeds 0-2 through the lab itself, the loss dropdown and DKD's
weights (shown for DKD only, named, checked, carried by a link and to the class board),
and the test-set table and figure of fidelity to the teacher; and kl_to_teacher itself
against F.kl_div on worked numbers."""
import statistics

import pytest
import torch
import torch.nn.functional as F

import workbench as wb
from widgets import a11y, classroom, plots, url_settings
from widgets.fidelity import fidelity_bars
from test_scenarios import each_seed
from widgets.lab import SCENARIOS, DistillationLab

SEEDS = range(3)


@pytest.fixture(scope="module")
def lab(digits):
    return DistillationLab(digits)


def recovered(lab, name="distilled", c=3):
    return float(lab.per_class[f"student, {name}"][c])


def gain(lab):
    return lab.rows["student, distilled"]["accuracy"] - lab.rows["student, hard labels"]["accuracy"]


def called_three(model, digits):
    """(recall of 3, precision of 3 or None, share of the test predictions that are 3, test
    accuracy) of a model on the digits test set, computed here from its predictions."""
    predicted, y = wb.predict(model, digits.test.x).argmax(1), digits.test.y
    called, is_three = predicted == 3, y == 3
    n = int(called.sum())
    return (int((called & is_three).sum()) / int(is_three.sum()), int((called & is_three).sum()) / n if n else None,
            n / len(y), (predicted == y).float().mean().item())


# Measured through the lab, seeds 0-2, for the distilled student: recall of 3 (share of the
# test 3s recognised), precision of 3, share of its predictions that are 3, test accuracy:
#   NCKD alone (tckd 0, nckd 8): 0.973, 0.973, 1.000; 0.923, 0.923, 0.925; 0.108, 0.108, 0.111;
#     0.947, 0.953, 0.953
#   TCKD alone (tckd 1, nckd 0): 0 on each seed, never predicts 3; accuracy 0.853, 0.861, 0.836
#     (hard labels 0.861, 0.864, 0.864)
#   Hinton's KD, same setting: 0.892, 0.971, 0.094, 0.956 on each seed.
# Adam makes a term's weight alone irrelevant (the same runs with nckd 1 or tckd 8 gave the
# same numbers; tests/test_loop_beyond.py): only which term is on matters.
def test_nckd_alone_carries_the_dark_knowledge_of_a_left_out_digit(lab, digits, left_out_runs):
    nckd = []
    for seed, ran in zip(SEEDS, each_seed(lab, "DKD: NCKD alone")):
        measured = called_three(ran.students["distilled"], digits)
        nckd.append(measured)
        assert measured[0] == pytest.approx(recovered(ran)) and recovered(ran, "hard labels") == 0, seed
        # the judge line says the run's recall, precision and accuracy, as computed here
        said = ran.picker.revealed
        assert f"recognises {measured[0]:.0%} of the test 3s (recall)" in said, said
        assert f"{measured[1]:.0%} of the images it calls 3 are 3s (precision; {measured[2]:.1%} of its predictions)" \
            in said, said
        assert f"test accuracy over all classes is {measured[3]:.1%}" in said, said
    assert all(r >= 0.9 for r, *_ in nckd), nckd  # the outcome says 97% to 100%
    # beside Hinton's whole KD term (the suite's left-out-digit runs, the same seeds and setting), as the
    # outcome says: more 3s recognised, but more images called 3, a lower precision and a lower accuracy
    kd = [called_three(left_out_runs[seed]["distilled"].student, digits) for seed in SEEDS]
    for (recall, prec, share, acc), (k_recall, k_prec, k_share, k_acc) in zip(nckd, kd):
        assert recall > k_recall and share > k_share and prec < k_prec and acc < k_acc, (nckd, kd)
    assert lab.config().tckd_weight == 0 and lab.config().kd_loss == "dkd"


def test_tckd_alone_recognises_none_of_a_left_out_digit_and_never_predicts_it(lab, digits):
    for ran in each_seed(lab, "DKD: TCKD alone"):
        recall, prec, share, acc = called_three(ran.students["distilled"], digits)
        assert recall == 0 and share == 0 and prec is None  # the outcome says none, never predicted
        assert "it never predicts 3" in ran.picker.revealed
        assert acc <= ran.rows["student, hard labels"]["accuracy"]  # no better than hard labels
    assert lab.config().nckd_weight == 0 and lab.config().kd_loss == "dkd"


# Measured through the lab, seeds 0-2, distilled − hard-label test accuracy from
# digits/cnn-overconfident at T = 1: standardized +0.058, +0.042, +0.042; Hinton's KD
# +0.000 on each seed (so the paired standardized − KD difference is the same numbers).
def test_logit_standardization_recovers_the_gain_plain_kd_loses_to_an_over_confident_teacher(lab):
    standardized = [gain(lab) for lab in each_seed(lab, "logit standardization")]
    plain = [gain(lab) for lab in each_seed(lab, "logit standardization", kd_loss="kd")]  # the same, Hinton's KD
    assert all(g > 0.03 for g in standardized), standardized  # the outcome says 4.2 to 5.8 points
    paired = [s - p for s, p in zip(standardized, plain)]
    assert statistics.fmean(paired) - 2 * statistics.stdev(paired) > 0.01, paired  # beyond seed-to-seed noise


def test_every_other_scenario_resets_the_loss_to_hintons(digits):
    lab = DistillationLab(digits)
    lab.picker.menu.value = "DKD: TCKD alone"
    assert (lab.kd_loss.value, lab.tckd_weight.value, lab.nckd_weight.value) == ("dkd", 1.0, 0.0)
    lab.picker.menu.value = "left-out digit"
    assert (lab.kd_loss.value, lab.tckd_weight.value, lab.nckd_weight.value) == ("kd", 1.0, 8.0)
    assert lab.config() == wb.DistillConfig(temperature=8.0, alpha=1.0, epochs=30)
    lab.nckd_weight.value = 2.0  # a control of the scenario moved: the menu no longer names it
    assert lab.picker.menu.value == "(choose one)"


# --- the controls ------------------------------------------------------------------------

def test_the_dkd_weights_are_shown_for_dkd_only_and_every_new_control_is_named(digits):
    lab = DistillationLab(digits)
    weights = (lab.tckd_weight, lab.nckd_weight)
    assert lab.kd_loss.value == "kd" and all(w.layout.display == "none" for w in weights)
    assert [v for _, v in lab.kd_loss.options] == ["kd", "dkd", "standardized"]
    assert lab.weights_note.layout.display == "none"
    lab.kd_loss.value = "dkd"
    assert all(w.layout.display != "none" for w in (*weights, lab.weights_note))
    assert "Adam" in lab.weights_note.value  # why a lone term's weight changes nothing
    lab.kd_loss.value = "standardized"
    assert all(w.layout.display == "none" for w in (*weights, lab.weights_note))
    assert not any(c is lab.weights_note for c in lab.controller.locked)  # text, not a control
    for control in (lab.kd_loss, *weights):
        assert a11y.name_of(control) and control.description
        assert any(c is control for c in lab.controller.locked)  # locked while a run is in progress


@pytest.mark.parametrize("control, value, message", [
    ("tckd_weight", -1.0, "tckd_weight must be a finite number in [0, 100], got -1.0"),
    ("nckd_weight", 150.0, "nckd_weight must be a finite number in [0, 100], got 150.0"),
])
def test_an_out_of_range_weight_shows_the_engines_message_and_starts_nothing(digits, control, value, message):
    lab = DistillationLab(digits)
    lab.kd_loss.value = "dkd"
    getattr(lab, control).value = value
    assert lab.controller.start() is None
    assert message in lab.message.text
    assert lab.histories == {"distilled": [], "hard labels": []} and not lab.controller.running


def test_weights_of_a_loss_not_chosen_are_not_used_and_warn_nothing(digits):
    lab = DistillationLab(digits)
    lab.nckd_weight.value = 500.0  # hidden: Hinton's KD is chosen
    cfg = lab.config()
    assert cfg.kd_loss == "kd" and cfg.nckd_weight == wb.DistillConfig.nckd_weight


def test_a_link_and_the_class_board_carry_the_loss_and_its_weights(digits):
    lab = DistillationLab(digits)
    lab.picker.menu.value = "DKD: NCKD alone"
    lab.nckd_weight.value = 3.5
    query = url_settings.link("Distillation lab", lab)
    assert "kd_loss=dkd" in query and "nckd_weight=3.5" in query and "tckd_weight=0.0" in query
    settings = url_settings.parse(query.lstrip("?"))
    settings.pop("tab")
    fresh = DistillationLab(digits)
    assert url_settings.apply(fresh, settings) == []
    assert (fresh.kd_loss.value, fresh.tckd_weight.value, fresh.nckd_weight.value) == ("dkd", 0.0, 3.5)
    assert fresh.config() == lab.config()
    recorded = classroom.settings_of(lab)
    assert (recorded["kd_loss"], recorded["tckd_weight"], recorded["nckd_weight"]) == ("dkd", 0.0, 3.5)
    assert url_settings.apply(fresh, {"kd_loss": "dkd2"})[0].startswith("ignored kd_loss='dkd2': must be one of")


# --- fidelity: the table and the figure --------------------------------------------------

def test_the_table_and_the_figure_show_fidelity_beside_accuracy(digits):
    lab = DistillationLab(digits)
    lab.epochs.value = 5
    lab.controller.start()
    assert lab.message.text == "Done."
    teacher = lab.teacher_model()
    kl = {name: wb.analysis.kl_to_teacher(lab.students[name], teacher, digits.test) for name in lab.runs}
    text = plots.summary(lab.fidelity)
    for name in lab.runs:
        row = lab.rows[f"student, {name}"]
        assert row["kl_to_teacher"] == pytest.approx(kl[name])
        assert f"student, {name}: accuracy {plots.num(row['accuracy'])}, agreement {plots.num(row['agreement'])}" \
            in text
    cells = lab.table.data[0].cells.values
    header = list(lab.table.data[0].header.values)
    shown = cells[header.index("KL to teacher (T = 1)")]
    assert shown[1:] == [f"{kl[name]:.3f}" for name in lab.runs] and shown[0] == ""  # the teacher: none
    bars = {t.name: list(t.y) for t in lab.fidelity.data}
    assert bars["test accuracy"] == [lab.rows[f"student, {n}"]["accuracy"] for n in lab.runs]
    assert bars["top-1 agreement with the teacher"] == [lab.rows[f"student, {n}"]["agreement"] for n in lab.runs]


def test_the_fidelity_figure_describes_itself_and_escapes_names():
    rows = {"<img src=x onerror=alert(1)>": {"accuracy": 0.9, "agreement": 0.95, "kl_to_teacher": 0.123},
            "student, hard labels": {"accuracy": 0.8, "agreement": 0.82, "kl_to_teacher": 1.5}}
    fig = fidelity_bars(rows)
    assert all("<img" not in str(x) for t in fig.data for x in t.x)
    assert fig.data[0].marker.pattern.shape != fig.data[1].marker.pattern.shape  # not by colour alone
    columns, table = plots.table(fig)
    assert columns == ["student", "test accuracy", "top-1 agreement with the teacher", "KL to the teacher (T = 1)"]
    assert table == [["<img src=x onerror=alert(1)>", 0.9, 0.95, 0.123], ["student, hard labels", 0.8, 0.82, 1.5]]
    assert "student, hard labels: accuracy 0.80, agreement 0.82, KL to the teacher 1.5." in plots.summary(fig)
    assert plots.summary(fig).startswith("Fidelity beside accuracy (test set): <img src=x onerror=alert(1)>: accuracy")
    assert "no students yet" in plots.summary(fidelity_bars({}))



# --- kl_to_teacher (workbench.analysis), on worked numbers ----------------------------------

def linear(weight, bias):
    model = torch.nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(weight))
        model.bias.copy_(torch.tensor(bias))
    return model


def test_kl_to_teacher_is_the_mean_kl_of_the_student_from_the_teacher_at_t():
    """KL(p_teacher ‖ p_student) at T, mean over the examples, against F.kl_div on logits
    worked out by hand: inputs (1, 0) and (0, 1) pick a column of each weight, plus the bias."""
    student = linear([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], [0.0, 0.0, 0.0])
    teacher = linear([[6.0, 0.0], [0.0, 0.0], [1.0, 5.0]], [0.0, 0.0, 1.0])
    data = wb.data.Split(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 2]))
    s = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    t = torch.tensor([[6.0, 0.0, 2.0], [0.0, 0.0, 6.0]], dtype=torch.float64)
    kl = lambda p_logits, q_logits, temp: F.kl_div((q_logits / temp).log_softmax(1), (p_logits / temp).log_softmax(1),
                                                   log_target=True, reduction="batchmean").item()
    for temp in (1.0, 2.0):
        assert wb.analysis.kl_to_teacher(student, teacher, data, temperature=temp) == pytest.approx(
            kl(t, s, temp), rel=1e-6)
    # the numbers tell the direction and the temperature apart
    assert abs(kl(s, t, 2.0) - kl(t, s, 2.0)) > 0.1 * kl(t, s, 2.0)
    assert abs(kl(t, s, 1.0) - kl(t, s, 2.0)) > 0.1 * kl(t, s, 2.0)
    assert wb.analysis.kl_to_teacher(teacher, teacher, data, temperature=2.0) == 0
