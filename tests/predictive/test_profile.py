"""Profile: the leaderboard tutorial against the plug-in reference, and the Profile API."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import LLAMA

import skillinfer_bayes as sib

BENCHMARKS = sib.datasets.BENCHMARKS
#: The plug-in (Ledoit-Wolf) reference for Llama-3.1-70B-Instruct observing BBH = 55.93
#: (shared/data/README.md): predictive mean and sd per benchmark.
REFERENCE = {
    "IFEval": (69.3, 16.0),
    "MATH Lvl 5": (35.1, 10.2),
    "GPQA": (14.6, 2.8),
    "MUSR": (17.8, 4.1),
    "MMLU-PRO": (50.7, 4.2),
}


@pytest.fixture(scope="module")
def truth(leaderboard) -> np.ndarray:
    return leaderboard.loc[LLAMA].to_numpy().copy()


def test_tutorial_reproduces_the_plugin_reference(leaderboard_pop, truth):
    profile = leaderboard_pop.profile()
    profile.observe("BBH", truth[BENCHMARKS.index("BBH")])
    for name, (mean, sd) in REFERENCE.items():
        assert profile.mean(name) == pytest.approx(mean, abs=0.5), name
        assert profile.std(name) == pytest.approx(sd, rel=0.10), name
    assert profile.mae(truth) == pytest.approx(4.0, abs=0.1)
    second = profile.most_uncertain(k=1).iloc[0]["benchmark"]
    assert second == "IFEval"
    profile.observe(second, truth[BENCHMARKS.index(second)])
    assert profile.mae(truth) <= 1.0
    assert profile.similarity(truth) > 0.999


def test_predict_table(leaderboard_pop, truth):
    profile = leaderboard_pop.profile().observe("BBH", 55.93)
    table = profile.predict(level=0.9)
    assert list(table.index) == BENCHMARKS
    assert list(table.columns) == ["mean", "median", "std", "lower", "upper", "observed",
                                   "feature", "ci_lower", "ci_upper"]
    # no transform: the predictive is nearly symmetric, the median close to the mean
    np.testing.assert_allclose(table["median"], table["mean"], atol=0.02 * table["std"].max())
    assert table.loc["BBH", "observed"] == 55.93
    assert table["observed"].drop("BBH").isna().all()
    assert np.all(table["lower"] < table["mean"]) and np.all(table["mean"] < table["upper"])
    lo, hi = profile.interval("GPQA", level=0.9)
    assert (lo, hi) == pytest.approx(tuple(table.loc["GPQA", ["lower", "upper"]]))
    # a wider level gives a wider interval; never clipped to [0, 1] on the raw scale
    lo95, hi95 = profile.interval("GPQA", level=0.95)
    assert lo95 < lo and hi < hi95 and hi > 1.0


def test_predictive_variance_is_total_variance_and_matches_samples(leaderboard_pop):
    profile = leaderboard_pop.profile().observe_many({"BBH": 40.0, "MUSR": 12.0})
    pop = leaderboard_pop
    idx, vals = np.array([1, 4]), np.array([40.0, 12.0])
    means, variances = [], []
    for s in range(0, pop.n_draws, 50):  # direct per-draw reference on a thinned subset
        mu, Sigma = pop.mu_draws[s], pop.Sigma_draws[s]
        M = Sigma[np.ix_(idx, idx)] + np.diag(profile.noise[idx] ** 2)
        means.append(mu + Sigma[:, idx] @ np.linalg.solve(M, vals - mu[idx]))
        variances.append(np.diag(Sigma - Sigma[:, idx] @ np.linalg.solve(M, Sigma[idx, :])))
    means, variances = np.array(means), np.array(variances)
    m_all, v_all, weights = profile.conditional_moments()
    assert weights is None  # one component per draw: equal weights
    np.testing.assert_allclose(m_all[:, ::50].T, means, rtol=1e-9)
    np.testing.assert_allclose(v_all[:, ::50].T, variances, rtol=1e-7)
    np.testing.assert_allclose(
        profile.std() ** 2, v_all.mean(axis=1) + m_all.var(axis=1), rtol=1e-12
    )
    draws = profile.sample(40_000, random_seed=1)
    np.testing.assert_allclose(draws.mean(), profile.mean(), atol=0.15)
    np.testing.assert_allclose(draws.std(), profile.std(), rtol=0.03)


def test_sample_is_reproducible(leaderboard_pop):
    profile = leaderboard_pop.profile().observe("GPQA", 10.0)
    a = profile.sample(50, random_seed=3)
    pd.testing.assert_frame_equal(a, profile.sample(50, random_seed=3))
    assert list(a.columns) == BENCHMARKS


def test_most_uncertain_excludes_observed(leaderboard_pop):
    profile = leaderboard_pop.profile()
    first = profile.most_uncertain(k=6)
    assert list(first.columns) == ["benchmark", "mean", "std", "feature"]
    assert first["std"].is_monotonic_decreasing
    profile.observe(first.iloc[0]["benchmark"], 50.0)
    assert first.iloc[0]["benchmark"] not in set(profile.most_uncertain(k=6)["benchmark"])
    assert len(profile.most_uncertain(k=6)) == 5


def test_summary_chaining_copy_and_noise(leaderboard_pop, truth):
    profile = leaderboard_pop.profile().observe("BBH", 55.93).observe("IFEval", 86.69)
    summary = profile.summary(truth)
    assert summary["n_observed"] == 2 and summary["n_predicted"] == 4
    assert 0 <= summary["coverage"] <= 1 and summary["mae"] == pytest.approx(profile.mae(truth))
    clone = profile.copy().observe("GPQA", 14.2)
    assert profile.n_observations == 2 and clone.n_observations == 3
    exact = leaderboard_pop.profile(noise=0).observe("BBH", 55.93)
    assert exact.mean("BBH") == pytest.approx(55.93) and exact.std("BBH") < 1e-3
    assert leaderboard_pop.profile().noise == pytest.approx(
        0.05 * np.sqrt(np.diag(leaderboard_pop.covariance)).mean(), rel=1e-3
    )


def test_observation_errors_are_clear_and_lose_nothing(leaderboard_pop):
    profile = leaderboard_pop.profile().observe("BBH", 50.0)
    with pytest.raises(sib.UnknownBenchmarkError, match=r"Unknown benchmark 'bbh'.*'BBH'"):
        profile.observe("bbh", 50.0)
    with pytest.raises(ValueError, match="Observed score for 'GPQA' is nan"):
        profile.observe("GPQA", float("nan"))
    with pytest.raises(ValueError, match="is inf"):
        profile.observe("GPQA", float("inf"))
    with pytest.raises(TypeError, match="must be a number"):
        profile.observe("GPQA", "12")
    with pytest.raises(sib.UnknownBenchmarkError, match="Unknown benchmark 'nope'"):
        profile.observe_many({"GPQA": 12.0, "nope": 1.0})
    assert profile.observed == {"BBH": 50.0}  # nothing applied from the failed calls
    for level in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="level must be a probability in"):
            profile.predict(level=level)
        with pytest.raises(ValueError, match="level must be a probability in"):
            profile.interval("GPQA", level=level)
    with pytest.raises(ValueError, match="true_vector must hold 6 scores"):
        profile.mae([1.0, 2.0])
    with pytest.raises(ValueError, match="noise must be a finite sd"):
        leaderboard_pop.profile(noise=-1.0)


def test_far_out_of_range_observation_warns(leaderboard_pop):
    with pytest.warns(sib.OutOfRangeWarning, match="far outside the population's range"):
        leaderboard_pop.profile().observe("BBH", 0.56 * 1000)


def test_an_observation_just_beyond_the_population_warns_with_its_latent_distance(
        leaderboard_pop):
    # issue 32: a score a little below the population's lowest (no 25% slack any more) warns,
    # naming the benchmark, the value and how far out it lies in latent sds
    lo = float(leaderboard_pop.score_range[0, 1])  # BBH's lowest score
    scale = float(leaderboard_pop.standardization["scale"].iloc[1])
    transform = leaderboard_pop.data.transforms[1]
    below = 0.9 * lo
    distance = float(transform.forward(lo) - transform.forward(below)) / scale
    with pytest.warns(sib.OutOfRangeWarning,
                      match=rf"Observed BBH = {below:g} lies outside the population's range "
                            rf"\[{lo:g}, .*\]: {distance:.2g} latent sd below its lowest"):
        leaderboard_pop.profile().observe("BBH", below)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside the range: silent
        leaderboard_pop.profile().observe("BBH", lo)
    with pytest.warns(sib.OutOfRangeWarning, match=r"prior_mean of BBH = .* below its lowest"):
        leaderboard_pop.profile(prior_mean=pd.Series({"BBH": below}))


def test_a_profile_is_made_from_a_description_not_a_population(simulated_pop):
    with pytest.raises(TypeError, match=r"Profile takes a population's description.*got "
                                        r"Population: make a profile with pop.profile\(\)"):
        sib.Profile(simulated_pop, 0.1, simulated_pop.predictive_components())
    profile = sib.Profile(simulated_pop.description, simulated_pop.default_noise(),
                          simulated_pop.predictive_components())
    pd.testing.assert_frame_equal(profile.observe("a", 1.0).predict(),
                                  simulated_pop.profile().observe("a", 1.0).predict())
    assert profile.description.fit_id == simulated_pop.profile().to_dict()["population_id"]
