"""Saved posteriors: NetCDF files that hold everything a Profile needs, and a fit cache.

A saved population is an ArviZ InferenceData file (``posterior``, ``sample_stats``) with a
``constant_data`` group holding the fitted score matrix (entity names, benchmark names, group
labels) and, with ``normalize=True``, the min-max scaling. Its attributes hold the prior, the fit
settings, the library version, the file-format version and a SHA-256 hash of the data, checked
on load: a file whose data no longer match its hash (edited, truncated) or that was fitted to
different data than the caller's is refused with a clear message.

The fit cache stores such files under a content address: the hash of the data and of every
setting that changes the posterior. Fitting the same data with the same settings and seed twice
loads the first posterior instead of sampling.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from skillinfer_bayes._version import __version__

if TYPE_CHECKING:
    from skillinfer_bayes.population import Population

#: Version of the file layout; files of another format version are refused.
FORMAT_VERSION = 1
#: Environment variable that moves the fit cache (default ``~/.cache/skillinfer_bayes``).
CACHE_ENV = "SKILLINFER_BAYES_CACHE"


class PosteriorFileError(ValueError):
    """A saved posterior cannot be used: unreadable, corrupted, or made from other data."""


def data_hash(matrix: pd.DataFrame, groups: pd.Series | None = None,
              scaling: pd.DataFrame | None = None) -> str:
    """SHA-256 of the fitted scores, their labels, the groups and the scaling.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"x": [1.0, 2.0]}, index=["m0", "m1"])
    >>> data_hash(a) == data_hash(a.copy()), data_hash(a) == data_hash(a * 2)
    (True, False)
    """
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(matrix.to_numpy(dtype=float)).tobytes())
    h.update(json.dumps([str(c) for c in matrix.columns]).encode())
    h.update(json.dumps([str(i) for i in matrix.index]).encode())
    if groups is not None:
        h.update(json.dumps([str(g) for g in groups]).encode())
    if scaling is not None:
        h.update(np.ascontiguousarray(scaling.to_numpy(dtype=float)).tobytes())
    return h.hexdigest()


def save(pop: Population, path: str | os.PathLike) -> Path:
    """Write ``pop`` to ``path`` (see :meth:`Population.to_netcdf`)."""
    path = Path(path)
    idata = pop.idata.copy()
    names = pop.feature_names
    constant = {
        "scores": (("entity", "benchmark"), pop.matrix.to_numpy(dtype=float)),
        "entity_name": (("entity",), np.asarray([str(e) for e in pop.entity_names], dtype=str)),
    }
    if pop.groups is not None:
        constant["entity_group"] = (("entity",), np.asarray(pop.groups.to_numpy(), dtype=str))
    if pop.scaling is not None:
        constant["scaling_min"] = (("benchmark",), pop.scaling["min"].to_numpy(dtype=float))
        constant["scaling_range"] = (("benchmark",), pop.scaling["range"].to_numpy(dtype=float))
    dataset = xr.Dataset(
        constant,
        coords={"entity": np.arange(len(pop.matrix)), "benchmark": names},
    )
    if "constant_data" in idata.groups():
        del idata["constant_data"]
    idata.add_groups(constant_data=dataset)
    idata.attrs.update({
        "skillinfer_bayes_version": pop.idata.attrs.get("skillinfer_bayes_version", __version__),
        "skillinfer_bayes_format": FORMAT_VERSION,
        "data_hash": data_hash(pop.matrix, pop.groups, pop.scaling),
        "entity_index_name": "" if pop.matrix.index.name is None else str(pop.matrix.index.name),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        idata.to_netcdf(str(tmp), engine="h5netcdf")
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load(path: str | os.PathLike, data: pd.DataFrame | None = None) -> Population:
    """Read a population written by :func:`save` (see :meth:`Population.from_netcdf`)."""
    import arviz as az

    from skillinfer_bayes.population import Population
    from skillinfer_bayes.priors import Prior

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No saved posterior at {str(path)!r}.")
    try:
        idata = az.from_netcdf(str(path), engine="h5netcdf")
        idata.load()
    except Exception as err:  # the file is not NetCDF/HDF5, or it is truncated
        raise PosteriorFileError(
            f"Cannot read {str(path)!r} as a saved posterior ({type(err).__name__}: {err}); "
            "it is corrupted or not a file written by Population.to_netcdf. Refit and save "
            "it again."
        ) from None
    attrs = idata.attrs
    fmt = attrs.get("skillinfer_bayes_format")
    if fmt is None or "constant_data" not in idata.groups():
        raise PosteriorFileError(
            f"{str(path)!r} is an InferenceData file but not one written by "
            "Population.to_netcdf (no skillinfer_bayes_format attribute / constant_data)."
        )
    if int(fmt) != FORMAT_VERSION:
        raise PosteriorFileError(
            f"{str(path)!r} has file format {int(fmt)} (written by skillinfer-bayes "
            f"{attrs.get('skillinfer_bayes_version', '?')}); this is skillinfer-bayes "
            f"{__version__}, which reads format {FORMAT_VERSION}. Refit with this version."
        )
    const = idata["constant_data"]
    names = [str(b) for b in const["benchmark"].values]
    index = pd.Index(const["entity_name"].values.astype(str),
                     name=attrs.get("entity_index_name") or None)
    matrix = pd.DataFrame(const["scores"].values.astype(float), index=index, columns=names)
    matrix.columns.name = None
    groups = None
    if "entity_group" in const:
        groups = pd.Series(const["entity_group"].values.astype(str), index=index, name="group")
    scaling = None
    if "scaling_min" in const:
        scaling = pd.DataFrame(
            {"min": const["scaling_min"].values, "range": const["scaling_range"].values},
            index=names,
        )
    stored = attrs.get("data_hash")
    if stored != data_hash(matrix, groups, scaling):
        raise PosteriorFileError(
            f"{str(path)!r} is corrupted: its data do not match the hash recorded when it was "
            "saved. Refit and save it again."
        )
    if data is not None:
        _check_same_data(path, stored, data, groups, scaling)
    prior = Prior.from_dict(json.loads(attrs["prior"]))
    del idata["constant_data"]
    return Population(matrix, idata, prior, scaling=scaling, groups=groups)


def _check_same_data(path: Path, stored: str, data: pd.DataFrame, groups, scaling) -> None:
    from skillinfer_bayes.validation import validate_scores

    matrix = validate_scores(data)
    if scaling is not None:
        lo, hi = matrix.min(), matrix.max()
        matrix = (matrix - lo) / (hi - lo)
    if data_hash(matrix, groups, scaling) != stored:
        raise PosteriorFileError(
            f"{str(path)!r} was fitted to different data than the table given (the data "
            "hashes differ): refit on this table, or load the file without data=."
        )


def cache_dir() -> Path:
    """The fit cache folder: ``$SKILLINFER_BAYES_CACHE`` or ``~/.cache/skillinfer_bayes``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "skillinfer_bayes"


def cache_key(matrix: pd.DataFrame, groups: pd.Series | None, scaling, settings: dict) -> str:
    """Content address of a fit: the data hash and every setting that changes the draws."""
    payload = json.dumps(
        {"data": data_hash(matrix, groups, scaling), "version": __version__,
         "format": FORMAT_VERSION, **settings},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
