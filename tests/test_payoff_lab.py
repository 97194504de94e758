"""The Payoff tab: its figures from synthetic points, and the lab run end to end on digits
(train both settings, the claim's and the control's, measure, table, findings stating
their data budget, the prediction revealed, export to ONNX), with bad input shown as a message."""
import asyncio
import base64
import html
import pathlib
import re

import pytest
import torch

import workbench as wb
from widgets import PayoffLab, plots, url_settings
from widgets.app import TABS, app
from widgets.payoff_lab import SMALLER, finding, smaller_choice


def point(kind, width, acc, latency=(2e-5, 1e-4), val=None, fraction=0.1):
    """A measured point; its validation accuracy `val` (the one choices are made on) is its
    test accuracy unless given."""
    params = 19_562 if kind == "teacher" else 64 * width + width + 10 * width + 10
    p = {"name": wb.payoff.name(kind, width), "kind": kind, "width": width, "val_acc": acc if val is None else val,
         "test_acc": acc, "parameters": params, "latency_s": {1: latency[0], 1024: latency[1]}}
    return p if kind == "teacher" else {**p, "fraction": fraction}


POINTS = [point("teacher", None, 0.99, (1e-4, 2e-2)),
          point("hard labels", 8, 0.70), point("hard labels", 16, 0.80), point("hard labels", 32, 0.78),
          point("distilled", 8, 0.81, (2.5e-5, 9e-5)), point("distilled", 16, 0.90), point("distilled", 32, 0.92)]


def accuracy_of(model, split):
    """The share of `split` that `model` classifies right, computed here from its logits."""
    with torch.no_grad():
        return (model(split.x).argmax(1) == split.y).double().mean().item()


def traces(fig):
    """{name: trace} of the marker traces, and {legend group: trace} of the front lines."""
    markers = {t.name: t for t in fig.data if t.mode == "markers+text"}
    lines = {t.legendgroup: t for t in fig.data if t.mode == "lines"}
    return markers, lines


def test_the_scatters_draw_each_kind_labelled_with_its_width_on_log_axes():
    fig = plots.payoff_scatter(POINTS, "parameters")
    markers, lines = traces(fig)
    assert list(markers) == ["teacher", "hard labels", "distilled"]
    assert list(markers["hard labels"].text) == ["8", "16", "32"] and list(markers["teacher"].text) == ["teacher"]
    assert list(markers["distilled"].x) == [610, 1210, 2410] and list(markers["distilled"].y) == [0.81, 0.90, 0.92]
    assert len({m.marker.symbol for m in markers.values()}) == len({m.marker.color for m in markers.values()}) == 3
    assert fig.layout.xaxis.type == "log" and "parameters" in fig.layout.xaxis.title.text
    # spread out over the axis: hard-label widths under their points, distilled ones above
    assert (markers["hard labels"].textposition, markers["distilled"].textposition) == ("bottom right", "top center")
    # the fronts: hard-label mlp(32) is bigger and worse than mlp(16), so it is off its front
    assert list(lines["hard labels"].x) == [610, 1210] and list(lines["hard labels"].y) == [0.70, 0.80]
    assert list(lines["distilled"].x) == [610, 1210, 2410] and lines["distilled"].line.shape == "hv"
    assert lines["distilled"].line.color == markers["distilled"].marker.color and "teacher" not in lines


def test_the_latency_scatter_shows_microseconds_at_the_chosen_batch_size():
    for b, teacher_us, mlp8_us in ((1, 100, 25), (1024, 20_000, 90)):
        fig = plots.payoff_scatter(POINTS, "latency_s", batch_size=b)
        markers, lines = traces(fig)
        assert fig.layout.xaxis.type == "log" and f"batch size {b} (µs" in fig.layout.xaxis.title.text
        assert list(markers["teacher"].x) == pytest.approx([teacher_us])
        assert markers["distilled"].x[0] == pytest.approx(mlp8_us)
        # every student within 25% of one latency: labels alternate sides in order of accuracy
        sides = {n: pos for m in list(markers.values())[1:] for n, pos in zip(m.customdata, m.textposition)}
        order = sorted((p for p in POINTS if p["kind"] != "teacher"), key=lambda p: p["test_acc"])
        assert [sides[p["name"]] for p in order] == ["middle left", "middle right"] * 3
    # at batch 1024 the distilled mlp(16) takes as long as mlp(32) and is less accurate: off the front
    assert list(lines["distilled"].x) == pytest.approx([90, 100]) and list(lines["distilled"].y) == [0.81, 0.92]


