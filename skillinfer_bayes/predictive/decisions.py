"""Decisions from the predictive: will a model clear a bar, and which of several is best.

- :meth:`Profile.probability <ProfileProbabilities.probability>` gives ``P(score > t)``,
  ``P(score < t)`` or ``P(a < score < b)`` for one benchmark, exactly: the predictive CDF on the
  score scale is the latent mixture's CDF through the benchmark's transform, ``F(y) =
  F_Z(g(y))`` (:func:`~skillinfer_bayes.predictive.marginals.score_cdf`), averaged over every
  posterior draw and mixture component. No Monte Carlo error.
- :func:`compare` ranks several profiles of one population on a benchmark or a task (a weighted
  combination of benchmarks). Two models' predictions share the population's parameter
  uncertainty, so they are compared draw by draw: every profile's predictive draw ``r`` is drawn
  given the same posterior draw (:func:`~skillinfer_bayes.predictive.composites.
  predictive_score_draws`), and ``P(best)``, the ranks and ``P(A > B)`` are shares of those joint
  draws. Their Monte Carlo error is at most ``0.5 / sqrt(R)`` with R >= 4,000 draws (0.008; less
  for probabilities near 0 or 1), more when the posterior draws are autocorrelated; the seed makes
  a call reproducible. An observed benchmark counts with its observation noise: its draws are
  those of the true score given the noisy observation.

Examples
--------
>>> import skillinfer_bayes as sib
>>> pop = sib.Population.from_covariance([[1.0, 0.8], [0.8, 1.0]], ["a", "b"], [0.0, 0.0])
>>> strong = pop.profile(noise=0.1).observe("a", 1.0)
>>> round(strong.probability("b", above=0.0), 3)  # N(0.79, 0.60^2) above 0
0.905
>>> result = compare({"strong": strong, "weak": pop.profile(noise=0.1).observe("a", -1.0)}, "b")
>>> columns = ["expected_score", "p_best", "expected_rank"]
>>> result.table[columns].round(2)  # doctest: +NORMALIZE_WHITESPACE
        expected_score  p_best  expected_rank
agent
strong            0.79    0.97           1.03
weak             -0.79    0.03           1.97
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_level, resolve_benchmark
from skillinfer_bayes.predictive.composites import (
    check_same_fit,
    predictive_score_draws,
    task_weights,
)
from skillinfer_bayes.predictive.marginals import score_cdf
from skillinfer_bayes.predictive.mixture import mixture_quantile
from skillinfer_bayes.predictive.types import ProfileLike, Task

#: The columns of :attr:`Comparison.table`.
COMPARISON_COLUMNS = ["expected_score", "std", "lower", "upper", "p_best", "expected_rank",
                      "rank_lower", "rank_upper"]


def check_threshold(name: str, value, transform, label: str) -> float | None:
    """A threshold of :meth:`ProfileProbabilities.probability`: a finite number inside the
    benchmark's bounds (None: not given)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{label}= must be a number; got {value!r}.")
    value = float(value)
    lower, upper = transform.bounds
    if not math.isfinite(value) or not lower <= value <= upper:
        raise ValueError(
            f"{label}={value:g} lies outside {name}'s scores [{lower:g}, {upper:g}] (the bounds "
            f"of its transform {transform.name!r}): every score is "
            f"{'below' if value > upper else 'above'} it by the model. Give a threshold inside "
            "the bounds."
        )
    return value


