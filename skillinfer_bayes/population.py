"""Population: a validated score table, its fitted posterior, and summaries of it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from skillinfer_bayes.data.checks import (
    check_seed,
)
from skillinfer_bayes.data.prepared import PreparedData, prepare
from skillinfer_bayes.data.transform_choice import DEFAULT_BOUNDS, DEFAULT_TRANSFORM
from skillinfer_bayes.inference import diagnostics
from skillinfer_bayes.inference.fit_record import FitRecord
from skillinfer_bayes.inference.fitting import SamplerConfig, fit_cached
from skillinfer_bayes.inference.inference_data import InferenceData
from skillinfer_bayes.inference.model_choice import LeaveOneOut, select_by_loo
from skillinfer_bayes.inference.population_files import PopulationFiles
from skillinfer_bayes.inference.spec import ModelSpec, spec_from_keywords
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.predictive.compat import SkillinferPopulationNames
from skillinfer_bayes.predictive.components import ComponentDraws
from skillinfer_bayes.predictive.description import PopulationDescription
from skillinfer_bayes.predictive.display import population_repr, population_text
from skillinfer_bayes.predictive.posterior_draws import PosteriorDraws, UnknownGroupWarning  # noqa: F401
from skillinfer_bayes.predictive.prior_predictive import PriorPredictiveChecks
from skillinfer_bayes.predictive.profile import Profile
from skillinfer_bayes.predictive.starting import profile_noise, starting_means
from skillinfer_bayes.predictive.summaries import PopulationSummaries

logger = logging.getLogger(__name__)


#: Most factors ``n_factors="auto"`` tries.
MAX_AUTO_FACTORS = 8
#: Most components ``components="auto"`` tries.
MAX_AUTO_COMPONENTS = 8


class Population(SkillinferPopulationNames, PopulationFiles, FitRecord, PopulationSummaries,
                 LeaveOneOut, PriorPredictiveChecks):
    """A population of entities (models) scored on K benchmarks, with a Bayesian posterior.

    The population covariance is not a point estimate: a hierarchical multivariate-normal
    model with an LKJ prior on the correlations is fitted with NUTS, and every summary and
    prediction averages over its posterior draws. Build one with :meth:`from_dataframe`,
    :meth:`from_csv` or :meth:`from_parquet`.

    Attributes
    ----------
    matrix : pandas.DataFrame
        The scores the model was fitted to (after ``normalize``), ``NaN`` = missing.
    benchmark_names : list of str
        Benchmark names (``feature_names``, skillinfer's name, is the same list).
    entity_names : list
        Row labels.
    mu_draws, Sigma_draws : numpy.ndarray
        (S, K) and (S, K, K) posterior draws (chains flattened) on the data's scale: what every
        prediction conditions on.
    idata : arviz.InferenceData
        Posterior draws with named dims ``chain``, ``draw``, ``benchmark``, ``benchmark_bis``:
        ``mu``, ``sigma``, ``corr``, ``Sigma`` on the data's scale and ``mu_std``,
        ``chol_stds``, ``chol_corr`` on the standardized scale the priors refer to.
    prior : Prior
        The prior the posterior was fitted under.
    scaling : pandas.DataFrame or None
        With ``normalize=True``, the per-benchmark ``min`` and ``range`` used to map scores to
        [0, 1] (predictions are on that scale).
    groups : pandas.Series or None
        With ``groups=``, each entity's group label (as str), aligned with ``matrix``.
    group_names : list of str
        The groups (sorted); empty without groups.
    group_mu_draws : numpy.ndarray or None
        (G, S, K) posterior draws of each group's mean, on the data's scale.
    group_sd_draws : numpy.ndarray or None
        (S, K) posterior draws of the between-group sd of each benchmark's mean.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    >>> pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0,
    ...                                     draws=500, tune=500, progressbar=False)
    >>> p = pop.profile().observe("BBH", 55.9)
    >>> round(p.mean("MMLU-PRO"))
    50
    """

    def __init__(
        self,
        data: PreparedData | pd.DataFrame,
        idata: InferenceData,
        prior: Prior,
        scaling: pd.DataFrame | None = None,
        groups: pd.Series | None = None,
    ) -> None:
        if not isinstance(data, PreparedData):  # a matrix on the fitted scale
            data = PreparedData.from_fitted(data, scaling, groups)
        #: The prepared data the posterior was fitted to (:mod:`skillinfer_bayes.data.prepared`);
        #: ``matrix``, ``scaling``, ``groups`` and the names below are read from it.
        self.data = data
        matrix = data.matrix
        self.benchmark_names = data.benchmarks
        #: Covariate names (columns known for free); empty without covariates.
        self.covariate_names = data.covariate_names
        #: The latent dimensions: benchmarks, then covariates (the posterior's
        #: ``benchmark`` coordinate).
        self.latent_names = data.latent_names
        self.entity_names = list(matrix.index)
        self.group_names = list(data.group_names)
        self.idata = idata
        self.prior = prior
        #: (K + P,) centre and scale of the standardization the priors refer to.
        self.standardization = pd.DataFrame(
            {"center": data.center, "scale": data.scale}, index=self.latent_names
        )
        #: (2, K + P) smallest and largest observed value of each benchmark and covariate.
        raw = data.raw_values()
        self.score_range = np.vstack([np.nanmin(raw, axis=0), np.nanmax(raw, axis=0)])
        #: Benchmark names as the index of prediction tables.
        self.benchmark_index = pd.Index(self.benchmark_names, name="benchmark")
        #: The posterior as arrays, and a new entity's predictive draws
        #: (:class:`~skillinfer_bayes.predictive.posterior_draws.PosteriorDraws`).
        self.draws = draws = PosteriorDraws(data, idata)
        #: The number of mixture components (1: one multivariate normal).
        self.n_components = draws.n_components
        #: (S, C) component weights, (S, C, K) means and (S, C, K, K) covariances per draw.
        self.component_weight_draws = draws.weights
        self.component_mu_draws = draws.component_mu
        self.component_Sigma_draws = draws.component_Sigma
        #: (S, K) means and (S, K, K) covariances per draw (chains flattened), on the data's
        #: scale (a mixture's moments).
        self.mu_draws, self.Sigma_draws = draws.mu, draws.Sigma
        self.group_mu_draws, self.group_sd_draws = draws.group_mu, draws.group_sd
        problem = diagnostics.non_finite_draws(idata)
        if problem:
            raise ValueError(problem)
        self._diagnostics = diagnostics.summarize(idata)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        normalize: bool = True,
        prior: Prior | None = None,
        groups: str | pd.Series | Sequence | None = None,
        draws: int | None = None,
        tune: int | None = None,
        chains: int | None = None,
        sampler: str | None = None,
        target_accept: float | None = None,
        random_seed: int | None = None,
        progressbar: bool | None = None,
        cache: bool = True,
        sampler_config: SamplerConfig | None = None,
        transform: str | dict | None = DEFAULT_TRANSFORM,
        bounds: tuple[float, float] | str | dict | None = DEFAULT_BOUNDS,
        covariates: str | Sequence[str] | dict | None = None,
        covariance: str = "lkj",
        n_factors: int | None = None,
        components: int | str = 1,
        shared_covariance: bool = False,
        spec: ModelSpec | None = None,
    ) -> Population:
        """Fit the population model to a score table.

        Parameters
        ----------
        df : pandas.DataFrame
            Rows = entities (models), columns = benchmarks, numeric; ``NaN`` marks a missing
            score. Rows with missing scores are used exactly (grouped by missingness pattern),
            never dropped or imputed. A benchmark with one score, or a few equal ones, is
            kept: its scores centre its prior, and its predictions carry the prior's
            uncertainty (:func:`~skillinfer_bayes.data.prepared.latent_scales`). ``df`` is not
            modified.
        normalize, prior, groups, transform, bounds, covariates, covariance, n_factors, \
