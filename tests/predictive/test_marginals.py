"""The score-scale predictive of a latent mixture: quadrature moments against a
high-resolution reference, exact quantiles and CDF against direct computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from skillinfer_bayes.data.transforms import Copula, Log, Logit
from skillinfer_bayes.predictive.marginals import (
    score_cdf,
    score_crps,
    score_moments,
    score_quantile,
)


def latent_mixture(seed: int, n: int = 4000):
    """A posterior-like latent predictive: component means spread by 0.2, sds about 0.6."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.3, 0.2, n), rng.uniform(0.5, 0.7, n), rng.dirichlet(np.ones(n))


def transforms():
    rng = np.random.default_rng(3)
    skewed = np.clip(rng.gamma(1.2, 12.0, 3000), 0, 100)
    return [Logit(0.0, 100.0), Log(), Copula.fit(skewed), Copula.fit(skewed, bounds=(0, 100))]


@pytest.mark.parametrize("transform", transforms(), ids=lambda t: t.name)
def test_quadrature_moments_are_within_half_a_percent_of_a_high_resolution_reference(transform):
    means, sds, weights = latent_mixture(0)
    mean, var = score_moments(transform, means, sds, weights)
    # every component, 200 nodes each
    ref_mean, ref_var = score_moments(transform, means, sds, weights, components=len(means),
                                      nodes=200)
    assert abs(mean - ref_mean) < 0.005 * np.sqrt(ref_var)
    assert np.sqrt(var) == pytest.approx(np.sqrt(ref_var), rel=0.005)
    # and the reference itself is the integral of the score against the mixture density
    z = np.linspace(-8, 8, 20_001)
    density = np.zeros_like(z)
    for chunk in np.array_split(np.arange(len(means)), 20):
        density += weights[chunk] @ stats.norm.pdf(z[None, :], means[chunk, None],
                                                   sds[chunk, None])
    first = np.trapezoid(transform.inverse(z) * density, z)
    assert ref_mean == pytest.approx(first, rel=1e-5)


def test_quantiles_and_cdf_map_exactly_and_stay_inside_the_bounds():
    means, sds, weights = latent_mixture(1, n=50)
    t = Logit(0.0, 100.0)
    q = score_quantile(t, np.array([0.05, 0.5, 0.95]), means, sds, weights, rtol=1e-10)

    def cdf(y):
        return float(np.sum(weights * stats.norm.cdf(t.forward(y), means, sds)))

    for p, value in zip([0.05, 0.5, 0.95], q):
        assert cdf(value) == pytest.approx(p, abs=1e-8)
        assert float(score_cdf(t, value, means, sds, weights)) == pytest.approx(p, abs=1e-8)
    far = score_quantile(t, np.array([1e-9, 1 - 1e-9]), means - 30, sds, weights)
    assert far.min() >= 0.0 and far.max() <= 100.0
    assert float(score_cdf(t, 100.0, means, sds, weights)) == 1.0
    assert float(score_cdf(t, -1.0, means, sds, weights)) == 0.0
    # the median of the lognormal exp(N(0, 1)) is 1
    median = optimize.brentq(lambda y: float(score_cdf(Log(), y, np.zeros(1), np.ones(1)))
                             - 0.5, 0.1, 10.0)
    assert median == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("transform", transforms(), ids=lambda t: t.name)
def test_the_crps_rule_is_within_half_a_percent_of_a_high_resolution_reference(transform):
    means, sds, weights = latent_mixture(2, n=300)
    for z in (-1.5, 0.3, 2.5):  # truths below, near and above the predictive's centre
        y = np.array(transform.inverse(z))
        reference = score_crps(transform, y, means, sds, weights, points=20_001)
        assert float(score_crps(transform, y, means, sds, weights)) == pytest.approx(
            float(reference), rel=0.005)


def test_the_crps_rule_matches_the_closed_form_of_a_normal_mixture():
    from skillinfer_bayes.data.transforms import Identity
    from skillinfer_bayes.predictive.scores import normal_mixture_scores

    means, sds, weights = latent_mixture(3, n=40)
    pairs = (np.repeat(np.arange(40), 40), np.tile(np.arange(40), 40))  # exact spread term
    for y in (-1.0, 0.3, 2.0):
        exact = normal_mixture_scores(np.array(y), means, sds, pairs=pairs, weights=weights)
        assert float(score_crps(Identity(), np.array(y), means, sds, weights)) == pytest.approx(
            float(exact["crps"]), rel=1e-3)
