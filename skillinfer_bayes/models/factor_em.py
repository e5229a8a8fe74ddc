"""A plug-in factor analysis fitted by EM with missing values: the reference for wide tables.

The model is the factor model of :mod:`~skillinfer_bayes.models.factor` without priors,

    x_i = mu + Lambda f_i + e_i,     f_i ~ N(0, I_r),     e_i ~ N(0, diag(psi^2)),

fitted by maximum likelihood on each row's observed scores with the EM algorithm of Rubin and
Thayer (1982), extended to missing values: the complete data are a row's *observed* scores and
its factors (a missing score's specific error is independent of everything else, so it drops
out), and the M-step is then, per benchmark k, a least-squares regression of its observed
scores on the factors' expectations ``z_i = (E[f_i], 1)``:

    (Lambda_k, mu_k) = (sum_i m_ik E[z_i z_i'])^-1 sum_i m_ik x_ik E[z_i]
    psi_k^2          = (sum_i m_ik x_ik^2 - (Lambda_k, mu_k) . sum_i m_ik x_ik E[z_i]) / n_k

with ``m_ik`` the 0/1 mask and ``n_k`` the benchmark's count. The E-step is the factors'
posterior given each row's observed scores (r x r systems, the Woodbury identity). The
likelihood never decreases. It is what a careful analyst would plug into Gaussian conditioning
before this library: one estimate, no parameter uncertainty, and a rank to choose by hand.
The cell-holdout protocol runs it as the ``"em"`` method
(:func:`~skillinfer_bayes.studies.cells.evaluate_cells`).

References
----------
.. [1] Rubin, D. B. and Thayer, D. T. (1982). EM algorithms for ML factor analysis.
   *Psychometrika* 47(1), 69-76.
.. [2] Ghahramani, Z. and Hinton, G. E. (1996). The EM algorithm for mixtures of factor
   analyzers. Technical report CRG-TR-96-1, University of Toronto.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> f = rng.normal(size=(500, 1))
>>> X = f @ np.array([[1.0, 0.8, 0.6, 0.4]]) + 0.3 * rng.normal(size=(500, 4))
>>> X[rng.random(X.shape) < 0.3] = np.nan
>>> fit = fit_factor_em(X, 1)
>>> fit.converged, np.abs(fit.loadings[:, 0]).round(1).tolist()
(True, [1.0, 0.8, 0.6, 0.4])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skillinfer_bayes.data.sufficient_stats import LOG_2PI

#: Smallest specific variance on the standardized scale (keeps a benchmark that the factors
#: fit exactly, a Heywood case, away from a singular covariance).
MIN_SPECIFIC_VAR = 1e-4


@dataclass(frozen=True)
class FactorEstimate:
    """A maximum-likelihood factor analysis: ``Sigma = loadings loadings' + diag(specific_var)``.

    Attributes
    ----------
    mean : numpy.ndarray
        (K,) means.
    loadings : numpy.ndarray
        (K, r) loadings (identified only up to a rotation).
    specific_var : numpy.ndarray
        (K,) specific variances.
    loglik : float
        The observed-data log-likelihood at the estimate.
    n_iter : int
        EM iterations (M-steps) run.
    converged : bool
        Whether the relative change of the log-likelihood fell below ``tol``.
    """

    mean: np.ndarray
    loadings: np.ndarray
    specific_var: np.ndarray
    loglik: float
    n_iter: int
    converged: bool

    @property
    def covariance(self) -> np.ndarray:
        """(K, K) ``loadings loadings' + diag(specific_var)``."""
        return self.loadings @ self.loadings.T + np.diag(self.specific_var)