class ProfileProbabilities:
    """:meth:`probability` and :meth:`interval`, exact from the predictive CDF and quantiles; a
    mixin of :class:`~skillinfer_bayes.predictive.profile.Profile`."""

    def interval(self: ProfileLike, benchmark: str | int,
                 level: float = 0.9) -> tuple[float, float]:
        """Central predictive interval of one benchmark, from the exact mixture quantiles.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[1.0]], ["a"], [0.0])
        >>> [round(v, 3) for v in pop.profile().interval("a", level=0.9)]
        [-1.645, 1.645]
        """
        level = check_level(level)
        j = resolve_benchmark(benchmark, self.latent_names)
        means, variances, weights = self.conditional_moments()
        lo, hi = self.transforms[j].inverse(mixture_quantile(
            np.array([(1 - level) / 2, (1 + level) / 2]), means[j], np.sqrt(variances[j]),
            weights=weights,
        ))
        return float(lo), float(hi)

    def probability(self: ProfileLike, benchmark: str | int, above: float | None = None,
                    below: float | None = None) -> float:
        """The predictive probability that a benchmark's score lies above ``above``, below
        ``below``, or between them (given both), computed exactly from the predictive CDF on
        the score scale (no Monte Carlo error).

        Parameters
        ----------
        benchmark : str or int
            A benchmark (or a covariate) of the population.
        above, below : float, optional
            Thresholds on the score scale, inside the benchmark's bounds; at least one.

        Returns
        -------
        float
            ``P(score > above)``, ``P(score < below)`` or ``P(above < score < below)``. For an
            observed benchmark: that of its true score given the noisy observation.

        Raises
        ------
        ValueError
            No threshold, a threshold outside the benchmark's bounds, or ``above >= below``.

        Examples
        --------
        >>> import skillinfer_bayes as sib
        >>> pop = sib.Population.from_covariance([[1.0, 0.8], [0.8, 1.0]], ["a", "b"], [0, 0])
        >>> p = pop.profile(noise=0.0).observe("a", 1.0)  # then b ~ N(0.8, 0.6^2)
        >>> round(p.probability("b", above=0.8), 3), round(p.probability("b", 0.2, 1.4), 3)
        (0.5, 0.683)
        """
        j = resolve_benchmark(benchmark, self.latent_names)
        name, transform = self.latent_names[j], self.transforms[j]
        above = check_threshold(name, above, transform, "above")
        below = check_threshold(name, below, transform, "below")
        if above is None and below is None:
            raise ValueError(f"probability({name!r}) needs a threshold: above=, below= or both.")
        if above is not None and below is not None and not above < below:
            raise ValueError(f"above={above:g} must be below below={below:g}: the probability "
                             "of a score between them.")
        means, variances, weights = self.conditional_moments()  # cached per observation
        means, sds = means[j], np.sqrt(variances[j])
        upper = 1.0 if below is None else float(score_cdf(transform, below, means, sds,
                                                           weights))
        lower = 0.0 if above is None else float(score_cdf(transform, above, means, sds,
                                                           weights))
        return float(min(max(upper - lower, 0.0), 1.0))


@dataclass(frozen=True, repr=False)
class Comparison:
    """What :func:`compare` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by ``agent``, highest expected score first: ``expected_score``, ``std``, the
        central ``level`` interval ``lower`` / ``upper``, ``p_best`` (the probability that the
        agent's score is the highest), ``expected_rank`` (1 = best) and the rank interval
        ``rank_lower`` / ``rank_upper`` (central ``level`` quantiles of its rank).
    pairwise : pandas.DataFrame
        ``P(row > column)`` for every pair of agents (NaN on the diagonal), in the order of
        ``table``.
    target : str
        The benchmark, or ``"task"`` for a weighted combination.
    level : float
        The probability of the intervals.
    n_draws : int
        The joint predictive draws behind the figures.
    """

    table: pd.DataFrame
    pairwise: pd.DataFrame
    target: str
    level: float
    n_draws: int

    def __repr__(self) -> str:
        return (f"Comparison of {len(self.table)} agents on {self.target!r} "
                f"({self.n_draws} joint draws, {self.level:.0%} intervals)\n"
                f"{self.table.round(3).to_string()}")


