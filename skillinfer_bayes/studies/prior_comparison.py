"""Compare model choices on the same data: PSIS-LOO and held-out calibration, per model.

A model is a prior, optionally with its own groups, per-benchmark transforms, bounds and
covariates (:func:`compare_models`; :func:`compare_priors` is the same function under its first
name). The log-likelihoods include the transforms' Jacobians, so LOO compares models with
different transforms on the same scores; models with different covariates explain different
data, and their ``elpd_loo`` are not comparable (a warning says so), while the held-out scores
are.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from skillinfer_bayes.inference.fitting import (
    MODEL_OPTIONS,
    ModelSpec,
    SamplerConfig,
    resolve_options,
)
from skillinfer_bayes.inference.model_choice import elpd_difference
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.studies.evaluation import score_cells
from skillinfer_bayes.studies.parallel import check_n_jobs, fit_many
from skillinfer_bayes.studies.protocol import (
    check_n_observed,
    complete_rows,
    make_splits,
    protocol_table,
)
from skillinfer_bayes.studies.scoring import LEVELS, EvaluationResult

#: Pareto k above which the PSIS estimate of an entity's LOO term is unreliable, where ArviZ
#: does not say (it gives ``good_k = min(1 - 1/log10(S), 0.7)`` for S draws).
PARETO_K_THRESHOLD = 0.7


@dataclass
class PriorComparison:
    """Result of :func:`compare_priors`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per prior (best LOO first): ``elpd_loo``, ``se``, ``p_loo``, ``elpd_diff`` and
        ``dse`` (difference to the best prior and its standard error, from paired pointwise
        differences), ``pareto_k_bad`` (entities with Pareto k above ArviZ's ``good_k``,
        ``min(1 - 1/log10(S), 0.7)`` for S draws), ``pareto_k_max``,
        ``warning`` (any bad k), the held-out ``mae``, ``crps``, ``log_score``,
        ``coverage_90``, and the fits' ``divergences`` and ``max_r_hat``. LOO figures are sums
        over replications (each replication's population is a separate data set).
    correlations : pandas.DataFrame
        Posterior-mean correlation of every benchmark pair (columns ``"A ~ B"``) per prior,
        averaged over replications.
    cells : pandas.DataFrame
        The held-out cells (as :attr:`EvaluationResult.cells`, ``method`` = prior name).
    priors : dict
        The compared priors.
    settings : dict
        The call's settings.
    """

    table: pd.DataFrame
    correlations: pd.DataFrame
    cells: pd.DataFrame
    priors: dict[str, Prior]
    settings: dict = field(default_factory=dict)

    @property
    def evaluation(self) -> EvaluationResult:
        """The held-out cells as an :class:`EvaluationResult` (summary, by_benchmark, plots)."""
        return EvaluationResult(cells=self.cells, levels=LEVELS, settings=self.settings)

    def plot(self):
        """LOO elpd differences and held-out scores per prior (see
        :func:`skillinfer_bayes.plots.plot_prior_comparison`)."""
        from skillinfer_bayes.plots import plot_prior_comparison

        return plot_prior_comparison(self.table)

    def __repr__(self) -> str:
        return f"PriorComparison({len(self.priors)} priors)\n{self.table.round(4).to_string()}"

    def _repr_html_(self) -> str:
        return self.table.round(4).to_html()


def compare_models(
    df: pd.DataFrame,
    models: Mapping[str, ModelSpec | Prior | tuple | Mapping],
    groups: str | pd.Series | Sequence | None = None,
    test_fraction: float = 0.2,
    n_observed: int | Sequence[int] = (1, 2),
    population_size: int | None = None,
    replications: int = 1,
    random_seed: int = 0,
    sampler_config: SamplerConfig | None = None,
    n_jobs: int = 1,
    progressbar: bool = True,
    spec: ModelSpec | None = None,
    **options,
) -> PriorComparison:
    """Fit the same populations under several models (priors, scales) and compare them.

    The split protocol is that of :func:`~skillinfer_bayes.evaluate` (same seeds, so the
    same test models and fitted populations for every prior, and the same sampler seed per
    replication). For each prior and replication the fitted population's PSIS-LOO (leave one
    entity out) is computed from the per-entity log-likelihood, and the held-out models are
    predicted from ``n_observed`` scores and scored (CRPS, log score, 90% coverage).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows = models, columns = benchmarks; rows with a missing score are dropped.
    models : mapping of str to ModelSpec, Prior, (Prior, groups) or dict
        The models to compare, by name: a :class:`~skillinfer_bayes.ModelSpec`; a prior; ``(Prior,
        groups)`` to compare pooled against grouped means (``{"pooled": Prior(),
        "grouped": (Prior(), "family")}``); or a dict of ModelSpec fields that change the
        base model (``spec``), e.g. ``{"raw": {"transform": None}, "mixture":
        {"components": 2}}``, where ``groups`` may also be labels. The covariates' columns
        are never benchmarks, whichever models use them; every fit is on the scores' own
        scale (``normalize`` is ignored).
    groups : str, pandas.Series or sequence, optional
        Group labels for every model that does not set its own (see
        :meth:`Population.from_dataframe`).
    test_fraction, n_observed, population_size, replications, random_seed :
        The evaluation protocol (see :func:`~skillinfer_bayes.evaluate`).
    sampler_config : SamplerConfig, optional
        The sampler settings of every fit (default: :class:`SamplerConfig`'s; raise
        ``target_accept``, e.g. to 0.95, when fits of grouped means on small populations
        report divergences).
    n_jobs : int, default 1
        Parallel fits through joblib (-1: all cores; a Dask cluster inside
        ``joblib.parallel_config(backend="dask")``). Results do not depend on it.
    progressbar : bool
        Progress over the fits.
    spec : ModelSpec, optional
        The base model that the models given as a prior or a dict change (default
        ``ModelSpec()``).
    **options
        ModelSpec fields of the base model (``transform=None`` compares priors of the normal
        on the scores) or SamplerConfig fields (``draws=500``), as in
        :func:`~skillinfer_bayes.evaluate`.

    Returns
    -------
    PriorComparison
        ``.table`` (the comparison DataFrame), ``.correlations``, ``.cells``, ``.plot()``.

    References
    ----------
    .. [1] Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation
       using leave-one-out cross-validation and WAIC. *Statistics and Computing* 27,
       1413-1432.

    Examples
    --------
    >>> cmp = sib.compare_models(df, {"copula": {}, "eta=10": sib.Prior(eta=10),
    ...                               "raw": {"transform": None}},
    ...                          population_size=20, replications=5)  # doctest: +SKIP
    >>> cmp.table[["elpd_loo", "se", "crps", "coverage_90"]]  # doctest: +SKIP
    """

    base, config = resolve_options(spec, sampler_config, options, "compare_models")
    specs = check_models(models, groups, base)
    check_n_jobs(n_jobs)
    grouped_columns = sorted({s.groups for s in specs.values() if isinstance(s.groups, str)})
    covariate_columns = list(dict.fromkeys(c for s in specs.values()
                                           for c in (s.covariates or {})))
    # the covariates of the protocol's complete rows (those of every model's table)
    C_all = protocol_table(df.drop(columns=grouped_columns, errors="ignore"), None,
                           covariate_columns or None)[2]
    df = df.drop(columns=covariate_columns)
    scores = df.drop(columns=[c for c in grouped_columns if c in df.columns])
    tables = {}
    for name, spec in specs.items():
        if isinstance(spec.groups, str):
            tables[name] = complete_rows(
                df.drop(columns=[c for c in grouped_columns if c != spec.groups]), spec.groups)
        else:
            tables[name] = complete_rows(scores, spec.groups)
    rows = {name: set(table.index) for name, (table, _) in tables.items()}
    if len({frozenset(r) for r in rows.values()}) > 1:
        raise ValueError("Every prior must see the same complete rows; check the groups columns.")
    covariate_sets = {name: tuple(spec.covariates or ()) for name, spec in specs.items()}
    if len(set(covariate_sets.values())) > 1:
        warnings.warn(
            f"The models use different covariates {covariate_sets}: their elpd_loo are "
            "log-likelihoods of different data and do not compare; the held-out scores do.",
            UserWarning, stacklevel=2,
        )
    matrix = next(iter(tables.values()))[0]
    names = list(matrix.columns)
    K = len(names)
    X_all = matrix.to_numpy()
    n_obs = check_n_observed(n_observed, K)
    splits = make_splits(len(X_all), test_fraction, population_size, replications, random_seed)
    combos = [c for k in n_obs for c in itertools.combinations(range(K), k)]

    jobs, labels, keys = [], [], []
    for name, spec in specs.items():
        group_labels = tables[name][1]
        own = list(spec.covariates or {})
        for r, (_, train, seed) in enumerate(splits):
            table = pd.DataFrame(X_all[train], columns=names)
            for column in own:
                table[column] = C_all[column].to_numpy()[train]
            jobs.append(dict(
                df=table, spec=dataclasses.replace(spec.model, normalize=False, groups=None),
                groups=None if group_labels is None else list(group_labels[train]),
                sampler_config=config, random_seed=seed, cache=False,
            ))
            labels.append(f"model {name!r}, replication {r}")
            keys.append((name, r))
    pops = dict(zip(keys, fit_many(jobs, labels, n_jobs, progressbar,
                                   desc="compare_models: fitting")))

    records, corr_rows, frames, pointwise = [], {}, [], {}
    i, j = np.triu_indices(K, k=1)
    for name, spec in specs.items():
        group_labels = tables[name][1]
        own = list(spec.covariates or {})
        elpd_i, p_loo, k_values, corrs, k_bad = [], 0.0, [], [], 0
        divergences, max_r_hat = 0, 0.0
        for r, (test, _, seed) in enumerate(splits):
            pop = pops[(name, r)]
            with warnings.catch_warnings():
                # reported below as pareto_k_bad / warning, per prior
                warnings.filterwarnings("ignore", message=".*Pareto k.*")
                warnings.filterwarnings("ignore", message=".*shape parameter of Pareto.*")
                loo = pop.loo(pointwise=True)
            elpd_i.append(np.asarray(loo.loo_i))
            p_loo += float(loo.p_loo)
            k_values.append(np.asarray(loo.pareto_k))
            k_bad += int((k_values[-1] > float(getattr(loo, "good_k", PARETO_K_THRESHOLD))).sum())
            corrs.append(pop.correlation.to_numpy()[i, j])
            d = pop.diagnostics()
            divergences += int(d["divergences"])
            max_r_hat = max(max_r_hat, float(d["max_r_hat"]))

            def draws_for(g, pop=pop):
                return pop.predictive_components(g, warn=False)

            frames += score_cells(
                draws_for, X_all[test], None if group_labels is None else group_labels[test],
                combos, pop.default_noise() * pop.data.noise_slopes, LEVELS, seed, names,
                matrix.index[test], {"replication": r, "method": name},
                pop.data.transforms if pop.data.transformed else None,
                C_all[own].to_numpy()[test] if own else None,
            )
        pointwise[name] = np.concatenate(elpd_i)
        k_all = np.concatenate(k_values)
        elpd = pointwise[name]
        records.append({
            "prior": name,
            "elpd_loo": float(elpd.sum()),
            "se": float(np.sqrt(len(elpd) * np.var(elpd))),
            "p_loo": p_loo,
            "pareto_k_bad": k_bad,
            "pareto_k_max": float(k_all.max()),
            "divergences": divergences,
            "max_r_hat": max_r_hat,
        })
        corr_rows[name] = np.mean(corrs, axis=0)
    table = pd.DataFrame(records).set_index("prior")
    best = table["elpd_loo"].idxmax()
    table.insert(3, "elpd_diff", table["elpd_loo"] - table.loc[best, "elpd_loo"])
    table.insert(4, "dse", [elpd_difference(pointwise[n], pointwise[best])[1]
                            for n in table.index])
    table.insert(7, "warning", table["pareto_k_bad"] > 0)
    cells = pd.concat(frames, ignore_index=True)
    held_out = EvaluationResult(cells=cells).aggregate(["method"])
    for column in ("mae", "crps", "log_score", "coverage_90"):
        source = {"mae": "MAE"}.get(column, column)
        table[column] = held_out.loc[table.index, source].to_numpy()
    table = table.sort_values("elpd_loo", ascending=False)
    correlations = pd.DataFrame(
        corr_rows, index=[f"{names[a]} ~ {names[b]}" for a, b in zip(i, j)]
    ).T.loc[table.index]
    settings = {
        "test_fraction": test_fraction, "n_observed": tuple(n_obs),
        "population_size": population_size, "replications": len(splits),
        "random_seed": random_seed, "draws": config.draws, "tune": config.tune,
        "chains": config.chains, "target_accept": config.target_accept, "n_rows": len(X_all),
    }
    return PriorComparison(
        table=table, correlations=correlations, cells=cells,
        priors={name: spec.model.prior for name, spec in specs.items()}, settings=settings,
    )


def compare_priors(df: pd.DataFrame, priors: Mapping[str, Prior | tuple | Mapping],
                   **kwargs) -> PriorComparison:
    """:func:`compare_models` under its first name (``priors`` are the models).

    Examples
    --------
    >>> cmp = sib.compare_priors(df, {"eta=1": sib.Prior(eta=1), "eta=10": sib.Prior(eta=10)},
    ...                          population_size=20, replications=5)  # doctest: +SKIP
    """
    return compare_models(df, priors, **kwargs)


@dataclass(frozen=True)
class Candidate:
    """One model of :func:`compare_models`: its specification, and its groups (a column
    name, labels, or None), which the split protocol needs apart from the fits."""

    model: ModelSpec
    groups: object = None

    @property
    def covariates(self) -> dict | None:
        return self.model.covariates


def check_models(models, groups, base: ModelSpec) -> dict[str, Candidate]:
    """:func:`compare_models`' ``models`` as :class:`Candidate` s, each model given as a prior
    or a dict built on ``base``.

    Examples
    --------
    >>> out = check_models({"raw": {"transform": None}, "eta=3": Prior(eta=3.0)}, None,
    ...                    ModelSpec())
    >>> out["raw"].model.transform, out["eta=3"].model.prior.eta
    (None, 3.0)
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError(
            "priors must be a non-empty mapping {name: Prior}, e.g. "
            "{'eta=1': Prior(eta=1), 'eta=10': Prior(eta=10)}."
        )
    candidates = {}
    for name, model in models.items():
        labels = groups
        if isinstance(model, ModelSpec):
            spec = model
            labels = model.groups if model.groups is not None else groups
        elif isinstance(model, Mapping):
            unknown = sorted(set(model) - set(MODEL_OPTIONS))
            if unknown:
                raise ValueError(f"model {name!r} has unknown key(s) {unknown}; a model is a "
                                 f"dict with keys among {list(MODEL_OPTIONS)}.")
            fields = dict(model)
            labels = fields.pop("groups", groups)
            spec = _replaced(base, name, **fields)
        elif isinstance(model, tuple) and len(model) == 2:
            spec, labels = _replaced(base, name, prior=model[0]), model[1]
        else:
            spec = _replaced(base, name, prior=model)
        candidates[str(name)] = Candidate(dataclasses.replace(spec, groups=None), labels)
    return candidates


def _replaced(base: ModelSpec, name, **fields) -> ModelSpec:
    """``base`` with ``fields`` changed; a prior that is not one is refused naming the
    model."""
    prior = fields.get("prior", base.prior)
    if not isinstance(prior, Prior):
        raise TypeError(
            f"priors[{name!r}] must be a skillinfer_bayes.Prior, (Prior, groups), a "
            f"ModelSpec or a dict with keys among {list(MODEL_OPTIONS)}; got "
            f"{type(prior).__name__}."
        )
    return dataclasses.replace(base, **fields)
