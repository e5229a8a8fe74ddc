"""Sampler diagnostics: r_hat, bulk/tail ESS and divergences, with warnings that say what to do."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from skillinfer_bayes.models.mvn import CHOL_VAR, MEAN_VAR

#: Thresholds of the standing checks (Vehtari et al. 2021).
MAX_RHAT = 1.01
MIN_ESS_PER_CHAIN = 100
#: Lowest acceptable Bayesian fraction of missing information (Betancourt 2016).
MIN_BFMI = 0.3


class SamplerWarning(UserWarning):
    """The sampler's output does not pass the convergence checks."""


def free_parameters(posterior: xr.Dataset) -> xr.Dataset:
    """The parameters whose convergence is checked: means, sds and off-diagonal correlations.

    The diagonal of the correlation matrix is constant (1) and is left out.
    """
    corr = posterior[f"{CHOL_VAR}_corr"]
    names = list(corr["benchmark"].values)
    i, j = np.triu_indices(len(names), k=1)
    pairs = [f"{names[a]} ~ {names[b]}" for a, b in zip(i, j)]
    corr_pairs = xr.DataArray(
        corr.values[:, :, i, j],
        dims=("chain", "draw", "pair"),
        coords={"chain": corr["chain"], "draw": corr["draw"], "pair": pairs},
    )
    return xr.Dataset(
        {
            "mu": posterior[MEAN_VAR],
            "sigma": posterior[f"{CHOL_VAR}_stds"],
            "corr": corr_pairs,
        }
    )


def diagnostics_table(idata: az.InferenceData) -> pd.DataFrame:
    """One row per parameter: r_hat, ess_bulk, ess_tail (standardized-scale parameters)."""
    params = free_parameters(idata["posterior"])
    rhat = az.rhat(params)
    ess_bulk = az.ess(params, method="bulk")
    ess_tail = az.ess(params, method="tail")
    rows = []
    for var in params.data_vars:
        dim = [d for d in params[var].dims if d not in ("chain", "draw")][0]
        for label, r, b, t in zip(
            params[var][dim].values,
            np.atleast_1d(rhat[var].values),
            np.atleast_1d(ess_bulk[var].values),
            np.atleast_1d(ess_tail[var].values),
        ):
            rows.append(
                {"parameter": f"{var}[{label}]", "r_hat": r, "ess_bulk": b, "ess_tail": t}
            )
    return pd.DataFrame(rows).set_index("parameter")


def summarize(idata: az.InferenceData) -> dict:
    """Headline diagnostics: chains, draws, divergences, max r_hat, min bulk/tail ESS, the
    lowest per-chain BFMI and the draws whose trajectory hit the maximum tree depth (NaN /
    0 where the sampler did not record what they need)."""
    table = diagnostics_table(idata)
    posterior = idata["posterior"]
    stats = idata["sample_stats"]
    bfmi = np.nan
    if "energy" in stats and stats.sizes.get("draw", 0) > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            bfmi = float(np.min(az.bfmi(stats["energy"].values)))
    return {
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


def problems(summary: dict) -> list[str]:
    """Human-readable descriptions of failed checks, each with what to do about it."""
    found = []
    if summary["divergences"] > 0:
        found.append(
            f"{summary['divergences']} divergent transitions: the posterior may be biased. "
            "Raise target_accept (e.g. 0.95) or tune, or revisit the prior."
        )
    if summary["chains"] > 1 and not summary["max_r_hat"] <= MAX_RHAT:
        found.append(
            f"max r_hat = {summary['max_r_hat']:.3f} > {MAX_RHAT}: the chains disagree. "
            "Run more tune and draws."
        )
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
