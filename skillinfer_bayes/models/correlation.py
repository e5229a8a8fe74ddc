"""The LKJ prior on a correlation matrix's Cholesky factor, through canonical partial
correlations: a covariance ``diag(s) Omega diag(s)`` with its sds and its correlations as
separate free parameters (non-centred).

PyMC's :class:`~pymc.LKJCholeskyCov` samples the covariance's Cholesky factor itself: row k's
off-diagonal entries are ``s_k`` times correlation terms, so their scale follows ``s_k``. Where
the data do not bound ``s_k`` from below (a mixture component narrower than its floor in one
dimension, :func:`~skillinfer_bayes.models.mixture.component_floor`: a cluster of models with
one parameter count), ``log s_k`` wanders over a range of the prior's width and row k's entries
shrink and grow with it, a funnel: NUTS needs steps small enough for its neck and trees long
enough for its mouth. Here the correlations' coordinates ``y`` do not depend on ``s``: the
same prior (sds independent of an ``LKJ(eta)`` correlation matrix), another geometry.

Measured on the four-component fit of the leaderboard without 50 models (notebook 06):
with ``LKJCholeskyCov`` none of four seeds passed the checks (15 to 255 leapfrog steps per
draw, r_hat up to 1.047, or 48 divergences); with this parameterization and the best of
several EM starts (:func:`~skillinfer_bayes.models.mixture.starting_points`) three seeds ran
15 steps per draw with r_hat at most 1.005, in 50 to 54 s. (The two changes were measured
together; with this one alone, the chains stayed in a mode a thousand log-density units
below the best and one left it during the draws.)

The map (Stan's ``cholesky_factor_corr`` transform [1]_, Lewandowski et al. [2]_): the
``K (K - 1) / 2`` free values ``y``, in the order of ``numpy.tril_indices(K, -1)``, are the
hyperbolic arctangents of the canonical partial correlations ``z``; row i of the factor L is

    L[i, j] = z[i, j] * sqrt(1 - sum_{k<j} L[i, k]^2)    (j < i),
    L[i, i] = sqrt(1 - sum_{k<i} L[i, k]^2),

and ``L L'`` is a correlation matrix for every real ``y``. Its density, the LKJ density of
``L L'`` expressed on L (Stan's ``lkj_corr_cholesky``), is ``sum_{i >= 2} (K - i + 2 eta - 2)
log L[i, i]`` (rows numbered from 1) up to a constant, and the Jacobian of ``y -> L`` adds
``sum_{i>j} log(1 - z[i, j]^2) + log(1 - sum_{k<j} L[i, k]^2) / 2``.

References
----------
.. [1] Stan Development Team. Stan Reference Manual, "Unit vector and correlation matrix
   transforms: Cholesky factors of correlation matrices".
.. [2] Lewandowski, D., Kurowicka, D. and Joe, H. (2009). Generating random correlation matrices
   based on vines and extended onion method. *Journal of Multivariate Analysis* 100,
   1989-2001.

Examples
--------
>>> import numpy as np
>>> corr = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, -0.3], [0.2, -0.3, 1.0]])
>>> y = unconstrained_correlation(corr)
>>> L, _ = correlation_cholesky(pt.as_tensor(y), 3)
>>> np.allclose((L @ L.T).eval(), corr)
True
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt


def correlation_cholesky(y, K: int):
    """The Cholesky factors of correlation matrices from their free values, and the log
    Jacobian of the map.

    Parameters
    ----------
    y : tensor
        (..., K (K - 1) / 2) free values, in the order of ``numpy.tril_indices(K, -1)``.
    K : int
        The matrices' dimension.

    Returns
    -------
    (L, log_jacobian)
        L (..., K, K), lower triangular with rows of unit length; ``log_jacobian`` (...) of
        ``y -> L``'s strictly lower entries.

    Examples
    --------
    >>> L, log_jacobian = correlation_cholesky(pt.zeros(3), 3)  # z = 0: the identity
    >>> L.eval().tolist(), float(log_jacobian.eval())
    ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 0.0)
    """
    y = pt.as_tensor(y)
    z = pt.tanh(y)
    one = pt.ones_like(y[..., 0])
    zero = pt.zeros_like(one)
    rows, log_jacobian, n = [[one] + [zero] * (K - 1)], pt.zeros_like(one), 0
    for i in range(1, K):
        row, remaining = [], one
        for _ in range(i):
            z_ij = z[..., n]
            row.append(z_ij * pt.sqrt(remaining))
            log_jacobian = log_jacobian + pt.log1p(-z_ij**2) + 0.5 * pt.log(remaining)
            remaining = remaining - row[-1] ** 2
            n += 1
        rows.append(row + [pt.sqrt(remaining)] + [zero] * (K - 1 - i))
    L = pt.stack([pt.stack(row, axis=-1) for row in rows], axis=-2)
    return L, log_jacobian


def lkj_cholesky_logp(L, eta, K: int):
    """The LKJ(``eta``) log density of ``L L'`` on its Cholesky factor L (..., K, K), up to a
    constant: ``sum_{i >= 2} (K - i + 2 eta - 2) log L[i, i]``, rows numbered from 1.

    Examples
    --------
    >>> L = pt.as_tensor(np.array([[1.0, 0.0], [0.6, 0.8]]))
    >>> round(float(lkj_cholesky_logp(L, 2.0, 2).eval()), 4)  # (2 - 2 + 4 - 2) log 0.8
    -0.4463
    """
    diagonal = pt.diagonal(pt.as_tensor(L), axis1=-2, axis2=-1)[..., 1:]
    powers = np.arange(K - 2, -1, -1, dtype=float) + 2.0 * eta - 2.0  # K - i, i = 2..K
    return pt.sum(powers * pt.log(diagonal), axis=-1)


def unconstrained_correlation(corr: np.ndarray) -> np.ndarray:
    """The free values ``y`` (..., K (K - 1) / 2) of correlation matrices (..., K, K): the
    inverse of :func:`correlation_cholesky` (a chain's start from a plug-in estimate).

    Examples
    --------
    >>> unconstrained_correlation(np.array([[1.0, 0.5], [0.5, 1.0]])).round(4).tolist()
    [0.5493]
    """
    L = np.linalg.cholesky(np.asarray(corr, dtype=float))
    K = L.shape[-1]
    rows, cols = np.tril_indices(K, -1)
    used = np.cumsum(L**2, axis=-1) - L**2  # sum_{k<j} L[i, k]^2
    z = L[..., rows, cols] / np.sqrt(1.0 - used[..., rows, cols])
    return np.arctanh(np.clip(z, -1 + 1e-12, 1 - 1e-12))
