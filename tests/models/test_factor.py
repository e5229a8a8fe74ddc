"""The factor-covariance model: its likelihood against per-row PyMC/scipy densities, its
specification errors, and a population fitted with it (fake sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytest
from helpers import (
    QUICK,
    assert_chosen_by_paired_loo,
    assert_same_logp_and_gradient,
    simulate_sparse,
)
from scipy.stats import multivariate_normal

import skillinfer_bayes as sib
from skillinfer_bayes.data.sufficient_stats import pattern_stats
from skillinfer_bayes.models.factor import BASIS_DATA, build_factor_model
from skillinfer_bayes.models.factor_em import fit_factor_em
from skillinfer_bayes.models.masked import masked_rows
from skillinfer_bayes.models.principal import factor_basis, principal_basis
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.predictive.components import ComponentDraws
from skillinfer_bayes.predictive.profile import Profile

FAKE = dict(draws=200, chains=2, progressbar=False, transform=None, normalize=False)


def test_the_factor_likelihood_is_the_sum_of_the_rows_densities():
    X = simulate_sparse(30, 8, 0.5, seed=1, r=2).to_numpy()
    model = build_factor_model(masked_rows(X), [f"b{k}" for k in range(8)], Prior(), 2)
    rng = np.random.default_rng(2)
    point = {k: v + rng.normal(scale=0.5, size=np.shape(v))
             for k, v in model.initial_point(random_seed=3).items()}
    outputs = model.replace_rvs_by_values(
        [model[name] for name in ("loglik", "mu_std", "loadings", "specific_sd", "chol_corr")])
    fn = pytensor.function(model.value_vars, outputs, on_unused_input="ignore", mode=QUICK)
    loglik, *values, corr = fn(*[point[v.name] for v in model.value_vars])
    mu, loadings, psi = values
    cov = loadings @ loadings.T + np.diag(psi**2)
    ref = sum(multivariate_normal(mu[o], cov[np.ix_(o, o)]).logpdf(x[o])
              for x in X for o in [~np.isnan(x)])
    assert float(loglik) == pytest.approx(ref, rel=1e-10)
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(corr, cov / np.outer(sd, sd), rtol=1e-10)


def test_the_principal_basis_is_the_same_from_rows_and_from_patterns():
    X = simulate_sparse(80, 6, 0.6, seed=5, r=2).to_numpy()
    from_rows = principal_basis(masked_rows(X), 6)
    from_patterns = principal_basis(pattern_stats(X), 6)
    np.testing.assert_allclose(from_rows.T @ from_rows, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(np.abs(from_rows.T @ from_patterns), np.eye(6), atol=1e-8)
    # its first direction is the top eigenvector of the pairwise second moments
    Z = np.nan_to_num(X)
    known = (~np.isnan(X)).astype(float)
    second = (Z.T @ Z) / (known.T @ known)
    top = np.linalg.eigh(second)[1][:, -1]
    assert abs(top @ from_rows[:, 0]) == pytest.approx(1.0, abs=1e-10)
    assert np.array_equal(principal_basis(masked_rows(np.zeros((1, 3))), 3), np.eye(3))


def test_a_sparse_table_is_gauged_on_its_em_subspace_a_complete_one_on_its_moments():
    X = simulate_sparse(120, 8, 0.4, seed=8, r=2).to_numpy()
    W = factor_basis(masked_rows(X), 8, 2)
    np.testing.assert_allclose(W.T @ W, np.eye(8), atol=1e-10)
    loadings = fit_factor_em(X, 2, max_iter=300, tol=1e-6).loadings
    outside = loadings - W[:, :2] @ (W[:, :2].T @ loadings)  # nothing outside the first two
    assert np.abs(outside).max() < 1e-8 * np.abs(loadings).max()
    complete = simulate_sparse(120, 8, 1.0, seed=8, r=2).to_numpy()
    np.testing.assert_allclose(factor_basis(masked_rows(complete), 8, 2),
                               principal_basis(masked_rows(complete), 8))


def test_the_gauged_loadings_have_the_prior_of_free_standard_normal_loadings():
    """Bartlett: with the rotation fixed by a lower-triangular block whose squared diagonal is
    ChiSquared(r - j + 1), Z Z' has the Wishart(I, r) law of free N(0, 1) loadings, whatever
    the orthonormal basis: mean r I, variance r off the diagonal and 2 r on it."""
    K, r, n = 5, 3, 40_000
    basis = np.linalg.qr(np.random.default_rng(0).normal(size=(K, K)))[0]
    model = build_factor_model(masked_rows(np.zeros((1, K))), [f"b{k}" for k in range(K)],
                               Prior(), r, basis=basis)
    loadings, scale = pm.draw([model["loadings"], model["factor_scale"]], draws=n,
                              random_seed=1)
    Z = loadings / scale[:, None, :]
    ZZ = Z @ np.swapaxes(Z, 1, 2)
    np.testing.assert_allclose(ZZ.mean(0), r * np.eye(K), atol=0.1)
    i, j = np.triu_indices(K, 1)
    np.testing.assert_allclose(ZZ[:, i, j].var(0), r, rtol=0.1)
    np.testing.assert_allclose(np.diagonal(ZZ, axis1=1, axis2=2).var(0), 2 * r, rtol=0.1)


def test_a_bad_basis_gets_a_clear_error_and_a_good_one_enters_as_data():
    X = np.random.default_rng(0).normal(size=(20, 4))
    names = [f"b{k}" for k in range(4)]
    with pytest.raises(ValueError, match=r"basis must be an orthonormal \(4, 4\) matrix"):
        build_factor_model(masked_rows(X), names, Prior(), 2, basis=np.ones((4, 4)))
    model = build_factor_model(masked_rows(X), names, Prior(), 2)
    # data, not a constant: fits of same-shaped tables reuse one compiled sampler
    assert BASIS_DATA in [v.name for v in model.data_vars]


def test_the_per_pattern_factor_likelihood_equals_the_per_row_one_and_its_gradient():
    X = simulate_sparse(60, 5, 1.0, seed=11, r=2).to_numpy().copy()
    X[40:50, 1] = np.nan  # three patterns: complete, one missing, two missing
    X[50:, [0, 3]] = np.nan
    names = [f"b{k}" for k in range(5)]
    stats = pattern_stats(X)
    assert len(stats) == 3 and len(stats[0].observed) == 5
    basis = factor_basis(masked_rows(X), 5, 2)  # one gauge for both forms
    per_pattern = build_factor_model(tuple(stats), names, Prior(), 2, basis=basis)
    per_row = build_factor_model(masked_rows(X), names, Prior(), 2, basis=basis)
    assert_same_logp_and_gradient(per_row, per_pattern, seed=12)


def test_a_factor_population_predicts_and_bad_specifications_are_refused(fake_sampler,
                                                                          tmp_path):
    df = simulate_sparse(40, 10, 0.4, seed=4, r=2)
    pop = sib.Population.from_dataframe(df, covariance="factor", n_factors=2, random_seed=0,
                                        **FAKE)
    assert pop.Sigma_draws.shape == (400, 10, 10)
    assert pop.idata.attrs["covariance"] == "factor" and pop.idata.attrs["n_factors"] == 2
    table = pop.profile().observe("b0", 0.5).predict()
    assert np.isfinite(table[["mean", "std", "lower", "upper"]].to_numpy()).all()
    # the predictive conditions through the factors; the dense covariances give the same
    components = pop.predictive_components()
    assert components.loadings.shape == (400, 1, 10, 2)
    dense = Profile(pop.description, pop.default_noise(),
                    ComponentDraws.normal(*pop.predictive_draws()))
    pd.testing.assert_frame_equal(dense.observe("b0", 0.5).predict(), table, rtol=1e-9)
    assert pop.covariance_structure == "factor" and pop.n_factors == 2
    pop.to_netcdf(tmp_path / "factor.nc")
    loaded = sib.Population.from_netcdf(tmp_path / "factor.nc", data=df)
    assert loaded.n_factors == 2
    pd.testing.assert_frame_equal(loaded.profile().observe("b0", 0.5).predict(), table)
    prior = pop.sample_prior_predictive(draws=10, n_entities=5, random_seed=1)
    assert prior["prior_predictive"]["scores"].shape == (1, 10, 5, 10)
    corr = prior["prior"]["corr"].values[0]  # the factor model's: rank 2 plus a diagonal,
    # so a 3 x 3 block off the diagonal is singular (an LKJ draw's is not)
    block = corr[:, :3, 3:6]
    assert (np.abs(np.linalg.det(block)) < 1e-12).all()
    with pytest.raises(ValueError, match=r"covariance='factor' needs n_factors, a positive "
                                         r"integer \(e.g. 2\) or 'auto' \(chosen by "
                                         r"PSIS-LOO\); got None"):
        sib.Population.from_dataframe(df, covariance="factor", **FAKE)
    with pytest.raises(ValueError, match=r"n_factors=2 is for covariance='factor'"):
        sib.Population.from_dataframe(df, n_factors=2, **FAKE)
    with pytest.raises(ValueError, match=r"n_factors must be an integer from 1 to 9 .*got 10"):
        sib.Population.from_dataframe(df, covariance="factor", n_factors=10, **FAKE)
    with pytest.raises(ValueError, match=r"Unknown covariance 'dense'; choose one of "
                                         r"\['lkj', 'factor'\]"):
        sib.Population.from_dataframe(df, covariance="dense", **FAKE)
    with pytest.raises(ValueError, match="groups are not supported with covariance='factor'"):
        sib.Population.from_dataframe(df.assign(g=["x", "y"] * 20), groups="g",
                                      covariance="factor", n_factors=2, **FAKE)


def test_auto_factors_add_a_rank_only_on_a_significant_loo_gain(fake_sampler, tmp_path):
    df = simulate_sparse(40, 6, 0.7, seed=14)
    pop = sib.Population.from_dataframe(df, covariance="factor", n_factors="auto",
                                        random_seed=0, **FAKE)
    table = pop.factor_selection
    assert_chosen_by_paired_loo(table, pop.n_factors, 5)  # at most K - 1 factors
    assert "chosen by PSIS-LOO among" in str(pop)
    pop.to_netcdf(tmp_path / "auto.nc")
    loaded = sib.Population.from_netcdf(tmp_path / "auto.nc", data=df)
    pd.testing.assert_frame_equal(loaded.factor_selection, table)
    given = sib.Population.from_dataframe(df, covariance="factor", n_factors=2, **FAKE)
    assert given.factor_selection is None and "chosen by" not in str(given)
    with pytest.raises(ValueError, match="n_factors='auto' is for covariance='factor'"):
        sib.Population.from_dataframe(df, n_factors="auto", **FAKE)
    with pytest.raises(ValueError, match="n_factors='auto' needs at least two benchmarks; "
                                         "got 1"):
        sib.Population.from_dataframe(df[["b0"]], covariance="factor", n_factors="auto",
                                      **FAKE)


@pytest.mark.slow
def test_a_factor_fit_recovers_the_correlations_and_predicts_calibrated_new_rows():
    rng = np.random.default_rng(7)
    K, r, N = 8, 2, 120
    loadings = rng.normal(size=(K, r)) * 0.8
    cov = loadings @ loadings.T + np.diag(rng.uniform(0.3, 0.6, K) ** 2)
    mu = rng.normal(size=K)
    X = rng.multivariate_normal(mu, cov, size=N)
    missing = rng.random(X.shape) < 0.4
    missing[np.arange(N), rng.integers(K, size=N)] = False  # every row keeps a score
    X[missing] = np.nan
    df = pd.DataFrame(X, columns=[f"b{k}" for k in range(K)])
    pop = sib.Population.from_dataframe(df, covariance="factor", n_factors=r, random_seed=1,
                                        draws=500, tune=500, progressbar=False,
                                        target_accept=0.9, transform=None, normalize=False)
    assert pop.diagnostics()["max_r_hat"] <= 1.01
    sd = np.sqrt(np.diag(cov))
    truth = cov / np.outer(sd, sd)
    iu = np.triu_indices(K, 1)
    # the correlations are recovered: as close to the truth as each pair's own sample
    # correlation (from the rows where both are known; sampling error about 0.1 per pair)
    pairwise = df.corr().to_numpy()
    error = np.abs(pop.correlation.to_numpy()[iu] - truth[iu]).mean()
    assert error < 0.08 and error < 1.25 * np.abs(pairwise[iu] - truth[iu]).mean()
    # new entities from the true population, two benchmarks observed: calibrated intervals
    from skillinfer_bayes.predictive.components import condition_components
    from skillinfer_bayes.predictive.mixture import mixture_cdf

    new = rng.multivariate_normal(mu, cov, size=2000)
    mixture = condition_components(pop.predictive_components(), np.array([0, 5]),
                                   new[:, [0, 5]], 0.0)
    rest = [k for k in range(K) if k not in (0, 5)]
    m = np.swapaxes(mixture.means, 1, 2)[:, rest]
    pit = mixture_cdf(new[:, rest], m, np.sqrt(mixture.cov.T[rest])).ravel()
    for level in (0.5, 0.9):
        assert np.mean(np.abs(pit - 0.5) <= level / 2) == pytest.approx(level, abs=0.03)


def test_the_command_line_fits_a_factor_covariance(fake_sampler, tmp_path, capsys):
    from skillinfer_bayes.cli import main

    simulate_sparse(40, 6, 0.7, seed=15).to_csv(tmp_path / "wide.csv", index_label="model")
    common = ["--data", str(tmp_path / "wide.csv"), "--index-col", "model", "--draws", "200",
              "--chains", "2", "--quiet", "--transform", "none", "--no-cache"]
    out = tmp_path / "factor.nc"
    assert main(["fit", "--output", str(out), "--covariance", "factor", "--n-factors", "2",
                 *common]) == 0
    assert sib.Population.from_netcdf(out).n_factors == 2
    assert main(["predict", "--posterior", str(out), "--observe", "b0=0.5"]) == 0
    assert "b5" in capsys.readouterr().out
    assert main(["fit", "--output", str(out), "--covariance", "factor", "--n-factors", "two",
                 *common]) == 2
    assert "--n-factors takes a positive integer or auto; got 'two'" in capsys.readouterr().err
