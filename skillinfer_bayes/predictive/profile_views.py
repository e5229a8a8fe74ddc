"""A profile's predictive in skillinfer's shapes (``mu``, ``Sigma``, ``covariance_matrix``,
``agent_vector``, ``confidence_interval``, ``to_dataframe``) and as joint draws (``sample``).

:class:`ProfileViews` is mixed into :class:`~skillinfer_bayes.predictive.profile.Profile`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_positive_int, check_seed
from skillinfer_bayes.data.prepared import score_values
from skillinfer_bayes.predictive.components import condition_components


def benchmark_argument(benchmark, feature):
    """The benchmark named by ``benchmark`` or by skillinfer's keyword ``feature``.

    Examples
    --------
    >>> benchmark_argument(None, "GPQA")
    'GPQA'
    >>> benchmark_argument("BBH", "GPQA")
    Traceback (most recent call last):
    ...
    TypeError: Give the benchmark once: benchmark=... or skillinfer's feature=....
    """
    if feature is not None and benchmark is not None:
        raise TypeError("Give the benchmark once: benchmark=... or skillinfer's feature=....")
    if feature is None and benchmark is None:
        raise TypeError("Name a benchmark (by name or position).")
    return feature if benchmark is None else benchmark


class ProfileViews:
    """skillinfer's views of a profile, and its joint draws (mixed into ``Profile``)."""

    def skillinfer_detail(self, std: np.ndarray) -> dict[str, np.ndarray]:
        """skillinfer's ``confidence`` and ``source`` columns for the sds ``std``.

        Examples
        --------
        >>> p = pop.profile().observe("BBH", 55.93)
        >>> p.skillinfer_detail(p.std())["source"].tolist()[:2]
        ['predicted', 'observed']
        """
        before = np.sqrt(self.prior_variance(spread=True))[: len(std)]
        return {
            "confidence": np.clip(1.0 - std / np.maximum(before, 1e-300), 0.0, 1.0),
            "source": np.where(np.isin(np.arange(len(std)), self.observed_indices),
                               "observed", "predicted"),
        }

    @property
    def mu(self) -> np.ndarray:
        """(K,) predictive mean vector (skillinfer's ``Profile.mu``; :meth:`mean`)."""
        return self.mean()

    @property
    def Sigma(self) -> np.ndarray:
        """(K, K) covariance of the predictive mixture (skillinfer's ``Profile.Sigma``).

        ``mean_s C_s + Cov_s(m_s)``: the per-draw conditional covariances averaged over the
        posterior draws plus the covariance of the conditional means across draws (the
        parameters' own uncertainty, which skillinfer's plug-in lacks). Its diagonal is
        ``std() ** 2``. With transformed benchmarks this is the latent covariance's
        correlation scaled by the scores' sds (their covariance on the score scale has no
        closed form).
        """
        out = self.conditioned(full_cov=True)
        w = (np.full(len(out.means), 1.0 / len(out.means)) if out.weights is None
             else out.weights)
        centred = out.means - w @ out.means
        K = len(self.benchmark_names)
        cov = (np.einsum("n,nij->ij", w, out.cov) + (centred.T * w) @ centred)[:K, :K]
        if not self.description.data.transformed:
            return cov
        latent_sd = np.sqrt(np.diag(cov))
        scale = self.std() / np.maximum(latent_sd, 1e-300)
        return cov * np.outer(scale, scale)

    @property
    def covariance_matrix(self) -> pd.DataFrame:
        """:attr:`Sigma` labelled by benchmark (skillinfer's ``covariance_matrix``)."""
        return pd.DataFrame(self.Sigma, index=self.benchmark_names, columns=self.benchmark_names)

    @property
    def agent_vector(self) -> pd.Series:
        """The predictive means as a Series named ``agent_vector`` (skillinfer's)."""
        return pd.Series(self.mean(), index=self.benchmark_names, name="agent_vector")

    def confidence_interval(self, benchmark: str | int | None = None, level: float = 0.95, *,
                            feature: str | int | None = None) -> tuple[float, float]:
        """Central predictive interval of one benchmark (skillinfer's name and default level).

        skillinfer returns ``mean -+ z sd`` of its Gaussian; this is :meth:`interval`, the
        exact quantiles of the predictive mixture.

        Examples
        --------
        >>> lower, upper = pop.profile().observe("BBH", 55.93).confidence_interval("GPQA")
        >>> round(lower), round(upper)
        (9, 22)
        """
        return self.interval(benchmark_argument(benchmark, feature), level=level)

    def to_dataframe(self, detail: bool = False) -> pd.DataFrame:
        """The predictive means and sds in skillinfer's layout: columns ``feature`` (the
        benchmark, skillinfer's name), ``mean``, ``std`` (and ``confidence``, ``source`` with
        ``detail``), one row per benchmark. :meth:`predict` is this library's table.

        Examples
        --------
        >>> pop.profile().to_dataframe().columns.tolist()
        ['feature', 'mean', 'std']
        """
        std = self.std()
        frame = pd.DataFrame({"feature": self.benchmark_names, "mean": self.mean(), "std": std})
        return frame.assign(**self.skillinfer_detail(std)) if detail else frame

    def sample(self, n: int, random_seed: int | None = None) -> pd.DataFrame:
        """Draw n joint predictive score vectors (posterior draw, then conditional normal).

        Parameters
        ----------
        n : int
            Number of draws.
        random_seed : int, optional
            Seed; the same seed gives the same draws.

        Returns
        -------
        pandas.DataFrame
            (n, K), columns = benchmarks.

        Examples
        --------
        >>> draws = pop.profile().observe("BBH", 55.93).sample(1000, random_seed=0)
        >>> draws.shape
        (1000, 6)
        """
        n = check_positive_int("n", n)
        rng = np.random.default_rng(check_seed(random_seed))
        draws = self.components
        if draws.n_components == 1:
            chosen = draws.subset(rng.integers(draws.n_draws, size=n))
            out = condition_components(chosen, *self.latent_observations(), full_cov=True)
            means, covs = out.means, out.cov
        else:  # a component of a uniformly drawn posterior draw, by its conditional weight
            out = self.conditioned(full_cov=True)
            pick = rng.choice(len(out.weights), size=n, p=out.weights / out.weights.sum())
            means, covs = out.means[pick], out.cov[pick]
        # Symmetric square root via eigh: stable for the (near-)singular observed block.
        w, v = np.linalg.eigh(covs)
        root = v * np.sqrt(np.clip(w, 0.0, None))[:, None, :]
        z = rng.standard_normal((n, len(self.latent_names)))
        scores = score_values(means + np.einsum("nij,nj->ni", root, z), self.transforms)
        return pd.DataFrame(scores[:, : len(self.benchmark_names)], columns=self.benchmark_names)

    def component_probabilities(self) -> pd.Series:
        """Which cluster of a mixture population this entity is likely in, given its
        observations: ``P(c | x_o)``, each component's weight reweighted by its evidence
        ``N(x_o; mu_c[o], Sigma_c[o, o] + R)`` per draw, averaged over the draws.

        Before any observation these are the posterior-mean weights; a population with one
        component gives 1.

        Returns
        -------
        pandas.Series
            Indexed by ``component`` (0..C-1, as :meth:`Population.component_weights
            <skillinfer_bayes.Population.component_weights>`); sums to 1.

        Examples
        --------
        >>> pop.profile().observe("BBH", 55.93).component_probabilities().tolist()
        [1.0]
        """
        draws = self.components
        index = pd.Index(range(draws.n_components), name="component")
        if draws.n_components == 1:
            return pd.Series(1.0, index=index, name="probability")
        weights = self.conditional_moments()[2].reshape(draws.n_draws, draws.n_components)
        return pd.Series(weights.sum(axis=0), index=index, name="probability")
