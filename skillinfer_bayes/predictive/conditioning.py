"""Batched Gaussian conditioning over posterior draws (pure numpy, knows nothing of PyMC).

For draw s with mean ``mu_s`` and covariance ``Sigma_s``, observed set ``o`` with values
``x_o`` and independent observation noise of variance ``r_j`` on each observed score j
(``R = diag(r_o)``)::

    m_s = mu_s + Sigma_s[:, o] (Sigma_s[o, o] + R)^-1 (x_o - mu_s[o])
    C_s = Sigma_s - Sigma_s[:, o] (Sigma_s[o, o] + R)^-1 Sigma_s[o, :]

Because the noise is independent across observations, conditioning on ``o`` equals conditioning
on its scores one at a time (the Kalman-filter measurement update). That form needs no batched
matrix solve: each step is a rank-one update of all S draws at once, which is several times
faster than ``numpy.linalg.solve`` on S tiny systems. The loop runs over the observed
benchmarks (at most K), never over draws or entities.

References
----------
.. [1] Rasmussen, C. E. and Williams, C. K. I. (2006). *Gaussian Processes for Machine
   Learning*, appendix A.2 (Gaussian identities). MIT Press.
.. [2] Kalman, R. E. (1960). A new approach to linear filtering and prediction problems.
   *Journal of Basic Engineering* 82(1), 35-45.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Floor on the innovation variance, relative to the prior variance of that coordinate, so that
#: exact (noise-free) observations of a degenerate coordinate do not divide by zero.
_MIN_INNOVATION = 1e-12


def condition(
    mu: np.ndarray,
    Sigma: np.ndarray,
    observed: np.ndarray,
    values: np.ndarray,
    noise_var: float | np.ndarray = 0.0,
    full_cov: bool = False,
    log_evidence: bool = False,
) -> tuple[np.ndarray, ...]:
    """Condition every draw of a multivariate normal on observed coordinates.

    Parameters
    ----------
    mu : numpy.ndarray
        (S, K) means, one row per posterior draw.
    Sigma : numpy.ndarray
        (S, K, K) covariances.
    observed : numpy.ndarray
        (m,) distinct integer indices of the observed coordinates (m may be 0).
    values : numpy.ndarray
        (m,) observed values, or (E, m) for E entities that share the observed set.
    noise_var : float or numpy.ndarray, default 0.0
        Variance of the observation noise added to each observed coordinate: one for all, or
        (K,) per coordinate.
    full_cov : bool, default False
        Return the (S, K, K) conditional covariances instead of their (S, K) diagonals.
    log_evidence : bool, default False
        Also return the log density of the observed values under each draw's normal (the
        observed block's marginal with the noise added), accumulated over the sequential
        updates as ``sum_j log N(x_j; m_j, v_j)`` (the prediction-error decomposition).

    Returns
    -------
    means : numpy.ndarray
        (S, K) conditional means, or (E, S, K) for batched ``values``.
    cov : numpy.ndarray
        (S, K) conditional variances, or (S, K, K) covariances with ``full_cov``; they do not
        depend on the observed values.
    log_evidence : numpy.ndarray
        Only with ``log_evidence``: (S,) or (E, S) log densities of the observed values.

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
    observed, values = _observations(observed, values)
    noise_var = np.broadcast_to(np.asarray(noise_var, dtype=float), mu.shape[-1:])
    means = np.broadcast_to(mu, values.shape[:-1] + mu.shape).copy()
    evidence = np.zeros(values.shape[:-1] + mu.shape[:1]) if log_evidence else None
    if full_cov:
        cov = Sigma.copy()
        for step, j in enumerate(observed):
            c = cov[:, :, j].copy()  # (S, K): covariance of every coordinate with j
            gain = _update_means(means, evidence, c, j, values[..., step], noise_var[j],
                                 Sigma[:, j, j])
            cov -= gain[:, :, None] * c[:, None, :]
        return (means, cov) if evidence is None else (means, cov, evidence)
    # Only the variances are wanted: carry the diagonal and the columns of the observed
    # coordinates, O(S K m) per step instead of O(S K^2).
    var = np.diagonal(Sigma, axis1=1, axis2=2).copy()
    cols = [Sigma[:, :, j].copy() for j in observed]  # (S, K) each, contiguous
    for step, j in enumerate(observed):
        c = cols[step]
        gain = _update_means(means, evidence, c, j, values[..., step], noise_var[j],
                             Sigma[:, j, j])
        var -= gain * c
        for later, k in enumerate(observed[step + 1 :], start=step + 1):
            cols[later] -= gain * c[:, k, None]
    return (means, var) if evidence is None else (means, var, evidence)


