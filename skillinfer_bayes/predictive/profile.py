"""Profile: one new entity's observed scores and the predictive distribution of the rest."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import (
    check_level,
    check_value,
    resolve_benchmark,
)
from skillinfer_bayes.data.prepared import latent_values, score_values
from skillinfer_bayes.predictive.accuracy import ProfileAccuracy
from skillinfer_bayes.predictive.active import NextBenchmark
from skillinfer_bayes.predictive.compat_profile import SkillinferProfileNames
from skillinfer_bayes.predictive.components import (
    ComponentDraws,
    ConditionedMixture,
    condition_components,
)
from skillinfer_bayes.predictive.decisions import ProfileProbabilities
from skillinfer_bayes.predictive.description import PopulationDescription
from skillinfer_bayes.predictive.marginals import score_moments_by_row
from skillinfer_bayes.predictive.mixture import average, mixture_quantile, mixture_var
from skillinfer_bayes.predictive.observation_checks import bounded_input, warn_about_input
from skillinfer_bayes.predictive.partial import (
    check_n_items,
    latent_binomial_variance,
    pool_runs,
)
from skillinfer_bayes.predictive.profile_views import ProfileViews, benchmark_argument
from skillinfer_bayes.predictive.types import Skill

#: Columns of :meth:`Profile.predict`: this library's, then skillinfer's names of the same
#: values (``feature`` the benchmark, ``ci_lower`` / ``ci_upper`` the interval's ends).
_COLUMNS = pd.Index(["mean", "median", "std", "lower", "upper", "observed"])
_SKILLINFER_COLUMNS = ("feature", "ci_lower", "ci_upper")
#: The default probability of :meth:`Profile.predict`'s interval: skillinfer's.
DEFAULT_LEVEL = 0.95


class Profile(SkillinferProfileNames, ProfileViews, NextBenchmark, ProfileAccuracy,
              ProfileProbabilities):
    """What is known of one entity: observed scores and the predictive of all benchmarks.

    Created by :meth:`Population.profile`. Every prediction conditions **each** posterior draw
    (and each of its mixture components, :class:`ComponentDraws`) on the observed scores,
    batched over draws; the predictive distribution of a benchmark is the mixture of those
    conditional normals, every draw counting alike and each component weighted by its evidence
    (:mod:`~skillinfer_bayes.predictive.components`), so it carries the uncertainty of the
    covariance itself. Observed benchmarks are predicted too (their latent score given the
    noisy observation).

    Methods that change the profile return it, so calls chain::

        pop.profile().observe("BBH", 55.9).observe("IFEval", 86.7).predict()

    Examples
    --------
    >>> profile = pop.profile()
    >>> round(profile.observe("BBH", 55.93).mean("IFEval"))
    70
    """

    def __init__(
        self,
        description: PopulationDescription,
        noise: float | np.ndarray,
        components: ComponentDraws,
        group: str | None = None,
        prior_mean: Mapping[str, float] | None = None,
    ) -> None:
        if not isinstance(description, PopulationDescription):
            raise TypeError(
                f"Profile takes a population's description and predictive draws, got "
                f"{type(description).__name__}: make a profile with pop.profile(), or "
                "Profile(pop.description, noise, pop.predictive_components())."
            )
        #: The population as this profile sees it, apart from its draws
        #: (:class:`~skillinfer_bayes.predictive.description.PopulationDescription`).
        self.description = description
        #: The latent dimensions: the benchmarks, then the covariates (observable, predicted
        #: only on request).
        self.latent_names = description.latent_names
        self._noise = np.broadcast_to(
            np.asarray(noise, dtype=float), (len(self.latent_names),)
        ).copy()
        self._noise.flags.writeable = False
        #: The fitted group this entity belongs to (``None``: population level).
        self.group = group
        #: The prior means this profile started from (``Population.profile(prior_mean=...)``
        #: or ``prior_entity=``), ``{benchmark: score}``; ``None``: the population's.
        self.prior_mean = None if prior_mean is None else dict(prior_mean)
        #: The posterior's components this profile conditions (:class:`ComponentDraws`).
        self.components = components
        self.benchmark_names = description.benchmark_names
        self._n_scores = len(self.benchmark_names)
        data = description.data
        #: The benchmarks' transforms to the latent scale the population is a normal on.
        self.transforms = data.transforms
        self._transformed = data.transformed
        # the noise on the latent scale: through each transform's slope at the benchmark's
        # median score (one figure per benchmark, as on the score scale)
        self._noise_var = (self._noise * data.noise_slopes) ** 2
        self._observed: dict[int, float] = {}
        # partial runs (observe(..., n_items=)): the pooled score and items, and the latent
        # variance of their binomial sampling noise (predictive/partial.py)
        self._partial: dict[int, tuple[float, int]] = {}
        self._partial_var: dict[int, float] = {}
        # what the model conditions on: the observed values, a value beyond an inferred bound
        # read as on the bound (same keys and order as _observed)
        self._latent_inputs: dict[int, float] = {}
        self._moments: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._score_moments: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ observing
    def observe(self, benchmark: str | int | None = None, value: float | None = None, *,
                feature: str | int | None = None, n_items: int | None = None) -> Profile:
        """Observe one benchmark score (replaces an earlier observation of it, or, with
        ``n_items``, adds to its earlier partial runs).

        Parameters
        ----------
        benchmark : str, int or Skill
            Benchmark name (or position, or a :class:`~skillinfer_bayes.Skill`, whose
            ``score`` is the value when ``value`` is not given, as in skillinfer);
            ``feature=`` is skillinfer's name of this argument.
        value : float
            The observed score, on the population's scale.
        n_items : int, optional
            A partial run on this many of the benchmark's items (a bounded benchmark): its
            binomial sampling variance ``(upper - lower)^2 p (1 - p) / n`` adds to the
            observation noise (through the transform's slope at the observed score), and
            partial runs of one benchmark pool their items
            (:mod:`~skillinfer_bayes.predictive.partial` states the assumptions).

        Returns
        -------
        Profile
            ``self``, for chaining.

        Warns
        -----
        OutOfRangeWarning
            The value lies far outside the population's observed range.

        Examples
        --------
        >>> pop.profile().observe("BBH", 55.93).observe("IFEval", 86.7)
        Profile(6 benchmarks, observed={'BBH': 55.93, 'IFEval': 86.7}, noise=0.6294)
        >>> partial = pop.profile().observe("MMLU-PRO", 41.2, n_items=200)  # sd 3.5 of 200 items
        >>> round(partial.std("MMLU-PRO"), 1)  # with what the population knows
        2.8
        """
        benchmark = benchmark_argument(benchmark, feature)
        if value is None and isinstance(benchmark, Skill) and benchmark.score is not None:
            value = benchmark.score  # skillinfer's observe(Skill("BBH", score=55.9))
        if value is None:
            raise TypeError(f"observe({benchmark!r}) needs the observed score: "
                            f"observe({benchmark!r}, value) or observe(Skill(name, "
                            "score=value)).")
        if n_items is None:
            return self.observe_many({benchmark: value})
        j = resolve_benchmark(benchmark, self.latent_names)
        name, transform = self.latent_names[j], self.transforms[j]
        n_items = check_n_items(name, n_items, transform)
        score, items = pool_runs(self._partial.get(j), check_value(name, value), n_items)
        self.observe_many({name: score})
        self._partial[j] = (score, items)
        self._partial_var[j] = latent_binomial_variance(transform, self._latent_inputs[j],
                                                        items)
        return self

    def observe_many(self, observations: Mapping[str | int, float]) -> Profile:
        """Observe several benchmark scores at once (all are checked before any is applied).

        Parameters
        ----------
        observations : mapping
            ``{benchmark: score}``.

        Returns
        -------
        Profile
            ``self``, for chaining.

        Examples
        --------
        >>> pop.profile().observe_many({"BBH": 55.93, "IFEval": 86.7}).n_observations
        2
        """
        if not isinstance(observations, Mapping):
            raise TypeError(
                f"observations must be a mapping {{benchmark: score}}, got "
                f"{type(observations).__name__}."
            )
        checked, latent = {}, {}
        for benchmark, value in observations.items():
            j = resolve_benchmark(benchmark, self.latent_names)
            name = self.latent_names[j]
            checked[j] = check_value(name, value)
            latent[j] = bounded_input(self.description, j, checked[j])
            if not np.isfinite(self.transforms[j].forward(latent[j])):
                raise ValueError(
                    f"Observed {name} = {checked[j]:g} has no value on the latent scale of its "
                    f"transform {self.transforms[j].name!r} (a log needs a positive value); "
                    "leave an unknown value unobserved."
                )
        for j, value in checked.items():  # warn only once every value passed
            warn_about_input(self.description, j, value, latent[j])
        self._observed.update(checked)
        self._latent_inputs.update(latent)
        for j in checked:  # a full observation replaces partial runs
            self._partial.pop(j, None)
            self._partial_var.pop(j, None)
        self._moments = self._score_moments = None
        return self

    @property
    def feature_names(self) -> list[str]:
        """skillinfer's name of :attr:`benchmark_names`."""
        return self.benchmark_names

    @property
    def noise(self) -> np.ndarray:
        """(K,) observation noise sd of each benchmark (read-only: set it with
        ``Population.profile(noise=...)``)."""
        return self._noise

    @property
    def observed(self) -> dict[str, float]:
        """The observed scores, ``{benchmark: value}`` in observation order."""
        return {self.latent_names[j]: v for j, v in self._observed.items()}

    @property
    def partial_runs(self) -> dict[str, tuple[float, int]]:
        """The benchmarks observed by partial runs: ``{benchmark: (pooled score, items)}``."""
        return {self.latent_names[j]: run for j, run in self._partial.items()}

    @property
    def observed_indices(self) -> list[int]:
        """The latent dimensions observed, in observation order (indices into
        :attr:`latent_names`).

        Examples
        --------
        >>> pop.profile().observe("GPQA", 14.2).observe("BBH", 55.93).observed_indices
        [3, 1]
        """
        return list(self._observed)

    @property
    def n_observations(self) -> int:
        """Number of observed benchmarks."""
        return len(self._observed)

    # ------------------------------------------------------------------ predictive
    def latent_observations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What every prediction conditions on: the observed indices (in observation order),
        their values on the latent scale and the (K,) latent noise variances (public for
        :mod:`~skillinfer_bayes.predictive.composites`, which draws from the same
        conditional).

        A score x observed with noise sd r is the latent value g(x) with noise sd g' r, the
        transform's slope at the benchmark's median score
        (:meth:`~skillinfer_bayes.data.prepared.PreparedData.noise_slopes`); a score beyond an
        inferred bound enters as the bound.

        Examples
        --------
        >>> idx, latent, noise_var = pop.profile().observe("BBH", 55.93).latent_observations()
        >>> idx.tolist(), latent.shape, noise_var.shape
        ([1], (1,), (6,))
        """
        idx = np.fromiter(self._latent_inputs, dtype=int, count=len(self._latent_inputs))
        vals = np.fromiter(self._latent_inputs.values(), dtype=float, count=len(idx))
        noise_var = self._noise_var
        if self._partial_var:  # partial runs add their sampling variance
            noise_var = noise_var.copy()
            for j, extra in self._partial_var.items():
                noise_var[j] += extra
        if not self._transformed:
            return idx, vals, noise_var
        return idx, latent_values(vals, [self.transforms[j] for j in idx]), noise_var

    def conditioned(self, full_cov: bool = False) -> ConditionedMixture:
        """The components conditioned on the observations (on the latent scale), for the
        active-learning and accuracy views.

        Examples
        --------
        >>> out = pop.profile().observe("BBH", 55.93).conditioned()
        >>> out.means.shape, out.cov.shape  # 2,000 draws x 6 benchmarks
        ((2000, 6), (2000, 6))
        """
        idx, latent, noise_var = self.latent_observations()
        return condition_components(self.components, idx, latent, noise_var, full_cov)

    def conditional_moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Conditional means and variances, (K, N) each, and the (N,) component weights
        (``None``: equal), cached until the next observation.

        Components lie on the last axis, the layout the mixture functions reduce over fastest.

        Examples
        --------
        >>> means, variances, weights = pop.profile().observe("BBH", 55.93).conditional_moments()
        >>> means.shape, weights is None
        ((6, 2000), True)
        """
        if self._moments is None:
            out = self.conditioned()
            self._moments = (
                np.ascontiguousarray(out.means.T),
                np.ascontiguousarray(np.maximum(out.cov, 1e-300).T),
                out.weights,
            )
        return self._moments

    def _select(self, benchmark: str | int | None, values: np.ndarray):
        if benchmark is None:
            return values[: self._n_scores].copy()
        return float(values[resolve_benchmark(benchmark, self.latent_names)])

    def mean(self, benchmark: str | int | None = None, *,
             feature: str | int | None = None) -> float | np.ndarray:
        """Predictive mean of one benchmark (float) or of all (array in benchmark order).

        Not clipped to any range. ``feature=`` is skillinfer's name of ``benchmark``.

        Examples
        --------
        >>> round(pop.profile().observe("BBH", 55.93).mean("MMLU-PRO"))
        50
        """
        if feature is not None:
            benchmark = benchmark_argument(benchmark, feature)
        return self._select(benchmark, self._moments_on_score_scale()[0])

    def std(self, benchmark: str | int | None = None, *,
            feature: str | int | None = None) -> float | np.ndarray:
        """Predictive standard deviation (law of total variance over posterior draws).

        ``sqrt(mean_s C_s + var_s m_s)``: the conditional variance averaged over draws plus the
        spread of the conditional means, i.e. the covariance's own uncertainty. ``feature=`` is
        skillinfer's name of ``benchmark``.

        Examples
        --------
        >>> round(pop.profile().observe("BBH", 55.93).std("MMLU-PRO"))
        2
        """
        if feature is not None:
            benchmark = benchmark_argument(benchmark, feature)
        return self._select(benchmark, np.sqrt(self._moments_on_score_scale()[1]))

    def _moments_on_score_scale(self) -> tuple[np.ndarray, np.ndarray]:
        """(K,) predictive means and variances of the scores (cached until observe): exact
        mixture moments for untransformed benchmarks, quadrature through the inverse
        transform for the others (:func:`~skillinfer_bayes.predictive.marginals.
        score_moments`)."""
        if self._score_moments is None:
            means, variances, weights = self.conditional_moments()
            self._score_moments = score_moments_by_row(self.transforms, means,
                                                       np.sqrt(variances), weights)
        return self._score_moments

    def predict(
        self, benchmark: str | int | None = None, level: float = DEFAULT_LEVEL,
        detail: bool = False, *,
        feature: str | int | None = None, covariates: bool = False,
    ) -> pd.DataFrame | dict:
        """The predictive distribution of every benchmark, or of one.

        Parameters
        ----------
        benchmark : str or int, optional
            One benchmark (as skillinfer's ``predict(feature)``): returns a dict. A float here
            is read as ``level`` (``predict(0.5)``, this method's first argument before).
            ``feature=`` is accepted as skillinfer's name of this argument.
        level : float, default 0.95
            Probability of the central predictive interval (skillinfer's default; the
            command line and the evaluation protocol report 90% intervals).
        detail : bool, default False
            Add ``confidence`` (1 - predictive sd / sd before any observation, in [0, 1]) and
            ``source`` (``"observed"`` or ``"predicted"``), as skillinfer does.
        covariates : bool, default False
            Add rows for the population's covariates (their predictive given what is
            observed); by default only benchmarks are predicted.

        Returns
        -------
        pandas.DataFrame or dict
            Indexed by benchmark; columns ``mean``, ``median``, ``std``, ``lower``, ``upper``
            and ``observed`` (the observed score, NaN if not observed), then skillinfer's
            names ``feature`` (the benchmark), ``ci_lower`` and ``ci_upper`` (``lower`` and
            ``upper`` again), so a skillinfer user's ``predict()["ci_lower"]`` works. With
            ``benchmark``: a
            dict with ``benchmark``, ``mean``, ``median``, ``std``, ``lower``, ``upper``,
            ``observed`` and skillinfer's names, ``feature``, ``ci_lower`` and ``ci_upper``.
            Unlike skillinfer's Gaussian, the bounds and the median are exact quantiles of the
            predictive mixture, mapped back through the benchmark's transform (so they stay
            inside its bounds); the mean and sd of a transformed benchmark come by quadrature
            (:mod:`~skillinfer_bayes.predictive.marginals`).

        Examples
        --------
        >>> pop.profile().observe("BBH", 55.93).predict(level=0.9).columns.tolist()
        ['mean', 'median', 'std', 'lower', 'upper', 'observed', 'feature', 'ci_lower', 'ci_upper']
        >>> round(pop.profile().observe("BBH", 55.93).predict("GPQA")["ci_upper"])  # 95%
        22
        """
        if feature is not None:
            benchmark = benchmark_argument(benchmark, feature)
        if isinstance(benchmark, (float, np.floating)):
            benchmark, level = None, benchmark
        if benchmark is not None:
            j = resolve_benchmark(benchmark, self.latent_names)
            row = self.predict(level=level, detail=detail, covariates=True).iloc[j]
            row = row.drop(list(_SKILLINFER_COLUMNS))
            result = {"benchmark": self.latent_names[j], **{k: row[k] for k in row.index}}
            for key, value in result.items():
                if isinstance(value, np.floating):
                    result[key] = float(value)
            result["ci_lower"], result["ci_upper"] = result["lower"], result["upper"]
            result["feature"] = result["benchmark"]
            return result
        level = check_level(level)
        means, variances, weights = self.conditional_moments()
        quantiles = mixture_quantile(
            np.array([0.5, (1 - level) / 2, (1 + level) / 2]), means, np.sqrt(variances),
            weights=weights,
        )
        median, lower, upper = score_values(quantiles, self.transforms)
        observed = np.full(len(self.latent_names), np.nan)
        for j, v in self._observed.items():
            observed[j] = v
        mean, var = self._moments_on_score_scale()
        values = np.column_stack([mean, median, np.sqrt(var), lower, upper, observed])
        rows = len(self.latent_names) if covariates else self._n_scores
        index = pd.Index(self.latent_names[:rows], name="benchmark")
        table = pd.DataFrame(values[:rows], index=index, columns=_COLUMNS)
        table["feature"] = index
        table["ci_lower"], table["ci_upper"] = table["lower"], table["upper"]
        if detail:
            table = table.assign(**self.skillinfer_detail(table["std"].to_numpy()))
        table.attrs["level"] = level
        return table

    def prior_variance(self, spread: bool) -> np.ndarray:
        """(K,) variance of each benchmark's score before any observation: the components'
        variances averaged, plus (``spread``) the variance of their means; through the
        transform (quadrature, spread included) for transformed benchmarks.

        Examples
        --------
        >>> bool(np.all(pop.profile().prior_variance(spread=True) > 0))
        True
        """
        draws = self.components
        means = draws.flat_means().T
        variances = np.diagonal(draws.flat_covariances(), axis1=1, axis2=2).T
        weights = draws.flat_weights()
        total = (mixture_var(means, variances, weights) if spread
                 else average(variances, weights))
        if self._transformed:
            scored = score_moments_by_row(self.transforms, means, np.sqrt(variances),
                                          weights)[1]
            identity = np.array([t.name == "identity" for t in self.transforms])
            total = np.where(identity, total, scored)
        return total

    def copy(self) -> Profile:
        """An independent copy with the same observations.

        Examples
        --------
        >>> profile = pop.profile().observe("BBH", 55.93)
        >>> what_if = profile.copy().observe("GPQA", 20.0)
        >>> profile.n_observations, what_if.n_observations
        (1, 2)
        """
        new = Profile(self.description, self.noise, self.components, self.group,
                      self.prior_mean)
        new._observed = dict(self._observed)
        new._latent_inputs = dict(self._latent_inputs)
        new._partial, new._partial_var = dict(self._partial), dict(self._partial_var)
        new._moments = self._moments
        return new

    def __repr__(self) -> str:
        group = "" if self.group is None else f", group={self.group!r}"
        noise = (f"{self.noise[0]:.4g}" if np.all(self.noise == self.noise[0])
                 else "[" + ", ".join(f"{v:.4g}" for v in self.noise) + "]")
        return (
            f"Profile({len(self.benchmark_names)} benchmarks, observed={self.observed}, "
            f"noise={noise}{group})"
        )
