"""The one module that builds, reads and writes ArviZ InferenceData.

Every other module goes through these few functions, so the move to ArviZ 1.x (where
InferenceData becomes an xarray DataTree) and PyMC 6 is a change of this module alone. Groups
are always read as ``idata[name]`` (which both APIs support).

Examples
--------
>>> import numpy as np
>>> idata = from_dict(posterior={"mu": np.zeros((2, 5))}, attrs={"note": "x"})
>>> group_names(idata), idata["posterior"]["mu"].shape
(['posterior'], (2, 5))
>>> with_group(idata, "constant_data", xr.Dataset({"k": 3})).attrs["note"]
'x'
>>> group_names(drop_groups(idata, keep=()))
[]
"""

from __future__ import annotations

import os

import arviz as az
import xarray as xr

#: ArviZ's type for a posterior with its groups (a DataTree in ArviZ 1.x).
InferenceData = az.InferenceData


def from_dict(**groups_and_options) -> InferenceData:
    """InferenceData from arrays: ``posterior=``, ``sample_stats=``, ``prior=``, ...,
    ``coords=``, ``dims=``, ``attrs=`` as :func:`arviz.from_dict` takes them."""
    return az.from_dict(**groups_and_options)


def from_datasets(attrs: dict | None = None, **groups: xr.Dataset) -> InferenceData:
    """InferenceData from xarray Datasets, one per group."""
    idata = az.InferenceData(**groups)
    if attrs:
        idata.attrs.update(attrs)
    return idata


def group_names(idata: InferenceData) -> list[str]:
    """The groups ``idata`` holds."""
    return list(idata.groups())


def with_group(idata: InferenceData, name: str, dataset: xr.Dataset) -> InferenceData:
    """``idata`` with group ``name`` set to ``dataset`` (added or replaced, in place)."""
    if name in group_names(idata):
        del idata[name]  # (item assignment would list the group twice in ArviZ 0.23)
    idata.add_groups({name: dataset})
    return idata


def drop_groups(idata: InferenceData, keep: tuple[str, ...]) -> InferenceData:
    """``idata`` without the groups not in ``keep`` (in place)."""
    for name in group_names(idata):
        if name not in keep:
            del idata[name]
    return idata


def read_netcdf(path: str | os.PathLike) -> InferenceData:
    """Read an InferenceData NetCDF file fully into memory (the file is closed after)."""
    idata = az.from_netcdf(os.fspath(path), engine="h5netcdf")
    idata.load()
    return idata


def write_netcdf(idata: InferenceData, path: str | os.PathLike) -> None:
    """Write ``idata`` to a NetCDF file (HDF5)."""
    idata.to_netcdf(os.fspath(path), engine="h5netcdf")
