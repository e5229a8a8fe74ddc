"""The numpyro backend's warm-up: the Laplace metric at a mixture's start, the pooled metric of
the second stage, and the posterior they sample against numpyro's own windowed adaptation."""

from __future__ import annotations

import numpy as np
import pytest

from skillinfer_bayes.inference import sampling
from skillinfer_bayes.models.mixture import START_ATTRIBUTE, build_mixture_model, rows_by_pattern
from skillinfer_bayes.models.priors import Prior


def test_the_initial_metric_is_the_inverse_hessian_with_its_bad_directions_mended():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    covariance = A @ A.T + np.eye(4)
    # a Gaussian potential's Hessian is its precision: the metric is the covariance
    got = sampling.initial_inverse_mass(np.linalg.inv(covariance), dense=True)
    np.testing.assert_allclose(got, covariance, rtol=1e-10)
    np.testing.assert_allclose(sampling.initial_inverse_mass(np.linalg.inv(covariance),
                                                             dense=False),
                               1.0 / np.diag(np.linalg.inv(covariance)))
    # a direction curving the wrong way gets its absolute curvature, a flat one the floor
    vectors = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    hessian = vectors @ np.diag([4.0, -2.0, 0.0]) @ vectors.T
    expected = vectors @ np.diag([0.25, 0.5, 1.0 / sampling.MIN_CURVATURE]) @ vectors.T
    np.testing.assert_allclose(sampling.initial_inverse_mass(hessian, dense=True), expected,
                               atol=1e-10)


def test_the_second_stage_metric_pools_within_chain_covariances():
    rng = np.random.default_rng(1)
    draws = rng.multivariate_normal([0.0, 0.0, 0.0], np.diag([1.0, 4.0, 0.25]), size=(300, 4))
    draws[:, 2] += 50.0  # one chain in another mode: its offset is not variance
    got = np.asarray(sampling.pooled_covariance(draws, dense=True))
    n = 300 * 4
    within = sum(np.cov(draws[:, c].T) * 299 for c in range(4)) / (n - 4)
    np.testing.assert_allclose(got, n / (n + 5) * within + 1e-3 * 5 / (n + 5) * np.eye(3),
                               rtol=1e-5)
    np.testing.assert_allclose(np.asarray(sampling.pooled_covariance(draws, dense=False)),
                               np.diag(got), rtol=1e-5)
    assert got[0, 0] < 1.3
    # chains left out (restarted) do not count
    kept = np.array([True, True, False, True])
    only = np.asarray(sampling.pooled_covariance(draws, dense=True, kept=kept))
    np.testing.assert_allclose(only, np.asarray(sampling.pooled_covariance(
        draws[:, kept], dense=True)), rtol=1e-5)


def test_chains_far_above_the_best_chains_energy_are_in_a_minor_mode():
    rng = np.random.default_rng(4)
    energy = rng.normal(1000.0, 8.0, size=(250, 4))  # sd sqrt(d / 2) for d = 128
    energy[:, 1] += 20.0  # the leaderboard's gap between modes (C = 4)
    energy[:, 3] += 3.0  # the same mode, a little behind
    assert np.asarray(sampling.in_main_mode(energy)).tolist() == [True, False, True, True]


def test_the_warmup_starts_from_the_posterior_mode_near_the_em_start():
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(1.0, 0.5, (60, 2)), rng.normal(-1.0, 0.7, (40, 2))])
    model = build_mixture_model(rows_by_pattern(X), ["a", "b"], Prior(), 2)
    _, _, _, (_, value_and_grad) = sampling._compile_numpyro(model, 10, 10, 1, 0.8, False)
    data = tuple(jnp.asarray(v.get_value()) for v in model.data_vars)
    start = getattr(model, START_ATTRIBUTE)

    def potential_and_gradient(point):
        params = [jnp.asarray(point[v.name]) for v in model.value_vars]
        value, gradient = value_and_grad(ravel_pytree(params)[0], params, data)
        return float(value), np.asarray(gradient)

    mode = sampling.posterior_mode(value_and_grad, start, model, data)
    assert sorted(mode) == sorted(start)
    value, gradient = potential_and_gradient(mode)
    assert value < potential_and_gradient(start)[0]
    assert np.max(np.abs(gradient)) < 1e-2
    # PyMC's own log density agrees it is the higher point
    logp = model.compile_logp()
    assert logp(mode) == pytest.approx(-value, rel=1e-8) and logp(mode) > logp(start)


@pytest.mark.parametrize("tune", [1, 3, 11, 150])
def test_a_short_warmup_falls_back_to_numpyros_windows(tune):
    rng = np.random.default_rng(6)
    X = np.vstack([rng.normal(1.0, 0.5, (30, 2)), rng.normal(-1.0, 0.7, (20, 2))])
    model = build_mixture_model(rows_by_pattern(X), ["a", "b"], Prior(), 2)
    idata = sampling.sample_posterior(model, draws=5, tune=tune, chains=2, sampler="numpyro",
                                      target_accept=0.8, random_seed=0, progressbar=False)
    assert tune < sampling.MIN_STAGED_TUNE
    assert np.all(np.isfinite(idata["posterior"]["mu_std"].values))
    assert idata["posterior"]["mu_std"].shape == (2, 5, 2, 2)


@pytest.mark.slow
def test_the_staged_warmup_samples_the_posterior_of_the_windowed_one():
    """A two-cluster mixture sampled from its EM start (the staged warm-up) and from the
    identity (numpyro's windowed adaptation, the model's start removed): the same posterior
    means within Monte Carlo error."""
    rng = np.random.default_rng(2)
    X = np.vstack([rng.multivariate_normal([2.0, 1.0], [[0.5, 0.2], [0.2, 0.5]], 120),
                   rng.multivariate_normal([-1.0, -1.0], [[0.4, -0.1], [-0.1, 0.6]], 80)])
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    summaries = []
    for staged in (True, False):
        model = build_mixture_model(rows_by_pattern(X), ["a", "b"], Prior(), 2)
        if not staged:
            delattr(model, START_ATTRIBUTE)
        idata = sampling.sample_posterior(model, draws=1000, tune=600, chains=4,
                                          sampler="numpyro", target_accept=0.8, random_seed=3,
                                          progressbar=False)
        post = idata["posterior"]
        summaries.append({name: (post[name].mean(("chain", "draw")).values,
                                 post[name].std(("chain", "draw")).values)
                          for name in ("component_weights", "mu_std", "chol_stds")})
    staged, windowed = summaries
    for name, (mean, sd) in staged.items():
        # both are MCMC estimates (ESS in the hundreds at least): 5 sds / sqrt(200) apart
        np.testing.assert_array_less(np.abs(mean - windowed[name][0]), 5 * sd / np.sqrt(200),
                                     err_msg=name)
