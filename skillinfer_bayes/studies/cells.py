"""The cell-holdout protocol for wide, sparse tables (``evaluate(df, protocol="cells")``).

The fixed protocol of :func:`~skillinfer_bayes.evaluate` holds out whole models and needs
complete rows; a wide sparse table has few or none. Here, in each of ``folds`` folds, every
entity with at least ``min_known`` known scores hides ``hide_fraction`` of them (at least one,
keeping at least one visible), chosen at random; the population is fitted on every cell that
is not hidden (all entities kept); each entity then observes its visible scores and its hidden
ones are predicted and scored. Folds are independent random draws (seeded).

Methods:

- ``"bayes"``: this library, fitted to the visible cells (any ``covariance``, ``transform``).
- ``"mean"``: each benchmark's mean and sd over the visible cells (no transfer).
- ``"knn"``: the ``KNN_NEIGHBOURS`` entities nearest to the entity over the benchmarks both
  have visible (root mean squared difference, at least ``KNN_MIN_OVERLAP`` in common) that know
  the hidden benchmark; the predictive is a normal with their inverse-distance weighted mean
  and sd (their spread, floored at 5% of the benchmark's sd).

A baseline cannot predict a benchmark that a fold left with fewer than two visible scores
(it has no sd): those cells are missing predictions, counted in the summary's ``n_missing``
and left out of its metrics (:meth:`~skillinfer_bayes.studies.scoring.EvaluationResult.
aggregate`). The hiding never leaves ``"bayes"`` short silently: a fold whose visible table
its fit would refuse is an error before any sampling that names the hiding
(:func:`check_fold`).
- ``"em"``: the plug-in factor analysis of rank ``em_factors`` fitted by EM to the visible
  cells (:mod:`~skillinfer_bayes.models.factor_em`), conditioned on each entity's visible
  scores: the Bayesian factor model's reference without parameter uncertainty.

Examples
--------
>>> METHODS
('bayes', 'mean', 'knn', 'em')
>>> DEFAULT_METHODS
('bayes', 'mean', 'knn')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from skillinfer_bayes.data.checks import check_level, check_seed, validate_scores
from skillinfer_bayes.data.prepared import prepare
from skillinfer_bayes.data.transform_choice import DEFAULT_BOUNDS, DEFAULT_TRANSFORM
from skillinfer_bayes.inference.fitting import ModelSpec, SamplerConfig, resolve_options
from skillinfer_bayes.models.factor import check_n_factors
from skillinfer_bayes.models.factor_em import fit_factor_em
from skillinfer_bayes.predictive.components import ComponentDraws
from skillinfer_bayes.studies.parallel import check_n_jobs, fit_many
from skillinfer_bayes.studies.scoring import (
    LEVELS,
    EvaluationResult,
    fit_table,
    predict_cells,
)

#: Methods of the cell-holdout protocol.
METHODS = ("bayes", "mean", "knn", "em")
#: The methods run when none are named ("em" needs a rank: name it with ``em_factors``).
DEFAULT_METHODS = ("bayes", "mean", "knn")
#: Neighbours of the k-nearest-neighbour baseline.
KNN_NEIGHBOURS = 10
#: Benchmarks two entities must both have visible to be neighbours.
KNN_MIN_OVERLAP = 2


@dataclass
class CellEvaluation(EvaluationResult):
    """Results of the cell-holdout protocol: :class:`EvaluationResult` whose summary is per
    method and adds the median absolute error and the median absolute percentage error.

    ``cells`` has one row per hidden cell and method: ``fold``, ``method``, ``n_observed`` (the
    entity's visible scores), ``entity``, ``benchmark``, ``true``, ``mean``, ``std``,
    ``lower_L`` / ``upper_L``, ``pit``, ``crps``, ``log_score``.
    """

    def aggregate(self, by: list[str]) -> pd.DataFrame:
        """:meth:`EvaluationResult.aggregate` with ``median_abs_error`` and
        ``median_abs_pct_error`` (100 |mean - true| / |true|) after ``MAE``."""
        table = super().aggregate(by)
        c = self.cells
        err = (c["mean"] - c["true"]).abs()
        grouped = c[by].assign(abs_error=err, pct=100 * err / c["true"].abs()).groupby(
            by, sort=False)
        table.insert(1, "median_abs_error", grouped["abs_error"].median())
        table.insert(2, "median_abs_pct_error", grouped["pct"].median())
        return table

    @property
    def summary(self) -> pd.DataFrame:
        """One row per method: MAE, median absolute (percentage) error, RMSE, coverage per
        level, width_90, crps, log_score, n_cells."""
        return self.aggregate(["method"])

    @property
    def by_benchmark(self) -> pd.DataFrame:
        """The summary metrics per (method, benchmark)."""
        return self.aggregate(["method", "benchmark"])


def hide_cells(known: np.ndarray, hide_fraction: float, min_known: int,
               rng: np.random.Generator) -> np.ndarray:
    """(N, K) bool: the cells one fold hides (see the module docstring).

    Examples
    --------
    >>> known = np.array([[True, True, True, True], [True, False, False, False]])
    >>> hide_cells(known, 0.5, 2, np.random.default_rng(0)).sum(axis=1).tolist()
    [2, 0]
    """
    hidden = np.zeros_like(known)
    for i in np.flatnonzero(known.sum(axis=1) >= min_known):
        cells = np.flatnonzero(known[i])
        n_hide = min(max(1, round(hide_fraction * len(cells))), len(cells) - 1)
        hidden[i, rng.choice(cells, n_hide, replace=False)] = True
    return hidden


def visible_moments(visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K,) mean and sd of each benchmark's visible scores; NaN (quietly) where fewer than
    one / two are visible.

    Examples
    --------
    >>> visible_moments(np.array([[1.0, 2.0, np.nan], [3.0, np.nan, np.nan]]))[1].tolist()
    [1.4142135623730951, nan, nan]
    """
    count = (~np.isnan(visible)).sum(axis=0)
    total = np.nansum(visible, axis=0)
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    squares = np.nansum((visible - mean) ** 2, axis=0)
    sd = np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1)), np.nan)
    return mean, sd


