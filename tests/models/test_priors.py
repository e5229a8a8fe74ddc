"""Prior choices: prior predictive checks, prior comparison, SBC, parallel fits."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from helpers import LLAMA

import skillinfer_bayes as sib

matplotlib.use("Agg")

SMALL = dict(draws=400, tune=400, chains=2, progressbar=False)
# Small draw counts keep the suite fast; a borderline r_hat on a 20-model population is not
# what these tests check (the slow tests and test_population check convergence).
pytestmark = pytest.mark.filterwarnings("ignore::skillinfer_bayes.SamplerWarning")


# ---------------------------------------------------------------- prior predictive
def test_prior_predictive_matches_the_lkj_and_normal_priors(simulated_pop):
    prior = simulated_pop.sample_prior_predictive(draws=4000, n_entities=20, random_seed=1)
    corr = prior["prior"]["corr"].values.reshape(-1, 3, 3)[:, 0, 1]
    # LKJ(eta) in K dims: each correlation is 2 Beta(a, a) - 1 with a = eta - 1 + K / 2
    a = simulated_pop.prior.eta - 1 + 3 / 2
    assert corr.mean() == pytest.approx(0.0, abs=0.03)
    assert corr.var() == pytest.approx(1 / (2 * a + 1), rel=0.08)
    # means: Normal(center, scale * mean_scale) on the data's scale
    mu = prior["prior"]["mu"].values.reshape(-1, 3)
    std = simulated_pop.standardization
    np.testing.assert_allclose(mu.mean(axis=0), std["center"], atol=0.1 * std["scale"].max())
    np.testing.assert_allclose(mu.std(axis=0), std["scale"], rtol=0.06)
    scores = prior["prior_predictive"]["scores"]
    assert scores.dims == ("chain", "draw", "entity", "benchmark")
    assert scores.shape == (1, 4000, 20, 3)
    assert prior["observed_data"]["scores"].shape == (400, 3)
    again = simulated_pop.sample_prior_predictive(draws=4000, n_entities=20, random_seed=1)
    np.testing.assert_array_equal(again["prior_predictive"]["scores"].values, scores.values)
    fig = sib.plot_prior_predictive(prior, simulated_pop)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        simulated_pop.sample_prior_predictive(draws=0)


def test_prior_predictive_sds_follow_the_family(simulated_pop):
    std = simulated_pop.standardization["scale"].to_numpy()
    for family, expected_mean in [("halfnormal", np.sqrt(2 / np.pi)), ("exponential", 1.0)]:
        sigma = simulated_pop.sample_prior_predictive(
            draws=4000, n_entities=2, random_seed=0, prior=sib.Prior(sd=family)
        )
        assert sigma.attrs["prior"].startswith(f"Prior(eta=2.0, sd='{family}'")
        ratio = sigma["prior"]["sigma"].values.reshape(-1, 3) / std
        assert ratio.mean() == pytest.approx(expected_mean, rel=0.05), family


# ---------------------------------------------------------------- prior comparison
@pytest.fixture(scope="module")
def small_comparison(leaderboard):
    return sib.compare_priors(
        leaderboard, {"eta=1": sib.Prior(eta=1.0), "eta=10": sib.Prior(eta=10.0)},
        n_observed=1, population_size=20, replications=2, random_seed=0, **SMALL,
    )


def test_compare_priors_on_small_populations_shows_differences(small_comparison):
    """Issue 4, done-when 1 (small populations): the table separates the priors."""
    table = small_comparison.table
    assert list(table.columns[:5]) == ["elpd_loo", "se", "p_loo", "elpd_diff", "dse"]
    for column in ("pareto_k_bad", "warning", "crps", "log_score", "coverage_90", "mae"):
        assert column in table
    assert table["elpd_diff"].iloc[0] == 0.0 and table["dse"].iloc[0] == 0.0
    # on 20 highly correlated leaderboard models, eta = 10 (correlations pulled to 0) loses
    assert table.index[0] == "eta=1"
    assert table.loc["eta=10", "elpd_diff"] < -2 * table.loc["eta=10", "dse"]
    assert table.loc["eta=10", "crps"] > table.loc["eta=1", "crps"]
    corr = small_comparison.correlations
    assert corr.shape == (2, 15)
    assert (corr.loc["eta=1"] - corr.loc["eta=10"]).mean() > 0.1
    assert len(small_comparison.cells) == 2 * 2 * 100 * 6 * 5
    assert "PriorComparison(2 priors)" in repr(small_comparison)
    assert len(small_comparison.plot().axes) == 4


def test_compare_priors_pooled_against_grouped():
    full = sib.datasets.open_llm_leaderboard().dropna(subset=sib.datasets.BENCHMARKS)
    df = full.set_index("fullname")[sib.datasets.BENCHMARKS].copy()
    size = pd.qcut(full["params_b"].rank(method="first"), 3, labels=["small", "medium", "large"])
    # 10 models have no known parameter count
    df["size"] = size.cat.add_categories("unknown").fillna("unknown").astype(str).to_numpy()
    cmp = sib.compare_priors(
        df, {"pooled": sib.Prior(), "grouped": (sib.Prior(), "size")}, n_observed=1,
        population_size=40, replications=1, random_seed=1, **SMALL,
    )
    assert set(cmp.table.index) == {"pooled", "grouped"}
    assert np.isfinite(cmp.table["elpd_loo"]).all()
    # the grouped fit has more effective parameters (group means)
    assert cmp.table.loc["grouped", "p_loo"] > cmp.table.loc["pooled", "p_loo"]


@pytest.mark.parametrize(
    ("priors", "error", "match"),
    [
        ({}, ValueError, "priors must be a non-empty mapping"),
        ([sib.Prior()], ValueError, "priors must be a non-empty mapping"),
        ({"a": 2.0}, TypeError, r"priors\['a'\] must be a skillinfer_bayes.Prior"),
        # a dict is a model specification: its keys are checked
        ({"a": {"eta": 2}}, ValueError, r"model 'a' has unknown key\(s\) \['eta'\]"),
    ],
)
def test_compare_priors_bad_input(leaderboard, priors, error, match):
    with pytest.raises(error, match=match):
        sib.compare_priors(leaderboard, priors)


@pytest.mark.slow
def test_full_leaderboard_correlations_agree_across_priors(leaderboard):
    """Issue 4, done-when 1 (full size): the data dominate every prior."""
    priors = {
        "eta=1": sib.Prior(eta=1.0),
        "eta=2": sib.Prior(),
        "eta=10": sib.Prior(eta=10.0),
        "exponential": sib.Prior(sd="exponential"),
        "halfstudentt": sib.Prior(sd="halfstudentt"),
    }
    corr = {
        name: sib.Population.from_dataframe(
            leaderboard.drop(LLAMA), normalize=False, prior=prior, draws=500, tune=500,
            random_seed=0, progressbar=False,
        ).correlation.to_numpy()
        for name, prior in priors.items()
    }
    for name, c in corr.items():
        assert np.abs(c - corr["eta=2"]).max() < 0.01, name


# ---------------------------------------------------------------- parallel fits
def test_evaluate_replications_do_not_depend_on_n_jobs(leaderboard):
    kwargs = dict(methods=("bayes",), n_observed=1, population_size=20, replications=2,
                  random_seed=3, **SMALL)
    serial = sib.evaluate(leaderboard, n_jobs=1, **kwargs)
    parallel = sib.evaluate(leaderboard, n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(serial.cells, parallel.cells)


DASK_SCRIPT = """
import sys, warnings
warnings.simplefilter("ignore")
import joblib, numpy as np, pandas as pd
from dask import distributed
import skillinfer_bayes as sib
from skillinfer_bayes.studies.parallel import fit_many

