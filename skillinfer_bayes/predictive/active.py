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

With a mixture population each draw holds C components, and an observation also tells which
component the entity is in, so it reduces the spread between the components' means too. The
reduction is then no longer the same for every observed value: per draw it is
``Var_y(E[t | y])`` under the draw's mixture (the law of total variance), computed by
Gauss-Hermite quadrature within each component (:func:`mixture_variance_reduction`), and the
rule averages it over the draws. With one component it is the rank-one term above.

References
----------
.. [1] Krause, A., Singh, A. and Guestrin, C. (2008). Near-optimal sensor placements in
   Gaussian processes: theory, efficient algorithms and empirical studies. *JMLR* 9, 235-284.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_positive_int, resolve_benchmark
from skillinfer_bayes.predictive.mixture import average


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
    means: np.ndarray | None = None,
    n_components: int = 1,
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
    means : numpy.ndarray, optional
        (S, K) or (E, S, K) conditional means; needed with ``n_components > 1``.
    n_components : int, default 1
        Components per posterior draw (the S components are draw-major, C per draw). With
        more than one, each draw's reduction counts the spread between its components'
        means (:func:`mixture_variance_reduction`); with one, it is the exact rank-one term.

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
    if n_components > 1:
        K = cov.shape[-1]
        targets = (np.eye(K)[np.asarray(unobserved, dtype=int)] if weights is None
                   else np.asarray(weights, dtype=float)[None])
        if means is None or component_weights is None:
            raise ValueError("a mixture's variance reduction needs the components' means and "
                             "weights.")
        if np.ndim(component_weights) == 1:
            return mixture_variance_reduction(means, cov, component_weights, n_components,
                                              cand, targets, noise_var)
        return np.stack([  # one entity at a time: (S, 2 C nodes, C) per entity is enough
            mixture_variance_reduction(m, cov, w, n_components, cand, targets, noise_var)
            for m, w in zip(means, component_weights)])
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


#: Gauss-Hermite nodes per component of :func:`mixture_variance_reduction`.
QUADRATURE_NODES = 16


