"""How the repository stores a notebook: nbformat 4.5 written with one-space indents and a
final newline, 8-hex-digit cell ids, no outputs and no execution counts."""
import json
import re

import nbformat


def assert_stored_like_the_others(path):
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5) and raw.endswith("}\n") and raw.startswith('{\n "cells"')
    ids = [c["id"] for c in nb["cells"]]
    assert all(re.fullmatch(r"[0-9a-f]{8}", i) for i in ids) and len(set(ids)) == len(ids)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    nbformat.validate(nbformat.reads(raw, 4))
