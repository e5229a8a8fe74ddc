"""The defaults fit real tables: sparse columns, mixed scales, scores beyond inferred bounds.

A frontier table has 80-200 models, a third of its cells known, new benchmarks with one to four
scores, and percentages next to Elo ratings. Each case below is one such table's trap, fitted
with no ``transform=`` argument.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import skillinfer_bayes as sib
from skillinfer_bayes.data.transform_choice import MIN_AUTO_COPULA_TESTED, MIN_AUTO_COPULA_VALUES

FAKE = dict(draws=200, chains=2, progressbar=False)


def frontier_table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Percentages of a rank-2 population, a quarter of the cells known, with a new benchmark
    of one score, one of three equal scores, one of four, one complete (for the copula) and
    an Elo rating known for 40 models."""
    sim = sib.datasets.simulate_factor_table(n, 6, 2, known=0.25, random_seed=seed)
    pct = (50 + 15 * sim.complete).clip(0, 100)
    table = (50 + 15 * sim.table).clip(0, 100)
    first = np.arange(n)
    table["new_1"] = np.where(first < 1, pct["b0"], np.nan)
    table["new_3_equal"] = np.where(first < 3, 42.0, np.nan)
    table["new_4"] = np.where(first < 4, pct["b1"], np.nan)
    table["complete"] = pct["b2"]
    table["elo"] = np.where(first < 40, 1200 + 80 * sim.complete["b3"], np.nan)
    return table


def test_a_frontier_style_table_fits_on_the_defaults(fake_sampler):
    df = frontier_table()
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, **FAKE)
    chosen = dict(zip(pop.benchmark_names, (t.name for t in pop.data.transforms)))
    assert chosen["complete"] == "copula"  # 60 scores
    assert chosen["b0"] == chosen["new_1"] == chosen["new_3_equal"] == "logit"  # few, bounded
    assert chosen["elo"] == "identity"
    shown = str(pop)
    assert "copula (0 to 100): complete" in shown and "none: elo" in shown
    assert "logit (0 to 100): b0, b1, b2, ..." in shown
    # the benchmark of one score is predicted with the prior's uncertainty about it
    table = pop.profile().observe("b2", 60.0).predict(level=0.9)
    assert np.isfinite(table[["mean", "median", "std", "lower", "upper"]].to_numpy()).all()
    assert table.loc["new_1", "std"] > 0
    assert 0 <= table.loc["new_1", "lower"] < table.loc["new_1", "upper"] <= 100
    # its one score centres the prior; observing it informs the others through the prior
    one = pop.profile().observe("new_1", float(df["new_1"].dropna().iloc[0])).predict()
    assert np.isfinite(one["mean"]).all()
    # the same table on the normalized scale (skillinfer's default) fits too
    sib.Population.from_dataframe(df, random_seed=0, **FAKE).profile().observe("b2", 0.5)


def test_few_equal_scores_are_fitted_a_constant_benchmark_is_refused():
    df = frontier_table()
    data = sib.prepare(df, normalize=False)
    k = data.benchmarks.index("new_3_equal")
    assert np.isnan(data.standardized()[:, k]).all()  # no spike at sd 0 in the likelihood
    assert data.center[k] == pytest.approx(data.transforms[k].forward(42.0))
    assert data.scale[k] > 0
    constant = df.assign(flat=np.where(np.arange(len(df)) < 5, 7.0, np.nan))
    with pytest.raises(ValueError, match=r"Benchmark\(s\) 'flat' \(5 scores, all 7\) are "
                                         r"constant across the population"):
        sib.prepare(constant)
    with pytest.raises(ValueError, match=r"Benchmark\(s\) \['none'\] have no observed score"):
        sib.prepare(df.assign(none=np.nan))