def check_fold(X: np.ndarray, hidden: np.ndarray, names: Sequence[str], index: pd.Index,
               fold: int, transform=DEFAULT_TRANSFORM, bounds=DEFAULT_BOUNDS) -> None:
    """Prepare fold ``fold``'s visible table as its fit would; an error there is the hiding's
    doing (the whole table was valid), so it is raised again naming the hiding, the
    benchmarks it thinned and the fix.

    Examples
    --------
    >>> X = np.arange(12.0).reshape(6, 2) + np.array([[0.0], [3.0], [1.0], [7.0], [2.0], [5.0]])
    >>> hidden = np.zeros((6, 2), dtype=bool)
    >>> hidden[:2, 1] = True
    >>> check_fold(X, hidden, ["a", "b"], pd.RangeIndex(6), 0, transform="copula")
    Traceback (most recent call last):
    ...
    ValueError: The cell protocol's fold 0 hid cells that its fit needs: ...
    """
    visible = pd.DataFrame(np.where(hidden, np.nan, X), columns=list(names), index=index)
    try:
        prepare(visible, normalize=False, transform=transform, bounds=bounds)
    except ValueError as err:
        known, left = (~np.isnan(X)).sum(axis=0), (~np.isnan(visible.to_numpy())).sum(axis=0)
        thinned = np.flatnonzero(left < known)
        named = [k for k in thinned if f"'{names[k]}'" in str(err)]  # the ones it is about
        thinned = [f"{names[k]} ({left[k]} of {known[k]} known scores visible)"
                   for k in (named or thinned)]
        raise ValueError(
            f"The cell protocol's fold {fold} hid cells that its fit needs: {err} The hiding "
            f"left {', '.join(thinned)}. Hide fewer cells (a smaller hide_fraction, or a larger "
            "min_known=: entities with fewer known scores are never hidden from) or follow the "
            "fit's advice above."
        ) from err


