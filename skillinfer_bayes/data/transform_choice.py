"""Which transform and bounds each column gets: ``transform="auto"``, ``bounds="auto"``, the
kind of scale of a column, and :func:`resolve_transforms`, which turns a table's
``transform=`` / ``bounds=`` arguments into one fitted transform per column
(:mod:`~skillinfer_bayes.data.transforms` holds the transforms themselves).

Examples
--------
>>> auto_bounds([3.0, 55.0, 97.5])
(0.0, 100.0)
>>> auto_transform(np.linspace(1.0, 99.0, 60), (0.0, 100.0))
'copula'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import shapiro

from skillinfer_bayes.data.transforms import (
    TRANSFORMS,
    Copula,
    Identity,
    Log,
    Logit,
    Transform,
    bounds_inferred,
)

#: From this many observed values on, ``transform="auto"`` always estimates a copula.
MIN_AUTO_COPULA_VALUES = 50
#: From this many observed values on (and below :data:`MIN_AUTO_COPULA_VALUES`),
#: ``transform="auto"`` estimates a copula of a bounded benchmark when its scores are
#: detectably not normal on the logit scale: Shapiro-Wilk's test rejects at
#: :data:`AUTO_NORMALITY_LEVEL`. Measured (README, ``benchmarks/default_transform.py``): on
#: the fixed protocol's 20-model variant the copula's CRPS is 5.25 / 4.38 against the logit's
#: 5.36 / 4.54 (the leaderboard's skewed benchmarks) and this rule's 5.30 / 4.44, while on
#: Gaussian populations of 20 models the copula's 90% intervals cover 0.863 of held-out cells
#: (a plug-in marginal from 20 scores has too light tails) and this rule's 0.883. Below 20
#: scores the copula's held-out log density loses to the logit's on every leaderboard
#: benchmark (by 0.2 to 0.9 nats per score at 10, ``benchmarks/transform_threshold.py``). An
#: unbounded benchmark keeps the normal below 50 scores: on the simulated sparse table of
#: ``benchmarks/wide_tables.py`` (Gaussian scores, about 28 per benchmark) the copula's 90%
#: intervals covered 0.82 of held-out cells, the normal's 0.85 (issue 31's figures).
MIN_AUTO_COPULA_TESTED = 20
#: The level of the normality test of :data:`MIN_AUTO_COPULA_TESTED`.
AUTO_NORMALITY_LEVEL = 0.05

#: The default transform of every benchmark (and of those a per-benchmark dict leaves out):
#: ``"auto"`` (:func:`auto_transform`), the copula where a benchmark has enough scores to
#: estimate it (the fixed protocol's held-out scores favour it: CRPS 4.73 / 3.88 with one /
#: two observed benchmarks against 5.04 / 4.22 for the normal on the scores and 4.91 / 4.11 for
#: the logit), else the logit of a bounded benchmark, else the normal on the scores.
DEFAULT_TRANSFORM: str | None = "auto"
#: The default bounds: :func:`auto_bounds` per benchmark.
DEFAULT_BOUNDS = "auto"
#: The bounds ``bounds="auto"`` tries, in this order: proportions, then percentages.
AUTO_BOUNDS = ((0.0, 1.0), (0.0, 100.0))
#: The least share of the bounds' range the observed values must span for ``"auto"`` to pick
#: them.
AUTO_MIN_SPREAD = 0.01


def auto_bounds(values) -> tuple[float, float] | None:
    """The bounds ``bounds="auto"`` gives a column: the first of :data:`AUTO_BOUNDS` that holds
    every observed value (``(0, 1)`` for proportions, ``(0, 100)`` for percentages) while the
    values spread over at least :data:`AUTO_MIN_SPREAD` of it, else ``None`` (unbounded, e.g.
    an Elo-like rating, a difference, or numbers on another scale altogether).

    Examples
    --------
    >>> auto_bounds([0.2, 0.9, np.nan]), auto_bounds([3.0, 97.5]), auto_bounds([1100.0, 1350.0])
    ((0.0, 1.0), (0.0, 100.0), None)
    >>> auto_bounds([2e-9, 3e-9, 5e-9]) is None  # not proportions: a scale of its own
    True
    """
    kind = scale_kind(values)  # the narrowest range that holds them: a wider one asks more
    if kind is None:
        return None
    values = np.asarray(values, dtype=float)
    spread = np.ptp(values[~np.isnan(values)])
    return kind if spread >= AUTO_MIN_SPREAD * (kind[1] - kind[0]) else None


def scale_kind(values) -> tuple[float, float] | None:
    """Which common scale a column's scores are on: the first of :data:`AUTO_BOUNDS` that holds
    every observed value (proportions, then percentages), else ``None`` (a scale of its own:
    Elo ratings, dollars, differences). Columns of one kind are compared with each other
    (default noise, a sparse column's prior scale); unlike :func:`auto_bounds`, one value is
    enough.

    Examples
    --------
    >>> scale_kind([0.5]), scale_kind([3.0, np.nan, 97.5]), scale_kind([1210.0])
    ((0.0, 1.0), (0.0, 100.0), None)
    """
    values = np.asarray(values, dtype=float)
    observed = values[~np.isnan(values)]
    if not len(observed):
        return None
    for lower, upper in AUTO_BOUNDS:
        if lower <= observed.min() and observed.max() <= upper:
            return lower, upper
    return None


def auto_transform(values, bounds: tuple[float, float] | None) -> str:
    """The transform ``transform="auto"`` gives a column: ``"copula"`` with at least
    :data:`MIN_AUTO_COPULA_VALUES` observed values, or, with bounds, at least
    :data:`MIN_AUTO_COPULA_TESTED` that are detectably not normal on the logit scale
    (Shapiro-Wilk at :data:`AUTO_NORMALITY_LEVEL`); else ``"logit"`` when the column has
    bounds, else ``"identity"`` (the normal on the scores).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> auto_transform(rng.uniform(0, 100, 200), (0.0, 100.0))
    'copula'
    >>> auto_transform(rng.normal(50.0, 10.0, 30), (0.0, 100.0))  # normal enough: its logit
    'logit'
    >>> two = np.concatenate([rng.normal(12, 3, 15), rng.normal(70, 5, 15)])  # two clusters
    >>> auto_transform(two, (0.0, 100.0))
    'copula'
    >>> auto_transform([12.0, 40.5, np.nan], (0.0, 100.0)), auto_transform([1210.0, 1302.0], None)
    ('logit', 'identity')
    """
    values = np.asarray(values, dtype=float)
    observed = values[~np.isnan(values)]
    if np.ptp(observed) > 0 and len(observed) >= MIN_AUTO_COPULA_VALUES:
        return "copula"
    if bounds is not None and np.ptp(observed) > 0 and len(observed) >= MIN_AUTO_COPULA_TESTED:
        if shapiro(Logit(*bounds).forward(observed)).pvalue < AUTO_NORMALITY_LEVEL:
            return "copula"
    return "identity" if bounds is None else "logit"


def resolve_transforms(
    transform: str | None | Mapping,
    bounds: tuple[float, float] | Mapping | None,
    matrix: pd.DataFrame,
    scaling: pd.DataFrame | None = None,
    what: str = "benchmark",
) -> tuple[Transform, ...]:
    """Fitted transforms of a table's benchmarks, from the user's specification.

    Parameters
    ----------
    transform : None, str or mapping
        ``None`` or ``"identity"``, ``"logit"``, ``"log"``, ``"copula"`` or ``"auto"``
        (:func:`auto_transform`, chosen per column) for every benchmark, or
        ``{benchmark: transform}`` (benchmarks left out get :data:`DEFAULT_TRANSFORM`).
    bounds : (lower, upper), "auto", mapping or None
        Known bounds of the scores on the table's own scale: one pair for all benchmarks,
        ``"auto"`` (:func:`auto_bounds`: ``(0, 1)`` or ``(0, 100)`` when every observed value
        lies inside, else none), ``None`` (no bounds) or ``{benchmark: (lower, upper), "auto"
        or None}`` (benchmarks left out get :data:`DEFAULT_BOUNDS`).
    matrix : pandas.DataFrame
        The validated scores on the table's own scale (before ``normalize``).
    scaling : pandas.DataFrame, optional
        With ``normalize``, each benchmark's ``min`` and ``range``: the transforms are fitted
        to the normalized scores and the bounds are normalized alike.
    what : str
        What the columns are, in error messages ("benchmark" or "covariate").

    Returns
    -------
    tuple
        One transform per benchmark, for the scores on the fitted scale.

    Raises
    ------
    ValueError
        An unknown transform name or benchmark, bounds that are not ``(lower, upper)``, a score
        outside its bounds, a logit without bounds, a log of a non-positive score.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1.0, 50.0, 99.0, 20.0, 35.0, 60.0], "b": [3.0, 1, 2, 5, 4, 6]})
    >>> [t.name for t in resolve_transforms({"a": "logit"}, {"a": (0, 100)}, df)]
    ['logit', 'logit']
    >>> [t.name for t in resolve_transforms({"b": "copula"}, None, df)]
    ['identity', 'copula']
    >>> resolve_transforms("logit", None, df)
    Traceback (most recent call last):
    ...
    ValueError: transform 'logit' of benchmark 'a' needs its bounds: bounds=(lower, upper) ...
    """
    names = [str(c) for c in matrix.columns]
    kinds = _per_benchmark("transform", transform, names, DEFAULT_TRANSFORM)
    limits = _per_benchmark("bounds", bounds, names, DEFAULT_BOUNDS, pair=True)
    fitted = []
    for k, name in enumerate(names):
        kind = "identity" if kinds[k] is None else kinds[k]
        if not isinstance(kind, str) or kind not in TRANSFORMS:
            raise ValueError(
                f"Unknown transform {kind!r} for {what} {name!r}; choose one of "
                f"{[None, *TRANSFORMS[1:]]} (None: the identity; 'auto': chosen per "
                f"{what} from its scores)."
            )
        values = matrix.iloc[:, k].to_numpy(dtype=float)
        limit = limits[k]
        inferred = isinstance(limit, str) and limit == "auto"
        if inferred:  # one score, or equal ones, cannot show a spread: where they lie will do
            observed = values[~np.isnan(values)]
            limit = auto_bounds(values) if np.ptp(observed) > 0 else scale_kind(values)
            inferred = limit is not None
        elif limit is not None:
            lower, upper = _check_bounds(name, limit)
            observed = values[~np.isnan(values)]
            below, above = observed < lower, observed > upper
            if below.any() or above.any():
                bad = observed[below][0] if below.any() else observed[above][0]
                side = f"lower bound {lower:g}" if below.any() else f"upper bound {upper:g}"
                raise ValueError(
                    f"{what.capitalize()} {name!r} has a value {bad:g} beyond its {side}: fix "
                    f"the score or the bounds (given as bounds={limit!r})."
                )
            limit = (lower, upper)
        if kind == "auto":
            kind = auto_transform(values, limit)
        if scaling is not None:
            lo, span = float(scaling["min"].iloc[k]), float(scaling["range"].iloc[k])
            values = (values - lo) / span
            limit = None if limit is None else ((limit[0] - lo) / span, (limit[1] - lo) / span)
        if kind == "identity":
            fitted.append(Identity())
        elif kind == "log":
            observed = values[~np.isnan(values)]
            if (observed <= 0).any():
                raise ValueError(
                    f"transform 'log' of {what} {name!r} needs positive values; it has "
                    f"{observed[observed <= 0][0]:g} (on the fitted scale"
                    f"{', after normalize' if scaling is not None else ''})."
                )
            fitted.append(Log())
        elif kind == "logit":
            if limit is None and what == "covariate":
                raise ValueError(
                    f"covariate {name!r} cannot take the 'logit' (covariates have no bounds); "
                    "choose None, 'log' or 'copula'."
                )
            if limit is None:
                raise ValueError(
                    f"transform 'logit' of {what} {name!r} needs its bounds: "
                    f"bounds=(lower, upper) or {{{name!r}: (lower, upper)}}."
                )
            fitted.append(Logit(*limit, inferred=inferred))
        else:
            try:
                fitted.append(Copula.fit(values, bounds=limit, inferred=inferred))
            except ValueError as err:
                raise ValueError(
                    f"{what.capitalize()} {name!r}: {err} Choose another transform for it, "
                    f"e.g. transform={{{name!r}: None}}."
                ) from None
    return tuple(fitted)


def _per_benchmark(what: str, spec, names: list[str], default, pair: bool = False) -> list:
    """One value per benchmark from a single value or a ``{benchmark: value}`` mapping."""
    if isinstance(spec, Mapping):
        unknown = [key for key in spec if str(key) not in names]
        if unknown:
            raise ValueError(f"{what} names unknown benchmark(s) {unknown}; benchmarks: "
                             f"{names}.")
        by_name = {str(key): value for key, value in spec.items()}
        return [by_name.get(name, default) for name in names]
    if pair and spec is not None and not isinstance(spec, (str, tuple, list)):
        raise ValueError(f"{what} must be (lower, upper), 'auto', None or a dict by benchmark; "
                         f"got {spec!r}.")
    return [spec] * len(names)


def _check_bounds(name: str, limit) -> tuple[float, float]:
    """``(lower, upper)`` as floats, lower < upper, both finite."""
    try:
        lower, upper = (float(v) for v in limit)
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds of benchmark {name!r} must be (lower, upper), 'auto' or None; got "
            f"{limit!r}."
        ) from None
    if not (np.isfinite(lower) and np.isfinite(upper) and lower < upper):
        raise ValueError(
            f"bounds of benchmark {name!r} must be finite with lower < upper; got {limit!r}."
        )
    return lower, upper


def transform_arguments(names: Sequence[str], transforms: Sequence[Transform],
                        pin_inferred: bool = False) -> tuple[dict, dict]:
    """The ``transform=`` and ``bounds=`` arguments that refit these fitted transforms: each
    column's kind (``None`` for the identity) and bounds (``None`` where unbounded). Bounds
    inferred from the scores stay ``"auto"`` (inferred again from the refit's scores), or are
    given as the pair itself with ``pin_inferred``.

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Identity, Logit
    >>> transform_arguments(["a", "b"], [Logit(0.0, 100.0, inferred=True), Identity()])
    ({'a': 'logit', 'b': None}, {'a': 'auto', 'b': None})
    >>> transform_arguments(["a"], [Logit(0.0, 100.0, inferred=True)], pin_inferred=True)[1]
    {'a': (0.0, 100.0)}
    """
    kinds, bounds = {}, {}
    for name, transform in zip(names, transforms):
        kinds[name] = None if transform.name == "identity" else transform.name
        if bounds_inferred(transform) and not pin_inferred:
            bounds[name] = "auto"
        else:
            finite = np.isfinite(transform.bounds).all()
            bounds[name] = tuple(float(b) for b in transform.bounds) if finite else None
    return kinds, bounds
