"""Widget logic without a browser: controls in, figure data out."""
import asyncio

import pytest
import torch

import workbench as wb
from widgets import DarkKnowledgeMap, DistillationLab, RunController, TemperatureExplorer


def soft_bars(te):
    return torch.tensor(te.bars.data[-1].y)


def test_higher_temperature_gives_higher_entropy_in_the_figure(digits):
    te = TemperatureExplorer(digits)
    entropies = []
    for t in (0.5, 1.0, 4.0, 20.0, 50.0):
        te.temperature.value = t
        entropies.append(wb.analysis.entropy(soft_bars(te)).item())
        assert f"T = {t:.2f}" in te.bars.layout.title.text
    assert all(a < b for a, b in zip(entropies, entropies[1:]))
    hard = te.bars.data[0].y
    assert sum(hard) == 1.0 and hard.index(1.0) == digits.test.y[te.index.value].item()


def test_changing_the_example_and_teacher_redraws(digits):
    te = TemperatureExplorer(digits)
    before = soft_bars(te)
    te.index.value = 7
    assert not torch.equal(before, soft_bars(te))
    picture = bytes(te.picture.value)
    assert picture.startswith(b"\x89PNG") and f"test image 7: a <b>{digits.classes[digits.test.y[7].item()]}" in te.caption.value
    large = soft_bars(te)
    te.teacher.value = "digits/cnn"
    assert not torch.equal(soft_bars(te), large) and bytes(te.picture.value) == picture  # same image, new bars


def test_your_own_numbers_at_t_1_give_them_back_and_flatten_as_t_rises(digits):
    te = TemperatureExplorer(digits)
    te.mode.value = "your own numbers"
    te.temperature.value = 1.0
    assert list(te.bars.data[-1].x) == ["cat", "dog", "bird"]
    assert soft_bars(te).tolist() == pytest.approx([0.05, 0.90, 0.05], abs=1e-5)
    te.temperature.value = 10.0
    assert soft_bars(te).max().item() < 0.5
    assert "dog" in te.stats.value
    te.kind.value = "logits"
    te.values.value = "0, 0, 0"
    assert soft_bars(te).tolist() == pytest.approx([1 / 3] * 3, abs=1e-6)


@pytest.mark.parametrize("names, values, message", [
    ("cat, dog, bird", "0.5, 0.6, 0.1", "probabilities must be >= 0 and sum to 1, got sum 1.2"),
    ("cat, dog, bird", "0.5, 0.5", "values must give one number per class (3 classes), got 2 numbers"),
    ("cat, dog, bird", "0.5, lots, 0.1", "values must be numbers separated by commas"),
    ("cat", "1.0", "class names must list at least 2 classes"),
])
def test_bad_numbers_show_a_message_and_keep_the_last_figure_and_the_text(digits, names, values, message):
    te = TemperatureExplorer(digits)
    te.mode.value = "your own numbers"
    good = soft_bars(te)
    te.names.value, te.values.value = names, values
    assert message in te.message.text and "Traceback" not in te.message.value
    assert torch.equal(soft_bars(te), good) and list(te.bars.data[-1].x) == ["cat", "dog", "bird"]
    assert te.values.value == values  # what the learner typed is still there
    te.names.value, te.values.value = "cat, dog, bird", "0.2, 0.3, 0.5"
    assert te.message.text == ""


def test_dark_knowledge_map_follows_temperature_and_teacher(digits):
    dk = DarkKnowledgeMap(digits)
    cold = dk.matrix.diagonal().mean().item()
    dk.temperature.value = 20.0
    hot = dk.matrix.diagonal().mean().item()
    assert hot < cold
    z = dk.heatmap.data[0].z
    assert z[1][8] == pytest.approx(dk.matrix[1, 8].item()) and "Most confusable" in dk.pairs.value
    dk.teacher.value = "digits/cnn"
    assert "digits/cnn" in dk.heatmap.layout.title.text


def run_lab(lab, epochs):
    lab.epochs.value = epochs
    lab.controller.start()  # no event loop here: runs to the end
    return lab


def test_run_fills_both_curves_the_loss_parts_and_the_table(digits):
    lab = run_lab(DistillationLab(digits), epochs=4)
    assert lab.message.text == "Done."
    curves = {t.name: list(t.y) for t in lab.curves.data}
    assert set(curves) == {"distilled", "hard labels"} and all(len(v) == 4 for v in curves.values())
    names = [t.name for t in lab.losses.data]
    assert "distilled: KD term (T² · KL)" in names and "hard labels: hard-label term (CE)" in names
    assert "hard labels: KD term (T² · KL)" not in names
    assert list(lab.table.data[0].cells.values[0]) == ["teacher", "student, distilled", "student, hard labels"]
    assert len(lab.classes_fig.data) == 3 and lab.results.layout.display is None
    assert lab.controller.progress.value == pytest.approx(1.0)
    teacher_says = wb.predict(lab.teacher_model(), digits.test.x).argmax(1)
    for name in ("distilled", "hard labels"):  # the table's agreement: same top-1 class as the teacher
        same = (wb.predict(lab.students[name], digits.test.x).argmax(1) == teacher_says).float().mean().item()
        assert lab.rows[f"student, {name}"]["agreement"] == pytest.approx(same)