def test_the_scatters_before_a_run_say_press_run_and_a_bad_cost_names_itself():
    empty = plots.payoff_scatter([], "latency_s")
    assert not empty.data and [a.text for a in empty.layout.annotations] == ["Press Run to draw this"]
    with pytest.raises(ValueError, match="cost must be one of"):
        plots.payoff_scatter(POINTS, "bytes")


def test_the_finding_states_its_data_budget_and_is_computed_from_the_numbers():
    line = finding(POINTS, n_train=1077)
    assert line == ("On 10% of the training labels (108 of 1,077; the teacher learned from all): a distilled mlp(8) "
                    "(610 parameters, test 0.810) is more accurate on validation than the best hard-label student on "
                    "validation, mlp(16) (1,210 parameters, test 0.800): 2.0× smaller; against the teacher (19,562 "
                    "parameters, test 0.990) it is 4.0× faster at batch size 1, both in PyTorch.")
    assert "it is 222× faster at batch size 1024" in finding(POINTS, batch_size=1024)
    assert finding(POINTS).startswith("On 10% of the training labels (the teacher learned from all): ")
    control = [p if p["kind"] == "teacher" else {**p, "fraction": 1.0} for p in POINTS]
    assert finding(control, n_train=1077).startswith("Control, on all 1,077 training labels, the teacher's data: ")
    tie = [p if p["name"] != "distilled, mlp(8)" else {**p, "val_acc": 0.80} for p in POINTS]
    assert "a distilled mlp(8) (610 parameters, test 0.810) is as accurate as the best" in finding(tie)
    worse = [p if p["kind"] != "distilled" else {**p, "val_acc": p["val_acc"] - 0.2} for p in POINTS]
    assert finding(worse) == ("On 10% of the training labels (the teacher learned from all): no distilled student is "
                              "as accurate on validation as the best hard-label student on validation, mlp(16) (1,210 "
                              "parameters, test 0.800): the best, mlp(32), reaches 0.720 on validation against 0.800 "
                              "(test 0.920).")
    assert finding(POINTS[:4]) == ""  # no distilled student measured (a Stop)
    with pytest.raises(ValueError, match="points must come from one data budget"):
        finding(POINTS + control[1:])


def test_the_finding_chooses_on_validation_not_on_test():
    # on test, hard-label mlp(32) (0.86) is the best and only distilled mlp(32) beats it; on validation
    # mlp(16) is the best, and distilled mlp(8) matches it there: the finding follows validation
    pts = [point("hard labels", 16, 0.80, val=0.85), point("hard labels", 32, 0.86, val=0.84),
           point("distilled", 8, 0.83, val=0.85), point("distilled", 32, 0.90, val=0.90)]
    assert "a distilled mlp(8) (610 parameters, test 0.830) is as accurate as the best hard-label student on " \
           "validation, mlp(16) (1,210 parameters, test 0.800): 2.0× smaller" in finding(pts)


def test_the_prediction_choice_follows_the_size_ratio():
    widths = (8, 16, 32, 64, 128)
    size = {w: 64 * w + w + 10 * w + 10 for w in widths}
    assert smaller_choice(None) == smaller_choice(1.0) == SMALLER[0]
    # a match twice as large as the best hard-label student (the control, seeds 1 and 2): "no smaller",
    # and that choice says so
    assert smaller_choice(size[32] / size[64]) == SMALLER[0] and "or larger" in SMALLER[0]
    assert [smaller_choice(size[128] / size[w]) for w in (64, 32, 16)] == list(SMALLER[1:])
    assert smaller_choice(size[128] / size[8]) == SMALLER[3]
    # each choice names the ratio it is marked right for: 2.0×, 4.0×, 7.9× (the headline) and 16×
    assert [SMALLER[1:].index(smaller_choice(size[128] / size[w])) for w in (64, 32, 16, 8)] == [0, 1, 2, 2]
    assert [c.split()[1] for c in SMALLER[1:]] == ["2×", "4×", "8×"] and all(c.startswith("about ") for c in SMALLER[1:])


