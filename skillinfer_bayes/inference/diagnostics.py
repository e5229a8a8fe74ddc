"""Sampler diagnostics: r_hat, bulk/tail ESS and divergences, with warnings that say what to do.

A mixture's component labels are not what its convergence is judged on: its headline r_hat
and ESS are those of label-invariant quantities (:func:`label_invariant`): the population's
mean, sds and correlations (the mixture's moments), the weights sorted by size and the log
density. The fit relabels the components after sampling
(:mod:`~skillinfer_bayes.inference.relabel`; ``label_switched_fraction``, the draws whose
labels it changed), and the component-labelled parameters get their own r_hat
(``max_r_hat_components``): when only it fails, the chains agree on the population and
predictions stay sound, but component summaries are uncertain: a component's own
parameters mix slowly (no draw relabelled), or the labels could not be matched to the same
clusters in every draw (clusters that overlap).
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from skillinfer_bayes.models.mixture import WEIGHTS_VAR, mixture_moments
from skillinfer_bayes.models.mvn import CHOL_VAR, MEAN_VAR

#: Thresholds of the standing checks (Vehtari et al. 2021).
MAX_RHAT = 1.01
MIN_ESS_PER_CHAIN = 100
#: Lowest acceptable Bayesian fraction of missing information (Betancourt 2016).
MIN_BFMI = 0.3


class SamplerWarning(UserWarning):
    """The sampler's output does not pass the convergence checks."""


def is_mixture(posterior: xr.Dataset) -> bool:
    """Whether the posterior is a mixture's (it has a ``component`` dim)."""
    return "component" in posterior.dims


def _corr_pairs(corr: xr.DataArray) -> xr.DataArray:
    """The off-diagonal correlations (the diagonal is constant), one ``pair`` each."""
    names = list(corr["benchmark"].values)
    i, j = np.triu_indices(len(names), k=1)
    pairs = [f"{names[a]} ~ {names[b]}" for a, b in zip(i, j)]
    return xr.DataArray(
        corr.values[..., i, j],
        dims=(*corr.dims[:-2], "pair"),
        coords={**{d: corr[d] for d in corr.dims[:-2]}, "pair": pairs},
    )


def free_parameters(posterior: xr.Dataset) -> xr.Dataset:
    """The parameters whose convergence is checked: means, sds and off-diagonal correlations
    (standardized scale). A mixture's are its component-labelled ones, with a ``component``
    dim, and its ``weight``.

    The diagonal of the correlation matrix is constant (1) and is left out.
    """
    params = {
        "mu": posterior[MEAN_VAR],
        "sigma": posterior[f"{CHOL_VAR}_stds"],
        "corr": _corr_pairs(posterior[f"{CHOL_VAR}_corr"]),
    }
    if is_mixture(posterior):
        params = {"weight": posterior[WEIGHTS_VAR], **params}
    return xr.Dataset(params)