def mixture_variance_reduction(
    means: np.ndarray,
    cov: np.ndarray,
    weights: np.ndarray,
    n_components: int,
    candidates: np.ndarray,
    targets: np.ndarray,
    noise_var: np.ndarray,
    nodes: int = QUADRATURE_NODES,
) -> np.ndarray:
    """Expected reduction of target variances from observing each candidate, per draw of a
    mixture, averaged over the draws.

    For draw s with components c (weights ``w_c``, means ``m_c``, covariances ``C_c``), a
    noisy observation ``y`` of benchmark j has the mixture density ``sum_c w_c N(y; a_c,
    v_c)``, ``a_c = m_c[j]``, ``v_c = C_c[j, j] + r_j``. Given y the target ``t = A x`` has the
    mean ``E[t | y] = sum_c p_c(y) (A m_c + A C_c[:, j] (y - a_c) / v_c)`` with ``p_c(y)``
    proportional to ``w_c N(y; a_c, v_c)``, and the expected reduction of its variance is
    ``Var_y(E[t | y])`` (law of total variance), integrated by Gauss-Hermite quadrature within
    each component. The rows of ``targets`` are summed.

    Parameters
    ----------
    means : numpy.ndarray
        (S C, K) conditional means, draw-major.
    cov : numpy.ndarray
        (S C, K, K) conditional covariances.
    weights : numpy.ndarray
        (S C,) component weights (each draw's sum to 1 / S, as in the predictive mixture).
    n_components : int
        C.
    candidates : numpy.ndarray
        Indices j of the benchmarks that could be observed.
    targets : numpy.ndarray
        (T, K) linear targets (unit rows: benchmarks' own variances).
    noise_var : numpy.ndarray
        (K,) observation noise variances.
    nodes : int
        Quadrature nodes per component.

    Returns
    -------
    numpy.ndarray
        (len(candidates),) expected reductions.

    Examples
    --------
    With one component per draw it is the rank-one term ``C[t, j]^2 / (C[j, j] + r)``; two
    well-separated components add the spread between their means, which observing j reveals:

    >>> C = np.array([[[1.0, 0.5], [0.5, 1.0]]] * 2)
    >>> one = mixture_variance_reduction(np.zeros((2, 2)), C, np.array([0.5, 0.5]), 1,
    ...                                  np.array([0]), np.eye(2)[[1]], np.zeros(2))
    >>> round(float(one[0]), 3)
    0.25
    >>> two = mixture_variance_reduction(np.array([[-5.0, -5.0], [5.0, 5.0]]), C,
    ...                                  np.array([0.5, 0.5]), 2, np.array([0]),
    ...                                  np.eye(2)[[1]], np.zeros(2))
    >>> round(float(two[0]), 2)  # 0.25 within + 25 between
    25.25
    """
    from numpy.polynomial.hermite_e import hermegauss
    from scipy.special import log_softmax

    C = int(n_components)
    N, K = means.shape
    S = N // C
    m = means.reshape(S, C, K)
    w = np.asarray(weights, dtype=float).reshape(S, C)
    w = w / w.sum(axis=1, keepdims=True)
    x, h = hermegauss(nodes)
    h = h / h.sum()
    mt = m @ targets.T  # (S, C, T) target means per component
    with np.errstate(divide="ignore"):
        log_w = np.log(w)
    out = np.empty(len(candidates))
    for i, j in enumerate(candidates):
        v = cov[:, j, j].reshape(S, C) + noise_var[j]
        a = m[:, :, j]
        slope = (cov[:, :, j] @ targets.T).reshape(S, C, -1) / v[:, :, None]  # (S, C, T)
        y = (a[:, :, None] + np.sqrt(v)[:, :, None] * x).reshape(S, C * nodes)  # (S, P)
        point_w = (w[:, :, None] * h).reshape(S, C * nodes)
        d = y[:, :, None] - a[:, None, :]  # (S, P, C)
        resp = np.exp(log_softmax(log_w[:, None, :] - 0.5 * np.log(v)[:, None, :]
                                  - 0.5 * d**2 / v[:, None, :], axis=2))
        cond = (np.einsum("spc,sct->spt", resp, mt)
                + np.einsum("spc,spc,sct->spt", resp, d, slope))  # E[t | y], (S, P, T)
        first = np.einsum("sp,spt->st", point_w, cond)
        second = np.einsum("sp,spt->st", point_w, cond**2)
        out[i] = np.mean(np.sum(second - first**2, axis=1))
    return out


