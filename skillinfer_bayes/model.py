"""Build the PyMC population model with the sufficient-statistics likelihood.

The model knows nothing of profiles or predictions: it takes the (standardized) sufficient
statistics of each missingness pattern and a :class:`~skillinfer_bayes.priors.Prior`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.slinalg import solve_triangular

from skillinfer_bayes.priors import Prior
from skillinfer_bayes.sufficient_stats import LOG_2PI, PatternStats

#: Names of the free variables of the model (on the standardized scale).
MEAN_VAR = "mu_std"
CHOL_VAR = "chol"


def sd_distribution(prior: Prior, K: int):
    """The PyMC distribution (``.dist``) of the K benchmark sds for ``prior.sd``."""
    if prior.sd == "halfnormal":
        return pm.HalfNormal.dist(sigma=prior.sd_scale, shape=K)
    if prior.sd == "exponential":
        return pm.Exponential.dist(scale=prior.sd_scale, shape=K)
    return pm.HalfStudentT.dist(nu=prior.sd_nu, sigma=prior.sd_scale, shape=K)


def pattern_loglik(
    stats: PatternStats, mu: pt.TensorVariable, chol: pt.TensorVariable, K: int, label: str
):
    """Symbolic log-likelihood of one missingness pattern through its sufficient statistics.

    The statistics enter as ``pm.Data`` (``n_<label>``, ``mean_<label>``, ``scatter_<label>``),
    not constants, so that fits of same-shaped data can share one compiled sampler.
    """
    o = stats.observed
    k = len(o)
    n = pm.Data(f"n_{label}", float(stats.n))
    mean = pm.Data(f"mean_{label}", stats.mean)
    scatter = pm.Data(f"scatter_{label}", stats.scatter)
    if k == K:
        L = chol
        mu_o = mu
    else:
        Sigma = chol @ chol.T
        L = pt.linalg.cholesky(Sigma[o][:, o])
        mu_o = mu[o]
    Linv = solve_triangular(L, pt.eye(k), lower=True)
    d = mean - mu_o
    quad = pt.sum((Linv @ scatter) * Linv) + n * pt.sum((Linv @ d) ** 2)
    logdet = 2.0 * pt.sum(pt.log(pt.diag(L)))
    return -0.5 * (n * logdet + quad + n * k * LOG_2PI)


def build_model(stats: Sequence[PatternStats], benchmarks: Sequence[str], prior: Prior) -> pm.Model:
    """The hierarchical multivariate-normal population model of DESIGN.md.

    Parameters
    ----------
    stats : sequence of PatternStats
        Sufficient statistics of the **standardized** scores, one per missingness pattern.
    benchmarks : sequence of str
        Benchmark names (the ``benchmark`` coordinate).
    prior : Prior
        Prior choices, on the standardized scale.

    Returns
    -------
    pymc.Model
        Free variables ``mu_std`` (K means) and ``chol`` (LKJ Cholesky factor of the covariance,
        with deterministics ``chol_stds`` and ``chol_corr``); the likelihood enters as the
        potential ``loglik``.

    Examples
    --------
    >>> import numpy as np
    >>> from skillinfer_bayes.sufficient_stats import pattern_stats
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> model = build_model(pattern_stats(X), ["a", "b", "c"], Prior())
    >>> sorted(v.name for v in model.free_RVs)
    ['chol', 'mu_std']
    """
    # The graph depends on the data only through pm.Data values; its *structure* is fixed by
    # structure_key(stats, len(benchmarks), prior).
    model, mu, chol = _population_priors(benchmarks, prior)
    with model:
        K = len(benchmarks)
        total = sum(pattern_loglik(s, mu, chol, K, str(p)) for p, s in enumerate(stats))
        pm.Potential("loglik", total)
    return model


def _population_priors(benchmarks: Sequence[str], prior: Prior):
    """A model holding the population priors: returns (model, mu, chol)."""
    K = len(benchmarks)
    coords = {"benchmark": list(benchmarks), "benchmark_bis": list(benchmarks)}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal(MEAN_VAR, mu=0.0, sigma=prior.mean_scale, dims="benchmark")
        chol, _, _ = pm.LKJCholeskyCov(
            CHOL_VAR, n=K, eta=prior.eta, sd_dist=sd_distribution(prior, K), compute_corr=True
        )
    return model, mu, chol


def structure_key(stats: Sequence[PatternStats], K: int, prior: Prior) -> tuple:
    """What fixes the model graph apart from its data: K, the observed sets, the prior."""
    return (K, tuple(tuple(int(i) for i in s.observed) for s in stats), prior)


def per_row_model(X: np.ndarray, benchmarks: Sequence[str], prior: Prior) -> pm.Model:
    """The textbook reference: the same priors with a per-row ``pm.MvNormal`` likelihood.

    Only complete rows are supported (as in the textbook model). It is used by the tests and the
    speed benchmark as the independent reference for :func:`build_model`.
    """
    X = np.asarray(X, dtype=float)
    if np.isnan(X).any():
        raise ValueError("per_row_model takes complete rows only; drop rows with NaN first.")
    model, mu, chol = _population_priors(benchmarks, prior)
    with model:
        pm.MvNormal("y", mu=mu, chol=chol, observed=X)
    return model