def test_a_score_beyond_inferred_bounds_warns_and_predicts(fake_sampler):
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.multivariate_normal([40.0, 50.0], [[64.0, 40.0], [40.0, 64.0]], 80),
                      columns=["a", "b"]).clip(1, 99)  # Gaussian, inside [0, 100] by chance
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, **FAKE)
    assert pop.data.transforms[0].bounds == (0.0, 100.0)
    with pytest.warns(sib.OutOfBoundsWarning, match=r"Observed a = -1.6 lies beyond its "
                                                     r"bound 0, which was inferred .*"
                                                     r"bounds=\{'a': None\}"):
        profile = pop.profile().observe("a", -1.6)
    assert profile.observed == {"a": -1.6}
    assert np.isfinite(profile.predict()["mean"]).all()
    with pytest.warns(sib.OutOfRangeWarning, match="far outside the population's range"):
        on_bound = pop.profile().observe("a", 0.0)  # read as a score on the bound
    assert profile.mean("b") == pytest.approx(on_bound.mean("b"), rel=1e-12)
    # bounds the user gave keep their hard error
    given = sib.Population.from_dataframe(df, normalize=False, bounds=(0, 100), random_seed=0,
                                          **FAKE)
    with pytest.raises(ValueError, match=r"Observed a = -1.6 is outside its bounds \[0, 100\] "
                                         r"\(given when the population was fitted\)"):
        given.profile().observe("a", -1.6)


def test_a_normalized_populations_bound_error_names_normalize(fake_sampler):
    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.uniform(10, 90, (60, 2)), columns=["a", "b"])
    pop = sib.Population.from_dataframe(df, random_seed=0, bounds=(0, 100), **FAKE)
    with pytest.raises(ValueError, match=r"Observed a = 55 is outside its bounds .* on the "
                                         r"normalized scale: .*normalize=True.*"
                                         r"fit with normalize=False"):
        pop.profile().observe("a", 55.0)
    inferred = sib.Population.from_dataframe(df, random_seed=0, **FAKE)  # "auto" bounds
    with pytest.raises(ValueError, match="fit with normalize=False"):
        inferred.profile().observe("a", 55.0)


def test_the_percentages_noise_does_not_change_when_an_elo_column_is_added(fake_sampler):
    df = frontier_table().drop(columns=["elo", "new_1", "new_3_equal", "new_4"])
    fit = dict(normalize=False, random_seed=0, **FAKE)
    alone = sib.Population.from_dataframe(df, **fit).default_noise()
    elo = 1200 + 80 * np.random.default_rng(5).standard_normal(len(df))
    beside = sib.Population.from_dataframe(df.assign(elo=elo), **fit).default_noise()
    np.testing.assert_allclose(beside[:-1], alone, rtol=1e-12)
    # 5% of its own sd (the posterior's; here, a fake posterior's of the same order)
    assert beside[-1] == pytest.approx(0.05 * np.std(elo, ddof=1), rel=0.25)


def test_on_the_sparse_simulated_table_the_default_is_the_normal_where_unbounded():
    # benchmarks/wide_tables.py's table: N(0, ~1.3) scores, about 28 known per benchmark;
    # "auto" takes the normal of transform=None wherever the scores are not inside (0, 100)
    table = sib.datasets.simulate_factor_table(80, 50, 2, known=0.35, random_seed=0).table
    data = sib.prepare(table, normalize=False)
    for name, transform in zip(data.benchmarks, data.transforms):
        inside = table[name].min() >= 0 and table[name].max() <= 100
        assert transform.name == ("logit" if inside else "identity"), name


def held_out_coverage(seed: int, n_train: int = 20, n_test: int = 40) -> np.ndarray:
    """Whether each held-out cell's truth lies in the default's 90% interval: a known
    Gaussian population of 4 benchmarks, ``n_train`` models fitted, each test model observed
    on one benchmark."""
    rng = np.random.default_rng(seed)
    corr = np.full((4, 4), 0.6) + 0.4 * np.eye(4)
    sd = np.array([12.0, 8.0, 15.0, 5.0])
    X = rng.multivariate_normal([50.0, 30.0, 60.0, 10.0], corr * np.outer(sd, sd),
                                n_train + n_test)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 20-model fit's checks are not the question here
        pop = sib.Population.from_dataframe(df.iloc[:n_train], normalize=False,
                                            random_seed=seed, draws=500, tune=500,
                                            progressbar=False)
        hits = []
        for i in range(n_train, n_train + n_test):
            j = i % 4
            table = pop.profile().observe(df.columns[j], X[i, j]).predict(level=0.9)
            others = [k for k in range(4) if k != j]
            lower = table["lower"].to_numpy()[others]
            upper = table["upper"].to_numpy()[others]
            hits += list((lower <= X[i, others]) & (X[i, others] <= upper))
    return np.array(hits)


