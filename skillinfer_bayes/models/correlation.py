"""The LKJ prior on a correlation matrix's Cholesky factor, through canonical partial
correlations: a covariance ``diag(s) Omega diag(s)`` with its sds and its correlations as
separate free parameters (non-centred).

PyMC's :class:`~pymc.LKJCholeskyCov` samples the covariance's Cholesky factor itself: row k's
off-diagonal entries are ``s_k`` times correlation terms, so their scale follows ``s_k``. Where
the data do not bound ``s_k`` from below (a mixture component narrower than its floor in one
dimension, :func:`~skillinfer_bayes.models.mixture.component_floor`: a cluster of models with
one parameter count), ``log s_k`` wanders over a range of the prior's width and row k's entries
shrink and grow with it, a funnel: NUTS needs steps small enough for its neck and trees long
enough for its mouth. Here the partial correlations ``z`` do not depend on ``s``: the
same prior (sds independent of an ``LKJ(eta)`` correlation matrix), another geometry.

Measured on the four-component fit of the leaderboard without 50 models (notebook 06):
with ``LKJCholeskyCov`` none of four seeds passed the checks (15 to 255 leapfrog steps per
draw, r_hat up to 1.047, or 48 divergences); with this parameterization and the best of
several EM starts (:func:`~skillinfer_bayes.models.mixture.starting_points`) three seeds ran
15 steps per draw with r_hat at most 1.005, in 50 to 54 s. (The two changes were measured
together; with this one alone, the chains stayed in a mode a thousand log-density units
below the best and one left it during the draws.)

The map (Stan's ``cholesky_factor_corr`` transform [1]_, a C-vine of Lewandowski et al.
[2]_): the ``K (K - 1) / 2`` partial correlations ``z``, in the order of
``numpy.tril_indices(K, -1)``, give row i of the factor L as

    L[i, j] = z[i, j] * sqrt(1 - sum_{k<j} L[i, k]^2)    (j < i),
    L[i, i] = sqrt(1 - sum_{k<i} L[i, k]^2),

and ``L L'`` is a correlation matrix for every ``z`` in (-1, 1). Under ``LKJ(eta)`` the
``z[i, j]`` are independent, ``(z + 1) / 2 ~ Beta(b_j, b_j)`` with ``b_j = eta + (K - 2 - j)
/ 2`` (columns j from 0; [2]_, section 3.2; Stan's ``lkj_corr_cholesky_rng``): the model
declares them so, PyMC samples them on the log-odds scale and draws them from the prior.

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
>>> L = correlation_cholesky(pt.as_tensor(partial_correlations(corr)), 3)
>>> np.allclose((L @ L.T).eval(), corr)
True
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt


def partial_correlation_concentration(K: int, eta: float) -> np.ndarray:
    """The Beta parameters ``b`` (K (K - 1) / 2,) of the partial correlations under
    ``LKJ(eta)``: ``(z + 1) / 2 ~ Beta(b, b)``, ``b = eta + (K - 2 - j) / 2`` for column j.

    Examples
    --------
    >>> partial_correlation_concentration(3, 2.0).tolist()  # (1, 0), (2, 0), (2, 1)
    [2.5, 2.5, 2.0]
    """
    _, columns = np.tril_indices(K, -1)
    return eta + (K - 2 - columns) / 2.0


def correlation_cholesky(z, K: int):
    """The Cholesky factors (..., K, K) of correlation matrices from their partial
    correlations ``z`` (..., K (K - 1) / 2) in (-1, 1), in the order of
    ``numpy.tril_indices(K, -1)``.

    Examples
    --------
    >>> correlation_cholesky(pt.zeros(3), 3).eval().tolist()  # z = 0: the identity
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    z = pt.as_tensor(z)
    one = pt.ones_like(z[..., 0])
    zero = pt.zeros_like(one)
    rows, n = [[one] + [zero] * (K - 1)], 0
    for i in range(1, K):
        row, remaining = [], one
        for _ in range(i):
            row.append(z[..., n] * pt.sqrt(remaining))
            remaining = remaining - row[-1] ** 2
            n += 1
        rows.append(row + [pt.sqrt(remaining)] + [zero] * (K - 1 - i))
    return pt.stack([pt.stack(row, axis=-1) for row in rows], axis=-2)


def partial_correlations(corr: np.ndarray) -> np.ndarray:
    """The partial correlations ``z`` (..., K (K - 1) / 2) of correlation matrices (..., K, K):
    the inverse of :func:`correlation_cholesky` (a chain's start from a plug-in estimate).

    Examples
    --------
    >>> partial_correlations(np.array([[1.0, 0.5], [0.5, 1.0]])).round(4).tolist()
    [0.5]
    """
    L = np.linalg.cholesky(np.asarray(corr, dtype=float))
    K = L.shape[-1]
    rows, cols = np.tril_indices(K, -1)
    used = np.cumsum(L**2, axis=-1) - L**2  # sum_{k<j} L[i, k]^2
    z = L[..., rows, cols] / np.sqrt(1.0 - used[..., rows, cols])
    return np.clip(z, -1 + 1e-12, 1 - 1e-12)
