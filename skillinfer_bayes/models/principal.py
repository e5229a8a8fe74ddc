"""The principal directions of a table with missing values, from its observed second moments.

The factor model gauges its loadings on them and the mixture model orders its components along
the first one; both need only directions close to the data's principal ones, computed once
before sampling. Each entry ``M_jk`` is the mean of ``x_j x_k`` over the rows that observe both
(0 where none does), from any of the forms the model builders take: the (values, mask) rows,
the patterns' sufficient statistics, or the rows grouped by pattern.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skillinfer_bayes.data.sufficient_stats import PatternStats


def observed_second_moments(data, K: int) -> np.ndarray:
    """(K, K) pairwise means of ``x_j x_k`` over the rows that observe both (0 where none
    does).

    Parameters
    ----------
    data : (values, mask), sequence of PatternStats, or sequence of rows by pattern
        ``values`` (N, K) with any number where missing and ``mask`` its 0/1 mask; or
        objects with ``observed`` and either ``n``, ``mean`` and ``scatter`` (PatternStats)
        or ``values`` (the pattern's (n, k) rows).
    K : int

    Examples
    --------
    >>> from skillinfer_bayes.models.masked import masked_rows
    >>> observed_second_moments(masked_rows(np.array([[1.0, 2.0], [3.0, np.nan]])), 2)
    array([[5., 2.],
           [2., 4.]])
    """
    total, count = np.zeros((K, K)), np.zeros((K, K))
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):
        values, mask = data
        total += values.T @ values
        count += mask.T @ mask
    else:
        for part in data:
            o = np.ix_(part.observed, part.observed)
            if isinstance(part, PatternStats):
                total[o] += part.scatter + part.n * np.outer(part.mean, part.mean)
                count[o] += part.n
            else:
                total[o] += part.values.T @ part.values
                count[o] += len(part.values)
    return np.divide(total, count, out=np.zeros((K, K)), where=count > 0)


def principal_basis(data: tuple[np.ndarray, np.ndarray] | Sequence, K: int) -> np.ndarray:
    """(K, K) orthonormal eigenvectors of :func:`observed_second_moments`, largest eigenvalue
    first, each with its largest entry positive; the identity when nothing is observed (a
    prior-only model).

    Examples
    --------
    >>> from skillinfer_bayes.models.masked import masked_rows
    >>> X = np.random.default_rng(0).normal(size=(200, 3)) * [3.0, 1.0, 0.3]
    >>> W = principal_basis(masked_rows(X), 3)
    >>> bool(np.allclose(W.T @ W, np.eye(3))), int(np.argmax(np.abs(W[:, 0])))
    (True, 0)
    """
    second = observed_second_moments(data, K)
    if not second.any():
        return np.eye(K)
    vectors = np.linalg.eigh(second)[1][:, ::-1]
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(K)])
    return np.ascontiguousarray(vectors * signs)
