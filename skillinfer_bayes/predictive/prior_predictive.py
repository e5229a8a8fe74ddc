"""Prior predictive checks: what a Prior implies for the parameters and for simulated scores."""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from skillinfer_bayes.data.checks import check_positive_int
from skillinfer_bayes.data.prepared import score_values
from skillinfer_bayes.inference.inference_data import InferenceData, from_dict, with_group
from skillinfer_bayes.models.factor import build_factor_model
from skillinfer_bayes.models.masked import masked_rows
from skillinfer_bayes.models.mixture import WEIGHTS_VAR, component_floor
from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
from skillinfer_bayes.models.mvn import CHOL_VAR, GROUP_SD_VAR, MEAN_VAR, population_priors
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.predictive.types import PopulationLike


def draw_prior(
    prior: Prior, K: int, draws: int, random_seed: int | None = None, groups: bool = False,
    n_factors: int | None = None,
) -> dict[str, np.ndarray]:
    """Draws of the standardized-scale parameters from ``prior`` (``pymc.draw``): of the LKJ
    model, or with ``n_factors`` of the factor model
    (:func:`~skillinfer_bayes.models.factor.build_factor_model`).

    Returns
    -------
    dict
        ``mu_std`` (draws, K), ``chol_stds`` (draws, K), ``chol_corr`` (draws, K, K) and, with
        ``groups``, ``group_tau`` (draws, K).

    Examples
    --------
    >>> out = draw_prior(Prior(eta=2.0), K=3, draws=4, random_seed=0)
    >>> out["chol_corr"].shape
    (4, 3, 3)
    """
    names = [f"b{k}" for k in range(K)]
    if n_factors is not None:
        model = build_factor_model(masked_rows(np.zeros((1, K))), names, prior, n_factors)
    else:
        model, _, _ = population_priors(names, prior)
    with model:
        if groups:
            pm.HalfNormal(GROUP_SD_VAR, sigma=prior.group_scale, dims="benchmark")
    keys = [MEAN_VAR, f"{CHOL_VAR}_stds", f"{CHOL_VAR}_corr"] + ([GROUP_SD_VAR] if groups else [])
    values = pm.draw([model[k] for k in keys], draws=draws, random_seed=random_seed)
    return {k: np.asarray(v) for k, v in zip(keys, values)}


