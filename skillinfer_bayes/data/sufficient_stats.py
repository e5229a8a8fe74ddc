"""Sufficient statistics of a score matrix, grouped by missingness pattern.

For the rows that share one set of observed benchmarks, the multivariate-normal
log-likelihood depends on the data only through their count, mean and scatter matrix::

    log L = -n/2 log|Sigma_oo| - 1/2 tr(Sigma_oo^-1 [S + n (xbar - mu_o)(xbar - mu_o)'])
            - n k/2 log(2 pi)

so a likelihood evaluation costs O(K^3) per pattern instead of O(N K^2). This module computes
those statistics and evaluates the same formula in numpy (vectorized over posterior draws), which
the tests compare with PyMC's per-row ``pm.MvNormal``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class PatternStats:
    """Count, mean and scatter of the rows that observe exactly ``observed``.

    Attributes
    ----------
    observed : numpy.ndarray
        Sorted integer indices of the observed benchmarks (length k).
    rows : numpy.ndarray
        Row positions (in the input matrix) of the entities with this pattern.
    n : int
        Number of rows.
    mean : numpy.ndarray
        (k,) mean of the observed scores.
    scatter : numpy.ndarray
        (k, k) scatter matrix sum_i (x_i - mean)(x_i - mean)'.
    group : int
        Group code of the rows (``-1`` when the population has no groups).
    """

    observed: np.ndarray
    rows: np.ndarray
    n: int
    mean: np.ndarray
    scatter: np.ndarray
    group: int = -1


def pattern_stats(X: np.ndarray, groups: np.ndarray | None = None) -> list[PatternStats]:
    """Group the rows of ``X`` by missingness pattern and compute their sufficient statistics.

    Parameters
    ----------
    X : numpy.ndarray
        (N, K) matrix with ``NaN`` for missing scores. Rows with no observed score carry no
        information and belong to no pattern.
    groups : numpy.ndarray, optional
        (N,) integer group codes ``0..G-1``: statistics are then computed per (group,
        missingness pattern), since each group has its own mean.

    Returns
    -------
    list of PatternStats
        One entry per distinct (group,) pattern: by group, then the complete-data pattern
        first, then by decreasing number of rows.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])
    >>> [(p.observed.tolist(), p.n) for p in pattern_stats(X)]
    [([0, 1], 2), ([0], 1)]
    """
    X = np.asarray(X, dtype=float)
    if groups is not None:
        groups = np.asarray(groups)
        stats = []
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            for s in pattern_stats(X[rows]):
                stats.append(
                    PatternStats(s.observed, rows[s.rows], s.n, s.mean, s.scatter, int(g))
                )
        return stats
    observed_mask = ~np.isnan(X)
    patterns, inverse = np.unique(observed_mask, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    stats = []
    for p, mask in enumerate(patterns):
        if not mask.any():
            continue
        rows = np.flatnonzero(inverse == p)
        block = X[np.ix_(rows, np.flatnonzero(mask))]
        mean = block.mean(axis=0)
        centred = block - mean
        stats.append(
            PatternStats(
                observed=np.flatnonzero(mask),
                rows=rows,
                n=len(rows),
                mean=mean,
                scatter=centred.T @ centred,
            )
        )
    K = X.shape[1]
    stats.sort(key=lambda s: (len(s.observed) != K, -s.n))
    return stats


def loglik_draws(
    stats: list[PatternStats],
    mu: np.ndarray,
    Sigma: np.ndarray,
    group_mu: np.ndarray | None = None,
) -> np.ndarray:
    """Total log-likelihood at each posterior draw, through the sufficient statistics.

    Parameters
    ----------
    stats : list of PatternStats
        From :func:`pattern_stats`, on the same scale as ``mu`` and ``Sigma``.
    mu : numpy.ndarray
        (S, K) or (K,) means.
    Sigma : numpy.ndarray
        (S, K, K) or (K, K) covariances.
    group_mu : numpy.ndarray, optional
        (G, S, K) or (G, K) group means, used for the statistics with ``group >= 0``.

    Returns
    -------
    numpy.ndarray
        (S,) log-likelihoods (a scalar array for unbatched input).
    """
    mu = np.asarray(mu, dtype=float)
    Sigma = np.asarray(Sigma, dtype=float)
    total = np.zeros(mu.shape[:-1])
    for s in stats:
        o = s.observed
        L = np.linalg.cholesky(Sigma[..., o[:, None], o])
        centre = mu if s.group < 0 else np.asarray(group_mu, dtype=float)[s.group]
        d = s.mean - centre[..., o]
        k = len(o)
        # tr(Sigma^-1 T) with T = scatter + n d d' = ||L^-1 A||_F^2 for T = A A'
        Linv = np.linalg.inv(L)
        quad = np.einsum("...ij,jk,...ik->...", Linv, s.scatter, Linv)
        quad = quad + s.n * np.sum(np.einsum("...ij,...j->...i", Linv, d) ** 2, axis=-1)
        logdet = 2.0 * np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
        total = total - 0.5 * (s.n * logdet + quad + s.n * k * LOG_2PI)
    return total


def pointwise_loglik(
    X: np.ndarray,
    mu: np.ndarray,
    Sigma: np.ndarray,
    groups: np.ndarray | None = None,
    group_mu: np.ndarray | None = None,
) -> np.ndarray:
    """Per-entity log-likelihood at every draw, each row on its own observed scores.

    The pointwise terms LOO needs. Computed in numpy after sampling, batched over draws and
    over the rows of each missingness pattern; summed over rows it equals
    :func:`loglik_draws` at the same draws.

    Parameters
    ----------
    X : numpy.ndarray
        (N, K) scores, ``NaN`` = missing.
    mu, Sigma : numpy.ndarray
        (S, K) and (S, K, K) draws on the scale of ``X``.
    groups, group_mu : numpy.ndarray, optional
        (N,) group codes and (G, S, K) group means: each row is then centred on its group's
        mean.

    Returns
    -------
    numpy.ndarray
        (S, N) log-likelihoods; 0 for a row with no observed score.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [np.nan, 2.0]])
    >>> ll = pointwise_loglik(X, np.zeros((1, 2)), np.eye(2)[None])
    >>> np.round(ll, 4).tolist()
    [[-2.3379, -2.9189]]
    """
    X = np.asarray(X, dtype=float)
    mu = np.asarray(mu, dtype=float)
    Sigma = np.asarray(Sigma, dtype=float)
    out = np.zeros((mu.shape[0], X.shape[0]))
    factors: dict[tuple, np.ndarray] = {}
    for s in pattern_stats(X, groups):
        o = s.observed
        if tuple(o) not in factors:
            factors[tuple(o)] = np.linalg.cholesky(Sigma[:, o[:, None], o])  # (S, k, k)
        L = factors[tuple(o)]
        centre = mu if s.group < 0 else np.asarray(group_mu, dtype=float)[s.group]
        resid = X[np.ix_(s.rows, o)][None, :, :] - centre[:, None, o]  # (S, n, k)
        z = np.linalg.solve(L, np.swapaxes(resid, 1, 2))  # (S, k, n) = L^-1 resid'
        logdet = np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1)  # half log|Sigma|
        out[:, s.rows] = -0.5 * np.sum(z * z, axis=1) - logdet[:, None] - 0.5 * len(o) * LOG_2PI
    return out
