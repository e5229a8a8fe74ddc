"""The model specification: which population model to fit, as one value.

:class:`ModelSpec` holds everything that says *which model* (the prior, each benchmark's
transform and bounds, the covariates, the groups column, the scaling, the covariance
structure, factors and components), apart from *how to sample it*
(:class:`~skillinfer_bayes.inference.fitting.SamplerConfig`), as Bambi's model specification
is apart from its ``fit`` and PyMC-Marketing's ``model_config`` from its ``sampler_config``.
``Population.from_dataframe(df, spec=...)`` fits it (its keywords are a convenience that builds
one), the fit stores it whole in the posterior's attributes, and ``Population.spec`` gives it
back, with any ``"auto"`` number resolved, so that refitting it reproduces the population.

Examples
--------
>>> spec = ModelSpec(transform={"GPQA": "logit"}, bounds=(0, 100),
...                  covariates={"params_b": "log"}, components=2)
>>> ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
True
>>> spec.to_dict()["bounds"]
[0.0, 100.0]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from skillinfer_bayes.data.checks import check_fields
from skillinfer_bayes.data.transform_choice import DEFAULT_BOUNDS, DEFAULT_TRANSFORM
from skillinfer_bayes.models.priors import Prior

#: Covariance structures of the population model.
COVARIANCES = ("lkj", "factor")
#: skillinfer's covariance estimators, and this library's counterpart of each: the dense
#: covariance with an LKJ prior, fitted by NUTS (the Bayesian counterpart of either point
#: estimate). ``ModelSpec(covariance="ledoit-wolf")`` means ``"lkj"``.
SKILLINFER_COVARIANCES = {"ledoit-wolf": "lkj", "sample": "lkj"}


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


def _pair(value):
    """A pair of numbers as a float tuple; anything else unchanged (the data layer's
    :func:`~skillinfer_bayes.data.transform_choice.resolve_transforms` refuses a bad one, naming
    the benchmark)."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            return float(value[0]), float(value[1])
        except (TypeError, ValueError):
            return value
    return value


def _canonical_bounds(bounds):
    """``bounds`` as the spec stores it: ``"auto"``, ``None``, a float pair, or a dict of
    those by benchmark (lists from JSON become pairs)."""
    if isinstance(bounds, Mapping):
        return {str(k): _pair(v) for k, v in bounds.items()}
    return _pair(bounds)


def _canonical_covariates(covariates):
    """``covariates`` as the spec stores it: ``None``, a dict ``{column: transform}`` (a
    column or list of columns means the identity for each)."""
    if covariates is None:
        return None
    if isinstance(covariates, str):
        return {covariates: "identity"}
    if isinstance(covariates, Mapping):
        return {str(k): (None if v is None else str(v)) for k, v in covariates.items()}
    if isinstance(covariates, (list, tuple)):
        return {str(k): "identity" for k in covariates}
    raise TypeError(f"covariates must be a column name, a list of them or a dict "
                    f"{{column: transform}}; got {type(covariates).__name__}.")


