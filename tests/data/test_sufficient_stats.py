"""The sufficient-statistics likelihood against PyMC's per-row MvNormal (the textbook model)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from helpers import QUICK

from skillinfer_bayes.data.sufficient_stats import loglik_draws, pattern_stats
from skillinfer_bayes.models.mvn import build_model, per_row_model
from skillinfer_bayes.models.priors import Prior

K = 4
NAMES = ["w", "x", "y", "z"]


def random_data(n: int, missing: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(K, K))
    X = rng.multivariate_normal(rng.normal(size=K), A @ A.T + np.eye(K), size=n)
    if missing:
        X[rng.random(X.shape) < missing] = np.nan
    return X


def random_point(model: pm.Model, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    start = model.initial_point()
    return {k: v + rng.normal(scale=0.5, size=np.shape(v)) for k, v in start.items()}


def per_row_reference(X: np.ndarray, mu: np.ndarray, Sigma: np.ndarray) -> float:
    """Sum of pm.MvNormal's per-row logp, each row on its own observed sub-block."""
    total = 0.0
    masks = ~np.isnan(X)
    for mask in np.unique(masks[masks.any(axis=1)], axis=0):
        o = np.flatnonzero(mask)
        rows = X[(masks == mask).all(axis=1)][:, o]
        dist = pm.MvNormal.dist(mu=mu[o], cov=Sigma[np.ix_(o, o)])
        per_row = pm.logp(dist, rows).eval()
        assert per_row.shape == (len(rows),)
        total += float(per_row.sum())
    return total


def test_complete_data_model_logp_equals_per_row_mvnormal():
    X = random_data(60, missing=0.0, seed=0)
    prior = Prior(eta=1.5)
    ours = build_model(pattern_stats(X), NAMES, prior)
    textbook = per_row_model(X, NAMES, prior)
    for seed in range(3):
        point = random_point(ours, seed)
        assert ours.compile_logp(mode=QUICK)(point) == pytest.approx(
            textbook.compile_logp(mode=QUICK)(point), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_missing_pattern_loglik_equals_per_row_mvnormal(seed):
    X = random_data(40, missing=0.3, seed=seed)
    stats = pattern_stats(X)
    assert len(stats) > 3  # several missingness patterns
    model = build_model(stats, NAMES, Prior())
    point = random_point(model, seed)
    outs = model.replace_rvs_by_values([model["mu_std"], model["chol"], model["loglik"]])
    fn = pm.pytensorf.compile(model.value_vars, outs)
    mu, chol_packed, loglik = fn(*[point[v.name] for v in model.value_vars])
    L = np.zeros((K, K))
    L[np.tril_indices(K)] = chol_packed
    Sigma = L @ L.T
    reference = per_row_reference(X, mu, Sigma)
    assert float(loglik) == pytest.approx(reference, rel=1e-9)
    assert float(loglik_draws(stats, mu, Sigma)) == pytest.approx(reference, rel=1e-9)


def test_numpy_loglik_is_batched_over_draws():
    X = random_data(30, missing=0.2, seed=4)
    stats = pattern_stats(X)
    rng = np.random.default_rng(0)
    mus = rng.normal(size=(5, K))
    A = rng.normal(size=(5, K, K))
    Sigmas = A @ np.swapaxes(A, 1, 2) + np.eye(K)
    batched = loglik_draws(stats, mus, Sigmas)
    one_by_one = [per_row_reference(X, m, S) for m, S in zip(mus, Sigmas)]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-9)


def test_patterns_cover_every_row_once():
    X = random_data(50, missing=0.4, seed=2)
    X[0] = np.nan  # a row with no score belongs to no pattern
    stats = pattern_stats(X)
    rows = np.sort(np.concatenate([s.rows for s in stats]))
    expected = np.flatnonzero(~np.isnan(X).all(axis=1))
    np.testing.assert_array_equal(rows, expected)
    for s in stats:
        block = X[np.ix_(s.rows, s.observed)]
        assert not np.isnan(block).any()
        np.testing.assert_allclose(s.mean, block.mean(axis=0))


def test_per_row_model_rejects_missing_values():
    with pytest.raises(ValueError, match="complete rows only"):
        per_row_model(random_data(10, missing=0.5, seed=0), NAMES, Prior())


def test_pointwise_loglik_sums_to_the_joint_and_matches_scipy():
    from scipy import stats

    from skillinfer_bayes.data.sufficient_stats import pointwise_loglik

    X = random_data(40, missing=0.3, seed=9)
    rng = np.random.default_rng(1)
    mus = rng.normal(size=(6, K))
    A = rng.normal(size=(6, K, K))
    Sigmas = A @ np.swapaxes(A, 1, 2) + np.eye(K)
    ll = pointwise_loglik(X, mus, Sigmas)
    assert ll.shape == (6, 40)
    np.testing.assert_allclose(ll.sum(axis=1), loglik_draws(pattern_stats(X), mus, Sigmas),
                               rtol=1e-10)
    for i in (0, 7, 21):
        o = np.flatnonzero(~np.isnan(X[i]))
        ref = stats.multivariate_normal(mus[2][o], Sigmas[2][np.ix_(o, o)]).logpdf(X[i, o])
        assert ll[2, i] == pytest.approx(ref, rel=1e-10)
