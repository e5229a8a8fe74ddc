"""Log-likelihoods of rows that each have their own missing scores, batched in one kernel.

The per-pattern likelihood of :func:`~skillinfer_bayes.models.mvn.pattern_loglik` builds one
block of the graph (one Cholesky factor) per missingness pattern: exact and cheap for tall
tables with a few patterns, but a wide sparse table has one pattern per row, and its graph then
grows with the table. The kernels here take every row at once, whatever its pattern, so the
graph depends only on the table's shape and is compiled once for any missingness.

A row's missing dimensions are *masked*: its residual is set to 0 there and its covariance
becomes the observed block next to an identity block,

    Sigma_i = M_i Sigma M_i + (I - M_i),        d_i = M_i (x_i - mu),

with ``M_i`` the diagonal 0/1 mask of the row. ``Sigma_i`` is block diagonal after a
permutation, so ``log|Sigma_i| = log|Sigma_oo|`` and ``d_i' Sigma_i^-1 d_i = d_o' Sigma_oo^-1
d_o``: the masked density is the observed block's, exactly. With a factor covariance
``Sigma = Lambda Lambda' + diag(psi^2)`` the masked matrix keeps the form (the loadings of
missing dimensions become 0 and their ``psi^2`` 1), so the Woodbury identity and the matrix
determinant lemma give the same quantities from an r x r matrix per row:

    C_i = I_r + Lambda_i' D_i^-1 Lambda_i
    log|Sigma_i| = sum log D_i + log|C_i|
    d_i' Sigma_i^-1 d_i = d_i' D_i^-1 d_i - b_i' C_i^-1 b_i,     b_i = Lambda_i' D_i^-1 d_i

at O(K r^2) per row instead of O(K^3).

Examples
--------
>>> import numpy as np
>>> from scipy.stats import multivariate_normal
>>> x = np.array([[1.0, 0.0, -0.5], [0.3, 2.0, 0.0]])
>>> mask = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
>>> cov = np.array([[1.0, 0.5, 0.2], [0.5, 2.0, 0.1], [0.2, 0.1, 1.5]])
>>> got = masked_mvn_loglik(x, mask, np.zeros(3), cov).eval()
>>> ref = multivariate_normal([0, 0], cov[np.ix_([0, 2], [0, 2])]).logpdf([1.0, -0.5])
>>> bool(np.isclose(got[0], ref))
True
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.slinalg import solve_triangular

from skillinfer_bayes.data.sufficient_stats import LOG_2PI


def masked_mvn_loglik(values, mask, mu, cov) -> pt.TensorVariable:
    """(N,) log densities of the observed part of each row under ``MvNormal(mu, cov)``.

    Parameters
    ----------
    values : (N, K) tensor or array
        The rows, any finite number (e.g. 0) where missing.
    mask : (N, K) tensor or array
        1.0 where observed, 0.0 where missing.
    mu : (K,) or (N, K) tensor
        The mean (per row with groups).
    cov : (K, K) tensor
        The covariance.

    Examples
    --------
    >>> import numpy as np
    >>> masked_mvn_loglik(np.zeros((1, 2)), np.ones((1, 2)), np.zeros(2), np.eye(2)).eval()
    array([-1.83787707])
    """
    mask = pt.as_tensor(mask, dtype="float64")
    K = mask.shape[1]
    masked = (mask[:, :, None] * cov[None] * mask[:, None, :]
              + pt.eye(K)[None] * (1.0 - mask)[:, :, None])
    chol = pt.linalg.cholesky(masked)
    residual = mask * (values - mu)
    z = solve_triangular(chol, residual[:, :, None], lower=True)[:, :, 0]
    logdet = 2.0 * pt.sum(pt.log(pt.diagonal(chol, axis1=1, axis2=2)), axis=1)
    return -0.5 * (logdet + pt.sum(z**2, axis=1) + pt.sum(mask, axis=1) * LOG_2PI)


def masked_factor_loglik(values, mask, mu, loadings, psi) -> pt.TensorVariable:
    """(N,) log densities of the observed part of each row under
    ``MvNormal(mu, loadings loadings' + diag(psi^2))``, through the Woodbury identity.

    Parameters
    ----------
    values, mask, mu :
        As in :func:`masked_mvn_loglik`.
    loadings : (K, r) tensor
        The factor loadings ``Lambda``.
    psi : (K,) tensor
        The specific (idiosyncratic) sds.

    Examples
    --------
    >>> import numpy as np
    >>> lam, psi = np.array([[1.0], [0.5], [-0.3]]), np.array([0.5, 1.0, 0.8])
    >>> x, mask = np.array([[1.0, 0.0, -0.5]]), np.array([[1.0, 0.0, 1.0]])
    >>> dense = masked_mvn_loglik(x, mask, np.zeros(3), lam @ lam.T + np.diag(psi**2)).eval()
    >>> bool(np.allclose(masked_factor_loglik(x, mask, np.zeros(3), lam, psi).eval(), dense))
    True
    """
    mask = pt.as_tensor(mask, dtype="float64")
    r = loadings.shape[1]
    d_inv = mask / psi**2 + (1.0 - mask)  # (N, K): 1 / D_i, 1 where missing
    residual = mask * (values - mu)
    weighted = mask[:, :, None] * loadings[None] * d_inv[:, :, None]  # D_i^-1 Lambda_i
    capacitance = pt.eye(r)[None] + pt.matmul(weighted.transpose(0, 2, 1), loadings)
    chol = pt.linalg.cholesky(capacitance)
    b = pt.sum(weighted * residual[:, :, None], axis=1)  # (N, r): Lambda_i' D_i^-1 d_i
    z = solve_triangular(chol, b[:, :, None], lower=True)[:, :, 0]
    logdet = (pt.sum(mask * pt.log(psi**2), axis=1)
              + 2.0 * pt.sum(pt.log(pt.diagonal(chol, axis1=1, axis2=2)), axis=1))
    quad = pt.sum(residual**2 * d_inv, axis=1) - pt.sum(z**2, axis=1)
    return -0.5 * (logdet + quad + pt.sum(mask, axis=1) * LOG_2PI)


def masked_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values with 0 where missing, 1.0/0.0 mask)`` of an (N, K) array with NaN = missing.

    Examples
    --------
    >>> masked_rows(np.array([[1.0, np.nan]]))
    (array([[1., 0.]]), array([[1., 0.]]))
    """
    values = np.asarray(values, dtype=float)
    mask = ~np.isnan(values)
    return np.where(mask, values, 0.0), mask.astype(float)