def target_weights(target, benchmark_names: Sequence[str]) -> tuple[np.ndarray, str]:
    """The (K,) weights of a :func:`compare` target and its label: a benchmark (its name or
    position) weighs 1, a task is :func:`~skillinfer_bayes.predictive.composites.task_weights`.

    Examples
    --------
    >>> target_weights("b", ["a", "b"])
    (array([0., 1.]), 'b')
    """
    names = list(benchmark_names)
    if isinstance(target, (str, np.str_)) or (isinstance(target, (int, np.integer))
                                               and not isinstance(target, bool)):
        try:
            j = resolve_benchmark(target, names)
        except (KeyError, IndexError):
            raise KeyError(f"Unknown target {target!r}: give a benchmark of the population "
                           f"({names}) or a task {{benchmark: weight}}.") from None
        weights = np.zeros(len(names))
        weights[j] = 1.0
        return weights, names[j]
    if isinstance(target, (Task, Mapping, Sequence, np.ndarray)):
        return task_weights(target, names), "task"
    raise TypeError(f"target must be a benchmark or a task {{benchmark: weight}}; got "
                    f"{target!r}.")


def compare(profiles: Mapping[str, ProfileLike], target, level: float = 0.9, *,
            random_seed: int | None = 0) -> Comparison:
    """Compare several models (profiles of one population) on a benchmark or a task.

    Every figure comes from joint predictive draws that share each posterior draw across the
    profiles (the module docstring): the scores of two models are compared draw by draw, so the
    population's own uncertainty, which moves both, does not count as a difference between them.

    Parameters
    ----------
    profiles : dict
        ``{agent: Profile}``, all made with the same population (at least one).
    target : str, int, Task, dict or array-like
        A benchmark, or a task: weights by benchmark, divided by ``sum |w|`` as in
        :func:`~skillinfer_bayes.predictive.composites.task_weights`.
    level : float, default 0.9
        Probability of the score and rank intervals.
    random_seed : int or None, default 0
        Seed of the predictive draws: the same call gives the same table.

    Returns
    -------
    Comparison
        ``.table`` (expected score, sd, interval, ``p_best``, expected rank and rank interval
        per agent) and ``.pairwise`` (``P(row > column)``).

    Raises
    ------
    ValueError
        No profiles, profiles of different populations, or a bad level.
    KeyError
        An unknown target benchmark.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[1.0, 0.5], [0.5, 1.0]], ["a", "b"], [0.0, 0.0])
    >>> twins = {"x": pop.profile().observe("a", 1.0), "y": pop.profile().observe("a", 1.0)}
    >>> round(float(compare(twins, "b").pairwise.loc["x", "y"]), 2)  # identical: a coin flip
    0.5
    """
    if not isinstance(profiles, Mapping) or not profiles:
        raise ValueError("compare needs a dict {agent: Profile} of at least one profile; got "
                         f"{profiles!r}.")
    level = check_level(level)
    names = [str(name) for name in profiles]
    if len(set(names)) != len(names):
        raise ValueError(f"The agents' names must differ as strings; got {list(profiles)}.")
    check_same_fit(profiles)
    first = next(iter(profiles.values()))
    weights, label = target_weights(target, first.benchmark_names)
    draws = predictive_score_draws(list(profiles.values()), random_seed=random_seed)
    scores = draws @ weights  # (E, R)
    # rank 1 = the highest score in that joint draw
    ranks = 1 + (scores[None, :, :] > scores[:, None, :]).sum(axis=1)
    tails = [(1 - level) / 2, (1 + level) / 2]
    lower, upper = np.quantile(scores, tails, axis=1)
    rank_lower, rank_upper = np.quantile(ranks, tails, axis=1, method="inverted_cdf")
    table = pd.DataFrame(
        {"expected_score": scores.mean(axis=1), "std": scores.std(axis=1), "lower": lower,
         "upper": upper, "p_best": (ranks == 1).mean(axis=1),
         "expected_rank": ranks.mean(axis=1), "rank_lower": rank_lower.astype(int),
         "rank_upper": rank_upper.astype(int)},
        index=pd.Index(names, name="agent"),
    )
    pairwise = (scores[:, None, :] > scores[None, :, :]).mean(axis=2)
    np.fill_diagonal(pairwise, np.nan)
    pairwise = pd.DataFrame(pairwise, index=table.index, columns=table.index)
    order = np.argsort(-table["expected_score"].to_numpy(), kind="stable")
    table = table.iloc[order]
    pairwise = pairwise.iloc[order, order]
    return Comparison(table=table, pairwise=pairwise, target=label, level=level,
                      n_draws=scores.shape[1])
