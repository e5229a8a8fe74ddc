"""The posterior as components per draw: conditioning, reweighting by evidence and the
weighted mixture functions, checked against direct per-draw computations with scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from skillinfer_bayes.predictive.components import ComponentDraws, condition_components
from skillinfer_bayes.predictive.conditioning import condition
from skillinfer_bayes.predictive.mixture import mixture_cdf, mixture_quantile, mixture_var
from skillinfer_bayes.predictive.scores import normal_mixture_scores


def random_components(S: int, C: int, K: int, seed: int) -> ComponentDraws:
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=2.0, size=(S, C, K))
    A = rng.normal(size=(S, C, K, K))
    covs = A @ np.swapaxes(A, -1, -2) + 0.3 * np.eye(K)
    weights = rng.dirichlet(np.ones(C), size=S)
    return ComponentDraws(means, covs, weights)


def test_log_evidence_is_the_observed_blocks_marginal_density():
    draws = random_components(5, 1, 4, seed=0)
    mu, Sigma = draws.flat_means(), draws.flat_covariances()
    o, x, r = np.array([2, 0]), np.array([0.7, -1.2]), np.array([0.1, 0.2, 0.3, 0.4])
    for full_cov in (False, True):
        _, _, log_ev = condition(mu, Sigma, o, x, r, full_cov=full_cov, log_evidence=True)
        expected = [stats.multivariate_normal(mu[s, o], Sigma[s][np.ix_(o, o)] + np.diag(r[o]))
                    .logpdf(x) for s in range(5)]
        np.testing.assert_allclose(log_ev, expected, rtol=1e-10)
    # batched entities
    xs = np.array([[0.7, -1.2], [1.5, 0.3]])
    _, _, log_ev = condition(mu, Sigma, o, xs, r, log_evidence=True)
    assert log_ev.shape == (2, 5)
    np.testing.assert_allclose(log_ev[1, 3], stats.multivariate_normal(
        mu[3, o], Sigma[3][np.ix_(o, o)] + np.diag(r[o])).logpdf(xs[1]), rtol=1e-10)


def direct_predictive(draws: ComponentDraws, o, x, r):
    """Per draw and component with numpy.linalg: conditional moments and posterior weights."""
    S, C, K = draws.means.shape
    means, variances, weights = [], [], []
    for s in range(S):
        log_w = []
        for c in range(C):
            mu, Sig = draws.means[s, c], draws.covariances[s, c]
            Soo = Sig[np.ix_(o, o)] + np.diag(r[o])
            gain = Sig[:, o] @ np.linalg.inv(Soo)
            means.append(mu + gain @ (x - mu[o]))
            variances.append(np.diag(Sig - gain @ Sig[o, :]))
            log_w.append(np.log(draws.weights[s, c])
                         + stats.multivariate_normal(mu[o], Soo).logpdf(x))
        w = np.exp(np.array(log_w) - np.max(log_w))
        weights.extend(w / w.sum() / S)
    return np.array(means), np.array(variances), np.array(weights)


def test_conditioned_components_match_a_direct_computation():
    draws = random_components(6, 3, 4, seed=1)
    o, x, r = np.array([1, 3]), np.array([0.5, 2.0]), np.full(4, 0.2)
    out = condition_components(draws, o, x, r)
    means, variances, weights = direct_predictive(draws, o, x, r)
    np.testing.assert_allclose(out.means, means, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.cov, variances, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.weights, weights, rtol=1e-9)
    assert out.weights.sum() == pytest.approx(1.0)
    # batched entities reweight each entity separately
    batched = condition_components(draws, o, np.array([x, [-3.0, 0.0]]), r)
    np.testing.assert_allclose(batched.weights[0], weights, rtol=1e-9)
    np.testing.assert_allclose(batched.weights[1], direct_predictive(
        draws, o, np.array([-3.0, 0.0]), r)[2], rtol=1e-9)


def test_one_component_keeps_equal_weights_and_the_plain_conditioning():
    draws = random_components(4, 1, 3, seed=2)
    out = condition_components(draws, np.array([0]), np.array([1.0]), 0.1)
    assert out.weights is None
    ref = condition(draws.flat_means(), draws.flat_covariances(), np.array([0]),
                    np.array([1.0]), 0.1)
    np.testing.assert_array_equal(out.means, ref[0])


def test_a_duplicated_component_gives_the_single_component_predictive():
    single = random_components(5, 1, 3, seed=3)
    double = ComponentDraws(np.repeat(single.means, 2, axis=1),
                            np.repeat(single.covariances, 2, axis=1), np.full((5, 2), 0.5))
    o, x = np.array([2]), np.array([0.4])
    a = condition_components(single, o, x, 0.3)
    b = condition_components(double, o, x, 0.3)
    np.testing.assert_allclose(b.weights, 0.1)
    var_a = mixture_var(a.means.T, a.cov.T)
    var_b = mixture_var(b.means.T, b.cov.T, b.weights)
    np.testing.assert_allclose(var_b, var_a, rtol=1e-12)


def test_weighted_mixture_functions_match_scipy():
    rng = np.random.default_rng(4)
    means, sds = rng.normal(size=7), rng.uniform(0.3, 2.0, size=7)
    w = rng.dirichlet(np.ones(7))

    def cdf(y):
        return float(np.sum(w * stats.norm.cdf(y, means, sds)))

    for q in (0.05, 0.5, 0.95):
        expected = optimize.brentq(lambda y, q=q: cdf(y) - q, -20, 20, xtol=1e-12)
        assert float(mixture_quantile(q, means, sds, rtol=1e-8, weights=w)) == pytest.approx(
            expected, abs=1e-7)
    assert float(mixture_cdf(0.3, means, sds, w)) == pytest.approx(cdf(0.3), rel=1e-12)
    y = 0.8
    # every pair: the CRPS is exact; compare with numerical integration of (F - 1{y <= x})^2
    S = len(means)
    pairs = (np.repeat(np.arange(S), S), np.tile(np.arange(S), S))
    out = normal_mixture_scores(np.array(y), means, sds, pairs=pairs, weights=w)
    below = integrate.quad(lambda v: cdf(v) ** 2, -np.inf, y, epsabs=1e-12)[0]
    above = integrate.quad(lambda v: (1.0 - cdf(v)) ** 2, y, np.inf, epsabs=1e-12)[0]
    assert float(out["crps"]) == pytest.approx(below + above, rel=1e-8)
    assert float(out["pit"]) == pytest.approx(cdf(y), rel=1e-12)
    density = np.sum(w * stats.norm.pdf(y, means, sds))
    assert float(out["log_score"]) == pytest.approx(np.log(density), rel=1e-12)
    # far in the tail the log score is computed in log space, weights included
    far = normal_mixture_scores(np.array(60.0), means, sds, weights=w)
    expected = np.log(np.sum(w * np.exp(stats.norm.logpdf(60.0, means, sds)
                                        - stats.norm.logpdf(60.0, means, sds).max()))) \
        + stats.norm.logpdf(60.0, means, sds).max()
    assert float(far["log_score"]) == pytest.approx(expected, rel=1e-9)


def test_component_draws_refuse_inconsistent_shapes():
    with pytest.raises(ValueError, match=r"means \(S, C, K\), covariances"):
        ComponentDraws(np.zeros((2, 1, 3)), np.zeros((2, 1, 3, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="sum to 1"):
        ComponentDraws(np.zeros((2, 2, 1)), np.ones((2, 2, 1, 1)), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"factor form needs both loadings \(S, C, K, r\) "
                                         r"and specific_var \(S, C, K\)"):
        ComponentDraws(np.zeros((2, 1, 3)), np.ones((2, 1, 3, 3)), np.ones((2, 1)),
                       loadings=np.ones((2, 1, 3, 1)))


def test_a_profile_predicts_a_mixture_posterior_through_the_same_path(fake_sampler):
    from helpers import simulate

    import skillinfer_bayes as sib

    pop = sib.Population.from_dataframe(simulate(40, seed=5), normalize=False, draws=200,
                                        chains=2, random_seed=1, progressbar=False,
                                        transform=None)
    draws = random_components(30, 2, 3, seed=6)
    noise = np.array([0.2, 0.3, 0.4])
    with pytest.warns(sib.OutOfRangeWarning):  # the random components are not the data's
        profile = sib.Profile(pop.description, noise, draws).observe("a", 1.0).observe("c", -0.5)
    means, variances, weights = direct_predictive(draws, np.array([0, 2]),
                                                  np.array([1.0, -0.5]), noise**2)
    mean = weights @ means
    var = weights @ variances + weights @ (means - mean) ** 2
    np.testing.assert_allclose(profile.mean(), mean, rtol=1e-9)
    np.testing.assert_allclose(profile.std() ** 2, var, rtol=1e-9)
    np.testing.assert_allclose(np.diag(profile.Sigma), var, rtol=1e-9)
    table = profile.predict(level=0.8)
    lo = float(mixture_quantile(0.1, means[:, 1], np.sqrt(variances[:, 1]), rtol=1e-8,
                                weights=weights))
    assert table.loc["b", "lower"] == pytest.approx(lo, abs=1e-3 * np.sqrt(var[1]))
    sample = profile.sample(20_000, random_seed=0)
    assert np.all(np.abs(sample.mean().to_numpy() - mean) <= 4 * np.sqrt(var / 20_000))
    assert len(profile.most_informative(k=1)) == 1
