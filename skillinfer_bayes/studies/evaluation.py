"""Held-out calibration studies: the fixed protocol, the baselines and the result tables.

The protocol (which rows are held out, how replications are drawn) lives in
:mod:`skillinfer_bayes.studies.protocol`, shared with :func:`~skillinfer_bayes.compare_priors` and
:func:`~skillinfer_bayes.evaluation_curve`. For every test model and every combination of
``n_observed`` benchmarks (``itertools.combinations``, in order) those scores are observed and
the others predicted.

Methods, all predicting through the same batched conditioning and mixture scoring code:

- ``"bayes"``: this library; the mixture over all posterior draws.
- ``"plugin"``: the ``skillinfer`` method, Ledoit-Wolf covariance and sample mean, Gaussian
  conditioning with the same default observation noise (5% of the mean population sd; see
  :func:`~skillinfer_bayes.predictive.conditioning.default_noise` for benchmarks on much smaller
  scales).
- ``"diagonal"``: the Ledoit-Wolf covariance's diagonal only: no transfer between benchmarks.
- ``"mean"``: the population's sample mean and sd for every benchmark.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from skillinfer_bayes.data.checks import check_level, check_noise, check_seed
from skillinfer_bayes.data.prepared import latent_values
from skillinfer_bayes.data.transforms import DEFAULT_BOUNDS, DEFAULT_TRANSFORM
from skillinfer_bayes.inference.fitting import SamplerConfig
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.predictive.components import (
    ComponentDraws,
    ConditionedMixture,
    condition_components,
)
from skillinfer_bayes.predictive.conditioning import default_noise
from skillinfer_bayes.predictive.marginals import (
    grouping_order,
    merge_components,
    score_crps,
    score_moments,
)
from skillinfer_bayes.predictive.mixture import mixture_mean, mixture_quantile, mixture_var
from skillinfer_bayes.predictive.scores import coverage, normal_mixture_scores
from skillinfer_bayes.studies.protocol import (
    check_n_observed,
    make_splits,
    protocol_table,
)

METHODS = ("bayes", "plugin", "diagonal", "mean")
LEVELS = (0.5, 0.9, 0.95)
#: Entities conditioned at once (bounds memory: chunk x draws x K floats).
_CHUNK = 128
#: Posterior draws (evenly spaced) whose mixture gives the interval bounds in ``cells``;
#: coverage, PIT, CRPS and log score always use every draw.
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
    """

    cells: pd.DataFrame
    levels: tuple[float, ...] = LEVELS
    settings: dict = field(default_factory=dict)

    def aggregate(self, by: list[str]) -> pd.DataFrame:
        """The summary metrics (MAE, RMSE, coverage, width_90, crps, log_score, n_cells)
        per group of ``by`` columns of :attr:`cells`."""
        c = self.cells
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


def _tag(level: float) -> str:
    return f"{round(100 * level)}"


