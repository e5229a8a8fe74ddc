"""Saved posteriors: NetCDF files that hold everything a Profile needs, and a fit cache.

A saved population is an ArviZ InferenceData file (``posterior``, ``sample_stats``) with a
``constant_data`` group holding the fitted score matrix (entity names, benchmark names, group
labels) and, with ``normalize=True``, the min-max scaling. Its attributes hold the prior, the fit
settings, the library version, the file-format version and two SHA-256 hashes, both checked on
load:

- ``data_hash``: the scores, their labels, the groups and the scaling;
- ``content_hash``: every variable of the file (values, dims, coordinates) and every
  attribute, so edited draws or an edited prior are caught, not predicted from.

Loading also checks that every draw is finite. Whatever is wrong with a file (unreadable,
truncated, edited, another format version, fitted to other data than the caller's), loading
raises :class:`PosteriorFileError` with a message that says what to do; never a raw
KeyError or JSONDecodeError.

The fit cache stores such files under a content address: the hash of the data, of every
setting that changes the posterior, of the versions of the libraries that compute it and of
the source of the modules that define the model. Fitting the same data with the same settings
and seed twice loads the first posterior instead of sampling; a cache entry that fails any
check is treated as a miss (refitted and overwritten).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from skillinfer_bayes._version import __version__
from skillinfer_bayes.data.prepared import PreparedData, data_hash, prepare  # noqa: F401
from skillinfer_bayes.data.transforms import transform_from_dict
from skillinfer_bayes.inference.diagnostics import non_finite_draws
from skillinfer_bayes.inference.inference_data import (
    InferenceData,
    drop_groups,
    from_datasets,
    group_names,
    read_netcdf,
    write_netcdf,
)
from skillinfer_bayes.inference.locations import CACHE_ENV, cache_dir, expand  # noqa: F401 (re-exported)
from skillinfer_bayes.models.priors import Prior

#: Version of the file layout; files of another format version are refused.
FORMAT_VERSION = 2


#: Modules whose source defines the posterior of a fit (part of the cache key).
MODEL_MODULES = ("models.mvn", "models.factor", "models.masked", "models.principal",
                 "models.mixture", "models.correlation", "models.logsumexp",
                 "inference.sampling", "inference.warmup", "inference.relabel",
                 "data.sufficient_stats", "models.priors", "data.prepared", "data.transforms",
                 "inference.fitting", "data.checks")
#: Libraries whose versions change the draws of a fit (part of the cache key).
SAMPLING_LIBRARIES = ("numpy", "pymc", "pytensor", "numpyro", "jax", "jaxlib", "nutpie")


#: The groups of a saved population, all covered by its content hash.
HASHED_GROUPS = ("posterior", "sample_stats", "constant_data")


class PosteriorFileError(ValueError):
    """A saved posterior cannot be used: unreadable, corrupted, edited, of another format
    version, or made from other data."""


class CacheWarning(UserWarning):
    """The fit cache could not be used (an entry was broken and is refitted, or a write
    failed); the fit itself is unaffected."""




def content_hash(idata) -> str:
    """SHA-256 of every variable of the saved groups and of all attributes.

    Covers each variable's name, dims, shape, dtype, values and coordinates in the
    ``posterior``, ``sample_stats`` and ``constant_data`` groups, the groups' attributes and
    the file's top-level attributes (except ``content_hash`` itself).
    """
    h = hashlib.sha256()
    for group in HASHED_GROUPS:
        dataset = idata[group]
        h.update(f"[{group}]".encode())
        for name in sorted(dataset.data_vars):
            da = dataset[name]
            values = np.ascontiguousarray(da.values)
            h.update(json.dumps([str(name), list(map(str, da.dims)), list(values.shape),
                                 values.dtype.str]).encode())
            h.update(values.tobytes())
        for name in sorted(dataset.coords):
            h.update(json.dumps([str(name), [str(v) for v in dataset[name].values]]).encode())
        h.update(_attrs_json(dataset.attrs).encode())
    h.update(_attrs_json({k: v for k, v in idata.attrs.items() if k != "content_hash"}).encode())
    return h.hexdigest()


def _attrs_json(attrs: dict) -> str:
    def plain(value):
        if isinstance(value, np.ndarray):
            return [plain(v) for v in value.tolist()]
        if isinstance(value, (np.integer, np.floating)):
            return value.item()
        return value

    return json.dumps({str(k): plain(v) for k, v in attrs.items()}, sort_keys=True, default=str)


@dataclass(frozen=True)
class SavedFit:
    """What a saved file holds: the prepared data, the posterior and the prior."""

    data: PreparedData
    idata: InferenceData
    prior: Prior


def save(path: str | os.PathLike, data: PreparedData, idata: InferenceData) -> Path:
    """Write a fit of ``data`` (its ``idata``) to ``path`` (see :meth:`Population.to_netcdf`).

    Only the ``posterior`` and ``sample_stats`` groups are saved (derived groups such as
    ``log_likelihood`` are recomputed after loading); ``idata`` is not modified.
    """
    path = expand(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder: give a file name, e.g. "
                                f"{str(path / 'posterior.nc')!r}.")
    matrix = data.matrix
    constant = {
        "scores": (("entity", "benchmark"), matrix.to_numpy(dtype=float)),
        "entity_name": (("entity",), np.asarray([str(e) for e in matrix.index], dtype=str)),
    }
    if data.groups is not None:
        constant["entity_group"] = (("entity",), np.asarray(data.groups.to_numpy(), dtype=str))
    if data.scaling is not None:
        constant["scaling_min"] = (("benchmark",), data.scaling["min"].to_numpy(dtype=float))
        constant["scaling_range"] = (("benchmark",), data.scaling["range"].to_numpy(dtype=float))
    coords = {"entity": np.arange(len(matrix)), "benchmark": data.benchmarks}
    if data.covariates is not None:
        constant["covariates"] = (("entity", "covariate"),
                                  data.covariates.to_numpy(dtype=float))
        coords["covariate"] = data.covariate_names
    dataset = xr.Dataset(constant, coords=coords)
    saved = from_datasets(attrs=dict(idata.attrs), posterior=idata["posterior"],
                          sample_stats=idata["sample_stats"], constant_data=dataset)
    saved.attrs.update({
        "skillinfer_bayes_version": idata.attrs.get("skillinfer_bayes_version", __version__),
        "skillinfer_bayes_format": FORMAT_VERSION,
        "data_hash": data.data_hash(),
        "entity_index_name": "" if matrix.index.name is None else str(matrix.index.name),
        "entity_index_kind": "int" if pd.api.types.is_integer_dtype(matrix.index) else "str",
    })
    if data.transformed:
        saved.attrs["transforms"] = json.dumps(data.transform_specs())
    idata = saved
    idata.attrs["content_hash"] = content_hash(idata)
    path.parent.mkdir(parents=True, exist_ok=True)
    # unique per process and thread: concurrent writers never share a temporary file
    tmp = path.with_name(
        f".{path.name}.{os.getpid()}.{threading.get_ident()}.{uuid.uuid4().hex[:8]}.tmp"
    )
    try:
        write_netcdf(idata, tmp)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load(
    path: str | os.PathLike,
    data: pd.DataFrame | None = None,
    expected_data_hash: str | None = None,
) -> SavedFit:
    """Read a fit written by :func:`save` (see :meth:`Population.from_netcdf`), checked.

    ``data`` (a user's table) or ``expected_data_hash`` (the fit cache's) refuse a file
    fitted to other data.
    """
    path = expand(path)
    if not path.exists():
        raise FileNotFoundError(f"No saved posterior at {str(path)!r}.")
    try:
        saved = _read(path)
    except PosteriorFileError:
        raise
    except Exception as err:  # noqa: BLE001 - whatever a broken file raises, say it clearly
        raise PosteriorFileError(
            f"{str(path)!r} is not a usable saved posterior ({type(err).__name__}: {err}); it "
            "is corrupted or was not written by Population.to_netcdf. Refit and save it again."
        ) from None
    if expected_data_hash is not None and saved.data.data_hash() != expected_data_hash:
        raise PosteriorFileError(f"{str(path)!r} was fitted to other data than expected.")
    if data is not None:
        check_same_data(path, saved.data, data)
    return saved


def _read(path: Path) -> SavedFit:
    try:
        idata = read_netcdf(path)
    except Exception as err:  # noqa: BLE001 - not NetCDF/HDF5, or truncated
        raise PosteriorFileError(
            f"Cannot read {str(path)!r} as a saved posterior ({type(err).__name__}: {err}); "
            "it is corrupted or not a file written by Population.to_netcdf. Refit and save "
            "it again."
        ) from None
    attrs = idata.attrs
    fmt = attrs.get("skillinfer_bayes_format")
    groups_present = set(group_names(idata))
    if fmt is None or not {"constant_data", "posterior", "sample_stats"} <= groups_present:
        raise PosteriorFileError(
            f"{str(path)!r} is an InferenceData file but not one written by "
            "Population.to_netcdf (no skillinfer_bayes_format attribute / constant_data)."
        )
    if str(fmt) != str(FORMAT_VERSION):
        raise PosteriorFileError(
            f"{str(path)!r} has file format {fmt} (written by skillinfer-bayes "
            f"{attrs.get('skillinfer_bayes_version', '?')}); this is skillinfer-bayes "
            f"{__version__}, which reads format {FORMAT_VERSION}. Refit with this version."
        )
    const = idata["constant_data"]
    names = [str(b) for b in const["benchmark"].values]
    index = pd.Index(const["entity_name"].values.astype(str),
                     name=attrs.get("entity_index_name") or None)
    if attrs.get("entity_index_kind") == "int":
        index = index.astype(np.int64)
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
    transforms = None
    if "transforms" in attrs:
        try:
            transforms = [transform_from_dict(spec) for spec in json.loads(attrs["transforms"])]
        except (ValueError, KeyError, TypeError) as err:
            raise PosteriorFileError(
                f"{str(path)!r} holds transforms this version cannot rebuild ({err}). Refit "
                "with this version."
            ) from None
    covariates = None
    if "covariates" in const:
        covariates = pd.DataFrame(const["covariates"].values.astype(float), index=index,
                                  columns=[str(c) for c in const["covariate"].values])
    width = len(names) + (0 if covariates is None else covariates.shape[1])
    if transforms is not None and len(transforms) != width:
        raise PosteriorFileError(
            f"{str(path)!r} holds {len(transforms)} transforms for {width} latent "
            "dimensions: it is corrupted. Refit and save it again."
        )
    stored = attrs.get("data_hash")
    if stored != data_hash(matrix, groups, scaling, transforms, covariates):
        raise PosteriorFileError(
            f"{str(path)!r} is corrupted: its data do not match the hash recorded when it was "
            "saved. Refit and save it again."
        )
    if attrs.get("content_hash") != content_hash(idata):
        raise PosteriorFileError(
            f"{str(path)!r} is corrupted or was edited: its draws or attributes do not match "
            "the checksum recorded when it was saved. Refit and save it again."
        )
    saved_prior = json.loads(attrs["prior"])
    # fits saved before the mixtures' covariance floor had none
    saved_prior.setdefault("component_floor", 0.0)
    prior = Prior.from_dict(saved_prior)
    # only what the checksums cover is used: any other group in the file is dropped
    drop_groups(idata, keep=("posterior", "sample_stats"))
    needed = {"mu", "Sigma", "mu_std", "chol_stds", "chol_corr"}
    if groups is not None:
        needed |= {"group_mu", "group_sd"}
    missing = sorted(needed - set(idata["posterior"].data_vars))
    if missing or "diverging" not in idata["sample_stats"]:
        raise PosteriorFileError(
            f"{str(path)!r} lacks posterior variable(s) {missing or ['diverging']}: it was not "
            "written by Population.to_netcdf. Refit and save it again."
        )
    problem = non_finite_draws(idata)
    if problem:
        raise PosteriorFileError(f"{str(path)!r} cannot be used: {problem}")
    return SavedFit(PreparedData.from_fitted(matrix, scaling, groups, transforms, covariates),
                    idata, prior)


def check_same_data(path: str | os.PathLike, fitted: PreparedData, df: pd.DataFrame) -> None:
    """Raise :class:`PosteriorFileError` unless ``fitted`` (the data of the file at ``path``)
    is ``df`` (the table as passed to :meth:`Population.from_dataframe`, without a groups
    column), prepared the same way."""
    # the fitted transforms are compared as saved; the table is only scaled and validated (no
    # transform is estimated, so a fit's own choices, e.g. transform=None, cannot differ)
    fresh = prepare(df, normalize=fitted.normalized, transform=None, bounds=None,
                    covariates=fitted.covariate_names or None)
    if data_hash(fresh.matrix, fitted.groups, fresh.scaling, fitted.transforms,
                 fresh.covariates) != fitted.data_hash():
        raise PosteriorFileError(
            f"{str(path)!r} was fitted to different data than the table given (the data "
            "hashes differ): refit on this table, or load the file without data=."
        )


_MODEL_FINGERPRINT: list[str] = []


def model_fingerprint() -> str:
    """SHA-256 of the source of the model-defining modules and of the sampling libraries'
    versions: a fit cached by other model code (an edited editable install) or other
    libraries is not served.

    Examples
    --------
    >>> len(model_fingerprint())
    64
    """
    if not _MODEL_FINGERPRINT:
        h = hashlib.sha256()
        for module in MODEL_MODULES:
            h.update(module.encode())
            h.update(_source(f"skillinfer_bayes.{module}"))
        for library in SAMPLING_LIBRARIES:
            try:
                version = importlib.metadata.version(library)
            except importlib.metadata.PackageNotFoundError:
                version = "absent"
            h.update(f"{library}=={version}".encode())
        _MODEL_FINGERPRINT.append(h.hexdigest())
    return _MODEL_FINGERPRINT[0]


def _source(module: str) -> bytes:
    """The source of ``module`` (its version where the source cannot be read)."""
    try:
        spec = importlib.util.find_spec(module)
        return Path(spec.origin).read_bytes()
    except (OSError, TypeError, AttributeError, ImportError):
        return __version__.encode()


def cache_key(data: PreparedData, settings: dict) -> str:
    """Content address of a fit: the data hash (scores, groups, scaling, transforms), every
    setting that changes the draws and the :func:`model_fingerprint`."""
    payload = json.dumps(
        {"data": data.data_hash(), "version": __version__,
         "format": FORMAT_VERSION, "model": model_fingerprint(), **settings},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
