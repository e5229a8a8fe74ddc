"""The cell-holdout protocol: which cells are hidden, the baselines against direct
computations, the result tables, the bad inputs, and a factor model on a sparse table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import simulate_sparse

import skillinfer_bayes as sib
from skillinfer_bayes.models.factor_em import fit_factor_em
from skillinfer_bayes.studies.cells import (
    KNN_NEIGHBOURS,
    evaluate_cells,
    hide_cells,
    knn_moments,
)

FAKE = dict(draws=200, chains=2, progressbar=False, transform=None)


def test_each_eligible_entity_hides_its_share_and_keeps_one_visible():
    known = ~np.isnan(simulate_sparse(50, 8, 0.5, seed=1).to_numpy())
    hidden = hide_cells(known, 0.5, 3, np.random.default_rng(0))
    counts = known.sum(axis=1)
    assert not (hidden & ~known).any()  # only known cells are hidden
    eligible = counts >= 3
    assert (hidden[~eligible].sum(axis=1) == 0).all()
    expected = np.minimum(np.maximum(1, np.round(0.5 * counts)), counts - 1)
    np.testing.assert_array_equal(hidden[eligible].sum(axis=1), expected[eligible])
    again = hide_cells(known, 0.5, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(hidden, again)


def test_the_knn_baseline_is_the_weighted_mean_of_the_nearest_entities():
    rng = np.random.default_rng(2)
    visible = rng.normal(size=(30, 4))
    visible[rng.random(visible.shape) < 0.2] = np.nan
    visible[0] = [0.5, -0.2, np.nan, np.nan]
    sd = np.nanstd(visible, axis=0, ddof=1)
    mean, spread = knn_moments(visible, 0, np.array([2]), sd)
    both = ~np.isnan(visible[:, :2]).any(axis=1) & ~np.isnan(visible[:, 2])
    both[0] = False
    dist = np.sqrt(((visible[:, :2] - visible[0, :2]) ** 2).mean(axis=1))
    candidates = np.flatnonzero(both)
    nearest = candidates[np.argsort(dist[candidates])[:KNN_NEIGHBOURS]]
    w = 1 / (dist[nearest] + 1e-8)
    assert mean[0] == pytest.approx(w @ visible[nearest, 2] / w.sum(), rel=1e-12)
    assert spread[0] >= 0.05 * sd[2]


def test_the_cells_protocol_scores_every_hidden_cell_for_every_method(fake_sampler):
    df = simulate_sparse(30, 6, 0.6, seed=3)
    res = sib.evaluate(df, protocol="cells", hide_fraction=0.5, folds=2, random_seed=4,
                       **FAKE)
    known = ~np.isnan(df.to_numpy())
    rng = np.random.default_rng(4)
    hidden = [hide_cells(known, 0.5, 2, rng) for _ in range(2)]
    n_hidden = sum(int(h.sum()) for h in hidden)
    assert len(res.cells) == 3 * n_hidden
    assert list(res.summary.index) == ["bayes", "mean", "knn"]
    for column in ("MAE", "median_abs_error", "median_abs_pct_error", "coverage_90", "crps",
                   "log_score", "n_cells"):
        assert column in res.summary.columns
    assert np.isfinite(res.cells[["mean", "std", "pit", "crps"]].to_numpy()).all()
    # every fold's fit reports its sampler diagnostics
    assert list(res.fits.index) == [0, 1] and res.fits.index.name == "fold"
    assert (res.fits["divergences"] >= 0).all() and res.fits["max_r_hat"].notna().all()
    # the mean baseline predicts each benchmark's mean over the fold's visible cells
    visible = np.where(hidden[0], np.nan, df.to_numpy())
    first = res.cells.query("fold == 0 and method == 'mean'")
    expected = np.nanmean(visible, axis=0)[first["benchmark"].str[1:].astype(int)]
    np.testing.assert_allclose(first["mean"], expected, rtol=1e-12)
    # the median errors are medians of the cells' errors
    bayes = res.cells.query("method == 'bayes'")
    assert res.summary.loc["bayes", "median_abs_error"] == pytest.approx(
        (bayes["mean"] - bayes["true"]).abs().median())


def test_the_em_method_conditions_the_plugin_factor_analysis_of_each_fold():
    df = simulate_sparse(40, 6, 0.7, seed=8)
    res = evaluate_cells(df, methods=("em",), em_factors=1, folds=1, random_seed=9,
                         progressbar=False)
    hidden = hide_cells(~np.isnan(df.to_numpy()), 0.5, 2, np.random.default_rng(9))
    visible = np.where(hidden, np.nan, df.to_numpy())
    fit = fit_factor_em(visible, 1)
    i = int(np.flatnonzero(hidden.any(axis=1))[0])
    o, u = np.flatnonzero(~np.isnan(visible[i])), np.flatnonzero(hidden[i])
    cov = fit.covariance
    mean = fit.mean[u] + cov[np.ix_(u, o)] @ np.linalg.solve(cov[np.ix_(o, o)],
                                                             visible[i, o] - fit.mean[o])
    first = res.cells[res.cells["entity"] == df.index[i]]
    np.testing.assert_allclose(first["mean"], mean, rtol=1e-9)


def test_bad_cell_protocol_inputs_are_refused_with_the_fix(fake_sampler):
    df = simulate_sparse(20, 5, 0.6, seed=5)
    with pytest.raises(ValueError, match=r"hide_fraction must lie in \(0, 1\), e.g. 0.5; got 1"):
        sib.evaluate(df, protocol="cells", hide_fraction=1.0)
    with pytest.raises(ValueError, match="folds must be an integer >= 1; got 0"):
        sib.evaluate(df, protocol="cells", folds=0)
    with pytest.raises(ValueError, match="min_known must be an integer >= 2; got 1"):
        sib.evaluate(df, protocol="cells", min_known=1)
    with pytest.raises(ValueError, match=r"Unknown method\(s\) \['plugin'\] for "
                                         r"protocol='cells'; choose from \['bayes', 'mean', "
                                         r"'knn', 'em'\]"):
        sib.evaluate(df, protocol="cells", methods=("plugin",))
    with pytest.raises(ValueError, match="Unknown protocol 'rows'; choose 'entities'"):
        sib.evaluate(df, protocol="rows")
    with pytest.raises(ValueError, match="protocol='cells' takes no groups, covariates, "
                                         "noise or components yet"):
        sib.evaluate(df, protocol="cells", noise=0.1)
    with pytest.raises(ValueError, match="The 'em' method needs a rank: pass em_factors=2"):
        sib.evaluate(df, protocol="cells", methods=("em",))
    with pytest.raises(ValueError, match=r"em_factors: n_factors must be an integer from 1 to "
                                         r"4 .*got 5"):
        sib.evaluate(df, protocol="cells", methods=("em", "mean"), em_factors=5)
    with pytest.raises(ValueError, match="No entity has 9 known scores"):
        sib.evaluate(df, protocol="cells", min_known=9)


@pytest.mark.slow
def rare_benchmark_table() -> pd.DataFrame:
    """Issue 32's table: 60 x 6, one benchmark known for only 3 models."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 1))
    X = 50 + 10 * (z @ np.ones((1, 6)) + 0.6 * rng.normal(size=(60, 6)))
    df = pd.DataFrame(X, columns=[f"b{i}" for i in range(6)])
    df.loc[rng.random(60) < 0.3, "b1"] = np.nan
    df.loc[3:, "b5"] = np.nan
    return df


