"""Where the package keeps files: the fit cache folder (and JAX's compiled samplers in it).

The folder is ``$SKILLINFER_BAYES_CACHE`` if set, else the platform's user cache folder for
the package (``platformdirs``: ``~/.cache/skillinfer_bayes`` on Linux). Fits are ``*.nc`` files
there; compiled samplers are in its ``compiled_samplers`` subfolder (JAX's persistent
compilation cache, which ``SKILLINFER_BAYES_JAX_CACHE=0`` leaves alone), marked as the
package's by a file of its own (:data:`MARKER`). ``skillinfer-bayes cache`` shows them and
``skillinfer-bayes cache --clear`` deletes them, and nothing else: a folder without the marker
(a user's own ``jax`` folder, say) is neither counted nor deleted.
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


#: The subfolder of the cache folder that holds compiled samplers.
COMPILED_FOLDER = "compiled_samplers"
#: The file that marks the compiled-sampler folder as this package's (what ``--clear`` may
#: delete).
MARKER = ".skillinfer_bayes_compiled_samplers"


def compiled_sampler_dir() -> Path:
    """The folder of compiled samplers inside :func:`cache_dir`, created with its
    :data:`MARKER` (so that :func:`clear_cache` can prove it is the package's).

    Examples
    --------
    >>> (compiled_sampler_dir() / MARKER).is_file()
    True
    """
    folder = cache_dir() / COMPILED_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / MARKER
    if not marker.exists():
        marker.write_text("compiled samplers of skillinfer_bayes (skillinfer-bayes cache "
                          "--clear deletes this folder)\n")
    return folder


def _owned_compiled_files(folder: Path) -> list[Path]:
    """The compiled-sampler files of the cache ``folder``: only inside a folder that carries
    the package's marker, the marker itself left out."""
    compiled = folder / COMPILED_FOLDER
    if not (compiled / MARKER).is_file():
        return []
    return [p for p in compiled.rglob("*") if p.is_file() and p.name != MARKER]


def cache_contents() -> dict:
    """What the cache folder holds: ``folder``, ``fits`` (saved posteriors), ``compiled``
    (files of compiled samplers) and ``bytes`` (their total size)."""
    folder = cache_dir()
    fits = _cached_fits(folder)
    compiled = _owned_compiled_files(folder)
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
    hand, or a folder without the package's :data:`MARKER`) are left alone."""
    contents = cache_contents()
    folder = contents["folder"]
    if folder.is_dir():
        for path in _cached_fits(folder):
            path.unlink(missing_ok=True)
        if (folder / COMPILED_FOLDER / MARKER).is_file():  # the package's own folder only
            shutil.rmtree(folder / COMPILED_FOLDER, ignore_errors=True)
    return contents
