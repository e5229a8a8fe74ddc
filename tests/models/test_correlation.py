"""The LKJ prior as independent Beta partial correlations, against PyMC's LKJ density."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest

from skillinfer_bayes.models.correlation import (
    correlation_cholesky,
    partial_correlation_concentration,
    partial_correlations,
)


def factor_of(K: int):
    z = pt.vector("z")
    return pytensor.function([z], correlation_cholesky(z, K))


@pytest.mark.parametrize(("K", "eta"), [(2, 1.0), (4, 2.0), (5, 0.7)])
def test_beta_partial_correlations_are_pymcs_lkj_prior(K, eta):
    """The density of the free values y (the Beta's log-odds, as PyMC samples them) is the
    LKJ density of R = L L' (PyMC's ``LKJCorr``) times |dR/dy|, the Jacobian of y -> the upper
    triangle of R by central differences, up to a constant."""
    b = partial_correlation_concentration(K, eta)
    with pm.Model() as model:
        pm.Beta("u", alpha=b, beta=b, shape=len(b))
    ours_logp = model.compile_logp()
    factor = factor_of(K)
    upper = np.triu_indices(K, 1)
    r = pt.vector("r")
    lkj_logp = pytensor.function([r], pm.logp(pm.LKJCorr.dist(n=K, eta=eta), r))

    def upper_triangle(y):
        L = factor(2.0 / (1.0 + np.exp(-y)) - 1.0)  # z = 2 u - 1, u = expit(y)
        return (L @ L.T)[upper]

    ours, reference = [], []
    for y in np.random.default_rng(K).normal(scale=1.5, size=(5, len(b))):
        h = 1e-6
        jacobian = np.column_stack([
            (upper_triangle(y + h * e) - upper_triangle(y - h * e)) / (2 * h)
            for e in np.eye(y.size)])
        reference.append(float(lkj_logp(upper_triangle(y))) + np.linalg.slogdet(jacobian)[1])
        ours.append(float(ours_logp({"u_logodds__": y})))
    differences = np.asarray(ours) - np.asarray(reference)
    np.testing.assert_allclose(differences, differences[0], atol=1e-6)


def test_partial_correlations_give_a_correlation_factor_and_the_inverse_recovers_them():
    z = np.tanh(np.random.default_rng(0).normal(scale=2.0, size=10))
    L = factor_of(5)(z)
    np.testing.assert_allclose(np.diag(L @ L.T), 1.0, atol=1e-12)
    assert np.all(np.diag(L) > 0) and np.allclose(L, np.tril(L))
    np.testing.assert_allclose(partial_correlations(L @ L.T), z, atol=1e-8)


def test_batched_partial_correlations_give_each_matrix_its_own_factor():
    z = pt.matrix("z")
    values = np.tanh(np.random.default_rng(1).normal(size=(4, 3)))
    batched = pytensor.function([z], correlation_cholesky(z, 3))(values)
    one = factor_of(3)
    for row, factor in zip(values, batched):
        np.testing.assert_allclose(factor, one(row))
    corr = batched @ np.swapaxes(batched, -1, -2)
    np.testing.assert_allclose(partial_correlations(corr), values, atol=1e-8)
