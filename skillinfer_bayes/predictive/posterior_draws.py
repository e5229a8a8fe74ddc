"""A fitted population's posterior as arrays, and the predictive draws of a new entity.

:class:`PosteriorDraws` reads the posterior once (chains flattened, on the data's scale) and
gives what every prediction, summary and score works from: the components' weights, means and
covariances per draw, the population's mean and covariance (a mixture's moments), the group
means, each fitted entity's log-likelihood, the default observation noise and the predictive
:class:`~skillinfer_bayes.predictive.components.ComponentDraws` of a new entity.
``Population`` holds one (``pop.draws``) and delegates to it.

Examples
--------
>>> draws = PosteriorDraws(pop.data, pop.idata)
>>> draws.mu.shape, draws.Sigma.shape, draws.n_components
((2000, 6), (2000, 6, 6), 1)
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import logsumexp

from skillinfer_bayes.data.prepared import PreparedData
from skillinfer_bayes.data.sufficient_stats import pointwise_loglik
from skillinfer_bayes.models.factor import LOADINGS_VAR, SPECIFIC_SD_VAR
from skillinfer_bayes.models.mixture import WEIGHTS_VAR, mixture_moments
from skillinfer_bayes.predictive.components import ComponentDraws
from skillinfer_bayes.predictive.conditioning import noise_from_sds


class UnknownGroupWarning(UserWarning):
    """A prediction was asked for a group the population was not fitted with."""


class PosteriorDraws:
    """The posterior draws of a fitted population (the module docstring).

    Attributes
    ----------
    weights, component_mu, component_Sigma : numpy.ndarray
        (S, C), (S, C, K) and (S, C, K, K): each component's weight, mean and covariance per
        draw (C = 1 and weights 1 for one multivariate normal), on the data's scale.
    mu, Sigma : numpy.ndarray
        (S, K) and (S, K, K): the population's mean and covariance per draw (a mixture's
        moments).
    group_mu, group_sd : numpy.ndarray or None
        (G, S, K) each group's mean and (S, K) the between-group sd (grouped fits only).
    """

    def __init__(self, data: PreparedData, idata) -> None:
        self.data = data
        posterior = idata["posterior"]
        self.posterior = posterior
        K = len(data.latent_names)
        self.n_components = C = int(posterior.sizes.get("component", 1))
        self.weights = (
            np.ascontiguousarray(posterior[WEIGHTS_VAR].values.reshape(-1, C)) if C > 1
            else np.ones((posterior.sizes["chain"] * posterior.sizes["draw"], 1)))
        self.component_mu = np.ascontiguousarray(posterior["mu"].values.reshape(-1, C, K))
        self.component_Sigma = np.ascontiguousarray(
            posterior["Sigma"].values.reshape(-1, C, K, K))
        if C > 1:  # the population's mean and covariance: the mixture's moments
            mu, Sigma = mixture_moments(self.weights, self.component_mu, self.component_Sigma)
        else:
            mu, Sigma = self.component_mu[:, 0], self.component_Sigma[:, 0]
        self.mu = np.ascontiguousarray(mu)
        self.Sigma = np.ascontiguousarray(Sigma)
        self.group_mu = self.group_sd = None
        self.group_names = list(data.group_names)
        if self.group_names:
            G = len(self.group_names)
            gm = posterior["group_mu"].transpose("group", "chain", "draw", "benchmark").values
            self.group_mu = np.ascontiguousarray(gm.reshape(G, -1, K))
            self.group_sd = np.ascontiguousarray(posterior["group_sd"].values.reshape(-1, K))
        self._default_noise: np.ndarray | None = None

    @property
    def n_draws(self) -> int:
        """Number of posterior draws (chains x draws)."""
        return self.mu.shape[0]

    def require_groups(self, what: str) -> None:
        """Refuse ``what`` on a population fitted without groups, saying how to fit one."""
        if not self.group_names:
            raise ValueError(
                f"{what} needs a grouped population; fit with "
                "Population.from_dataframe(df, groups=...) first."
            )

    # ------------------------------------------------------------------ summaries' inputs
    def correlation_draws(self) -> np.ndarray:
        """(S, K, K) draws of the population's correlations (a mixture's: of its moments)."""
        if self.n_components == 1:
            return self.posterior["corr"].values.reshape(self.Sigma.shape)
        sd = np.sqrt(np.diagonal(self.Sigma, axis1=1, axis2=2))
        return self.Sigma / (sd[:, :, None] * sd[:, None, :])

    def component_log_terms(self, max_values: int = 20_000_000):
        """Yield ``log w_c + log N(x_i; mu_c, Sigma_c)`` for the fitted entities as (C, s, N)
        blocks of the draws, at most ``max_values`` numbers each (the full array can take
        gigabytes)."""
        C, S = self.n_components, self.n_draws
        latent = self.data.fitted_latent()
        step = max(1, max_values // (C * max(1, self.data.n_entities)))
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        for start in range(0, S, step):
            part = slice(start, min(S, start + step))
            yield np.stack([
                log_w[part, c, None] + pointwise_loglik(
                    latent, self.component_mu[part, c], self.component_Sigma[part, c])
                for c in range(C)])

    def entity_log_likelihood(self) -> np.ndarray:
        """(S, N) each fitted entity's log density of its own observed scores at every draw,
        on the data's scale (the transforms' log Jacobians added)."""
        if self.n_components > 1:  # log sum_c w_c N(x_i; mu_c, Sigma_c), per draw
            ll = np.concatenate([logsumexp(terms, axis=0)
                                 for terms in self.component_log_terms()])
        else:
            ll = pointwise_loglik(self.data.fitted_latent(), self.mu, self.Sigma,
                                  self.data.group_codes, self.group_mu)
        if self.data.transformed:  # the density of the scores themselves: add log g'(x)
            ll = ll + self.data.log_jacobian()
        return ll

    def component_probabilities(self) -> np.ndarray:
        """(N, C) each fitted entity's posterior probability of each component, averaged
        over the draws (rows sum to 1)."""
        total = np.zeros((self.data.n_entities, self.n_components))
        for terms in self.component_log_terms():  # (C, s, N)
            log_r = terms - logsumexp(terms, axis=0, keepdims=True)
            total += np.exp(log_r).sum(axis=1).T
        return total / self.n_draws

    # ------------------------------------------------------------------ prediction
    def default_noise(self) -> np.ndarray:
        """(K + P,) default observation noise sds (``Population.default_noise``).

        Examples
        --------
        >>> PosteriorDraws(pop.data, pop.idata).default_noise().round(2)
        array([0.63, 0.63, 0.63, 0.63, 0.63, 0.63])
        """
        if self._default_noise is None:
            data = self.data
            K = len(data.benchmarks)
            sd = np.sqrt(np.diagonal(self.Sigma, axis1=1, axis2=2)).mean(axis=0)[:K]
            if data.transformed:  # transformed benchmarks: the observed scores' sd
                values = data.matrix.to_numpy(dtype=float)
                fitted = ~data.degenerate[:K]
                observed_sd = data.scale[:K] / data.noise_slopes[:K]
                observed_sd[fitted] = np.nanstd(values[:, fitted], axis=0, ddof=1)
                identity = np.array([t.name == "identity" for t in data.transforms[:K]])
                sd = np.where(identity, sd, observed_sd)
            # covariates are known exactly
            noise = np.concatenate([noise_from_sds(sd, data.scale_kinds()),
                                    np.zeros(len(data.covariate_names))])
            noise.flags.writeable = False
            self._default_noise = noise
        return self._default_noise.copy()

    def predictive_draws(self, group=None, warn: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(S, K) mean and (S, K, K) covariance draws of a new entity
        (``Population.predictive_draws``); ``group=`` on an ungrouped population is an
        error that says how to fit groups.

        Examples
        --------
        >>> PosteriorDraws(pop.data, pop.idata).predictive_draws(group="big")
        Traceback (most recent call last):
        ...
        ValueError: group='big' needs a grouped population; fit with ...
        """
        if not self.group_names:
            if group is not None:
                self.require_groups(f"group={group!r}")
            return self.mu, self.Sigma
        if group is not None:
            if str(group) in self.group_names:
                return self.group_mu[self.group_names.index(str(group))], self.Sigma
            if warn:
                warnings.warn(
                    f"Unknown group {group!r}: predicting at the population level (a new "
                    f"group). Fitted groups: {self.group_names}.",
                    UnknownGroupWarning,
                    stacklevel=4,
                )
        K = self.mu.shape[1]
        between = self.group_sd[:, :, None] ** 2 * np.eye(K)
        return self.mu, self.Sigma + between

    def predictive_components(self, group=None, warn: bool = True) -> ComponentDraws:
        """A new entity's predictive as mixture components per draw
        (``Population.predictive_components``).

        Examples
        --------
        >>> PosteriorDraws(pop.data, pop.idata).predictive_components().n_draws
        2000
        """
        if self.n_components > 1:  # never grouped: the fitted components
            if group is not None:
                self.require_groups(f"group={group!r}")
            return ComponentDraws(self.component_mu, self.decoupled(self.component_Sigma),
                                  self.weights)
        mu, Sigma = self.predictive_draws(group, warn=warn)
        post = self.posterior
        if LOADINGS_VAR not in post:
            return ComponentDraws.normal(mu, self.decoupled(Sigma))
        # a factor covariance (never grouped): conditioning through r x r systems, with the
        # loadings and specific variances on the data's scale, as Sigma
        K = mu.shape[1]
        scale = self.data.scale
        loadings = scale[:, None] * post[LOADINGS_VAR].values.reshape(-1, K,
                                                                      post.sizes["factor"])
        specific = (scale * post[SPECIFIC_SD_VAR].values.reshape(-1, K)) ** 2
        flat = self.data.degenerate
        if flat.any():  # a left-out dimension: all its variance specific, no loading
            specific = np.where(flat, np.diagonal(Sigma, axis1=1, axis2=2), specific)
            loadings = np.where(flat[None, :, None], 0.0, loadings)
        return ComponentDraws.factor(mu, loadings, specific, self.decoupled(Sigma))

    def decoupled(self, Sigma: np.ndarray) -> np.ndarray:
        """``Sigma`` (..., K, K) with the covariances between a dimension the likelihood left
        out (fewer than two different values: :attr:`PreparedData.degenerate
        <skillinfer_bayes.data.prepared.PreparedData.degenerate>`) and the others set to 0.
        Its correlations are the prior's alone, whose sign no score tells: conditioning on
        them would only spread the other predictions across draws, so in the predictive such
        a benchmark is independent of every other (its variance kept)."""
        flat = self.data.degenerate
        if not flat.any():
            return Sigma
        keep = ~(flat[:, None] | flat[None, :]) | np.eye(len(flat), dtype=bool)
        return Sigma * keep
