"""Decisions: exact exceedance probabilities, and comparisons from joint predictive draws
(skillinfer_bayes/predictive/decisions.py), against direct per-draw computations, skillinfer's
normal theory on a sharp posterior and brute-force Monte Carlo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import skillinfer_bayes as sib
from skillinfer_bayes.predictive.components import ComponentDraws
from skillinfer_bayes.predictive.composites import match_score, predictive_score_draws

COV = np.array([[4.0, 2.0, 1.0], [2.0, 9.0, 3.0], [1.0, 3.0, 16.0]])
NAMES = ["a", "b", "c"]
MEAN = np.array([1.0, 2.0, 3.0])


def plug_in() -> sib.Population:
    return sib.Population.from_covariance(COV, NAMES, MEAN)


def test_probability_is_the_predictive_cdf_averaged_over_draws(simulated_pop):
    profile = simulated_pop.profile().observe("a", 1.0)
    out = profile.conditioned()
    m, s = out.means[:, 1], np.sqrt(out.cov[:, 1])
    above = np.mean(norm.sf(0.5, m, s))  # every draw's conditional normal, averaged
    between = np.mean(norm.cdf(1.5, m, s) - norm.cdf(0.5, m, s))
    assert profile.probability("b", above=0.5) == pytest.approx(above, rel=1e-10)
    assert profile.probability("b", below=0.5) == pytest.approx(1 - above, rel=1e-10)
    assert profile.probability(1, above=0.5, below=1.5) == pytest.approx(between, rel=1e-10)
    # an observed benchmark: its true score given the noisy observation
    obs = np.mean(norm.sf(1.0, out.means[:, 0], np.sqrt(out.cov[:, 0])))
    assert profile.probability("a", above=1.0) == pytest.approx(obs, rel=1e-10)


def test_probability_on_a_sharp_posterior_is_the_normal_theory_value():
    # one posterior draw: the predictive is the Kalman (Gaussian conditioning) normal
    ours = plug_in().profile(noise=0.5).observe("a", 3.0)
    gain = COV[:, 0] / (COV[0, 0] + 0.25)
    mean = MEAN + gain * (3.0 - MEAN[0])
    sd = np.sqrt(np.diag(COV) - gain * COV[:, 0])
    for j, t in ((1, 4.0), (2, 0.0)):
        expected = norm.sf(t, mean[j], sd[j])
        assert ours.probability(NAMES[j], above=t) == pytest.approx(expected, rel=1e-9)


def test_probability_through_a_transform_is_exact_against_the_draws(fake_sampler):
    rng = np.random.default_rng(3)
    z = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.7], [0.7, 1.0]], 120)
    df = pd.DataFrame(100 / (1 + np.exp(-z)), columns=["x", "y"])  # inside (0, 100)
    pop = sib.Population.from_dataframe(df, normalize=False, draws=200, chains=2,
                                        random_seed=1, progressbar=False, transform="logit",
                                        bounds=(0, 100))
    profile = pop.profile().observe("x", 80.0)
    out = profile.conditioned()
    latent = pop.data.transforms[1].forward(60.0)  # P(Y > 60) = P(Z > g(60)), draw by draw
    exact = np.mean(norm.sf(latent, out.means[:, 1], np.sqrt(out.cov[:, 1])))
    assert profile.probability("y", above=60.0) == pytest.approx(exact, rel=1e-10)
    draws = predictive_score_draws([profile], n_per_draw=20)[0][:, 1]
    se = np.sqrt(exact * (1 - exact) / len(draws))
    assert abs(np.mean(draws > 60.0) - exact) < 4 * se + 0.01  # (draws share posterior draws)


@pytest.mark.parametrize("kwargs, error, match", [
    ({}, ValueError, r"probability\('b'\) needs a threshold: above=, below= or both"),
    ({"above": 2.0, "below": 1.0}, ValueError, r"above=2 must be below below=1"),
    ({"above": "high"}, TypeError, r"above= must be a number; got 'high'"),
    ({"below": float("inf")}, ValueError, r"below=inf lies outside b's scores"),
])
def test_bad_thresholds_get_clear_errors(kwargs, error, match):
    profile = plug_in().profile().observe("a", 1.0)
    with pytest.raises(error, match=match):
        profile.probability("b", **kwargs)
    assert profile.observed == {"a": 1.0}  # nothing changed


def test_a_threshold_beyond_a_bound_is_refused(fake_sampler):
    df = pd.DataFrame(np.random.default_rng(0).uniform(5, 95, (60, 2)), columns=["x", "y"])
    pop = sib.Population.from_dataframe(df, normalize=False, draws=200, chains=2,
                                        random_seed=1, progressbar=False, transform="logit",
                                        bounds=(0, 100))
    with pytest.raises(ValueError, match=r"above=120 lies outside y's scores \[0, 100\].*"
                                         r"every score is below it"):
        pop.profile().probability("y", above=120.0)


def shifted_profiles(n_draws: int = 2000, spread: float = 3.0):
    """Two unobserved profiles whose posterior draws move the mean a lot (sd ``spread``) around
    a unit conditional variance: shared draws make their difference's variance 2, independent
    ones would make it 2 (1 + spread^2)."""
    pop = sib.Population.from_covariance(np.eye(2), ["a", "b"], [0.0, 0.0])
    rng = np.random.default_rng(0)
    mu = rng.normal(0.0, spread, (n_draws, 1)) * np.ones((1, 2))
    components = ComponentDraws.normal(mu, np.tile(np.eye(2), (n_draws, 1, 1)))
    return [sib.Profile(pop.description, 0.0, components) for _ in range(2)]


def test_identical_profiles_are_a_coin_flip_with_the_shared_draws_variance():
    x, y = shifted_profiles()
    draws = predictive_score_draws([x, y], n_per_draw=2)
    difference = draws[0, :, 0] - draws[1, :, 0]
    assert np.var(difference) == pytest.approx(2.0, rel=0.08)  # not 2 (1 + 9) = 20
    result = sib.compare({"x": x, "y": y}, "a")
    R = result.n_draws
    assert abs(result.pairwise.loc["x", "y"] - 0.5) < 4 * 0.5 / np.sqrt(R)
    assert result.pairwise.loc["x", "y"] + result.pairwise.loc["y", "x"] == pytest.approx(1.0)
    assert result.table["p_best"].sum() == pytest.approx(1.0)


def test_p_best_matches_brute_force_monte_carlo_on_a_sharp_posterior():
    pop = plug_in()
    profiles = {"low": pop.profile(noise=1.0).observe("a", 0.0),
                "mid": pop.profile(noise=1.0).observe("a", 1.5),
                "high": pop.profile(noise=1.0).observe("a", 2.0)}
    result = sib.compare(profiles, "b", random_seed=1)
    # one posterior draw: the profiles' predictives are independent normals
    rng = np.random.default_rng(7)
    sims = np.stack([rng.normal(p.mean("b"), p.std("b"), 400_000) for p in profiles.values()])
    brute = pd.Series((sims == sims.max(axis=0)).mean(axis=1), index=list(profiles))
    for agent, p in brute.items():
        se = np.sqrt(p * (1 - p) / result.n_draws)
        assert abs(result.table.loc[agent, "p_best"] - p) < 4 * se + 1e-3
    assert list(result.table.index) == ["high", "mid", "low"]  # by expected score
    E = len(profiles)
    assert result.table["expected_rank"].sum() == pytest.approx(E * (E + 1) / 2)
    assert (result.table["rank_lower"] <= result.table["expected_rank"]).all()
    assert (result.table["expected_rank"] <= result.table["rank_upper"]).all()


def test_a_task_target_is_the_composite_of_match_score():
    pop = plug_in()
    profiles = {"x": pop.profile().observe("a", 2.0), "y": pop.profile().observe("c", -1.0)}
    task = {"a": 1.0, "c": 3.0}
    result = sib.compare(profiles, task, random_seed=5)
    assert result.target == "task"
    expected = match_score(profiles["x"], task, random_seed=5)
    assert result.table.loc["x", "expected_score"] == pytest.approx(expected.score, rel=1e-12)
    assert result.table.loc["x", "std"] == pytest.approx(expected.std, rel=1e-12)


def test_compare_is_reproducible_and_its_repr_names_the_target():
    pop = plug_in()
    profiles = {"x": pop.profile().observe("a", 2.0), "y": pop.profile()}
    first, again = sib.compare(profiles, "c"), sib.compare(profiles, "c")
    pd.testing.assert_frame_equal(first.table, again.table)
    assert "Comparison of 2 agents on 'c'" in repr(first)


def test_bad_comparisons_get_clear_errors():
    pop, other = plug_in(), sib.Population.from_covariance(2 * COV, NAMES, MEAN)
    profile = pop.profile().observe("a", 1.0)
    with pytest.raises(ValueError, match=r"come from 2 different populations"):
        sib.compare({"x": profile, "y": other.profile()}, "b")
    with pytest.raises(KeyError, match=r"Unknown target 'nope'.*\['a', 'b', 'c'\]"):
        sib.compare({"x": profile}, "nope")
    with pytest.raises(ValueError, match=r"at least one profile"):
        sib.compare({}, "b")
    with pytest.raises(ValueError, match=r"level must be a probability"):
        sib.compare({"x": profile}, "b", level=1.5)
    with pytest.raises(TypeError, match=r"target must be a benchmark or a task"):
        sib.compare({"x": profile}, 2.5)
    assert profile.observed == {"a": 1.0}


def bounded_population(fake_sampler_calls) -> sib.Population:
    rng = np.random.default_rng(4)
    z = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.8], [0.8, 1.0]], 150)
    df = pd.DataFrame(100 / (1 + np.exp(-z)), columns=["x", "y"])
    return sib.Population.from_dataframe(df, normalize=False, draws=200, chains=2,
                                         random_seed=2, progressbar=False, transform="logit",
                                         bounds=(0, 100))


def test_a_partial_run_adds_its_binomial_variance_to_the_noise(fake_sampler):
    pop = bounded_population(fake_sampler)
    full = pop.profile().observe("x", 40.0)
    partial = pop.profile().observe("x", 40.0, n_items=200)
    slope = float(np.exp(pop.data.transforms[0].log_jacobian(40.0)))  # where the run landed
    binomial = 100.0**2 * 0.4 * 0.6 / 200  # the score-scale variance of 200 items at 40%
    assert partial.latent_observations()[2][0] == pytest.approx(
        full.latent_observations()[2][0] + binomial * slope**2, rel=1e-12)
    assert partial.latent_observations()[2][1] == full.latent_observations()[2][1]
    assert partial.partial_runs == {"x": (40.0, 200)}
    # fewer items tell less about the other benchmark: its conditional variance, draw by draw
    few = pop.profile().observe("x", 40.0, n_items=10)
    variances = [p.conditioned().cov[:, 1] for p in (few, partial, full)]
    assert np.all(variances[0] > variances[1]) and np.all(variances[1] > variances[2])


def test_partial_runs_of_one_benchmark_pool_their_items(fake_sampler):
    pop = bounded_population(fake_sampler)
    two = pop.profile().observe("x", 40.0, n_items=200).observe("x", 50.0, n_items=50)
    one = pop.profile().observe("x", 42.0, n_items=250)
    assert two.partial_runs == {"x": (42.0, 250)}
    pd.testing.assert_frame_equal(two.predict(), one.predict())
    # a full observation replaces the partial runs; copies and saved profiles keep them
    assert two.copy().partial_runs == two.partial_runs
    again = sib.Profile.from_dict(two.to_dict(), population=pop)
    pd.testing.assert_frame_equal(again.predict(), two.predict())
    replaced = two.observe("x", 45.0)
    assert replaced.partial_runs == {}
    pd.testing.assert_frame_equal(replaced.predict(), pop.profile().observe("x", 45.0).predict())


@pytest.mark.parametrize("n_items, match", [
    (0, r"n_items must be a whole number of items, at least 1; got 0"),
    (2.5, r"n_items must be a whole number of items, at least 1; got 2.5"),
    (True, r"n_items must be a whole number"),
])
def test_bad_item_counts_get_clear_errors_and_change_nothing(fake_sampler, n_items, match):
    profile = bounded_population(fake_sampler).profile().observe("x", 30.0, n_items=20)
    with pytest.raises(ValueError, match=match):
        profile.observe("x", 40.0, n_items=n_items)
    assert profile.partial_runs == {"x": (30.0, 20)} and profile.observed == {"x": 30.0}


def test_items_on_an_unbounded_benchmark_are_refused():
    profile = plug_in().profile()
    with pytest.raises(ValueError, match=r"n_items needs a benchmark with finite bounds.*b has "
                                         r"bounds \[-inf, inf\].*noise="):
        profile.observe("b", 4.0, n_items=100)
    assert profile.observed == {}
