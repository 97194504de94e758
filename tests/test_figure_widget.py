"""The FigureWidget whose plotly code is served by URL instead of sent with every figure."""
import plotly.graph_objects as go
import pytest

from widgets import figure_widget as fw
from widgets.live import live


def test_a_figure_sends_a_small_loader_that_names_the_published_bundle():
    widget = live(go.Figure(go.Bar(y=[1, 2, 3])))
    assert isinstance(widget, fw.FigureWidget)
    assert len(widget._esm) < 5_000 < fw.BUNDLE.stat().st_size
    assert fw.NAME in widget._esm and "voila/labextensions/" in widget._esm
    assert fw.PUBLISHED.read_bytes() == fw.BUNDLE.read_bytes()


def test_a_browser_that_cannot_fetch_the_bundle_gets_it_from_the_kernel():
    widget = fw.FigureWidget(go.Figure(go.Bar(y=[1, 2])))
    widget._handle_custom_msg({"request": "something else"}, [])
    assert len(widget._esm) < 5_000
    widget._handle_custom_msg({"request": fw.NEED_BUNDLE}, [])
    assert widget._esm == fw.BUNDLE.read_text()


def test_the_bundle_goes_to_the_first_writable_directory(tmp_path, monkeypatch):
    blocked, free = tmp_path / "a-file" / "labextensions", tmp_path / "free"
    blocked.parent.write_text("a file where a directory would go: no one can write under it")
    monkeypatch.setattr(fw, "shared_dirs", lambda: [blocked, free])
    published = fw.publish_bundle()
    assert published == free / fw.NAME and published.read_bytes() == fw.BUNDLE.read_bytes()
    assert [p.name for p in published.parent.iterdir()] == [published.name]  # no temporary file left


def test_a_bundle_already_in_place_is_kept_and_a_truncated_one_replaced(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setattr(fw, "shared_dirs", lambda: [first, second])
    (first / fw.NAME).parent.mkdir(parents=True)
    (first / fw.NAME).write_bytes(fw.BUNDLE.read_bytes()[:1000])  # a copy cut short
    assert fw.publish_bundle() == first / fw.NAME
    assert (first / fw.NAME).stat().st_size == fw.BUNDLE.stat().st_size
    mtime = (first / fw.NAME).stat().st_mtime_ns
    assert fw.publish_bundle() == first / fw.NAME and (first / fw.NAME).stat().st_mtime_ns == mtime


def test_no_writable_directory_means_the_plain_bundle(tmp_path, monkeypatch):
    monkeypatch.setattr(fw, "shared_dirs", lambda: [])
    assert fw.publish_bundle() is None
