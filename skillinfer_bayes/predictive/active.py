"""Active evaluation: which benchmark to run next (the kernel; :mod:`curves` studies the rules).

For posterior draw s, let ``C_s`` be the covariance of the scores given what is observed so
far. Observing benchmark j with noise variance r reduces the conditional covariance by the
rank-one term ``C_s[:, j] C_s[j, :] / (C_s[j, j] + r)``, whatever value is observed (a property
of the Gaussian). The expected reduction of a target variance is therefore exact per draw, and
the rule averages it over the posterior draws:

- ``target=None``: the summed variances of the *remaining* benchmarks, all those not yet
  observed, the candidate included (once observed, its own variance falls to about the noise
  level): ``mean_s sum_{i unobserved} C_s[i, j]^2 / (C_s[j, j] + r)``. This is the expected
  reduction of the total predictive uncertainty of the profile; ``most_uncertain`` looks at
  the candidate's own term only;
- ``target="B"``: the variance of benchmark B (B itself is not a candidate);
- ``target={"B1": w1, ...}``: the variance of the weighted combination ``sum_i w_i y_i`` (for
  example the leaderboard average): ``mean_s (sum_i w_i C_s[i, j])^2 / (C_s[j, j] + r)``.

References
----------
.. [1] Krause, A., Singh, A. and Guestrin, C. (2008). Near-optimal sensor placements in
   Gaussian processes: theory, efficient algorithms and empirical studies. *JMLR* 9, 235-284.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from skillinfer_bayes.data.checks import resolve_benchmark


def resolve_target(target, benchmark_names: Sequence[str]) -> tuple[np.ndarray | None, set[int]]:
    """``(weights, excluded)``: the weight vector of a target (None: the remaining benchmarks)
    and the benchmarks that cannot be candidates."""
    K = len(benchmark_names)
    if target is None:
        return None, set()
    if isinstance(target, Mapping):
        if not target:
            raise ValueError("target weights must not be empty, e.g. {'BBH': 0.5, 'GPQA': 0.5}.")
        w = np.zeros(K)
        for name, weight in target.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not np.isfinite(
                weight
            ):
                raise ValueError(f"target weight of {name!r} must be a finite number; "
                                 f"got {weight!r}.")
            w[resolve_benchmark(name, benchmark_names)] = float(weight)
        return w, set()
    j = resolve_benchmark(target, benchmark_names)
    w = np.zeros(K)
    w[j] = 1.0
    return w, {j}


def expected_variance_reduction(
    cov: np.ndarray,
    candidates: Sequence[int],
    unobserved: Sequence[int],
    noise_var: float | np.ndarray,
    weights: np.ndarray | None = None,
    component_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Posterior-averaged reduction of the target variance from observing each candidate.

    Parameters
    ----------
    cov : numpy.ndarray
        (S, K, K) conditional covariances given the current observations.
    candidates : sequence of int
        Benchmarks that could be observed next.
    unobserved : sequence of int
        The currently unobserved benchmarks (the "remaining" set for ``weights=None``,
        candidates included).
    noise_var : float or numpy.ndarray
        Observation noise variance: one for all benchmarks, or (K,) per benchmark.
    weights : numpy.ndarray, optional
        (K,) weights of a linear target; ``None``: the summed variances of the remaining
        benchmarks.
    component_weights : numpy.ndarray, optional
        (S,) weights of the conditioned components (a mixture posterior), or (E, S) for E
        entities (then the result is (E, len(candidates))); default equal.
        The reduction is averaged within components; the spread between component means is
        not counted.

    Returns
    -------
    numpy.ndarray
        (len(candidates),) expected reductions (same units as the variances).

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]]])
    >>> expected_variance_reduction(C, [0, 2], [0, 1, 2], 0.0).round(2).tolist()
    [1.81, 1.0]
    """
    cand = np.asarray(candidates, dtype=int)
    noise_var = np.broadcast_to(np.asarray(noise_var, dtype=float), cov.shape[-1:])
    innovation = np.diagonal(cov, axis1=1, axis2=2)[:, cand] + noise_var[cand]  # (S, c)
    if weights is not None:
        proj = np.einsum("k,skc->sc", weights, cov[:, :, cand])
        return _average_over_components((proj / np.sqrt(innovation)) ** 2, component_weights)
    u = np.asarray(unobserved, dtype=int)
    block = cov[:, u[:, None], cand]  # (S, |u|, c): covariance of remaining i with candidate j
    # scaled before squaring: no overflow or underflow where covariances are large or tiny
    per_component = np.sum((block / np.sqrt(innovation)[:, None, :]) ** 2, axis=1)
    return _average_over_components(per_component, component_weights)


def _average_over_components(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """(S, c) per-component values averaged over the components (first axis), by (..., S)
    weights."""
    return values.mean(axis=0) if weights is None else weights @ values
