"""Batched conditioning and the predictive mixture against direct, independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from skillinfer_bayes.predictive.conditioning import condition, condition_factor
from skillinfer_bayes.predictive.mixture import (
    mixture_cdf,
    mixture_mean,
    mixture_quantile,
    mixture_var,
)


def random_draws(S: int, K: int, seed: int):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(S, K, K))
    return rng.normal(size=(S, K)), A @ np.swapaxes(A, 1, 2) + 0.5 * np.eye(K)


def direct(mu, Sigma, o, x, r):
    """Textbook conditioning of one draw with a single matrix solve."""
    M = Sigma[np.ix_(o, o)] + r * np.eye(len(o))  # r: a variance or an (m, m) matrix
    mean = mu + Sigma[:, o] @ np.linalg.solve(M, x - mu[o])
    cov = Sigma - Sigma[:, o] @ np.linalg.solve(M, Sigma[o, :])
    return mean, cov


@pytest.mark.parametrize("observed", [[2], [0, 3], [4, 1, 2], [0, 1, 2, 3, 4]])
@pytest.mark.parametrize("noise_var", [0.0, 0.3])
def test_batched_conditioning_equals_per_draw_solve(observed, noise_var):
    mu, Sigma = random_draws(50, 5, seed=len(observed))
    o = np.array(observed)
    x = np.linspace(-1, 1, len(o))
    means, cov = condition(mu, Sigma, o, x, noise_var, full_cov=True)
    _, var = condition(mu, Sigma, o, x, noise_var)
    for s in range(len(mu)):
        m_ref, c_ref = direct(mu[s], Sigma[s], o, x, noise_var)
        np.testing.assert_allclose(means[s], m_ref, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(cov[s], c_ref, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(var[s], np.diag(c_ref), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("observed", [[], [2], [6, 0, 3], list(range(8))])
@pytest.mark.parametrize("noise_var", [0.0, "per benchmark"])
def test_woodbury_conditioning_equals_the_dense_one_with_evidence(observed, noise_var):
    rng = np.random.default_rng(len(observed))
    S, K, r = 30, 8, 3
    loadings = rng.normal(size=(S, K, r))
    specific = rng.uniform(0.1, 1.0, size=(S, K))
    mu = rng.normal(size=(S, K))
    Sigma = loadings @ np.swapaxes(loadings, 1, 2) + specific[:, :, None] * np.eye(K)
    noise = rng.uniform(0.0, 0.5, K) if noise_var else 0.0
    o = np.array(observed, dtype=int)
    X = rng.normal(size=(4, len(o)))  # four entities at once
    for full_cov in (False, True):
        dense = condition(mu, Sigma, o, X, noise, full_cov=full_cov, log_evidence=True)
        factor = condition_factor(mu, loadings, specific, o, X, noise, full_cov=full_cov,
                                  log_evidence=True)
        for got, want in zip(factor, dense):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    # and the per-draw textbook solve, for one entity
    means, cov = condition_factor(mu, loadings, specific, o, X[0], noise, full_cov=True)
    for s in range(S):
        m_ref, c_ref = direct(mu[s], Sigma[s], o, X[0], noise if np.ndim(noise) == 0
                              else np.diag(noise[o]))
        np.testing.assert_allclose(means[s], m_ref, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(cov[s], c_ref, rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="must be distinct"):
        condition_factor(mu, loadings, specific, np.array([1, 1]), np.array([1.0, 2.0]))


def test_entities_sharing_an_observed_set_are_batched():
    mu, Sigma = random_draws(20, 4, seed=7)
    o = np.array([1, 3])
    X = np.random.default_rng(0).normal(size=(6, 2))
    means, var = condition(mu, Sigma, o, X, 0.1)
    assert means.shape == (6, 20, 4)
    for e in range(6):
        m_e, v_e = condition(mu, Sigma, o, X[e], 0.1)
        np.testing.assert_allclose(means[e], m_e)
        np.testing.assert_allclose(var, v_e)


def test_no_observation_returns_the_prior_and_leaves_inputs_alone():
    mu, Sigma = random_draws(5, 3, seed=1)
    mu0, Sigma0 = mu.copy(), Sigma.copy()
    means, var = condition(mu, Sigma, np.array([], dtype=int), np.array([]))
    np.testing.assert_array_equal(means, mu)
    np.testing.assert_array_equal(var, np.diagonal(Sigma, axis1=1, axis2=2))
    condition(mu, Sigma, np.array([0, 2]), np.array([1.0, 2.0]), 0.5, full_cov=True)
    np.testing.assert_array_equal(mu, mu0)
    np.testing.assert_array_equal(Sigma, Sigma0)


def test_condition_rejects_mismatched_or_repeated_indices():
    mu, Sigma = random_draws(3, 3, seed=0)
    with pytest.raises(ValueError, match="last axis must match"):
        condition(mu, Sigma, np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match="must be distinct"):
        condition(mu, Sigma, np.array([1, 1]), np.array([1.0, 2.0]))


def test_mixture_moments_follow_the_law_of_total_variance():
    rng = np.random.default_rng(3)
    means, variances = rng.normal(size=(4, 300)), rng.uniform(0.5, 2, size=(4, 300))
    # independent reference: numerical integration of the mixture density
    def moment(power: int, k: int) -> float:
        def integrand(y: float) -> float:
            return y**power * stats.norm.pdf(y, means[k], np.sqrt(variances[k])).mean()

        return integrate.quad(integrand, -30, 30, limit=200)[0]

    for k in range(4):
        m1, m2 = moment(1, k), moment(2, k)
        assert mixture_mean(means)[k] == pytest.approx(m1, abs=1e-7)
        assert mixture_var(means, variances)[k] == pytest.approx(m2 - m1**2, rel=1e-6)
    np.testing.assert_allclose(
        mixture_var(means, variances), variances.mean(axis=1) + means.var(axis=1)
    )


@pytest.mark.parametrize("q", [0.005, 0.05, 0.5, 0.95, 0.999])
def test_mixture_quantile_inverts_the_cdf(q):
    rng = np.random.default_rng(11)
    # far from normal: two separated clusters of components
    means = np.concatenate([rng.normal(-3, 0.2, (3, 50)), rng.normal(4, 0.5, (3, 70))], axis=1)
    sds = rng.uniform(0.3, 1.5, size=means.shape)
    x = mixture_quantile(q, means, sds)
    for k in range(3):
        ref = optimize.brentq(
            lambda y, k=k: stats.norm.cdf(y, means[k], sds[k]).mean() - q, -50, 50, xtol=1e-12
        )
        assert x[k] == pytest.approx(ref, abs=1e-6)
    np.testing.assert_allclose(mixture_cdf(x, means, sds), q, atol=1e-8)


def test_mixture_quantile_of_identical_components_is_the_normal_quantile():
    means, sds = np.full((2, 10), 5.0), np.full((2, 10), 2.0)
    lo, hi = mixture_quantile(np.array([0.05, 0.95]), means, sds)
    np.testing.assert_allclose(lo, stats.norm.ppf(0.05, 5, 2), atol=1e-9)
    np.testing.assert_allclose(hi, stats.norm.ppf(0.95, 5, 2), atol=1e-9)
