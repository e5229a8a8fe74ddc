"""The mixture's likelihood: the rows grouped by missingness pattern, and the log density of
each row under C multivariate-normal components with the assignments marginalized (the
log-sum-exp over components), batched over rows and components.

Two forms give the same value and gradient: per missingness pattern, a normal log density
linear in each row's :func:`quadratic_features` (one matrix product per pattern,
:func:`mixture_pattern_loglik`), and per row through the masked kernel when the patterns are
many (:func:`masked_mixture_loglik`).

Examples
--------
>>> X = np.array([[1.0, 2.0], [np.nan, 1.0]])
>>> [p.observed.tolist() for p in rows_by_pattern(X)]
[[1], [0, 1]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.slinalg import solve_triangular

from skillinfer_bayes.data.sufficient_stats import LOG_2PI
from skillinfer_bayes.models.logsumexp import logsumexp
from skillinfer_bayes.models.masked import masked_mvn_loglik


@dataclass(frozen=True)
class PatternRows:
    """The rows that observe exactly ``observed``: their (n, k) values on those dimensions."""

    observed: np.ndarray
    values: np.ndarray


def rows_by_pattern(X: np.ndarray) -> list[PatternRows]:
    """Group the rows of an (N, K) array (NaN = missing) by missingness pattern, largest
    pattern first; rows with nothing observed are dropped.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, 4.0], [np.nan, np.nan]])
    >>> [(p.observed.tolist(), p.values.shape) for p in rows_by_pattern(X)]
    [([0, 1], (2, 2)), ([1], (1, 1))]
    """
    X = np.asarray(X, dtype=float)
    known = ~np.isnan(X)
    keep = known.any(axis=1)
    patterns, codes = np.unique(known[keep], axis=0, return_inverse=True)
    rows = X[keep]
    out = [PatternRows(np.flatnonzero(p), rows[codes.ravel() == i][:, p])
           for i, p in enumerate(patterns)]
    return sorted(out, key=lambda p: -len(p.values))


def quadratic_features(values: np.ndarray) -> np.ndarray:
    """(n, k (k + 1) / 2 + k + 1) features of each row: the products ``x_i x_j`` (i <= j),
    the values and 1. A normal log density is linear in them
    (:func:`mixture_pattern_loglik`), so a block of rows is scored against every component
    by one matrix product.

    Examples
    --------
    >>> quadratic_features(np.array([[2.0, 3.0]])).tolist()
    [[4.0, 6.0, 9.0, 2.0, 3.0, 1.0]]
    """
    values = np.asarray(values, dtype=float)
    i, j = np.triu_indices(values.shape[1])
    return np.column_stack([values[:, i] * values[:, j], values, np.ones(len(values))])


def mixture_pattern_loglik(features, observed: np.ndarray, log_weights, mus, chols, K: int):
    """(n,) log densities of one pattern's rows under the mixture.

    ``log N(x; m, S) = -x'Px / 2 + m'P x - m'P m / 2 - log|S| / 2 - k log(2 pi) / 2`` with
    ``P = S^-1`` is linear in the rows' :func:`quadratic_features`, so the (n, C) densities
    of all rows and components are one product of the (n, D) features with a (D, C) matrix
    of coefficients: the cost of a pattern is one small matrix product per evaluation,
    and its gradient another (the per-row alternative, centring and solving every row for
    every component, was 20 times slower on the leaderboard). The components are batched
    (one factorization of a (C, k, k) stack), so the graph's size does not grow with C, and
    the log-sum-exp over components is :func:`~skillinfer_bayes.models.logsumexp.logsumexp`.

    Parameters
    ----------
    features : (n, D) tensor
        :func:`quadratic_features` of the rows' observed values (the dimensions
        ``observed``).
    observed : numpy.ndarray
        The k observed dimensions.
    log_weights : (C,) tensor
    mus : (C, K) tensor
    chols : (C, K, K) or (1, K, K) tensor
        Cholesky factors of the components' covariances (one, broadcast, when shared).
    K : int

    Examples
    --------
    >>> from scipy.stats import multivariate_normal
    >>> x = np.array([[0.5, -1.0], [2.0, 0.3]])
    >>> mus, cov = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.3], [0.3, 2.0]])
    >>> chol = np.linalg.cholesky(cov)[None]
    >>> got = mixture_pattern_loglik(quadratic_features(x), np.array([0, 1]),
    ...                              np.log([0.3, 0.7]), mus, chol, 2).eval()
    >>> ref = np.log(0.3 * multivariate_normal(mus[0], cov).pdf(x)
    ...              + 0.7 * multivariate_normal(mus[1], cov).pdf(x))
    >>> bool(np.allclose(got, ref))
    True
    """
    chols = pt.as_tensor_variable(chols)
    mus = pt.as_tensor_variable(mus)
    k = len(observed)
    i, j = np.triu_indices(k)
    twice = np.where(i == j, 1.0, 2.0)  # x_i x_j appears twice in x'Px off the diagonal
    if k == K:
        L, centre = chols, mus
    else:
        covs = pt.matmul(chols, chols.mT)
        L, centre = pt.linalg.cholesky(covs[:, observed][:, :, observed]), mus[:, observed]
    # the identity broadcast against the batch of factors (broadcast_to(eye, L.shape) cost
    # 0.34 s of shape inference per pattern when the model is built)
    inverse = solve_triangular(L, pt.eye(k)[None, :, :], lower=True, b_ndim=2)
    precision = pt.matmul(inverse.mT, inverse)  # (C or 1, k, k)
    logdet = 2.0 * pt.sum(pt.log(pt.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
    linear = pt.sum(precision * centre[:, None, :], axis=-1)  # (C, k)
    constant = -0.5 * (pt.sum(centre * linear, axis=-1) + logdet + k * LOG_2PI)  # (C,)
    quadratic = pt.broadcast_to(-0.5 * twice * precision[:, i, j], (mus.shape[0], len(i)))
    coefficients = pt.concatenate([quadratic, linear, constant[:, None]], axis=1)  # (C, D)
    return logsumexp(features @ coefficients.T + log_weights[None, :])


def masked_mixture_loglik(values, mask, log_weights, mus, covs):
    """(N,) log densities of the observed part of each row under the mixture, through the
    batched per-row kernel (:func:`~skillinfer_bayes.models.masked.masked_mvn_loglik`): one
    graph whatever the missingness.

    Examples
    --------
    >>> x, mask = np.array([[0.5, 0.0]]), np.array([[1.0, 0.0]])
    >>> got = masked_mixture_loglik(x, mask, np.log([0.5, 0.5]), np.zeros((2, 2)),
    ...                             [np.eye(2), np.eye(2)]).eval()
    >>> bool(np.isclose(got[0], -0.5 * (0.25 + LOG_2PI)))
    True
    """
    per_component = [masked_mvn_loglik(values, mask, mus[c], cov) for c, cov in enumerate(covs)]
    return logsumexp(pt.stack(per_component, axis=1) + log_weights[None, :])
