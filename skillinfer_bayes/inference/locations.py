"""Where the package keeps files: the fit cache folder (and JAX's compiled samplers in it).

The folder is ``$SKILLINFER_BAYES_CACHE`` if set, else the platform's user cache folder for
the package (``platformdirs``: ``~/.cache/skillinfer_bayes`` on Linux). Fits are ``*.nc`` files
there; compiled samplers are in its ``jax`` subfolder (JAX's persistent compilation cache,
which ``SKILLINFER_BAYES_JAX_CACHE=0`` leaves alone). ``skillinfer-bayes cache`` shows it and
``skillinfer-bayes cache --clear`` empties it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import platformdirs

#: Environment variable that moves the fit cache (default: the platform's user cache folder).
CACHE_ENV = "SKILLINFER_BAYES_CACHE"


def expand(path: str | os.PathLike) -> Path:
    """``path`` as a Path with ``~`` expanded.

    Examples
    --------
    >>> expand("~/x.nc") == Path.home() / "x.nc"
    True
    """
    return Path(os.fspath(path)).expanduser()


def cache_dir() -> Path:
    """The fit cache folder: ``$SKILLINFER_BAYES_CACHE``, or the platform's user cache
    folder (``~/.cache/skillinfer_bayes`` on Linux).

    Examples
    --------
    >>> cache_dir().is_absolute()
    True
    """
    env = os.environ.get(CACHE_ENV)
    return expand(env) if env else Path(platformdirs.user_cache_dir("skillinfer_bayes"))


def cache_contents() -> dict:
    """What the cache folder holds: ``folder``, ``fits`` (saved posteriors), ``compiled``
    (files of compiled samplers) and ``bytes`` (their total size)."""
    folder = cache_dir()
    fits = _cached_fits(folder)
    compiled = [p for p in (folder / "jax").rglob("*") if p.is_file()] if (
        folder / "jax").is_dir() else []
    size = sum(p.stat().st_size for p in [*fits, *compiled])
    return {"folder": folder, "fits": len(fits), "compiled": len(compiled), "bytes": size}


def _cached_fits(folder: Path) -> list[Path]:
    """The fit cache's entries: files named by their content address (32 hex digits)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.nc") if re.fullmatch(r"[0-9a-f]{32}\.nc", p.name))


def clear_cache() -> dict:
    """Delete the cached fits and compiled samplers; returns what was there
    (:func:`cache_contents`). Other files in the folder (e.g. a posterior saved there by
    hand) are left alone."""
    contents = cache_contents()
    folder = contents["folder"]
    if folder.is_dir():
        for path in _cached_fits(folder):
            path.unlink(missing_ok=True)
        if (folder / "jax").is_dir():
            shutil.rmtree(folder / "jax", ignore_errors=True)
    return contents
