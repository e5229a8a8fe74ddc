"""The batched per-row likelihood against independent references: scipy's and PyMC's
multivariate normal on each row's observed block, and the per-pattern sufficient statistics."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from helpers import QUICK
from scipy.stats import multivariate_normal

from skillinfer_bayes.data.sufficient_stats import pattern_stats
from skillinfer_bayes.models import mvn
from skillinfer_bayes.models.masked import masked_factor_loglik, masked_mvn_loglik, masked_rows
from skillinfer_bayes.models.priors import Prior


def random_rows(N: int, K: int, seed: int, known: float = 0.5):
    """Rows with random missingness (each keeps at least one score), a mean and covariance."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(K, K))
    cov = A @ A.T / K + np.diag(rng.uniform(0.2, 1.0, K))
    mu = rng.normal(size=K)
    X = rng.multivariate_normal(mu, cov, size=N)
    observed = rng.random((N, K)) < known
    observed[np.arange(N), rng.integers(K, size=N)] = True
    return np.where(observed, X, np.nan), mu, cov


def test_the_masked_kernel_is_the_observed_blocks_density():
    X, mu, cov = random_rows(60, 7, seed=1)
    values, mask = masked_rows(X)
    got = masked_mvn_loglik(values, mask, mu, cov).eval()
    for i, x in enumerate(X):
        o = ~np.isnan(x)
        ref = multivariate_normal(mu[o], cov[np.ix_(o, o)]).logpdf(x[o])
        pymc = pm.logp(pm.MvNormal.dist(mu[o], cov[np.ix_(o, o)]), x[o]).eval()
        assert got[i] == pytest.approx(ref, rel=1e-10, abs=1e-10)
        assert got[i] == pytest.approx(pymc, rel=1e-10, abs=1e-10)


def test_the_woodbury_kernel_equals_the_dense_one():
    rng = np.random.default_rng(2)
    N, K, r = 50, 12, 3
    loadings = rng.normal(size=(K, r))
    psi = rng.uniform(0.3, 1.2, K)
    cov = loadings @ loadings.T + np.diag(psi**2)
    X = rng.multivariate_normal(np.zeros(K), cov, size=N)
    X[rng.random((N, K)) < 0.6] = np.nan
    X[np.arange(N), rng.integers(K, size=N)] = 0.1
    values, mask = masked_rows(X)
    mu = rng.normal(size=K)
    dense = masked_mvn_loglik(values, mask, mu, cov).eval()
    woodbury = masked_factor_loglik(values, mask, mu, loadings, psi).eval()
    np.testing.assert_allclose(woodbury, dense, rtol=1e-10)
    for i, x in enumerate(X[:10]):
        o = ~np.isnan(x)
        ref = multivariate_normal(mu[o], cov[np.ix_(o, o)]).logpdf(x[o])
        assert woodbury[i] == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("grouped", [False, True])
def test_the_per_row_model_equals_the_per_pattern_model_and_its_gradient(grouped):
    X, _, _ = random_rows(40, 3, seed=3, known=0.6)
    rng = np.random.default_rng(4)
    codes = rng.integers(2, size=len(X)) if grouped else None
    groups = ["g0", "g1"] if grouped else None
    stats = pattern_stats(X, codes)
    names = ["a", "b", "c"]
    per_pattern = mvn.build_model(stats, names, Prior(), groups)
    rows = (*masked_rows(X), np.full(len(X), -1) if codes is None else codes)
    per_row = mvn.build_model(stats, names, Prior(), groups, rows)
    point = per_pattern.initial_point(random_seed=5)
    point = {k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in point.items()}
    assert per_row.compile_logp(mode=QUICK)(point) == pytest.approx(
        per_pattern.compile_logp(mode=QUICK)(point),
                                                          rel=1e-10)
    np.testing.assert_allclose(per_row.compile_dlogp(mode=QUICK)(point),
                               per_pattern.compile_dlogp(mode=QUICK)(point), rtol=1e-8)


def test_many_patterns_switch_to_the_per_row_kernel_and_its_key_ignores_them():
    X, _, _ = random_rows(200, 8, seed=6)
    stats = pattern_stats(X)
    assert len(stats) > mvn.MAX_PATTERN_BLOCKS and mvn.uses_rows(stats)
    other = pattern_stats(random_rows(200, 8, seed=7)[0])
    # one compiled sampler for any missingness of a table of this shape
    assert mvn.structure_key(stats, 8, Prior()) == mvn.structure_key(other, 8, Prior())
    few = pattern_stats(random_rows(200, 3, seed=8, known=0.9)[0])
    assert not mvn.uses_rows(few)
