"""The posterior of a new entity's scores as Gaussian mixtures: per draw, per component.

For posterior draw s, a new entity's scores follow a mixture of C normals with weights
``pi_sc``, means ``mu_sc`` and covariances ``Sigma_sc`` (one component, ``C = 1``, for the
multivariate-normal population; C for a mixture population). Observing scores ``x_o`` with
independent noise ``R = diag(r_o)`` conditions every component as a normal
(:func:`~skillinfer_bayes.predictive.conditioning.condition`) and reweights it by its evidence::

    pi_sc | x_o  proportional to  pi_sc N(x_o; mu_sc[o], Sigma_sc[o, o] + R)

normalized within each draw. The predictive is the mixture over all S x C conditioned
components with weights ``(pi_sc | x_o) / S`` (every posterior draw counts alike). With one
component the reweighting is exactly 1 and the weights are left implicit (``None``: equal), so
the single-component predictive is computed as before, without evidence terms.

Components are flattened draw-major (component ``n = s * C + c``) onto the **last** axis of
the predictive arrays that :mod:`~skillinfer_bayes.predictive.mixture` and
:mod:`~skillinfer_bayes.predictive.scores` reduce over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from skillinfer_bayes.predictive.conditioning import condition, condition_factor


@dataclass(frozen=True, eq=False)
class ComponentDraws:
    """Posterior draws of a new entity's score distribution: S draws x C normal components.

    Parameters
    ----------
    means : numpy.ndarray
        (S, C, K) component means.
    covariances : numpy.ndarray
        (S, C, K, K) component covariances.
    weights : numpy.ndarray
        (S, C) component weights; each draw's weights sum to 1.
    loadings, specific_var : numpy.ndarray, optional
        The factor form of the covariances, ``covariances = loadings loadings' +
        diag(specific_var)``: (S, C, K, r) and (S, C, K). When given, conditioning goes
        through the factors (:func:`~skillinfer_bayes.predictive.conditioning.
        condition_factor`, r x r systems) instead of the K x K covariances.

    Examples
    --------
    >>> import numpy as np
    >>> draws = ComponentDraws.normal(np.zeros((4, 2)), np.tile(np.eye(2), (4, 1, 1)))
    >>> draws.n_draws, draws.n_components, draws.n_benchmarks
    (4, 1, 2)
    """

    means: np.ndarray
    covariances: np.ndarray
    weights: np.ndarray
    loadings: np.ndarray | None = None
    specific_var: np.ndarray | None = None

    def __post_init__(self) -> None:
        S, C, K = np.shape(self.means)
        if np.shape(self.covariances) != (S, C, K, K) or np.shape(self.weights) != (S, C):
            raise ValueError(
                f"ComponentDraws needs means (S, C, K), covariances (S, C, K, K) and weights "
                f"(S, C); got {np.shape(self.means)}, {np.shape(self.covariances)} and "
                f"{np.shape(self.weights)}."
            )
        if not np.allclose(np.sum(self.weights, axis=1), 1.0):
            raise ValueError("each draw's component weights must sum to 1.")
        if (self.loadings is None) != (self.specific_var is None) or (
                self.loadings is not None and (
                    np.shape(self.loadings)[:3] != (S, C, K)
                    or np.shape(self.specific_var) != (S, C, K))):
            raise ValueError(
                "ComponentDraws' factor form needs both loadings (S, C, K, r) and "
                "specific_var (S, C, K)."
            )

    @classmethod
    def normal(cls, mu: np.ndarray, Sigma: np.ndarray) -> ComponentDraws:
        """One normal component per draw: (S, K) means and (S, K, K) covariances."""
        mu, Sigma = np.asarray(mu, dtype=float), np.asarray(Sigma, dtype=float)
        return cls(mu[:, None], Sigma[:, None], np.ones((len(mu), 1)))

    @classmethod
    def factor(cls, mu: np.ndarray, loadings: np.ndarray, specific_var: np.ndarray,
               Sigma: np.ndarray | None = None) -> ComponentDraws:
        """One normal component per draw with a factor covariance: (S, K) means, (S, K, r)
        loadings and (S, K) specific variances; ``Sigma``, the (S, K, K) covariances they
        make, when already at hand (computed otherwise).

        Examples
        --------
        >>> import numpy as np
        >>> draws = ComponentDraws.factor(np.zeros((4, 3)), np.ones((4, 3, 1)), np.ones((4, 3)))
        >>> draws.covariances[0, 0].tolist()
        [[2.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 2.0]]
        """
        mu = np.asarray(mu, dtype=float)
        loadings = np.asarray(loadings, dtype=float)
        specific_var = np.asarray(specific_var, dtype=float)
        if Sigma is None:
            K = mu.shape[1]
            Sigma = np.matmul(loadings, loadings.transpose(0, 2, 1))
            Sigma[:, np.arange(K), np.arange(K)] += specific_var
        return cls(mu[:, None], Sigma[:, None], np.ones((len(mu), 1)), loadings[:, None],
                   specific_var[:, None])

    @property
    def n_draws(self) -> int:
        """S, the number of posterior draws."""
        return self.means.shape[0]

    @property
    def n_components(self) -> int:
        """C, the number of mixture components per draw."""
        return self.means.shape[1]

    @property
    def n_benchmarks(self) -> int:
        """K, the number of benchmarks."""
        return self.means.shape[2]

    def flat_means(self) -> np.ndarray:
        """(S C, K) component means, draw-major."""
        return self.means.reshape(-1, self.n_benchmarks)

    def flat_covariances(self) -> np.ndarray:
        """(S C, K, K) component covariances, draw-major."""
        return self.covariances.reshape(-1, self.n_benchmarks, self.n_benchmarks)

    def flat_weights(self) -> np.ndarray | None:
        """(S C,) weights of the components in the mixture over draws (sum 1), or ``None``
        for one component per draw (equal weights)."""
        if self.n_components == 1:
            return None
        return self.weights.reshape(-1) / self.n_draws

    def with_means(self, benchmarks: np.ndarray, values: np.ndarray) -> ComponentDraws:
        """A copy whose components all have ``values`` as the means of ``benchmarks``."""
        means = self.means.copy()
        means[..., benchmarks] = values
        return ComponentDraws(means, self.covariances, self.weights, self.loadings,
                              self.specific_var)

    def subset(self, draws: np.ndarray) -> ComponentDraws:
        """The components of the posterior draws ``draws`` (indices)."""
        if self.loadings is None:
            return ComponentDraws(self.means[draws], self.covariances[draws],
                                  self.weights[draws])
        return ComponentDraws(self.means[draws], self.covariances[draws], self.weights[draws],
                              self.loadings[draws], self.specific_var[draws])


@dataclass(frozen=True, eq=False)
class ConditionedMixture:
    """The predictive mixture: N = S C conditioned normal components (draw-major).

    Attributes
    ----------
    means : numpy.ndarray
        (N, K) component means, or (E, N, K) for E entities conditioned together.
    cov : numpy.ndarray
        (N, K) component variances, or (N, K, K) covariances (they do not depend on the
        observed values, so entities share them).
    weights : numpy.ndarray or None
        (N,) or (E, N) component weights (sum 1); ``None``: equal weights.
    """

    means: np.ndarray
    cov: np.ndarray
    weights: np.ndarray | None


def condition_components(
    draws: ComponentDraws,
    observed: np.ndarray,
    values: np.ndarray,
    noise_var: float | np.ndarray = 0.0,
    full_cov: bool = False,
) -> ConditionedMixture:
    """Condition every component of every draw on observed scores and reweight it.

    Parameters
    ----------
    draws : ComponentDraws
        The posterior's components.
    observed : numpy.ndarray
        (m,) distinct indices of the observed benchmarks (m may be 0).
    values : numpy.ndarray
        (m,) observed values, or (E, m) for E entities sharing the observed set.
    noise_var : float or numpy.ndarray, default 0.0
        Observation noise variance: one for all, or (K,) per benchmark.
    full_cov : bool, default False
        Keep the full (N, K, K) conditional covariances.

    Returns
    -------
    ConditionedMixture

    Examples
    --------
    Two components at -2 and +2; observing 1.9 leaves almost all weight on the second:

    >>> import numpy as np
    >>> draws = ComponentDraws(np.array([[[-2.0], [2.0]]]), np.ones((1, 2, 1, 1)),
    ...                        np.array([[0.5, 0.5]]))
    >>> out = condition_components(draws, np.array([0]), np.array([1.9]), noise_var=1.0)
    >>> out.weights.round(4).tolist()
    [0.0219, 0.9781]
    """
    observed = np.asarray(observed, dtype=int).reshape(-1)
    single = draws.n_components == 1
    if draws.loadings is not None:  # through the factors: r x r systems
        K = draws.n_benchmarks
        result = condition_factor(
            draws.flat_means(), draws.loadings.reshape(-1, K, draws.loadings.shape[-1]),
            draws.specific_var.reshape(-1, K), observed, values, noise_var,
            full_cov=full_cov, log_evidence=not single)
    else:
        result = condition(draws.flat_means(), draws.flat_covariances(), observed, values,
                           noise_var, full_cov=full_cov, log_evidence=not single)
    if single:
        return ConditionedMixture(result[0], result[1], None)
    means, cov, log_evidence = result
    S, C = draws.weights.shape
    with np.errstate(divide="ignore"):
        log_w = np.log(draws.weights).reshape(-1) + log_evidence  # (..., N)
    log_w = log_w.reshape(log_w.shape[:-1] + (S, C))
    log_w -= logsumexp(log_w, axis=-1, keepdims=True)
    weights = np.exp(log_w).reshape(log_w.shape[:-2] + (S * C,)) / S
    return ConditionedMixture(means, cov, weights)