def label_invariant(idata: az.InferenceData) -> xr.Dataset:
    """A mixture's quantities that do not depend on how its components are labelled: the
    population's mean, sds and off-diagonal correlations (the mixture's moments, standardized
    scale), the weights sorted by size (``sorted_weight``, largest first) and the log density
    ``lp``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w = rng.dirichlet([1.0, 1.0], size=(2, 5))
    >>> posterior = xr.Dataset({
    ...     WEIGHTS_VAR: (("chain", "draw", "component"), w),
    ...     MEAN_VAR: (("chain", "draw", "component", "benchmark"), np.zeros((2, 5, 2, 2))),
    ...     f"{CHOL_VAR}_stds": (("chain", "draw", "component", "benchmark"),
    ...                          np.ones((2, 5, 2, 2))),
    ...     f"{CHOL_VAR}_corr": (("chain", "draw", "component", "benchmark", "benchmark_bis"),
    ...                          np.tile(np.eye(2), (2, 5, 2, 1, 1)))},
    ...     coords={"benchmark": ["a", "b"], "benchmark_bis": ["a", "b"]})
    >>> stats = xr.Dataset({"lp": (("chain", "draw"), np.zeros((2, 5)))})
    >>> sorted(label_invariant({"posterior": posterior, "sample_stats": stats}).data_vars)
    ['corr', 'lp', 'mu', 'sigma', 'sorted_weight']
    """
    posterior = idata["posterior"]
    weights = posterior[WEIGHTS_VAR].values
    chains, draws, C = weights.shape
    stds = posterior[f"{CHOL_VAR}_stds"].values
    K = stds.shape[-1]
    covariances = posterior[f"{CHOL_VAR}_corr"].values * stds[..., :, None] * stds[..., None, :]
    mean, cov = mixture_moments(weights.reshape(-1, C),
                                posterior[MEAN_VAR].values.reshape(-1, C, K),
                                covariances.reshape(-1, C, K, K))
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    corr = cov / (sd[:, :, None] * sd[:, None, :])
    coords = {"chain": posterior["chain"], "draw": posterior["draw"],
              "benchmark": posterior["benchmark"]}
    by_draw = ("chain", "draw")
    corr_da = xr.DataArray(corr.reshape(chains, draws, K, K),
                           dims=(*by_draw, "benchmark", "benchmark_bis"),
                           coords={**coords, "benchmark_bis": posterior["benchmark"].values})
    out = {
        "mu": xr.DataArray(mean.reshape(chains, draws, K), dims=(*by_draw, "benchmark"),
                           coords=coords),
        "sigma": xr.DataArray(sd.reshape(chains, draws, K), dims=(*by_draw, "benchmark"),
                              coords=coords),
        "corr": _corr_pairs(corr_da),
        "sorted_weight": xr.DataArray(-np.sort(-weights, axis=-1),
                                      dims=(*by_draw, "rank"),
                                      coords={"chain": coords["chain"],
                                              "draw": coords["draw"],
                                              "rank": np.arange(1, C + 1)}),
    }
    stats = idata["sample_stats"]
    if "lp" in stats:
        out["lp"] = xr.DataArray(np.asarray(stats["lp"].values, dtype=float), dims=by_draw,
                                 coords={"chain": coords["chain"], "draw": coords["draw"]})
    return xr.Dataset(out)


def _table(params: xr.Dataset) -> pd.DataFrame:
    """One row per scalar of ``params``: r_hat, ess_bulk, ess_tail."""
    rhat = az.rhat(params)
    ess_bulk = az.ess(params, method="bulk")
    ess_tail = az.ess(params, method="tail")
    rows = []
    for var in params.data_vars:
        dims = [d for d in params[var].dims if d not in ("chain", "draw")]
        labels = ([""] if not dims else
                  ["[" + ", ".join(str(v) for v in index) + "]" for index in
                   zip(*(np.asarray(a).ravel() for a in np.meshgrid(
                       *(params[var][d].values for d in dims), indexing="ij")))])
        for label, r, b, t in zip(labels, np.ravel(rhat[var].values),
                                  np.ravel(ess_bulk[var].values),
                                  np.ravel(ess_tail[var].values)):
            rows.append({"parameter": f"{var}{label}", "r_hat": r, "ess_bulk": b,
                         "ess_tail": t})
    return pd.DataFrame(rows).set_index("parameter")


def diagnostics_table(idata: az.InferenceData, components: bool = False) -> pd.DataFrame:
    """One row per parameter: r_hat, ess_bulk, ess_tail (standardized-scale parameters).

    For a mixture, the label-invariant quantities (:func:`label_invariant`); with
    ``components=True`` its component-labelled parameters instead.
    """
    posterior = idata["posterior"]
    if is_mixture(posterior) and not components:
        return _table(label_invariant(idata))
    return _table(free_parameters(posterior))


