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
- ``"plugin_mixture"``: a Gaussian mixture fitted by EM (scikit-learn's ``GaussianMixture``),
  plugged in as one draw of C components: the plug-in counterpart of ``components=``, with
  the same C when ``components`` is a number and C chosen by BIC (1 to 8) otherwise
  (:func:`plugin_mixture`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from skillinfer_bayes.data.checks import check_level, check_noise, check_seed
from skillinfer_bayes.inference.fitting import ModelSpec, SamplerConfig, resolve_options
from skillinfer_bayes.models.mixture import mixture_moments
from skillinfer_bayes.predictive.components import ComponentDraws
from skillinfer_bayes.predictive.conditioning import default_noise
from skillinfer_bayes.studies.cells import DEFAULT_METHODS as CELL_METHODS
from skillinfer_bayes.studies.cells import evaluate_cells
from skillinfer_bayes.studies.protocol import (
    check_n_observed,
    make_splits,
    protocol_table,
)
from skillinfer_bayes.studies.scoring import (
    LEVELS,
    EvaluationResult,
    fit_table,
    predict_cells,
)

METHODS = ("bayes", "plugin", "diagonal", "mean", "plugin_mixture")
#: The default methods of the fixed protocol.
DEFAULT_METHODS = ("bayes", "plugin", "diagonal", "mean")
#: Most components the plug-in mixture's BIC tries.
MAX_PLUGIN_COMPONENTS = 8


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


def plugin_mixture(X: np.ndarray, components: int | str = "auto",
                   random_seed: int = 0) -> ComponentDraws:
    """A Gaussian mixture fitted by EM to the rows ``X``, as one draw of C components.

    ``components`` a number: that C; otherwise the C of 1 to ``MAX_PLUGIN_COMPONENTS`` with
    the lowest BIC.

    Examples
    --------
    >>> X = np.vstack([np.random.default_rng(0).normal(size=(100, 2)),
    ...                np.random.default_rng(1).normal(size=(100, 2)) + 6.0])
    >>> plugin_mixture(X).n_components
    2
    """
    from sklearn.mixture import GaussianMixture

    def fitted(C: int) -> GaussianMixture:
        return GaussianMixture(C, random_state=random_seed, reg_covar=1e-6).fit(X)

    if isinstance(components, (int, np.integer)) and not isinstance(components, bool):
        gmm = fitted(int(components))
    else:
        fits = [fitted(C) for C in range(1, MAX_PLUGIN_COMPONENTS + 1)]
        gmm = min(fits, key=lambda g: g.bic(X))
    return ComponentDraws(gmm.means_[None], gmm.covariances_[None], gmm.weights_[None])


def _method_draws(method: str, X: np.ndarray, components: int | str = "auto",
                  random_seed: int = 0) -> ComponentDraws:
    """The one-draw normal (or mixture) of a plug-in method fitted to the training rows
    ``X``."""
    if method == "plugin_mixture":
        return plugin_mixture(X, components if components != 1 else "auto", random_seed)
    if method == "plugin":
        return ComponentDraws.normal(*plugin_moments(X))
    if method == "diagonal":
        mu, cov = plugin_moments(X)
        return ComponentDraws.normal(mu, np.diag(np.diagonal(cov[0]))[None])
    mu = X.mean(axis=0)[None]
    return ComponentDraws.normal(mu, np.diag(X.var(axis=0, ddof=1))[None])


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
    methods: Sequence[str] | None = None,
    random_seed: int = 0,
    population_size: int | None = None,
    replications: int = 1,
    levels: Sequence[float] = LEVELS,
    noise=None,
    groups: str | pd.Series | Sequence | None = None,
    n_jobs: int = 1,
    progressbar: bool = True,
    protocol: str = "entities",
    hide_fraction: float = 0.5,
    folds: int = 3,
    min_known: int = 2,
    em_factors: int | None = None,
    spec: ModelSpec | None = None,
    sampler_config: SamplerConfig | None = None,
    **options,
) -> EvaluationResult:
    """Run the held-out calibration protocol for several methods on the same cells.

    ``protocol="entities"`` (the default, the fixed protocol) holds out whole models of the
    complete rows; ``protocol="cells"`` holds out cells of every entity of a sparse table
    (:func:`~skillinfer_bayes.studies.cells.evaluate_cells`, with ``hide_fraction``,
    ``folds`` and ``min_known``; its summary adds the median absolute (percentage) error).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows = models, columns = benchmarks (numeric); rows with a missing score are dropped.
    test_fraction : float, default 0.2
        Share of rows held out as test models (full-population protocol).
    n_observed : int or sequence of int, default (1, 2)
        Numbers of observed benchmarks; every combination of that many is evaluated.
    methods : sequence of str, optional
        Any of "bayes", "plugin", "diagonal", "mean" (default: these four) and
        "plugin_mixture" (with ``components``' C, or C by BIC); with
        ``protocol="cells"`` any of "bayes", "mean", "knn" (default: these three) and "em"
        (the plug-in factor analysis of rank ``em_factors``).
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
    groups : str, pandas.Series or sequence, optional
        Group labels (a column of ``df`` or one per row) for a grouped "bayes" fit; each test
        model is predicted from its group's mean (population level for a group absent from
        the fitted rows). The other methods ignore groups.
    n_jobs : int, default 1
        Parallel fits of the replications through joblib (-1: all cores; follows an active
        ``joblib.parallel_config(backend="dask")``). Results do not depend on it.
    protocol : {"entities", "cells"}, default "entities"
        Which held-out protocol (above).
    hide_fraction, folds, min_known, em_factors :
        The cell-holdout protocol's settings (see
        :func:`~skillinfer_bayes.studies.cells.evaluate_cells`; ``em_factors`` is the rank
        of its "em" method, default ``n_factors``); unused by "entities".
    progressbar : bool
        Show progress over fits and observed sets.
    spec : ModelSpec, optional
        The model of the "bayes" fits (:class:`~skillinfer_bayes.ModelSpec`; default
        ``ModelSpec()``, the default model). They are fitted on the scores' own scale
        (``normalize`` is ignored); its ``covariates`` are columns of ``df`` that every test
        model observes besides its ``n_observed`` benchmarks (the same cells are predicted and
        scored); its ``transform`` is estimated from each fitted population only, and the
        metrics are those of the predictive on the score scale. The other methods ignore the
        spec but for ``components``, whose C the "plugin_mixture" method shares.
        ``protocol="cells"`` takes no covariates, groups or components yet.
    sampler_config : SamplerConfig, optional
        The "bayes" fits' sampler settings (default :class:`SamplerConfig`'s, 4 x 1000 draws
        after 1000 tuning steps).
    **options
        Any :class:`~skillinfer_bayes.ModelSpec` field (``transform=None``,
        ``covariates={"params_b": "log"}``, ``components="auto"``, ...) or
        :class:`~skillinfer_bayes.SamplerConfig` field (``draws=500``, ...): a convenience
        that builds the spec (not beside one) and overrides the sampler config.

    Returns
    -------
    EvaluationResult
        ``.cells``, ``.summary``, ``.by_benchmark``, ``.plot_calibration()`` and ``.fits``
        (the "bayes" fits' number of components, the one chosen with ``components="auto"``,
        and their sampler diagnostics, one row per replication).

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    >>> res = sib.evaluate(df, methods=("plugin", "mean"), random_seed=0, progressbar=False)
    >>> int(res.summary.loc[("plugin", 1), "n_cells"])
    27450
    """
    from skillinfer_bayes.studies.parallel import check_n_jobs, fit_many

    spec, config = resolve_options(spec, sampler_config, options, "evaluate")
    if groups is None:
        groups = spec.groups
    if protocol == "cells":
        if groups is not None or spec.covariates is not None or noise is not None or \
                spec.components != 1:
            raise ValueError("protocol='cells' takes no groups, covariates, noise or "
                             "components yet; evaluate them with the default "
                             "protocol='entities'.")
        return evaluate_cells(
            df, hide_fraction=hide_fraction, folds=folds, min_known=min_known,
            methods=CELL_METHODS if methods is None else methods, random_seed=random_seed,
            levels=levels, n_jobs=n_jobs, progressbar=progressbar, em_factors=em_factors,
            spec=spec, sampler_config=config,
        )
    if protocol != "entities":
        raise ValueError(f"Unknown protocol {protocol!r}; choose 'entities' (held-out models, "
                         "the fixed protocol) or 'cells' (held-out cells of a sparse table).")
    methods = check_methods(DEFAULT_METHODS if methods is None else methods)
    random_seed = check_seed(random_seed)
    if random_seed is None:
        raise ValueError("random_seed must be an integer: it fixes the protocol's split.")
    matrix, labels, covariate_frame, covariate_spec = protocol_table(df, groups,
                                                                     spec.covariates)
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
    splits = make_splits(n, test_fraction, population_size, replications, random_seed)

    combos = [c for k in n_obs for c in itertools.combinations(range(K), k)]
    pops = [None] * len(splits)
    if "bayes" in methods:
        # the fits' model: on the scores' own scale, groups as each split's labels
        fit_spec = dataclasses.replace(spec, normalize=False, groups=None,
                                       covariates=covariate_spec or None)
        jobs = [
            dict(
                df=pd.DataFrame(X_all[train], columns=names) if C_all is None else
                pd.DataFrame(np.column_stack([X_all[train], C_all[train]]),
                             columns=[*names, *covariate_frame.columns]),
                spec=fit_spec, groups=None if labels is None else list(labels[train]),
                sampler_config=config, random_seed=seed, cache=False,
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
                fixed = _method_draws(method, X_train, spec.components, seed)
                def draws_for(g, fixed=fixed):
                    return fixed
                test_groups = None
                # the default noise from the population's covariance (a mixture's moments)
                noise_sd = method_noise(
                    mixture_moments(fixed.weights, fixed.means, fixed.covariances)[1], noise)
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
        "replications": len(splits), "n_rows": n, "groups": labels is not None,
        **config.to_dict(), **spec.to_dict(),
    }
    return EvaluationResult(cells=cells, levels=levels, settings=settings,
                            fits=fit_table(pops))
