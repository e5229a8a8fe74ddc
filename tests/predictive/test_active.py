"""Active evaluation: most_informative against brute-force conditioning; evaluation curves."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from helpers import simulate
from scipy.special import logsumexp

import skillinfer_bayes as sib
from skillinfer_bayes.predictive.conditioning import condition

matplotlib.use("Agg")


def brute_force_reduction(pop, profile, j, weights=None):
    """Posterior-mean target variance now minus after also observing j (any value)."""
    idx = list(profile._observed)
    vals = list(profile._observed.values())
    K = len(pop.benchmark_names)
    unobserved = [i for i in range(K) if i not in profile._observed]

    def target_variance(o, v):
        _, cov = condition(pop.mu_draws, pop.Sigma_draws, np.array(o, dtype=int),
                           np.array(v, dtype=float), profile.noise**2, full_cov=True)
        if weights is None:
            return np.diagonal(cov, axis1=1, axis2=2)[:, unobserved].sum(axis=1).mean()
        return np.einsum("i,sij,j->s", weights, cov, weights).mean()

    return target_variance(idx, vals) - target_variance(idx + [j], vals + [123.0])


@pytest.mark.parametrize("observed", [{}, {"a": 55.0}])
def test_most_informative_equals_brute_force_conditioning(simulated_pop, observed):
    profile = simulated_pop.profile().observe_many(observed)
    table = profile.most_informative(k=3)
    assert list(table.columns) == ["benchmark", "expected_variance_reduction", "target_sd_before",
                                   "expected_target_sd_after"]
    assert len(table) == 3 - len(observed)
    gains = table.set_index("benchmark")["expected_variance_reduction"]
    for name, gain in gains.items():
        j = simulated_pop.benchmark_names.index(name)
        assert gain == pytest.approx(brute_force_reduction(simulated_pop, profile, j), rel=1e-9)
    assert (np.diff(gains.to_numpy()) <= 0).all()  # best first
    after = table["expected_target_sd_after"] ** 2
    before = table["target_sd_before"] ** 2
    np.testing.assert_allclose(before - after, gains.to_numpy(), rtol=1e-9)


def test_most_informative_for_a_target_and_a_weighted_combination(simulated_pop):
    profile = simulated_pop.profile()
    single = profile.most_informative(k=3, target="c")
    assert "c" not in set(single["benchmark"])  # the target is not its own candidate
    w_c = np.array([0.0, 0.0, 1.0])
    for row in single.itertuples():
        j = simulated_pop.benchmark_names.index(row.benchmark)
        assert row.expected_variance_reduction == pytest.approx(
            brute_force_reduction(simulated_pop, profile, j, w_c), rel=1e-9)
    # c correlates 0.6 with b and 0.4 with a: b tells more about c
    assert single["benchmark"].iloc[0] == "b"
    combo = profile.most_informative(k=3, target={"a": 0.5, "c": 0.5})
    w = np.array([0.5, 0.0, 0.5])
    for row in combo.itertuples():
        j = simulated_pop.benchmark_names.index(row.benchmark)
        assert row.expected_variance_reduction == pytest.approx(
            brute_force_reduction(simulated_pop, profile, j, w), rel=1e-9)


def test_most_informative_bad_input(simulated_pop):
    profile = simulated_pop.profile()
    with pytest.raises(sib.UnknownBenchmarkError, match="Unknown benchmark 'zz'"):
        profile.most_informative(target="zz")
    with pytest.raises(ValueError, match="target weights must not be empty"):
        profile.most_informative(target={})
    with pytest.raises(ValueError, match="target weight of 'a' must be a finite number"):
        profile.most_informative(target={"a": float("nan")})
    with pytest.raises(ValueError, match="k must be a positive integer"):
        profile.most_informative(k=0)
    full = simulated_pop.profile().observe_many({"a": 1.0, "b": 2.0, "c": 3.0})
    assert full.most_informative().empty


def test_evaluation_curve_is_well_formed_and_observing_helps():
    df = simulate(300, seed=6)
    curve = sib.evaluation_curve(df, random_seed=1, draws=500, tune=500, chains=4)
    steps = curve.steps
    assert list(steps["rule"].unique()) == ["most_informative", "most_uncertain", "random"]
    assert list(steps["n_observed"].unique()) == [0, 1, 2]
    assert (steps["n_models"] == 60).all()
    at0 = steps[steps["n_observed"] == 0]
    assert at0["crps"].nunique() == 1  # every rule starts from the same predictive
    for _, group in steps.groupby("rule"):
        assert (np.diff(group["crps_all"].to_numpy()) < 0).all()
    orders = curve.orders
    assert len(orders) == 180 and orders["order"].str.count(" > ").eq(1).all()
    assert len(curve.plot("mae").axes) == 1
    with pytest.raises(ValueError, match=r"Unknown rule\(s\) \['best'\]"):
        sib.evaluation_curve(df, rules=("best",))
    with pytest.raises(ValueError, match=r"n_steps must be an integer in \[1, 3\]"):
        sib.evaluation_curve(df, n_steps=7)
    with pytest.raises(ValueError, match="Unknown metric 'auc'"):
        curve.plot("auc")


@pytest.mark.slow
def test_most_informative_order_beats_the_others_after_two_observations(leaderboard):
    """Issue 5, done-when 3, on the held-out leaderboard models (protocol split, seed 0)."""
    curve = sib.evaluation_curve(leaderboard, n_steps=2, random_seed=0, draws=500, tune=500)
    crps = curve.steps[curve.steps["n_observed"] == 2].set_index("rule")["crps"]
    assert crps["most_informative"] < crps["most_uncertain"]
    assert crps["most_informative"] < crps["random"]


def test_a_mixtures_variance_reduction_equals_a_monte_carlo_preposterior():
    """Var_y(E[t | y]) by quadrature against simulation: draw (component, y), compute the
    conditional mean of the target by Bayes' rule, take its variance."""
    from skillinfer_bayes.predictive.active import mixture_variance_reduction

    rng = np.random.default_rng(3)
    S, C, K = 3, 3, 3
    means = rng.normal(scale=2.0, size=(S * C, K))
    A = rng.normal(size=(S * C, K, K))
    cov = A @ A.transpose(0, 2, 1) / K + 0.3 * np.eye(K)
    weights = rng.dirichlet(np.ones(C), size=S).reshape(-1) / S
    noise = np.array([0.1, 0.2, 0.3])
    targets = np.eye(K)[[1, 2]]
    got = mixture_variance_reduction(means, cov, weights, C, np.array([0]), targets, noise)
    expected = []
    for s in range(S):
        block = slice(s * C, (s + 1) * C)
        w, m, V = weights[block] * S, means[block], cov[block]
        comps = rng.choice(C, size=200_000, p=w)
        v = V[:, 0, 0] + noise[0]
        y = m[comps, 0] + np.sqrt(v[comps]) * rng.standard_normal(len(comps))
        log_r = np.log(w) - 0.5 * np.log(v) - 0.5 * (y[:, None] - m[:, 0]) ** 2 / v
        r = np.exp(log_r - logsumexp(log_r, axis=1, keepdims=True))
        cond = (r[:, :, None] * (m[None, :, 1:] + (V[None, :, 1:, 0] / v[None, :, None])
                                 * (y[:, None, None] - m[None, :, 0, None]))).sum(axis=1)
        expected.append(cond.var(axis=0).sum())
    assert np.isclose(got[0], np.mean(expected), rtol=0.01)


