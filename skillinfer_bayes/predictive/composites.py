"""Composite scores ``w . y`` of one or several profiles, from posterior predictive draws.

skillinfer scores an entity against a task (a weighted combination of benchmarks) with the
Gaussian ``N(w' mu, w' Sigma w)`` of its plug-in posterior. Here the composite is computed from
**joint posterior predictive draws** of the scores (:func:`predictive_score_draws`): for every
posterior draw s the profile's conditioned normal (a mixture population: one of its components,
picked by its conditional weight) is sampled on the latent scale and mapped back through each
benchmark's transform, so the composite carries the covariance's own uncertainty and the
scores' bounds and skew. The score, sd, interval and ``P(composite > threshold)`` are those of
the draws (:func:`match_score`).

Several profiles of one population share each posterior draw: draw r of every profile is
drawn given posterior draw ``r % S`` (a fixed order, not a random one), so comparisons between
entities (:func:`rank_agents`' ``p_best``, the probability that an entity has the highest
composite) are those of the joint predictive given the same population parameters.

Examples
--------
>>> import numpy as np, skillinfer_bayes as sib
>>> pop = sib.Population.from_covariance([[1.0, 0.8], [0.8, 1.0]], ["a", "b"], [0.0, 0.0])
>>> strong = pop.profile(noise=0.1).observe("a", 1.0)
>>> weak = pop.profile(noise=0.1).observe("a", -1.0)
>>> table = rank_agents({"b": 1.0}, {"weak": weak, "strong": strong})
>>> table["agent"].tolist(), table["p_best"].round(2).tolist()
(['strong', 'weak'], [0.97, 0.03])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import (
    UnknownBenchmarkError,
    check_level,
    check_seed,
    resolve_benchmark,
)
from skillinfer_bayes.data.prepared import score_values
from skillinfer_bayes.predictive.components import condition_components
from skillinfer_bayes.predictive.types import MatchResult, ProfileLike, Skill, Task

#: Fewest predictive draws behind a composite: each posterior draw is used
#: ``ceil(MIN_DRAWS / S)`` times.
MIN_DRAWS = 4000
#: Most numbers of conditional covariances held at once (the draws are conditioned in chunks).
_CHUNK_VALUES = 4_000_000
#: The columns of :func:`rank_agents`.
RANK_COLUMNS = ["agent", "expected_score", "std", "p_above_threshold", "p_best"]


def task_weights(task_vector: Task | Mapping | Sequence[float] | np.ndarray,
                 benchmark_names: Sequence[str]) -> np.ndarray:
    """The (K,) composite weights of a task, divided by the sum of their absolute values
    (skillinfer's normalization: the composite stays on the scores' scale).

    Parameters
    ----------
    task_vector : Task, dict or array-like
        A :class:`~skillinfer_bayes.predictive.types.Task`, ``{benchmark: weight}`` (the
        benchmark by name, position or :class:`~skillinfer_bayes.predictive.types.Skill`;
        benchmarks left out weigh 0) or K weights in benchmark order.
    benchmark_names : sequence of str
        The population's benchmarks.

    Raises
    ------
    UnknownBenchmarkError
        The task names a benchmark the population does not have (a ``KeyError``).
    ValueError
        Wrong number of weights, a non-finite weight, or all weights 0.

    Examples
    --------
    >>> task_weights({"b": 3.0, "c": -1.0}, ["a", "b", "c"]).tolist()
    [0.0, 0.75, -0.25]
    >>> task_weights([1, 1, 2], ["a", "b", "c"]).tolist()
    [0.25, 0.25, 0.5]
    """
    names = list(benchmark_names)
    K = len(names)
    if isinstance(task_vector, Task):
        task_vector = task_vector.weights
    if isinstance(task_vector, Mapping):
        w = np.zeros(K)
        for key, weight in task_vector.items():
            name = key.name if isinstance(key, Skill) else key
            try:
                j = resolve_benchmark(name, names)
            except (UnknownBenchmarkError, IndexError):
                raise UnknownBenchmarkError(
                    f"The task names {name!r}, which is not a benchmark of this population; "
                    f"known benchmarks: {names}."
                ) from None
            try:
                w[j] = float(weight)
            except (TypeError, ValueError):
                raise TypeError(f"The task's weight of {names[j]!r} must be a number; got "
                                f"{weight!r}.") from None
    else:
        try:
            w = np.asarray(task_vector, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                f"task_vector must be a Task, a dict {{benchmark: weight}} or {K} numbers; "
                f"got {task_vector!r}."
            ) from None
        if w.shape != (K,):
            raise ValueError(
                f"task_vector has shape {w.shape}; it needs {K} weights, one per benchmark in "
                f"the order {names} (or pass a dict {{benchmark: weight}})."
            )
    if not np.all(np.isfinite(w)):
        bad = [names[j] for j in np.flatnonzero(~np.isfinite(w))]
        raise ValueError(f"The task's weights must be finite numbers; not those of {bad}.")
    total = float(np.abs(w).sum())
    if total == 0.0:
        raise ValueError("The task's weights are all 0: give at least one benchmark a nonzero "
                         "weight.")
    return w / total


def check_same_fit(profiles: Mapping[str, ProfileLike]) -> None:
    """Refuse profiles of different fits (their draws cannot share posterior draws), naming
    the agents of each fit.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> one = sib.Population.from_covariance([[1.0]], ["a"], [0.0])
    >>> other = sib.Population.from_covariance([[2.0]], ["a"], [0.0])
    >>> check_same_fit({"x": one.profile(), "y": other.profile()})
    Traceback (most recent call last):
    ...
    ValueError: These profiles come from 2 different populations (fits): ['x']; ['y']. ...
    """
    by_fit: dict[str, list[str]] = {}
    for name, profile in profiles.items():
        by_fit.setdefault(profile.description.fit_id, []).append(str(name))
    if len(by_fit) > 1:
        listed = "; ".join(f"{agents}" for agents in by_fit.values())
        raise ValueError(
            f"These profiles come from {len(by_fit)} different populations (fits): {listed}. "
            "Their predictive draws must share each posterior draw of one population: make "
            "every profile with the same Population (pop.profile())."
        )


#: The relative jitter :func:`covariance_root` adds to the diagonal (of the largest variance).
ROOT_JITTER = 1e-10


def covariance_root(cov: np.ndarray) -> np.ndarray:
    """A square root ``R`` of each covariance (..., L, L), ``R R' = cov``: the Cholesky factor
    of ``cov`` plus :data:`ROOT_JITTER` times its largest variance on the diagonal (an exactly
    observed benchmark's conditional variance is 0), or, where even that fails, the symmetric
    root from ``eigh`` (ten times slower on 4,000 draws of 6 benchmarks).

    Examples
    --------
    >>> cov = np.array([[[4.0, 2.0], [2.0, 0.0 + 1.0]]])
    >>> root = covariance_root(cov)
    >>> bool(np.allclose(root @ np.swapaxes(root, -1, -2), cov))
    True
    """
    L = cov.shape[-1]
    largest = np.max(np.diagonal(cov, axis1=-2, axis2=-1), axis=-1)
    jitter = ROOT_JITTER * np.maximum(largest, 1e-300)
    try:
        return np.linalg.cholesky(cov + jitter[..., None, None] * np.eye(L))
    except np.linalg.LinAlgError:  # not positive definite even with the jitter
        w, v = np.linalg.eigh(cov)
        return v * np.sqrt(np.clip(w, 0.0, None))[..., None, :]


def predictive_score_draws(profiles: Sequence[ProfileLike], n_per_draw: int | None = None,
                           random_seed: int | None = 0) -> np.ndarray:
    """Joint posterior predictive draws of the benchmark scores of several profiles of one
    population, on the data's scale.

    Draw ``r`` of every profile is drawn given posterior draw ``r % S`` (each of the S
    posterior draws ``n_per_draw`` times, in a fixed order): its conditioned normal (for a
    mixture population, one component picked by its conditional weight within that draw) is
    sampled on the latent scale and mapped back through the benchmarks' transforms. The
    profiles are independent given the posterior draw.

    Parameters
    ----------
    profiles : sequence of Profile
        Profiles of one population (one fit).
    n_per_draw : int, optional
        Predictive draws per posterior draw; default ``ceil(MIN_DRAWS / S)`` (at least 4,000
        draws in all).
    random_seed : int or None, default 0
        Seed of the normal draws (and component picks); the same seed gives the same draws.

    Returns
    -------
    numpy.ndarray
        (E, n_per_draw * S, K): profile, draw, benchmark (covariates left out).

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[4.0, 2.0], [2.0, 4.0]], ["a", "b"], [0.0, 0.0])
    >>> draws = predictive_score_draws([pop.profile(noise=0.0).observe("a", 2.0)])
    >>> draws.shape, round(float(draws[0, :, 1].mean()), 1), round(float(draws[0, :, 1].std()), 1)
    ((1, 4000, 2), 1.0, 1.7)
    """
    profiles = list(profiles)
    if not profiles:
        raise ValueError("predictive_score_draws needs at least one profile.")
    check_same_fit({str(i): p for i, p in enumerate(profiles)})
    S = profiles[0].components.n_draws
    if n_per_draw is None:
        n_per_draw = max(1, math.ceil(MIN_DRAWS / S))
    n_per_draw = int(n_per_draw)
    if n_per_draw < 1:
        raise ValueError(f"n_per_draw must be a positive integer; got {n_per_draw}.")
    rng = np.random.default_rng(check_seed(random_seed))
    K = len(profiles[0].benchmark_names)
    out = np.empty((len(profiles), n_per_draw, S, K))
    for e, profile in enumerate(profiles):
        draws = profile.components
        C, L = draws.n_components, draws.n_benchmarks
        observed, latent, noise_var = profile.latent_observations()
        step = max(1, _CHUNK_VALUES // (C * L * L * n_per_draw))
        for start in range(0, S, step):
            chunk = np.arange(start, min(S, start + step))
            n = len(chunk)
            cond = condition_components(draws.subset(chunk), observed, latent, noise_var,
                                        full_cov=True)
            means = cond.means.reshape(n, C, L)
            root = covariance_root(cond.cov.reshape(n, C, L, L))
            if C == 1:
                pick = np.zeros((n_per_draw, n), dtype=int)
            else:  # each draw's component by its conditional weight within the draw
                p = cond.weights.reshape(n, C)
                cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
                u = rng.random((n_per_draw, n))
                pick = np.minimum((u[..., None] > cum[None]).sum(axis=-1), C - 1)
            rows = np.broadcast_to(np.arange(n), (n_per_draw, n))
            z = rng.standard_normal((n_per_draw, n, L))
            values = means[rows, pick] + np.einsum("rnij,rnj->rni", root[rows, pick], z)
            out[e, :, start:start + n] = score_values(values, profile.transforms)[..., :K]
    return out.reshape(len(profiles), n_per_draw * S, K)


def summarize_composite(composite: np.ndarray, threshold: float | None = None,
                        level: float = 0.95) -> MatchResult:
    """The :class:`~skillinfer_bayes.predictive.types.MatchResult` of composite draws: their
    mean, sd, central ``level`` quantiles and share above ``threshold``.

    Examples
    --------
    >>> r = summarize_composite(np.arange(101.0), threshold=89.5, level=0.9)
    >>> round(r.score, 1), round(r.ci_lower, 1), round(r.ci_upper, 1), round(r.p_above_threshold, 3)
    (50.0, 5.0, 95.0, 0.109)
    """
    level = check_level(level)
    threshold = _check_threshold(threshold)
    composite = np.asarray(composite, dtype=float)
    lower, upper = np.quantile(composite, [(1 - level) / 2, (1 + level) / 2])
    return MatchResult(
        score=float(composite.mean()),
        std=float(composite.std()),
        ci_lower=float(lower),
        ci_upper=float(upper),
        p_above_threshold=(None if threshold is None
                           else float(np.mean(composite > threshold))),
    )


def _check_threshold(threshold: float | None) -> float | None:
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer,
                                                                 np.floating)):
        raise TypeError(f"threshold must be a number or None; got {threshold!r}.")
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite; got {threshold!r}.")
    return float(threshold)


def match_score(profile: ProfileLike, task_vector: Task | Mapping | Sequence[float] | np.ndarray,
                threshold: float | None = None, level: float = 0.95, *,
                random_seed: int | None = 0) -> MatchResult:
    """Score one profile against a task from its posterior predictive draws (see
    :meth:`Profile.match_score <skillinfer_bayes.predictive.profile.Profile.match_score>`).

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[4.0, 2.0], [2.0, 4.0]], ["a", "b"], [0.0, 0.0])
    >>> result = match_score(pop.profile(noise=0.0).observe("a", 2.0), {"a": 1, "b": 1})
    >>> round(result.score, 1), round(result.std, 1)
    (1.5, 0.9)
    """
    weights = task_weights(task_vector, profile.benchmark_names)
    threshold = _check_threshold(threshold)
    level = check_level(level)
    draws = predictive_score_draws([profile], random_seed=random_seed)[0]
    return summarize_composite(draws @ weights, threshold, level)


def rank_agents(task_vector: Task | Mapping | Sequence[float] | np.ndarray,
                profiles: Mapping[str, ProfileLike], threshold: float | None = None, *,
                random_seed: int | None = 0) -> pd.DataFrame:
    """Rank agents (profiles of one population) by their expected composite score on a task.

    skillinfer's ``rank_agents``: every agent's composite ``w . y`` (weights divided by
    ``sum |w|``) is summarized from joint posterior predictive draws
    (:func:`predictive_score_draws`) that share each posterior draw across the agents, and
    ``p_best`` is the share of those joint draws in which the agent's composite is the highest:
    the probability that it is the best for the task.

    Parameters
    ----------
    task_vector : Task, dict or array-like
        The task (see :func:`task_weights`).
    profiles : dict
        ``{agent: Profile}``, all made with the same population.
    threshold : float, optional
        Adds ``P(composite > threshold)`` (``None`` in that column without it).
    random_seed : int or None, default 0
        Seed of the predictive draws: the same call gives the same table. The Monte Carlo
        error of ``expected_score`` is about ``std / sqrt(R)`` with R >= 4,000 draws (more
        when the posterior draws are autocorrelated), and that of the probabilities at most
        ``0.5 / sqrt(R)`` (0.008).

    Returns
    -------
    pandas.DataFrame
        Columns ``agent``, ``expected_score``, ``std``, ``p_above_threshold`` (skillinfer's)
        and ``p_best``, sorted by ``expected_score``, highest first. An empty ``profiles``
        gives an empty table with these columns.

    Raises
    ------
    ValueError
        Profiles of different populations (the agents of each are named), or a bad task.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[1.0, 0.5], [0.5, 1.0]], ["a", "b"], [0.0, 0.0])
    >>> agents = {"x": pop.profile().observe("a", 1.0), "y": pop.profile().observe("b", 1.0)}
    >>> rank_agents(sib.Task({"a": 1.0}), agents, threshold=0.0).round(2)
      agent  expected_score   std  p_above_threshold  p_best
    0     x            1.00  0.05               1.00     0.7
    1     y            0.52  0.86               0.73     0.3
    """
    if not isinstance(profiles, Mapping):
        raise TypeError(f"profiles must be a dict {{agent: Profile}}; got "
                        f"{type(profiles).__name__}.")
    if not profiles:
        return pd.DataFrame(columns=RANK_COLUMNS)
    check_same_fit(profiles)
    first = next(iter(profiles.values()))
    weights = task_weights(task_vector, first.benchmark_names)
    threshold = _check_threshold(threshold)
    draws = predictive_score_draws(list(profiles.values()), random_seed=random_seed)
    composite = draws @ weights  # (E, R)
    best = np.bincount(np.argmax(composite, axis=0), minlength=len(profiles)) / \
        composite.shape[1]
    rows = []
    for e, agent in enumerate(profiles):
        result = summarize_composite(composite[e], threshold)
        rows.append({"agent": agent, "expected_score": result.score, "std": result.std,
                     "p_above_threshold": result.p_above_threshold, "p_best": float(best[e])})
    table = pd.DataFrame(rows, columns=RANK_COLUMNS)
    return table.sort_values("expected_score", ascending=False,
                             kind="stable").reset_index(drop=True)
