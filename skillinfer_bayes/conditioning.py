"""Batched Gaussian conditioning over posterior draws (pure numpy, knows nothing of PyMC).

For draw s with mean ``mu_s`` and covariance ``Sigma_s``, observed set ``o`` with values
``x_o`` and observation-noise variance ``r``::

    m_s = mu_s + Sigma_s[:, o] (Sigma_s[o, o] + r I)^-1 (x_o - mu_s[o])
    C_s = Sigma_s - Sigma_s[:, o] (Sigma_s[o, o] + r I)^-1 Sigma_s[o, :]

All draws are handled in one batched solve, and so are several entities that share one observed
set: no Python loop over draws or entities.

References
----------
.. [1] Rasmussen, C. E. and Williams, C. K. I. (2006). *Gaussian Processes for Machine
   Learning*, appendix A.2 (Gaussian identities). MIT Press.
"""

from __future__ import annotations

import numpy as np


def condition(
    mu: np.ndarray,
    Sigma: np.ndarray,
    observed: np.ndarray,
    values: np.ndarray,
    noise_var: float = 0.0,
    full_cov: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Condition every draw of a multivariate normal on observed coordinates.

    Parameters
    ----------
    mu : numpy.ndarray
        (S, K) means, one row per posterior draw.
    Sigma : numpy.ndarray
        (S, K, K) covariances.
    observed : numpy.ndarray
        (m,) integer indices of the observed coordinates (m may be 0).
    values : numpy.ndarray
        (m,) observed values, or (E, m) for E entities that share the observed set.
    noise_var : float, default 0.0
        Variance of the observation noise added to each observed coordinate.
    full_cov : bool, default False
        Return the (S, K, K) conditional covariances instead of their (S, K) diagonals.

    Returns
    -------
    means : numpy.ndarray
        (S, K) conditional means, or (E, S, K) for batched ``values``.
    cov : numpy.ndarray
        (S, K) conditional variances, or (S, K, K) covariances with ``full_cov``; they do not
        depend on the observed values.

    Examples
    --------
    >>> import numpy as np
    >>> mu = np.zeros((1, 2))
    >>> Sigma = np.array([[[1.0, 0.8], [0.8, 1.0]]])
    >>> m, v = condition(mu, Sigma, np.array([0]), np.array([1.0]))
    >>> np.round(m, 3).tolist(), np.round(v, 3).tolist()
    ([[1.0, 0.8]], [[0.0, 0.36]])
    """
    mu = np.asarray(mu, dtype=float)
    Sigma = np.asarray(Sigma, dtype=float)
    observed = np.asarray(observed, dtype=int)
    values = np.asarray(values, dtype=float)
    if observed.size == 0:
        means = np.broadcast_to(mu, values.shape[:-1] + mu.shape).copy()
        cov = Sigma.copy() if full_cov else np.diagonal(Sigma, axis1=-2, axis2=-1).copy()
        return means, cov
    S_ko = Sigma[:, :, observed]  # (S, K, m)
    S_oo = S_ko[:, observed, :]  # (S, m, m)
    if noise_var:
        S_oo = S_oo + noise_var * np.eye(len(observed))
    gain_t = np.linalg.solve(S_oo, np.swapaxes(S_ko, 1, 2))  # (S, m, K) = S_oo^-1 S_ok
    resid = values[..., None, :] - mu[:, observed]  # (..., S, m)
    means = mu + np.einsum("...sm,smk->...sk", resid, gain_t)
    if full_cov:
        cov = Sigma - S_ko @ gain_t
    else:
        cov = np.diagonal(Sigma, axis1=-2, axis2=-1) - np.einsum("skm,smk->sk", S_ko, gain_t)
    return means, cov
