"""How close a profile's predictions are to known scores: skillinfer's MAE, RMSE and cosine
similarity, and the summary with interval coverage.

:class:`ProfileAccuracy` is mixed into :class:`~skillinfer_bayes.predictive.profile.Profile`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class ProfileAccuracy:
    """Accuracy of a profile's predictions against true scores (mixed into ``Profile``)."""

    def _truth(self, true_vector) -> np.ndarray:
        if isinstance(true_vector, pd.Series):
            # benchmark names are str: match labels by their str form (integer columns)
            by_name = true_vector.set_axis([str(i) for i in true_vector.index])
            missing = sorted(set(self.benchmark_names) - set(by_name.index))
            if missing:
                raise ValueError(
                    f"true_vector lacks benchmark(s) {missing}; its index: "
                    f"{[str(i) for i in true_vector.index]}."
                )
            true_vector = by_name[self.benchmark_names]
        truth = np.asarray(true_vector, dtype=float)
        if truth.shape != (len(self.benchmark_names),):
            raise ValueError(
                f"true_vector must hold {len(self.benchmark_names)} scores in the order "
                f"{self.benchmark_names}; got shape {truth.shape}."
            )
        return truth

    def mae(self, true_vector) -> float:
        """Mean absolute error of the predictive means over all benchmarks.

        Examples
        --------
        >>> profile = pop.profile().observe("BBH", 55.93)
        >>> round(profile.mae(df.loc["meta-llama/Llama-3.1-70B-Instruct"]))
        5
        """
        return float(np.mean(np.abs(self.mean() - self._truth(true_vector))))

    def rmse(self, true_vector) -> float:
        """Root mean squared error of the predictive means over all benchmarks.

        Examples
        --------
        >>> true_scores = df.loc["meta-llama/Llama-3.1-70B-Instruct"]
        >>> round(pop.profile().observe("BBH", 55.93).rmse(true_scores))
        7
        """
        return float(np.sqrt(np.mean((self.mean() - self._truth(true_vector)) ** 2)))

    def similarity(self, true_vector=None, *, other=None) -> float:
        """Cosine similarity between the predictive means and ``true_vector`` (``other=`` is
        skillinfer's name of it).

        Examples
        --------
        >>> true_scores = df.loc["meta-llama/Llama-3.1-70B-Instruct"]
        >>> round(pop.profile().observe("BBH", 55.93).similarity(true_scores), 2)
        0.99
        """
        if (other is None) == (true_vector is None):
            raise TypeError("Give the target vector once: similarity(true_vector) or "
                            "skillinfer's similarity(other=...).")
        a, b = self.mean(), self._truth(true_vector if other is None else other)
        norm = np.linalg.norm(a) * np.linalg.norm(b)
        return float(a @ b / norm) if norm > 0 else 0.0

    def summary(self, true_vector=None, level: float = 0.9) -> dict:
        """Counts and uncertainty; with ``true_vector``, accuracy and interval coverage.

        Returns
        -------
        dict
            ``n_benchmarks`` (and skillinfer's ``n_features``), ``n_observed``,
            ``n_predicted``, ``mean_std``,
            ``uncertainty_reduction`` (mean of 1 - predictive sd / population sd),
            ``top_predicted`` (the 3 unobserved benchmarks with the highest predictive means,
            as skillinfer, with keys ``benchmark``, ``feature``, ``mean``, ``std``) and
            ``most_uncertain``; with ``true_vector`` also ``mae``,
            ``rmse``, ``max_error``, ``cosine_similarity``, ``coverage`` (share of
            unobserved benchmarks whose true score lies in the central ``level`` interval)
            and skillinfer's ``coverage_95`` (share of all benchmarks, observed ones
            included as skillinfer counts them, whose true score lies in the central 95%
            interval).

        Examples
        --------
        >>> true_scores = df.loc["meta-llama/Llama-3.1-70B-Instruct"]
        >>> pop.profile().observe("BBH", 55.93).summary(true_scores)["coverage"]
        0.8
        """
        table = self.predict(level=level)
        K = len(self.benchmark_names)
        pop_sd = np.sqrt(self.prior_variance(spread=False))[:K]
        result = {
            "n_benchmarks": len(self.benchmark_names),
            "n_features": len(self.benchmark_names),
            "n_observed": self.n_observations,
            "n_predicted": K - sum(j < K for j in self.observed_indices),
            "mean_std": float(table["std"].mean()),
            "uncertainty_reduction": float(np.mean(1.0 - table["std"].to_numpy() / pop_sd)),
            "top_predicted": self._top_predicted(table, k=3),
            "most_uncertain": self.most_uncertain(k=3).to_dict("records"),
        }
        if true_vector is not None:
            truth = self._truth(true_vector)
            err = np.abs(table["mean"].to_numpy() - truth)
            unobserved = table["observed"].isna().to_numpy()
            inside = (truth >= table["lower"].to_numpy()) & (truth <= table["upper"].to_numpy())
            result.update(
                {
                    "mae": float(err.mean()),
                    "rmse": float(np.sqrt(np.mean(err**2))),
                    "max_error": float(err.max()),
                    "cosine_similarity": self.similarity(truth),
                    "coverage": float(inside[unobserved].mean()) if unobserved.any() else np.nan,
                    "level": level,
                    "coverage_95": self._coverage(truth, 0.95),
                }
            )
        return result

    def _coverage(self, truth: np.ndarray, level: float) -> float:
        """Share of all benchmarks whose true score lies in the central ``level`` interval."""
        table = self.predict(level=level)
        inside = (truth >= table["lower"].to_numpy()) & (truth <= table["upper"].to_numpy())
        return float(inside.mean())

    def _top_predicted(self, table: pd.DataFrame, k: int) -> list[dict]:
        """The k unobserved benchmarks with the highest predictive means (skillinfer's)."""
        unobserved = table[table["observed"].isna()]
        top = unobserved.sort_values("mean", ascending=False, kind="stable").head(k)
        return [{"benchmark": name, "feature": name, "mean": float(row["mean"]),
                 "std": float(row["std"])}
                for name, row in top.iterrows()]
