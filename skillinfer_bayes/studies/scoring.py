"""Scoring predictions of held-out cells: the batched predictive of test rows sharing an
observed set (:func:`predict_cells`), its metrics on the score scale (:func:`mixture_cells`)
and the result tables (:class:`EvaluationResult`), shared by the protocols of
:mod:`~skillinfer_bayes.studies.evaluation` (held-out models) and
:mod:`~skillinfer_bayes.studies.cells` (held-out cells) and by the other studies.

Examples
--------
>>> LEVELS
(0.5, 0.9, 0.95)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from skillinfer_bayes.data.prepared import latent_values
from skillinfer_bayes.predictive.components import (
    ComponentDraws,
    ConditionedMixture,
    condition_components,
)
from skillinfer_bayes.predictive.marginals import (
    grouping_order,
    merge_components,
    score_crps,
    score_moments,
)
from skillinfer_bayes.predictive.mixture import mixture_mean, mixture_quantile, mixture_var
from skillinfer_bayes.predictive.scores import coverage, normal_mixture_scores, weighted_pairs

LEVELS = (0.5, 0.9, 0.95)
#: Entities conditioned at once (bounds memory: chunk x draws x K floats).
_CHUNK = 128
#: Posterior draws (evenly spaced) whose mixture gives the interval bounds of untransformed
#: benchmarks in ``cells``; coverage, PIT, CRPS and log score always use every draw.
QUANTILE_DRAWS = 400
#: Newton tolerance of those bounds (relative to the predictive sd): Newton converges
#: quadratically, so the bounds are then exact to about 1e-5 sd.
QUANTILE_RTOL = 3e-3
#: Random component pairs estimating the CRPS spread term of each cell.
CRPS_PAIRS = 1000


@dataclass
class EvaluationResult:
    """Cell-level results of :func:`evaluate` with summary tables and a calibration plot.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per predicted cell: ``replication``, ``method``, ``n_observed``, ``entity``,
        ``benchmark``, ``observed_set``, ``true``, ``mean``, ``std``, ``lower_L`` / ``upper_L``
        per level L, ``pit``, ``crps``, ``log_score``.
    levels : tuple of float
        Interval levels of the ``lower`` / ``upper`` columns and of the coverage metrics.
    settings : dict
        The call's settings (protocol, sizes, seeds).
    fits : pandas.DataFrame, optional
        The sampler diagnostics of the "bayes" fits, one row per fit (``replication``, or
        ``fold`` in the cell-holdout protocol): ``divergences``, ``max_r_hat``,
        ``min_ess_bulk``, ``min_ess_tail``, ``min_bfmi``, ``max_tree_depth_hits``,
        ``max_r_hat_components`` (mixtures; NaN otherwise), ``ok`` (every check passes) and
        ``problems`` (what failed and what to do), as in :meth:`Population.diagnostics`;
        empty when no fit ran. A metric from a fit with problems carries their caveats.
    """

    cells: pd.DataFrame
    levels: tuple[float, ...] = LEVELS
    settings: dict = field(default_factory=dict)
    fits: pd.DataFrame = field(default_factory=pd.DataFrame)

    def aggregate(self, by: list[str]) -> pd.DataFrame:
        """The summary metrics (MAE, RMSE, coverage, width_90, crps, log_score, n_cells,
        n_missing) per group of ``by`` columns of :attr:`cells`.

        A cell a method could not predict (a NaN mean or PIT, e.g. the cell protocol's
        ``"mean"`` baseline for a benchmark its hiding left with fewer than two visible
        scores) is a **missing prediction**: counted in ``n_missing``, left out of every
        metric and of ``n_cells`` (the cells scored), never scored as a miss.
        """
        c = self.cells
        predicted = np.isfinite(c["mean"].to_numpy(dtype=float)) & np.isfinite(
            c["pit"].to_numpy(dtype=float))
        missing = c.loc[~predicted, by].groupby(by, sort=False).size()
        c = c[predicted]
        err = c["mean"] - c["true"]
        frame = c[by].assign(
            MAE=err.abs(),
            RMSE=err**2,
            **{
                f"coverage_{round(100 * L)}": coverage(c["pit"].to_numpy(), L).astype(float)
                for L in self.levels
            },
            **{
                f"width_{round(100 * L)}": c[f"upper_{_tag(L)}"] - c[f"lower_{_tag(L)}"]
                for L in self.levels
                if L == 0.9
            },
            crps=c["crps"],
            log_score=c["log_score"],
        )
        table = frame.groupby(by, sort=False).mean()
        table["RMSE"] = np.sqrt(table["RMSE"])
        table["n_cells"] = frame.groupby(by, sort=False).size()
        if len(missing):  # groups with no scored cell at all still get their row
            table = table.reindex(table.index.append(missing.index.difference(table.index)))
            table["n_cells"] = table["n_cells"].fillna(0).astype(int)
        table["n_missing"] = missing.reindex(table.index, fill_value=0).astype(int)
        return table

    @property
    def summary(self) -> pd.DataFrame:
        """One row per (method, n_observed): MAE, RMSE, coverage per level, width_90, crps,
        log_score, n_cells (means over all cells and replications).

        Examples
        --------
        >>> res.summary.loc[("bayes", 1), "coverage_90"]  # doctest: +SKIP
        0.9135
        """
        return self.aggregate(["method", "n_observed"])

    @property
    def by_benchmark(self) -> pd.DataFrame:
        """The summary metrics, one row per (method, n_observed, benchmark).

        Examples
        --------
        >>> res.by_benchmark["coverage_90"].unstack("benchmark")  # doctest: +SKIP
        """
        return self.aggregate(["method", "n_observed", "benchmark"])

    def plot_calibration(self, n_observed: int | None = None, bins: int = 20):
        """Reliability diagram (nominal vs empirical central-interval coverage) and PIT
        histogram per method.

        Parameters
        ----------
        n_observed : int, optional
            Restrict to one number of observed benchmarks (default: all cells).
        bins : int
            PIT histogram bins.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> fig = res.plot_calibration(n_observed=1)  # doctest: +SKIP
        """
        from skillinfer_bayes.plots import plot_calibration

        return plot_calibration(self.cells, n_observed=n_observed, bins=bins)


#: The diagnostic columns of :attr:`EvaluationResult.fits` (from
#: :meth:`Population.diagnostics`), after ``components``.
FIT_COLUMNS = ("divergences", "max_r_hat", "min_ess_bulk", "min_ess_tail", "min_bfmi",
               "max_tree_depth_hits", "max_r_hat_components", "ok", "problems")


def fit_table(pops: Sequence, label: str = "replication") -> pd.DataFrame:
    """The sampler diagnostics of a study's fits, one row per fit (``None``: no fit ran),
    after the number of mixture components each fit has (``components``: the number chosen
    by PSIS-LOO when a study asks for ``components="auto"``).

    Examples
    --------
    >>> fit_table([None]).empty
    True
    """
    rows = {}
    for i, pop in enumerate(pops):
        if pop is not None:
            found = pop.diagnostics()
            found["problems"] = " ".join(found["problems"])
            rows[i] = {"components": pop.n_components,
                       **{key: found.get(key, np.nan) for key in FIT_COLUMNS}}
    if not rows:
        return pd.DataFrame(columns=["components", *FIT_COLUMNS])
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(label)


def _tag(level: float) -> str:
    return f"{round(100 * level)}"


def predict_cells(
    components: ComponentDraws,
    X_test: np.ndarray,
    observed: Sequence[int],
    noise: float | np.ndarray,
    levels: Sequence[float] = LEVELS,
    random_seed: int | None = 0,
    transforms: Sequence | None = None,
    predicted: Sequence[int] | None = None,
) -> dict[str, np.ndarray]:
    """Predict the unobserved benchmarks of test rows sharing one observed set, with metrics.

    Batched over draws and test rows (in chunks): no Python loop over cells. Every draw and
    component is conditioned and reweighted as in :class:`Profile` (one code path,
    :func:`~skillinfer_bayes.predictive.components.condition_components`). Means, sds, PIT,
    log score and the first CRPS term are exact over all N components; the CRPS spread term is
    exact over all N^2 component pairs when they are at most ``CRPS_PAIRS`` (a plug-in
    mixture), otherwise estimated from ``CRPS_PAIRS`` pairs drawn for each entity from its
    conditioned weights (:func:`~skillinfer_bayes.predictive.scores.weighted_pairs`;
    uniformly when the components are equally weighted), and the interval
    bounds of an untransformed benchmark are the quantiles of the mixture over
    ``QUANTILE_DRAWS`` evenly spaced components (coverage itself comes from the exact PIT).

    With ``transforms`` (one per benchmark, the fitted population's), ``X_test`` holds scores,
    the components are on the latent scale and ``noise`` is the latent noise sd; every metric
    is on the score scale: PIT exact, log score with the Jacobian, and for each transformed
    benchmark the mixture merged into ``MERGED_COMPONENTS`` normals (one grouping shared by
    the entities, moments exact per entity) for the mean and sd (quadrature), the CRPS
    (:func:`~skillinfer_bayes.predictive.marginals.score_crps`) and the interval bounds
    (exact quantiles of the merged mixture mapped through ``g^-1``).

    ``predicted`` limits the predicted dimensions (default: every unobserved one), e.g. to the
    benchmarks of a population with covariates.

    Returns
    -------
    dict
        Arrays of shape (E, |u|): ``mean``, ``std``, ``pit``, ``crps``, ``log_score`` and
        ``lower_L`` / ``upper_L`` per level; plus ``unobserved`` (the |u| indices).

    Examples
    --------
    >>> import numpy as np
    >>> normal = ComponentDraws.normal(np.zeros((1, 2)), np.array([[[1.0, 0.5], [0.5, 1.0]]]))
    >>> out = predict_cells(normal, np.array([[1.0, 0.2]]), [0], noise=0.0)
    >>> out["mean"].round(3).tolist(), out["unobserved"].tolist()
    ([[0.5]], [1])
    """
    K = components.n_benchmarks
    o = np.asarray(observed, dtype=int)
    u = np.setdiff1d(np.arange(K) if predicted is None else np.asarray(predicted, dtype=int), o)
    S = components.n_draws * components.n_components
    pairs = spread_pairs(components, np.random.default_rng(random_seed))
    thin = np.unique(np.linspace(0, S - 1, min(S, QUANTILE_DRAWS)).round().astype(int))
    out: dict[str, list] = {}
    for start in range(0, len(X_test), _CHUNK):
        X = X_test[start : start + _CHUNK]
        Z = X if transforms is None else latent_values(X, transforms)
        mixture = condition_components(components, o, Z[:, o], np.square(noise))
        chunk = mixture_cells(mixture, X, Z, u, transforms, pairs, levels, thin)
        for key, value in chunk.items():
            out.setdefault(key, []).append(value)
    result = {key: np.concatenate(parts) for key, parts in out.items()}
    result["unobserved"] = u
    return result


def spread_pairs(components: ComponentDraws, rng: np.random.Generator):
    """The component pairs of the CRPS spread term for :func:`mixture_cells`: all of them when
    they are at most ``CRPS_PAIRS`` (exact; a plug-in mixture), ``CRPS_PAIRS`` uniform pairs
    shared by the entities when each draw has one component (equal weights), otherwise ``rng``
    itself, from which :func:`mixture_cells` draws each entity's pairs from its conditioned
    weights (:func:`~skillinfer_bayes.predictive.scores.weighted_pairs`).

    Examples
    --------
    >>> normal = ComponentDraws.normal(np.zeros((3, 2)), np.tile(np.eye(2), (3, 1, 1)))
    >>> [p.tolist() for p in spread_pairs(normal, np.random.default_rng(0))]
    [[0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 1, 2, 0, 1, 2, 0, 1, 2]]
    """
    S = components.n_draws * components.n_components
    if S * S <= CRPS_PAIRS:
        return tuple(np.indices((S, S)).reshape(2, -1))
    if components.n_components == 1:
        return (rng.integers(S, size=CRPS_PAIRS), rng.integers(S, size=CRPS_PAIRS))
    return rng


def mixture_cells(
    mixture: ConditionedMixture,
    X: np.ndarray,
    Z: np.ndarray,
    dims: Sequence[int],
    transforms: Sequence | None = None,
    pairs: tuple[np.ndarray, np.ndarray] | np.random.Generator | None = None,
    levels: Sequence[float] = LEVELS,
    thin: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Metrics of E entities' conditioned predictive mixture at their true values, per
    dimension in ``dims``: the scoring half of :func:`predict_cells`.

    ``X`` (E, D) holds the true scores and ``Z`` their latent values (``X`` itself without
    ``transforms``); ``mixture`` is :func:`condition_components`' output for these E
    entities. Every metric is on the score scale (see :func:`predict_cells`); the interval
    bounds of untransformed dimensions come from the components ``thin`` (default: all),
    those of transformed ones from the merged mixture, and none with ``levels=()``.
    ``pairs`` are the CRPS spread term's component pairs, shared by the entities, or a
    random generator that draws ``CRPS_PAIRS`` of them per entity from its weights.

    Returns
    -------
    dict
        Arrays of shape (E, |dims|): ``mean``, ``std``, ``pit``, ``crps``, ``log_score`` and
        ``lower_L`` / ``upper_L`` per level.
    """
    u = np.asarray(dims, dtype=int)
    var = mixture.cov if mixture.cov.ndim == 2 else np.diagonal(mixture.cov, axis1=1, axis2=2)
    m = np.ascontiguousarray(np.swapaxes(mixture.means, 1, 2)[:, u])  # (E, |u|, N)
    v = np.ascontiguousarray(np.maximum(var, 1e-300).T[u])  # (|u|, N)
    sd = np.sqrt(v)
    w = None if mixture.weights is None else mixture.weights[:, None, :]  # (E, 1, N)
    from_weights = isinstance(pairs, np.random.Generator) and w is not None
    if from_weights:
        pairs = tuple(p[:, None, :] for p in weighted_pairs(w[:, 0], CRPS_PAIRS, pairs))
    elif isinstance(pairs, np.random.Generator):
        pairs = (pairs.integers(m.shape[-1], size=CRPS_PAIRS),
                 pairs.integers(m.shape[-1], size=CRPS_PAIRS))
    chunk = normal_mixture_scores(Z[:, u], m, sd, pairs=pairs, weights=w,
                                  pairs_from_weights=from_weights)
    chunk["mean"] = mixture_mean(m, w)
    chunk["std"] = np.sqrt(mixture_var(m, v, w))
    probs = np.array([p for L in levels for p in ((1 - L) / 2, (1 + L) / 2)])
    transformed = [] if transforms is None else [
        i for i, j in enumerate(u) if transforms[j].name != "identity"]
    # the bounds of the latent-scale dimensions here; the transformed ones' below
    plain = np.setdiff1d(np.arange(len(u)), transformed)
    for L in levels:
        chunk[f"lower_{_tag(L)}"] = np.full(chunk["pit"].shape, np.nan)
        chunk[f"upper_{_tag(L)}"] = np.full(chunk["pit"].shape, np.nan)
    if len(levels) and len(plain):
        thin = np.arange(m.shape[-1]) if thin is None else thin
        w_thin = None if w is None else w[..., thin] / w[..., thin].sum(axis=-1, keepdims=True)
        # thinned first: the (E, |u|, N) means are not copied whole
        q = mixture_quantile(probs, m[..., thin][:, plain], sd[..., thin][plain],
                             rtol=QUANTILE_RTOL, weights=w_thin)
        for i, L in enumerate(levels):
            chunk[f"lower_{_tag(L)}"][:, plain] = q[2 * i]
            chunk[f"upper_{_tag(L)}"][:, plain] = q[2 * i + 1]
    for i in transformed:  # these benchmarks' metrics on the score scale
        _score_scale_cells(chunk, i, transforms[u[i]], X[:, u[i]], m[:, i], sd[i],
                           None if w is None else w[:, 0], probs, levels)
    return chunk


#: A transformed benchmark's predictive mixture is merged into this many normals for its
#: score-scale mean, sd, CRPS and interval bounds.
MERGED_COMPONENTS = 64


def _score_scale_cells(chunk, i, transform, y, m, sd, w, probs, levels) -> None:
    """Replace column ``i`` of the chunk's metrics by those of ``g^-1(Z)`` at scores ``y``.

    ``m`` (E, N) latent component means, ``sd`` (N,) sds, ``w`` (E, N) weights or None.
    """
    chunk["log_score"][:, i] += transform.log_jacobian(y)
    order = grouping_order(m.mean(axis=0), sd, MERGED_COMPONENTS)
    mm, ms, mw = merge_components(m, np.broadcast_to(sd, m.shape), w, MERGED_COMPONENTS,
                                  order=order)
    mean, var = score_moments(transform, mm, ms, mw)
    chunk["mean"][:, i] = mean
    chunk["std"][:, i] = np.sqrt(var)
    chunk["crps"][:, i] = score_crps(transform, y, mm, ms, mw)
    if not len(levels):
        return
    q = transform.inverse(mixture_quantile(probs, mm, ms, rtol=QUANTILE_RTOL, weights=mw))
    for k, L in enumerate(levels):
        chunk[f"lower_{_tag(L)}"][:, i] = q[2 * k]
        chunk[f"upper_{_tag(L)}"][:, i] = q[2 * k + 1]
