"""The EM factor analysis with missing values: its likelihood against scipy's densities, the
EM ascent, recovery of a known covariance, its errors; and the "em" method of the cells
protocol conditioning through it."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import simulate_sparse
from scipy.stats import multivariate_normal

from skillinfer_bayes.models.factor_em import fit_factor_em


def test_the_em_likelihood_is_the_rows_observed_densities_and_never_decreases():
    X = simulate_sparse(60, 8, 0.5, seed=1, r=2).to_numpy() * 7.0 + 40.0  # any scale
    fit = fit_factor_em(X, 2)
    assert fit.converged
    ref = sum(multivariate_normal(fit.mean[o], fit.covariance[np.ix_(o, o)]).logpdf(x[o])
              for x in X for o in [~np.isnan(x)])
    assert fit.loglik == pytest.approx(ref, rel=1e-10)
    path = [fit_factor_em(X, 2, max_iter=k).loglik for k in (2, 3, 5, 10, 30, 100)]
    early = fit_factor_em(X, 2, max_iter=5)  # the log-likelihood of what it returns
    assert not early.converged and early.n_iter == 5
    assert early.loglik == pytest.approx(sum(
        multivariate_normal(early.mean[o], early.covariance[np.ix_(o, o)]).logpdf(x[o])
        for x in X for o in [~np.isnan(x)]), rel=1e-10)
    assert np.all(np.diff(path) >= -1e-9 * abs(path[-1]))
    assert path[-1] <= fit.loglik + 1e-9 * abs(fit.loglik)


def test_em_recovers_a_known_factor_covariance_from_many_sparse_rows():
    rng = np.random.default_rng(2)
    K = 6
    loadings = rng.normal(size=(K, 2))
    cov = loadings @ loadings.T + np.diag(rng.uniform(0.2, 0.5, K))
    X = rng.multivariate_normal(np.arange(K, dtype=float), cov, size=20000)
    X[rng.random(X.shape) < 0.4] = np.nan
    fit = fit_factor_em(X, 2)
    sd = np.sqrt(np.diag(cov))  # errors in units of the sds (sampling error ~0.015 here)
    assert (np.abs(fit.covariance - cov) / np.outer(sd, sd)).max() < 0.04
    np.testing.assert_allclose(fit.mean, np.arange(K), atol=0.03)


def test_bad_em_inputs_are_refused_with_the_fix():
    X = simulate_sparse(20, 4, 0.8, seed=3).to_numpy().copy()
    with pytest.raises(ValueError, match="n_factors must be an integer from 1 to 3; got 4"):
        fit_factor_em(X, 4)
    X[:, 2] = np.nan
    X[0, 2] = 1.0
    with pytest.raises(ValueError, match=r"Columns \[2\] have fewer than 2 observed scores"):
        fit_factor_em(X, 1)