def summarize(idata: az.InferenceData) -> dict:
    """Headline diagnostics: chains, draws, divergences, max r_hat, min bulk/tail ESS, the
    lowest per-chain BFMI and the draws whose trajectory hit the maximum tree depth (NaN /
    0 where the sampler did not record what they need).

    A mixture's also has ``n_components``, ``max_r_hat_components`` (the component-labelled
    parameters) and ``worst_component_parameter`` (the one of that r_hat),
    ``chain_mean_lp`` and ``chain_lp_sd`` (each chain's mean log density and the chains'
    mean sd of it) and, after relabelling, ``label_switched_fraction``.

    A plug-in population's (``idata.attrs["plug_in"]``, ``Population.from_covariance``: one
    given mean and covariance, no sampler) has ``plug_in: True``, NaN r_hat, ESS and BFMI and
    no divergence, and :func:`problems` finds none.
    """
    posterior = idata["posterior"]
    if getattr(idata, "attrs", {}).get("plug_in"):  # a given mean and covariance: no sampler
        return {"chains": int(posterior.sizes["chain"]), "draws": int(posterior.sizes["draw"]),
                "divergences": 0, "max_r_hat": np.nan, "min_ess_bulk": np.nan,
                "min_ess_tail": np.nan, "min_bfmi": np.nan, "max_tree_depth_hits": 0,
                "plug_in": True}
    table = diagnostics_table(idata)
    stats = idata["sample_stats"]
    bfmi = np.nan
    if "energy" in stats and stats.sizes.get("draw", 0) > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            bfmi = float(np.min(az.bfmi(stats["energy"].values)))
    summary = {
        "chains": int(posterior.sizes["chain"]),
        "draws": int(posterior.sizes["draw"]),
        "divergences": int(stats["diverging"].values.sum()),
        "max_r_hat": float(table["r_hat"].max()),
        "min_ess_bulk": float(table["ess_bulk"].min()),
        "min_ess_tail": float(table["ess_tail"].min()),
        "min_bfmi": bfmi,
        "max_tree_depth_hits": (int(stats["reached_max_treedepth"].values.sum())
                                if "reached_max_treedepth" in stats else 0),
    }
    if is_mixture(posterior):
        labelled = diagnostics_table(idata, components=True)
        summary["max_r_hat_components"] = float(labelled["r_hat"].max())
        summary["worst_component_parameter"] = str(labelled["r_hat"].idxmax())
        summary["n_components"] = int(posterior.sizes["component"])
        if "lp" in stats:  # each chain's mean log density: different modes differ here
            lp = np.asarray(stats["lp"].values, dtype=float)
            summary["chain_mean_lp"] = [float(v) for v in lp.mean(axis=1)]
            summary["chain_lp_sd"] = float(np.mean(lp.std(axis=1)))
        switched = getattr(idata, "attrs", {}).get("label_switched_fraction")
        if switched is not None:
            summary["label_switched_fraction"] = float(switched)
        rows = getattr(idata, "attrs", {}).get("n_entities")
        if rows is not None:
            summary["n_entities"] = int(rows)
            summary["dimensions"] = int(posterior.sizes["benchmark"])
    return summary


def too_many_components(summary: dict) -> bool:
    """Whether a mixture has fewer rows than its components' covariances need: fewer than
    ``C (K + 1)`` entities for C components of K dimensions (a full-rank covariance of each
    needs K + 1 rows).

    Examples
    --------
    >>> too_many_components({"n_components": 8, "n_entities": 12, "dimensions": 3})
    True
    >>> too_many_components({"n_components": 2, "n_entities": 300, "dimensions": 6})
    False
    """
    if "n_components" not in summary or "n_entities" not in summary:
        return False
    return summary["n_entities"] < summary["n_components"] * (summary["dimensions"] + 1)


