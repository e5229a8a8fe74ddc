"""The mixture population model: C multivariate-normal components on the latent scale.

A population of models is not one cloud (base and instruction-tuned models, merges, small and
large ones), and a new entity's observed scores tell which cluster it is likely in. On the
standardized latent scale, as the LKJ model of :mod:`~skillinfer_bayes.models.mvn`:

    w            ~ Dirichlet(concentration 1_C)                    component weights
    t_c          ~ Normal(0, mean_scale)
    v_c          ~ Normal(0, mean_scale I_{K-1})
    mu_c         = t_c u + U_perp v_c                              component means
    Sigma_c      = diag(s_c) Omega_c diag(s_c) + diag(f^2),  Omega_c ~ LKJ(eta)   (or one
                   Sigma shared by all components; f the floor, :func:`component_floor`)
    entity       p(z_i[observed]) = sum_c w_c N(z_i[observed]; mu_c, Sigma_c)

- **Assignments marginalized.** No discrete parameter: each row's likelihood is the
  log-sum-exp over components of ``log w_c`` plus the component's density of the row's observed
  scores, batched over rows and components
  (:mod:`~skillinfer_bayes.models.mixture_likelihood`: per missingness pattern, or per row
  when the patterns are many).
- **Label switching: relabelling after sampling.** The components are exchangeable: with
  ``[u, U_perp]`` orthonormal (``u`` the data's first principal direction, for a leaderboard
  the overall level of a model) and independent ``Normal(0, mean_scale)`` coordinates,
  ``mu_c`` has the prior of independent ``Normal(0, mean_scale I_K)`` means. The sampler may
  give the labels to the clusters in any order; the fit matches every draw's components to a
  pivot and numbers them along ``u`` (:mod:`~skillinfer_bayes.inference.relabel`), so each
  label means the same cluster in every chain. (An earlier form ordered ``t_c``: on the
  leaderboard two clusters lie at similar levels, the constraint bound and the fits
  diverged.)
- **Covariances non-centred.** Each component's sds ``s_c`` and the free coordinates of its
  correlation matrix (canonical partial correlations, :mod:`~skillinfer_bayes.models.correlation`)
  are separate parameters, with the prior of PyMC's ``LKJCholeskyCov`` (sds independent of an
  ``LKJ(eta)`` correlation matrix). Sampling the Cholesky factor itself, as ``LKJCholeskyCov``
  does, made a funnel of every component narrower than its floor in one dimension.
- **Unneeded components empty out.** A Dirichlet concentration below 1 puts the prior's mass
  near the faces of the simplex, so weights the data do not support shrink toward 0
  (Rousseau and Mengersen 2011: with a concentration below ``d / 2``, d the parameters of a
  component, the extra components of an overfitted mixture empty).

References
----------
.. [1] Rousseau, J. and Mengersen, K. (2011). Asymptotic behaviour of the posterior distribution
   in overfitted mixture models. *Journal of the Royal Statistical Society B* 73(5), 689-710.
.. [2] Stephens, M. (2000). Dealing with label switching in mixture models. *Journal of the
   Royal Statistical Society B* 62(4), 795-809.

Examples
--------
>>> import numpy as np
>>> from skillinfer_bayes.models.priors import Prior
>>> from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
>>> X = np.random.default_rng(0).normal(size=(40, 3))
>>> model = build_mixture_model(rows_by_pattern(X), ["a", "b", "c"], Prior(), 2)
>>> sorted(v.name for v in model.free_RVs)
['chol_cpc', 'chol_sd', 'component_weights', 'mean_level', 'mean_rest']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from skillinfer_bayes.models.correlation import (
    correlation_cholesky,
    partial_correlation_concentration,
    partial_correlations,
)
from skillinfer_bayes.models.logsumexp import register_jax
from skillinfer_bayes.models.mixture_likelihood import (
    PatternRows,
    masked_mixture_loglik,
    mixture_pattern_loglik,
    quadratic_features,
)
from skillinfer_bayes.models.mvn import CHOL_VAR, MEAN_VAR, ROW_MASK, ROW_VALUES, sd_distribution
from skillinfer_bayes.models.principal import is_rows, principal_basis
from skillinfer_bayes.models.priors import Prior

#: Names of the mixture model's variables (standardized scale).
WEIGHTS_VAR = "component_weights"
LEVEL_VAR = "mean_level"
REST_VAR = "mean_rest"
DIRECTION_DATA = "mean_direction"
#: The dims of ``mean_rest``'s coordinates and of the correlations' free values.
REST_DIM = "mean_rest_dim"
PAIR_DIM = "chol_cpc_dim"
#: The components' sds (C, K) and the free coordinates of their correlation matrices
#: (C, K (K - 1) / 2); one row of each when the covariance is shared.
SD_VAR = f"{CHOL_VAR}_sd"
CORR_VAR = f"{CHOL_VAR}_cpc"
#: The default Dirichlet concentration of the weights (below 1: sparse).
DEFAULT_CONCENTRATION = 0.5
#: The model attribute holding the sampler's candidate starts (:func:`starting_points`).
START_ATTRIBUTE = "skillinfer_start"
#: The ``pm.Data`` of the components' floor variances (:func:`component_floor`).
FLOOR_DATA = "component_floor_variance"
#: The largest jitter of the chains around that start, on the unconstrained scale (small: a
#: mixture's posterior has minor modes a wide jitter can drop a chain into; the numpyro backend
#: jitters less where the Laplace sd at the start is smaller).
START_JITTER = 0.1


def first_direction(data: Sequence[PatternRows] | tuple[np.ndarray, np.ndarray],
                    K: int) -> np.ndarray:
    """The unit vector the components are numbered along: the data's first principal direction
    (:func:`~skillinfer_bayes.models.principal.principal_basis`), its largest entry positive.

    Examples
    --------
    >>> from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
    >>> X = np.random.default_rng(0).normal(size=(100, 2)) * [0.2, 3.0]
    >>> np.round(np.abs(first_direction(rows_by_pattern(X), 2)), 1).tolist()
    [0.0, 1.0]
    """
    return principal_basis(data, K)[:, 0]


def build_mixture_model(
    data: Sequence[PatternRows] | tuple[np.ndarray, np.ndarray],
    benchmarks: Sequence[str],
    prior: Prior,
    n_components: int,
    shared_covariance: bool = False,
    concentration: float = DEFAULT_CONCENTRATION,
) -> pm.Model:
    """The mixture model (see the module docstring) of standardized scores.

    Parameters
    ----------
    data : sequence of PatternRows, or (values, mask)
        The rows grouped by missingness pattern
        (:func:`~skillinfer_bayes.models.mixture_likelihood.rows_by_pattern`; one block of the
        graph per pattern), or the (N, K) rows (0 where missing) and their 0/1 mask (the
        batched per-row kernel, one graph whatever the missingness).
    benchmarks : sequence of str
        The latent dimensions' names.
    prior : Prior
        ``mean_scale``, ``eta`` and the sd prior, per component as in the LKJ model.
    n_components : int
        C, at least 2.
    shared_covariance : bool, default False
        One covariance for all components (each component then differs only by its mean).
    concentration : float, default 0.5
        The Dirichlet concentration of the weights.

    Returns
    -------
    pymc.Model
        Free variables ``component_weights`` (C), ``mean_level`` (C), ``mean_rest``
        (C, K - 1), ``chol_sd`` (C, K) and, when K > 1, ``chol_cpc`` (C, K (K - 1) / 2, the
        partial correlations z as ``(z + 1) / 2``), one row of each when shared;
        deterministics ``mu_std`` (C, K), ``chol_stds`` (C, K) and ``chol_corr`` (C, K, K)
        (the same shapes when shared);
        the likelihood as the potential ``loglik``.
    """
    K = len(benchmarks)
    C = check_n_components(n_components)
    if not (np.isfinite(concentration) and concentration > 0):
        raise ValueError(f"concentration must be a positive number; got {concentration!r}.")
    u = first_direction(data, K)
    basis = np.linalg.svd(u[:, None], full_matrices=True)[0]  # orthonormal, first column +-u
    basis[:, 0] = u
    coords = {"benchmark": list(benchmarks), "benchmark_bis": list(benchmarks),
              "component": list(range(C)), REST_DIM: list(range(K - 1))}
    with pm.Model(coords=coords) as model:
        weights = pm.Dirichlet(WEIGHTS_VAR, a=np.full(C, float(concentration)),
                               dims="component")
        level = pm.Normal(LEVEL_VAR, 0.0, prior.mean_scale, dims="component")
        rest = pm.Normal(REST_VAR, 0.0, prior.mean_scale, dims=("component", REST_DIM))
        directions = pm.Data(DIRECTION_DATA, basis)
        mus = pm.Deterministic(
            MEAN_VAR, pt.concatenate([level[:, None], rest], axis=1) @ directions.T,
            dims=("component", "benchmark"))
        covariances = 1 if shared_covariance else C
        # per component: a ``component`` dim, so relabelling permutes them with the rest
        labelled = {} if shared_covariance else {"dims": ("component", "benchmark")}
        sds = sd_distribution(prior, (covariances, K), name=SD_VAR, **labelled)
        if K > 1:  # the partial correlations of LKJ(eta), as Beta((z + 1) / 2)
            b = partial_correlation_concentration(K, prior.eta)
            if not shared_covariance:
                model.add_coord(PAIR_DIM, list(range(len(b))))
                labelled = {"dims": ("component", PAIR_DIM)}
            cpc = pm.Beta(CORR_VAR, alpha=b, beta=b, shape=(covariances, len(b)), **labelled)
            corr_factor = correlation_cholesky(2.0 * cpc - 1.0, K)
        else:
            corr_factor = pt.ones((covariances, 1, 1))
        stacked = sds[:, :, None] * corr_factor  # (C, K, K), or (1, K, K) when shared
        floor = component_floor(data, K, prior.component_floor)
        if floor is not None:  # the floored covariances' factors (see component_floor)
            # data, not a constant: a compiled sampler reused for other data takes their floor
            floor_variance = pm.Data(FLOOR_DATA, floor**2)
            stacked = pt.linalg.cholesky(pt.matmul(stacked, stacked.mT)
                                         + pt.diag(floor_variance))
        covs = pt.broadcast_to(pt.matmul(stacked, stacked.mT), (C, K, K))
        register_jax()  # the likelihood's log-sum-exp in JAX's own form (numpyro)
        stds = pt.sqrt(pt.diagonal(covs, axis1=1, axis2=2))
        pm.Deterministic(f"{CHOL_VAR}_stds", stds, dims=("component", "benchmark"))
        pm.Deterministic(f"{CHOL_VAR}_corr", covs / (stds[:, :, None] * stds[:, None, :]),
                         dims=("component", "benchmark", "benchmark_bis"))
        log_weights = pt.log(weights)
        if is_rows(data):
            values = pm.Data(ROW_VALUES, data[0])
            mask = pm.Data(ROW_MASK, data[1])
            total = pt.sum(masked_mixture_loglik(values, mask, log_weights, mus,
                                                 [covs[c] for c in range(C)]))
        else:
            total = sum(
                pt.sum(mixture_pattern_loglik(pm.Data(f"rows_{p}",
                                                      quadratic_features(pattern.values)),
                                              pattern.observed, log_weights, mus, stacked, K))
                for p, pattern in enumerate(data))
        pm.Potential("loglik", total)
    setattr(model, START_ATTRIBUTE,
            starting_points(data, K, C, shared_covariance, basis, floor))
    return model


#: The EM runs of :func:`starting_points`: scikit-learn's ``init_params`` and seed of each.
EM_STARTS = (("kmeans", 0), *(("k-means++", seed) for seed in range(6)),
             *(("random_from_data", seed) for seed in range(6)))


def starting_points(data, K: int, C: int, shared_covariance: bool, basis: np.ndarray,
                    floor: np.ndarray | None = None) -> list[dict[str, np.ndarray]]:
    """The candidate starts of the chains: :func:`starting_point` from each EM run of
    :data:`EM_STARTS` (the sampler keeps the one whose posterior mode is highest,
    :func:`~skillinfer_bayes.inference.warmup.best_posterior_mode`).

    A mixture's posterior has many modes, and EM from one initialization finds one of them.
    On the leaderboard without 50 models (C = 4, a covariate), the modes reached from these
    13 runs lay between 24,235 and 25,816 in potential energy (the negative log density), and
    the k-means start's, 25,243, a thousand units above the best: its chains stayed there, or
    some found a better mode during the draws (r_hat 1.5).

    Examples
    --------
    >>> from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
    >>> rows = rows_by_pattern(np.random.default_rng(0).normal(size=(60, 2)))
    >>> u = first_direction(rows, 2)
    >>> starts = starting_points(rows, 2, 3, False, np.column_stack([u, [-u[1], u[0]]]))
    >>> len(starts) == len(EM_STARTS), sorted(starts[0]) == sorted(starts[-1])
    (True, True)
    """
    return [starting_point(data, K, C, shared_covariance, basis, floor, init=init, seed=seed)
            for init, seed in EM_STARTS]


def starting_point(data, K: int, C: int, shared_covariance: bool,
                   basis: np.ndarray, floor: np.ndarray | None = None,
                   init: str = "kmeans", seed: int = 0) -> dict[str, np.ndarray]:
    """Where the chains start (before :func:`~skillinfer_bayes.inference.warmup.posterior_mode`
    moves them to the posterior's mode): a plug-in Gaussian mixture fitted by EM
    (:class:`sklearn.mixture.GaussianMixture`, initialized by ``init`` with ``seed``), its
    components numbered along ``basis[:, 0]`` (``u``), on the model's unconstrained scale.

    A mixture's posterior has minor modes (two components splitting one cluster while two
    others share one); chains started at random settle in them (on the leaderboard, one chain
    of four at a log density 53 below the others). EM's solution lies in a mode, and the
    chains start there with a small jitter (:data:`START_JITTER`), from the best of several EM
    runs (:func:`starting_points`). Rows with missing values enter EM with the missing
    entries at the mean (0 on the standardized scale); EM only chooses the start. With a
    ``floor`` (:func:`component_floor`) the sds and correlations hold each EM covariance less
    ``diag(floor^2)``, its eigenvalues kept at 1e-4 or more.

    Returns
    -------
    dict
        Values of the model's value variables (``component_weights_simplex__``,
        ``mean_level``, ``mean_rest``, ``chol_sd_log__``, ``chol_cpc_logodds__``).

    Examples
    --------
    >>> from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
    >>> X = np.vstack([np.random.default_rng(0).normal(size=(50, 2)) + [4.0, 4.0],
    ...                np.random.default_rng(1).normal(size=(50, 2))])
    >>> u = first_direction(rows_by_pattern(X), 2)
    >>> basis = np.linalg.svd(u[:, None], full_matrices=True)[0]; basis[:, 0] = u
    >>> start = starting_point(rows_by_pattern(X), 2, 2, False, basis)
    >>> round(float(np.ptp(start["mean_level"])))  # the clusters' distance along u
    6
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    X = _dense_rows(data, K)
    with warnings.catch_warnings():  # EM only chooses a start
        warnings.simplefilter("ignore", ConvergenceWarning)
        gmm = GaussianMixture(C, covariance_type="tied" if shared_covariance else "full",
                              random_state=seed, init_params=init, reg_covar=1e-4,
                              max_iter=200).fit(X)
    coordinates = gmm.means_ @ basis  # (C, K): the level along u, then the rest
    order = np.argsort(coordinates[:, 0], kind="stable")
    level = coordinates[order, 0]
    covariances = ([gmm.covariances_] if shared_covariance
                   else [gmm.covariances_[c] for c in order])
    weights = np.clip(gmm.weights_[order], 1e-6, None)
    log_w = np.log(weights / weights.sum())
    start = {
        f"{WEIGHTS_VAR}_simplex__": log_w[:-1] - log_w.mean(),
        LEVEL_VAR: level,
        REST_VAR: coordinates[order, 1:],
    }
    covariances = np.stack(covariances)
    if floor is not None:  # the model adds diag(floor^2) to what sds and correlations hold
        values, vectors = np.linalg.eigh(covariances - np.diag(floor**2))
        kept = vectors * np.maximum(values, 1e-4)[:, None, :]
        covariances = kept @ np.swapaxes(vectors, -1, -2)
    sds = np.sqrt(np.diagonal(covariances, axis1=1, axis2=2))
    start[f"{SD_VAR}_log__"] = np.log(sds)
    if K > 1:
        z = partial_correlations(covariances / (sds[:, :, None] * sds[:, None, :]))
        start[f"{CORR_VAR}_logodds__"] = 2.0 * np.arctanh(z)  # logit((z + 1) / 2)
    return start