def plugin_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and Ledoit-Wolf covariance (the ``skillinfer`` estimate), shaped as one
    'draw': (1, K) and (1, K, K).

    References
    ----------
    .. [1] Ledoit, O. and Wolf, M. (2004). A well-conditioned estimator for large-dimensional
       covariance matrices. *Journal of Multivariate Analysis* 88(2), 365-411.

    Examples
    --------
    >>> import numpy as np
    >>> mu, Sigma = plugin_moments(np.random.default_rng(0).normal(size=(100, 3)))
    >>> mu.shape, Sigma.shape
    ((1, 3), (1, 3, 3))
    """
    from sklearn.covariance import LedoitWolf

    lw = LedoitWolf().fit(X)
    return X.mean(axis=0)[None], lw.covariance_[None]


def _method_draws(method: str, X: np.ndarray) -> ComponentDraws:
    """The one-draw normal of a plug-in method fitted to the training rows ``X``."""
    if method == "plugin":
        return ComponentDraws.normal(*plugin_moments(X))
    if method == "diagonal":
        mu, cov = plugin_moments(X)
        return ComponentDraws.normal(mu, np.diag(np.diagonal(cov[0]))[None])
    mu = X.mean(axis=0)[None]
    return ComponentDraws.normal(mu, np.diag(X.var(axis=0, ddof=1))[None])


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
    estimated from ``CRPS_PAIRS`` random component pairs, and the interval bounds are the
    quantiles of the mixture over ``QUANTILE_DRAWS`` evenly spaced components (coverage itself
    comes from the exact PIT).

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
    rng = np.random.default_rng(random_seed)
    n_pairs = min(S * S, CRPS_PAIRS)
    pairs = (rng.integers(S, size=n_pairs), rng.integers(S, size=n_pairs)) if S > 1 else None
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


def mixture_cells(
    mixture: ConditionedMixture,
    X: np.ndarray,
    Z: np.ndarray,
    dims: Sequence[int],
    transforms: Sequence | None = None,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
    levels: Sequence[float] = LEVELS,
    thin: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Metrics of E entities' conditioned predictive mixture at their true values, per
    dimension in ``dims``: the scoring half of :func:`predict_cells`.

    ``X`` (E, D) holds the true scores and ``Z`` their latent values (``X`` itself without
    ``transforms``); ``mixture`` is :func:`condition_components`' output for these E
    entities. Every metric is on the score scale (see :func:`predict_cells`); the interval
    bounds come from the components ``thin`` (default: all), and none with ``levels=()``.

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
    chunk = normal_mixture_scores(Z[:, u], m, sd, pairs=pairs, weights=w)
    chunk["mean"] = mixture_mean(m, w)
    chunk["std"] = np.sqrt(mixture_var(m, v, w))
    probs = np.array([p for L in levels for p in ((1 - L) / 2, (1 + L) / 2)])
    if len(levels):
        thin = np.arange(m.shape[-1]) if thin is None else thin
        w_thin = None if w is None else w[..., thin] / w[..., thin].sum(axis=-1, keepdims=True)
        q = mixture_quantile(probs, m[..., thin], sd[..., thin], rtol=QUANTILE_RTOL,
                             weights=w_thin)
        for i, L in enumerate(levels):
            chunk[f"lower_{_tag(L)}"] = q[2 * i]
            chunk[f"upper_{_tag(L)}"] = q[2 * i + 1]
    transformed = [] if transforms is None else [
        i for i, j in enumerate(u) if transforms[j].name != "identity"]
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


def check_methods(methods: str | Sequence[str]) -> tuple[str, ...]:
    """The methods to evaluate, as a tuple (a single name may be given as a str).

    Examples
    --------
    >>> check_methods("mean"), check_methods(["bayes", "plugin"])
    (('mean',), ('bayes', 'plugin'))
    """
    if isinstance(methods, str):
        methods = (methods,)
    try:
        methods = tuple(methods)
    except TypeError:
        raise ValueError(
            f"methods must be a method name or a sequence of them, from {sorted(METHODS)}; "
            f"got {methods!r}."
        ) from None
    unknown = sorted({str(m) for m in methods} - set(METHODS))
    if unknown or not methods:
        raise ValueError(f"Unknown method(s) {unknown}; choose from {sorted(METHODS)}.")
    return methods


def score_cells(
    draws_for,
    X_test: np.ndarray,
    test_groups: np.ndarray | None,
    combos: Sequence[Sequence[int]],
    noise: float,
    levels: Sequence[float],
    seed: int,
    names: Sequence[str],
    entities: Sequence,
    labels: dict,
    transforms: Sequence | None = None,
    covariate_values: np.ndarray | None = None,
) -> list[pd.DataFrame]:
    """Cell frames of one fitted method on one split, one frame per observed set.

    ``transforms`` (a transformed population's): the components are latent, ``noise`` the
    latent noise sd, the metrics on the score scale (:func:`predict_cells`).
    ``covariate_values`` (E, P): a population with covariates; every test row observes its
    known covariates besides the observed set, and only the benchmarks are predicted.

    ``draws_for(group)`` gives the :class:`ComponentDraws` for test rows of ``group``
    (``None`` without groups); rows sharing a group are predicted together.
    """
    if test_groups is None:
        blocks = [(np.arange(len(X_test)), draws_for(None))]
    else:
        blocks = [(np.flatnonzero(test_groups == g), draws_for(g)) for g in
                  np.unique(test_groups)]
    K = X_test.shape[1]
    values, known = X_test, [()]
    if covariate_values is not None:  # rows sharing which covariates are known go together
        values = np.column_stack([X_test, covariate_values])
        patterns, which = np.unique(~np.isnan(covariate_values), axis=0, return_inverse=True)
        which = which.reshape(-1)
        blocks = [(rows[which[rows] == i], components) for rows, components in blocks
                  for i in range(len(patterns))]
        known = [tuple(K + np.flatnonzero(pattern)) for pattern in patterns]
    frames = []
    for combo in combos:
        res: dict[str, np.ndarray] = {}
        for b, (rows, components) in enumerate(blocks):
            if len(rows) == 0:
                continue
            observed = (*combo, *known[b % len(known)])
            part = predict_cells(components, values[rows], observed, noise, levels, seed,
                                 transforms, predicted=np.arange(K))
            u = part.pop("unobserved")
            for key, value in part.items():
                res.setdefault(key, np.empty((len(X_test), len(u))))[rows] = value
        E = len(X_test)
        frame = pd.DataFrame({key: value.ravel() for key, value in res.items()})
        frame.insert(0, "true", X_test[:, u].ravel())
        frame.insert(0, "observed_set", "+".join(names[j] for j in combo))
        frame.insert(0, "benchmark", np.tile(np.asarray(names)[u], E))
        frame.insert(0, "entity", np.repeat(np.asarray(entities), len(u)))
        frame.insert(0, "n_observed", len(combo))
        for column, value in reversed(labels.items()):
            frame.insert(0, column, value)
        frames.append(frame)
    return frames


def method_noise(Sigma: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
    """Observation noise sds (K,) of a method: ``noise`` if given, else the default of its
    covariance draws (:func:`~skillinfer_bayes.predictive.conditioning.default_noise`).

    Examples
    --------
    >>> method_noise(np.diag([4.0, 16.0])[None], None).round(3).tolist()
    [0.15, 0.15]
    """
    return default_noise(Sigma) if noise is None else noise


def evaluate(
    df: pd.DataFrame,
    test_fraction: float = 0.2,
    n_observed: int | Sequence[int] = (1, 2),
    methods: Sequence[str] = METHODS,
    random_seed: int = 0,
    population_size: int | None = None,
    replications: int = 1,
    levels: Sequence[float] = LEVELS,
    noise=None,
    prior: Prior | None = None,
    groups: str | pd.Series | Sequence | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    sampler: str | None = None,
    target_accept: float | None = None,
    sampler_config: SamplerConfig | None = None,
    n_jobs: int = 1,
    progressbar: bool = True,
    transform: str | dict | None = DEFAULT_TRANSFORM,
    bounds: tuple[float, float] | str | dict | None = DEFAULT_BOUNDS,
    covariates: str | Sequence[str] | dict | None = None,
) -> EvaluationResult:
    """Run the held-out calibration protocol for several methods on the same cells.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows = models, columns = benchmarks (numeric); rows with a missing score are dropped.
    test_fraction : float, default 0.2
        Share of rows held out as test models (full-population protocol).
    n_observed : int or sequence of int, default (1, 2)
        Numbers of observed benchmarks; every combination of that many is evaluated.
    methods : sequence of str
        Any of "bayes", "plugin", "diagonal", "mean".
    random_seed : int, default 0
        Seed of the permutation (and of the replications and fits).
    population_size : int, optional
        Subsample the fitted population to this many models (small-population study); each of
        ``replications`` repeats uses 100 test models.
    replications : int, default 1
        Repeats of the small-population study.
    levels : sequence of float
        Central-interval levels reported (coverage and bounds).
    noise : float, sequence of float or dict, optional
        Observation noise sd, one for all benchmarks, one per benchmark or
        ``{benchmark: sd}`` (default: 5% of the mean population sd, per method, as
        skillinfer; see :func:`~skillinfer_bayes.predictive.conditioning.default_noise`).
    prior : Prior, optional
        Prior of the "bayes" fits.
    draws, tune, chains, sampler, target_accept : optional
        Sampler settings of the "bayes" fits (default: :class:`SamplerConfig`'s, 4 x 1000
        draws after 1000 tuning steps); override ``sampler_config``.
    sampler_config : SamplerConfig, optional
        The sampler settings as one value.
    groups : str, pandas.Series or sequence, optional
        Group labels (a column of ``df`` or one per row) for a grouped "bayes" fit; each test
        model is predicted from its group's mean (population level for a group absent from
        the fitted rows). The other methods ignore groups.
    n_jobs : int, default 1
        Parallel fits of the replications through joblib (-1: all cores; follows an active
        ``joblib.parallel_config(backend="dask")``). Results do not depend on it.
    transform, bounds : default "copula", "auto"
        Per-benchmark transforms of the "bayes" fits (as in
        :meth:`Population.from_dataframe`; the copula marginals are estimated from each
        fitted population only; ``transform=None`` is the normal on the scores, the model
        before transforms). Its metrics are then those of the predictive on the score
        scale (:func:`predict_cells`); the other methods are unchanged.
    covariates : str, list of str or dict, optional
        Columns of ``df`` known for free (e.g. ``{"params_b": "log"}``), as in
        :meth:`Population.from_dataframe`: the "bayes" fits include them, and every test
        model observes its known covariates besides its ``n_observed`` benchmarks (the same
        cells are predicted and scored). The other methods ignore them.
    progressbar : bool
        Show progress over fits and observed sets.

    Returns
    -------
    EvaluationResult
        ``.cells``, ``.summary``, ``.by_benchmark``, ``.plot_calibration()``.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    >>> res = sib.evaluate(df, methods=("plugin", "mean"), random_seed=0, progressbar=False)
    >>> int(res.summary.loc[("plugin", 1), "n_cells"])
    27450
    """
    from skillinfer_bayes.studies.parallel import check_n_jobs, fit_many

    methods = check_methods(methods)
    random_seed = check_seed(random_seed)
    if random_seed is None:
        raise ValueError("random_seed must be an integer: it fixes the protocol's split.")
    matrix, labels, covariate_frame, covariate_spec = protocol_table(df, groups, covariates)
    C_all = None if covariate_frame is None else covariate_frame.to_numpy(dtype=float)
    X_all = matrix.to_numpy()
    names = list(matrix.columns)
    K = len(names)
    n = len(X_all)
    if noise is not None:
        noise = check_noise(noise, names)
    n_obs = check_n_observed(n_observed, K)
    levels = tuple(check_level(L) for L in levels)
    if 0.9 not in levels:
        raise ValueError(f"levels must include 0.9 (for width_90); got {levels!r}.")
    check_n_jobs(n_jobs)
    config = SamplerConfig.resolve(sampler_config, draws=draws, tune=tune, chains=chains,
                                   sampler=sampler, target_accept=target_accept)
    splits = make_splits(n, test_fraction, population_size, replications, random_seed)

    combos = [c for k in n_obs for c in itertools.combinations(range(K), k)]
    pops = [None] * len(splits)
    if "bayes" in methods:
        jobs = [
            dict(
                df=pd.DataFrame(X_all[train], columns=names) if C_all is None else
                pd.DataFrame(np.column_stack([X_all[train], C_all[train]]),
                             columns=[*names, *covariate_frame.columns]),
                covariates=covariate_spec or None, normalize=False, prior=prior,
                groups=None if labels is None else list(labels[train]), sampler_config=config,
                random_seed=seed, cache=False, transform=transform, bounds=bounds,
            )
            for _, train, seed in splits
        ]
        pops = fit_many(jobs, [f"replication {r}" for r in range(len(splits))], n_jobs,
                        progressbar, desc="evaluate: fitting")
    frames = []
    bar = tqdm(total=len(splits) * len(methods) * len(combos), disable=not progressbar,
               desc="evaluate: predicting", unit="set")
    for rep, ((test_idx, train_idx, seed), pop) in enumerate(zip(splits, pops)):
        X_train, X_test = X_all[train_idx], X_all[test_idx]
        for method in methods:
            if method == "bayes":
                def draws_for(g, pop=pop):
                    return pop.predictive_components(g, warn=False)
                test_groups = None if labels is None else labels[test_idx]
                # the noise of the scores, on the latent scale (slope 1 without transforms)
                given = None if noise is None else np.concatenate(
                    [noise, np.zeros(len(pop.covariate_names))])  # covariates: exact
                noise_sd = (pop.default_noise() if given is None else given) * \
                    pop.data.noise_slopes
                transforms = pop.data.transforms if pop.data.transformed else None
                test_covariates = None if C_all is None else C_all[test_idx]
            else:
                transforms = test_covariates = None
                fixed = _method_draws(method, X_train)
                def draws_for(g, fixed=fixed):
                    return fixed
                test_groups = None
                noise_sd = method_noise(fixed.flat_covariances(), noise)
            frames += score_cells(
                draws_for, X_test, test_groups, combos, noise_sd, levels, seed, names,
                matrix.index[test_idx], {"replication": rep, "method": method}, transforms,
                test_covariates,
            )
            bar.update(len(combos))
    bar.close()
    cells = pd.concat(frames, ignore_index=True)
    settings = {
        "test_fraction": test_fraction, "n_observed": tuple(n_obs), "methods": tuple(methods),
        "random_seed": random_seed, "population_size": population_size,
        "replications": len(splits), "n_rows": n, "draws": config.draws,
        "tune": config.tune, "chains": config.chains, "groups": labels is not None,
        "transform": transform, "bounds": bounds, "covariates": covariates,
    }
    return EvaluationResult(cells=cells, levels=levels, settings=settings)
