"""Profile: one new entity's observed scores and the predictive distribution of the rest."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import (
    OutOfBoundsWarning,
    OutOfRangeWarning,
    check_level,
    check_positive_int,
    check_seed,
    check_value,
    resolve_benchmark,
)
from skillinfer_bayes.data.prepared import latent_values, score_values
from skillinfer_bayes.data.transforms import bounds_inferred
from skillinfer_bayes.predictive.active import expected_variance_reduction, resolve_target
from skillinfer_bayes.predictive.compat import SkillinferProfileNames
from skillinfer_bayes.predictive.components import (
    ComponentDraws,
    ConditionedMixture,
    condition_components,
)
from skillinfer_bayes.predictive.marginals import score_moments_by_row
from skillinfer_bayes.predictive.mixture import average, mixture_quantile, mixture_var
from skillinfer_bayes.predictive.types import Skill

if TYPE_CHECKING:
    from skillinfer_bayes.population import Population

#: Beyond the population's [min, max] by more than this fraction of the range, an observation's
#: :class:`OutOfRangeWarning` also asks to check its scale.
RANGE_TOLERANCE = 0.25

#: Columns of :meth:`Profile.predict`: this library's, then skillinfer's names of the same
#: values (``feature`` the benchmark, ``ci_lower`` / ``ci_upper`` the interval's ends).
_COLUMNS = pd.Index(["mean", "median", "std", "lower", "upper", "observed"])
_SKILLINFER_COLUMNS = ("feature", "ci_lower", "ci_upper")
#: The default probability of :meth:`Profile.predict`'s interval: skillinfer's.
DEFAULT_LEVEL = 0.95


class Profile(SkillinferProfileNames):
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
        population: Population,
        noise: float | np.ndarray,
        components: ComponentDraws | None = None,
        group: str | None = None,
        prior_mean: Mapping[str, float] | None = None,
    ) -> None:
        self.population = population
        #: The latent dimensions: the benchmarks, then the covariates (observable, predicted
        #: only on request).
        self.latent_names = list(population.latent_names)
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
        self.components = (population.predictive_components() if components is None
                           else components)
        self.benchmark_names = list(population.benchmark_names)
        self._n_scores = len(self.benchmark_names)
        #: The benchmarks' transforms to the latent scale the population is a normal on.
        self.transforms = population.data.transforms
        self._transformed = population.data.transformed
        # the noise on the latent scale: through each transform's slope at the benchmark's
        # median score (one figure per benchmark, as on the score scale)
        self._noise_var = (self._noise * population.data.noise_slopes) ** 2
        self._observed: dict[int, float] = {}
        # what the model conditions on: the observed values, a value beyond an inferred bound
        # read as on the bound (same keys and order as _observed)
        self._latent_inputs: dict[int, float] = {}
        self._moments: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._score_moments: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ observing
    def observe(self, benchmark: str | int | None = None, value: float | None = None, *,
                feature: str | int | None = None) -> Profile:
        """Observe one benchmark score (replaces an earlier observation of it).

        Parameters
        ----------
        benchmark : str, int or Skill
            Benchmark name (or position, or a :class:`~skillinfer_bayes.Skill`, whose
            ``score`` is the value when ``value`` is not given, as in skillinfer);
            ``feature=`` is skillinfer's name of this argument.
        value : float
            The observed score, on the population's scale.

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
        """
        benchmark = _benchmark_argument(benchmark, feature)
        if value is None and isinstance(benchmark, Skill) and benchmark.score is not None:
            value = benchmark.score  # skillinfer's observe(Skill("BBH", score=55.9))
        if value is None:
            raise TypeError(f"observe({benchmark!r}) needs the observed score: "
                            f"observe({benchmark!r}, value) or observe(Skill(name, "
                            "score=value)).")
        return self.observe_many({benchmark: value})

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
            latent[j] = self._within_bounds(name, j, checked[j])
            if not np.isfinite(self.transforms[j].forward(latent[j])):
                raise ValueError(
                    f"Observed {name} = {checked[j]:g} has no value on the latent scale of its "
                    f"transform {self.transforms[j].name!r} (a log needs a positive value); "
                    "leave an unknown value unobserved."
                )
        for j, value in checked.items():  # warn only once every value passed
            if latent[j] != value:
                warn_beyond_bound(f"Observed {self.latent_names[j]}", self.latent_names[j],
                                  self.transforms[j], value)
            else:
                self._warn_if_out_of_range(self.latent_names[j], j, value)
        self._observed.update(checked)
        self._latent_inputs.update(latent)
        self._moments = self._score_moments = None
        return self

    def _within_bounds(self, name: str, j: int, value: float) -> float:
        """:func:`value_within_bounds` for latent dimension ``j``."""
        scaling = None
        if self.population.data.normalized and j < self._n_scores:
            scaling = tuple(float(v) for v in self.population.scaling.iloc[j][["min", "range"]])
        return value_within_bounds(name, self.transforms[j], value, scaling)

    def _warn_if_out_of_range(self, name: str, j: int, value: float) -> None:
        """:func:`warn_out_of_population` for latent dimension ``j``."""
        lo, hi = (float(b) for b in self.population.score_range[:, j])
        scale = float(self.population.standardization["scale"].iloc[j])
        warn_out_of_population(name, self.transforms[j], value, (lo, hi), scale)

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
        if not self._transformed:
            return idx, vals, self._noise_var
        latent = latent_values(vals, [self.transforms[j] for j in idx])
        return idx, latent, self._noise_var

    def _conditioned(self, full_cov: bool = False) -> ConditionedMixture:
        """The components conditioned on the observations (on the latent scale)."""
        idx, latent, noise_var = self.latent_observations()
        return condition_components(self.components, idx, latent, noise_var, full_cov)

    def _conditional(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Conditional means and variances, (K, N) each, and the (N,) component weights
        (``None``: equal), cached until the next observation.

        Components lie on the last axis, the layout the mixture functions reduce over fastest.
        """
        if self._moments is None:
            out = self._conditioned()
            self._moments = (
                np.ascontiguousarray(out.means.T),
                np.ascontiguousarray(np.maximum(out.cov, 1e-300).T),
                out.weights,
            )
        return self._moments

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
        weights = self._conditional()[2].reshape(draws.n_draws, draws.n_components)
        return pd.Series(weights.sum(axis=0), index=index, name="probability")

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
            benchmark = _benchmark_argument(benchmark, feature)
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
            benchmark = _benchmark_argument(benchmark, feature)
        return self._select(benchmark, np.sqrt(self._moments_on_score_scale()[1]))

    def interval(self, benchmark: str | int, level: float = 0.9) -> tuple[float, float]:
        """Central predictive interval of one benchmark, from the exact mixture quantiles.

        Examples
        --------
        >>> lower, upper = pop.profile().observe("BBH", 55.93).interval("GPQA", level=0.9)
        >>> round(lower), round(upper)
        (10, 21)
        """
        level = check_level(level)
        j = resolve_benchmark(benchmark, self.latent_names)
        means, variances, weights = self._conditional()
        lo, hi = self.transforms[j].inverse(mixture_quantile(
            np.array([(1 - level) / 2, (1 + level) / 2]), means[j], np.sqrt(variances[j]),
            weights=weights,
        ))
        return float(lo), float(hi)

    def _moments_on_score_scale(self) -> tuple[np.ndarray, np.ndarray]:
        """(K,) predictive means and variances of the scores (cached until observe): exact
        mixture moments for untransformed benchmarks, quadrature through the inverse
        transform for the others (:func:`~skillinfer_bayes.predictive.marginals.
        score_moments`)."""
        if self._score_moments is None:
            means, variances, weights = self._conditional()
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
            benchmark = _benchmark_argument(benchmark, feature)
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
        means, variances, weights = self._conditional()
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
            table = table.assign(**self._detail(table["std"].to_numpy()))
        table.attrs["level"] = level
        return table

    def _prior_var(self, spread: bool) -> np.ndarray:
        """(K,) variance of each benchmark's score before any observation: the components'
        variances averaged, plus (``spread``) the variance of their means; through the
        transform (quadrature, spread included) for transformed benchmarks."""
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

    def _detail(self, std: np.ndarray) -> dict[str, np.ndarray]:
        """skillinfer's ``confidence`` and ``source`` columns."""
        before = np.sqrt(self._prior_var(spread=True))[: len(std)]
        return {
            "confidence": np.clip(1.0 - std / np.maximum(before, 1e-300), 0.0, 1.0),
            "source": np.where([j in self._observed for j in range(len(std))],
                               "observed", "predicted"),
        }

    # ------------------------------------------------------------------ skillinfer's views
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
        out = self._conditioned(full_cov=True)
        w = (np.full(len(out.means), 1.0 / len(out.means)) if out.weights is None
             else out.weights)
        centred = out.means - w @ out.means
        K = self._n_scores
        cov = (np.einsum("n,nij->ij", w, out.cov) + (centred.T * w) @ centred)[:K, :K]
        if not self._transformed:
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
        return self.interval(_benchmark_argument(benchmark, feature), level=level)

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
        return frame.assign(**self._detail(std)) if detail else frame

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
            out = self._conditioned(full_cov=True)
            pick = rng.choice(len(out.weights), size=n, p=out.weights / out.weights.sum())
            means, covs = out.means[pick], out.cov[pick]
        # Symmetric square root via eigh: stable for the (near-)singular observed block.
        w, v = np.linalg.eigh(covs)
        root = v * np.sqrt(np.clip(w, 0.0, None))[:, None, :]
        z = rng.standard_normal((n, len(self.latent_names)))
        scores = score_values(means + np.einsum("nij,nj->ni", root, z), self.transforms)
        return pd.DataFrame(scores[:, : self._n_scores], columns=self.benchmark_names)

    def most_uncertain(self, k: int = 10) -> pd.DataFrame:
        """The k unobserved benchmarks with the largest predictive sd (largest first).

        The simple rule for "which benchmark next?". The sds are on the scores' scale (as
        :meth:`std`), also for transformed benchmarks. skillinfer's signature and columns;
        unlike skillinfer, observed benchmarks are left out (they are no candidates to run
        next), so fewer than k rows come back when fewer are unobserved.

        Returns
        -------
        pandas.DataFrame
            Columns ``benchmark``, ``mean``, ``std`` and ``feature`` (skillinfer's name of the
            ``benchmark`` column, the same values).

        Examples
        --------
        >>> pop.profile().observe("BBH", 55.93).most_uncertain(k=1).round()
          benchmark  mean   std feature
        0    IFEval  70.0  13.0  IFEval
        """
        k = check_positive_int("k", k)
        mean, std = self.mean(), self.std()
        candidates = [j for j in range(self._n_scores) if j not in self._observed]
        order = sorted(candidates, key=lambda j: -std[j])[:k]
        names = [self.benchmark_names[j] for j in order]
        return pd.DataFrame({"benchmark": names, "mean": mean[order], "std": std[order],
                             "feature": names})

    def most_informative(self, k: int = 1, target=None) -> pd.DataFrame:
        """Rank unobserved benchmarks by the expected reduction of predictive variance.

        With transformed benchmarks the variances are those of the latent scale (where the
        reduction is exact per draw; the copula's latent scale is in population sds).

        For every posterior draw the reduction from observing a benchmark is exact (it does
        not depend on the value observed); the ranking averages it over the draws (see
        :mod:`skillinfer_bayes.predictive.active`). For a mixture population it also counts
        what the observation tells about which component the entity is in (the spread
        between the components' means), by quadrature per draw. :meth:`most_uncertain` is
        the simpler rule.

        Parameters
        ----------
        k : int, default 1
            Number of benchmarks returned (best first).
        target : None, str or dict, optional
            What to learn about: ``None`` = all unobserved benchmarks, the candidate included
            (summed variances: the total uncertainty of the profile); a benchmark name =
            that benchmark (not itself a candidate); a dict ``{benchmark: weight}`` = the
            weighted combination ``sum w_i y_i`` (e.g. the average score).

        Returns
        -------
        pandas.DataFrame
            Columns ``benchmark``, ``expected_variance_reduction``, ``target_sd_before`` and
            ``expected_target_sd_after`` (square roots of the posterior-averaged target
            variance before and after).

        Examples
        --------
        >>> profile = pop.profile().observe("BBH", 55.93)
        >>> profile.most_informative(k=2)["benchmark"].tolist()
        ['IFEval', 'MUSR']
        >>> profile.most_informative(target={"IFEval": 0.5, "GPQA": 0.5})["benchmark"].tolist()
        ['IFEval']
        """
        k = check_positive_int("k", k)
        weights, excluded = resolve_target(target, self.benchmark_names)
        K = self._n_scores
        if weights is not None:  # the covariates are never a target
            weights = np.concatenate([weights, np.zeros(len(self.latent_names) - K)])
        unobserved = [j for j in range(K) if j not in self._observed]
        candidates = [j for j in unobserved if j not in excluded]
        if not candidates:
            return pd.DataFrame(columns=["benchmark", "expected_variance_reduction",
                                         "target_sd_before", "expected_target_sd_after"])
        out = self._conditioned(full_cov=True)
        cov = out.cov
        C = self.components.n_components
        gain = expected_variance_reduction(cov, candidates, unobserved, self._noise_var, weights,
                                           component_weights=out.weights, means=out.means,
                                           n_components=C)
        if weights is None:  # (S C,) target variance per component
            within = np.diagonal(cov, axis1=1, axis2=2)[:, unobserved].sum(axis=1)
        else:
            within = np.einsum("i,sij,j->s", weights, cov, weights)
        if C == 1:
            total = average(within, out.weights)
        else:  # each draw's mixture variance: within + between its components' means
            S = self.components.n_draws
            w = out.weights.reshape(S, C) * S
            targets = (np.eye(len(self.latent_names))[unobserved] if weights is None
                       else weights[None])
            tm = (out.means @ targets.T).reshape(S, C, -1)
            spread = np.sum(np.einsum("sc,sct->st", w, tm**2)
                            - np.einsum("sc,sct->st", w, tm) ** 2, axis=1)
            total = float(np.mean(np.einsum("sc,sc->s", w, within.reshape(S, C)) + spread))
        before = np.full(len(candidates), total)
        order = np.argsort(-gain, kind="stable")[: int(k)]
        return pd.DataFrame({
            "benchmark": [self.benchmark_names[candidates[i]] for i in order],
            "expected_variance_reduction": gain[order],
            "target_sd_before": np.sqrt(before[order]),
            "expected_target_sd_after": np.sqrt(np.maximum(before[order] - gain[order], 0.0)),
        })

    # ------------------------------------------------------------------ accuracy
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
        pop_sd = np.sqrt(self._prior_var(spread=False))[: self._n_scores]
        result = {
            "n_benchmarks": len(self.benchmark_names),
            "n_features": len(self.benchmark_names),
            "n_observed": self.n_observations,
            "n_predicted": self._n_scores - sum(j < self._n_scores for j in self._observed),
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

    def copy(self) -> Profile:
        """An independent copy with the same observations.

        Examples
        --------
        >>> profile = pop.profile().observe("BBH", 55.93)
        >>> what_if = profile.copy().observe("GPQA", 20.0)
        >>> profile.n_observations, what_if.n_observations
        (1, 2)
        """
        new = Profile(self.population, self.noise, self.components, self.group,
                      self.prior_mean)
        new._observed = dict(self._observed)
        new._latent_inputs = dict(self._latent_inputs)
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


def value_within_bounds(name: str, transform, value: float,
                        scaling: tuple[float, float] | None = None,
                        what: str = "Observed") -> float:
    """The value the model conditions on for a score of one benchmark: ``value`` itself inside
    the transform's bounds; beyond bounds inferred from the scores (``bounds="auto"``), the
    bound (the caller warns: :func:`warn_beyond_bound`); beyond bounds given when the population
    was fitted, a ``ValueError``. ``scaling`` = ``(min, range)`` of a normalized benchmark: its
    error then explains the normalized scale (and a value beyond inferred bounds by more than
    their range, surely a score in its own units, is an error too).

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Logit
    >>> value_within_bounds("a", Logit(0.0, 100.0, inferred=True), -1.6)
    0.0
    >>> value_within_bounds("a", Logit(0.0, 100.0), -1.6)
    Traceback (most recent call last):
    ...
    ValueError: Observed a = -1.6 is outside its bounds [0, 100] (given when the population ...
    """
    lower, upper = transform.bounds
    if lower <= value <= upper or transform.name == "log":  # (a log's domain: checked later)
        return value
    span = upper - lower
    far = value < lower - span or value > upper + span  # on another scale altogether
    if bounds_inferred(transform) and not (scaling is not None and far):
        return float(np.clip(value, lower, upper))
    if scaling is not None:
        lo, width = scaling
        raise ValueError(
            f"{what} {name} = {value:g} is outside its bounds [{lower:g}, {upper:g}] on the "
            f"normalized scale: this population was fitted with normalize=True, so scores are "
            f"given as (score - {lo:g}) / {width:g}, e.g. {(value - lo) / width:.4g} for a "
            f"score of {value:g}. To use scores in their own units, fit with normalize=False."
        )
    raise ValueError(
        f"{what} {name} = {value:g} is outside its bounds [{lower:g}, {upper:g}] (given when "
        "the population was fitted): check the score and its scale."
    )


def warn_beyond_bound(label: str, name: str, transform, value: float,
                      stacklevel: int = 4) -> None:
    """The :class:`~skillinfer_bayes.OutOfBoundsWarning` of a value beyond an inferred bound,
    read as a score on it (``label``: what the value is, e.g. ``"Observed BBH"``).

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Logit
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_beyond_bound("Observed a", "a", Logit(0.0, 100.0, inferred=True), -1.6)
    >>> str(caught[0].message)[:50]
    'Observed a = -1.6 lies beyond its bound 0, which w'
    """
    lower, upper = transform.bounds
    bound = lower if value < lower else upper
    warnings.warn(
        f"{label} = {value:g} lies beyond its bound {bound:g}, which was inferred from the "
        f"population's scores (bounds='auto'): it is read as a score on the bound (the model's "
        f"scores stay within [{lower:g}, {upper:g}]). If such scores are valid, refit with "
        f"bounds={{{name!r}: None}} (or the true bounds).",
        OutOfBoundsWarning,
        stacklevel=stacklevel,
    )


def _benchmark_argument(benchmark, feature):
    """The benchmark named by ``benchmark`` or by skillinfer's keyword ``feature``."""
    if feature is not None and benchmark is not None:
        raise TypeError("Give the benchmark once: benchmark=... or skillinfer's feature=....")
    if feature is None and benchmark is None:
        raise TypeError("Name a benchmark (by name or position).")
    return feature if benchmark is None else benchmark


def warn_out_of_population(name: str, transform, value: float, score_range: tuple[float, float],
                           latent_sd: float, label: str = "Observed") -> None:
    """The :class:`~skillinfer_bayes.OutOfRangeWarning` of a value beyond the population's
    observed range: how far out it lies is measured on the latent scale, in the population's
    latent sds (``latent_sd``), where the model works and where a transform's steep tail can
    turn a few points into many sds. Nothing happens inside the range or when the population
    has a single value (no range to judge).

    Examples
    --------
    >>> import warnings
    >>> from skillinfer_bayes.data.transforms import Log
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_out_of_population("params_b", Log(), 0.5, (7.0, 70.0), 0.6)
    >>> print(str(caught[0].message)[:92])
    Observed params_b = 0.5 lies outside the population's range [7, 70]: 4.4 latent sd below its
    """
    lo, hi = score_range
    if not hi > lo or lo <= value <= hi:
        return
    edge = lo if value < lo else hi
    distance = abs(float(transform.forward(value) - transform.forward(edge))) / latent_sd
    side = "below its lowest" if value < lo else "above its highest"
    message = (
        f"{label} {name} = {value:g} lies outside the population's range [{lo:g}, {hi:g}]: "
        f"{distance:.2g} latent sd {side} value (transform {transform.name!r}). The prediction "
        "extrapolates the model beyond the data it was fitted to, so its intervals may be too "
        "narrow or misplaced."
    )
    slack = RANGE_TOLERANCE * (hi - lo)
    if not lo - slack <= value <= hi + slack:
        message += (" It is far outside the population's range: check its scale "
                    "(normalize=True expects [0, 1] scores).")
    warnings.warn(message, OutOfRangeWarning, stacklevel=4)
