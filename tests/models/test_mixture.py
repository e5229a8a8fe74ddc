"""The mixture model: its likelihood against scipy's per-row mixture densities, in both data
forms, its exchangeable components, and its specification errors."""

from __future__ import annotations

import numpy as np
import pytensor
import pytest
from helpers import QUICK, assert_same_logp_and_gradient
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from skillinfer_bayes.models.correlation import correlation_cholesky
from skillinfer_bayes.models.masked import masked_rows
from skillinfer_bayes.models.mixture import (
    EM_STARTS,
    build_mixture_model,
    component_floor,
    first_direction,
)
from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
from skillinfer_bayes.models.priors import Prior

NAMES = [f"b{k}" for k in range(4)]


def _table(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(-1.0, 0.7, (25, 4)), rng.normal(1.0, 1.0, (35, 4))])
    X[40:48, 1] = np.nan  # three patterns: complete, one missing, two missing
    X[48:, [0, 3]] = np.nan
    return X


def _evaluate(model, names, seed, scale=0.3):
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(scale=scale, size=np.shape(v))
             for k, v in model.initial_point(random_seed=seed).items()}
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    fn = pytensor.function(model.value_vars, outputs, on_unused_input="ignore", mode=QUICK)
    return point, fn(*[point[v.name] for v in model.value_vars])


def _reference(X, weights, mus, covs):
    total = 0.0
    for x in X:
        o = ~np.isnan(x)
        total += logsumexp([np.log(w) + multivariate_normal(m[o], S[np.ix_(o, o)]).logpdf(x[o])
                            for w, m, S in zip(weights, mus, covs)])
    return total


@pytest.mark.parametrize(("form", "shared"), [("patterns", False), ("rows", True)],
                         ids=["by pattern, own covariances", "by row, shared covariance"])
def test_the_mixture_likelihood_is_the_sum_of_the_rows_mixture_densities(form, shared):
    X = _table()
    data = rows_by_pattern(X) if form == "patterns" else masked_rows(X)
    model = build_mixture_model(data, NAMES, Prior(), 3, shared_covariance=shared)
    names = ["loglik", "component_weights", "mu_std", "chol_sd", "chol_cpc"]
    _, (loglik, weights, mus, sds, cpc) = _evaluate(model, names, seed=1)
    assert sds.shape == ((1, 4) if shared else (3, 4))
    # the covariances from the sds and the correlations' free values, plus the floor: 0.1 of
    # each dimension's sd in the data
    floor = 0.1 * np.nanstd(X, axis=0)
    np.testing.assert_allclose(component_floor(data, 4, 0.1), floor, rtol=1e-12)
    covs = []
    for c in range(3):
        L = correlation_cholesky(2.0 * cpc[0 if shared else c] - 1.0, 4).eval()
        sd = sds[0 if shared else c]
        covs.append(sd[:, None] * (L @ L.T) * sd[None, :] + np.diag(floor**2))
    assert float(loglik) == pytest.approx(_reference(X, weights, mus, covs), rel=1e-10)


