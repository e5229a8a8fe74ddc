"""Evaluation curves: how fast each rule for choosing the next benchmark learns held-out
models' profiles (a study built on :mod:`skillinfer_bayes.predictive.active` and the protocol of
:mod:`skillinfer_bayes.studies.protocol`).

Examples
--------
>>> RULES
('most_informative', 'most_uncertain', 'random')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_noise
from skillinfer_bayes.data.prepared import latent_values
from skillinfer_bayes.population import Population
from skillinfer_bayes.predictive.active import expected_variance_reduction
from skillinfer_bayes.predictive.components import condition_components
from skillinfer_bayes.studies.protocol import complete_rows, make_splits
from skillinfer_bayes.studies.scoring import mixture_cells, spread_pairs

RULES = ("most_informative", "most_uncertain", "random")


@dataclass
class EvaluationCurve:
    """Result of :func:`evaluation_curve`.

    Attributes
    ----------
    steps : pandas.DataFrame
        One row per (rule, step): ``n_observed`` (benchmarks observed so far), ``mae``,
        ``crps`` (means over the held-out models of the means over their still-unobserved
        benchmarks), ``crps_all`` and ``mae_all`` (over all K benchmarks, observed ones
        scored by their predictive given the noisy observation), ``n_models``.
    orders : pandas.DataFrame
        Per (rule, entity): the benchmarks in the order observed.
    settings : dict
    """

    steps: pd.DataFrame
    orders: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def plot(self, metric: str = "crps"):
        """Metric after each step, one line per rule.

        Examples
        --------
        >>> fig = curve.plot("crps")  # doctest: +SKIP
        """
        from skillinfer_bayes.plots import plot_evaluation_curve

        return plot_evaluation_curve(self.steps, metric=metric)


def _pick(rule, mixture, std, observed, K, noise_var, rng, E, n_components=1):
    """The next benchmark for each of E entities sharing one observed set (``std``: their
    (E, K) predictive sds on the scores' scale, as :meth:`Profile.most_uncertain` ranks;
    ``n_components`` per posterior draw)."""
    unobserved = [j for j in range(K) if j not in observed]
    if rule == "random":
        return np.asarray(unobserved)[rng.integers(len(unobserved), size=E)]
    if rule == "most_uncertain":
        return np.asarray(unobserved)[np.argmax(std[:, unobserved], axis=1)]
    gain = expected_variance_reduction(mixture.cov, unobserved, unobserved, noise_var,
                                       component_weights=mixture.weights, means=mixture.means,
                                       n_components=n_components)
    if gain.ndim == 1:  # equal weights: one choice for all
        return np.full(E, unobserved[int(np.argmax(gain))])
    return np.asarray(unobserved)[np.argmax(gain, axis=1)]


def evaluation_curve(
    df: pd.DataFrame,
    rules: Sequence[str] = RULES,
    n_steps: int | None = None,
    test_fraction: float = 0.2,
    random_seed: int = 0,
    noise=None,
    population=None,
    **fit_kwargs,
) -> EvaluationCurve:
    """Observe held-out models' benchmarks one at a time in each rule's order; score each step.

    The split is the protocol of :func:`~skillinfer_bayes.evaluate` (complete rows,
    ``default_rng(random_seed).permutation``, the first ``test_fraction`` held out). Every
    held-out model starts with nothing observed; at each step each rule picks one more
    benchmark for it (``"most_informative"``: the largest expected reduction of the summed
    predictive variance of the unobserved benchmarks; ``"most_uncertain"``: the largest
    predictive sd; ``"random"``: a seeded random unobserved one), its true score is
    observed, and the predictive is scored. With transformed benchmarks (the default "auto")
    the rules rank as :meth:`Profile.most_uncertain` and :meth:`Profile.most_informative` do
    (sds on the scores' scale; variance reduction on the latent scale) and the metrics are
    those of the predictive on the scores' scale (:func:`~skillinfer_bayes.studies.
    scoring.mixture_cells`).

    Parameters
    ----------
    df : pandas.DataFrame
        Models x benchmarks.
    rules : sequence of str
        Any of "most_informative", "most_uncertain", "random".
    n_steps : int, optional
        Benchmarks to observe (default K - 1).
    test_fraction, random_seed :
        The split (and the random rule's seed).
    noise : float, sequence or dict, optional
        Observation noise sd: one for all benchmarks, one per benchmark, or
        ``{benchmark: sd}`` (default: the population's default, see
        :meth:`Population.default_noise`).
    population : Population, optional
        A population already fitted to the training rows of this split (otherwise it is
        fitted here with ``fit_kwargs`` and ``random_seed``, which the fit cache makes cheap
        to repeat).
    **fit_kwargs
        Passed to :meth:`Population.from_dataframe` (``spec=``, ``draws``, ``prior``, ...;
        the fit is on the scores' own scale).

    Returns
    -------
    EvaluationCurve
        ``.steps`` (MAE / CRPS per rule and step), ``.orders``, ``.plot()``.

    Examples
    --------
    >>> curve = sib.evaluation_curve(df, random_seed=0)  # doctest: +SKIP
    >>> curve.steps.pivot(index="n_observed", columns="rule", values="crps")  # doctest: +SKIP
    """
    unknown = sorted(set(rules) - set(RULES))
    if unknown or not rules:
        raise ValueError(f"Unknown rule(s) {unknown}; choose from {sorted(RULES)}.")
    matrix, _ = complete_rows(df, None)
    names = list(matrix.columns)
    K = len(names)
    n_steps = K - 1 if n_steps is None else n_steps
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or not 1 <= n_steps <= K:
        raise ValueError(f"n_steps must be an integer in [1, {K}]; got {n_steps!r}.")
    X = matrix.to_numpy()
    ((test, train, seed),) = make_splits(len(X), test_fraction, None, 1, random_seed)
    if population is not None and population.covariate_names \
            or fit_kwargs.get("covariates") is not None:
        raise ValueError(
            "evaluation_curve orders benchmarks only; a population with covariates is not "
            "supported here. Compare covariates with sib.evaluate(df, covariates=...)."
        )
    pop = population
    if pop is None:
        fit_kwargs.setdefault("progressbar", False)
        if fit_kwargs.get("spec") is not None:  # on the scores' own scale
            fit_kwargs["spec"] = dataclasses.replace(fit_kwargs["spec"], normalize=False)
        else:
            fit_kwargs["normalize"] = False
        pop = Population.from_dataframe(
            pd.DataFrame(X[train], columns=names), random_seed=seed, **fit_kwargs)
    elif list(pop.benchmark_names) != names:
        raise ValueError(f"population benchmarks {pop.benchmark_names} differ from df's {names}.")
    noise = pop.default_noise() if noise is None else check_noise(noise, names)
    transforms = pop.data.transforms if pop.data.transformed else None
    latent_noise = noise * pop.data.noise_slopes  # the scores' noise on the latent scale
    X_test = X[test]
    Z_test = X_test if transforms is None else latent_values(X_test, transforms)
    E = len(X_test)
    components = pop.predictive_components()
    rows, order_rows = [], []
    for rule in rules:
        rng = np.random.default_rng([random_seed, RULES.index(rule)])
        observed = np.full((E, 0), -1, dtype=int)
        for step in range(n_steps + 1):
            metrics = np.zeros((E, 4))  # mae, crps over unobserved; mae, crps over all
            picks = np.empty(E, dtype=int)
            # models sharing an observed sequence are conditioned together (batched)
            sets, which = np.unique(observed, axis=0, return_inverse=True)
            for g, o in enumerate(sets):
                members = np.flatnonzero(which.reshape(-1) == g)
                mixture = condition_components(components, o, Z_test[members][:, o],
                                               latent_noise**2, full_cov=True)
                # the same pairs for the same predictive, whatever the rule and the step
                pairs = spread_pairs(components, np.random.default_rng(seed))
                cells = mixture_cells(mixture, X_test[members], Z_test[members], np.arange(K),
                                      transforms, pairs, levels=())
                err = np.abs(cells["mean"] - X_test[members])
                u = np.setdiff1d(np.arange(K), o)
                if len(u):
                    metrics[members, 0] = err[:, u].mean(axis=1)
                    metrics[members, 1] = cells["crps"][:, u].mean(axis=1)
                metrics[members, 2] = err.mean(axis=1)
                metrics[members, 3] = cells["crps"].mean(axis=1)
                if step < n_steps:
                    picks[members] = _pick(rule, mixture, cells["std"], set(o.tolist()), K,
                                           latent_noise**2, rng, len(members),
                                           components.n_components)
            rows.append({"rule": rule, "n_observed": step,
                         "mae": metrics[:, 0].mean() if step < K else np.nan,
                         "crps": metrics[:, 1].mean() if step < K else np.nan,
                         "mae_all": metrics[:, 2].mean(), "crps_all": metrics[:, 3].mean(),
                         "n_models": E})
            if step < n_steps:
                observed = np.column_stack([observed, picks])
        order_rows.append(pd.DataFrame({
            "rule": rule, "entity": matrix.index[test],
            "order": [" > ".join(names[j] for j in row) for row in observed],
        }))
    settings = {"test_fraction": test_fraction, "random_seed": random_seed,
                "noise": dict(zip(names, noise.tolist())),
                "n_steps": n_steps, "n_test": E}
    return EvaluationCurve(steps=pd.DataFrame(rows), orders=pd.concat(order_rows,
                                                                        ignore_index=True),
                           settings=settings)