def test_a_left_out_class_shows_in_per_class_accuracy(digits, left_out_runs):
    lab = DistillationLab(digits)
    lab.left_out.value, lab.temperature.value, lab.alpha.value = "3", 8.0, 1.0
    lab.teacher.value, lab.fraction.value = "digits/mlp-large", 1.0
    run_lab(lab, epochs=30)
    # the lab trains and shows exactly the students of the suite's left-out experiment (seed 0)
    for name, result in left_out_runs[0].items():
        expected = wb.analysis.per_class_accuracy(wb.predict(result.student, digits.test.x), digits.test.y)
        assert torch.equal(lab.per_class[f"student, {name}"], expected), name
    assert lab.per_class["student, hard labels"][3] == 0 < lab.per_class["student, distilled"][3]


@pytest.mark.parametrize("control, value, message", [
    ("lr", 0.0, "lr must be a finite number > 0, got 0.0"),
    ("epochs", -2, "epochs must be an integer >= 1, got -2"),
    ("left_out", "3, 12", "classes left out must be among"),
    ("seed", -1, "seed must be an integer from 0 to 2**32 - 1 = 4294967295, got -1"),
])
def test_bad_values_show_the_engines_message_and_start_nothing(digits, control, value, message):
    lab = DistillationLab(digits)
    setattr(getattr(lab, control), "value", value)
    assert lab.controller.start() is None
    assert message in lab.message.text
    assert lab.histories == {"distilled": [], "hard labels": []} and not lab.controller.running


def test_stop_answers_within_a_step_and_a_second_run_is_refused(digits):
    lab = DistillationLab(digits)
    lab.epochs.value = 200

    async def scenario():
        task = lab.controller.start()
        for _ in range(30):  # let a few steps run
            await asyncio.sleep(0)
        assert lab.controller.running and lab.controller.run_button.disabled
        assert lab.controller.start() is None
        assert "already in progress" in lab.message.text
        lab.controller.stop_button.click()
        await asyncio.wait_for(task, timeout=30)

    asyncio.run(scenario())
    assert lab.message.text == "Stopped."
    done = [len(h) for h in lab.histories.values()]
    assert max(done) < 200
    assert lab.rows  # the partly trained students are still compared
    assert not lab.controller.running and not lab.controller.run_button.disabled


def test_the_controller_shows_errors_raised_during_a_run_and_throttles_redraws():
    """2000 steps of 1 ms on a fake clock (the controller's own `clock`), then a failure:
    redraws at most one per min_interval (0.2 s, longer than a work slice, so that it is
    min_interval that spaces them), yet one at the end of the first slice after each is due,
    and one after the failure showing what was trained before it."""
    now = [0.0]
    drawn = []  # (clock, fraction done shown) at each redraw

    def prepare(stop):
        def work():
            for i in range(2000):
                now[0] += 0.001
                yield (i + 1) / 2000
            raise RuntimeError("the engine broke")
        return work()

    rc = RunController(prepare, lambda: drawn.append((now[0], rc.progress.value)), min_interval=0.2)
    rc.clock = lambda: now[0]
    rc.pause = 0  # no real sleeps between slices: nothing here depends on this machine's speed
    assert rc.min_interval > rc.work_slice
    rc.start()
    assert rc.message.text == "⚠ RuntimeError: the engine broke"
    assert not rc.run_button.disabled and rc.stop_button.disabled
    assert rc.redraws == len(drawn)
    during, after = [t for t, _ in drawn[:-1]], drawn[-1]
    assert len(during) >= 2 and during[0] == pytest.approx(0.001), drawn  # from the first step on
    gaps = [b - a for a, b in zip(during, during[1:])]
    assert min(gaps) >= rc.min_interval - 1e-9, gaps  # throttled
    # but drawn through the run: again as soon as a slice ends after a redraw is due
    late = rc.min_interval + rc.work_slice + 0.0015  # 1.5 steps for the float sums of 0.001
    assert max(gaps) <= late and 2.0 - during[-1] <= late, during  # measured: 0.200-0.204 apart, last at 1.818
    assert after == (pytest.approx(2.0), 1.0), drawn[-3:]  # the failure's redraw: all 2000 steps done


def test_feature_lab_runs_two_students_and_tracks_cka_and_projections(digits):
    from widgets import FeatureLab
    lab = FeatureLab(digits, epochs=3)
    assert lab.teacher_layer.value == "block1" and "block2" in lab.student_layer.options
    lab.controller.start()
    assert lab.message.text == "Done."
    assert all(len(h) == 3 and 0 < h[-1]["cka"] <= 1 for h in lab.histories.values())
    assert "feature" in lab.histories["with"][0] and "feature" not in lab.histories["without"][0]
    names = {t.name for t in lab.curve.data}
    assert names == {"student with the feature term", "student without it"}
    assert len(lab.panel_fig.data) == 3 * digits.num_classes  # three panels, one trace per class
    assert len(lab.panels["teacher"]) == len(lab.probe)


