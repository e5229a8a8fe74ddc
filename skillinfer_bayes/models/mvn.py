"""Build the PyMC population model with the sufficient-statistics likelihood.

The model knows nothing of profiles or predictions: it takes the (standardized) sufficient
statistics of each missingness pattern and a :class:`~skillinfer_bayes.models.priors.Prior`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.slinalg import solve_triangular

from skillinfer_bayes.data.sufficient_stats import LOG_2PI, PatternStats
from skillinfer_bayes.models.masked import masked_mvn_loglik
from skillinfer_bayes.models.priors import Prior

#: Names of the free variables of the model (on the standardized scale).
MEAN_VAR = "mu_std"
CHOL_VAR = "chol"
#: Group-level variables (grouped populations only): between-group sds, non-centred offsets
#: and the group means they imply (all on the standardized scale).
GROUP_SD_VAR = "group_tau"
GROUP_OFFSET_VAR = "group_offset"
GROUP_MEAN_VAR = "group_mu_std"
GROUP_CENTERED_VAR = "group_mu_centered"
#: Groups with at least this many entities are parameterized centred (their data pin their
#: mean down, and the non-centred form would put a funnel in the posterior); smaller groups
#: non-centred (their mean is mostly the prior's, where the centred form has the funnel).
CENTERED_MIN_SIZE = 30
#: With more missingness patterns than this, the likelihood is the batched per-row kernel of
#: :mod:`~skillinfer_bayes.models.masked` (one graph whatever the patterns) instead of one
#: block of sufficient statistics per pattern.
MAX_PATTERN_BLOCKS = 32
#: Names of the per-row data of the batched likelihood.
ROW_VALUES, ROW_MASK, ROW_GROUP = "row_values", "row_mask", "row_group"


def uses_rows(stats: Sequence[PatternStats]) -> bool:
    """Whether the likelihood of these patterns is the batched per-row kernel.

    Examples
    --------
    >>> from skillinfer_bayes.data.sufficient_stats import pattern_stats
    >>> uses_rows(pattern_stats(np.random.default_rng(0).normal(size=(20, 3))))
    False
    """
    return len(stats) > MAX_PATTERN_BLOCKS


def centered_groups(stats: Sequence[PatternStats], n_groups: int) -> np.ndarray:
    """(G,) bool: which groups get the centred parameterization (see CENTERED_MIN_SIZE)."""
    sizes = np.zeros(n_groups, dtype=int)
    for s in stats:
        if s.group >= 0:
            sizes[s.group] += s.n
    return sizes >= CENTERED_MIN_SIZE


def sd_distribution(prior: Prior, shape, name: str | None = None, **kwargs):
    """The PyMC distribution of benchmark sds for ``prior.sd``: ``.dist`` of ``shape`` (an
    int K or a tuple), or with a ``name`` the model's variable (inside a model context;
    ``kwargs`` such as ``dims`` go to the distribution).

    Examples
    --------
    >>> from skillinfer_bayes.models.priors import Prior
    >>> with pm.Model() as model:
    ...     sds = sd_distribution(Prior(), (2, 3), name="s")
    >>> model["s"].type.shape, sd_distribution(Prior(sd="exponential"), 3).type.shape
    ((2, 3), (3,))
    """
    if prior.sd == "halfnormal":
        family, params = pm.HalfNormal, {"sigma": prior.sd_scale}
    elif prior.sd == "exponential":
        family, params = pm.Exponential, {"scale": prior.sd_scale}
    else:
        family, params = pm.HalfStudentT, {"nu": prior.sd_nu, "sigma": prior.sd_scale}
    if name is None:
        return family.dist(**params, shape=shape)
    return family(name, **params, shape=shape, **kwargs)


def pattern_loglik(
    stats: PatternStats,
    mu: pt.TensorVariable,
    chol: pt.TensorVariable,
    K: int,
    label: str,
    inverse_factors: dict | None = None,
):
    """Symbolic log-likelihood of one missingness pattern through its sufficient statistics.

    The statistics enter as ``pm.Data`` (``n_<label>``, ``mean_<label>``, ``scatter_<label>``),
    not constants, so that fits of same-shaped data can share one compiled sampler.
    ``mu`` is the mean the rows are centred on (the population's, or their group's).
    ``inverse_factors`` caches the inverse Cholesky factor of each observed block, so that
    groups sharing a missingness pattern share its factorization.
    """
    o = stats.observed
    k = len(o)
    n = pm.Data(f"n_{label}", float(stats.n))
    mean = pm.Data(f"mean_{label}", stats.mean)
    scatter = pm.Data(f"scatter_{label}", stats.scatter)
    cache = {} if inverse_factors is None else inverse_factors
    key = tuple(int(i) for i in o)
    if key not in cache:
        if k == K:
            L = chol
        else:
            L = pt.linalg.cholesky((chol @ chol.T)[o][:, o])
        cache[key] = (solve_triangular(L, pt.eye(k), lower=True), L)
    Linv, L = cache[key]
    mu_o = mu if k == K else mu[o]
    d = mean - mu_o
    quad = pt.sum((Linv @ scatter) * Linv) + n * pt.sum((Linv @ d) ** 2)
    logdet = 2.0 * pt.sum(pt.log(pt.diag(L)))
    return -0.5 * (n * logdet + quad + n * k * LOG_2PI)


def build_model(
    stats: Sequence[PatternStats],
    benchmarks: Sequence[str],
    prior: Prior,
    groups: Sequence[str] | None = None,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pm.Model:
    """The hierarchical multivariate-normal population model of ``docs/design.md``.

    Parameters
    ----------
    stats : sequence of PatternStats
        Sufficient statistics of the **standardized** scores, one per missingness pattern (per
        (group, pattern) with ``groups``).
    benchmarks : sequence of str
        Benchmark names (the ``benchmark`` coordinate).
    prior : Prior
        Prior choices, on the standardized scale.
    groups : sequence of str, optional
        Group names (the ``group`` coordinate), indexed by ``PatternStats.group``. Each group
        then has its own mean ``group_mu_std ~ Normal(mu_std, group_tau)``, partially pooled
        toward the population mean: parameterized centred (``group_mu_centered``) for groups
        of at least ``CENTERED_MIN_SIZE`` entities and non-centred (``mu_std + group_tau *
        group_offset``) for smaller ones, so that neither form's funnel hampers NUTS.
    rows : (values, mask, group codes), optional
        The standardized rows (0 where missing), their 0/1 mask and each row's group code
        (-1: none): the likelihood is then the batched per-row kernel
        (:func:`~skillinfer_bayes.models.masked.masked_mvn_loglik`, data ``row_values``,
        ``row_mask``, ``row_group``), whose graph does not depend on the patterns; ``stats``
        still fix the group parameterization. :func:`uses_rows` says when fits pass them.

    Returns
    -------
    pymc.Model
        Free variables ``mu_std`` (K means) and ``chol`` (LKJ Cholesky factor of the covariance,
        with deterministics ``chol_stds`` and ``chol_corr``), plus ``group_tau``,
        ``group_offset`` / ``group_mu_centered`` and the deterministic ``group_mu_std`` with
        groups; the likelihood enters as the potential ``loglik``.

    Examples
    --------
    >>> import numpy as np
    >>> from skillinfer_bayes.data.sufficient_stats import pattern_stats
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> model = build_model(pattern_stats(X), ["a", "b", "c"], Prior())
    >>> sorted(v.name for v in model.free_RVs)
    ['chol', 'mu_std']
    """
    # The graph depends on the data only through pm.Data values; its *structure* is fixed by
    # structure_key(stats, len(benchmarks), prior).
    model, mu, chol = population_priors(benchmarks, prior)
    with model:
        K = len(benchmarks)
        centres = {-1: mu}
        if groups is not None:
            model.add_coord("group", list(groups))
            tau = pm.HalfNormal(GROUP_SD_VAR, sigma=prior.group_scale, dims="benchmark")
            centred = centered_groups(stats, len(groups))
            parts, order = [], []
            if (~centred).any():
                offset = pm.Normal(GROUP_OFFSET_VAR, 0.0, 1.0, shape=(int((~centred).sum()), K))
                parts.append(mu + tau * offset)
                order += np.flatnonzero(~centred).tolist()
            if centred.any():
                parts.append(pm.Normal(GROUP_CENTERED_VAR, mu, tau,
                                       shape=(int(centred.sum()), K)))
                order += np.flatnonzero(centred).tolist()
            stacked = parts[0] if len(parts) == 1 else pt.concatenate(parts, axis=0)
            group_mu = pm.Deterministic(
                GROUP_MEAN_VAR, stacked[np.argsort(order)], dims=("group", "benchmark")
            )
            centres.update({g: group_mu[g] for g in range(len(groups))})
        if rows is not None:
            total = rows_loglik(rows, mu, chol @ chol.T,
                                None if groups is None else group_mu)
        else:
            factors: dict = {}
            total = sum(
                pattern_loglik(s, centres[s.group], chol, K, str(p), factors)
                for p, s in enumerate(stats)
            )
        pm.Potential("loglik", total)
    return model


def rows_loglik(rows, mu, cov, group_mu=None):
    """The summed batched per-row log-likelihood, its data entering as ``pm.Data``."""
    values, mask, codes = rows
    values = pm.Data(ROW_VALUES, values)
    mask = pm.Data(ROW_MASK, mask)
    if group_mu is None:
        centre = mu
    else:  # each row's centre: its group's mean, or the population's for code -1
        code = pm.Data(ROW_GROUP, np.asarray(codes, dtype="int64"))
        centre = pt.concatenate([mu[None], group_mu], axis=0)[code + 1]
    return pt.sum(masked_mvn_loglik(values, mask, centre, cov))


def population_priors(benchmarks: Sequence[str], prior: Prior):
    """A model holding the population priors: returns (model, mu, chol)."""
    K = len(benchmarks)
    coords = {"benchmark": list(benchmarks), "benchmark_bis": list(benchmarks)}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal(MEAN_VAR, mu=0.0, sigma=prior.mean_scale, dims="benchmark")
        chol, _, _ = pm.LKJCholeskyCov(
            CHOL_VAR, n=K, eta=prior.eta, sd_dist=sd_distribution(prior, K), compute_corr=True
        )
    return model, mu, chol


def structure_key(
    stats: Sequence[PatternStats], K: int, prior: Prior, n_groups: int = 0
) -> tuple:
    """What fixes the model graph apart from its data: K, the (group,) observed sets (or, for
    the per-row kernel, only the number of rows), the prior and the number of groups."""
    if uses_rows(stats):
        patterns = ("rows", sum(s.n for s in stats))
    else:
        patterns = tuple((s.group, tuple(int(i) for i in s.observed)) for s in stats)
    centred = tuple(centered_groups(stats, n_groups).tolist()) if n_groups else ()
    return (K, n_groups, centred, patterns, prior)


def per_row_model(X: np.ndarray, benchmarks: Sequence[str], prior: Prior) -> pm.Model:
    """The textbook reference: the same priors with a per-row ``pm.MvNormal`` likelihood.

    Only complete rows are supported (as in the textbook model). It is used by the tests and the
    speed benchmark as the independent reference for :func:`build_model`.
    """
    X = np.asarray(X, dtype=float)
    if np.isnan(X).any():
        raise ValueError("per_row_model takes complete rows only; drop rows with NaN first.")
    model, mu, chol = population_priors(benchmarks, prior)
    with model:
        pm.MvNormal("y", mu=mu, chol=chol, observed=X)
    return model