@pytest.fixture(scope="module")
def small_lab():
    """A lab run on digits with two widths and 30 epochs (shared: tests read it, and only
    run it again with bad values, which start nothing)."""
    lab = PayoffLab(wb.data.load("digits", device="cpu"), widths=(8, 32), epochs=30)
    lab.prediction.buttons.value = SMALLER[1]
    lab.controller.start()  # no event loop here: runs to the end
    return lab


def test_a_run_measures_every_model_in_both_settings_and_fills_figures_table_and_export_menu(small_lab):
    lab = small_lab
    assert lab.message.text == "Done." and lab.controller.progress.value == pytest.approx(1.0)
    names = ["hard labels, mlp(8)", "distilled, mlp(8)", "hard labels, mlp(32)", "distilled, mlp(32)"]
    assert [(p["name"], p.get("fraction")) for p in lab.points] == \
        [("teacher", None)] + [(n, 0.1) for n in names] + [(n, 1.0) for n in names]
    # each point's accuracies are its own model's, on validation and on test (a control student is not its
    # claim twin: same network, other weights)
    models = [lab.teacher_model()] + [lab.models[f"{p['name']}, {setting}"] for setting in ("10% of the labels",
                                                                              "all the labels") for p in lab.points[1:5]]
    measured = [acc for p in lab.points for acc in (p["val_acc"], p["test_acc"])]
    own = [accuracy_of(m, split) for m in models for split in (lab.splits.val, lab.splits.test)]
    assert measured == pytest.approx(own, abs=1e-6)  # one image is 1/360 of a split
    assert all(set(p["latency_s"]) == {1, 1024} for p in lab.points)
    assert lab.points[0]["parameters"] == wb.footprint.parameters(lab.teacher_model())
    # a control student is the same network as the claim's student of its kind and width: it takes its latency
    assert [p["latency_s"] for p in lab.points[5:]] == [p["latency_s"] for p in lab.points[1:5]]
    for fig in (lab.latency_fig, lab.size_fig):
        shown = {t.name: list(t.y) for t in fig.data if t.mode == "markers+text"}
        assert set(shown) == {"teacher", "hard labels", "distilled"} and sum(map(len, shown.values())) == 5
        assert "students on 10% of the labels" in fig.layout.title.text
    distilled = [t for t in lab.latency_fig.data if t.name == "distilled"][0]
    assert lab.batch.value == 1024  # shown first: at batch size 1 the students' points pile up
    expected = [p["latency_s"][1024] * 1e6 for p in lab.points[1:5] if p["kind"] == "distilled"]
    assert list(distilled.x) == pytest.approx(expected)
    table = lab.table.value
    assert "teacher (digits/cnn)" in table and all(n in table for n in names)
    assert f"{lab.points[0]['parameters']:,}" in table and "µs" in table and table.count("kd-finding") == 2
    assert "10% of the labels: validation / test" in table and "all the labels: validation / test" in table
    assert "On 10% of the training labels (108 of 1,077; the teacher learned from all)" in table
    assert "Control, on all 1,077 training labels, the teacher&#x27;s data" in table
    assert "Where each number comes from" in table
    claim = [p for p in lab.points if p["kind"] == "teacher" or p.get("fraction") == 0.1]
    # the export menu starts at the smallest distilled student at least as accurate on validation as
    # the best hard-label one (or, if none is, the best distilled one): checked here from the points
    hard_best = max(p["val_acc"] for p in claim if p["kind"] == "hard labels")
    distilled = [p for p in claim if p["kind"] == "distilled"]
    good = [p for p in distilled if p["val_acc"] >= hard_best]
    chosen = min(good, key=lambda p: p["parameters"]) if good else max(distilled, key=lambda p: p["val_acc"])
    labels = [f"{n}, 10% of the labels" for n in names] + [f"{n}, all the labels" for n in names]
    assert list(lab.export_choice.options) == labels
    assert lab.export_choice.value == f"{chosen['name']}, 10% of the labels"
    assert not lab.export_button.disabled
    assert "Trained 8 students for as many steps each (4 on 10% of the labels for 30 epochs, 4 on all of them for 3) and measured 9 models" \
        in lab.status.value


