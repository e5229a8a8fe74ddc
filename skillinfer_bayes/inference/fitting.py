"""Fitting: a model specification and sampler settings applied to prepared data.

``fit(data, spec, config, random_seed) -> InferenceData`` is the whole fit: build the PyMC
model of :mod:`skillinfer_bayes.models.mvn` from the data's standardized pattern statistics, sample
it (:mod:`skillinfer_bayes.inference.sampling`), add the draws on the data's scale and record the
settings. :func:`fit_cached` wraps it with the content-addressed fit cache of
:mod:`skillinfer_bayes.inference.storage`.
:class:`SamplerConfig` carries the sampler settings as one
value wherever they are needed (``Population.from_dataframe``, ``evaluate``,
``compare_priors``, the CLI); :class:`ModelSpec` says which model.

Examples
--------
>>> SamplerConfig(draws=500, chains=2)
SamplerConfig(draws=500, tune=1000, chains=2, target_accept=0.85, sampler='auto', progressbar=True)
>>> SamplerConfig.resolve(SamplerConfig(draws=500), tune=200).tune
200
>>> ModelSpec().covariance
'lkj'
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from skillinfer_bayes._version import __version__
from skillinfer_bayes.data.checks import check_fields, check_positive_int, check_seed
from skillinfer_bayes.data.prepared import PreparedData
from skillinfer_bayes.inference import storage
from skillinfer_bayes.inference.inference_data import InferenceData
from skillinfer_bayes.inference.relabel import relabel
from skillinfer_bayes.inference.sampling import SAMPLERS, resolve_sampler, sample_posterior
from skillinfer_bayes.inference.spec import ModelSpec, spec_from_keywords
from skillinfer_bayes.models.factor import build_factor_model
from skillinfer_bayes.models.masked import masked_rows
from skillinfer_bayes.models.mixture import DIRECTION_DATA, build_mixture_model
from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
from skillinfer_bayes.models.mvn import (
    CHOL_VAR,
    GROUP_MEAN_VAR,
    GROUP_SD_VAR,
    MEAN_VAR,
    build_model,
    structure_key,
    uses_rows,
)

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class SamplerConfig:
    """NUTS settings of a fit, as one value.

    Parameters
    ----------
    draws, tune, chains : int
        Draws kept and tuning steps per chain, and the number of chains.
    target_accept : float, default 0.85
        NUTS target acceptance probability; raise it if divergences are reported. At 0.8
        (PyMC's and numpyro's default) four-component fits of the leaderboard without 50
        models diverged 2 times in 4,000 draws in each of three seeds (in the tails); at 0.85
        none in two of those seeds and none in the default leaderboard fit, with the same 15
        leapfrog steps per draw.
    sampler : {"auto", "numpyro", "nutpie", "pymc"}
        NUTS backend; "auto" picks the fastest installed one (numpyro).
    progressbar : bool, default True
        Show sampling progress.
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.85
    sampler: str = "auto"
    progressbar: bool = True

    def __post_init__(self) -> None:
        for name in ("draws", "tune", "chains"):
            check_positive_int(name, getattr(self, name))
        value = self.target_accept
        if isinstance(value, bool) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ) or not 0.0 < value < 1.0:
            raise ValueError(f"target_accept must be in (0, 1), e.g. 0.9; got {value!r}.")
        if self.sampler not in SAMPLERS:
            raise ValueError(
                f"Unknown sampler {self.sampler!r}; choose one of {sorted(SAMPLERS)}."
            )
        object.__setattr__(self, "target_accept", float(value))
        object.__setattr__(self, "progressbar", bool(self.progressbar))

    @classmethod
    def resolve(cls, config: SamplerConfig | None = None, **keywords) -> SamplerConfig:
        """``config`` (default settings if None) with the keywords that are not None applied:
        how functions that take both ``sampler_config=`` and the old keywords combine them."""
        if config is not None and not isinstance(config, SamplerConfig):
            raise TypeError(
                f"sampler_config must be a skillinfer_bayes.SamplerConfig, got "
                f"{type(config).__name__}."
            )
        given = {k: v for k, v in keywords.items() if v is not None}
        return dataclasses.replace(config or cls(), **given)

    def to_dict(self) -> dict:
        """The settings as a plain dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SamplerConfig:
        """Rebuild the settings from :meth:`to_dict` output; unknown keys are an error.

        Examples
        --------
        >>> SamplerConfig.from_dict(SamplerConfig(draws=300).to_dict()).draws
        300
        """
        return cls(**check_fields(cls, data))


#: The keyword options of a study that say which model (:class:`ModelSpec`'s fields) and how
#: to sample it (:class:`SamplerConfig`'s, but ``progressbar``, which studies take apart).
MODEL_OPTIONS = tuple(f.name for f in dataclasses.fields(ModelSpec))
SAMPLER_OPTIONS = tuple(f.name for f in dataclasses.fields(SamplerConfig)
                        if f.name != "progressbar")


def resolve_options(spec: ModelSpec | None, sampler_config: SamplerConfig | None,
                    options: dict, where: str) -> tuple[ModelSpec, SamplerConfig]:
    """The model and sampler settings of a study called with ``spec=``, ``sampler_config=``
    and keyword ``options`` (any :class:`ModelSpec` or :class:`SamplerConfig` field, the
    convenience of ``evaluate(df, transform=None, draws=500)``): the keywords override the
    config's settings and build the spec (not beside one). ``where`` names the caller in
    the error for an unknown keyword.

    Examples
    --------
    >>> spec, config = resolve_options(None, None, {"transform": None, "draws": 300}, "f")
    >>> spec.transform, config.draws
    (None, 300)
    >>> resolve_options(None, None, {"trasform": None}, "evaluate")
    Traceback (most recent call last):
    ...
    TypeError: evaluate() got an unexpected keyword argument 'trasform'; ...
    """
    model = {k: v for k, v in options.items() if k in MODEL_OPTIONS}
    sampler = {k: v for k, v in options.items() if k in SAMPLER_OPTIONS}
    unknown = sorted(set(options) - set(model) - set(sampler))
    if unknown:
        raise TypeError(
            f"{where}() got an unexpected keyword argument {unknown[0]!r}; its model options "
            f"are {list(MODEL_OPTIONS)} (or spec=ModelSpec(...)) and its sampler options "
            f"{list(SAMPLER_OPTIONS)} (or sampler_config=SamplerConfig(...))."
        )
    return spec_from_keywords(spec, **model), SamplerConfig.resolve(sampler_config, **sampler)


def fit(
    data: PreparedData,
    spec: ModelSpec,
    config: SamplerConfig,
    random_seed: int | None = None,
) -> InferenceData:
    """Sample the posterior of ``spec`` given ``data``.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with the standardized-scale variables the model samples and ``mu``,
        ``sigma``, ``corr``, ``Sigma`` (and ``group_mu``, ``group_sd``) on the data's scale;
        ``sample_stats``; attributes recording the prior, settings, seed and fit time. A
        mixture's components are relabelled (:mod:`~skillinfer_bayes.inference.relabel`),
        the fraction of draws whose labels changed in the attribute
        ``label_switched_fraction``.
    """
    random_seed = check_seed(random_seed)
    model, structure = build_for(data, spec)
    started = time.perf_counter()
    idata = sample_posterior(
        model,
        draws=config.draws,
        tune=config.tune,
        chains=config.chains,
        sampler=config.sampler,
        target_accept=config.target_accept,
        random_seed=random_seed,
        progressbar=config.progressbar,
        structure=structure,
    )
    elapsed = time.perf_counter() - started
    switched = None
    if spec.components > 1:  # consistent component labels across draws and chains
        stats = idata["sample_stats"]
        relabelled, switched = relabel(
            idata["posterior"], stats["lp"].values if "lp" in stats else None,
            direction=model[DIRECTION_DATA].get_value()[:, 0])
        idata["posterior"] = relabelled
    add_data_scale_draws(idata, data.center, data.scale)
    idata.attrs.update(
        {
            "skillinfer_bayes_version": __version__,
            "prior": json.dumps(spec.prior.to_dict()),
            # the data's own scaling (``data`` may have been prepared apart from ``spec``)
            "model_spec": json.dumps(dataclasses.replace(
                spec, normalize=data.normalized).to_dict()),
            "covariance": spec.covariance,
            "n_factors": -1 if spec.n_factors is None else spec.n_factors,
            "components": spec.components,
            "shared_covariance": int(spec.shared_covariance),
            "normalize": int(data.normalized),
            "sampler": idata["posterior"].attrs["sampler"],
            "target_accept": config.target_accept,
            "random_seed": -1 if random_seed is None else int(random_seed),
            "n_entities": data.n_entities,
            "n_groups": len(data.group_names),
            "fit_seconds": elapsed,
        }
    )
    if switched is not None:
        idata.attrs["label_switched_fraction"] = switched
    return idata


def build_for(data: PreparedData, spec: ModelSpec):
    """The PyMC model of ``spec`` on ``data``, and the key of its graph's structure (fits with
    the same key share one compiled sampler)."""
    group_names = list(data.group_names) if data.groups is not None else None
    K = len(data.latent_names)
    rows = None
    if uses_rows(data.stats):  # the batched per-row kernel
        codes = np.full(data.n_entities, -1) if data.group_codes is None else data.group_codes
        values, mask = masked_rows(data.standardized())
        known = mask.any(axis=1)  # as in the patterns: a row with no score carries nothing
        rows = (values[known], mask[known], codes[known])
    if spec.components > 1:
        if group_names is not None:
            raise ValueError(
                f"groups are not supported with components={spec.components} yet; fit "
                "without groups= or with one component."
            )
        mixture_data = rows_by_pattern(data.standardized()) if rows is None else rows[:2]
        model = build_mixture_model(mixture_data, data.latent_names, spec.prior,
                                    spec.components, spec.shared_covariance,
                                    spec.prior.weight_concentration)
        shapes = ("rows", len(rows[0])) if rows is not None else tuple(
            (tuple(int(i) for i in p.observed), len(p.values)) for p in mixture_data)
        return model, ("mixture", spec.components, spec.shared_covariance, K, shapes,
                       spec.prior)
    if spec.covariance == "factor":
        if group_names is not None:
            raise ValueError(
                "groups are not supported with covariance='factor' yet; fit without groups= "
                "or with covariance='lkj'."
            )
        model = build_factor_model(data.stats if rows is None else rows[:2],
                                   data.latent_names, spec.prior, spec.n_factors)
        return model, ("factor", spec.n_factors, structure_key(data.stats, K, spec.prior))
    model = build_model(data.stats, data.latent_names, spec.prior, group_names, rows)
    return model, structure_key(data.stats, K, spec.prior, len(data.group_names))


def fit_cached(
    data: PreparedData,
    spec: ModelSpec,
    config: SamplerConfig,
    random_seed: int | None = None,
    cache: bool = True,
) -> InferenceData:
    """:func:`fit`, through the content-addressed fit cache (with a ``random_seed``).

    The same data with the same model, settings and seed load the saved posterior instead of
    sampling; a new fit is saved. An entry that fails any check (see
    :mod:`skillinfer_bayes.inference.storage`) is refitted with a :class:`~storage.CacheWarning`; a
    failed write warns and never breaks the fit.
    """
    random_seed = check_seed(random_seed)
    if not cache or random_seed is None:
        return fit(data, spec, config, random_seed)
    settings = {
        **spec.to_dict(), "normalize": data.normalized, "draws": config.draws,
        "tune": config.tune, "chains": config.chains,
        "sampler": resolve_sampler(config.sampler),
        "target_accept": config.target_accept, "random_seed": random_seed,
    }
    path = storage.cache_dir() / (
        storage.cache_key(data, settings) + ".nc"
    )
    if path.exists():
        try:
            saved = storage.load(path, expected_data_hash=data.data_hash())
        except storage.PosteriorFileError as err:  # refit and overwrite it
            warnings.warn(f"Ignoring a broken fit cache entry ({err}); refitting.",
                          storage.CacheWarning, stacklevel=3)
        else:
            logger.info("loaded the cached posterior %s (cache=False to sample again)", path)
            return saved.idata
    idata = fit(data, spec, config, random_seed)
    try:
        storage.save(path, data, idata)
    except Exception as err:  # noqa: BLE001 - the cache is optional: never break a fit
        warnings.warn(f"Could not write the fit cache {path}: {err}", storage.CacheWarning,
                      stacklevel=3)
    return idata


def add_data_scale_draws(idata: InferenceData, center: np.ndarray, scale: np.ndarray) -> None:
    """Add ``mu``, ``sigma``, ``corr`` and ``Sigma`` (and ``group_mu``, ``group_sd``) on the
    data's scale to the posterior, from the standardized-scale draws."""
    post = idata["posterior"]
    coords = {"benchmark": post["benchmark"]}
    center_da = xr.DataArray(center, dims="benchmark", coords=coords)
    scale_da = xr.DataArray(scale, dims="benchmark", coords=coords)
    mu = center_da + scale_da * post[MEAN_VAR]
    sigma = scale_da * post[f"{CHOL_VAR}_stds"]
    corr = post[f"{CHOL_VAR}_corr"]
    sigma_bis = sigma.rename(benchmark="benchmark_bis")
    Sigma = sigma * corr * sigma_bis
    extra = {}
    if GROUP_MEAN_VAR in post:
        group_mu = center_da + scale_da * post[GROUP_MEAN_VAR]
        extra["group_mu"] = group_mu.transpose("chain", "draw", "group", "benchmark")
        extra["group_sd"] = (scale_da * post[GROUP_SD_VAR]).transpose("chain", "draw", "benchmark")
    # a mixture's draws have a ``component`` dim before the benchmarks
    idata["posterior"] = post.assign(
        mu=mu.transpose("chain", "draw", ..., "benchmark"),
        sigma=sigma.transpose("chain", "draw", ..., "benchmark"),
        corr=corr,
        Sigma=Sigma.transpose("chain", "draw", ..., "benchmark", "benchmark_bis"),
        **extra,
    )
