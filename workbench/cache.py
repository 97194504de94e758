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


def _read(path, validate=None):
    """(obj, None) for a readable file that passes `validate`, (None, None) when there is
    no file, (None, reason) when it is corrupt or wrong."""
    path = pathlib.Path(path)
    if not path.exists():
        return None, None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
        if validate is not None:
            validate(obj)
        return obj, None
    except Exception as e:  # any unreadable file is rebuilt, never a crash
        return None, f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:120]}"


def load(path, validate=None):
    """Load a cached object, or None when it is missing or unreadable (with a warning when
    it exists but is corrupt). `validate(obj)` may raise to reject a readable but wrong file."""
    obj, problem = _read(path, validate)
    if problem is not None:
        warnings.warn(f"cached file {path} is corrupt ({problem}); rebuilding it", stacklevel=3)
    return obj


def _writable(folder):
    """Whether a file can be written into `folder` (tried, since permission bits do not
    stop root and a read-only file system ignores them)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".probe")
    except OSError:
        return False
    os.close(fd)
    pathlib.Path(tmp).unlink(missing_ok=True)
    return True


def shipped_or_built(shipped, cached, check, build):
    """A checkpoint that ships with the package: the shipped file, else the cached one,
    else `build()`. A corrupt shipped file is replaced where it lies when the package is
    writable; in a read-only install the rebuilt checkpoint goes to the cache, and later
    calls use that copy without rebuilding. Each rebuild gives one warning saying why and
    where the result goes. `check(ckpt)` raises for a readable but wrong file."""
    shipped, cached = pathlib.Path(shipped), pathlib.Path(cached)
    ckpt, shipped_problem = _read(shipped, check)
    if ckpt is not None:
        return ckpt
    ckpt, cached_problem = _read(cached, check)
    if ckpt is not None:  # the copy rebuilt for a corrupt shipped file in a read-only install
        return ckpt
    over_shipped = shipped_problem is not None and _writable(shipped.parent)
    target = shipped if over_shipped else cached
    if shipped_problem is not None:
        where = (f"saving it over {shipped}" if over_shipped else
                 f"saving it into the cache at {cached}, since the install is read-only; later calls use that copy")
        warnings.warn(f"shipped file {shipped} is corrupt ({shipped_problem}); rebuilding it from its recipe and "
                      f"{where}", stacklevel=3)
    elif cached_problem is not None:
        warnings.warn(f"cached file {cached} is corrupt ({cached_problem}); rebuilding it", stacklevel=3)
    ckpt = build()
    try:
        save(ckpt, target)
    except OSError as e:  # the folder became unwritable while it was built
        if target == cached:
            raise
        warnings.warn(f"could not save over {shipped} ({e}); saved to the cache at {cached} instead", stacklevel=3)
        save(ckpt, cached)
    return ckpt