def problems(summary: dict) -> list[str]:
    """Human-readable descriptions of failed checks, each with what to do about it (none for
    a plug-in population, which was not sampled)."""
    if summary.get("plug_in"):
        return []
    found = []
    if summary["divergences"] > 0:
        found.append(
            f"{summary['divergences']} divergent transitions: the posterior may be biased. "
            "Raise target_accept (e.g. 0.95) or tune, or revisit the prior."
        )
    mixture = "max_r_hat_components" in summary
    if summary["chains"] > 1 and not summary["max_r_hat"] <= MAX_RHAT:
        means = summary.get("chain_mean_lp", [])
        # chains in different modes: their mean log densities differ by more than 2 sds
        if mixture and means and np.ptp(means) > 2.0 * summary["chain_lp_sd"]:
            lp = ", ".join(f"{v:.1f}" for v in summary.get("chain_mean_lp", []))
            found.append(
                f"max r_hat = {summary['max_r_hat']:.3f} > {MAX_RHAT} on the mixture's "
                f"label-invariant quantities: the chains settled in different modes (mean "
                f"log density per chain: {lp}), i.e. different clusterings of the population. "
                f"Fit fewer than {summary['n_components']} components, or run more tune and "
                "draws."
            )
        elif mixture and too_many_components(summary):
            C, N, K = summary["n_components"], summary["n_entities"], summary["dimensions"]
            found.append(
                f"max r_hat = {summary['max_r_hat']:.3f} > {MAX_RHAT}: the chains disagree, "
                f"and {C} components are too many for {N} entities (each component's "
                f"covariance of {K} dimensions needs {K + 1} rows): fit at most "
                f"{max(1, N // (K + 1))} components; more draws will not help."
            )
        else:
            found.append(
                f"max r_hat = {summary['max_r_hat']:.3f} > {MAX_RHAT}: the chains disagree. "
                "Run more tune and draws."
            )
    elif summary["chains"] > 1 and mixture and not summary["max_r_hat_components"] <= MAX_RHAT:
        worst = summary.get("worst_component_parameter")
        message = (
            f"max r_hat = {summary['max_r_hat_components']:.3f} > {MAX_RHAT} on the "
            "component-labelled parameters" + (f" (worst: {worst})" if worst else "")
            + ", while the label-invariant ones converged: the chains agree on the "
            "population and predictions are unaffected, but component_weights() and "
            "component_probabilities() are less certain than they look. ")
        switched = summary.get("label_switched_fraction")
        if switched == 0:
            message += ("No draw's labels were switched: a component's own parameters mix "
                        "slowly (often a small or broad one). Run more draws for precise "
                        "component summaries.")
        else:
            message += (
                ("" if switched is None else
                 f"Relabelling changed the labels of {switched:.0%} of draws; ")
                + "the chains' labels could not be matched to the same clusters (clusters "
                f"that overlap). Fit fewer than {summary['n_components']} components for "
                "interpretable ones.")
        found.append(message)
    if summary.get("min_bfmi", np.nan) < MIN_BFMI:
        found.append(
            f"min BFMI = {summary['min_bfmi']:.2f} < {MIN_BFMI}: the momentum resampling "
            "explores the energy poorly (heavy tails or a funnel). Reparameterize, rescale "
            "the scores, or revisit the prior."
        )
    if summary.get("max_tree_depth_hits", 0) > 0:
        found.append(
            f"{summary['max_tree_depth_hits']} draws hit the maximum tree depth: trajectories "
            "were cut short, so the sampler explores slowly. Check the ESS; rescale or "
            "reparameterize."
        )
    min_ess = MIN_ESS_PER_CHAIN * summary["chains"]
    if not min(summary["min_ess_bulk"], summary["min_ess_tail"]) >= min_ess:
        found.append(
            f"min ESS (bulk {summary['min_ess_bulk']:.0f}, tail {summary['min_ess_tail']:.0f})"
            f" < {min_ess} ({MIN_ESS_PER_CHAIN} per chain): intervals are imprecise. "
            "Run more draws."
        )
    return found


def non_finite_draws(idata: az.InferenceData) -> str | None:
    """What is wrong when a posterior variable has a NaN or infinite draw (None when every
    draw is finite): such a posterior would make every prediction NaN.

    Examples
    --------
    >>> draws = np.zeros((2, 3, 2))
    >>> draws[1, 0, 1] = np.nan
    >>> non_finite_draws({"posterior": xr.Dataset({"mu": (("chain", "draw", "k"), draws)})})
    '1 posterior draw(s) of mu are not finite (NaN or inf): every prediction would be NaN. ...'
    """
    posterior = idata["posterior"]
    for name in posterior.data_vars:
        values = posterior[name]
        bad = ~np.isfinite(values.values)
        if bad.any():
            per_draw = bad.reshape(values.sizes["chain"] * values.sizes["draw"], -1)
            count = int(per_draw.any(axis=1).sum())
            return (f"{count} posterior draw(s) of {name} are not finite (NaN or inf): every "
                    "prediction would be NaN. Refit the population (rescale extreme scores "
                    "first).")
    return None


def warn_if_bad(summary: dict) -> None:
    """Emit one :class:`SamplerWarning` listing every failed check (silence if all pass)."""
    found = problems(summary)
    if found:
        warnings.warn(
            "Sampler checks failed:\n- " + "\n- ".join(found), SamplerWarning, stacklevel=3
        )
