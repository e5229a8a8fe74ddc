"""skillinfer's held-out evaluation, with the Bayesian predictive in place of the plug-in.

:func:`held_out_evaluation` keeps the signature, the random splits and observations, and the
output columns of ``skillinfer.validation.held_out_evaluation`` (0.1.1), so a skillinfer user's
study runs unchanged with ``import skillinfer_bayes as skillinfer``. :func:`~skillinfer_bayes.
studies.evaluation.evaluate` is this library's own protocol (fixed split, exact CRPS, several
methods side by side).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_positive_int, check_seed
from skillinfer_bayes.data.prepared import latent_values
from skillinfer_bayes.data.transform_choice import transform_arguments
from skillinfer_bayes.inference.fitting import ModelSpec, SamplerConfig
from skillinfer_bayes.population import Population
from skillinfer_bayes.predictive.components import condition_components
from skillinfer_bayes.predictive.scores import coverage
from skillinfer_bayes.studies.parallel import fit_many
from skillinfer_bayes.studies.scoring import mixture_cells

#: Neighbours of skillinfer's k-nearest-neighbour baseline.
KNN_NEIGHBOURS = 10
#: Level of the interval whose coverage is reported (skillinfer's).
COVERAGE_LEVEL = 0.9

COLUMNS = ["split", "entity", "frac_observed", "method", "cosine_similarity", "rmse", "mae",
           "mse", "r_squared", "calibration_coverage", "mean_log_likelihood"]


def held_out_evaluation(
    pop: Population,
    frac_observed: float | list[float] = 0.3,
    n_splits: int = 10,
    obs_noise: float | None = 0.02,
    seed: int = 42,
    *,
    sampler_config: SamplerConfig | None = None,
    n_jobs: int = 1,
    progressbar: bool = False,
    spec: ModelSpec | None = None,
) -> pd.DataFrame:
    """Hold out entities, observe a fraction of their benchmarks, predict the rest.

    skillinfer's study (``skillinfer.validation.held_out_evaluation``): in each of
    ``n_splits`` random splits a fifth of the entities is held out and the population is
    refitted on the rest (here: the Bayesian model, with ``pop``'s prior, on ``pop.matrix``,
    already on the fitted scale). Each held-out entity observes a random ``frac_observed`` of
    its benchmarks with Gaussian noise of sd ``obs_noise`` and the others are predicted by

    - ``"kalman"``: the Bayesian predictive (every posterior draw conditioned on the noisy
      observations; skillinfer's name for conditioning with the full covariance is kept so
      that code selecting these rows runs unchanged);
    - ``"knn"``: the inverse-distance weighted mean of the 10 nearest training entities in the
      observed benchmarks;
    - ``"prior"``: the training mean.

    With the same ``seed`` the splits, observed benchmarks and noise are skillinfer's (the same
    random stream). Differences: ``calibration_coverage`` is the share of unobserved scores in
    the exact central 90% interval of the predictive mixture (skillinfer: ``mean +- 1.645 sd``
    of its Gaussian) and ``mean_log_likelihood`` is the mean log density of the mixture.
    With transformed benchmarks (the default "auto") each refit estimates the same kinds of
    transforms, with the same bounds, from its own rows; a noisy observation is clipped to its
    benchmark's bounds; the ``"kalman"`` mean, coverage and log density are those of the
    predictive on the scores' scale (:func:`~skillinfer_bayes.studies.scoring.
    mixture_cells`).

    Parameters
    ----------
    pop : Population
        A fitted population whose ``matrix`` is complete (no missing scores).
    frac_observed : float or list of float, default 0.3
        Fraction(s) of the K benchmarks observed (at least one).
    n_splits : int, default 10
        Number of random splits (one fit each).
    obs_noise : float or None, default 0.02
        Noise sd of the observations, on the fitted scale (skillinfer's default is meant for
        ``normalize=True`` scores in [0, 1]); ``None``: the population's default noise per
        benchmark (:meth:`Population.default_noise`).
    seed : int, default 42
        Seed of the splits, observations and fits.
    sampler_config : SamplerConfig, optional
        Sampler settings of the refits (default :class:`SamplerConfig`).
    n_jobs : int, default 1
        Fits run in parallel (see :func:`~skillinfer_bayes.studies.parallel.fit_many`).
    progressbar : bool, default False
        Show the fits' progress.
    spec : ModelSpec, optional
        The refits' model (default ``pop.spec`` with each benchmark's transform kind and
        bounds pinned to ``pop``'s); fitted on ``pop.matrix``'s scale.

    Returns
    -------
    pandas.DataFrame
        One row per (split, entity, fraction, method), skillinfer's columns: ``split``,
        ``entity``, ``frac_observed``, ``method``, ``cosine_similarity``, ``rmse``, ``mae``,
        ``mse``, ``r_squared``, ``calibration_coverage`` and ``mean_log_likelihood`` (NaN for
        ``knn`` and ``prior``).

    Examples
    --------
    >>> res = sib.validation.held_out_evaluation(pop, n_splits=2)  # doctest: +SKIP
    >>> res.groupby("method")["mae"].mean()  # doctest: +SKIP
    """
    fractions = [frac_observed] if np.ndim(frac_observed) == 0 else list(frac_observed)
    for frac in fractions:
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 < frac <= 1:
            raise ValueError(f"frac_observed must lie in (0, 1]; got {frac!r}.")
    n_splits = check_positive_int("n_splits", n_splits)
    seed = check_seed(seed)
    if pop.covariate_names:
        raise ValueError(
            "held_out_evaluation is skillinfer's study of scores alone; this population has "
            f"covariates {pop.covariate_names}. Use sib.evaluate(df, covariates=...), which "
            "observes them for every test model."
        )
    R = pop.matrix.to_numpy()
    if np.isnan(R).any():
        raise ValueError(
            f"held_out_evaluation needs a complete table; pop.matrix has "
            f"{int(np.isnan(R).any(axis=1).sum())} row(s) with missing scores. Fit the "
            "population to df.dropna(), or use sib.evaluate, which holds out complete rows "
            "and fits on all the others."
        )
    N, K = R.shape
    if N < 5:
        raise ValueError(f"held_out_evaluation needs at least 5 entities; pop has {N}.")
    noise = (pop.default_noise() if obs_noise is None
             else np.full(K, float(obs_noise)))
    if not np.all(np.isfinite(noise)) or np.any(noise < 0):
        raise ValueError(f"obs_noise must be a finite sd >= 0 or None; got {obs_noise!r}.")

    # skillinfer's random stream: per split the permutation, then per fraction and entity the
    # observed benchmarks and their noise
    rng = np.random.default_rng(seed)
    splits, observations = [], []
    for _ in range(n_splits):
        perm = rng.permutation(N)
        n_test = max(1, N // 5)
        test_idx = perm[:n_test]
        splits.append((test_idx, perm[n_test:]))
        per_split = []
        for frac in fractions:
            n_obs = max(1, int(K * frac))
            per_frac = []
            for ei in test_idx:
                dims = rng.choice(K, size=n_obs, replace=False)
                scale = noise[dims] if obs_noise is None else float(obs_noise)
                per_frac.append((dims, R[ei, dims] + rng.normal(0, scale, n_obs)))
            per_split.append(per_frac)
        observations.append(per_split)

    # each refit estimates the same kinds of transforms (a copula: from its own rows)
    transforms = pop.data.transforms
    kinds, limits = transform_arguments(pop.benchmark_names, transforms, pin_inferred=True)
    if spec is None:  # pop's model, its scales pinned (pop.matrix is on the fitted scale)
        spec = dataclasses.replace(pop.spec, transform=kinds, bounds=limits)
    elif not isinstance(spec, ModelSpec):
        raise TypeError(f"spec must be a skillinfer_bayes.ModelSpec, got "
                        f"{type(spec).__name__}.")
    spec = dataclasses.replace(spec, normalize=False, groups=None)
    jobs = [dict(df=pd.DataFrame(R[train], columns=pop.benchmark_names), spec=spec,
                 sampler_config=sampler_config, random_seed=seed + split, cache=False)
            for split, (_, train) in enumerate(splits)]
    fits = fit_many(jobs, [f"split {s}" for s in range(n_splits)], n_jobs, progressbar,
                    desc="held_out_evaluation: fitting")

    lower = np.array([t.bounds[0] for t in transforms])
    upper = np.array([t.bounds[1] for t in transforms])
    rows = []
    for split, ((test_idx, train_idx), fitted) in enumerate(zip(splits, fits)):
        R_train = R[train_idx]
        train_mean = R_train.mean(axis=0)
        components = fitted.predictive_components()
        fitted_transforms = fitted.data.transforms if fitted.data.transformed else None
        latent_noise = noise * fitted.data.noise_slopes
        for frac, per_frac in zip(fractions, observations[split]):
            for ei, (dims, values) in zip(test_idx, per_frac):
                unobserved = np.setdiff1d(np.arange(K), dims)
                if len(unobserved) == 0:
                    continue
                true = R[ei, unobserved]
                row = R[ei].copy()  # the true scores, the noisy observations in place
                row[dims] = values if fitted_transforms is None else np.clip(
                    values, lower[dims], upper[dims])  # a score lies inside its bounds
                Z = row[None] if fitted_transforms is None else latent_values(
                    row[None], fitted_transforms)
                mixture = condition_components(components, dims, Z[:, dims],
                                               latent_noise**2)
                cells = mixture_cells(mixture, row[None], Z, unobserved, fitted_transforms,
                                      levels=())
                bayes = cells["mean"][0]
                rows.append(_row(split, pop.entity_names[ei], frac, "kalman", bayes, true,
                                 float(coverage(cells["pit"][0], COVERAGE_LEVEL).mean()),
                                 float(cells["log_score"][0].mean())))
                dists = np.linalg.norm(R_train[:, dims] - values, axis=1)
                k = min(KNN_NEIGHBOURS, len(R_train))
                nearest = np.argpartition(dists, k - 1)[:k]
                w = 1.0 / (dists[nearest] + 1e-8)
                knn = (R_train[nearest] * (w / w.sum())[:, None]).sum(axis=0)
                for method, mean in (("knn", knn), ("prior", train_mean)):
                    rows.append(_row(split, pop.entity_names[ei], frac, method,
                                     mean[unobserved], true, np.nan, np.nan))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(split, entity, frac, method, pred, true, covered, log_lik) -> dict:
    """One output row: skillinfer's accuracy metrics of ``pred`` against ``true``."""
    mse = float(np.mean((pred - true) ** 2))
    norm_pred, norm_true = np.linalg.norm(pred), np.linalg.norm(true)
    similar = norm_pred >= 1e-10 and norm_true >= 1e-10
    ss_tot = float(np.sum((true - true.mean()) ** 2))
    return {
        "split": split, "entity": entity, "frac_observed": frac, "method": method,
        "cosine_similarity": float(pred @ true / (norm_pred * norm_true)) if similar else 0.0,
        "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(pred - true))), "mse": mse,
        "r_squared": 1.0 - mse * len(true) / ss_tot if ss_tot >= 1e-15 else 0.0,
        "calibration_coverage": covered, "mean_log_likelihood": log_lik,
    }
