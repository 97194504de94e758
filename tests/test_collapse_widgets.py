"""The collapse lab and its figures: chains side by side, the generation slider, bad
values as messages, Stop; plus the layout removal that switching figures needs."""
import asyncio

import pytest

import workbench as wb
from widgets import CollapseLab, plots
from widgets.app import TABS
from widgets.collapse_lab import chains
from widgets.live import live, refresh
from workbench.collapse import digits


def test_a_run_draws_one_chain_per_policy_as_the_engine_computes_them():
    lab = CollapseLab("gaussian")
    lab.generations.value = 30
    lab.controller.start()
    assert lab.message.text == "Done."
    assert list(lab.histories) == ["replace", "mix (20% real)", "accumulate"]
    assert lab.histories["replace"] == wb.collapse.run("gaussian", generations=30, samples=50, seed=0)
    assert lab.histories["accumulate"] == wb.collapse.run("gaussian", generations=30, policy="accumulate", seed=0)
    assert lab.generation.max == lab.play.max == 29 and lab.generation.value == 29
    assert len(lab.curves.data) == 9  # three metrics x three chains
    assert lab.overlay.layout.title.text.startswith("Generation 29")
    assert [t.name for t in lab.overlay.data] == ["truth", "replace", "mix (20% real)", "accumulate"]
    assert "accumulate" in lab.table.value and "KL(truth ‖ fitted Gaussian), nats" in lab.table.value


@pytest.mark.parametrize("setting", ["gaussian", "zipf"])
def test_the_kl_panel_and_column_name_the_settings_own_kl(setting):
    lab = CollapseLab(setting)
    lab.generations.value = 3
    lab.controller.start()
    name = wb.collapse.KL_TO_TRUTH[setting]  # direction and support, e.g. "KL(model ‖ truth) over the vocabulary"
    panel = lab.curves.layout.annotations[0].text.replace("<br>", " ")
    assert panel == name and f"padding:2px 10px'>{name}</th>" in lab.table.value
    assert "KL to the truth" not in lab.table.value + panel


def test_the_generation_slider_overlays_that_generation():
    lab = CollapseLab("zipf")
    lab.generations.value = 10
    lab.controller.start()
    lab.generation.value = 0
    assert lab.overlay.layout.title.text.startswith("Generation 0")
    first = lab.histories["replace"][0]
    shown = [t for t in lab.overlay.data if t.name.startswith("replace")][0]
    assert f"({first['vanished']} vanished)" in shown.name
    assert sum(v is None for v in shown.y) == first["vanished"]  # a vanished token leaves the plot
    lab.play.value = 9  # Play moves the slider, and the slider the figure
    assert lab.generation.value == 9 and lab.overlay.layout.title.text.startswith("Generation 9")


def test_compare_chooses_the_chains():
    assert list(chains("policies", "replace", 0.3).values()) == [("replace", 0.0), ("mix", 0.3), ("accumulate", 0.0)]
    assert chains("policies", "replace", 0.0)["mix (20% real)"] == ("mix", 0.2)  # mix needs real data; says how much
    shares = chains("real-data shares", "accumulate", 0.3)
    assert [s for _, s in shares.values()] == [0.0, 0.05, 0.2, 0.5] and {p for p, _ in shares.values()} == {"accumulate"}
    assert list(chains("one chain", "mix", 0.3).values()) == [("mix", 0.3)]
    lab = CollapseLab("zipf")
    lab.compare.value, lab.policy.value, lab.generations.value = "real-data shares", "replace", 3
    lab.controller.start()
    assert len(lab.histories) == 4 and all(len(h) == 3 for h in lab.histories.values())


def test_the_setting_brings_its_defaults_and_its_own_controls():
    lab = CollapseLab("gaussian")
    assert lab.labels.layout.display == "none"
    lab.setting.value = "digits"
    assert (lab.samples.value, lab.generations.value) == (wb.collapse.SETTINGS["digits"].samples,
                                                          wb.collapse.SETTINGS["digits"].generations)
    assert lab.labels.layout.display is None
    lab.compare.value = "policies"
    assert lab.policy.layout.display == "none"
    lab.compare.value = "one chain"
    assert lab.policy.layout.display is None and lab.share.layout.display is None