components, shared_covariance :
            The model: :class:`~skillinfer_bayes.ModelSpec`'s fields, documented there
            (``transform="auto"`` picks each benchmark's map to the latent scale,
            ``covariates={"params_b": "log"}`` adds a column known for free,
            ``components="auto"`` chooses a mixture's size by PSIS-LOO, ...). ``groups`` may
            also be a Series indexed like ``df`` or N labels. Predictions map back through
            the transforms: their intervals stay inside the bounds.
        draws, tune, chains : int, default 1000, 1000, 4
            NUTS draws kept and tuning steps per chain, and number of chains.
        sampler : {"auto", "numpyro", "nutpie", "pymc"}, default "auto"
            NUTS backend; "auto" picks the fastest installed one (numpyro).
        target_accept : float, default 0.85
            NUTS target acceptance probability; raise it if divergences are reported.
        random_seed : int, optional
            Seed; the same seed gives the same posterior draws.
        progressbar : bool, default True
            Show sampling progress.
        sampler_config : SamplerConfig, optional
            All the sampler settings as one value (:class:`~skillinfer_bayes.SamplerConfig`);
            the keywords above, where given, override it.
        cache : bool, default True
            With a ``random_seed``, look the fit up in the content-addressed cache
            (``$SKILLINFER_BAYES_CACHE`` or the user cache folder, see
            :mod:`~skillinfer_bayes.inference.locations`): the same data with the same
            settings and seed load the saved posterior instead of sampling again (logged at
            INFO level), and a new fit is saved there. ``False`` always samples and saves nothing.
        spec : ModelSpec, optional
            The whole model as one value (:class:`~skillinfer_bayes.ModelSpec`: ``prior``,
            ``transform``, ``bounds``, ``covariates``, ``groups`` as a column name,
            ``normalize``, ``covariance``, ``n_factors``, ``components``,
            ``shared_covariance``); the keywords above build one when it is not given, and
            may not be given beside it. ``pop.spec`` gives it back.

        Returns
        -------
        Population

        Warns
        -----
        SamplerWarning
            Divergences, r_hat > 1.01, low ESS, BFMI < 0.3 or draws at the maximum tree depth,
            with what to do about it.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import skillinfer_bayes as sib
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame(rng.multivariate_normal([0, 0], [[1, .7], [.7, 1]], 300),
        ...                   columns=["a", "b"])
        >>> pop = sib.Population.from_dataframe(df, normalize=False, random_seed=1,
        ...                                     draws=500, tune=500, progressbar=False)
        >>> bool(0.6 < pop.correlation.loc["a", "b"] < 0.8)
        True
        """
        keywords = dict(prior=prior, transform=transform, bounds=bounds,
                        covariates=covariates, normalize=normalize,
                        covariance=covariance,
                        n_factors=n_factors, components=components,
                        shared_covariance=shared_covariance)
        labels = None  # groups given as data, not as a column name
        if not (groups is None or isinstance(groups, str)):
            labels, groups = groups, None
        spec = spec_from_keywords(spec, groups=groups, **keywords)
        config = SamplerConfig.resolve(
            sampler_config, draws=draws, tune=tune, chains=chains, sampler=sampler,
            target_accept=target_accept, progressbar=progressbar,
        )
        random_seed = check_seed(random_seed)
        data = prepare(df, normalize=spec.normalize,
                       groups=spec.groups if labels is None else labels,
                       transform=spec.transform, bounds=spec.bounds,
                       covariates=spec.covariates)
        auto = spec.auto_field

        def fit_one(spec: ModelSpec) -> Population:
            return cls(data, fit_cached(data, spec, config, random_seed, cache=cache),
                       spec.prior)

        if auto == "n_factors":
            if len(data.latent_names) < 2:
                raise ValueError(f"n_factors='auto' needs at least two benchmarks; got "
                                 f"{len(data.latent_names)}.")
            pop = select_by_loo(fit_one, dataclasses.replace(spec, n_factors=1), "n_factors",
                                range(1, min(len(data.latent_names) - 1,
                                             MAX_AUTO_FACTORS) + 1), config.progressbar)
        elif auto == "components":
            if data.group_names:
                raise ValueError("components='auto' does not support groups= yet; fit "
                                 "without groups.")
            pop = select_by_loo(fit_one, dataclasses.replace(
                spec, components=1, shared_covariance=False), "components",
                range(1, MAX_AUTO_COMPONENTS + 1), config.progressbar,
                shared_covariance=spec.shared_covariance)
        else:
            pop = cls(data, fit_cached(data, spec, config, random_seed, cache=cache),
                      spec.prior)
        diagnostics.warn_if_bad(pop._diagnostics)
        return pop

    # ------------------------------------------------------------------ posterior summaries
    @property
    def feature_names(self) -> list[str]:
        """skillinfer's name of :attr:`benchmark_names`."""
        return self.benchmark_names

    @property
    def matrix(self) -> pd.DataFrame:
        """The scores the model was fitted to (after ``normalize``), ``NaN`` = missing."""
        return self.data.matrix

    @property
    def scaling(self) -> pd.DataFrame | None:
        """With ``normalize=True``, the per-benchmark ``min`` and ``range``."""
        return self.data.scaling

    @property
    def groups(self) -> pd.Series | None:
        """With ``groups=``, each entity's group label (str), aligned with ``matrix``."""
        return self.data.groups

    @property
    def n_draws(self) -> int:
        """Number of posterior draws (chains x draws)."""
        return self.mu_draws.shape[0]

    @property
    def posterior(self) -> xr.Dataset:
        """Posterior draws as an xarray Dataset (``idata["posterior"]``)."""
        return self.idata["posterior"]

    def diagnostics(self, per_parameter: bool = False) -> dict | pd.DataFrame:
        """Sampler diagnostics.

        Parameters
        ----------
        per_parameter : bool, default False
            Return the per-parameter table (r_hat, ess_bulk, ess_tail) instead of the headline.

        Returns
        -------
        dict or pandas.DataFrame
            Headline: ``chains``, ``draws``, ``divergences``, ``max_r_hat``, ``min_ess_bulk``,
            ``min_ess_tail``, ``min_bfmi`` (lowest per-chain BFMI), ``max_tree_depth_hits``,
            ``ok`` (all checks pass) and ``problems`` (what to do). A mixture's r_hat and
            ESS are those of its label-invariant quantities; it also has
            ``n_components``, ``max_r_hat_components`` and ``worst_component_parameter``
            (the component-labelled parameters, after relabelling), ``chain_mean_lp``,
            ``chain_lp_sd`` and ``label_switched_fraction`` (the draws whose labels
            relabelling changed; see :mod:`~skillinfer_bayes.inference.diagnostics`).
        per_parameter=True gives a mixture's label-invariant quantities; its
        component-labelled parameters are ``diagnostics_table(pop.idata, components=True)``
        of :mod:`~skillinfer_bayes.inference.diagnostics`.

        Examples
        --------
        >>> pop.diagnostics()["divergences"]
        0
        """
        if per_parameter:
            return diagnostics.diagnostics_table(self.idata)
        found = diagnostics.problems(self._diagnostics)
        return {**self._diagnostics, "ok": not found, "problems": found}

    # ------------------------------------------------------------------ prediction
    def default_noise(self) -> np.ndarray:
        """Default observation noise sd of each benchmark, (K,).

        (K + P,): covariates are observed without noise (0). For the benchmarks:
        5% of the mean posterior benchmark sd, as in skillinfer, over the benchmarks of the
        same kind of scale (scores within ``(0, 1)`` -- every benchmark after ``normalize``
        --, within ``(0, 100)``, or a scale of its own such as an Elo rating:
        :meth:`PreparedData.scale_kinds
        <skillinfer_bayes.data.prepared.PreparedData.scale_kinds>`), so a percentage's noise
        does not depend on the Elo or dollar columns beside it; a benchmark on a much smaller
        scale than its kind (sd below a third of the mean) gets 5% of three times its own sd
        instead, so that its observations still inform the others
        (:func:`skillinfer_bayes.predictive.conditioning.noise_from_sds`). The sds are on the
        scores' scale: the posterior's for untransformed benchmarks, the observed scores' for
        transformed ones (the noise enters the latent scale through the transform's slope; a
        benchmark with one score takes its prior scale through the slope).

        Examples
        --------
        >>> pop.default_noise().round(2)
        array([0.63, 0.63, 0.63, 0.63, 0.63, 0.63])
        """
        return self.draws.default_noise()

    def predictive_draws(self, group=None, warn: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Posterior draws (S, K) of the mean and (S, K, K) of the covariance of a new entity.

        Without groups: the population's ``mu_draws`` and ``Sigma_draws``. With groups, for a
        member of a fitted group: that group's mean draws and the shared covariance. For an
        entity of an unknown or unspecified group (``group=None``): the population mean, and
        the covariance plus the between-group variance ``diag(tau^2)`` (a new group's mean is
        itself uncertain).

        Examples
        --------
        >>> mu, Sigma = pop.predictive_draws()
        >>> mu.shape, Sigma.shape
        ((2000, 6), (2000, 6, 6))
        """
        return self.draws.predictive_draws(group, warn)

    def predictive_components(self, group=None, warn: bool = True) -> ComponentDraws:
        """The posterior of a new entity's scores as mixture components per draw.

        One normal component per draw, from :meth:`predictive_draws` (a mixture population:
        its C components and their weights); this is what a
        :class:`~skillinfer_bayes.predictive.profile.Profile` conditions and what the studies
        score, so a population with several components per draw needs no other path.

        Examples
        --------
        >>> pop.predictive_components().n_components
        1
        """
        return self.draws.predictive_components(group, warn)

    def entity(self, name) -> np.ndarray:
        """The fitted scores of the entity named ``name``, (K,) in benchmark order (NaN =
        missing; on the fitted scale, as skillinfer's ``Population.entity``).

        Examples
        --------
        >>> pop.entity("meta-llama/Llama-3.1-8B-Instruct").round(1)
        array([49.2, 29.4, 15.6,  8.7,  8.6, 31.1])
        """
        return self.matrix.to_numpy()[self._entity_row(name)].copy()

    def _entity_row(self, name) -> int:
        """The row of the one entity named ``name`` (a clear error for none or several)."""
        rows = np.flatnonzero(self.matrix.index == name)
        if len(rows) == 0:
            raise KeyError(f"No entity named {name!r} in this population "
                           f"({len(self.entity_names)} entities).")
        if len(rows) > 1:
            raise ValueError(
                f"{len(rows)} entities are named {name!r}: select one with "
                f"pop.matrix.iloc[i] (rows {rows.tolist()})."
            )
        return int(rows[0])

    def profile(self, noise: float | None = None, group=None, prior_entity=None,
                prior_mean=None):
        """A :class:`~skillinfer_bayes.predictive.profile.Profile` for a new entity of this
        population.

        Parameters
        ----------
        noise : float, sequence of float or dict, optional
            Observation noise standard deviation on each observed score: one for all
            benchmarks, one per benchmark, or ``{benchmark: sd}`` (benchmarks left out keep
            their default). Covariates are observed exactly unless the dict names them.
            Default :meth:`default_noise` (5% of the mean population sd, as in skillinfer,
            on comparable scales). ``0`` treats observations as exact.
        group : str, optional
            For a grouped population: the entity's group. A fitted group predicts from that
            group's mean; an unknown group (with an :class:`UnknownGroupWarning`) or ``None``
            predicts at the population level (see :meth:`predictive_draws`).
        prior_entity : optional
            Start from a known entity (skillinfer's option): its fitted scores replace the
            population mean in every posterior draw (its missing scores keep the population
            mean); the covariance draws are unchanged.
        prior_mean : array-like or Series, optional
            Start from these K means instead, on the fitted scale (after ``normalize``), in
            benchmark order or as a Series by benchmark name (NaN or a missing name keeps the
            population mean).

        Examples
        --------
        >>> profile = pop.profile().observe("BBH", 55.9)
        >>> profile.predict(level=0.9).iloc[:, :6].round()  # (then skillinfer's names)
                    mean  median   std  lower  upper  observed
        benchmark
        IFEval      70.0    74.0  13.0   44.0   84.0       NaN
        BBH         56.0    56.0   0.0   55.0   57.0      56.0
        MATH Lvl 5  43.0    46.0  11.0   20.0   58.0       NaN
        GPQA        17.0    18.0   3.0   10.0   21.0       NaN
        MUSR        19.0    19.0   5.0   11.0   26.0       NaN
        MMLU-PRO    50.0    50.0   2.0   47.0   53.0       NaN
        """
        noise = profile_noise(noise, self.default_noise(), self.benchmark_names,
                              self.latent_names)
        components = self.predictive_components(group)
        start_means = None
        if prior_entity is not None or prior_mean is not None:
            if prior_entity is not None and prior_mean is not None:
                raise ValueError("Give prior_entity or prior_mean, not both.")
            if prior_entity is not None:
                start = self.data.raw_values()[self._entity_row(prior_entity)]
                idx, latent, start_means = starting_means(start, self.description,
                                                          validate=False)
            else:
                idx, latent, start_means = starting_means(prior_mean, self.description)
            components = components.with_means(idx, latent)
        known = group is not None and str(group) in self.group_names
        return Profile(self.description, noise, components, str(group) if known else None,
                       start_means)

    @property
    def description(self) -> PopulationDescription:
        """This population as its profiles see it, apart from the predictive draws: names,
        transforms, bounds, observed ranges and the fit's id
        (:class:`~skillinfer_bayes.predictive.description.PopulationDescription`)."""
        return PopulationDescription.of(self)

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        return population_repr(self)

    def __str__(self) -> str:
        return population_text(self)
