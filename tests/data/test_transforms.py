"""Per-column transforms: round trips, Jacobians against numerical derivatives and known
densities, the copula against the true CDF of its data, saving and rebuilding."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from skillinfer_bayes.data.transforms import (
    Copula,
    Identity,
    Log,
    Logit,
    transform_from_dict,
)


def fitted_copulas():
    rng = np.random.default_rng(0)
    skewed = rng.gamma(1.5, 8.0, size=800)
    return [Copula.fit(skewed), Copula.fit(np.clip(skewed, 0, 100), bounds=(0.0, 100.0))]


@pytest.mark.parametrize("transform", [Identity(), Logit(0.0, 100.0), Logit(-1.0, 1.0, 0.0),
                                       Log(), *fitted_copulas()],
                         ids=lambda t: t.name)
def test_round_trip_and_jacobian(transform):
    lo, hi = transform.bounds
    x = np.linspace(max(lo, -50.0) + 0.01, min(hi, 150.0) - 0.01, 301)
    np.testing.assert_allclose(transform.inverse(transform.forward(x)), x, rtol=1e-9,
                               atol=1e-9)
    assert np.all(np.diff(transform.forward(x)) > 0)  # strictly increasing
    # log g'(x) against a central difference (away from the copula's knots' kinks)
    step = 1e-5
    numeric = (transform.forward(x + step) - transform.forward(x - step)) / (2 * step)
    np.testing.assert_allclose(np.exp(transform.log_jacobian(x)), numeric, rtol=2e-3)
    assert transform_from_dict(transform.to_dict()) == transform


def test_densities_with_the_jacobian_are_the_known_ones():
    x = np.linspace(0.05, 20.0, 50)
    # exp of a standard normal is lognormal: phi(log x) / x
    density = stats.norm.pdf(Log().forward(x)) * np.exp(Log().log_jacobian(x))
    np.testing.assert_allclose(density, stats.lognorm(s=1.0).pdf(x), rtol=1e-12)
    # a logit-normal density integrates to 1 over the bounds
    t = Logit(0.0, 1.0, margin=0.0)
    total = integrate.quad(lambda v: stats.norm.pdf(t.forward(v), 0.3, 0.8)
                           * np.exp(t.log_jacobian(v)), 0.0, 1.0)[0]
    assert total == pytest.approx(1.0, abs=1e-8)


def test_the_copula_follows_the_true_cdf_and_its_tails_extend_past_the_data():
    rng = np.random.default_rng(1)
    truth = stats.gamma(2.0, scale=10.0)
    values = truth.rvs(size=4000, random_state=rng)
    t = Copula.fit(values)
    probs = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    x = truth.ppf(probs)
    empirical = (values[:, None] <= x).mean(axis=0)
    # the smoothing moves the empirical CDF's normal scores by less than 0.05 sd (most near
    # the steep left end of the gamma density); the sample is 4,000 draws of the truth (its
    # normal scores' standard error: about 0.03 at 5% and 95%)
    np.testing.assert_allclose(t.forward(x), stats.norm.ppf(empirical), atol=0.05)
    np.testing.assert_allclose(t.forward(x), stats.norm.ppf(probs), atol=0.1)
    beyond = values.max() + np.array([1.0, 10.0, 50.0])
    z = t.forward(beyond)
    assert np.all(np.isfinite(z)) and np.all(np.diff(z) > 0)
    np.testing.assert_allclose(t.inverse(z), beyond, rtol=1e-9)
    # with bounds, every inverse lies inside them: no new model scores below 0 or above 100
    bounded = Copula.fit(np.clip(values, 0, 100), bounds=(0.0, 100.0))
    far = bounded.inverse(np.array([-40.0, -8.0, 0.0, 8.0, 40.0]))
    assert far.min() >= 0.0 and far.max() <= 100.0


def test_bad_transform_settings_get_clear_errors():
    with pytest.raises(ValueError, match="lower < upper"):
        Logit(10.0, 0.0)
    with pytest.raises(ValueError, match="at least 5 observed values"):
        Copula.fit([1.0, 2.0, np.nan])
    with pytest.raises(ValueError, match="not all equal"):
        Copula.fit([3.0] * 10)
    with pytest.raises(ValueError, match="Unknown transform 'spline'"):
        transform_from_dict({"name": "spline"})