def _observations(observed, values) -> tuple[np.ndarray, np.ndarray]:
    """``observed`` as distinct int indices and ``values`` whose last axis matches them."""
    observed = np.asarray(observed, dtype=int).reshape(-1)
    values = np.asarray(values, dtype=float)
    if values.shape[-1:] != observed.shape:
        raise ValueError(
            f"values has shape {values.shape}; its last axis must match the {len(observed)} "
            "observed indices."
        )
    if len(set(observed.tolist())) != len(observed):
        raise ValueError(f"observed indices must be distinct; got {observed.tolist()}.")
    return observed, values


def _update_means(means, evidence, c, j, value, noise_var, scale) -> np.ndarray:
    """One measurement update of the means (in place) by observing coordinate j = ``value``;
    adds its log density to ``evidence`` (if kept). Returns the (S, K) gain.

    ``c`` holds the current covariances of every coordinate with j; the innovation variance
    (of the observed score given what was observed before) is floored above 0.
    """
    innovation = np.maximum(c[:, j] + noise_var, _MIN_INNOVATION * scale)
    gain = c / innovation[:, None]
    error = value[..., None] - means[..., j]  # (..., S)
    if evidence is not None:
        evidence -= 0.5 * (np.log(2.0 * np.pi * innovation) + error**2 / innovation)
    means += gain * error[..., None]
    return gain


