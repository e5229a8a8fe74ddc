"""The log-sum-exp operation: NumPy, PyTensor-gradient and JAX forms agree with SciPy."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.special import logsumexp as scipy_logsumexp
from scipy.special import softmax

from skillinfer_bayes.models.logsumexp import LogSumExp, logsumexp, register_jax

X = np.array([[0.3, -1.2, 2.0], [-800.0, -801.0, -799.5], [700.0, 701.0, 0.0]])


def test_values_and_gradient_equal_scipys_and_the_softmax():
    x = pt.matrix("x")
    weights = pt.vector("w")
    total = pt.sum(logsumexp(x) * weights)
    f = pytensor.function([x, weights], [logsumexp(x), pytensor.grad(total, x)])
    w = np.array([1.0, 2.0, -0.5])
    value, gradient = f(X, w)
    np.testing.assert_allclose(value, scipy_logsumexp(X, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(gradient, w[:, None] * softmax(X, axis=-1), rtol=1e-12)
    assert logsumexp(pt.tensor3()).type.ndim == 2


def test_the_jax_form_gives_the_same_value_and_gradient():
    """The exponentials in single precision: each row within 1e-6 of SciPy's double-precision
    value, the gradient (the softmax) within 1e-6; rows of -inf stay -inf."""
    import jax
    from pytensor.link.jax.dispatch import jax_funcify

    register_jax()
    register_jax()  # idempotent
    f = jax_funcify(LogSumExp())
    jax.config.update("jax_enable_x64", True)
    w = np.array([1.0, 2.0, -0.5])
    rng = np.random.default_rng(0)
    for x in (X, rng.normal(0.0, 30.0, size=(500, 4)) - 50.0):
        weights = w[rng.integers(0, 3, size=len(x))] if len(x) > 3 else w
        value, gradient = jax.value_and_grad(lambda x, w=weights: (f(x) * w).sum())(x)
        rows = np.asarray(f(x))
        assert rows.dtype == np.float64
        np.testing.assert_allclose(rows, scipy_logsumexp(x, axis=-1), rtol=0, atol=1e-6)
        np.testing.assert_allclose(value, (scipy_logsumexp(x, axis=-1) * weights).sum(),
                                   rtol=0, atol=1e-6 * len(x))
        np.testing.assert_allclose(gradient, weights[:, None] * softmax(x, axis=-1),
                                   rtol=0, atol=1e-6)
    assert np.asarray(f(np.full((1, 3), -np.inf)))[0] == -np.inf


def test_a_scalar_is_refused():
    with pytest.raises(ValueError, match="at least one dimension"):
        logsumexp(pt.scalar())
