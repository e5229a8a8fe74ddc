"""What a fit's posterior keeps: the variables and their dims for each kind of model, their
coordinates, and the sample statistics' names (every NUTS backend returns these).

Examples
--------
>>> sorted(POSTERIOR_DIMS)
['chol_corr', 'chol_stds', 'mu_std']
"""

from __future__ import annotations

import pymc as pm

from skillinfer_bayes.models.factor import LOADINGS_VAR, SPECIFIC_SD_VAR
from skillinfer_bayes.models.mixture import WEIGHTS_VAR
from skillinfer_bayes.models.mvn import CHOL_VAR, GROUP_MEAN_VAR, GROUP_SD_VAR, MEAN_VAR

#: The backends' names of the per-draw sample statistics, mapped to the ones kept (PyMC's).
SAMPLE_STAT_NAMES = {"depth": "tree_depth", "maxdepth_reached": "reached_max_treedepth",
                     "mean_tree_accept": "acceptance_rate"}


#: Variables kept in the posterior, with their dims.
POSTERIOR_DIMS = {
    MEAN_VAR: ["benchmark"],
    f"{CHOL_VAR}_stds": ["benchmark"],
    f"{CHOL_VAR}_corr": ["benchmark", "benchmark_bis"],
}


#: Kept in addition for grouped populations.
GROUP_POSTERIOR_DIMS = {GROUP_SD_VAR: ["benchmark"], GROUP_MEAN_VAR: ["group", "benchmark"]}


#: Kept in addition for factor covariances (the predictive conditions through them).
FACTOR_POSTERIOR_DIMS = {LOADINGS_VAR: ["benchmark", "factor"], SPECIFIC_SD_VAR: ["benchmark"]}


#: Kept instead of :data:`POSTERIOR_DIMS` for mixtures: one of each per component.
MIXTURE_POSTERIOR_DIMS = {
    WEIGHTS_VAR: ["component"],
    **{name: ["component", *dims] for name, dims in POSTERIOR_DIMS.items()},
}


def posterior_dims(model: pm.Model) -> dict[str, list[str]]:
    """The variables kept in the posterior of ``model``, with their dims."""
    if "component" in model.coords:
        return dict(MIXTURE_POSTERIOR_DIMS)
    dims = dict(POSTERIOR_DIMS)
    if "group" in model.coords:
        dims.update(GROUP_POSTERIOR_DIMS)
    if "factor" in model.coords:
        dims.update(FACTOR_POSTERIOR_DIMS)
    return dims


def posterior_coords(model: pm.Model) -> dict[str, list]:
    """The coordinates of the posterior's dims (``benchmark``, ``benchmark_bis``, ``group``)."""
    coords = {"benchmark": list(model.coords["benchmark"])}
    coords["benchmark_bis"] = coords["benchmark"]
    for name in ("group", "factor", "component"):
        if name in model.coords:
            coords[name] = list(model.coords[name])
    return coords
