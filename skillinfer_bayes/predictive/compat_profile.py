"""skillinfer 0.1.1's remaining names on :class:`~skillinfer_bayes.Profile`, as the mixin
:class:`SkillinferProfileNames`: ``to_dict`` / ``from_dict``, ``to_json`` / ``from_json``,
``match_score`` (from posterior predictive draws:
:mod:`~skillinfer_bayes.predictive.composites`) and ``uncertainty_ratio``. The population's
names are in :mod:`~skillinfer_bayes.predictive.compat`.

Examples
--------
>>> import skillinfer_bayes as sib
>>> pop = sib.Population.from_covariance([[1.0, 0.6], [0.6, 1.0]], ["a", "b"], [0.0, 0.0])
>>> profile = pop.profile(noise=0.0).observe("a", 1.0)
>>> sib.Profile.from_json(profile.to_json(), population=pop).observed
{'a': 1.0}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from skillinfer_bayes._version import __version__
from skillinfer_bayes.predictive.composites import match_score
from skillinfer_bayes.predictive.description import population_id
from skillinfer_bayes.predictive.types import MatchResult, PopulationLike, ProfileLike, Task


class SkillinferProfileNames:
    """skillinfer's ``Profile`` names that :class:`~skillinfer_bayes.Profile` inherits.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
    >>> profile = pop.profile(noise=0.0).observe("a", 2.0)
    >>> round(profile.uncertainty_ratio(pop.covariance_df), 3)
    0.375
    """

    def to_dict(self) -> dict:
        """The profile as a plain, JSON-serialisable dict (skillinfer's ``to_dict``).

        Returns
        -------
        dict
            skillinfer's keys: ``feature_names``, ``mean``, ``std`` (predictive, per
            benchmark), ``n_observations``, ``observed_features``, ``observations``
            (``{benchmark: score}`` in observation order) and ``noise`` (the sd of each latent
            dimension, benchmarks then covariates, as a list); ``partial_runs``
            (``{benchmark: [pooled score, items]}`` of ``observe(..., n_items=)``); and what
            ties it to its
            population: ``benchmark_names``, ``latent_names``, ``group``, ``prior_mean``
            (the means a ``prior_mean=`` or ``prior_entity=`` profile started from, else
            ``None``) and ``population_id`` (the fit's data hash and posterior draws:
            :func:`~skillinfer_bayes.predictive.description.population_id`), with
            ``skillinfer_bayes_version``.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
        >>> profile = pop.profile(noise=0.0).observe("a", 2.0)
        >>> data = profile.to_dict()
        >>> data["observations"], data["noise"]
        ({'a': 2.0}, [0.0, 0.0])
        """
        observed = self.observed
        order = sorted(observed, key=self.latent_names.index)
        return {
            "feature_names": list(self.benchmark_names),
            "mean": [float(v) for v in self.mean()],
            "std": [float(v) for v in self.std()],
            "n_observations": int(self.n_observations),
            "observed_features": order,
            "observations": {name: float(v) for name, v in observed.items()},
            "partial_runs": {name: [float(score), int(items)]
                             for name, (score, items) in self.partial_runs.items()},
            "noise": [float(v) for v in self.noise],
            "benchmark_names": list(self.benchmark_names),
            "latent_names": list(self.latent_names),
            "group": self.group,
            "prior_mean": self.prior_mean,
            "population_id": self.description.fit_id,
            "skillinfer_bayes_version": __version__,
        }

    @classmethod
    def from_dict(cls, data: Mapping, population: PopulationLike | None = None) -> ProfileLike:
        """Rebuild a profile from :meth:`to_dict` by replaying its observations on
        ``population.profile(noise=..., group=...)`` (skillinfer's ``from_dict``).

        Parameters
        ----------
        data : dict
            As :meth:`to_dict` returns it (a dict from skillinfer's ``to_dict``, without a
            ``population_id``, is replayed too).
        population : Population
            The population the profile was made with. Required: unlike skillinfer's lossy
            rebuild without one, a Bayesian profile predicts from its population's posterior
            draws.

        Raises
        ------
        TypeError
            No population.
        ValueError
            A population fitted to other benchmarks, or another fit of them (the
            ``population_id`` differs).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
        >>> profile = pop.profile(noise=0.0).observe("a", 2.0)
        >>> again = sib.Profile.from_dict(profile.to_dict(), population=pop)
        >>> again.mean() == profile.mean()
        array([ True,  True])
        """
        if population is None:
            raise TypeError(
                "Profile.from_dict needs the population the profile was made with: "
                "Profile.from_dict(data, population=pop). (skillinfer rebuilds a lossy "
                "profile without one; a Bayesian profile predicts from its population's "
                "posterior draws.)"
            )
        if not isinstance(data, Mapping):
            raise TypeError(f"data must be a dict from Profile.to_dict(); got "
                            f"{type(data).__name__}.")
        names = [str(n) for n in data.get("benchmark_names", data.get("feature_names", []))]
        fitted = list(population.benchmark_names)
        latent = data.get("latent_names")
        if names != fitted or (latent is not None and list(latent) != population.latent_names):
            made = names if latent is None else list(latent)
            raise ValueError(
                f"The population is fitted to benchmarks {population.latent_names}; this "
                f"profile was made on {made}. Load it with the population it was made with."
            )
        saved_id = data.get("population_id")
        if saved_id is not None and saved_id != population_id(population):
            raise ValueError(
                "This profile was made with another fit of these benchmarks (its "
                "population_id differs from this population's): load it with the population "
                "it was made with (e.g. Population.from_netcdf of the saved fit)."
            )
        noise = data.get("noise")
        if isinstance(noise, Sequence) and not isinstance(noise, str) and \
                len(noise) == len(population.latent_names) != len(fitted):
            noise = dict(zip(population.latent_names, noise))  # covariates' noise included
        prior_mean = data.get("prior_mean")  # a profile started from other means
        profile = population.profile(noise=noise, group=data.get("group"),
                                     prior_mean=None if not prior_mean else pd.Series(prior_mean))
        observations = data.get("observations") or {}
        if isinstance(observations, list):  # skillinfer's list of scored Skills
            observations = {s.name: s.score for s in observations}
        partial = data.get("partial_runs") or {}
        full = {name: v for name, v in observations.items() if name not in partial}
        if full:
            profile.observe_many(full)
        for name, (score, items) in partial.items():  # pooled runs: replayed as one
            profile.observe(name, score, n_items=int(items))
        return profile

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """:meth:`to_dict` as JSON, written to ``path`` when given (skillinfer's ``to_json``).

        Returns
        -------
        str
            The JSON text.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
        >>> profile = pop.profile(noise=0.0).observe("a", 2.0)
        >>> profile.to_json().startswith('{\\n  "feature_names"')
        True
        """
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike,
                  population: PopulationLike | None = None) -> ProfileLike:
        """Rebuild a profile from :meth:`to_json`'s text or file (skillinfer's
        ``from_json``; see :meth:`from_dict`, which needs the population).

        Parameters
        ----------
        source : str or path-like
            JSON text, or the path of a JSON file.
        population : Population
            The population the profile was made with.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
        >>> profile = pop.profile(noise=0.0).observe("a", 2.0)
        >>> sib.Profile.from_json(profile.to_json(), pop).observed
        {'a': 2.0}
        """
        if isinstance(source, os.PathLike):
            with open(source) as f:
                data = json.load(f)
        else:
            try:
                data = json.loads(source)
            except json.JSONDecodeError:
                with open(source) as f:
                    data = json.load(f)
        return cls.from_dict(data, population)

    def match_score(self, task_vector: Task | Mapping | Sequence[float] | np.ndarray,
                    threshold: float | None = None, level: float = 0.95, *,
                    random_seed: int | None = 0) -> MatchResult:
        """Score this entity against a task: the predictive distribution of the composite
        ``w . y`` of its scores (skillinfer's ``match_score``).

        The weights are divided by ``sum |w|`` (as skillinfer), so the composite is on the
        scores' scale. Unlike skillinfer's Gaussian ``N(w' mu, w' Sigma w)``, the composite is
        computed from posterior predictive draws (at least 4,000: every posterior draw, each
        drawn the same number of times, through the benchmarks' transforms and, for a mixture
        population, its components): see :mod:`~skillinfer_bayes.predictive.composites`.

        Parameters
        ----------
        task_vector : Task, dict or array-like
            A :class:`~skillinfer_bayes.Task`, ``{benchmark: weight}`` or K weights in
            benchmark order.
        threshold : float, optional
            Also give ``P(composite > threshold)``, the share of draws above it.
        level : float, default 0.95
            Probability of the central interval (the draws' quantiles).
        random_seed : int or None, default 0
            Seed of the predictive draws: by default the same call gives the same numbers;
            ``None`` draws afresh. The Monte Carlo standard error of ``score`` is about
            ``std / sqrt(R)`` for R >= 4,000 draws (1.6% of ``std``, more when the posterior
            draws are autocorrelated), and that of ``p_above_threshold`` at most
            ``0.5 / sqrt(R)`` (0.008).

        Returns
        -------
        MatchResult
            ``score`` (mean), ``std``, ``ci_lower``, ``ci_upper``, ``p_above_threshold``
            (None without a threshold).

        Raises
        ------
        UnknownBenchmarkError, ValueError
            A task naming an unknown benchmark, of the wrong length, with non-finite or all-0
            weights.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
        >>> profile = pop.profile(noise=0.0).observe("a", 2.0)
        >>> result = profile.match_score({"a": 1.0, "b": 1.0}, threshold=1.0)
        >>> round(result.score, 1), round(result.std, 1), round(result.p_above_threshold, 1)
        (1.5, 0.9, 0.7)
        """
        return match_score(self, task_vector, threshold, level, random_seed=random_seed)

    def uncertainty_ratio(self, Sigma_0) -> float:
        """``trace(Sigma) / trace(Sigma_0)``: the share of the prior uncertainty left
        (skillinfer's ``uncertainty_ratio``; :attr:`Sigma` is the predictive covariance).

        Parameters
        ----------
        Sigma_0 : array-like or pandas.DataFrame
            (K, K), typically ``pop.covariance_df`` (a labelled frame is aligned by benchmark;
            covariates dropped). With transformed benchmarks ``pop.covariance`` is on the
            latent scale: pass ``pop.profile().Sigma`` (the score scale) instead.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
        >>> profile = pop.profile(noise=0.0).observe("a", 2.0)
        >>> round(profile.uncertainty_ratio(pop.profile().Sigma), 3)
        0.375
        """
        names = list(self.benchmark_names)
        if isinstance(Sigma_0, pd.DataFrame) and set(names) <= {str(i) for i in Sigma_0.index}:
            frame = Sigma_0.set_axis([str(i) for i in Sigma_0.index], axis=0)
            frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
            Sigma_0 = frame.loc[names, names]
        prior = np.asarray(Sigma_0, dtype=float)
        if prior.shape != (len(names), len(names)):
            raise ValueError(f"Sigma_0 must be ({len(names)}, {len(names)}) for the benchmarks "
                             f"{names}; got shape {prior.shape}.")
        total = float(np.trace(prior))
        if total < 1e-15:
            return 0.0
        return float(np.trace(self.Sigma) / total)
