"""Calibration studies: scoring rules against independent references, and the protocol."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

import skillinfer_bayes as sib
from skillinfer_bayes.predictive.components import ComponentDraws
from skillinfer_bayes.predictive.scores import _expected_abs, coverage, normal_mixture_scores
from skillinfer_bayes.studies import scoring
from skillinfer_bayes.studies.evaluation import plugin_moments
from skillinfer_bayes.studies.scoring import predict_cells


def exact_mixture_crps(y, m, sd):
    """O(S^2) closed form of the CRPS of a normal mixture (Grimit et al. 2006)."""
    first = _expected_abs(y - m, sd).mean()
    dm = m[:, None] - m[None, :]
    ds = np.sqrt(sd[:, None] ** 2 + sd[None, :] ** 2)
    return first - 0.5 * _expected_abs(dm, ds).mean()


def crps_by_integration(y, m, sd):
    """The CRPS definition, integral of (F(x) - 1{x >= y})^2, by quadrature."""

    def integrand(x):
        return (stats.norm.cdf(x, m, sd).mean() - (x >= y)) ** 2

    return integrate.quad(integrand, -40, 40, points=[y], limit=500)[0]


def test_normal_scores_match_closed_forms():
    y, m, sd = 1.3, 0.4, 2.0
    out = normal_mixture_scores(np.array(y), np.array([m]), np.array([sd]))
    z = (y - m) / sd
    cdf, pdf = stats.norm.cdf(z), stats.norm.pdf(z)
    closed_crps = sd * (z * (2 * cdf - 1) + 2 * pdf - 1 / np.sqrt(np.pi))
    assert float(out["crps"]) == pytest.approx(closed_crps, rel=1e-12)
    assert float(out["log_score"]) == pytest.approx(stats.norm.logpdf(y, m, sd), rel=1e-12)
    assert float(out["pit"]) == pytest.approx(stats.norm.cdf(y, m, sd), rel=1e-12)


def test_mixture_scores_match_integration_and_exact_pairs():
    rng = np.random.default_rng(5)
    m, sd = rng.normal(size=400), rng.uniform(0.3, 2.0, size=400)
    for y in (-2.0, 0.1, 3.5):
        pairs = (rng.integers(400, size=4000), rng.integers(400, size=4000))
        out = normal_mixture_scores(np.array(y), m, sd, pairs=pairs)
        integral = crps_by_integration(y, m, sd)
        assert exact_mixture_crps(y, m, sd) == pytest.approx(integral, abs=1e-6)
        # the spread term is estimated from random pairs: close to the exact O(S^2) value
        assert float(out["crps"]) == pytest.approx(integral, abs=0.02)
        assert float(out["log_score"]) == pytest.approx(
            np.log(stats.norm.pdf(y, m, sd).mean()), rel=1e-10
        )
        assert float(out["pit"]) == pytest.approx(stats.norm.cdf(y, m, sd).mean(), rel=1e-12)


def test_log_score_survives_far_tails():
    out = normal_mixture_scores(np.array(60.0), np.zeros(3), np.ones(3))
    assert float(out["log_score"]) == pytest.approx(stats.norm.logpdf(60.0), rel=1e-12)


def test_coverage_from_pit_equals_interval_membership():
    rng = np.random.default_rng(0)
    y = rng.normal(size=20_000)
    pit = stats.norm.cdf(y)
    for level in (0.5, 0.9):
        lo, hi = stats.norm.interval(level)
        np.testing.assert_array_equal(coverage(pit, level), (y >= lo) & (y <= hi))
    assert coverage(pit, 0.9).mean() == pytest.approx(0.9, abs=0.01)  # Monte Carlo check


def test_predict_cells_batches_over_entities_and_matches_profile(
    simulated_pop, simulated_df, monkeypatch
):
    X = simulated_df.to_numpy()[:7]
    args = (simulated_pop.predictive_components(), X, [1], 0.5)
    res = predict_cells(*args)
    assert res["mean"].shape == (7, 2) and list(res["unobserved"]) == [0, 2]
    # interval bounds from every draw and a tight Newton tolerance: the Profile's exact ones
    monkeypatch.setattr(scoring, "QUANTILE_DRAWS", simulated_pop.n_draws)
    monkeypatch.setattr(scoring, "QUANTILE_RTOL", 1e-6)
    exact = predict_cells(*args)
    for e in range(7):
        table = simulated_pop.profile(noise=0.5).observe("b", X[e, 1]).predict(level=0.9)
        np.testing.assert_allclose(res["mean"][e], table["mean"].iloc[[0, 2]], rtol=1e-10)
        np.testing.assert_allclose(res["std"][e], table["std"].iloc[[0, 2]], rtol=1e-10)
        np.testing.assert_allclose(exact["lower_90"][e], table["lower"].iloc[[0, 2]], rtol=1e-8)
        np.testing.assert_allclose(exact["upper_90"][e], table["upper"].iloc[[0, 2]], rtol=1e-8)
        # the default bounds use a thinned draw set: close, within 2% of the predictive sd
        np.testing.assert_allclose(
            res["lower_90"][e], table["lower"].iloc[[0, 2]], atol=0.02 * table["std"].max()
        )


def test_plugin_matches_skillinfer(leaderboard):
    skillinfer = pytest.importorskip("skillinfer")
    X = leaderboard.iloc[:500].to_numpy()
    ref_pop = skillinfer.Population.from_dataframe(leaderboard.iloc[:500], normalize=False)
    mu, Sigma = plugin_moments(X)
    noise = 0.05 * np.sqrt(np.diag(Sigma[0])).mean()
    test = leaderboard.iloc[500:510].to_numpy()
    res = predict_cells(ComponentDraws.normal(mu, Sigma), test, [1, 3], noise)
    for e in range(len(test)):
        ref = ref_pop.profile().observe("BBH", test[e, 1]).observe("GPQA", test[e, 3])
        np.testing.assert_allclose(res["mean"][e], ref.mu[[0, 2, 4, 5]], rtol=1e-9)
        np.testing.assert_allclose(res["std"][e], ref.std()[[0, 2, 4, 5]], rtol=1e-9)


def test_protocol_counts_and_tables(leaderboard):
    res = sib.evaluate(leaderboard, methods=("plugin", "mean"), n_observed=(1, 2),
                       progressbar=False)
    s = res.summary
    assert s.loc[("plugin", 1), "n_cells"] == 915 * 6 * 5 == 27_450
    assert s.loc[("plugin", 2), "n_cells"] == 915 * 15 * 4 == 54_900
    assert {"MAE", "RMSE", "coverage_50", "coverage_90", "coverage_95", "width_90", "crps",
            "log_score", "n_cells"} <= set(s.columns)
    assert len(res.by_benchmark) == 2 * 2 * 6
    # with transfer, plug-in beats the no-transfer baseline
    assert s.loc[("plugin", 1), "crps"] < s.loc[("mean", 1), "crps"]


def test_evaluate_rejects_bad_settings(leaderboard):
    with pytest.raises(ValueError, match=r"Unknown method\(s\) \['magic'\]"):
        sib.evaluate(leaderboard, methods=("magic",), progressbar=False)
    with pytest.raises(ValueError, match=r"n_observed must be integers in \[1, 5\]"):
        sib.evaluate(leaderboard, n_observed=(6,), progressbar=False)
    with pytest.raises(ValueError, match="test_fraction must be in"):
        sib.evaluate(leaderboard, test_fraction=1.0, progressbar=False)
    with pytest.raises(ValueError, match="population_size must be an integer between 2 and"):
        sib.evaluate(leaderboard, population_size=1, progressbar=False)


def test_calibration_plot_draws_reliability_and_pit_panels():
    from helpers import simulate

    res = sib.evaluate(simulate(200, seed=6), methods=("plugin", "mean"), n_observed=1,
                       progressbar=False)
    fig = res.plot_calibration(n_observed=1, bins=10)
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["ideal", "plugin", "mean"]


def test_bounds_of_latent_and_transformed_benchmarks_side_by_side():
    # one call holding a benchmark on the latent scale and a transformed one gives each the
    # bounds it gets alone: latent quantiles for the first, the score-scale merge for the second
    # (to Newton's tolerance: the batch's iterations stop when all its quantiles converge)
    from skillinfer_bayes.data.transforms import Identity, Log

    rng = np.random.default_rng(3)
    S = 50
    mu = rng.normal(size=(S, 3)) * 0.1 + np.array([1.0, 0.5, 0.0])
    Sigma = np.tile(np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]]), (S, 1, 1))
    draws = ComponentDraws.normal(mu, Sigma)
    X = np.exp(rng.normal(size=(9, 3)))
    X[:, 0] = np.log(X[:, 0])  # the first benchmark is on the latent scale
    mixed = predict_cells(draws, X, [2], 0.1, transforms=[Identity(), Log(), Log()])
    logged = predict_cells(draws, X, [2], 0.1, transforms=[Log(), Log(), Log()])
    plain = predict_cells(draws, X, [2], 0.1, transforms=[Identity(), Identity(), Log()])
    for key in ("lower_50", "upper_50", "lower_90", "upper_90", "lower_95", "upper_95"):
        assert np.isfinite(mixed[key]).all()
        np.testing.assert_allclose(mixed[key][:, 0], plain[key][:, 0], rtol=1e-6)
        np.testing.assert_allclose(mixed[key][:, 1], logged[key][:, 1], rtol=1e-6)
    # a transformed benchmark's bounds lie on its score scale: positive for the log
    assert (mixed["lower_90"][:, 1] > 0).all()


def six_component_draw(n_rows: int):
    """One random 6-component draw of 4 benchmarks, ``n_rows`` test rows, and the exact CRPS
    (quadrature of the conditioned mixture's CDF) of benchmarks 1-3 given benchmark 0."""
    from skillinfer_bayes.data.transforms import Identity
    from skillinfer_bayes.predictive.components import condition_components
    from skillinfer_bayes.predictive.marginals import score_crps

    rng = np.random.default_rng(0)
    C, K = 6, 4
    means = rng.normal(scale=2.0, size=(1, C, K))
    A = rng.normal(size=(1, C, K, K))
    cov = A @ A.transpose(0, 1, 3, 2) / K + 0.2 * np.eye(K)
    weights = rng.dirichlet(np.ones(C), size=1)
    X = rng.normal(scale=2.0, size=(n_rows, K))
    mixture = condition_components(ComponentDraws(means, cov, weights), np.array([0]),
                                   X[:, [0]], 0.0)
    sds = np.column_stack([np.sqrt(cov[0, :, k, k] - cov[0, :, k, 0] ** 2 / cov[0, :, 0, 0])
                           for k in (1, 2, 3)])  # (C, 3)
    reference = np.column_stack([
        score_crps(Identity(), X[:, k], mixture.means[:, :, k], sds[:, j], mixture.weights)
        for j, k in enumerate((1, 2, 3))])
    return (means, cov, weights), X, sds, reference


def test_a_mixtures_crps_does_not_depend_on_how_often_its_draw_is_repeated():
    """One 6-component draw and the same draw three times are the same predictive: the same
    CRPS, equal to the quadrature of the conditioned mixture's CDF (the spread term over all
    pairs; uniformly drawn pairs weighted by the conditioned weights gave 1.373 and 1.224
    against 1.326)."""
    draw, X, _, reference = six_component_draw(200)
    one = predict_cells(ComponentDraws(*draw), X, [0], noise=0.0)["crps"]
    three = predict_cells(ComponentDraws(*(np.repeat(a, 3, axis=0) for a in draw)), X, [0],
                          noise=0.0)["crps"]
    np.testing.assert_allclose(three, one, rtol=1e-10)
    np.testing.assert_allclose(one, reference, rtol=5e-3)


def test_a_large_mixtures_crps_draws_each_entitys_pairs_from_its_weights():
    """400 copies of one conditioned 6-component draw (2,400 components: too many pairs to
    take all): the spread term from pairs drawn per entity from its weights agrees with the
    quadrature of the conditioned mixture within Monte Carlo error (mean error -0.0002 over
    900 cells); uniform pairs reweighted by their weights, the former estimate, were 0.035 too
    high on average (the mean CRPS is 1.32)."""
    from skillinfer_bayes.predictive.components import condition_components
    from skillinfer_bayes.predictive.scores import normal_mixture_scores
    from skillinfer_bayes.studies.scoring import CRPS_PAIRS

    draw, X, sds, reference = six_component_draw(300)
    many = ComponentDraws(*(np.repeat(a, 400, axis=0) for a in draw))
    got = predict_cells(many, X, [0], noise=0.0, random_seed=1)["crps"]
    # per cell the estimate's error is about 0.3 / sqrt(1000); over 900 cells it averages out
    assert abs(np.mean(got - reference)) < 3e-3
    np.testing.assert_allclose(got, reference, rtol=0.1, atol=0.05)
    # the former estimator on the same mixtures: uniform pairs, reweighted
    rng = np.random.default_rng(2)
    big = condition_components(many, np.array([0]), X[:, [0]], 0.0)
    S = many.n_draws * many.n_components
    pairs = (rng.integers(S, size=CRPS_PAIRS), rng.integers(S, size=CRPS_PAIRS))
    former = normal_mixture_scores(X[:, 1:], np.swapaxes(big.means, 1, 2)[:, 1:],
                                   np.tile(sds.T, 400), pairs=pairs,
                                   weights=big.weights[:, None, :])["crps"]
    assert abs(np.mean(former - reference)) > 5 * abs(np.mean(got - reference))


def test_evaluate_checks_the_held_out_rows_covariates_before_fitting():
    # issue 32, item 2: a held-out model with params_b = 0 under a log covariate gave NaN and
    # -inf metrics; every row is now checked as the fitted ones are, before any fit
    import pandas as pd

    rng = np.random.default_rng(12)
    df = pd.DataFrame({"a": rng.normal(50, 10, 60), "b": rng.normal(30, 5, 60),
                       "params_b": rng.uniform(1, 70, 60)})
    df.loc[7, "params_b"] = 0.0  # an unknown size written as 0
    with pytest.raises(ValueError, match=r"covariate 'params_b' needs positive values; it has "
                                         r"0 .*write an unknown value as NaN"):
        sib.evaluate(df, covariates={"params_b": "log"}, random_seed=0, progressbar=False)