kwargs = dict(n_entities=20, n_benchmarks=2, n_simulations=4, draws=100, tune=100,
              n_ranks=50, random_seed=5, progressbar=False)
df = pd.DataFrame(np.random.default_rng(11).normal(size=(60, 3)), columns=["a", "b", "c"])
fit = dict(df=df, normalize=False, draws=300, tune=300, chains=2, cache=False)
with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, \
        distributed.Client(cluster), joblib.parallel_config(backend="dask"):
    remote = sib.simulation_based_calibration(n_jobs=2, **kwargs)
    pops = fit_many([dict(fit, random_seed=s) for s in (1, 2)], ["a", "b"], n_jobs=2,
                    progressbar=False)
local = sib.simulation_based_calibration(n_jobs=1, **kwargs)
pd.testing.assert_frame_equal(local.ranks, remote.ranks)
reference = sib.Population.from_dataframe(**fit, random_seed=2, progressbar=False)
np.testing.assert_array_equal(pops[1].mu_draws, reference.mu_draws)
print("dask results equal local results")
"""


def test_fits_on_a_dask_cluster_match_local_fits():
    """Run in its own process, as a user's Dask session would be (no cluster state leaks
    into the test session)."""
    import subprocess
    import sys

    pytest.importorskip("dask.distributed")
    result = subprocess.run([sys.executable, "-c", DASK_SCRIPT], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "dask results equal local results" in result.stdout


def test_bad_n_jobs(leaderboard):
    with pytest.raises(ValueError, match="n_jobs must be a positive integer or -1"):
        sib.evaluate(leaderboard, methods=("plugin",), n_jobs=0)


# ---------------------------------------------------------------- SBC
def test_sbc_is_reproducible_and_well_formed():
    kwargs = dict(n_entities=20, n_benchmarks=3, n_simulations=5, draws=100, tune=100,
                  n_ranks=50, random_seed=2, progressbar=False)
    first = sib.simulation_based_calibration(**kwargs)
    second = sib.simulation_based_calibration(**kwargs)
    pd.testing.assert_frame_equal(first.ranks, second.ranks)
    assert list(first.ranks.columns) == [
        "mu[b0]", "mu[b1]", "mu[b2]", "sigma[b0]", "sigma[b1]", "sigma[b2]",
        "corr[b0,b1]", "corr[b0,b2]", "corr[b1,b2]",
    ]
    assert first.ranks.to_numpy().min() >= 0 and first.ranks.to_numpy().max() <= 49
    assert set(first.fits.columns) == {"divergences", "max_r_hat", "min_ess_bulk"}
    assert len(first.plot(bins=5).axes) >= 9
    with pytest.raises(ValueError, match="bins must divide n_ranks = 50"):
        first.uniformity_test(bins=7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_benchmarks": 1}, "n_benchmarks must be >= 2"),
        ({"n_simulations": 0}, "n_simulations must be a positive integer"),
        ({"n_ranks": 5000}, r"n_ranks must be between 2 and chains \* draws \+ 1 = 1001"),
        ({"n_factors": 3}, r"n_factors must be an integer from 1 to 2"),
    ],
)
def test_sbc_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sib.simulation_based_calibration(progressbar=False, **kwargs)


@pytest.mark.slow
def test_sbc_ranks_of_the_factor_model_are_uniform():
    """The factor model (K = 4, one factor), on its identified parameters: the means, sds
    and correlations; 14 chi-square tests, each at the 0.1% level (1.4% for the family)."""
    sbc = sib.simulation_based_calibration(
        sib.Prior(), n_entities=30, n_benchmarks=4, n_simulations=60, draws=250, tune=250,
        n_ranks=50, random_seed=0, progressbar=False, n_factors=1, target_accept=0.95,
    )
    p = sbc.uniformity_test(bins=5)
    assert len(p) == 14 and sbc.settings["n_factors"] == 1
    assert (p > 0.001).all(), p
    # small populations drawn from the prior give the factor model a few divergences in some
    # fits (measured over 100 simulations: 17% of the fits at target_accept=0.95, 27% at
    # 0.9), which leave the ranks uniform
    assert (sbc.fits["divergences"] == 0).mean() >= 0.75


@pytest.mark.slow
def test_sbc_ranks_are_uniform():
    """Issue 4, done-when 2: K=3, N=30, 200 simulations, chi-square at the 1% level."""
    sbc = sib.simulation_based_calibration(
        sib.Prior(), n_entities=30, n_benchmarks=3, n_simulations=200, random_seed=0,
        progressbar=False,
    )
    p = sbc.uniformity_test(bins=10)
    assert len(p) == 9
    assert (p > 0.01).all(), p
    assert (sbc.fits["divergences"] == 0).mean() > 0.95


@pytest.mark.parametrize(("value", "error", "match"), [
    (1.0, ValueError, r"component_floor must be in \[0, 1\).*got 1.0"),
    (-0.1, ValueError, r"component_floor must be in \[0, 1\).*0 removes the floor"),
    ("0.1", TypeError, r"component_floor must be a number, got '0.1'"),
])
def test_a_bad_component_floor_gets_a_clear_error(value, error, match):
    with pytest.raises(error, match=match):
        sib.Prior(component_floor=value)
    assert sib.Prior(component_floor=0).component_floor == 0.0  # no floor is allowed
