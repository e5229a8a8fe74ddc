"""skillinfer 0.1.1's remaining names on :class:`~skillinfer_bayes.Population` and
:class:`~skillinfer_bayes.Profile`, as two mixins the classes inherit (the profile's in
:mod:`~skillinfer_bayes.predictive.compat_profile`), so that a skillinfer user's code runs
unchanged with ``import skillinfer_bayes as skillinfer``.

:class:`SkillinferPopulationNames` adds ``from_covariance`` (a plug-in population: a given mean
and covariance as a point-mass posterior), ``skills``, ``describe_skills``, ``skill_vector``,
``covariance_df``, ``correlation_df``, ``condition_number``, ``to_dataframe``, ``to_csv`` and
``to_parquet``. :class:`SkillinferProfileNames` adds ``to_dict`` / ``from_dict``, ``to_json`` /
``from_json``, ``match_score`` (from posterior predictive draws:
:mod:`~skillinfer_bayes.predictive.composites`) and ``uncertainty_ratio``.
skillinfer's covariance estimators map to this library's in
:class:`~skillinfer_bayes.ModelSpec` (``covariance="ledoit-wolf"`` means ``"lkj"``).

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
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from skillinfer_bayes._version import __version__
from skillinfer_bayes.data.prepared import PreparedData
from skillinfer_bayes.data.sufficient_stats import pattern_stats
from skillinfer_bayes.data.transforms import Identity
from skillinfer_bayes.inference.inference_data import from_dict
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.predictive.types import PopulationLike, Skill

#: The ``idata.attrs`` flag of a plug-in population (:meth:`SkillinferPopulationNames.
#: from_covariance`): its diagnostics are not computed (a point mass has no r_hat or ESS).
PLUG_IN_ATTR = "plug_in"

#: How many sds either side of the mean a plug-in population's ``score_range`` spans (the
#: range the out-of-range warning of ``observe`` compares with).
PLUG_IN_RANGE_SDS = 3.0


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
