"""NUTS backends: run the sampler on a PyMC model and return ArviZ InferenceData.

``"numpyro"`` (the default when installed) runs numpyro's NUTS on PyMC's log-density compiled
to JAX, every chain vectorized in compiled scans, and reuses the compiled run for refits of
same-shaped data (:mod:`~skillinfer_bayes.inference.numpyro_backend`). ``"nutpie"`` and
``"pymc"`` go through ``pm.sample``. Every backend's posterior keeps the variables of
:mod:`~skillinfer_bayes.inference.posterior_variables`.

Examples
--------
>>> resolve_sampler("pymc")
'pymc'
"""

from __future__ import annotations

import importlib.util
import os

import pymc as pm

from skillinfer_bayes.inference.inference_data import InferenceData, from_dict
from skillinfer_bayes.inference.numpyro_backend import CompiledSamplers, sample_numpyro
from skillinfer_bayes.inference.posterior_variables import (
    SAMPLE_STAT_NAMES,
    posterior_coords,
    posterior_dims,
)

#: The NUTS backends (``"auto"``: the fastest installed).
SAMPLERS = ("auto", "numpyro", "nutpie", "pymc")


def resolve_sampler(sampler: str) -> str:
    """Map ``sampler`` to an installed backend ("auto" picks the fastest installed one)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"Unknown sampler {sampler!r}; choose one of {sorted(SAMPLERS)}.")
    installed = {
        "numpyro": importlib.util.find_spec("numpyro") is not None
        and importlib.util.find_spec("jax") is not None,
        "nutpie": importlib.util.find_spec("nutpie") is not None,
        "pymc": True,
    }
    if sampler == "auto":
        return next(name for name in ("numpyro", "nutpie", "pymc") if installed[name])
    if not installed[sampler]:
        extra = "numpyro jax" if sampler == "numpyro" else sampler
        raise ImportError(
            f"sampler={sampler!r} needs the {sampler} package: pip install {extra} "
            "(or use sampler='auto')."
        )
    return sampler


def sample_posterior(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    sampler: str,
    target_accept: float,
    random_seed: int | None,
    progressbar: bool,
    structure: tuple | None = None,
    compiled: CompiledSamplers | None = None,
) -> InferenceData:
    """Sample ``model`` with NUTS; the posterior holds the variables of :func:`posterior_dims`.

    ``structure`` (from :func:`skillinfer_bayes.models.mvn.structure_key`) lets the numpyro backend
    reuse the compiled sampler of an earlier model with the same graph and settings, kept in
    ``compiled`` (default
    :data:`~skillinfer_bayes.inference.numpyro_backend.COMPILED_SAMPLERS`).
    """
    backend = resolve_sampler(sampler)
    if backend == "numpyro":
        idata = sample_numpyro(
            model, draws, tune, chains, target_accept, random_seed, progressbar, structure,
            compiled,
        )
    else:
        kwargs = {"nuts_sampler": backend} if backend == "nutpie" else {
            "cores": min(chains, os.cpu_count() or 1),
            # JAX may already run threads in this process: forking it can deadlock
            "mp_ctx": "spawn",
            "compute_convergence_checks": False,
        }
        with model:
            raw = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                target_accept=target_accept,
                random_seed=random_seed,
                progressbar=progressbar,
                **kwargs,
            )
        dims = posterior_dims(model)
        idata = from_dict(
            posterior={name: raw["posterior"][name].values for name in dims},
            sample_stats={
                SAMPLE_STAT_NAMES.get(name, name): raw["sample_stats"][name].values
                for name in raw["sample_stats"].data_vars
            },
            coords=posterior_coords(model),
            dims=dims,
            attrs={"tuning_steps": tune},
        )
    idata["posterior"].attrs["sampler"] = backend
    return idata