def test_cells_a_baseline_cannot_predict_are_counted_as_missing_not_as_misses():
    # issue 32, item 3: the hiding leaves b5 with fewer than 2 visible scores in some folds;
    # before, "mean" and "knn" scored those NaN predictions as misses (coverage 0.00) inside
    # n_cells, and the entity that observed b5 got NaN for every benchmark
    res = evaluate_cells(rare_benchmark_table(), methods=("mean", "knn"), random_seed=5,
                         progressbar=False)
    summary = res.summary
    assert np.isfinite(summary.drop(columns="n_missing").to_numpy()).all()
    assert summary["n_missing"].tolist() == [6, 6]  # b5's cells only
    assert (summary["n_cells"] + summary["n_missing"]).tolist() == [366, 366]
    b5 = res.by_benchmark.xs("b5", level="benchmark")
    assert b5["n_cells"].tolist() == [0, 0] and b5["n_missing"].tolist() == [6, 6]
    others = res.by_benchmark.drop(index="b5", level="benchmark")
    assert (others["n_missing"] == 0).all()  # observing b5 no longer spoils the others
    # with nothing missing the figures are what they were
    full = evaluate_cells(rare_benchmark_table(), methods=("mean",), random_seed=0,
                          progressbar=False).summary
    assert full.loc["mean", "n_missing"] == 0
    assert full.loc["mean", "MAE"] == pytest.approx(8.428844, abs=1e-6)


def test_a_fold_its_hiding_leaves_unfittable_is_refused_before_sampling_naming_the_hiding():
    df = rare_benchmark_table()
    df.loc[:6, "b5"] = 40.0 + np.arange(7.0)  # 7 known: a copula fits the whole table
    with pytest.raises(ValueError, match=r"fold \d hid cells that its fit needs: Benchmark "
                                         r"'b5': a copula marginal needs at least 5 .* The "
                                         r"hiding left .*b5 \(\d of 7 known scores visible\)"
                                         r"\. Hide fewer cells \(a smaller hide_fraction, or a "
                                         r"larger min_known="):
        evaluate_cells(df, methods=("bayes",), transform="copula", random_seed=0,
                       progressbar=False)


def test_a_factor_model_beats_the_baselines_on_held_out_cells():
    df = simulate_sparse(60, 16, 0.5, seed=6)
    res = sib.evaluate(df, protocol="cells", folds=1, random_seed=0, covariance="factor",
                       n_factors=2, transform=None, progressbar=False,
                       target_accept=0.9, chains=2)
    summary = res.summary
    assert summary.loc["bayes", "median_abs_error"] < summary.loc["knn", "median_abs_error"]
    assert summary.loc["bayes", "median_abs_error"] < summary.loc["mean", "median_abs_error"]
    assert summary.loc["bayes", "crps"] < summary.loc["knn", "crps"]
    assert 0.8 <= summary.loc["bayes", "coverage_90"] <= 0.97
