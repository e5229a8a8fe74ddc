"""Figures: calibration of held-out predictions, evaluation curves, prior predictive checks,
prior comparisons and SBC ranks (matplotlib, imported when a figure is drawn)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import arviz as az
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from skillinfer_bayes.population import Population


def plot_prior_predictive(prior: az.InferenceData, pop: Population | None = None):
    """Prior-implied correlations and score ranges, against the data (and the posterior).

    Left: the distribution of every pairwise correlation under the prior (all pairs pooled;
    LKJ(eta) gives each the same marginal), with the posterior means of ``pop``'s correlations
    as ticks. Right: per benchmark, the central 50% / 90% interval of the simulated scores
    against the observed [min, max] of the data.

    Parameters
    ----------
    prior : arviz.InferenceData
        From :meth:`Population.sample_prior_predictive`.
    pop : Population, optional
        Adds the posterior correlations (its ``observed_data`` gives the data ranges).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = sib.plot_prior_predictive(pop.sample_prior_predictive(), pop)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    corr = prior["prior"]["corr"].values
    K = corr.shape[-1]
    i, j = np.triu_indices(K, k=1)
    pairs = corr.reshape(-1, K, K)[:, i, j].ravel()
    scores = prior["prior_predictive"]["scores"]
    names = list(scores["benchmark"].values)
    sims = scores.values.reshape(-1, K)
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_c.hist(pairs, bins=40, range=(-1, 1), density=True, color="C0", alpha=0.7,
              label="prior (all pairs)")
    if pop is not None:
        post = pop.correlation.to_numpy()[i, j]
        ax_c.plot(post, np.zeros_like(post), "|", color="C3", ms=25, mew=2,
                  label="posterior means")
    ax_c.set(xlabel="correlation", ylabel="density", title="Prior-implied correlations",
             xlim=(-1, 1))
    ax_c.legend(loc="upper left")
    x = np.arange(K)
    q = np.quantile(sims, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ax_s.vlines(x, q[0], q[4], color="C0", lw=2, label="prior predictive 90%")
    ax_s.vlines(x, q[1], q[3], color="C0", lw=6, label="prior predictive 50%")
    if "observed_data" in prior.groups():
        observed = prior["observed_data"]["scores"].values
        lo, hi = np.nanmin(observed, axis=0), np.nanmax(observed, axis=0)
        ax_s.plot(x - 0.15, lo, "v", color="k", label="data min / max")
        ax_s.plot(x - 0.15, hi, "^", color="k")
    ax_s.set_xticks(x, names, rotation=30, ha="right")
    ax_s.set(ylabel="score", title="Prior-implied score ranges")
    ax_s.legend(loc="best", fontsize="small")
    fig.suptitle(f"Prior predictive check: {prior.attrs.get('prior', '')}", fontsize="medium")
    fig.tight_layout()
    return fig


def plot_prior_comparison(table: pd.DataFrame):
    """LOO elpd (with its standard error) and held-out scores per prior.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`skillinfer_bayes.compare_priors`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = sib.plot_prior_comparison(sib.compare_priors(df, priors))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    names = list(table.index)
    y = np.arange(len(names))
    panels = [("elpd_diff", "dse", "LOO elpd - best (per population)")]
    panels += [(m, None, m) for m in ("crps", "log_score", "coverage_90") if m in table]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 0.5 * len(names) + 2),
                             sharey=True)
    for ax, (col, err, title) in zip(np.atleast_1d(axes), panels):
        xerr = table[err].to_numpy() if err else None
        ax.errorbar(table[col].to_numpy(), y, xerr=xerr, fmt="o", color="C0", capsize=3)
        if col == "elpd_diff":
            ax.axvline(0.0, color="0.6", ls="--", lw=1)
        if col == "coverage_90":
            ax.axvline(0.9, color="0.6", ls="--", lw=1)
        ax.set_title(title, fontsize="medium")
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


def plot_sbc_ranks(result, bins: int = 10):
    """Histograms of SBC rank statistics with the 99% band of a uniform histogram.

    Parameters
    ----------
    result : SBCResult
        From :func:`skillinfer_bayes.simulation_based_calibration`.
    bins : int, default 10
        Histogram bins (the number of draws + 1 rank values are grouped into ``bins``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = sib.plot_sbc_ranks(sbc)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from scipy import stats

    ranks = result.ranks
    columns = list(ranks.columns)
    n = len(ranks)
    ncol = min(4, len(columns))
    nrow = int(np.ceil(len(columns) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), squeeze=False)
    lo, hi = stats.binom.ppf([0.005, 0.995], n, 1.0 / bins)
    edges = np.linspace(0, result.n_ranks, bins + 1)
    for ax, name in zip(axes.ravel(), columns):
        ax.axhspan(lo, hi, color="0.85")
        ax.axhline(n / bins, color="0.5", lw=1)
        ax.hist(ranks[name], bins=edges, color="C0", histtype="stepfilled", alpha=0.8)
        ax.set_title(f"{name} (p={result.p_values[name]:.2f})", fontsize="small")
        ax.set_yticks([])
    for ax in axes.ravel()[len(columns):]:
        ax.set_visible(False)
    fig.suptitle(f"SBC rank histograms ({n} simulations; grey: 99% band of uniform ranks)")
    fig.tight_layout()
    return fig


def plot_calibration(cells: pd.DataFrame, n_observed: int | None = None, bins: int = 20):
    """Reliability diagram (nominal vs empirical central-interval coverage) and PIT histogram
    per method, from :func:`~skillinfer_bayes.evaluate`'s cells (``EvaluationResult.cells``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from skillinfer_bayes.predictive.scores import coverage

    if n_observed is not None:
        cells = cells[cells["n_observed"] == n_observed]
    fig, (ax_rel, ax_pit) = plt.subplots(1, 2, figsize=(11, 4.2))
    nominal = np.linspace(0.02, 0.98, 49)
    ax_rel.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="ideal")
    for method, group in cells.groupby("method", sort=False):
        pit = group["pit"].to_numpy()
        empirical = [coverage(pit, L).mean() for L in nominal]
        ax_rel.plot(nominal, empirical, label=method)
        ax_pit.hist(pit, bins=bins, range=(0, 1), density=True, histtype="step", lw=1.5,
                    label=method)
    ax_pit.axhline(1.0, color="0.6", lw=1, ls="--")
    ax_rel.set(xlabel="nominal central-interval level", ylabel="empirical coverage",
               title="Reliability", xlim=(0, 1), ylim=(0, 1))
    ax_pit.set(xlabel="PIT", ylabel="density", title="PIT histogram (flat = calibrated)")
    ax_rel.legend(loc="upper left")
    suffix = "" if n_observed is None else f" ({n_observed} observed)"
    fig.suptitle(f"Predictive calibration on held-out models{suffix}")
    fig.tight_layout()
    return fig


def plot_evaluation_curve(steps: pd.DataFrame, metric: str = "crps"):
    """A metric after each step, one line per rule, from ``EvaluationCurve.steps``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if metric not in steps:
        raise ValueError(f"Unknown metric {metric!r}; choose one of "
                         f"{sorted(c for c in steps if c not in ('rule', 'n_observed'))}.")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for rule, group in steps.groupby("rule", sort=False):
        ax.plot(group["n_observed"], group[metric], marker="o", label=rule)
    ax.set(xlabel="benchmarks observed", ylabel=metric,
           title=f"Held-out {metric} as benchmarks are observed")
    ax.legend()
    fig.tight_layout()
    return fig
