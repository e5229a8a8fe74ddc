"""A log-sum-exp over the last axis with a fast JAX form (:func:`logsumexp_single_exponentials`).

A mixture's likelihood is a log-sum-exp over components of every row's log densities: on the
full leaderboard, 4,566 rows x C components per evaluation. PyTensor's ``pt.logsumexp``
reaches JAX as ``log(sum(exp(x - max))) + max`` with the gradient flowing through the max and
a guard against infinite maxima, and the sampler's gradient of that graph cost twice JAX's
own log-sum-exp, whose custom derivative is the softmax (measured on the leaderboard, C = 4,
4 chains vectorized: 0.75 ms against 0.37 ms per value and gradient, about half of the
mixture's whole log density). :class:`LogSumExp` is one PyTensor operation with a NumPy
implementation (:func:`scipy.special.logsumexp`), a symbolic gradient (the softmax, for the
``pymc`` and ``nutpie`` samplers) and, once :func:`register_jax` has run, a JAX form for the
numpyro sampler (:func:`logsumexp_single_exponentials`).

Examples
--------
>>> import numpy as np
>>> x = np.array([[0.0, np.log(3.0)], [-1000.0, -1000.0]])
>>> np.round(logsumexp(x).eval(), 6).tolist()
[1.386294, -999.306853]
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from scipy.special import logsumexp as scipy_logsumexp


class LogSumExp(Op):
    """``log(sum(exp(x), axis=-1))`` of a tensor of at least one dimension, computed stably."""

    __props__ = ()

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        if x.ndim < 1:
            raise ValueError(f"LogSumExp needs a tensor of at least one dimension; got {x}.")
        out = pt.tensor(dtype=x.dtype, shape=x.type.shape[:-1])
        return Apply(self, [x], [out])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = np.asarray(scipy_logsumexp(x, axis=-1), dtype=x.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0][:-1]]

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (g,) = output_grads
        return [g[..., None] * pt.special.softmax(x, axis=-1)]


_LOGSUMEXP = LogSumExp()


def logsumexp(x):
    """The log-sum-exp of ``x`` over its last axis (a PyTensor expression).

    Examples
    --------
    >>> round(float(logsumexp(np.log([1.0, 2.0, 5.0])).eval()), 6)
    2.079442
    """
    return _LOGSUMEXP(x)


def register_jax() -> None:
    """Give :class:`LogSumExp` its JAX form (:func:`jax.nn.logsumexp`); imports JAX, so it
    runs when a model using the operation is built, not when this package is imported.
    Idempotent."""
    from pytensor.link.jax.dispatch import jax_funcify

    if LogSumExp in jax_funcify.registry:
        return

    @jax_funcify.register(LogSumExp)
    def _jax_logsumexp(op, **kwargs):
        return logsumexp_single_exponentials


def logsumexp_single_exponentials(x):
    """``log(sum(exp(x), axis=-1))`` in JAX, the exponentials in single precision.

    Less its row's maximum (kept in the input's precision, outside the gradient), every
    exponent is at most 0 and the sum lies in [1, C], so single precision loses nothing the
    sampler can see. Measured on the leaderboard (C = 4, at the posterior mode): each row's
    value within 1.2e-7 of SciPy's double-precision one, 8e-6 summed over the 4,566 rows (the
    log density is 2.4e4), the gradient (the softmax) within 1.4e-7. XLA's double-precision
    exponential is not vectorized on the CPU: the sampler's value and gradient of that
    mixture (four chains vectorized) took 1.05 ms against 1.18 ms (medians of three runs).
    Inputs in single precision are computed as they are.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> x = jnp.asarray([[0.0, np.log(3.0)], [-1000.0, -1000.0]], dtype=jnp.float32)
    >>> [round(float(v), 3) for v in logsumexp_single_exponentials(x)]
    [1.386, -999.307]
    """
    import jax
    import jax.numpy as jnp

    top = jax.lax.stop_gradient(jnp.max(x, axis=-1, keepdims=True))
    top = jnp.where(jnp.isfinite(top), top, 0.0)  # rows all -inf stay -inf, not NaN
    shifted = (x - top).astype(jnp.float32)
    total = jnp.log(jnp.sum(jnp.exp(shifted), axis=-1)).astype(x.dtype)
    return top[..., 0] + total
