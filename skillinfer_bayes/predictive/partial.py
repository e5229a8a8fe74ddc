"""Partial evaluations: a score measured on ``n`` of a benchmark's items, and several such runs
of one benchmark combined (``Profile.observe(benchmark, score, n_items=n)``).

What is assumed:

- the benchmark's score is the share of its items passed, on its bounds ``[lower, upper]``
  (0-1 or 0-100), and a partial run's ``n`` items are a random sample of them; its score then
  differs from the full benchmark's by binomial sampling: variance ``p (1 - p) / n`` on the
  0-1 scale, ``(upper - lower)^2 p (1 - p) / n`` on the score's (no finite-population
  correction: ``n`` is taken to be small next to the benchmark's size);
- ``p`` is the observed share, kept at least ``0.5 / n`` from 0 and 1 (a run that passed every
  item, or none, still has sampling noise: the continuity correction of half an item);
- this variance adds to the observation noise of a full run (the profile's noise of that
  benchmark); it enters the latent scale through the transform's slope at the observed score
  (the delta method where the run landed: :func:`latent_binomial_variance`), so a run far
  from the median keeps its own precision on the score scale;
- several partial runs of one benchmark are items pooled: their scores combine as the
  item-weighted mean, with the items added (``n = n_1 + n_2``); an observation without
  ``n_items`` replaces them.

Examples
--------
>>> from skillinfer_bayes.data.transforms import Logit
>>> sd = np.sqrt(binomial_variance(Logit(0.0, 100.0), 40.0, 200))  # 100 sqrt(0.4 0.6 / 200)
>>> round(float(sd), 3)
3.464
>>> pool_runs((40.0, 200), 50.0, 50)  # 200 items at 40% and 50 at 50%
(42.0, 250)
"""

from __future__ import annotations

import math

import numpy as np


def check_n_items(name: str, n_items, transform) -> int:
    """``n_items`` of a partial run: an integer >= 1 on a benchmark with finite bounds.

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Identity
    >>> check_n_items("Elo", 10, Identity())
    Traceback (most recent call last):
    ...
    ValueError: n_items needs a benchmark with finite bounds (a share of items passed); Elo ...
    """
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items must be a whole number of items, at least 1; got "
                         f"{n_items!r}.")
    lower, upper = transform.bounds
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise ValueError(
            f"n_items needs a benchmark with finite bounds (a share of items passed); {name} "
            f"has bounds [{lower:g}, {upper:g}] (transform {transform.name!r}). Give its "
            "observation noise with pop.profile(noise={...}) instead, or fit with its bounds."
        )
    return int(n_items)


def binomial_variance(transform, value: float, n_items: int) -> float:
    """The score-scale variance of a score measured on ``n_items`` items (the module
    docstring's assumptions).

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Logit
    >>> binomial_variance(Logit(0.0, 1.0), 1.0, 10)  # all passed: p = 1 - 0.5 / 10
    0.00475
    """
    lower, upper = transform.bounds
    p = (float(value) - lower) / (upper - lower)
    edge = 0.5 / n_items
    p = min(max(p, edge), 1.0 - edge)
    return round((upper - lower) ** 2 * p * (1.0 - p) / n_items, 15)


def latent_binomial_variance(transform, value: float, n_items: int) -> float:
    """:func:`binomial_variance` on the latent scale: times the squared slope of the
    transform at the observed score.

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Identity
    >>> latent_binomial_variance(Identity(), 0.0, 10)  # unbounded: no items to count
    Traceback (most recent call last):
    ...
    ValueError: n_items needs a benchmark with finite bounds (a share of items passed); the ...
    """
    check_n_items("the benchmark", n_items, transform)
    slope = float(np.exp(transform.log_jacobian(float(value))))
    return binomial_variance(transform, value, n_items) * slope**2


def pool_runs(previous: tuple[float, int] | None, value: float,
              n_items: int) -> tuple[float, int]:
    """The score and item count of a benchmark's partial runs pooled: the item-weighted mean
    of their scores, and the sum of their items (``previous`` = the runs so far, or None).

    Examples
    --------
    >>> pool_runs(None, 40.0, 200)
    (40.0, 200)
    """
    if previous is None:
        return float(value), int(n_items)
    score, items = previous
    total = items + n_items
    return (score * items + float(value) * n_items) / total, total
