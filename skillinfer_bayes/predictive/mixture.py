"""The predictive distribution: a mixture of normals over posterior draws (and components).

Each coordinate's predictive is ``p(y) = sum_n w_n N(y; m_n, v_n)`` over the N conditioned
components (:mod:`~skillinfer_bayes.predictive.components`); ``weights=None`` means equal
weights ``1/N``, the one-component posterior. Its mean, variance (law of total variance), CDF
and quantiles are computed exactly from the N components, vectorized over coordinates (and
entities): no Python loop over draws. Components lie along the **last** axis, ``(..., N)``, so
every reduction runs over contiguous memory; ``weights`` broadcast against it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def average(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted average over the last axis (``weights=None``: the plain mean).

    Examples
    --------
    >>> import numpy as np
    >>> float(average(np.array([0.0, 4.0]), np.array([0.75, 0.25])))
    1.0
    """
    if weights is None:
        return values.mean(axis=-1)
    # either may have more leading axes (per-entity weights of shared component variances)
    return np.einsum("...n,...n->...", *np.broadcast_arrays(values, weights))


def mixture_mean(means: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Mean of the mixture: the (weighted) average of the component means (last axis)."""
    return average(means, weights)


def mixture_var(
    means: np.ndarray, variances: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Variance of the mixture: mean conditional variance + variance of conditional means.

    Examples
    --------
    >>> import numpy as np
    >>> float(mixture_var(np.array([-1.0, 1.0]), np.array([1.0, 1.0])))
    2.0
    >>> float(mixture_var(np.array([-1.0, 1.0]), np.array([1.0, 1.0]), np.array([0.5, 0.5])))
    2.0
    """
    if weights is None:
        return variances.mean(axis=-1) + means.var(axis=-1)
    centre = average(means, weights)
    return average(variances, weights) + average((means - centre[..., None]) ** 2, weights)


def mixture_cdf(
    x: np.ndarray, means: np.ndarray, sds: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """CDF of the mixture at ``x``.

    Parameters
    ----------
    x : numpy.ndarray
        (...) points, one per mixture.
    means, sds : numpy.ndarray
        (..., N) component means and standard deviations.
    weights : numpy.ndarray, optional
        (..., N) component weights; default equal.
    """
    x = np.asarray(x, dtype=float)
    return average(ndtr((x[..., None] - means) / sds), weights)


def mixture_quantile(
    q: float | np.ndarray,
    means: np.ndarray,
    sds: np.ndarray,
    rtol: float = 1e-4,
    max_iter: int = 100,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Quantile ``q`` of each mixture (safeguarded Newton iterations, vectorized).

    Starts from the normal approximation with the mixture's mean and sd, takes Newton steps on
    the mixture CDF and falls back to bisection whenever a step leaves the current bracket, so it
    converges for any mixture. It stops once every Newton step is below ``rtol`` times the
    mixture sd: Newton converges quadratically, so the quantile is then exact to about
    ``rtol**2`` sd. Posterior predictive mixtures are close to normal, so one or two CDF
    evaluations usually suffice.

    Parameters
    ----------
    q : float or numpy.ndarray
        Probability (or (P,) probabilities) in (0, 1).
    means, sds : numpy.ndarray
        (..., N) component means and standard deviations.
    rtol : float
        Convergence threshold on the Newton step, relative to the mixture sd.
    weights : numpy.ndarray, optional
        (..., N) component weights; default equal.

    Returns
    -------
    numpy.ndarray
        (...) quantiles for scalar ``q``, (P, ...) for an array.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(mixture_quantile(0.975, np.zeros(3), np.ones(3))), 4)
    1.96
    """
    q_arr = np.asarray(q, dtype=float)
    qb = q_arr.reshape(q_arr.shape + (1,) * (means.ndim - 1))  # (P, ...)
    sd = np.sqrt(mixture_var(means, sds**2, weights))
    x = mixture_mean(means, weights) + ndtri(qb) * sd
    lo = np.broadcast_to((means - 40.0 * sds).min(axis=-1), x.shape).copy()
    hi = np.broadcast_to((means + 40.0 * sds).max(axis=-1), x.shape).copy()
    x = np.clip(x, lo, hi)
    for _ in range(max_iter):
        z = (x[..., None] - means) / sds
        err = average(ndtr(z), weights) - qb
        pdf = average(np.exp(-0.5 * z * z) / sds, weights) * _INV_SQRT_2PI
        below = err < 0
        lo = np.where(below, x, lo)
        hi = np.where(below, hi, x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = x - err / pdf  # a non-finite step falls back to bisection
        inside = (step >= lo) & (step <= hi) & np.isfinite(step)
        new = np.where(inside, step, 0.5 * (lo + hi))
        done = np.all(inside & (np.abs(new - x) <= rtol * sd))
        x = new
        if done:
            break
    return x