def test_most_informative_counts_what_an_observation_says_about_the_cluster():
    """Two clusters apart on benchmark a, with no correlation inside them: observing a tells
    the cluster, hence b; observing c tells nothing. A within-component rule sees no gain."""
    from skillinfer_bayes.predictive.active import expected_variance_reduction
    from skillinfer_bayes.predictive.components import ComponentDraws, condition_components

    means = np.array([[[-3.0, -3.0, 0.0], [3.0, 3.0, 0.0]]])
    draws = ComponentDraws(means, np.tile(np.eye(3), (1, 2, 1, 1)), np.array([[0.5, 0.5]]))
    out = condition_components(draws, np.array([], dtype=int), np.array([]), 0.01,
                               full_cov=True)
    gain = expected_variance_reduction(out.cov, [0, 2], [1], 0.01, None, out.weights,
                                       means=out.means, n_components=2)
    assert gain[0] > 8.5 and gain[1] < 1e-9  # b's variance 1 + 9: observing a removes ~9
    within = expected_variance_reduction(out.cov, [0, 2], [1], 0.01, None, out.weights)
    assert np.allclose(within, 0.0)
    with pytest.raises(ValueError, match="needs the components' means and weights"):
        expected_variance_reduction(out.cov, [0, 2], [1], 0.01, None, out.weights,
                                    n_components=2)
