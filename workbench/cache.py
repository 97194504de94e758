"""The on-disk cache: ~/.cache/kd-workbench (KD_WORKBENCH_CACHE overrides).

Files are written atomically (temp file, then rename) so a killed run never leaves half a
checkpoint behind, and read with weights_only=True so a cache file cannot run code."""
import os
import pathlib
import tempfile
import warnings

import torch


def cache_dir(*parts):
    root = os.environ.get("KD_WORKBENCH_CACHE") or pathlib.Path.home() / ".cache" / "kd-workbench"
    path = pathlib.Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(obj, path):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache or shipped file is not
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def load(path, validate=None):
    """Load a cached object, or None when it is missing or unreadable (with a warning when
    it exists but is corrupt). `validate(obj)` may raise to reject a readable but wrong file."""
    path = pathlib.Path(path)
    if not path.exists():
        return None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
        if validate is not None:
            validate(obj)
        return obj
    except Exception as e:  # any unreadable file is rebuilt, never a crash
        reason = (str(e).strip().splitlines() or [""])[0][:120]
        warnings.warn(f"cached file {path} is corrupt ({type(e).__name__}: {reason}); rebuilding it", stacklevel=3)
        return None


def shipped_or_built(shipped, cached, check, build):
    """A checkpoint that ships with the package: the shipped file, else the cached one,
    else `build()` (written back where the shipped file lies when that is writable, to
    the cache otherwise). `check(ckpt)` raises for a readable but wrong file."""
    ckpt = load(shipped, check) or load(cached, check)
    if ckpt is None:
        ckpt = build()
        try:  # a corrupt shipped file is replaced where it lies, when the package is writable
            save(ckpt, shipped if shipped.exists() else cached)
        except OSError:
            save(ckpt, cached)
    return ckpt