def test_feature_lab_changes_layers_with_the_models_and_shows_bad_pairs(digits):
    from widgets import FeatureLab
    lab = FeatureLab(digits, epochs=2)
    lab.teacher.value = "digits/mlp-large"
    assert "act2" in lab.teacher_layer.options
    lab.loss.value = "attention"
    lab.teacher_layer.value = "act2"
    lab.controller.start()
    assert "attention transfer needs feature maps" in lab.message.text


def test_relation_lab_shows_teacher_and_student_matrices_and_narrows_the_gap(digits):
    from widgets import RelationLab
    lab = RelationLab(digits, epochs=8)
    lab.controller.start()
    assert lab.message.text == "Done."
    assert set(lab.panels) == {"teacher", "with", "without"}
    assert len(lab.panel_fig.data) == 3 and len(lab.panel_fig.data[0].z) == len(lab.probe)
    gap = {name: h[-1]["gap"] for name, h in lab.histories.items()}
    assert gap["with"] < gap["without"]  # RKD distance pulls the student's distances toward the teacher's
    lab.loss.value = "similarity-preserving"
    lab.epochs.value = 1
    lab.controller.start()
    # the view shows what similarity-preserving KD compares (Tung & Mori 2019): G = F·Fᵀ with
    # each row L2-normalised, computed here from the probe features, not plain cosines
    for name, model, layer in (("teacher", lab.teacher_model(), lab.teacher_layer.value),
                               ("with", lab.students["with"], lab.student_layer.value)):
        f = wb.analysis.features(model, lab.probe.x, layer).double()  # the probe's features
        gram = f @ f.T
        expected = gram / gram.norm(dim=1, keepdim=True)
        shown = lab.panels[name].double()
        assert torch.allclose(shown, expected, atol=1e-5), name
        cosines = (f / f.norm(dim=1, keepdim=True)) @ (f / f.norm(dim=1, keepdim=True)).T
        assert not torch.allclose(shown, cosines, atol=1e-2)  # the view would fail on cosines
    assert torch.allclose(torch.tensor(lab.panel_fig.data[0].z), lab.panels["teacher"], atol=1e-6)
    assert "Gram" in lab.panel_fig.layout.title.text


def test_the_labs_share_one_teacher_cache_and_one_temperature_slider(digits):
    from widgets import FeatureLab, RelationLab
    labs = [DistillationLab(digits), FeatureLab(digits), RelationLab(digits)]
    for lab in labs:
        lab.teacher.value = "digits/mlp-large"
    first = labs[0].teacher_model()
    assert all(lab.teacher_model() is first for lab in labs)  # loaded once, not once per lab
    assert not first.training and not any(p.requires_grad for p in first.parameters())
    te, dk = TemperatureExplorer(digits), DarkKnowledgeMap(digits)
    sliders = [lab.temperature for lab in labs] + [te.temperature, dk.temperature]
    assert {(type(s).__name__, round(s.base ** s.min, 6), round(s.base ** s.max, 6), s.step, s.description)
            for s in sliders} == {("FloatLogSlider", 0.5, 50.0, 0.01, "temperature T")}


def test_the_probe_batch_takes_the_first_examples_of_each_class_in_class_order(digits):
    from widgets import RelationLab
    probe = RelationLab(digits).probe
    first = [torch.nonzero(digits.test.y == c).flatten()[:4] for c in range(digits.num_classes)]
    assert probe.y.tolist() == [c for c in range(digits.num_classes) for _ in range(4)]
    assert torch.equal(probe.x, digits.test.x[torch.cat(first)])


def test_a_diverging_run_ends_with_a_message_that_says_what_to_change(digits):
    lab = DistillationLab(digits)
    lab.lr.value, lab.epochs.value = 1e3, 5
    lab.controller.start()
    assert "diverged" in lab.message.text and "Lower the learning rate" in lab.message.text
    assert lab.rows  # what was trained is still compared


def test_any_exception_while_preparing_a_run_becomes_a_message(digits):
    lab = DistillationLab(digits)
    lab.teacher_model = lambda: (_ for _ in ()).throw(RuntimeError("the teacher's file is unreadable"))
    assert lab.controller.start() is None
    assert lab.message.text.endswith("RuntimeError: the teacher's file is unreadable")


def test_the_controls_that_define_a_run_are_locked_while_it_runs(digits):
    lab = DistillationLab(digits)
    lab.epochs.value = 200
    defining = [lab.scenario, lab.teacher, lab.width, lab.temperature, lab.alpha, lab.epochs, lab.lr, lab.fraction,
                lab.left_out, lab.seed, lab.picker.prediction.buttons]  # the prediction the run answers, too

    async def scenario():
        task = lab.controller.start()
        for _ in range(10):
            await asyncio.sleep(0)
        assert lab.controller.running and all(c.disabled for c in defining)
        lab.controller.stop_button.click()
        await asyncio.wait_for(task, timeout=30)

    asyncio.run(scenario())
    assert lab.message.text == "Stopped." and not any(c.disabled for c in defining)
    lab.lr.value = 0.0  # a refused run locks nothing
    lab.controller.start()
    assert not any(c.disabled for c in defining)
