"""A skillinfer 0.1.1 user's code runs unchanged with ``import skillinfer_bayes as skillinfer``,
and where the posterior is sharp it gives skillinfer's numbers (skillinfer is the reference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import simulate

import skillinfer_bayes

skillinfer = pytest.importorskip("skillinfer")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return simulate(3000, seed=21)  # large: the posterior is sharp


def user_code(sk, df: pd.DataFrame) -> dict:
    """What a skillinfer tutorial does, written once, run against either library."""
    # the user's call; ours gets a seed so that the test is reproducible (unseeded fits differ
    # by about 1% in an interval's bound, the size of the tolerance below)
    pop = sk.Population.from_dataframe(df, **({"random_seed": 0} if sk is skillinfer_bayes
                                              else {}))
    profile = pop.profile()
    profile.observe("a", 0.7)
    started = pop.profile(prior_entity="m3").observe("b", 0.4)
    return {
        "mu": profile.mu,
        "Sigma": profile.Sigma,
        "std": profile.std(),
        "ci": profile.confidence_interval("c"),
        "one": profile.predict("c"),
        "table": profile.to_dataframe(),
        "detail": profile.to_dataframe(detail=True),
        "cov": profile.covariance_matrix,
        "vector": profile.agent_vector,
        "entity": pop.entity("m3"),
        "started": started.mu,
        "top": profile.summary()["top_predicted"],
        "interval_90": profile.confidence_interval("c", level=0.9),
    }


def test_a_skillinfer_users_code_runs_and_agrees_where_the_posterior_is_sharp(table):
    ours = user_code(skillinfer_bayes, table)
    theirs = user_code(skillinfer, table)
    np.testing.assert_allclose(ours["mu"], theirs["mu"], rtol=0.01)
    np.testing.assert_allclose(ours["started"], theirs["started"], rtol=0.01)
    np.testing.assert_allclose(ours["std"], theirs["std"], rtol=0.03)
    np.testing.assert_allclose(ours["Sigma"], theirs["Sigma"], rtol=0.06, atol=2e-4)
    np.testing.assert_allclose(np.diag(ours["Sigma"]), ours["std"] ** 2, rtol=1e-10)
    np.testing.assert_allclose(ours["ci"], theirs["ci"], rtol=0.02)  # nearly Gaussian here
    assert set(theirs["one"]) <= set(ours["one"])
    for key in ("mean", "std"):
        assert ours["one"][key] == pytest.approx(theirs["one"][key], rel=0.03), key
    # predict's default level is skillinfer's 0.95, its interval confidence_interval's
    assert (ours["one"]["ci_lower"], ours["one"]["ci_upper"]) == pytest.approx(
        ours["ci"], rel=1e-12)
    assert (ours["one"]["ci_lower"], ours["one"]["ci_upper"]) == pytest.approx(
        (theirs["one"]["ci_lower"], theirs["one"]["ci_upper"]), rel=0.02)
    assert ours["interval_90"][0] > ours["ci"][0]
    assert list(ours["table"].columns) == list(theirs["table"].columns)
    assert list(ours["detail"].columns) == list(theirs["detail"].columns)
    assert list(ours["detail"]["source"]) == list(theirs["detail"]["source"])
    np.testing.assert_allclose(ours["detail"]["confidence"], theirs["detail"]["confidence"],
                               atol=0.02)
    pd.testing.assert_index_equal(ours["cov"].index, theirs["cov"].index)
    assert ours["vector"].name == theirs["vector"].name == "agent_vector"
    np.testing.assert_allclose(ours["entity"], theirs["entity"], rtol=1e-12)
    assert [t["feature"] for t in ours["top"]] == [t["feature"] for t in theirs["top"]]


def test_prior_entity_and_prior_mean_errors(simulated_pop):
    with pytest.raises(KeyError, match="No entity named 'nobody'"):
        simulated_pop.profile(prior_entity="nobody")
    with pytest.raises(ValueError, match="prior_mean must hold 3 finite means"):
        simulated_pop.profile(prior_mean=[1.0, 2.0])
    with pytest.raises(ValueError, match="not both"):
        simulated_pop.profile(prior_entity="m0", prior_mean=[1.0, 2.0, 3.0])
    # NaN keeps the population mean
    p = simulated_pop.profile(prior_mean=[100.0, np.nan, np.nan])
    assert p.mu[0] == pytest.approx(100.0)
    assert p.mu[1] == pytest.approx(simulated_pop.population_mean.iloc[1])


def test_held_out_evaluation_runs_skillinfers_study_with_its_splits(table):
    small = table.iloc[:250]
    config = skillinfer_bayes.SamplerConfig(draws=500, tune=500, chains=4, progressbar=False)
    ours_pop = skillinfer_bayes.Population.from_dataframe(small, sampler_config=config,
                                                          random_seed=1)
    ours = skillinfer_bayes.validation.held_out_evaluation(
        ours_pop, frac_observed=[0.3, 0.6], n_splits=2, sampler_config=config)
    theirs = skillinfer.validation.held_out_evaluation(
        skillinfer.Population.from_dataframe(small), frac_observed=[0.3, 0.6], n_splits=2)
    assert list(ours.columns) == list(theirs.columns)
    assert len(ours) == len(theirs)
    keys = ["split", "entity", "frac_observed", "method"]
    pd.testing.assert_frame_equal(ours[keys], theirs[keys])
    # the same splits and noisy observations: the baselines agree exactly
    baselines = ours["method"] != "kalman"
    pd.testing.assert_frame_equal(ours[baselines], theirs[baselines])
    # the Bayesian predictive is close to the plug-in on a 200-model training set
    mine = ours[~baselines].groupby("frac_observed")[["mae", "calibration_coverage"]].mean()
    ref = theirs[~baselines].groupby("frac_observed")[["mae", "calibration_coverage"]].mean()
    np.testing.assert_allclose(mine["mae"], ref["mae"], rtol=0.05)
    assert (mine["calibration_coverage"] > 0.8).all()
    with pytest.raises(ValueError, match="frac_observed must lie in"):
        skillinfer_bayes.validation.held_out_evaluation(ours_pop, frac_observed=0.0)