def test_every_digits_label_kind_reaches_the_engine():
    lab = CollapseLab("digits")
    assert list(lab.labels.options) == list(digits.LABELS)  # every kind the engine has, argmax included
    for kind in lab.labels.options:
        lab.labels.value = kind
        assert {r["labels"] for r in lab.runs().values()} == {kind}
    lab.compare.value, lab.policy.value, lab.share.value = "one chain", "replace", 0.0
    lab.generations.value, lab.samples.value, lab.labels.value = 2, 64, "argmax"
    lab.controller.start()
    assert lab.message.text == "Done."
    engine = wb.collapse.run("digits", generations=2, samples=64, labels="argmax")
    for shown, row in zip(lab.histories["replace, 0% real"], engine, strict=True):
        assert shown["test_acc"] == row["test_acc"] and shown["class_probs"] == pytest.approx(row["class_probs"])


@pytest.mark.parametrize("control, value, words", [
    ("samples", 0, "samples must be an integer >= 1, got 0"),
    ("generations", -2, "generations must be an integer >= 1, got -2"),
    ("seed", -1, "seed must be an integer from 0 to 2**32 - 1 = 4294967295, got -1")])
def test_bad_values_show_a_message_and_keep_the_last_run(control, value, words):
    lab = CollapseLab("gaussian")
    lab.generations.value = 5
    lab.controller.start()
    before = lab.histories
    setattr(getattr(lab, control), "value", value)
    lab.controller.start()
    assert words in lab.message.text and lab.histories is before


def test_mix_without_real_data_is_refused_by_name():
    lab = CollapseLab("gaussian")
    lab.compare.value, lab.policy.value, lab.share.value = "one chain", "mix", 0.0
    lab.controller.start()
    assert "real_share must be > 0 with policy 'mix'" in lab.message.text


def test_stop_ends_the_chains_with_the_generations_so_far():
    lab = CollapseLab("digits")

    async def scenario():
        task = lab.controller.start()
        while not all(lab.histories.values()):
            await asyncio.sleep(0)
        lab.controller.stop_button.click()
        await asyncio.wait_for(task, timeout=60)

    asyncio.run(scenario())
    assert lab.message.text == "Stopped."
    assert 1 <= max(len(h) for h in lab.histories.values()) < lab.generations.value


def test_the_collapse_tab_is_in_the_app():
    assert "Collapse" in [title for title, _ in TABS]


def test_figures_show_the_truth_and_leave_vanished_items_out():
    truth = wb.collapse.truth("gaussian")
    fig = plots.gaussian_fits({"a": (0.5, 0.25)}, truth)
    assert [t.name for t in fig.data] == ["truth", "a"] and len(fig.layout.shapes) == 2  # the two tails shaded
    assert max(fig.data[1].y) == pytest.approx(1 / (2 * 3.141592653589793 * 0.25) ** 0.5, rel=1e-3)
    fig = plots.rank_probabilities({"q": [0.5, 0.5, 0.0]}, [0.5, 0.3, 0.2])
    assert list(fig.data[1].y) == [0.5, 0.5, None] and fig.layout.yaxis.type == "log"


def test_refresh_removes_what_the_new_figure_lacks():
    """The browser merges a relayout into its layout: shading and a log axis left over
    from one figure would spoil the next unless they are removed explicitly."""
    widget = live(plots.gaussian_fits({}, wb.collapse.truth("gaussian")), width=600, height=300)
    sent = []
    widget._send_relayout_msg = lambda data, source_view_id=None: sent.append(data)
    refresh(widget, plots.rank_probabilities({}, [0.5, 0.5]))
    removed = {k for d in sent for k, v in d.items() if v is None}
    assert {"shapes", "annotations", "xaxis.range"} <= removed
    sent.clear()
    refresh(widget, plots.gaussian_fits({}, wb.collapse.truth("gaussian")))
    removed = {k for d in sent for k, v in d.items() if v is None}
    assert {"xaxis.type", "yaxis.type"} <= removed and widget.layout.width == 600
