"""Simulation-based calibration (Talts et al. 2018) of the population model and its sampler.

Each simulation draws the parameters from the prior, simulates a population from them, fits it
and records the rank of each true parameter among the posterior draws. If the model, its
likelihood and the sampler are right, every rank is uniform on ``0..n_ranks - 1``.

SBC checks the model as it is written, on the standardized scale the priors refer to: the
simulated scores are fitted as they are (no data-dependent standardization, which
:meth:`Population.from_dataframe` applies before fitting and which is outside the generative
model).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_positive_int
from skillinfer_bayes.data.sufficient_stats import pattern_stats
from skillinfer_bayes.inference import diagnostics
from skillinfer_bayes.inference.sampling import sample_posterior
from skillinfer_bayes.inference.spec import ModelSpec
from skillinfer_bayes.models.factor import build_factor_model, check_n_factors
from skillinfer_bayes.models.mvn import CHOL_VAR, MEAN_VAR, build_model, structure_key
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.predictive.prior_predictive import draw_prior
from skillinfer_bayes.studies.parallel import check_n_jobs, run_many


@dataclass
class SBCResult:
    """Rank statistics of :func:`simulation_based_calibration`.

    Attributes
    ----------
    ranks : pandas.DataFrame
        One row per simulation, one column per parameter (``mu[b0]``, ``sigma[b0]``,
        ``corr[b0,b1]``, ...): the number of kept posterior draws below the true value.
    n_ranks : int
        Number of possible rank values (kept draws + 1).
    fits : pandas.DataFrame
        Per simulation: ``divergences``, ``max_r_hat``, ``min_ess_bulk``.
    settings : dict
        The call's settings.
    """

    ranks: pd.DataFrame
    n_ranks: int
    fits: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def uniformity_test(self, bins: int = 10) -> pd.Series:
        """Chi-square test of uniform ranks per parameter (``bins`` equal-width bins).

        Returns
        -------
        pandas.Series
            p-values, by parameter.

        Examples
        --------
        >>> sbc.uniformity_test().min() > 0.01  # doctest: +SKIP
        True
        """
        from scipy import stats

        if self.n_ranks % bins:
            raise ValueError(f"bins must divide n_ranks = {self.n_ranks}; got {bins!r}.")
        binned = self.ranks.to_numpy() // (self.n_ranks // bins)
        counts = np.stack([(binned == b).sum(axis=0) for b in range(bins)])
        p = stats.chisquare(counts, axis=0).pvalue
        return pd.Series(p, index=self.ranks.columns, name="p_value")

    @property
    def p_values(self) -> pd.Series:
        """:meth:`uniformity_test` with 10 bins."""
        return self.uniformity_test()

    def plot(self, bins: int = 10):
        """Rank histograms with the 99% band of uniform ranks (see
        :func:`skillinfer_bayes.plots.plot_sbc_ranks`)."""
        from skillinfer_bayes.plots import plot_sbc_ranks

        return plot_sbc_ranks(self, bins=bins)

    def __repr__(self) -> str:
        p = self.p_values
        return (
            f"SBCResult({len(self.ranks)} simulations, {self.ranks.shape[1]} parameters, "
            f"{self.n_ranks} rank values; min p = {p.min():.3f} ({p.idxmin()}), "
            f"divergent fits {int((self.fits['divergences'] > 0).sum())})"
        )


def _parameter_names(K: int) -> list[str]:
    names = [f"mu[b{k}]" for k in range(K)] + [f"sigma[b{k}]" for k in range(K)]
    i, j = np.triu_indices(K, k=1)
    return names + [f"corr[b{a},b{b}]" for a, b in zip(i, j)]


def _flatten(mu: np.ndarray, sd: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """(..., P) parameter vectors in the order of :func:`_parameter_names`."""
    K = mu.shape[-1]
    i, j = np.triu_indices(K, k=1)
    return np.concatenate([mu, sd, corr[..., i, j]], axis=-1)


def _one_simulation(
    prior: Prior, truth: dict, n_entities: int, draws: int, tune: int, chains: int,
    n_kept: int, target_accept: float, sampler: str, seed: int, n_factors: int | None = None,
) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    mu, sd, corr = truth[MEAN_VAR], truth[f"{CHOL_VAR}_stds"], truth[f"{CHOL_VAR}_corr"]
    K = len(mu)
    L = np.linalg.cholesky(corr * np.outer(sd, sd))
    Y = mu + rng.standard_normal((n_entities, K)) @ L.T
    stats = pattern_stats(Y)
    names = [f"b{k}" for k in range(K)]
    structure = structure_key(stats, K, prior)
    if n_factors is None:
        model = build_model(stats, names, prior)
    else:
        model = build_factor_model(tuple(stats), names, prior, n_factors)
        structure = ("factor", n_factors, structure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        idata = sample_posterior(
            model, draws=draws, tune=tune, chains=chains, sampler=sampler,
            target_accept=target_accept, random_seed=int(rng.integers(2**31 - 1)),
            progressbar=False, structure=structure,
        )
    post = idata["posterior"]
    flat = _flatten(
        post[MEAN_VAR].values.reshape(-1, K),
        post[f"{CHOL_VAR}_stds"].values.reshape(-1, K),
        post[f"{CHOL_VAR}_corr"].values.reshape(-1, K, K),
    )
    keep = np.linspace(0, len(flat) - 1, n_kept).round().astype(int)
    ranks = (flat[keep] < _flatten(mu, sd, corr)[None]).sum(axis=0)
    summary = diagnostics.summarize(idata)
    fit = {key: summary[key] for key in ("divergences", "max_r_hat", "min_ess_bulk")}
    return ranks, fit


def simulation_based_calibration(
    prior: Prior | None = None,
    n_entities: int = 30,
    n_benchmarks: int = 3,
    n_simulations: int = 100,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    n_ranks: int = 100,
    target_accept: float = 0.9,
    sampler: str = "auto",
    random_seed: int | None = None,
    n_jobs: int = 1,
    progressbar: bool = True,
    n_factors: int | None = None,
    spec: ModelSpec | None = None,
) -> SBCResult:
    """Simulation-based calibration of the population model under ``prior``.

    The ranks are those of the identified parameters, the means, sds and correlations,
    whichever the covariance: with ``n_factors`` the model is the factor model
    (:mod:`~skillinfer_bayes.models.factor`), whose loadings are not identified.

    Parameters
    ----------
    prior : Prior, optional
        The prior to simulate from and fit with (default ``Prior()``).
    n_entities, n_benchmarks : int
        Size of each simulated population (complete scores).
    n_simulations : int, default 100
        Number of prior draws / fits.
    draws, tune, chains : int
        Sampler settings of each fit.
    n_ranks : int, default 100
        Rank values: ``n_ranks - 1`` posterior draws, evenly spaced over the chains, are
        compared with the truth (thinning reduces the autocorrelation that would distort the
        ranks).
    target_accept : float, default 0.9
        NUTS target acceptance.
    sampler : str
        NUTS backend.
    random_seed : int, optional
        Seed of the prior draws, the simulated data and each fit.
    n_jobs : int, default 1
        Parallel fits through joblib (a Dask cluster inside
        ``joblib.parallel_config(backend="dask")``). Results do not depend on it.
    progressbar : bool
        A bar over simulations.
    n_factors : int, optional
        Calibrate the factor-covariance model with this many factors (default: the LKJ
        model).
    spec : ModelSpec, optional
        The model as one value instead of ``prior`` and ``n_factors``: its prior and
        covariance structure (the scores are simulated on the latent scale, so transforms,
        bounds and scaling do not enter; covariates, groups and mixtures are not calibrated
        here).

    Returns
    -------
    SBCResult
        ``.ranks``, ``.uniformity_test()``, ``.p_values``, ``.fits``, ``.plot()``.

    References
    ----------
    .. [1] Talts, S., Betancourt, M., Simpson, D., Vehtari, A. and Gelman, A. (2018).
       Validating Bayesian inference algorithms with simulation-based calibration.
       arXiv:1804.06788.

    Examples
    --------
    >>> sbc = sib.simulation_based_calibration(sib.Prior(), n_entities=30, n_benchmarks=3,
    ...                                        n_simulations=100, random_seed=0)  # doctest: +SKIP
    >>> sbc.p_values.min() > 0.01  # doctest: +SKIP
    True
    """
    if spec is not None:
        if not isinstance(spec, ModelSpec):
            raise TypeError(f"spec must be a skillinfer_bayes.ModelSpec, got "
                            f"{type(spec).__name__}.")
        if prior is not None or n_factors is not None:
            raise ValueError("Give the model as spec= or as prior= / n_factors=, not both.")
        if spec.covariates or spec.groups or spec.components != 1 or spec.auto_field:
            raise ValueError("simulation_based_calibration calibrates the one-population "
                             "model with a fixed number of factors: no covariates, groups, "
                             f"components or 'auto' numbers; got {spec!r}.")
        prior, n_factors = spec.prior, spec.n_factors
    prior = Prior() if prior is None else prior
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a skillinfer_bayes.Prior, got {type(prior).__name__}.")
    for name, value in (("n_entities", n_entities), ("n_simulations", n_simulations),
                        ("draws", draws), ("tune", tune), ("chains", chains),
                        ("n_ranks", n_ranks)):
        check_positive_int(name, value)
    if n_benchmarks < 2:
        raise ValueError(f"n_benchmarks must be >= 2 (correlations); got {n_benchmarks!r}.")
    if n_entities < 2:
        raise ValueError(f"n_entities must be >= 2; got {n_entities!r}.")
    if not 2 <= n_ranks <= chains * draws + 1:
        raise ValueError(
            f"n_ranks must be between 2 and chains * draws + 1 = {chains * draws + 1}; "
            f"got {n_ranks!r}."
        )
    check_n_jobs(n_jobs)
    seeds = np.random.SeedSequence(random_seed)
    prior_seed, *sim_seeds = seeds.generate_state(n_simulations + 1)
    if n_factors is not None:
        check_n_factors(n_factors, n_benchmarks)
    truths = draw_prior(prior, n_benchmarks, n_simulations, int(prior_seed),
                        n_factors=n_factors)
    jobs = [
        dict(
            prior=prior,
            truth={key: value[s] for key, value in truths.items()},
            n_entities=n_entities, draws=draws, tune=tune, chains=chains, n_kept=n_ranks - 1,
            target_accept=target_accept, sampler=sampler, seed=int(sim_seeds[s]),
            n_factors=n_factors,
        )
        for s in range(n_simulations)
    ]
    results = run_many(_one_simulation, jobs, n_jobs, progressbar, desc="SBC")
    ranks = pd.DataFrame(
        np.stack([r for r, _ in results]), columns=_parameter_names(n_benchmarks)
    )
    fits = pd.DataFrame([f for _, f in results])
    settings = {
        "prior": prior, "n_entities": n_entities, "n_benchmarks": n_benchmarks,
        "n_simulations": n_simulations, "draws": draws, "tune": tune, "chains": chains,
        "random_seed": random_seed, "n_factors": n_factors,
    }
    return SBCResult(ranks=ranks, n_ranks=n_ranks, fits=fits, settings=settings)