class NextBenchmark:
    """Which benchmark a profile should observe next (mixed into
    :class:`~skillinfer_bayes.predictive.profile.Profile`)."""

    def most_uncertain(self, k: int = 10) -> pd.DataFrame:
        """The k unobserved benchmarks with the largest predictive sd (largest first).

        The simple rule for "which benchmark next?". The sds are on the scores' scale (as
        :meth:`std`), also for transformed benchmarks. skillinfer's signature and columns;
        unlike skillinfer, observed benchmarks are left out (they are no candidates to run
        next), so fewer than k rows come back when fewer are unobserved.

        Returns
        -------
        pandas.DataFrame
            Columns ``benchmark``, ``mean``, ``std`` and ``feature`` (skillinfer's name of the
            ``benchmark`` column, the same values).

        Examples
        --------
        >>> pop.profile().observe("BBH", 55.93).most_uncertain(k=1).round()
          benchmark  mean   std feature
        0    IFEval  70.0  13.0  IFEval
        """
        k = check_positive_int("k", k)
        mean, std = self.mean(), self.std()
        observed = set(self.observed_indices)
        candidates = [j for j in range(len(self.benchmark_names)) if j not in observed]
        order = sorted(candidates, key=lambda j: -std[j])[:k]
        names = [self.benchmark_names[j] for j in order]
        return pd.DataFrame({"benchmark": names, "mean": mean[order], "std": std[order],
                             "feature": names})

    def most_informative(self, k: int = 1, target=None) -> pd.DataFrame:
        """Rank unobserved benchmarks by the expected reduction of predictive variance.

        With transformed benchmarks the variances are those of the latent scale (where the
        reduction is exact per draw; the copula's latent scale is in population sds).

        For every posterior draw the reduction from observing a benchmark is exact (it does
        not depend on the value observed); the ranking averages it over the draws (see
        :mod:`skillinfer_bayes.predictive.active`). For a mixture population it also counts
        what the observation tells about which component the entity is in (the spread
        between the components' means), by quadrature per draw. :meth:`most_uncertain` is
        the simpler rule.

        Parameters
        ----------
        k : int, default 1
            Number of benchmarks returned (best first).
        target : None, str or dict, optional
            What to learn about: ``None`` = all unobserved benchmarks, the candidate included
            (summed variances: the total uncertainty of the profile); a benchmark name =
            that benchmark (not itself a candidate); a dict ``{benchmark: weight}`` = the
            weighted combination ``sum w_i y_i`` (e.g. the average score).

        Returns
        -------
        pandas.DataFrame
            Columns ``benchmark``, ``expected_variance_reduction``, ``target_sd_before`` and
            ``expected_target_sd_after`` (square roots of the posterior-averaged target
            variance before and after).

        Examples
        --------
        >>> profile = pop.profile().observe("BBH", 55.93)
        >>> profile.most_informative(k=2)["benchmark"].tolist()
        ['IFEval', 'MUSR']
        >>> profile.most_informative(target={"IFEval": 0.5, "GPQA": 0.5})["benchmark"].tolist()
        ['IFEval']
        """
        k = check_positive_int("k", k)
        weights, excluded = resolve_target(target, self.benchmark_names)
        K = len(self.benchmark_names)
        if weights is not None:  # the covariates are never a target
            weights = np.concatenate([weights, np.zeros(len(self.latent_names) - K)])
        observed = set(self.observed_indices)
        unobserved = [j for j in range(K) if j not in observed]
        candidates = [j for j in unobserved if j not in excluded]
        if not candidates:
            return pd.DataFrame(columns=["benchmark", "expected_variance_reduction",
                                         "target_sd_before", "expected_target_sd_after"])
        out = self.conditioned(full_cov=True)
        cov = out.cov
        C = self.components.n_components
        noise_var = self.latent_observations()[2]
        gain = expected_variance_reduction(cov, candidates, unobserved, noise_var, weights,
                                           component_weights=out.weights, means=out.means,
                                           n_components=C)
        if weights is None:  # (S C,) target variance per component
            within = np.diagonal(cov, axis1=1, axis2=2)[:, unobserved].sum(axis=1)
        else:
            within = np.einsum("i,sij,j->s", weights, cov, weights)
        if C == 1:
            total = average(within, out.weights)
        else:  # each draw's mixture variance: within + between its components' means
            S = self.components.n_draws
            w = out.weights.reshape(S, C) * S
            targets = (np.eye(len(self.latent_names))[unobserved] if weights is None
                       else weights[None])
            tm = (out.means @ targets.T).reshape(S, C, -1)
            spread = np.sum(np.einsum("sc,sct->st", w, tm**2)
                            - np.einsum("sc,sct->st", w, tm) ** 2, axis=1)
            total = float(np.mean(np.einsum("sc,sc->s", w, within.reshape(S, C)) + spread))
        before = np.full(len(candidates), total)
        order = np.argsort(-gain, kind="stable")[: int(k)]
        return pd.DataFrame({
            "benchmark": [self.benchmark_names[candidates[i]] for i in order],
            "expected_variance_reduction": gain[order],
            "target_sd_before": np.sqrt(before[order]),
            "expected_target_sd_after": np.sqrt(np.maximum(before[order] - gain[order], 0.0)),
        })