def test_the_setting_toggle_shows_the_controls_students(small_lab):
    lab = small_lab
    try:
        lab.shown.value = "control"
        shown = {t.name: list(t.y) for t in lab.size_fig.data if t.mode == "markers+text"}
        control = [p for p in lab.points if p.get("fraction") == 1.0]
        assert shown["distilled"] == [p["test_acc"] for p in control if p["kind"] == "distilled"]
        assert shown["teacher"] == [lab.points[0]["test_acc"]]
        assert "students on all the labels" in lab.size_fig.layout.title.text
    finally:
        lab.shown.value = "claim"


def test_the_run_reveals_the_prediction_beside_the_controls_result(small_lab):
    lab = small_lab
    result = lab.prediction.result
    control = wb.payoff.payoff([p for p in lab.points if p["kind"] == "teacher" or p.get("fraction") == 1.0])
    assert result.startswith(f"You predicted: {SMALLER[1]}. What happened: with all the training labels, ")
    right = smaller_choice(control["ratio"])
    assert (" ✓ Your prediction held." if right == SMALLER[1] else f"the result bears out “{right}”") in result
    assert f"mlp({control['hard']['width']})" in result and "with 10% of the labels" in result
    assert "kd-reveal" in lab.prediction.out.value


def test_the_batch_size_toggle_redraws_the_latency_scatter(small_lab):
    lab = small_lab
    try:
        lab.batch.value = 1
        assert "batch size 1 (µs" in lab.latency_fig.layout.xaxis.title.text
        teacher = [t for t in lab.latency_fig.data if t.name == "teacher"][0]
        assert teacher.x[0] == pytest.approx(lab.points[0]["latency_s"][1] * 1e6)
        claim = [p for p in lab.points if p["kind"] == "teacher" or p.get("fraction") == 0.1]
        assert html.escape(finding(claim, batch_size=1, n_train=1077)) in lab.table.value
    finally:
        lab.batch.value = 1024


def test_export_writes_float_and_int8_files_checks_them_and_offers_a_download(small_lab):
    lab = small_lab
    lab.export_choice.value = "distilled, mlp(32), 10% of the labels"
    lab.export_button.click()
    assert lab.export_message.text == "Exported distilled, mlp(32), 10% of the labels."
    e = lab.exported
    assert e["bytes"] > 0 and e["int8_bytes"] > 0 and e["int8_bytes"] < e["bytes"]
    assert e["max_abs_diff"] < 1e-4 and e["test_acc"]["onnx"] == e["test_acc"]["pytorch"]
    assert abs(e["test_acc"]["onnx_int8"] - e["test_acc"]["onnx"]) <= 0.01
    assert all(t > 0 for t in e["latency_s"].values())
    shown = lab.export_result.value
    file = "distilled-mlp-32-10-of-the-labels"
    assert f"{file}.onnx" in shown and f"{file}.int8.onnx" in shown and "µs" in shown
    link = re.search(r"download='([^']+)' href='data:application/octet-stream;base64,([^']+)'", shown)
    assert link.group(1) == f"{file}.onnx"
    assert base64.b64decode(link.group(2)) == pathlib.Path(e["path"]).read_bytes()  # the float file itself
    assert f"{e['test_acc']['onnx_int8']:.3f}" in shown


def test_export_to_a_missing_folder_shows_the_message_and_keeps_the_last_export(small_lab, tmp_path):
    lab = small_lab
    if lab.exported is None:
        lab.export_button.click()
    before, folder = lab.export_result.value, lab.folder
    try:
        lab.folder = str(tmp_path / "no" / "such" / "folder")
        lab.export_button.click()
    finally:
        lab.folder = folder
    assert "path: the folder" in lab.export_message.text and "does not exist" in lab.export_message.text
    assert "Traceback" not in lab.export_message.value and lab.export_result.value == before