def component_floor(data, K: int, fraction: float) -> np.ndarray | None:
    """The (K,) sds every component's covariance adds on its diagonal: ``fraction`` of each
    dimension's sd in ``data`` (None when ``fraction`` is 0).

    A Gaussian mixture's likelihood grows without bound as a component narrows onto rows
    that tie on a dimension: on the leaderboard 930 of 4,576 models have exactly 8.03 B
    parameters and GPQA takes 227 distinct values. The posterior then has spikes, one per
    set of tied rows a component can collapse on, where NUTS diverges and chains settle in
    different ones (C = 4 on the protocol's training split: r_hat 1.52, 237 divergences).
    With ``Sigma_c = L_c L_c' + diag(floor^2)``, no component is narrower than the floor
    in any dimension and the likelihood is bounded: the mixture describes the population at
    the resolution of the floor (the Bayesian counterpart of scikit-learn's ``reg_covar``).
    :attr:`~skillinfer_bayes.Prior.component_floor` sets ``fraction``.

    Examples
    --------
    >>> from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
    >>> X = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    >>> component_floor(rows_by_pattern(X), 2, 0.1).round(4).tolist()  # sd 1.633 and 0
    [0.1633, 0.0]
    >>> component_floor(rows_by_pattern(X), 2, 0.0) is None
    True
    """
    if fraction == 0:
        return None
    if is_rows(data):
        values, mask = (np.asarray(x, dtype=float) for x in data)
        count = mask.sum(axis=0)
        mean = (values * mask).sum(axis=0) / np.maximum(count, 1)
        variance = (((values - mean) * mask) ** 2).sum(axis=0) / np.maximum(count, 1)
    else:
        total, squares, count = np.zeros(K), np.zeros(K), np.zeros(K)
        for pattern in data:
            total[pattern.observed] += pattern.values.sum(axis=0)
            squares[pattern.observed] += (pattern.values**2).sum(axis=0)
            count[pattern.observed] += len(pattern.values)
        mean = total / np.maximum(count, 1)
        variance = np.maximum(squares / np.maximum(count, 1) - mean**2, 0.0)
    return fraction * np.sqrt(variance)