@pytest.mark.slow
def test_the_defaults_intervals_are_calibrated_on_small_gaussian_populations():
    hits = np.concatenate([held_out_coverage(seed) for seed in range(12)])
    coverage = hits.mean()
    # 1,440 cells: the binomial sd of a 0.9 coverage is 0.008
    assert 0.875 <= coverage <= 0.935, coverage
    assert stats.binomtest(int(hits.sum()), len(hits), 0.9).pvalue > 1e-4


def test_auto_picks_the_copula_from_its_thresholds():
    rng = np.random.default_rng(6)
    scores = pd.DataFrame({"a": rng.uniform(5, 95, MIN_AUTO_COPULA_VALUES)})
    assert sib.prepare(scores).transforms[0].name == "copula"
    assert sib.prepare(scores.iloc[: MIN_AUTO_COPULA_TESTED - 1]).transforms[0].name == "logit"
    # between the two, the copula where the scores are detectably not normal on the logit
    # scale (a pile near 0 and a cluster near 70), the logit where they are
    n = MIN_AUTO_COPULA_TESTED + 10
    lumpy = np.concatenate([rng.uniform(0.5, 3.0, n // 2), rng.normal(70, 4, n - n // 2)])
    normal = 100 / (1 + np.exp(-rng.normal(0.0, 0.8, n)))
    both = sib.prepare(pd.DataFrame({"lumpy": lumpy, "normal": normal}))
    assert [t.name for t in both.transforms] == ["copula", "logit"]


def test_prior_mean_is_checked_against_the_bounds_as_an_observation(fake_sampler):
    # issue 32, item 6: an out-of-bounds prior_mean gave an all-NaN row
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"a": rng.uniform(10, 90, 60), "b": rng.uniform(10, 90, 60)})
    given = sib.Population.from_dataframe(df, normalize=False, bounds=(0, 100), random_seed=0,
                                          **FAKE)
    with pytest.raises(ValueError, match=r"prior_mean of a = 120 is outside its bounds "
                                         r"\[0, 100\] \(given"):
        given.profile(prior_mean=pd.Series({"a": 120.0}))
    inferred = sib.Population.from_dataframe(df, normalize=False, random_seed=0, **FAKE)
    with pytest.warns(sib.OutOfBoundsWarning, match=r"prior_mean of a = 120 lies beyond its "
                                                     r"bound 100"):
        profile = inferred.profile(prior_mean=pd.Series({"a": 120.0}))
    assert np.isfinite(profile.predict()[["mean", "lower", "upper"]].to_numpy()).all()


def test_a_benchmark_of_one_score_is_independent_of_the_others_in_the_predictive(fake_sampler):
    df = frontier_table()
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, **FAKE)
    first = pop.profile().observe("complete", 60.0)
    both = first.copy().observe("new_1", 80.0)
    others = [k for k, b in enumerate(pop.benchmark_names) if b != "new_1"]
    np.testing.assert_allclose(both.mean()[others], first.mean()[others], rtol=1e-9)
    np.testing.assert_allclose(both.std()[others], first.std()[others], rtol=1e-9)
    assert np.isfinite(pop.log_likelihood().values).all()
    # normalized, its scale is that of its kind (0-100 here), not the normalized others'
    normalized = sib.Population.from_dataframe(df, random_seed=0, **FAKE)
    assert normalized.scaling.loc["new_1", "range"] == 100.0
    ratio = normalized.profile().std("new_1") * 100.0 / pop.profile().std("new_1")
    assert 0.5 < ratio < 2.0


def test_a_factor_model_of_a_sparse_table_with_a_benchmark_of_one_score(fake_sampler):
    df = frontier_table()
    pop = sib.Population.from_dataframe(df, normalize=False, covariance="factor", n_factors=2,
                                        random_seed=0, **FAKE)
    table = pop.profile().observe("new_1", 70.0).observe("b0", 40.0).predict()
    assert np.isfinite(table[["mean", "lower", "upper"]].to_numpy()).all()


def test_noise_kinds_must_name_every_benchmark():
    from skillinfer_bayes.predictive.conditioning import noise_from_sds

    with pytest.raises(ValueError, match="2 scale kinds for 3 benchmarks"):
        noise_from_sds(np.array([1.0, 2.0, 3.0]), [None, None])