def _listed(value):
    """JSON form: pairs as lists, dicts by name."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return {k: _listed(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, eq=True)
class ModelSpec:
    """Which population model to fit (the module docstring).

    Parameters
    ----------
    prior : Prior, optional
        Prior choices on the standardized scale; default ``Prior()``.
    transform : "auto", "copula", "logit", None or dict, default "auto"
        Each benchmark's map to the latent scale the model is a normal on
        (:mod:`~skillinfer_bayes.data.transforms`): ``"copula"`` (a smoothed empirical
        CDF mapped to normal scores, a plug-in estimate, which the held-out scores favour
        on the leaderboard) suits skewed or lumpy marginals, ``"logit"`` suits scores with
        known ``bounds``, ``None`` keeps the normal on the scores themselves (the model
        before transforms, and skillinfer's); ``"auto"`` chooses per benchmark: the copula
        with at least 50 scores (or 20 bounded ones that are detectably not normal on the
        logit scale), else the logit of bounded scores, else ``None``
        (:func:`~skillinfer_bayes.data.transform_choice.auto_transform`; ``print(pop)`` shows the
        choices); ``{benchmark: transform}`` chooses per benchmark (others: ``"auto"``).
        Predictions map back: their intervals stay inside the bounds.
    bounds : (lower, upper), "auto", None or dict, default "auto"
        Known bounds of the scores in the table's units (e.g. ``(0, 100)``), for all
        benchmarks or ``{benchmark: (lower, upper)}``. ``"auto"`` gives a benchmark
        ``(0, 1)`` or ``(0, 100)`` when every observed score lies inside, else none
        (:func:`~skillinfer_bayes.data.transform_choice.auto_bounds`; ``print(pop)`` shows
        them); ``None``: no bounds. Needed by ``"logit"``; with ``"copula"`` the
        marginal is estimated on the logit scale and predictions stay inside the bounds.
        A score outside given bounds is an error; a new model's score beyond bounds that
        ``"auto"`` inferred is read as a score on the bound, with an
        :class:`~skillinfer_bayes.OutOfBoundsWarning`.
    covariates : str, list of str or dict, optional
        Columns of ``df`` known for free for every model (e.g. ``{"params_b": "log"}``,
        the parameter count on a log scale): extra dimensions of the latent normal, in
        the likelihood where known (NaN allowed), observed with
        ``profile.observe("params_b", 70.6)``, never predicted unless asked
        (``predict(covariates=True)``).
    groups : str, optional
        The column of ``df`` that holds each entity's group (e.g. a size class or an
        architecture; then not a benchmark). Each group gets its own mean, partially pooled
        toward the population mean (``mu_g ~ Normal(mu, tau)``, ``tau ~
        HalfNormal(prior.group_scale)``); the covariance is shared. Predict for a member with
        ``pop.profile(group=...)``. Labels given as data (a Series or a list) are not part of a
        specification: pass them to ``Population.from_dataframe(df, groups=labels)``.
    normalize : bool, default True
        Min-max scale each benchmark to [0, 1] first (as ``skillinfer`` does); predictions
        are then on that scale. Pass ``False`` to keep the original units (never clipped).
    covariance : {"lkj", "factor"}, default "lkj"
        The covariance structure: ``"lkj"``, dense with an LKJ prior on the correlations;
        ``"factor"``, ``Lambda Lambda' + diag(psi^2)`` with ``n_factors`` factors
        (:mod:`~skillinfer_bayes.models.factor`), for wide tables (many benchmarks, few
        scores each), where the dense model's K (K - 1) / 2 correlations are too many.
    n_factors : int or "auto", optional
        The number of factors of ``covariance="factor"``. ``"auto"`` fits 1, 2, ...
        factors and moves to one more factor only while its PSIS-LOO elpd (leave one
        entity out) beats the current rank's by more than two standard errors of their
        paired difference (:mod:`~skillinfer_bayes.inference.model_choice`; at most
        ``MAX_AUTO_FACTORS``); the comparison is ``pop.factor_selection`` and
        ``print(pop)`` reports it.
    components : int or "auto", default 1
        The number of clusters of the population: 1 is one multivariate normal; C >= 2 a
        mixture of C normals on the latent scale (:mod:`~skillinfer_bayes.models.mixture`:
        sparse Dirichlet weights, so components the data do not support empty out;
        assignments marginalized; each draw's labels matched to a pivot draw's after
        sampling and numbered along the data's first principal direction,
        :mod:`~skillinfer_bayes.inference.relabel`). A new entity's observed scores
        then also tell which cluster it is likely in (:meth:`Profile.component_probabilities
        <skillinfer_bayes.predictive.profile.Profile.component_probabilities>`).
        ``"auto"`` fits 1, 2, ... components and moves to one more component only while
        its PSIS-LOO elpd beats the current number's by more than two standard errors of
        their paired difference (so a small population, whose LOO cannot tell, keeps one
        component; at most ``MAX_AUTO_COMPONENTS``); the comparison is
        ``pop.component_selection`` and ``print(pop)`` reports it. Not with ``groups`` or
        ``covariance="factor"`` yet.
    shared_covariance : bool, default False
        With ``components``: one covariance for all components (they differ by their
        means only) instead of one each.

    Examples
    --------
    >>> ModelSpec(components=3).to_dict()["components"]
    3
    >>> ModelSpec(covariance="factor", n_factors="auto").n_factors
    'auto'
    >>> ModelSpec(covariance="ledoit-wolf").covariance  # skillinfer's name of the dense model
    'lkj'
    """

    prior: Prior = field(default_factory=Prior)
    transform: Any = DEFAULT_TRANSFORM
    bounds: Any = DEFAULT_BOUNDS
    covariates: Any = None
    groups: str | None = None
    normalize: bool = True
    covariance: str = "lkj"
    n_factors: int | str | None = None
    components: int | str = 1
    shared_covariance: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.prior, Prior):
            raise TypeError(
                f"prior must be a skillinfer_bayes.Prior, got {type(self.prior).__name__}."
            )
        if isinstance(self.transform, Mapping):
            object.__setattr__(self, "transform", {str(k): v for k, v in
                                                   self.transform.items()})
        object.__setattr__(self, "bounds", _canonical_bounds(self.bounds))
        object.__setattr__(self, "covariates", _canonical_covariates(self.covariates))
        if self.groups is not None and not isinstance(self.groups, str):
            raise TypeError(
                f"A specification's groups is a column name; got {type(self.groups).__name__}"
                ". Pass labels as data: Population.from_dataframe(df, groups=labels)."
            )
        object.__setattr__(self, "normalize", bool(self.normalize))
        if isinstance(self.covariance, str) and self.covariance in SKILLINFER_COVARIANCES:
            object.__setattr__(self, "covariance", SKILLINFER_COVARIANCES[self.covariance])
        if self.covariance not in COVARIANCES:
            raise ValueError(
                f"Unknown covariance {self.covariance!r}; choose one of {list(COVARIANCES)} "
                f"(or skillinfer's {' and '.join(repr(k) for k in SKILLINFER_COVARIANCES)}, "
                "which mean 'lkj' here)."
            )
        if self.covariance == "factor":
            n = self.n_factors
            if not _is_auto(n):
                if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                    raise ValueError(
                        f"covariance='factor' needs n_factors, a positive integer (e.g. 2) or "
                        f"'auto' (chosen by PSIS-LOO); got {n!r}."
                    )
                object.__setattr__(self, "n_factors", int(n))
        elif self.n_factors is not None:
            raise ValueError(
                f"n_factors={self.n_factors!r} is for covariance='factor'; the "
                f"{self.covariance!r} covariance has none."
            )
        C = self.components
        if not _is_auto(C):
            if isinstance(C, bool) or not isinstance(C, (int, np.integer)) or C < 1:
                raise ValueError(
                    f"components must be a positive integer (1: one multivariate normal; 2 or "
                    f"more: a mixture) or 'auto' (chosen by PSIS-LOO); got {C!r}."
                )
            C = int(C)
            object.__setattr__(self, "components", C)
        if _is_auto(C) and _is_auto(self.n_factors):
            raise ValueError("Choose n_factors or components by PSIS-LOO, not both at once; "
                             "give one of them as a number.")
        if C != 1 and self.covariance != "lkj":
            raise ValueError(
                f"components={C} needs covariance='lkj': mixtures of "
                f"{self.covariance!r} covariances are not supported yet."
            )
        if self.shared_covariance and C == 1:
            raise ValueError(
                "shared_covariance=True is for mixtures (components >= 2); with one "
                "component there is one covariance anyway."
            )
        object.__setattr__(self, "shared_covariance", bool(self.shared_covariance))

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def auto_field(self) -> str | None:
        """``"n_factors"`` or ``"components"`` when that number is ``"auto"`` (chosen by
        PSIS-LOO at fit time), else ``None``."""
        if _is_auto(self.n_factors):
            return "n_factors"
        return "components" if _is_auto(self.components) else None

    def to_dict(self) -> dict:
        """The specification as a plain JSON-serialisable dict (every field; the prior as
        its ``to_dict``; pairs as lists)."""
        spec = {f.name: _listed(getattr(self, f.name)) for f in fields(self)}
        spec["prior"] = self.prior.to_dict()
        return spec

    @classmethod
    def from_dict(cls, data: Mapping) -> ModelSpec:
        """Rebuild a specification from :meth:`to_dict` output; unknown keys are an error."""
        values = check_fields(cls, data)
        if "prior" in values and not isinstance(values["prior"], Prior):
            values["prior"] = Prior.from_dict(values["prior"])
        return cls(**values)


def spec_from_keywords(spec: ModelSpec | None, prior: Prior | None = None,
                       **keywords) -> ModelSpec:
    """The specification of a call that takes ``spec=`` beside the model keywords of
    ``Population.from_dataframe``: ``spec`` itself (then every keyword must keep its
    default), or the one the keywords build.

    Examples
    --------
    >>> spec_from_keywords(None, components=2).components
    2
    >>> spec_from_keywords(ModelSpec(), transform=None)
    Traceback (most recent call last):
    ...
    ValueError: Give the model either as spec= or as keywords, not both: transform=None ...
    """
    if spec is None:
        return ModelSpec(prior=Prior() if prior is None else prior, **keywords)
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec must be a skillinfer_bayes.ModelSpec, got "
                        f"{type(spec).__name__}.")
    defaults = {f.name: f.default for f in fields(ModelSpec) if f.name != "prior"}
    given = [f"{name}={value!r}" for name, value in keywords.items()
             if not (value is None and defaults[name] is None)
             and (isinstance(value, (Mapping, list, tuple)) or value != defaults[name])]
    if prior is not None:
        given.insert(0, f"prior={prior!r}")
    if given:
        raise ValueError(
            f"Give the model either as spec= or as keywords, not both: {', '.join(given)} "
            "beside spec. Put them in the spec: dataclasses.replace(spec, ...)."
        )
    return spec
