"""skillinfer 0.1.1's remaining names on :class:`~skillinfer_bayes.Population` and
:class:`~skillinfer_bayes.Profile`, as two mixins the classes inherit, so that a skillinfer
user's code runs unchanged with ``import skillinfer_bayes as skillinfer``.

:class:`SkillinferPopulationNames` adds ``from_covariance`` (a plug-in population: a given mean
and covariance as a point-mass posterior), ``skills``, ``describe_skills``, ``skill_vector``,
``covariance_df``, ``correlation_df``, ``condition_number``, ``to_dataframe``, ``to_csv`` and
``to_parquet``. :class:`SkillinferProfileNames` adds ``to_dict`` / ``from_dict``, ``to_json`` /
``from_json``, ``match_score`` (from posterior predictive draws:
:mod:`~skillinfer_bayes.predictive.composites`) and ``uncertainty_ratio``.
:func:`skillinfer_covariance` maps skillinfer's covariance estimators to this library's.

Examples
--------
>>> import skillinfer_bayes as sib
>>> pop = sib.Population.from_covariance([[1.0, 0.6], [0.6, 1.0]], ["a", "b"], [0.0, 0.0])
>>> profile = pop.profile(noise=0.0).observe("a", 1.0)
>>> round(profile.mean("b"), 2), round(profile.std(feature="b"), 2)
(0.6, 0.8)
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
from skillinfer_bayes.data.prepared import PreparedData
from skillinfer_bayes.data.sufficient_stats import pattern_stats
from skillinfer_bayes.data.transforms import Identity
from skillinfer_bayes.inference.fitting import COVARIANCES
from skillinfer_bayes.inference.inference_data import from_dict
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.predictive.composites import match_score, population_id
from skillinfer_bayes.predictive.types import MatchResult, PopulationLike, ProfileLike, Skill, Task

#: skillinfer's covariance estimators, and this library's counterpart of each: the dense
#: covariance with an LKJ prior (the Bayesian model of what both estimate).
SKILLINFER_COVARIANCES = {"ledoit-wolf": "lkj", "sample": "lkj"}

#: The ``idata.attrs`` flag of a plug-in population (:meth:`SkillinferPopulationNames.
#: from_covariance`): its diagnostics are not computed (a point mass has no r_hat or ESS).
PLUG_IN_ATTR = "plug_in"

#: How many sds either side of the mean a plug-in population's ``score_range`` spans (the
#: range the out-of-range warning of ``observe`` compares with).
PLUG_IN_RANGE_SDS = 3.0


def skillinfer_covariance(covariance: str) -> str:
    """The covariance structure of ``Population.from_dataframe``'s ``covariance=``:
    skillinfer's ``"ledoit-wolf"`` and ``"sample"`` (point estimates) both mean ``"lkj"`` here
    (the dense covariance with an LKJ prior, fitted by NUTS: the Bayesian counterpart of
    either); this library's own names pass through.

    Raises
    ------
    ValueError
        An unknown name, with the valid ones.

    Examples
    --------
    >>> skillinfer_covariance("ledoit-wolf"), skillinfer_covariance("factor")
    ('lkj', 'factor')
    >>> skillinfer_covariance("bogus")
    Traceback (most recent call last):
    ...
    ValueError: Unknown covariance 'bogus'; choose one of ['lkj', 'factor'] (or skillinfer's ...
    """
    if isinstance(covariance, str) and covariance in SKILLINFER_COVARIANCES:
        return SKILLINFER_COVARIANCES[covariance]
    if isinstance(covariance, str) and covariance in COVARIANCES:
        return covariance
    raise ValueError(
        f"Unknown covariance {covariance!r}; choose one of {list(COVARIANCES)} (or "
        f"skillinfer's {' and '.join(repr(k) for k in SKILLINFER_COVARIANCES)}, which mean "
        "'lkj' here)."
    )


def _check_plug_in(covariance, feature_names, population_mean) -> tuple:
    """Names, (K, K) covariance and (K,) mean of :meth:`from_covariance`, checked."""
    names = [str(n) for n in feature_names] if not isinstance(feature_names, str) else None
    if not names:
        raise ValueError(f"feature_names must be a non-empty list of names; got "
                         f"{feature_names!r}.")
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"feature_names must be distinct; repeated: {repeated}.")
    K = len(names)
    Sigma = np.asarray(covariance, dtype=float)
    mu = np.asarray(population_mean, dtype=float)
    if Sigma.shape != (K, K):
        raise ValueError(f"Covariance shape {Sigma.shape} doesn't match {K} features.")
    if mu.shape != (K,):
        raise ValueError(f"Mean shape {mu.shape} doesn't match {K} features.")
    if not (np.all(np.isfinite(Sigma)) and np.all(np.isfinite(mu))):
        raise ValueError("The covariance and the mean must be finite numbers (no NaN or inf).")
    asymmetry = float(np.max(np.abs(Sigma - Sigma.T)))
    if asymmetry > 1e-8 * max(float(np.max(np.abs(Sigma))), 1e-300):
        raise ValueError(
            f"The covariance is not symmetric (largest |C - C.T| = {asymmetry:.3g}); pass "
            "(C + C.T) / 2 if the asymmetry is rounding, or check how C was computed."
        )
    Sigma = (Sigma + Sigma.T) / 2
    smallest = float(np.linalg.eigvalsh(Sigma)[0])
    if not smallest > 0:
        raise ValueError(
            f"The covariance is not positive definite (smallest eigenvalue {smallest:.3g}): a "
            "population needs every combination of features to vary. Add a small ridge (e.g. "
            "C + 1e-6 * np.trace(C) / K * np.eye(K)), or estimate C with shrinkage "
            "(Ledoit-Wolf) or from Population.from_dataframe."
        )
    return names, Sigma, mu


class SkillinferPopulationNames:
    """skillinfer's ``Population`` names that :class:`~skillinfer_bayes.Population` inherits.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
    >>> pop.correlation_df.round(2)
         a    b
    a  1.0  0.5
    b  0.5  1.0
    """

    @classmethod
    def from_covariance(cls, covariance, feature_names: Sequence[str],
                        population_mean) -> PopulationLike:
        """A **plug-in population** from a given mean and covariance (skillinfer's
        ``from_covariance``, e.g. a domain expert's covariance or one from a previous study).

        Its posterior is a point mass: one posterior draw (1 chain x 1 draw) that is exactly
        ``population_mean`` and ``covariance``, with no transform (the normal on the scores, as
        skillinfer's), so predictions are skillinfer's Gaussian conditioning: the same ``mu``
        and ``std()`` for the same observations and noise. Everything a fitted population
        predicts with works (``profile()``, ``observe``, ``predict``, ``mean``, ``std``,
        ``sample``, ``most_uncertain``, ``match_score``); there is no data behind it, so its
        sampler diagnostics are not computed (``pop.diagnostics()`` has ``plug_in: True``, NaN
        r_hat and ESS, no problem and no :class:`~skillinfer_bayes.SamplerWarning`). Its
        ``matrix`` is one row, ``"_population_mean"``, as skillinfer's; the range ``observe``
        warns outside of is the mean -+ 3 sd (widened by a quarter of it).

        Parameters
        ----------
        covariance : array-like
            (K, K) symmetric positive-definite covariance of the features.
        feature_names : list of str
            The K feature (benchmark) names.
        population_mean : array-like
            (K,) population mean.

        Returns
        -------
        Population

        Raises
        ------
        ValueError
            Shapes that do not match K features, non-finite numbers, or a covariance that is
            not symmetric or not positive definite (with the fix).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance(
        ...     [[100.0, 60.0], [60.0, 100.0]], ["BBH", "MMLU-PRO"], [40.0, 30.0])
        >>> profile = pop.profile(noise=0.0).observe("BBH", 50.0)
        >>> profile.mean("MMLU-PRO"), profile.std("MMLU-PRO")
        (36.0, 8.0)
        """
        names, Sigma, mu = _check_plug_in(covariance, feature_names, population_mean)
        K = len(names)
        sd = np.sqrt(np.diag(Sigma))
        corr = Sigma / np.outer(sd, sd)
        matrix = pd.DataFrame(mu[None], columns=names, index=["_population_mean"])
        center, scale = mu.copy(), sd.copy()
        for array in (center, scale):
            array.flags.writeable = False
        data = PreparedData(matrix, None, None, (), None, (Identity(),) * K, None, center,
                            scale, tuple(pattern_stats(np.zeros((1, K)))))

        def one(value: np.ndarray) -> np.ndarray:  # 1 chain x 1 draw
            return np.asarray(value, dtype=float)[None, None]

        pair = ["benchmark", "benchmark_bis"]
        idata = from_dict(
            posterior={"mu": one(mu), "sigma": one(sd), "corr": one(corr),
                       "Sigma": one(Sigma), "mu_std": one(np.zeros(K)),
                       "chol_stds": one(np.ones(K)), "chol_corr": one(corr)},
            sample_stats={"diverging": np.zeros((1, 1), dtype=bool)},
            coords={"benchmark": names, "benchmark_bis": names},
            dims={"mu": ["benchmark"], "sigma": ["benchmark"], "corr": pair, "Sigma": pair,
                  "mu_std": ["benchmark"], "chol_stds": ["benchmark"], "chol_corr": pair},
        )
        prior = Prior()
        idata.attrs.update({
            PLUG_IN_ATTR: 1, "sampler": "plug-in (from_covariance)", "covariance": "lkj",
            "n_factors": -1, "components": 1, "shared_covariance": 0, "normalize": 0,
            "prior": json.dumps(prior.to_dict()), "n_entities": 0, "n_groups": 0,
            "skillinfer_bayes_version": __version__,
        })
        pop = cls(data, idata, prior)
        pop.score_range = np.vstack([mu - PLUG_IN_RANGE_SDS * sd, mu + PLUG_IN_RANGE_SDS * sd])
        return pop

    def _skill_table(self) -> dict[str, Skill]:
        table = self.__dict__.get("_skills")
        if table is None:
            table = {name: Skill(name) for name in self.benchmark_names}
            self._skills = table
        return table

    @property
    def skills(self) -> list[Skill]:
        """The benchmarks as :class:`~skillinfer_bayes.Skill` objects, with the descriptions
        given by :meth:`describe_skills` (skillinfer's ``skills``).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> pop.skills
        [Skill('a'), Skill('b')]
        """
        table = self._skill_table()
        return [table[name] for name in self.benchmark_names]

    def describe_skills(self, descriptions: dict[str, str] | list[Skill]) -> None:
        """Attach descriptions to the benchmarks (skillinfer's ``describe_skills``): a dict
        ``{benchmark: description}`` or a list of :class:`~skillinfer_bayes.Skill`; names
        that are not benchmarks are ignored, as in skillinfer.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> pop.describe_skills({"a": "Arithmetic"})
        >>> pop.skills[0].description
        'Arithmetic'
        """
        table = self._skill_table()
        if isinstance(descriptions, Mapping):
            for name, text in descriptions.items():
                if str(name) in table:
                    table[str(name)] = Skill(str(name), description=text)
            return
        for skill in descriptions:
            if not isinstance(skill, Skill):
                raise TypeError(f"describe_skills takes a dict {{benchmark: description}} or "
                                f"a list of Skill; got an element {skill!r}.")
            if skill.name in table:
                table[skill.name] = skill

    def skill_vector(self, name) -> pd.Series:
        """A fitted entity's scores as a Series by benchmark, named after the entity, on the
        fitted scale (after ``normalize``; NaN = missing): :meth:`entity` labelled
        (skillinfer's ``skill_vector``).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> pop.skill_vector("_population_mean").tolist()
        [10.0, 5.0]
        """
        return pd.Series(self.entity(name), index=list(self.benchmark_names), name=name)

    @property
    def covariance_df(self) -> pd.DataFrame:
        """The posterior-mean covariance of the benchmarks, labelled (skillinfer's
        ``covariance_df``): :attr:`covariance` without the covariates. On the latent scale for
        a transformed benchmark (its scores' own scale without a transform).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> float(pop.covariance_df.loc["a", "b"])
        1.0
        """
        names = list(self.benchmark_names)
        return self.covariance.loc[names, names]

    @property
    def correlation_df(self) -> pd.DataFrame:
        """The posterior-mean correlation of the benchmarks, labelled (skillinfer's
        ``correlation_df``): :attr:`correlation` without the covariates, on the latent scale
        for a transformed benchmark.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> pop.correlation_df.shape
        (2, 2)
        """
        names = list(self.benchmark_names)
        return self.correlation.loc[names, names]

    def condition_number(self) -> float:
        """Condition number of the posterior-mean covariance of the benchmarks
        (:attr:`covariance_df`; skillinfer's ``condition_number``).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> round(pop.condition_number(), 2)
        6.17
        """
        return float(np.linalg.cond(self.covariance_df.to_numpy()))

    def to_dataframe(self) -> pd.DataFrame:
        """A copy of the table the population was fitted to, :attr:`matrix` (on the fitted
        scale, NaN = missing; covariates not included).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> pop.to_dataframe().shape
        (1, 2)
        """
        return self.matrix.copy()

    def to_csv(self, path) -> None:
        """Write :meth:`to_dataframe` to a CSV file (skillinfer's ``to_csv``).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
        >>> pop.to_csv(path)
        >>> pd.read_csv(path, index_col=0).columns.tolist()
        ['a', 'b']
        """
        self.matrix.to_csv(path)

    def to_parquet(self, path) -> None:
        """Write :meth:`to_dataframe` to a Parquet file (skillinfer's ``to_parquet``).

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[4, 1], [1, 1]], ["a", "b"], [10, 5])
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "scores.parquet")
        >>> pop.to_parquet(path)
        >>> pd.read_parquet(path).shape
        (1, 2)
        """
        self.matrix.to_parquet(path)


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
            dimension, benchmarks then covariates, as a list); and what ties it to its
            population: ``benchmark_names``, ``latent_names``, ``group``, ``prior_mean``
            (the means a ``prior_mean=`` or ``prior_entity=`` profile started from, else
            ``None``) and ``population_id`` (the fit's data hash and posterior draws:
            :func:`~skillinfer_bayes.predictive.composites.population_id`), with
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
            "noise": [float(v) for v in self.noise],
            "benchmark_names": list(self.benchmark_names),
            "latent_names": list(self.latent_names),
            "group": self.group,
            "prior_mean": self.prior_mean,
            "population_id": population_id(self.population),
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
        if observations:
            profile.observe_many(observations)
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