def test_the_floor_bounds_the_likelihood_of_a_component_collapsing_on_tied_rows():
    """Rows that tie on a dimension (models of one parameter count): without the floor a
    component narrowing onto them gains log density without bound; with it the gain stops."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    X[:30, 1] = 0.5  # half the rows share one value
    data = rows_by_pattern(X)

    u = first_direction(data, 2)
    basis = np.linalg.svd(u[:, None], full_matrices=True)[0]
    basis[:, 0] = u
    # component 1 centred on the tied value, component 0 below it along the first direction
    coordinates = np.array([[0.0, 0.5], [0.0, 0.5]]) @ basis
    coordinates[0, 0] = coordinates[1, 0] - 1.0

    def logp_as_component_narrows(floor):
        model = build_mixture_model(data, ["a", "b"], Prior(component_floor=floor), 2)
        logp = model.compile_logp(mode=QUICK)
        point = dict(model.skillinfer_start[0])
        point["mean_level"] = coordinates[:, 0]
        point["mean_rest"] = coordinates[:, 1:]
        point["chol_cpc_logodds__"] = np.zeros((2, 1))  # uncorrelated components
        values = []
        for log_sd in (-2.0, -6.0, -10.0, -14.0):  # component 1's sd of b: e^-2 ... e^-14
            log_sds = np.array([point["chol_sd_log__"][0], [0.0, log_sd]])
            values.append(float(logp({**point, "chol_sd_log__": log_sds})))
        return np.array(values)

    assert np.all(np.isfinite(logp_as_component_narrows(0.1)))
    assert np.all(np.diff(logp_as_component_narrows(0.1)) < 1e-6)  # nothing to gain
    # without it, once the component holds only the tied rows: ever higher, without bound
    assert np.all(np.diff(logp_as_component_narrows(0.0)[1:]) > 50.0)


def test_both_data_forms_give_the_same_logp_and_gradient():
    X = _table(3)
    by_pattern = build_mixture_model(rows_by_pattern(X), NAMES, Prior(), 2)
    by_row = build_mixture_model(masked_rows(X), NAMES, Prior(), 2)
    assert_same_logp_and_gradient(by_row, by_pattern, seed=4, scale=0.3)


def test_the_components_are_exchangeable():
    """Permuting the components' values (weights, means, sds, correlations) leaves the log
    density unchanged: no label is preferred, the fit relabels after sampling."""
    X = _table(6)
    model = build_mixture_model(rows_by_pattern(X), NAMES, Prior(), 3)
    logp = model.compile_logp(mode=QUICK)
    rng = np.random.default_rng(0)
    point = {k: v + rng.normal(scale=0.5, size=np.shape(v))
             for k, v in model.initial_point(random_seed=0).items()}
    # the weights' simplex transform: log w_c - mean, the first C - 1 of them
    simplex = np.append(point["component_weights_simplex__"],
                        -point["component_weights_simplex__"].sum())
    for order in ([1, 0, 2], [2, 0, 1]):
        permuted = {k: (v[order] if k != "component_weights_simplex__" else
                        (simplex[order] - simplex[order].mean())[:-1])
                    for k, v in point.items()}
        assert float(logp(permuted)) == pytest.approx(float(logp(point)), rel=1e-10)
    for name in ("mean_level", "mean_rest", "chol_sd", "chol_cpc", "component_weights"):
        assert model.named_vars_to_dims[name][0] == "component"  # relabelling permutes them
    # the direction the components are numbered along: the clusters differ along (1, 1, 1, 1)
    u = first_direction(rows_by_pattern(X), 4)
    assert abs(u @ np.full(4, 0.5)) > 0.9


def test_bad_specifications_get_clear_errors():
    data = rows_by_pattern(_table())
    with pytest.raises(ValueError, match=r"n_components must be an integer of at least 2.*got 1"):
        build_mixture_model(data, NAMES, Prior(), 1)
    with pytest.raises(ValueError, match=r"concentration must be a positive number; got 0"):
        build_mixture_model(data, NAMES, Prior(), 2, concentration=0)


def test_the_start_is_the_em_solution_on_the_models_unconstrained_scale():
    """The sampler's start maps back (through PyMC's own transforms) to an ordered EM
    solution, from each EM run: weights summing to 1, increasing levels, positive sds."""
    X = _table()
    model = build_mixture_model(rows_by_pattern(X), NAMES, Prior(), 2)
    starts = model.skillinfer_start  # one per EM run, the k-means one first
    assert len(starts) == len(EM_STARTS)
    names = ["component_weights", "mean_level", "mu_std", "chol_stds"]
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    fn = pytensor.function(model.value_vars, outputs, on_unused_input="ignore", mode=QUICK)
    logp = model.compile_logp(mode=QUICK)
    for start in starts:
        assert sorted(start) == sorted(v.name for v in model.value_vars)
        weights, level, mus, stds = fn(*[start[v.name] for v in model.value_vars])
        assert np.isclose(weights.sum(), 1.0) and np.all(np.diff(level) > 0)
        assert np.all(stds > 0) and np.isfinite(logp(start))
    weights, level, mus, stds = fn(*[starts[0][v.name] for v in model.value_vars])
    # the table's two clusters: means near -1 and +1 (standardized by hand here: raw scale)
    assert np.allclose(np.sort(np.nanmean(mus, axis=1)), [-1.0, 1.0], atol=0.35)
    assert np.all((stds > 0.4) & (stds < 1.5))
