"""The checks every observed value passes (a score, a covariate, a prior mean): inside the
benchmark's bounds, and inside the population's observed range, or a warning that says how
far out it lies.

Examples
--------
>>> from skillinfer_bayes.data.transforms import Logit
>>> value_within_bounds("a", Logit(0.0, 100.0, inferred=True), 101.0)
100.0
"""

from __future__ import annotations

import warnings

import numpy as np

from skillinfer_bayes.data.checks import OutOfBoundsWarning, OutOfRangeWarning
from skillinfer_bayes.data.transforms import bounds_inferred
from skillinfer_bayes.predictive.description import PopulationDescription

#: Beyond the population's [min, max] by more than this fraction of the range, an observation's
#: :class:`OutOfRangeWarning` also asks to check its scale.
RANGE_TOLERANCE = 0.25


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


def warn_out_of_population(name: str, transform, value: float, score_range: tuple[float, float],
                           latent_sd: float, label: str = "Observed",
                           stacklevel: int = 4) -> None:
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
    warnings.warn(message, OutOfRangeWarning, stacklevel=stacklevel)


def bounded_input(description: PopulationDescription, j: int, value: float,
                  what: str = "Observed") -> float:
    """:func:`value_within_bounds` for latent dimension ``j`` of a population (its transform,
    and its ``normalize`` scaling for the error's advice).

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
    >>> bounded_input(pop.description, 1, 1.5)
    1.5
    """
    data = description.data
    scaling = None
    if data.normalized and j < len(data.benchmarks):
        scaling = tuple(float(v) for v in data.scaling.iloc[j][["min", "range"]])
    return value_within_bounds(data.latent_names[j], data.transforms[j], value, scaling,
                               what=what)


def warn_about_input(description: PopulationDescription, j: int, value: float, inside: float,
                     label: str = "Observed") -> None:
    """The warning a value of latent dimension ``j`` earns, once :func:`bounded_input` made it
    ``inside``: beyond an inferred bound (:func:`warn_beyond_bound`), else beyond the
    population's observed range (:func:`warn_out_of_population`), else none.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
    >>> warn_about_input(pop.description, 1, 1.5, 1.5)  # inside the range: no warning
    """
    name, transform = description.latent_names[j], description.data.transforms[j]
    if inside != value:
        warn_beyond_bound(f"{label} {name}", name, transform, value, stacklevel=5)
    else:
        warn_out_of_population(name, transform, value, tuple(description.score_range[:, j]),
                               float(description.latent_scale[j]), label=label, stacklevel=5)
