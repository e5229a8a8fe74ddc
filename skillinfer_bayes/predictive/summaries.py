"""What a fitted population says about its benchmarks: covariance, correlations, means,
principal components and mixture components, averaged over the posterior draws.

:class:`PopulationSummaries` is the part of ``Population`` that summarizes its draws
(``pop.draws``, :class:`~skillinfer_bayes.predictive.posterior_draws.PosteriorDraws`); it works
on any object with those attributes, so it sits below :mod:`skillinfer_bayes.population`.

Examples
--------
>>> bool(pop.correlation.loc["BBH", "MMLU-PRO"] > 0.8)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_level
from skillinfer_bayes.data.prepared import score_values


class PopulationSummaries:
    """Posterior summaries of a fitted population (mixed into ``Population``)."""

    @property
    def covariance(self) -> pd.DataFrame:
        """Posterior-mean covariance matrix, labelled by benchmark (and covariate), on the
        latent scale (the scores themselves for untransformed benchmarks)."""
        return self._frame(self.Sigma_draws.mean(axis=0))

    @property
    def correlation(self) -> pd.DataFrame:
        """Posterior-mean correlation matrix, labelled by benchmark (and covariate), on the
        latent scale."""
        return self._frame(self.draws.correlation_draws().mean(axis=0))

    @property
    def population_mean(self) -> pd.Series:
        """The mean score of a new entity before any observation, per benchmark (and
        covariate), on the scores' own scale: skillinfer's ``population_mean`` (there the
        mean of the table's rows; here the predictive mean, averaged over the posterior and
        mapped back through each transform). :attr:`latent_mean` is the model's mean on the
        latent scale.

        Examples
        --------
        >>> bool((pop.population_mean - df.mean()).abs().max() < 1.0)
        True
        """
        table = self.profile().predict(covariates=True)
        return pd.Series(table["mean"].to_numpy(), index=self.latent_names, name="mean")

    @property
    def latent_mean(self) -> pd.Series:
        """Posterior-mean means of the benchmarks (and covariates) on the latent scale the
        model is a normal on (the scores themselves for untransformed benchmarks; about 0 for
        a copula's normal scores)."""
        return pd.Series(self.mu_draws.mean(axis=0), index=self.latent_names, name="mean")

    @property
    def group_mean(self) -> pd.DataFrame:
        """Posterior-mean group means on the latent scale, one row per group (grouped
        populations only)."""
        self.draws.require_groups("group_mean")
        return pd.DataFrame(
            self.group_mu_draws.mean(axis=1), index=pd.Index(self.group_names, name="group"),
            columns=self.latent_names,
        )

    # ------------------------------------------------------------------ mixture components
    def component_weights(self, level: float = 0.9) -> pd.DataFrame:
        """The posterior of the mixture weights, one row per component.

        Components are labelled 0..C-1 in the order of their means along the data's first
        principal direction (for a leaderboard: the overall level), the same in every chain
        (:mod:`~skillinfer_bayes.models.mixture`). A component the data do not support has a
        weight near 0 (the sparse Dirichlet prior empties it).

        Parameters
        ----------
        level : float, default 0.9
            Probability of the central credible interval.

        Returns
        -------
        pandas.DataFrame
            Index ``component``; columns ``weight`` (posterior mean), ``sd``, ``lower``,
            ``upper`` and ``entities``, the expected number of fitted entities in the
            component (the sum of their :meth:`component_probabilities`).

        Examples
        --------
        >>> mix = sib.Population.from_dataframe(df.iloc[:400], components=2, random_seed=0,
        ...                                     draws=500, tune=500, progressbar=False)
        >>> mix.component_weights().columns.tolist()
        ['weight', 'sd', 'lower', 'upper', 'entities']
        """
        level = check_level(level)
        w = self.component_weight_draws
        lower, upper = np.quantile(w, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return pd.DataFrame(
            {"weight": w.mean(axis=0), "sd": w.std(axis=0), "lower": lower, "upper": upper,
             "entities": self.component_probabilities().sum(axis=0).to_numpy()},
            index=pd.Index(range(self.n_components), name="component"),
        )

    def component_probabilities(self) -> pd.DataFrame:
        """Each fitted entity's posterior probability of belonging to each component.

        ``P(c_i = c | data) = E[w_c N(x_i; mu_c, Sigma_c) / sum_d w_d N(x_i; mu_d, Sigma_d)]``,
        each entity on its own observed scores (and covariates), averaged over the posterior
        draws. For a new entity: :meth:`Profile.component_probabilities
        <skillinfer_bayes.predictive.profile.Profile.component_probabilities>`.

        Returns
        -------
        pandas.DataFrame
            (N, C), indexed like :attr:`matrix`, columns the components; rows sum to 1.

        Examples
        --------
        >>> probs = mix.component_probabilities()
        >>> bool(np.allclose(probs.sum(axis=1), 1.0))
        True
        """
        total = self.draws.component_probabilities() * self.n_draws
        return pd.DataFrame(total / self.n_draws, index=self.matrix.index,
                            columns=pd.Index(range(self.n_components), name="component"))

    def component_means(self) -> pd.DataFrame:
        """Each component's typical member: the posterior-mean latent mean of the component,
        mapped back to the scores (its median score of each benchmark and covariate).

        Returns
        -------
        pandas.DataFrame
            (C, K + P), index ``component``, on the fitted scale.

        Examples
        --------
        >>> mix.component_means().shape
        (2, 6)
        """
        latent = self.component_mu_draws.mean(axis=0)  # (C, K)
        return pd.DataFrame(score_values(latent, self.data.transforms),
                            index=pd.Index(range(self.n_components), name="component"),
                            columns=self.latent_names)

    def _frame(self, matrix: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(matrix, index=self.latent_names, columns=self.latent_names)

    def top_correlations(self, k: int = 20, level: float = 0.9) -> pd.DataFrame:
        """The k benchmark pairs with the strongest posterior-mean correlation (by |r|).

        Parameters
        ----------
        k : int, default 20
            Number of pairs.
        level : float, default 0.9
            Probability of the central credible interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``benchmark_a``, ``benchmark_b``, ``correlation`` (posterior mean), ``lower``,
            ``upper``, then skillinfer's names of the pair, ``feature_a`` and ``feature_b``
            (the same values).

        Examples
        --------
        >>> pop.top_correlations(k=1).round(2)
          benchmark_a benchmark_b  correlation  lower  upper feature_a feature_b
        0         BBH    MMLU-PRO         0.94   0.94   0.94       BBH  MMLU-PRO
        """
        level = check_level(level)
        K = len(self.latent_names)
        corr = self.draws.correlation_draws()
        i, j = np.triu_indices(K, k=1)
        pairs = corr[:, i, j]
        lower, upper = np.quantile(pairs, [(1 - level) / 2, (1 + level) / 2], axis=0)
        table = pd.DataFrame(
            {
                "benchmark_a": [self.latent_names[a] for a in i],
                "benchmark_b": [self.latent_names[b] for b in j],
                "correlation": pairs.mean(axis=0),
                "lower": lower,
                "upper": upper,
            }
        )
        table["feature_a"], table["feature_b"] = table["benchmark_a"], table["benchmark_b"]
        order = np.argsort(-table["correlation"].abs().to_numpy(), kind="stable")
        return table.iloc[order[:k]].reset_index(drop=True)

    def pca(self, n_components: int | None = None, level: float = 0.9) -> dict:
        """Principal components of the population covariance, with posterior uncertainty
        (of the latent dimensions, covariates included).

        The eigen-decomposition is done for every posterior draw of the covariance, so the
        explained-variance ratios come with credible intervals.

        Parameters
        ----------
        n_components : int, optional
            Number of components (default: all K).
        level : float, default 0.9
            Probability of the central credible intervals.

        Returns
        -------
        dict
            ``explained_variance_ratio`` and ``cumulative`` (posterior means), their
            ``*_lower`` / ``*_upper`` bounds, and ``components`` (rows = eigenvectors of the
            posterior-mean covariance).

        Examples
        --------
        >>> pop.pca(n_components=1)["explained_variance_ratio"].round(2)
        array([0.74])
        """
        level = check_level(level)
        K = len(self.latent_names)
        n = K if n_components is None else int(n_components)
        if not 1 <= n <= K:
            raise ValueError(f"n_components must be between 1 and {K}; got {n_components!r}.")
        eig = np.linalg.eigvalsh(self.Sigma_draws)[:, ::-1]  # (S, K), descending
        ratio = eig / eig.sum(axis=1, keepdims=True)
        cumulative = np.cumsum(ratio, axis=1)
        q = [(1 - level) / 2, (1 + level) / 2]
        r_lo, r_hi = np.quantile(ratio[:, :n], q, axis=0)
        c_lo, c_hi = np.quantile(cumulative[:, :n], q, axis=0)
        _, vectors = np.linalg.eigh(self.Sigma_draws.mean(axis=0))
        return {
            "components": vectors[:, ::-1][:, :n].T,
            "explained_variance_ratio": ratio[:, :n].mean(axis=0),
            "explained_variance_ratio_lower": r_lo,
            "explained_variance_ratio_upper": r_hi,
            "cumulative": cumulative[:, :n].mean(axis=0),
            "cumulative_lower": c_lo,
            "cumulative_upper": c_hi,
        }

    def summary(self) -> dict:
        """Sizes, diagnostics and the top posterior correlations, as a dict."""
        return {
            "n_entities": len(self.entity_names),
            "n_features": len(self.benchmark_names),
            "n_missing": int(np.isnan(self.matrix.to_numpy()).sum()),
            "n_patterns": len(self.data.stats),
            "n_groups": len(self.group_names),
            "n_components": self.n_components,
            "prior": self.prior,
            **self.diagnostics(),
            "top_correlations": self.top_correlations(k=5).to_dict("records"),
        }
