"""Where a new entity's profile starts: its observation noise, and prior means other than the
population's (``Population.profile(noise=..., prior_mean=..., prior_entity=...)``).

Examples
--------
>>> profile_noise(0.5, np.array([1.0, 1.0, 0.0]), ["a", "b"], ["a", "b", "size"]).tolist()
[0.5, 0.5, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_noise
from skillinfer_bayes.data.prepared import latent_values
from skillinfer_bayes.predictive.description import PopulationDescription
from skillinfer_bayes.predictive.observation_checks import bounded_input, warn_about_input


def profile_noise(noise, default: np.ndarray, benchmark_names: Sequence[str],
                  latent_names: Sequence[str]) -> np.ndarray:
    """(K + P,) observation noise sds from ``Population.profile``'s ``noise``: None (the
    ``default``), one sd or one per benchmark (covariates stay exact), or ``{name: sd}``
    (a covariate may be named; others keep the default)."""
    if noise is None:
        return default
    if isinstance(noise, Mapping):  # by name: a covariate may be given noise too
        return check_noise(noise, list(latent_names), default)
    K = len(benchmark_names)
    return np.concatenate([check_noise(noise, list(benchmark_names), default[:K]),
                           default[K:]])


def starting_means(given, description: PopulationDescription,
                   validate: bool = True) -> tuple[np.ndarray, np.ndarray, dict]:
    """The prior means a profile starts from: ``given`` (K means in benchmark order, K + P
    with the covariates, or a Series by name; NaN keeps the population's) checked like
    observations (``validate``: bounds and the population's range, as
    :meth:`Profile.observe <skillinfer_bayes.predictive.profile.Profile.observe>` checks a
    score), as (indices, latent values, ``{name: score}``).

    Examples
    --------
    >>> idx, latent, means = starting_means(pd.Series({"BBH": 40.0}), pop.description)
    >>> idx.tolist(), means
    ([1], {'BBH': 40.0})
    """
    data = description.data
    names = list(data.latent_names)
    K = len(data.benchmarks)
    if isinstance(given, pd.Series):  # by benchmark name
        start = given.set_axis([str(i) for i in given.index]).reindex(names).to_numpy(
            dtype=float)
    else:
        start = np.asarray(given, dtype=float)
        if start.shape == (K,):  # the covariates keep the population's means
            start = np.concatenate([start, np.full(len(names) - K, np.nan)])
    if start.shape != (len(names),) or np.isinf(start).any():
        raise ValueError(
            f"prior_mean must hold {K} finite means on the fitted scale (NaN keeps the "
            f"population's) in the order {list(data.benchmarks)}, or be a Series by "
            f"benchmark; got {given!r}."
        )
    known = ~np.isnan(start)
    if validate:  # as an observation is checked: beyond given bounds an error, beyond
        # inferred ones the bound, with a warning; beyond the population's range a warning
        start = start.copy()
        for j in np.flatnonzero(known):
            inside = bounded_input(description, j, float(start[j]), what="prior_mean of")
            warn_about_input(description, j, float(start[j]), inside, label="prior_mean of")
            start[j] = inside
    latent = latent_values(start[None], data.transforms)[0]
    if not np.isfinite(latent[known]).all():
        bad = names[np.flatnonzero(known & ~np.isfinite(latent))[0]]
        raise ValueError(
            f"prior_mean of {bad} has no value on the latent scale of its transform "
            "(a log needs a positive value); leave it NaN to keep the population's."
        )
    idx = np.flatnonzero(known)
    return idx, latent[idx], {names[j]: float(start[j]) for j in idx}