def sample_prior_predictive(
    pop: PopulationLike,
    draws: int = 500,
    n_entities: int = 100,
    random_seed: int | None = None,
    prior: Prior | None = None,
) -> InferenceData:
    """See :meth:`Population.sample_prior_predictive`. Simulated on the latent scale (the
    benchmarks and covariates) and mapped back through each column's transform; ``mu`` and
    ``sigma`` are on the latent scale."""
    check_positive_int("draws", draws)
    check_positive_int("n_entities", n_entities)
    names = list(pop.latent_names)
    K = len(names)
    grouped = pop.groups is not None
    rng = np.random.default_rng(random_seed)
    prior_choice = pop.prior if prior is None else prior
    C = pop.n_components
    # a mixture: C independent components per draw (the ordering of the labels does not
    # change the predictive), weights from the Dirichlet, each entity in one component
    params = draw_prior(prior_choice, K, draws * C, int(rng.integers(2**31 - 1)), grouped,
                        n_factors=pop.n_factors)
    center = pop.standardization["center"].to_numpy()
    scale = pop.standardization["scale"].to_numpy()
    sd = params[f"{CHOL_VAR}_stds"]
    corr = params[f"{CHOL_VAR}_corr"]
    covariance = corr * sd[:, :, None] * sd[:, None, :]  # (draws C, K, K)
    floor = None if C == 1 else component_floor(rows_by_pattern(pop.data.standardized()), K,
                                                prior_choice.component_floor)
    if floor is not None:  # the mixture's components, as the model has them
        covariance = covariance + np.diag(floor**2)
        sd = np.sqrt(np.diagonal(covariance, axis1=1, axis2=2))
        corr = covariance / (sd[:, :, None] * sd[:, None, :])
    L = np.linalg.cholesky(covariance)
    which = np.zeros((draws, n_entities), dtype=int)
    if C > 1:
        weights = rng.dirichlet(np.full(C, prior_choice.weight_concentration), size=draws)
        which = (rng.random((draws, n_entities, 1)) > np.cumsum(weights, axis=1)[:, None, :]
                 ).sum(axis=2).clip(max=C - 1)
    component = np.arange(draws)[:, None] * C + which  # (draws, n_entities)
    z = rng.standard_normal((draws, n_entities, K))
    y_std = params[MEAN_VAR][component] + np.einsum("snij,snj->sni", L[component], z)
    if grouped:  # every simulated entity belongs to a new group
        y_std = y_std + params[GROUP_SD_VAR][:, None, :] * rng.standard_normal(y_std.shape)
    prior_draws = {
        "mu": center + scale * params[MEAN_VAR],
        "sigma": scale * sd,
        "corr": corr,
    }
    if grouped:
        prior_draws["group_sd"] = scale * params[GROUP_SD_VAR]
    dims = {
        "mu": ["benchmark"],
        "sigma": ["benchmark"],
        "group_sd": ["benchmark"],
        "corr": ["benchmark", "benchmark_bis"],
        "scores": ["entity", "benchmark"],
    }
    if C > 1:  # one of each per component
        prior_draws = {k: v.reshape(draws, C, *v.shape[1:]) for k, v in prior_draws.items()}
        prior_draws[WEIGHTS_VAR] = weights
        dims = {k: v if k == "scores" else ["component", *v] for k, v in dims.items()}
        dims[WEIGHTS_VAR] = ["component"]
    idata = from_dict(
        prior={k: v[None] for k, v in prior_draws.items()},
        prior_predictive={"scores": score_values(center + scale * y_std,
                                                pop.data.transforms)[None]},
        coords={
            "benchmark": names,
            "benchmark_bis": names,
            "entity": np.arange(n_entities),
            **({"component": np.arange(C)} if C > 1 else {}),
        },
        dims=dims,
        attrs={"prior": repr(prior_choice)},
    )
    observed = xr.Dataset(
        {"scores": (("observed_entity", "benchmark"), pop.data.raw_values())},
        coords={"observed_entity": np.arange(len(pop.matrix)), "benchmark": names},
    )
    return with_group(idata, "observed_data", observed)


class PriorPredictiveChecks:
    """A fitted population's prior predictive check (mixed into ``Population``)."""

    def sample_prior_predictive(
        self,
        draws: int = 500,
        n_entities: int = 100,
        random_seed: int | None = None,
        prior: Prior | None = None,
    ) -> InferenceData:
        """Draw from the prior and simulate populations from it, on the data's scale.

        The prior refers to standardized scores; the draws are mapped back with this
        population's own centre and scale, so they can be compared with its data.

        Parameters
        ----------
        draws : int, default 500
            Prior draws.
        n_entities : int, default 100
            Entities simulated per draw.
        random_seed : int, optional
            Seed.
        prior : Prior, optional
            Another prior to check on this data (default: the one the population was fitted
            under); no refit is needed.

        Returns
        -------
        arviz.InferenceData
            ``prior`` (``mu``, ``sigma``, ``corr`` and, with groups, ``group_sd``; a
            mixture's per component, with ``component_weights``) and
            ``prior_predictive`` (``scores``: ``(chain, draw, entity, benchmark)``; with groups
            each simulated entity belongs to a new group) and ``observed_data`` (``scores``).

        Examples
        --------
        >>> prior = pop.sample_prior_predictive(draws=200, random_seed=0)
        >>> fig = sib.plot_prior_predictive(prior, pop)
        """
        if prior is not None and not isinstance(prior, Prior):
            raise TypeError(f"prior must be a skillinfer_bayes.Prior, got {type(prior).__name__}.")
        return sample_prior_predictive(self, draws, n_entities, random_seed, prior)
