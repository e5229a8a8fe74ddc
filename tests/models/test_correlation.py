"""The LKJ prior through canonical partial correlations, against PyMC's LKJ density."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest

from skillinfer_bayes.models.correlation import (
    correlation_cholesky,
    lkj_cholesky_logp,
    unconstrained_correlation,
)


def compiled(K: int, eta: float):
    y = pt.vector("y")
    L, log_jacobian = correlation_cholesky(y, K)
    return pytensor.function([y], [L, lkj_cholesky_logp(L, eta, K) + log_jacobian,
                                    log_jacobian])


@pytest.mark.parametrize(("K", "eta"), [(2, 1.0), (4, 2.0), (5, 0.7)])
def test_the_density_on_free_values_is_pymcs_lkj_density_times_the_jacobian(K, eta):
    """The density of y is the LKJ density of L L' (PyMC's ``LKJCorr``) times |dR/dy|,
    the Jacobian of y -> the upper triangle of R by central differences, up to a constant."""
    fn = compiled(K, eta)
    upper = np.triu_indices(K, 1)
    R_value = pt.vector("r")
    reference_logp = pytensor.function(
        [R_value], pm.logp(pm.LKJCorr.dist(n=K, eta=eta), R_value))

    def upper_triangle(y):
        L = fn(y)[0]
        return (L @ L.T)[upper]

    rng = np.random.default_rng(K)
    ours, reference = [], []
    for y in rng.normal(scale=0.8, size=(5, K * (K - 1) // 2)):
        h = 1e-6
        jacobian = np.column_stack([
            (upper_triangle(y + h * e) - upper_triangle(y - h * e)) / (2 * h)
            for e in np.eye(y.size)])
        reference.append(float(reference_logp(upper_triangle(y)))
                         + np.linalg.slogdet(jacobian)[1])
        ours.append(float(fn(y)[1]))
    differences = np.asarray(ours) - np.asarray(reference)
    np.testing.assert_allclose(differences, differences[0], atol=1e-6)


def test_every_free_value_gives_a_correlation_factor_and_the_inverse_recovers_it():
    fn = compiled(5, 2.0)
    y = np.random.default_rng(0).normal(scale=2.0, size=10)
    L = fn(y)[0]
    np.testing.assert_allclose(np.diag(L @ L.T), 1.0, atol=1e-12)
    assert np.all(np.diag(L) > 0) and np.allclose(L, np.tril(L))
    np.testing.assert_allclose(unconstrained_correlation(L @ L.T), y, atol=1e-8)


def test_batched_free_values_give_each_matrix_its_own_factor():
    y = pt.matrix("y")
    L, log_jacobian = correlation_cholesky(y, 3)
    values = np.random.default_rng(1).normal(size=(4, 3))
    batched, jacobians = pytensor.function([y], [L, log_jacobian])(values)
    one = compiled(3, 1.0)
    for row, factor, jacobian in zip(values, batched, jacobians):
        np.testing.assert_allclose(factor, one(row)[0])
        np.testing.assert_allclose(jacobian, one(row)[2], atol=1e-12)
