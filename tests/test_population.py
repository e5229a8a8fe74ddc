"""Population: posterior correctness on simulated data, summaries, diagnostics, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import TRUE_CORR, TRUE_MU, TRUE_SD, simulate

import skillinfer_bayes as sib


def quick_fit(df, **kwargs):
    options = dict(normalize=False, draws=500, tune=500, chains=4, random_seed=0,
                   progressbar=False, transform=None)  # the normal model's closed forms
    return sib.Population.from_dataframe(df, **{**options, **kwargs})


def test_posterior_covers_the_known_truth(simulated_df, simulated_pop):
    post = simulated_pop.posterior
    # centred on the data: posterior means close to the sample moments ...
    np.testing.assert_allclose(simulated_pop.population_mean, simulated_df.mean(), atol=0.3)
    np.testing.assert_allclose(simulated_pop.correlation, simulated_df.corr(), atol=0.02)
    # ... and its 99% intervals cover the parameters the data were simulated from
    lo, hi = 0.005, 0.995
    mu = post["mu"].quantile([lo, hi], dim=("chain", "draw")).values
    sd = post["sigma"].quantile([lo, hi], dim=("chain", "draw")).values
    corr = post["corr"].quantile([lo, hi], dim=("chain", "draw")).values
    assert np.all((mu[0] < TRUE_MU) & (TRUE_MU < mu[1]))
    assert np.all((sd[0] < TRUE_SD) & (TRUE_SD < sd[1]))
    off = ~np.eye(3, dtype=bool)
    assert np.all((corr[0][off] < TRUE_CORR[off]) & (TRUE_CORR[off] < corr[1][off]))


def test_large_n_posterior_agrees_with_the_plugin_estimate(leaderboard, leaderboard_pop):
    data = leaderboard.drop("meta-llama/Llama-3.1-70B-Instruct")
    np.testing.assert_allclose(leaderboard_pop.population_mean, data.mean(), rtol=0.01)
    np.testing.assert_allclose(leaderboard_pop.covariance, data.cov(), rtol=0.03)
    np.testing.assert_allclose(leaderboard_pop.correlation, data.corr(), atol=0.005)


def test_missing_scores_are_used_not_dropped():
    df = simulate(400, seed=5, missing=0.3)
    assert df.isna().any(axis=1).mean() > 0.4
    pop = quick_fit(df)
    assert len(pop.entity_names) == 400
    assert pop.summary()["n_patterns"] > 3
    np.testing.assert_allclose(pop.correlation.values, TRUE_CORR, atol=0.12)


@pytest.mark.filterwarnings("ignore::skillinfer_bayes.SamplerWarning")  # tiny runs
def test_fit_is_reproducible_and_does_not_mutate_input(simulated_df):
    before = simulated_df.copy()
    # cache=False: both fits sample (a cache hit would make the check hollow)
    a = quick_fit(simulated_df, random_seed=42, draws=100, tune=100, cache=False)
    b = quick_fit(simulated_df, random_seed=42, draws=100, tune=100, cache=False)
    np.testing.assert_array_equal(a.Sigma_draws, b.Sigma_draws)
    c = quick_fit(simulated_df, random_seed=43, draws=100, tune=100, cache=False)
    assert not np.array_equal(a.Sigma_draws, c.Sigma_draws)  # the seed matters
    pd.testing.assert_frame_equal(simulated_df, before)


def test_posterior_has_named_dims_and_attrs(simulated_pop):
    post = simulated_pop.idata["posterior"]
    assert post["Sigma"].dims == ("chain", "draw", "benchmark", "benchmark_bis")
    assert list(post["benchmark"].values) == ["a", "b", "c"]
    assert simulated_pop.mu_draws.shape == (2000, 3)
    attrs = simulated_pop.idata.attrs
    assert attrs["skillinfer_bayes_version"] == sib.__version__
    assert sib.Prior.from_dict(json.loads(attrs["prior"])) == sib.Prior()


def test_diagnostics_and_printout(simulated_pop):
    d = simulated_pop.diagnostics()
    assert d["ok"] and d["divergences"] == 0 and d["max_r_hat"] <= 1.01
    table = simulated_pop.diagnostics(per_parameter=True)
    assert {"r_hat", "ess_bulk", "ess_tail"} <= set(table.columns)
    assert len(table) == 3 + 3 + 3  # means, sds, correlation pairs
    text = str(simulated_pop)
    assert "400 entities x 3 benchmarks" in text and "r_hat" in text and "<->" in text


def test_top_correlations_and_pca_carry_intervals(simulated_pop):
    with pytest.raises(ValueError, match="level must be a probability"):
        simulated_pop.top_correlations(level=1.5)
    with pytest.raises(ValueError, match="n_components must be between 1 and 3"):
        simulated_pop.pca(n_components=4)
    top = simulated_pop.top_correlations(k=2)
    assert list(top.columns) == ["benchmark_a", "benchmark_b", "correlation", "lower", "upper",
                                 "feature_a", "feature_b"]  # skillinfer's names of the pair
    assert top["feature_a"].equals(top["benchmark_a"])
    assert (top["benchmark_a"].iloc[0], top["benchmark_b"].iloc[0]) == ("a", "b")
    assert np.all((top["lower"] < top["correlation"]) & (top["correlation"] < top["upper"]))
    pca = simulated_pop.pca(n_components=2)
    assert pca["explained_variance_ratio"].shape == (2,)
    assert np.all(pca["cumulative_lower"] <= pca["cumulative"])
    assert np.all(pca["cumulative"] <= pca["cumulative_upper"])
    assert sum(simulated_pop.pca()["explained_variance_ratio"]) == pytest.approx(1.0)


def test_badly_mixing_chains_raise_a_sampler_warning(simulated_df):
    with pytest.warns(sib.SamplerWarning, match="Run more"):
        quick_fit(simulated_df, draws=5, tune=5)


@pytest.mark.filterwarnings("ignore::skillinfer_bayes.SamplerWarning")  # tiny runs
def test_normalize_scales_like_skillinfer(simulated_df):
    pop = quick_fit(simulated_df, normalize=True, draws=100, tune=100)
    assert pop.matrix.min().min() == 0.0 and pop.matrix.max().max() == 1.0
    assert list(pop.scaling.columns) == ["min", "range"]


@pytest.mark.filterwarnings("ignore::skillinfer_bayes.SamplerWarning")  # tiny runs
def test_from_csv_and_parquet(tmp_path, simulated_df):
    simulated_df.to_csv(tmp_path / "s.csv")
    simulated_df.rename_axis("name").reset_index().to_parquet(tmp_path / "s.parquet")
    a = sib.Population.from_csv(tmp_path / "s.csv", normalize=False, draws=50, tune=50,
                                chains=1, random_seed=0, progressbar=False)
    b = sib.Population.from_parquet(tmp_path / "s.parquet", index_col="name", normalize=False,
                                    draws=50, tune=50, chains=1, random_seed=0,
                                    progressbar=False)
    assert a.benchmark_names == b.benchmark_names == ["a", "b", "c"]
    assert a.entity_names[:2] == b.entity_names[:2] == ["m0", "m1"]


@pytest.mark.parametrize(
    ("frame", "error", "match"),
    [
        (pd.DataFrame({"a": [1.0, 2.0], "name": ["x", "y"]}), TypeError,
         r"Non-numeric column\(s\) \['name'\].*set_index"),
        (pd.DataFrame({"a": [1.0], "b": [2.0]}), ValueError, "at least 2 rows"),
        (pd.DataFrame({"a": [np.nan, np.nan, np.nan], "b": [1.0, 2.0, 3.0]}), ValueError,
         r"\['a'\] have no observed score"),
        (pd.DataFrame({"a": [1.0] * 5, "b": [1.0, 2.0, 3.0, 4.0, 5.0]}), ValueError,
         r"'a' \(5 scores, all 1\) are constant"),
        (pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=["a", "a"]), ValueError,
         r"Duplicate benchmark column\(s\) \['a'\]"),
        (pd.DataFrame({"a": [1.0, np.inf, 3.0], "b": [1.0, 2.0, 3.0]}), ValueError,
         "Infinite score inf in column 'a'"),
        ([[1.0, 2.0], [3.0, 4.0]], TypeError, "Expected a pandas DataFrame"),
    ],
)
def test_bad_tables_get_clear_errors(frame, error, match):
    with pytest.raises(error, match=match):
        sib.Population.from_dataframe(frame, progressbar=False)


def test_bad_fit_settings_get_clear_errors(simulated_df):
    with pytest.raises(ValueError, match=r"Unknown sampler 'stan'.*\['auto', 'numpyro'"):
        quick_fit(simulated_df, sampler="stan")
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        quick_fit(simulated_df, draws=0)
    with pytest.raises(ValueError, match="target_accept must be in"):
        quick_fit(simulated_df, target_accept=1.5)
    with pytest.raises(TypeError, match="prior must be a skillinfer_bayes.Prior"):
        quick_fit(simulated_df, prior={"eta": 2})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eta": 0}, "eta must be a finite number > 0"),
        ({"sd": "lognormal"}, r"Unknown sd family 'lognormal'.*\['exponential'"),
        ({"sd_scale": -1.0}, "sd_scale must be a finite number > 0"),
        ({"mean_scale": float("nan")}, "mean_scale must be a finite number > 0"),
        ({"group_scale": 0.0}, "group_scale must be a finite number > 0"),
        ({"sd_nu": float("inf")}, "sd_nu must be a finite number > 0"),
    ],
)
def test_bad_priors_get_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sib.Prior(**kwargs)


def test_non_numeric_prior_values_get_a_type_error():
    with pytest.raises(TypeError, match="Prior eta must be a number, got '2'"):
        sib.Prior(eta="2")


def test_prior_value_object():
    p = sib.Prior(eta=4, sd="exponential")
    assert repr(p) == (
        "Prior(eta=4.0, sd='exponential', sd_scale=1.0, sd_nu=3.0, mean_scale=1.0, "
        "group_scale=0.5, weight_concentration=0.5, component_floor=0.1)"
    )
    assert eval(repr(p), {"Prior": sib.Prior}) == p
    assert sib.Prior.from_dict(p.to_dict()) == p
    with pytest.raises(ValueError, match=r"Unknown Prior field\(s\) \['beta'\]"):
        sib.Prior.from_dict({"beta": 1})


@pytest.mark.parametrize("sd", ["halfnormal", "exponential", "halfstudentt"])
def test_every_sd_family_fits(simulated_df, sd):
    pop = quick_fit(simulated_df, prior=sib.Prior(sd=sd, eta=1.0))
    assert pop.diagnostics()["divergences"] == 0
    np.testing.assert_allclose(pop.correlation.values, TRUE_CORR, atol=0.1)


def test_refits_of_same_shaped_data_reuse_the_compiled_sampler_with_their_own_data(
        monkeypatch):
    from skillinfer_bayes.inference import numpyro_backend

    rng = np.random.default_rng(8)
    frames = [
        pd.DataFrame(rng.multivariate_normal([0, 0], [[1, r], [r, 1]], 300), columns=["x", "y"])
        for r in (0.8, -0.5)
    ]
    own = numpyro_backend.CompiledSamplers()  # this test's registry: no other test's compilations
    monkeypatch.setattr(numpyro_backend, "COMPILED_SAMPLERS", own)
    first = quick_fit(frames[0], cache=False)
    assert own.compilations == 1
    second = quick_fit(frames[1], cache=False)
    assert own.compilations == 1  # no new compilation
    for frame, pop in zip(frames, (first, second)):
        assert pop.correlation.loc["x", "y"] == pytest.approx(frame.corr().loc["x", "y"],
                                                              abs=0.03)
        np.testing.assert_allclose(pop.population_mean, frame.mean(), atol=0.05)
    # a reused sampler gives the draws of a fresh compilation: sharing changes only the time
    fresh = numpyro_backend.CompiledSamplers()
    monkeypatch.setattr(numpyro_backend, "COMPILED_SAMPLERS", fresh)
    again = quick_fit(frames[1], cache=False)
    assert fresh.compilations == 1
    xr.testing.assert_equal(again.posterior, second.posterior)  # (attrs: the timings)


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["pymc", "nutpie"])
def test_other_nuts_backends_agree_with_numpyro(simulated_df, simulated_pop, sampler):
    if sampler == "nutpie":
        pytest.importorskip("nutpie")
    pop = quick_fit(simulated_df, sampler=sampler, draws=500, tune=500)
    assert pop.idata.attrs["sampler"] == sampler
    np.testing.assert_allclose(pop.correlation, simulated_pop.correlation, atol=0.02)
    np.testing.assert_allclose(pop.population_mean, simulated_pop.population_mean, rtol=0.02)


def test_pointwise_log_likelihood_and_loo(simulated_pop):
    ll = simulated_pop.log_likelihood()
    assert ll.dims == ("chain", "draw", "entity") and ll.sizes["entity"] == 400
    from skillinfer_bayes.data.sufficient_stats import loglik_draws, pattern_stats

    joint = loglik_draws(
        pattern_stats(simulated_pop.matrix.to_numpy()),
        simulated_pop.mu_draws,
        simulated_pop.Sigma_draws,
    )
    np.testing.assert_allclose(ll.sum("entity").values.ravel(), joint, rtol=1e-10)
    loo = simulated_pop.loo()
    assert loo.elpd_loo < 0 and 5 < loo.p_loo < 15  # 9 parameters