def knn_moments(visible: np.ndarray, i: int, hidden: np.ndarray,
                sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The k-nearest-neighbour predictive mean and sd of entity ``i``'s ``hidden`` benchmarks
    from the ``visible`` table (NaN = not visible).

    Examples
    --------
    >>> visible = np.array([[1.0, 2.0, np.nan], [1.0, 2.0, 5.0], [3.0, 4.0, 9.0]])
    >>> mean, sd = knn_moments(visible, 0, np.array([2]), np.ones(3))
    >>> bool(5.0 <= mean[0] < 5.01)  # the neighbour at distance 0 dominates
    True
    """
    row = visible[i]
    both = ~np.isnan(visible) & ~np.isnan(row)
    overlap = both.sum(axis=1)
    diff = np.where(both, visible - row, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.sqrt((diff**2).sum(axis=1) / overlap)
    dist[i] = np.inf
    dist[overlap < KNN_MIN_OVERLAP] = np.inf
    means, sds = np.empty(len(hidden)), np.empty(len(hidden))
    for n, j in enumerate(hidden):
        candidates = np.flatnonzero(np.isfinite(dist) & ~np.isnan(visible[:, j]))
        if not np.isfinite(sd[j]):  # fewer than 2 visible scores: no floor, no prediction
            means[n] = sds[n] = np.nan
            continue
        if len(candidates) == 0:  # no neighbour knows it: the benchmark's mean
            means[n], sds[n] = np.nanmean(visible[:, j]), sd[j]
            continue
        nearest = candidates[np.argsort(dist[candidates])[:KNN_NEIGHBOURS]]
        w = 1.0 / (dist[nearest] + 1e-8)
        w /= w.sum()
        values = visible[nearest, j]
        means[n] = w @ values
        sds[n] = max(np.sqrt(w @ (values - means[n]) ** 2), 0.05 * sd[j])
    return means, sds


def evaluate_cells(
    df: pd.DataFrame,
    hide_fraction: float = 0.5,
    folds: int = 3,
    min_known: int = 2,
    methods: Sequence[str] = DEFAULT_METHODS,
    random_seed: int = 0,
    levels: Sequence[float] = LEVELS,
    n_jobs: int = 1,
    progressbar: bool = True,
    em_factors: int | None = None,
    spec: ModelSpec | None = None,
    sampler_config: SamplerConfig | None = None,
    **options,
) -> CellEvaluation:
    """Run the cell-holdout protocol (the module docstring); ``evaluate(df,
    protocol="cells", ...)`` calls it.

    Parameters
    ----------
    df : pandas.DataFrame
        Entities x benchmarks, NaN = missing (every column a benchmark).
    hide_fraction : float, default 0.5
        Share of each eligible entity's known scores hidden in a fold.
    folds : int, default 3
        Independent random folds, one fit each.
    min_known : int, default 2
        Entities with fewer known scores are never hidden from (their cells stay in the fit).
    methods : sequence of str
        Any of ``"bayes"``, ``"mean"``, ``"knn"``, ``"em"`` (default the first three).
    random_seed : int
        Seed of the hidden cells and of the fits.
    levels : sequence of float
        Central-interval levels reported (must include 0.9).
    n_jobs, progressbar :
        As in :func:`~skillinfer_bayes.evaluate`.
    em_factors : int, optional
        The rank of the "em" method (default the spec's ``n_factors``).
    spec, sampler_config, **options :
        The "bayes" model and its sampler settings, as in :func:`~skillinfer_bayes.evaluate`
        (fitted on the scores' own scale; no covariates, groups or components yet).

    Returns
    -------
    CellEvaluation
        ``.summary`` per method, ``.by_benchmark``, ``.cells``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame(rng.normal(size=(30, 4)), columns=list("abcd"))
    >>> res = evaluate_cells(table, methods=("mean", "knn"), folds=1, progressbar=False)
    >>> list(res.summary.index), int(res.summary.loc["mean", "n_cells"])
    (['mean', 'knn'], 60)
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or not len(methods):
        raise ValueError(f"Unknown method(s) {unknown} for protocol='cells'; choose from "
                         f"{list(METHODS)}.")
    spec, config = resolve_options(spec, sampler_config, options, "evaluate_cells")
    if spec.groups is not None or spec.covariates is not None or spec.components != 1:
        raise ValueError("protocol='cells' takes no groups, covariates or components yet; "
                         "evaluate them with the default protocol='entities'.")
    n_factors = spec.n_factors
    em_factors = n_factors if em_factors is None else em_factors
    if "em" in methods and (em_factors is None or isinstance(em_factors, str)):
        raise ValueError(f"The 'em' method needs a rank: pass em_factors=2, say (with "
                         f"n_factors={n_factors!r} it has none).")
    if isinstance(hide_fraction, bool) or not isinstance(hide_fraction, (int, float)) \
            or not 0 < hide_fraction < 1:
        raise ValueError(f"hide_fraction must lie in (0, 1), e.g. 0.5; got {hide_fraction!r}.")
    for name, value, least in (("folds", folds, 1), ("min_known", min_known, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}; got {value!r}.")
    random_seed = check_seed(random_seed)
    if random_seed is None:
        raise ValueError("random_seed must be an integer: it fixes the hidden cells.")
    levels = tuple(check_level(L) for L in levels)
    if 0.9 not in levels:
        raise ValueError(f"levels must include 0.9 (for width_90); got {levels!r}.")
    check_n_jobs(n_jobs)
    matrix = validate_scores(df)
    X = matrix.to_numpy(dtype=float)
    names = [str(c) for c in matrix.columns]
    if "em" in methods:
        try:
            check_n_factors(em_factors, len(names))
        except ValueError as err:
            raise ValueError(f"em_factors: {err}") from None
    known = ~np.isnan(X)
    if not (known.sum(axis=1) >= min_known).any():
        raise ValueError(f"No entity has {min_known} known scores (min_known): nothing to "
                         "hide and predict.")
    rng = np.random.default_rng(random_seed)
    hidden = [hide_cells(known, hide_fraction, min_known, rng) for _ in range(folds)]
    pops = [None] * folds
    if "bayes" in methods:
        for f, h in enumerate(hidden):  # before any sampling: a fold the hiding left unfittable
            check_fold(X, h, names, matrix.index, f, spec.transform, spec.bounds)
        fit_spec = dataclasses.replace(spec, normalize=False)  # on the scores' own scale
        jobs = [dict(df=pd.DataFrame(np.where(h, np.nan, X), columns=names,
                                     index=matrix.index),
                     spec=fit_spec, sampler_config=config,
                     random_seed=random_seed + 1 + f, cache=False)
                for f, h in enumerate(hidden)]
        pops = fit_many(jobs, [f"fold {f}" for f in range(folds)], n_jobs, progressbar,
                        desc="evaluate (cells): fitting")
    frames = []
    bar = tqdm(total=folds * len(methods), disable=not progressbar,
               desc="evaluate (cells): predicting", unit="method")
    for f, (h, pop) in enumerate(zip(hidden, pops)):
        visible = np.where(h, np.nan, X)
        mean, sd = visible_moments(visible)
        rows = np.flatnonzero(h.any(axis=1))
        for method in methods:
            # the fold's predictive, shared by its entities (each has its own observed set)
            transforms, noise = None, np.zeros(len(names))
            if method == "bayes":
                components = pop.predictive_components()
                transforms = pop.data.transforms if pop.data.transformed else None
                noise = pop.default_noise() * pop.data.noise_slopes
            elif method == "mean":
                components = ComponentDraws.normal(mean[None], np.diag(sd**2)[None])
            elif method == "em":
                est = fit_factor_em(visible, em_factors)
                components = ComponentDraws.factor(est.mean[None], est.loadings[None],
                                                   est.specific_var[None])
            parts = []
            for i in rows:
                seen, unseen = np.flatnonzero(~np.isnan(visible[i])), np.flatnonzero(h[i])
                if method in ("mean", "knn"):
                    # a benchmark with fewer than 2 visible scores has no sd: its cells are
                    # missing predictions, and observing it tells these diagonal baselines
                    # nothing (so it is not conditioned on)
                    seen = seen[np.isfinite(sd[seen])]
                if method == "knn":  # its own neighbours: a normal per entity
                    m, s = knn_moments(visible, i, unseen, sd)
                    full_m, full_s = mean.copy(), sd.copy()
                    full_m[unseen], full_s[unseen] = m, s
                    components = ComponentDraws.normal(full_m[None], np.diag(full_s**2)[None])
                out = predict_cells(components, X[i][None], seen, noise, levels, random_seed,
                                    transforms, predicted=unseen)
                u = out.pop("unobserved")
                part = pd.DataFrame({key: value[0] for key, value in out.items()})
                part.insert(0, "true", X[i, u])
                part.insert(0, "benchmark", np.asarray(names)[u])
                part.insert(0, "entity", matrix.index[i])
                part.insert(0, "n_observed", len(seen))
                parts.append(part)
            frame = pd.concat(parts, ignore_index=True)
            frame.insert(0, "method", method)
            frame.insert(0, "fold", f)
            frames.append(frame)
            bar.update(1)
    bar.close()
    settings = {"protocol": "cells", "hide_fraction": hide_fraction, "folds": folds,
                "min_known": min_known, "methods": tuple(methods), "random_seed": random_seed,
                "em_factors": em_factors, "n_rows": len(X), "n_known": int(known.sum()),
                **config.to_dict(), **spec.to_dict()}
    return CellEvaluation(cells=pd.concat(frames, ignore_index=True), levels=levels,
                          settings=settings, fits=fit_table(pops, "fold"))
