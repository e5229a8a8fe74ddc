"""The staged warm-up: the Laplace metric at a mixture's start, the Hessian behind it, the pooled
metric of the later stages, the restart of chains in minor modes, and the stages' scans."""

from __future__ import annotations

import numpy as np
import pytest

from skillinfer_bayes.inference import warmup


def test_the_initial_metric_is_the_inverse_hessian_with_its_bad_directions_mended():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    covariance = A @ A.T + np.eye(4)
    # a Gaussian potential's Hessian is its precision: the metric is the covariance
    got = warmup.initial_inverse_mass(np.linalg.inv(covariance), dense=True)
    np.testing.assert_allclose(got, covariance, rtol=1e-10)
    np.testing.assert_allclose(warmup.initial_inverse_mass(np.linalg.inv(covariance),
                                                             dense=False),
                               1.0 / np.diag(np.linalg.inv(covariance)))
    # a direction curving the wrong way gets its absolute curvature, a flat one the floor
    vectors = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    hessian = vectors @ np.diag([4.0, -2.0, 0.0]) @ vectors.T
    expected = vectors @ np.diag([0.25, 0.5, 1.0 / warmup.MIN_CURVATURE]) @ vectors.T
    np.testing.assert_allclose(warmup.initial_inverse_mass(hessian, dense=True), expected,
                               atol=1e-10)


def test_the_second_stage_metric_pools_within_chain_covariances():
    rng = np.random.default_rng(1)
    draws = rng.multivariate_normal([0.0, 0.0, 0.0], np.diag([1.0, 4.0, 0.25]), size=(300, 4))
    draws[:, 2] += 50.0  # one chain in another mode: its offset is not variance
    got = np.asarray(warmup.pooled_covariance(draws, dense=True))
    n = 300 * 4
    within = sum(np.cov(draws[:, c].T) * 299 for c in range(4)) / (n - 4)
    np.testing.assert_allclose(got, n / (n + 5) * within + 1e-3 * 5 / (n + 5) * np.eye(3),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(warmup.pooled_covariance(draws, dense=False)),
                               np.diag(got), rtol=1e-5)
    assert got[0, 0] < 1.3
    # chains left out (restarted) do not count
    kept = np.array([True, True, False, True])
    only = np.asarray(warmup.pooled_covariance(draws, dense=True, kept=kept))
    np.testing.assert_allclose(only, np.asarray(warmup.pooled_covariance(
        draws[:, kept], dense=True)), rtol=1e-5, atol=1e-7)


def test_the_metric_of_several_windows_centres_each_chain_within_each_window():
    rng = np.random.default_rng(3)
    cov = np.array([[1.0, 0.5], [0.5, 2.0]])
    first = rng.multivariate_normal([0.0, 0.0], cov, size=(200, 3))
    second = rng.multivariate_normal([0.0, 0.0], cov, size=(100, 3))
    second[:, 1] += 30.0  # chain 1 restarted elsewhere between the windows
    masks = [np.array([True, False, True]), np.array([True, True, True])]
    got = np.asarray(warmup.pooled_covariance([first, second], dense=True, kept=masks))
    scatter, n, means = np.zeros((2, 2)), 0, 0
    for window, mask in zip([first, second], masks):
        for c in np.flatnonzero(mask):
            centred = window[:, c] - window[:, c].mean(axis=0)
            scatter += centred.T @ centred
            n, means = n + len(window), means + 1
    expected = n / (n + 5) * scatter / (n - means) + 1e-3 * 5 / (n + 5) * np.eye(2)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got, cov, rtol=0.15)  # 700 draws of the truth
    np.testing.assert_allclose(
        np.asarray(warmup.pooled_covariance([first, second], dense=False, kept=masks)),
        np.diag(got), rtol=1e-5)


def test_chains_far_above_the_best_chains_energy_are_in_a_minor_mode():
    rng = np.random.default_rng(4)
    energy = rng.normal(1000.0, 8.0, size=(250, 4))  # sd sqrt(d / 2) for d = 128
    energy[:, 1] += 20.0  # the leaderboard's gap between modes (C = 4)
    energy[:, 3] += 3.0  # the same mode, a little behind
    assert np.asarray(warmup.in_main_mode(energy)).tolist() == [True, False, True, True]




def test_the_finite_difference_hessian_matches_jaxs_exact_one_on_a_mixture_potential():
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    from skillinfer_bayes.inference import numpyro_backend
    from skillinfer_bayes.models.mixture import START_ATTRIBUTE, build_mixture_model
    from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
    from skillinfer_bayes.models.priors import Prior

    rng = np.random.default_rng(7)
    X = np.vstack([rng.normal(1.0, 0.5, (60, 2)), rng.normal(-1.0, 0.7, (40, 2))])
    model = build_mixture_model(rows_by_pattern(X), ["a", "b"], Prior(), 2)
    _, _, _, (curvature, value_and_grad) = numpyro_backend.compile_numpyro(model, 10, 10, 1, 0.8,
                                                                     False)
    data = tuple(jnp.asarray(v.get_value()) for v in model.data_vars)
    start = getattr(model, START_ATTRIBUTE)[0]
    params = [jnp.asarray(start[v.name]) for v in model.value_vars]
    flat = ravel_pytree(params)[0]
    exact = jax.hessian(lambda x: value_and_grad(x, params, data)[0])(flat)
    got = curvature(params, data)
    assert got.shape == (flat.size, flat.size)
    # the log-sum-exp's single-precision exponentials leave 1e-7 of noise in the gradient;
    # the step (1e-3) balances it against the third derivatives: measured 6e-7 of the largest
    # entry (3e-5 with a step of 1e-5)
    np.testing.assert_allclose(got, np.asarray(exact), rtol=1e-3,
                               atol=1e-5 * np.abs(exact).max())


def test_every_scan_of_the_default_warmup_and_draws_has_the_same_length():
    lengths = warmup.stage_lengths(1000)
    size = min(lengths)
    scans = [warmup.scan_lengths(n, size) for n in [*lengths, 1000]]
    assert {n for s in scans for n in s} == {250}
    # any split covers its steps exactly, in at most two distinct lengths
    for steps, size in [(1, 250), (400, 100), (1234, 250), (7, 3)]:
        pieces = warmup.scan_lengths(steps, size)
        assert sum(pieces) == steps and len(set(pieces)) <= 2 and max(pieces) <= size


def test_the_best_mode_skips_a_start_whose_potential_is_not_finite():
    import jax
    import jax.numpy as jnp
    import pymc as pm

    with pm.Model() as model:
        pm.Normal("x", 3.0, 1.0)

    def value_and_grad(flat, params, data):  # Normal(3, 1), undefined from x = 10 on
        return jax.value_and_grad(
            lambda v: jnp.sum(jnp.where(v < 10.0, 0.5 * (v - 3.0) ** 2, jnp.nan)))(flat)

    starts = [{"x": np.array(20.0)}, {"x": np.array(0.0)}]
    mode = warmup.best_posterior_mode(value_and_grad, starts, model, ())
    assert float(mode["x"]) == pytest.approx(3.0, abs=1e-4)