def _dense_rows(data, K: int) -> np.ndarray:
    """(N, K) rows of the model's data with missing entries at 0 (the standardized mean)."""
    if is_rows(data):
        values, mask = data
        return np.where(np.asarray(mask) > 0, values, 0.0)
    blocks = []
    for pattern in data:
        block = np.zeros((len(pattern.values), K))
        block[:, pattern.observed] = pattern.values
        blocks.append(block)
    return np.vstack(blocks)


def check_n_components(n_components) -> int:
    """``n_components`` as an int of at least 2 (a clear error otherwise).

    Examples
    --------
    >>> check_n_components(3)
    3
    """
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
            or n_components < 2:
        raise ValueError(
            f"n_components must be an integer of at least 2 (one component is the "
            f"multivariate-normal model, covariance='lkj'); got {n_components!r}."
        )
    return int(n_components)


def mixture_moments(weights: np.ndarray, means: np.ndarray,
                    covariances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean and covariance of a mixture of normals, per draw: ``sum_c w_c mu_c`` and
    ``sum_c w_c (Sigma_c + mu_c mu_c') - mu mu'`` (the law of total variance).

    Parameters
    ----------
    weights : numpy.ndarray
        (S, C) weights, each row summing to 1.
    means : numpy.ndarray
        (S, C, K) component means.
    covariances : numpy.ndarray
        (S, C, K, K) component covariances.

    Returns
    -------
    tuple of numpy.ndarray
        (S, K) means and (S, K, K) covariances.

    Examples
    --------
    Two unit-variance components at -1 and +1, equal weights: variance 1 + 1 = 2.

    >>> mu, cov = mixture_moments(np.array([[0.5, 0.5]]), np.array([[[-1.0], [1.0]]]),
    ...                           np.ones((1, 2, 1, 1)))
    >>> mu.tolist(), cov.tolist()
    ([[0.0]], [[[2.0]]])
    """
    mean = np.einsum("sc,sck->sk", weights, means)
    second = np.einsum("sc,sckl->skl", weights, covariances) + np.einsum(
        "sc,sck,scl->skl", weights, means, means)
    return mean, second - mean[:, :, None] * mean[:, None, :]