def fit_factor_em(X: np.ndarray, n_factors: int, max_iter: int = 2000, tol: float = 1e-8,
                  ) -> FactorEstimate:
    """Fit the factor model to an (N, K) array with NaN where missing, by EM.

    Parameters
    ----------
    X : numpy.ndarray
        Scores, NaN = missing; every benchmark needs at least two observed scores.
    n_factors : int
        The rank r, from 1 to K - 1.
    max_iter : int, default 2000
        Most EM iterations.
    tol : float, default 1e-8
        Stop when the log-likelihood changes by less than ``tol`` times its magnitude.

    Returns
    -------
    FactorEstimate
        On the scale of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(1).normal(size=(200, 4))
    >>> fit = fit_factor_em(X, 1)
    >>> fit.covariance.shape, fit.converged
    ((4, 4), True)
    """
    X = np.asarray(X, dtype=float)
    N, K = X.shape
    if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) \
            or not 1 <= n_factors < K:
        raise ValueError(f"n_factors must be an integer from 1 to {K - 1}; got {n_factors!r}.")
    mask = ~np.isnan(X)
    counts = mask.sum(axis=0)
    if (counts < 2).any():
        bad = np.flatnonzero(counts < 2).tolist()
        raise ValueError(f"Columns {bad} have fewer than 2 observed scores; drop them first.")
    center = np.nanmean(X, axis=0)
    scale = np.nanstd(X, axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = np.where(mask, (X - center) / scale, 0.0)
    m = mask.astype(float)
    r = int(n_factors)
    # start: principal axes of the pairwise covariance of the mean-imputed scores
    values, vectors = np.linalg.eigh(Z.T @ Z / np.maximum(m.T @ m, 1.0))
    top = np.argsort(values)[::-1][:r]
    loadings = vectors[:, top] * np.sqrt(np.maximum(values[top], 1e-3)) * 0.9
    mean = np.zeros(K)
    psi2 = np.full(K, 0.5)
    sum_sq = (m * Z**2).sum(axis=0)
    previous, converged, n_iter = -np.inf, False, 0
    while True:
        loglik, f_hat, V = _e_step(Z, m, mean, loadings, psi2)
        loglik -= float((m * np.log(scale)).sum())  # the density of X, not of Z
        if abs(loglik - previous) <= tol * abs(loglik):
            converged = True
            break
        if n_iter == max_iter:  # loglik is that of the parameters returned
            break
        previous = loglik
        n_iter += 1
        # M-step: per benchmark, regress its observed scores on E[z] = (f_hat, 1)
        Ez = np.concatenate([f_hat, np.ones((N, 1))], axis=1)
        Ezz = np.einsum("na,nb->nab", Ez, Ez)
        Ezz[:, :r, :r] += V
        A = np.einsum("nk,nab->kab", m, Ezz)
        B = np.einsum("nk,na->ka", m * Z, Ez)
        W = np.linalg.solve(A, B[:, :, None])[:, :, 0]
        loadings, mean = W[:, :r], W[:, r]
        psi2 = np.maximum((sum_sq - np.sum(W * B, axis=1)) / counts, MIN_SPECIFIC_VAR)
    return FactorEstimate(
        mean=center + scale * mean,
        loadings=scale[:, None] * loadings,
        specific_var=scale**2 * psi2,
        loglik=loglik,
        n_iter=n_iter,
        converged=converged,
    )


def _e_step(Z, m, mean, loadings, psi2) -> tuple[float, np.ndarray, np.ndarray]:
    """The observed-data log-likelihood of the standardized rows ``Z`` (0 where ``m`` is 0)
    and each row's factor posterior ``N(f_hat, V)`` given its observed scores."""
    r = loadings.shape[1]
    d_inv = m / psi2
    residual = m * (Z - mean)
    precision = np.eye(r) + np.einsum("nk,kr,kq->nrq", d_inv, loadings, loadings)
    chol = np.linalg.cholesky(precision)
    V = np.linalg.inv(precision)
    b = (d_inv * residual) @ loadings
    f_hat = np.einsum("nrq,nq->nr", V, b)
    loglik = float(-0.5 * (
        (m * np.log(psi2)).sum() + 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum()
        + (residual**2 * d_inv).sum() - np.einsum("nr,nr->", b, f_hat) + m.sum() * LOG_2PI
    ))
    return loglik, f_hat, V