@pytest.mark.parametrize("control, value, message", [
    ("epochs", 0, "epochs must be an integer >= 1, got 0"),
    ("seed", -1, "seed must be an integer from 0 to 2**32 - 1 = 4294967295, got -1"),
])
def test_bad_values_show_the_engines_message_and_leave_the_figures(small_lab, control, value, message):
    lab = small_lab
    figures = [f.to_plotly_json() for f in (lab.latency_fig, lab.size_fig)]
    points, table, good = list(lab.points), lab.table.value, getattr(lab, control).value
    try:
        getattr(lab, control).value = value
        assert lab.controller.start() is None
        assert message in lab.message.text and not lab.controller.running
    finally:
        getattr(lab, control).value = good
    assert [f.to_plotly_json() for f in (lab.latency_fig, lab.size_fig)] == figures
    assert lab.points == points and lab.table.value == table and not lab.export_button.disabled
    assert not any(c.disabled for c in lab.controller.locked)


def test_the_default_settings_show_the_distilled_front_above_the_hard_label_one(digits):
    lab = PayoffLab(digits)
    assert lab.teacher.value == wb.teachers.DEFAULT["digits"] and lab.fraction.value == wb.payoff.FRACTION
    assert (lab.epochs.value, lab.temperature.value, lab.alpha.value) == (150, 4.0, 0.9)
    lab.controller.start()
    acc = {(p["kind"], p["width"]): p["test_acc"] for p in lab.points if p.get("fraction") == wb.payoff.FRACTION}
    assert all(acc["distilled", w] > acc["hard labels", w] for w in (16, 32, 64, 128))
    assert re.search(r"On 10% of the training labels \(108 of 1,077; the teacher learned from all\): a distilled "
                     r"mlp\(\d+\) \([\d,]+ parameters, test 0\.\d{3}\) is (as|more) accurate (on validation )?"
                     r"(as|than) the best hard-label student on validation, mlp\(\d+\)", lab.table.value)
    assert "Control, on all 1,077 training labels, the teacher&#x27;s data: " in lab.table.value


def test_stop_ends_training_within_a_step_and_offers_no_export(digits):
    lab = PayoffLab(digits, widths=(8,), epochs=100_000)

    async def scenario():
        task = lab.controller.start()
        for _ in range(20):
            await asyncio.sleep(0.01)
        assert lab.controller.running and lab.export_button.disabled and lab.export_choice.disabled
        assert all(c.disabled for c in (lab.teacher, lab.fraction, lab.epochs, lab.temperature, lab.alpha, lab.seed))
        lab.controller.stop_button.click()
        await asyncio.wait_for(task, timeout=10)

    asyncio.run(scenario())
    assert lab.message.text == "Stopped." and lab.points == [] and lab.export_button.disabled
    assert re.match(r"Stopped at epoch \d+ of 100000: nothing measured", lab.status_text)
    assert 0 < lab.epoch < 100_000 and not lab.controller.running and not lab.teacher.disabled


def test_a_link_opens_the_payoff_tab_with_its_settings(digits):
    page = app(digits, query="tab=Payoff&epochs=20&fraction=0.5&temperature=8")
    tabs = page.children[-1]
    assert TABS[tabs.selected_index][0] == "Payoff" and page.children[1].text == ""
    lab = page.lab_of(tabs.selected_index)
    assert isinstance(lab, PayoffLab) and (lab.epochs.value, lab.fraction.value, lab.temperature.value) == (20, 0.5, 8)
    settings = url_settings.parse(url_settings.link("Payoff", lab).lstrip("?"))
    assert settings == {"tab": "Payoff", "teacher": "digits/cnn", "fraction": "0.5", "epochs": "20",
                        "temperature": "8.0", "alpha": "0.9", "seed": "0"}


def test_moving_the_share_slider_after_a_run_keeps_the_toggle_on_the_points_shown(digits):
    lab = PayoffLab(digits, widths=(8,), epochs=5)
    lab.shown.value = "control"
    lab.fraction.value = 0.5  # not run yet: the scatters still show the 10% run's labels and setting
    assert lab.shown.options[0][0] == "10% of the labels" and lab.shown.value == "control"