def condition_factor(
    mu: np.ndarray,
    loadings: np.ndarray,
    specific_var: np.ndarray,
    observed: np.ndarray,
    values: np.ndarray,
    noise_var: float | np.ndarray = 0.0,
    full_cov: bool = False,
    log_evidence: bool = False,
) -> tuple[np.ndarray, ...]:
    """:func:`condition` for factor covariances ``Sigma_s = Lambda_s Lambda_s' + diag(psi_s^2)``,
    through the factors: r x r systems per draw, never a K x K one.

    Write a draw's scores as ``x = mu + Lambda f + e`` with ``f ~ N(0, I_r)``, ``e ~ N(0,
    diag(psi^2))``, and the observations as ``y_o = x_o + eps_o``, ``eps ~ N(0, R)``. With
    ``D = diag(psi_o^2) + R``, the factors' posterior is normal with precision ``P = I +
    Lambda_o' D^-1 Lambda_o`` and mean ``f^ = P^-1 Lambda_o' D^-1 (y_o - mu_o)``. Given ``f``,
    each observed score's specific part shrinks toward its own observation by ``k_j =
    psi_j^2 / (psi_j^2 + r_j)`` (1 without noise) and the others keep their prior, so

        E[x | y_o]   = mu + B f^ + k * (y - mu - Lambda f^)            (k = 0 off o)
        Cov[x | y_o] = B P^-1 B' + diag(psi^2 (1 - k)),   B = (1 - k) Lambda

    which equals the dense Gaussian conditioning (the Woodbury identity); the log evidence
    follows from the matrix determinant lemma. Cost O(S (m r^2 + K r)) per entity (O(S K^2 r)
    with ``full_cov``) instead of O(S K m).

    Parameters
    ----------
    mu : numpy.ndarray
        (S, K) means.
    loadings : numpy.ndarray
        (S, K, r) factor loadings.
    specific_var : numpy.ndarray
        (S, K) specific variances ``psi^2`` (positive).
    observed, values, noise_var, full_cov, log_evidence :
        As in :func:`condition`.

    Returns
    -------
    tuple
        As :func:`condition`.

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([[[0.9], [0.8], [0.5]]])
    >>> psi2 = np.array([[0.2, 0.3, 0.6]])
    >>> Sigma = lam @ lam.transpose(0, 2, 1) + psi2[:, :, None] * np.eye(3)
    >>> m, v = condition_factor(np.zeros((1, 3)), lam, psi2, np.array([0]), np.array([1.0]))
    >>> m_dense, v_dense = condition(np.zeros((1, 3)), Sigma, np.array([0]), np.array([1.0]))
    >>> bool(np.allclose(m, m_dense) and np.allclose(v, v_dense))
    True
    """
    mu = np.asarray(mu, dtype=float)
    loadings = np.asarray(loadings, dtype=float)
    specific_var = np.asarray(specific_var, dtype=float)
    observed, values = _observations(observed, values)
    S, K, r = loadings.shape
    noise_var = np.broadcast_to(np.asarray(noise_var, dtype=float), (K,))
    lam_o = loadings[:, observed]  # (S, m, r)
    d_o = specific_var[:, observed] + noise_var[observed]  # (S, m)
    weighted = lam_o / d_o[:, :, None]  # D^-1 Lambda_o
    precision = np.eye(r) + np.matmul(lam_o.transpose(0, 2, 1), weighted)  # (S, r, r)
    chol = np.linalg.cholesky(precision)
    chol_inv = np.linalg.inv(chol)  # (S, r, r), r x r
    post_cov = np.matmul(chol_inv.transpose(0, 2, 1), chol_inv)  # P^-1
    residual = values[..., None, :] - mu[:, observed]  # (..., S, m)
    b = np.einsum("...sm,smr->...sr", residual, weighted)
    f_hat = np.einsum("srq,...sq->...sr", post_cov, b)
    shrink = np.zeros((S, K))  # k: 0 off the observed scores
    shrink[:, observed] = specific_var[:, observed] / d_o
    means = mu + np.einsum("skr,...sr->...sk", loadings, f_hat)
    y = np.zeros(values.shape[:-1] + (S, K))
    y[..., observed] = values[..., None, :]
    means += shrink * (y - means)
    B = loadings * (1.0 - shrink)[:, :, None]
    residual_var = specific_var * (1.0 - shrink)
    if full_cov:
        cov = np.matmul(np.matmul(B, post_cov), B.transpose(0, 2, 1))
        cov[:, np.arange(K), np.arange(K)] += residual_var
    else:
        cov = np.einsum("skr,srq,skq->sk", B, post_cov, B) + residual_var
    if not log_evidence:
        return means, cov
    z = np.einsum("srq,...sq->...sr", chol_inv, b)
    logdet = np.sum(np.log(d_o), axis=1) + 2.0 * np.sum(
        np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    quad = np.sum(residual**2 / d_o, axis=-1) - np.sum(z**2, axis=-1)
    evidence = -0.5 * (logdet + quad + len(observed) * np.log(2.0 * np.pi))
    return means, cov, evidence


#: Default observation noise sd, as a fraction of a benchmark's population sd (skillinfer's
#: 5%).
DEFAULT_NOISE_FRACTION = 0.05
#: No benchmark's default noise sd exceeds ``DEFAULT_NOISE_FRACTION`` times this many of its
#: own sds (see :func:`default_noise`).
NOISE_SD_CAP = 3.0


def default_noise(Sigma: np.ndarray) -> np.ndarray:
    """Default observation noise sd of each benchmark, from covariance draws.

    skillinfer's rule, 5% of the mean benchmark sd ``s_bar``, for every benchmark whose own
    sd ``s_k`` is comparable; capped at 5% of ``3 s_k`` for a benchmark on a much smaller
    scale, which the shared figure would otherwise drown in noise (a 0-1 score next to
    0-100 ones)::

        noise_k = 0.05 * min(s_bar, 3 s_k)

    Where every ``s_k >= s_bar / 3`` (the Open LLM Leaderboard: 5.1 to 20.5 around 12.6)
    this is the single skillinfer figure.

    Parameters
    ----------
    Sigma : numpy.ndarray
        (S, K, K) covariance draws (the sds are their posterior means).

    Returns
    -------
    numpy.ndarray
        (K,) noise sds.

    Examples
    --------
    >>> import numpy as np
    >>> default_noise(np.diag([100.0, 100.0, 1e-4])[None]).round(4).tolist()
    [0.3335, 0.3335, 0.0015]
    """
    sd = np.sqrt(np.diagonal(np.asarray(Sigma, dtype=float), axis1=-2, axis2=-1))
    return noise_from_sds(sd.reshape(-1, sd.shape[-1]).mean(axis=0))


def noise_from_sds(sd: np.ndarray, kinds: Sequence | None = None) -> np.ndarray:
    """The rule of :func:`default_noise` for given (K,) benchmark sds, applied within each
    kind of scale: ``kinds`` (K labels; ``None`` labels a benchmark on a scale of its own)
    keeps a percentage benchmark's noise from depending on an Elo or dollar column beside it.

    Examples
    --------
    >>> noise_from_sds(np.array([10.0, 10.0, 1.0])).round(3).tolist()
    [0.35, 0.35, 0.15]
    >>> noise_from_sds(np.array([10.0, 20.0, 150.0]), [(0, 100), (0, 100), None]).tolist()
    [0.75, 0.75, 7.5]
    """
    sd = np.asarray(sd, dtype=float)
    if kinds is None:
        noise = DEFAULT_NOISE_FRACTION * np.minimum(sd.mean(), NOISE_SD_CAP * sd)
        return np.maximum(noise, 1e-8 * np.maximum(sd, 1e-300))
    kinds = list(kinds)
    if len(kinds) != len(sd):
        raise ValueError(f"{len(kinds)} scale kinds for {len(sd)} benchmarks.")
    noise = np.empty_like(sd)
    labels = [("own", k) if kind is None else ("kind", kind) for k, kind in enumerate(kinds)]
    for label in dict.fromkeys(labels):
        members = np.array([lab == label for lab in labels])
        noise[members] = noise_from_sds(sd[members])
    return noise
