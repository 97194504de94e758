"""A plotly FigureWidget that sends plotly's widget code to the browser once, by URL.

Since plotly 6 every `go.FigureWidget` carries its own copy of plotly's widget bundle
(plotly.js and its model/view, ~5 MB) in anywidget's `_esm` trait: ten figures send
51 MB over the websocket on every page load, and the browser cannot cache any of it.

`FigureWidget` here is the same widget with a small `_esm` that imports the bundle
from a file the Jupyter server already serves: a directory beside the installed
JupyterLab extensions, which Voila serves at `voila/labextensions/...` and JupyterLab at
`lab/extensions/...`. The browser fetches it once per page (one module for every figure)
and revalidates it later with a 304. Where neither URL answers (another front end, a
server without that path), the small module asks the kernel for the bundle and gets it
over the websocket, as a plain `go.FigureWidget` would: slower, never broken."""
import os
import pathlib
import sys
import tempfile

import plotly
import plotly.graph_objects as go
from jupyter_core.paths import jupyter_data_dir
from traitlets import Unicode

BUNDLE = pathlib.Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
NAME = f"kd-workbench-plotly/widgetbundle-{plotly.__version__}.js"  # a new plotly gets a new URL
NEED_BUNDLE = "kd-workbench: bundle not found"

LOADER = """
const name = %(name)r;
const paths = ["voila/labextensions/", "lab/extensions/"];

function baseUrl() {
  try { return JSON.parse(document.getElementById("jupyter-config-data").textContent).baseUrl || "/"; }
  catch (e) { return "/"; }
}

export default async () => {
  for (const path of paths) {
    try {
      const bundle = await import(new URL(baseUrl() + path + name, document.baseURI).href);
      return bundle.default();
    } catch (e) { /* not served here: try the next path */ }
  }
  return { initialize({ model }) { model.send({ request: %(need)r }); }, render() {} };
};
"""


def shared_dirs():
    """Where the bundle may be put so that the Jupyter server serves it: the first
    labextensions directories Jupyter searches (this environment's, then the user's)."""
    return [pathlib.Path(sys.prefix) / "share" / "jupyter" / "labextensions",
            pathlib.Path(jupyter_data_dir()) / "labextensions"]


def publish_bundle():
    """Copy plotly's widget bundle where the server serves it (once per plotly version;
    an atomic rename, so kernels starting together never serve half a file). Returns the
    path, or None when no directory is writable."""
    size = BUNDLE.stat().st_size
    for root in shared_dirs():
        target = root / NAME
        if target.is_file() and target.stat().st_size == size:
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
                tmp.write(BUNDLE.read_bytes())
            os.replace(tmp.name, target)
            return target
        except OSError:
            continue
    return None


PUBLISHED = publish_bundle()


class FigureWidget(go.FigureWidget):
    """`go.FigureWidget` whose browser code is fetched by URL (see the module's doc).
    `view` is the `figure_view.FigureView` that shows it with its text (set by `live.live`)."""

    view = None

    _esm = Unicode(LOADER % {"name": NAME, "need": NEED_BUNDLE} if PUBLISHED else BUNDLE.read_text()).tag(sync=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_msg(self._send_bundle)

    def _send_bundle(self, _, content, buffers):
        if isinstance(content, dict) and content.get("request") == NEED_BUNDLE:
            self._esm = BUNDLE.read_text()
