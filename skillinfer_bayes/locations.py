"""Where the package keeps files: the fit cache folder (and JAX's compiled samplers in it)."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that moves the fit cache (default ``~/.cache/skillinfer_bayes``).
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
    """The fit cache folder: ``$SKILLINFER_BAYES_CACHE`` or ``~/.cache/skillinfer_bayes``."""
    env = os.environ.get(CACHE_ENV)
    return expand(env) if env else Path.home() / ".cache" / "skillinfer_bayes"
