"""Populations on a latent scale (per-benchmark transforms) with covariates: the likelihood
against scipy, saved files, bad input, predictions inside the bounds, the protocol, and (slow)
recovery and calibration on data simulated from a known latent normal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import skillinfer_bayes as sib
from skillinfer_bayes.data.checks import OutOfRangeWarning
from skillinfer_bayes.data.transform_choice import MIN_AUTO_COPULA_TESTED, MIN_AUTO_COPULA_VALUES
from skillinfer_bayes.data.transforms import Log, Logit
from skillinfer_bayes.inference import storage
from skillinfer_bayes.inference.inference_data import read_netcdf, write_netcdf
from skillinfer_bayes.studies import scoring

FAKE = dict(draws=200, chains=2, progressbar=False)
LATENT_MU = np.array([-0.5, 0.5, 1.0])
LATENT_CORR = np.array([[1.0, 0.6, 0.5], [0.6, 1.0, 0.4], [0.5, 0.4, 1.0]])
LATENT_SD = np.array([1.0, 0.7, 0.8])
LATENT_SIGMA = LATENT_CORR * np.outer(LATENT_SD, LATENT_SD)
BOUNDED = Logit(0.0, 100.0)


def simulate_latent(n: int, seed: int, missing: float = 0.0) -> pd.DataFrame:
    """Scores ``a``, ``b`` in [0, 100] (logit of a latent normal) and a positive covariate
    ``size`` (exp of the third latent dimension)."""
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal(LATENT_MU, LATENT_SIGMA, size=n)
    df = pd.DataFrame({"a": BOUNDED.inverse(z[:, 0]), "b": BOUNDED.inverse(z[:, 1]),
                       "size": Log().inverse(z[:, 2])}, index=[f"m{i}" for i in range(n)])
    if missing:
        df = df.mask(rng.random(df.shape) < missing)
        df.loc[df[["a", "b"]].isna().all(axis=1), "a"] = 50.0  # every row keeps a score
    return df


SPEC = dict(transform="logit", bounds=(0, 100), covariates={"size": "log"})


def test_the_log_likelihood_is_the_density_of_the_scores_themselves(fake_sampler):
    df = simulate_latent(60, seed=1, missing=0.2)
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, **SPEC, **FAKE)
    assert pop.latent_names == ["a", "b", "size"] and pop.benchmark_names == ["a", "b"]
    ll = pop.log_likelihood().values.reshape(-1, len(df))
    transforms = [BOUNDED, BOUNDED, Log()]
    for s in (0, 57, 399):
        for i in range(0, len(df), 7):
            x = df.to_numpy()[i]
            o = np.flatnonzero(~np.isnan(x))
            z = np.array([transforms[k].forward(x[k]) for k in o])
            jacobian = sum(transforms[k].log_jacobian(x[k]) for k in o)
            expected = stats.multivariate_normal(
                pop.mu_draws[s, o], pop.Sigma_draws[s][np.ix_(o, o)]).logpdf(z) + jacobian
            assert ll[s, i] == pytest.approx(expected, rel=1e-9)


def test_predictions_stay_in_bounds_and_covariates_are_observed_not_predicted(fake_sampler):
    df = simulate_latent(80, seed=2)
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, **SPEC, **FAKE)
    assert "logit (0 to 100): a, b; covariate, log: size" in str(pop)
    assert "+ 1 covariate(s)" in repr(pop)
    with pytest.warns(sib.OutOfRangeWarning, match=r"Observed a = 99 .* above its highest"):
        profile = pop.profile().observe("a", 99.0)  # near the bound: intervals stay inside
    profile.observe("size", float(df["size"].median()))
    table = profile.predict(level=0.99)
    assert list(table.index) == ["a", "b"]
    assert list(table.columns) == ["mean", "median", "std", "lower", "upper", "observed",
                                   "feature", "ci_lower", "ci_upper"]
    assert (table["lower"] >= 0).all() and (table["upper"] <= 100).all()
    assert (table["lower"] <= table["median"]).all() and (table["median"] <= table["upper"]).all()
    assert "size" in profile.predict(covariates=True).index
    assert profile.predict("size")["observed"] == pytest.approx(df["size"].median())
    assert list(profile.sample(50, random_seed=1).columns) == ["a", "b"]
    assert profile.sample(2000, random_seed=1).to_numpy().max() <= 100.0
    assert set(profile.most_uncertain(k=5)["benchmark"]) <= {"b"}
    # the predictive median maps exactly: its CDF through the latent mixture is 1/2
    assert profile.std("b") > 0 and 0 < profile.mean("b") < 100


def test_a_reload_predicts_the_same_numbers_and_unknown_transforms_are_refused(
        fake_sampler, tmp_path):
    df = simulate_latent(50, seed=3)
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0,
                                        transform="copula", bounds={"a": (0, 100)},
                                        covariates=["size"], **FAKE)
    path = pop.to_netcdf(tmp_path / "fit.nc")
    same = sib.Population.from_netcdf(path, data=df)
    first = pop.profile().observe("a", 40.0).observe("size", 3.0).predict()
    second = same.profile().observe("a", 40.0).observe("size", 3.0).predict()
    pd.testing.assert_frame_equal(first, second)
    idata = read_netcdf(path)
    idata.attrs["transforms"] = idata.attrs["transforms"].replace('"copula"', '"spline"', 1)
    write_netcdf(idata, tmp_path / "edited.nc")
    with pytest.raises(storage.PosteriorFileError, match="transforms this version cannot"):
        sib.Population.from_netcdf(tmp_path / "edited.nc")


def test_bad_scales_and_covariates_get_clear_errors(fake_sampler):
    df = simulate_latent(40, seed=4)
    fit = dict(normalize=False, random_seed=0, **FAKE)
    with pytest.raises(ValueError, match=r"Benchmark 'a' has a value 120 beyond its upper "
                                         r"bound 100"):
        sib.Population.from_dataframe(df.assign(a=df["a"].where(df.index != "m3", 120.0)),
                                      transform="logit", bounds=(0, 100), **fit)
    with pytest.raises(ValueError, match="transform 'logit' of benchmark 'a' needs its bounds"):
        sib.Population.from_dataframe(df, transform="logit", bounds=None, **fit)
    with pytest.raises(ValueError, match=r"Unknown transform 'probit' for benchmark 'a'; "
                                         r"choose one of \[None, 'logit', 'log', 'copula', "
                                         r"'auto'\]"):
        sib.Population.from_dataframe(df, transform="probit", **fit)
    with pytest.raises(ValueError, match="transform names unknown benchmark"):
        sib.Population.from_dataframe(df, transform={"nope": "logit"}, **fit)
    with pytest.raises(ValueError, match="covariate 'size' must be numeric; it holds 'big'"):
        sib.Population.from_dataframe(df.astype({"size": object}).assign(
            size=lambda d: d["size"].where(d.index != "m5", "big")),
            covariates={"size": "log"}, **fit)
    with pytest.raises(ValueError, match="transform 'log' of covariate 'size' needs positive"):
        sib.Population.from_dataframe(df.assign(size=df["size"] - 100), covariates={
            "size": "log"}, **fit)
    with pytest.raises(ValueError, match=r"covariate\(s\) \['params'\] are not columns"):
        sib.Population.from_dataframe(df, covariates=["params"], **fit)
    pop = sib.Population.from_dataframe(df, **SPEC, **fit)
    with pytest.raises(ValueError, match=r"Observed a = 150 is outside its bounds \[0, 100\]"):
        pop.profile().observe("a", 150.0)
    with pytest.warns(OutOfRangeWarning, match="Observed size = 1e"):
        pop.profile().observe("size", 1e6)
    # a covariate just below the population's smallest: measured on its log scale
    smallest = float(df["size"].min())
    with pytest.warns(OutOfRangeWarning, match=rf"Observed size = {smallest / 2:g} .* latent sd "
                                               r"below its lowest value \(transform 'log'\)"):
        pop.profile().observe("size", smallest / 2)


def test_the_protocol_scores_transformed_predictions_on_the_score_scale(fake_sampler,
                                                                        monkeypatch):
    df = simulate_latent(200, seed=5)
    monkeypatch.setattr(scoring, "MERGED_COMPONENTS", 16)
    res = sib.evaluate(df, methods=("bayes", "plugin"), n_observed=1, random_seed=0,
                       progressbar=False, draws=200, chains=2, **SPEC)
    cells = res.cells
    assert set(cells["benchmark"]) == {"a", "b"}  # the covariate is observed, not scored
    bayes = cells[cells["method"] == "bayes"]
    assert (bayes["lower_90"] >= 0).all() and (bayes["upper_90"] <= 100).all()
    covered = (bayes["true"] >= bayes["lower_90"]) & (bayes["true"] <= bayes["upper_90"])
    # coverage from the PIT agrees with the interval bounds (both exact on the score scale)
    pit_covered = (bayes["pit"] - 0.5).abs() <= 0.45
    assert (covered == pit_covered).mean() > 0.99
    assert np.isfinite(bayes[["crps", "log_score", "mean", "std"]].to_numpy()).all()


@pytest.mark.slow
def test_latent_correlations_are_recovered_and_new_entities_are_calibrated():
    df = simulate_latent(800, seed=6)
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=1, draws=500,
                                        tune=500, progressbar=False, **SPEC)
    corr = pop.posterior["corr"].values.reshape(-1, 3, 3)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert abs(corr[:, i, j].mean() - LATENT_CORR[i, j]) < 3 * corr[:, i, j].std() + 0.01
    new = simulate_latent(3000, seed=7).to_numpy()
    noise = np.zeros(3)  # the simulated scores are exact
    pits = []
    for j, other in [(0, 1), (1, 0)]:  # observe one benchmark and the covariate
        out = scoring.predict_cells(pop.predictive_components(), new, [j, 2], noise,
                                       transforms=pop.data.transforms, predicted=[0, 1])
        assert list(out["unobserved"]) == [other]
        pits.append(out["pit"].ravel())
    pit = np.concatenate(pits)
    for level in (0.5, 0.9, 0.95):
        assert np.mean(np.abs(pit - 0.5) <= level / 2) == pytest.approx(level, abs=0.02)


def test_the_command_line_fits_transforms_and_covariates(fake_sampler, tmp_path, capsys):
    from skillinfer_bayes.cli import main

    simulate_latent(60, seed=8).to_csv(tmp_path / "scores.csv")
    fake = ["--draws", "200", "--tune", "10", "--chains", "2", "--quiet"]
    code = main(["predict", "--data", str(tmp_path / "scores.csv"), "--transform", "logit",
                 "--bounds", "0,100", "--covariate", "size:log", "--hold-out", "m3",
                 "--observe", "a=40", *fake])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "logit (0 to 100): a, b; covariate, log: size" in out.out
    assert "'size': " in out.out  # the held-out model's covariate is observed for free
    assert "\nsize " not in out.out  # and not predicted
    code = main(["fit", "--data", str(tmp_path / "scores.csv"), "--bounds", "0-100",
                 "-o", str(tmp_path / "fit.nc"), *fake])
    err = capsys.readouterr().err
    assert code == 2 and "--bounds takes LOWER,UPPER (e.g. 0,100), auto or none; got '0-100'" \
        in err
    code = main(["fit", "--data", str(tmp_path / "scores.csv"), "--transform", "logit",
                 "--bounds", "none", "-o", str(tmp_path / "fit.nc"), *fake])
    err = capsys.readouterr().err
    assert code == 1 and "needs its bounds" in err


def test_compare_models_compares_transforms_and_covariates(fake_sampler):
    df = simulate_latent(120, seed=9)
    models = {"raw": {"transform": None}, "logit": {"transform": "logit", "bounds": (0, 100)},
              "logit + size": {**SPEC}}
    with pytest.warns(UserWarning, match="different covariates"):
        cmp = sib.compare_models(df, models, n_observed=1, random_seed=0, progressbar=False,
                                 draws=200, chains=2)
    assert set(cmp.table.index) == set(models)
    assert set(cmp.cells["benchmark"]) == {"a", "b"}  # size is never a benchmark
    assert np.isfinite(cmp.table[["elpd_loo", "crps", "coverage_90"]].to_numpy()).all()
    logit = cmp.cells[cmp.cells["method"] != "raw"]
    assert (logit["lower_90"] >= 0).all() and (logit["upper_90"] <= 100).all()
    # the first name is kept; a model with an unknown key is refused
    # (and transform= applies to every model that does not set its own)
    same = sib.compare_priors(df.drop(columns="size"), {"raw": sib.Prior()}, n_observed=1,
                              random_seed=0, progressbar=False, draws=200, chains=2,
                              transform=None)
    assert list(same.table.index) == ["raw"]
    assert same.table.loc["raw", "crps"] == pytest.approx(cmp.table.loc["raw", "crps"],
                                                          rel=1e-12)
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['transfrom'\]"):
        sib.compare_models(df, {"bad": {"transfrom": "logit"}})


def test_review_findings_each_get_a_clear_answer(fake_sampler):
    df = simulate_latent(80, seed=10)
    fit = dict(normalize=False, random_seed=0, **FAKE)
    pop = sib.Population.from_dataframe(df, **SPEC, **fit)
    # a noise for the benchmarks leaves the covariates exact
    assert pop.profile(noise=0.5).noise.tolist() == [0.5, 0.5, 0.0]
    assert pop.profile(noise=[0.5, 0.2]).noise.tolist() == [0.5, 0.2, 0.0]
    with pytest.raises(ValueError, match="has no value on the latent scale of its transform "
                                         "'log'"):
        pop.profile().observe("size", 0.0)
    # the prior predictive is simulated on the latent scale and mapped back
    prior = pop.sample_prior_predictive(draws=20, n_entities=30, random_seed=1)
    scores = prior["prior_predictive"]["scores"].values
    assert scores.shape[-1] == 3 and scores[..., :2].min() >= 0 and scores[..., :2].max() <= 100
    assert scores[..., 2].min() > 0  # the covariate through exp
    with pytest.raises(ValueError, match=r"this population has covariates \['size'\]"):
        sib.validation.held_out_evaluation(pop, n_splits=1)
    with pytest.raises(ValueError, match="evaluation_curve orders benchmarks only"):
        sib.evaluation_curve(df[["a", "b"]], covariates={"size": "log"})
    with pytest.raises(ValueError, match="covariate 'size' needs at least 2 different known"):
        sib.Population.from_dataframe(df.assign(size=3.0), covariates=["size"], **fit)
    with pytest.raises(ValueError, match="covariate 'size' cannot take the 'logit'"):
        sib.Population.from_dataframe(df, covariates={"size": "logit"}, **fit)
    res = sib.evaluate(df, methods=("bayes",), n_observed=1, noise=0.5, random_seed=0,
                       progressbar=False, draws=200, chains=2, **SPEC)
    assert set(res.cells["benchmark"]) == {"a", "b"}


def test_every_new_bad_input_names_the_value_and_the_fix(fake_sampler, tmp_path, capsys):
    df = simulate_latent(40, seed=11)
    fit = dict(normalize=False, random_seed=0, **FAKE)
    with pytest.raises(ValueError, match=r"bounds must be \(lower, upper\), 'auto', None or a "
                                         r"dict"):
        sib.Population.from_dataframe(df, transform="logit", bounds=100, **fit)
    with pytest.raises(ValueError, match=r"bounds of benchmark 'a' must be \(lower, upper\)"):
        sib.Population.from_dataframe(df, transform="logit", bounds={"a": (0,)}, **fit)
    with pytest.raises(ValueError, match="must be finite with lower < upper"):
        sib.Population.from_dataframe(df, transform="logit", bounds=(100, 0), **fit)
    pop = sib.Population.from_dataframe(df[["a", "b"]], **fit)
    with pytest.raises(TypeError, match=r"observe\('a'\) needs the observed score"):
        pop.profile().observe("a")
    with pytest.raises(TypeError, match="Give the benchmark once"):
        pop.profile().observe("a", 1.0, feature="b")
    assert pop.profile().observe(feature="a", value=40.0).observed == {"a": 40.0}
    with pytest.raises(ValueError, match="needs a complete table"):
        sib.validation.held_out_evaluation(
            sib.Population.from_dataframe(df[["a", "b"]].assign(
                a=df["a"].where(df.index != "m1")), **fit))
    with pytest.raises(ValueError, match="obs_noise must be a finite sd >= 0 or None"):
        sib.validation.held_out_evaluation(pop, obs_noise=-1.0)
    with pytest.raises(ValueError, match="needs at least 5 entities"):
        sib.validation.held_out_evaluation(
            sib.Population.from_dataframe(df[["a", "b"]].iloc[:4], transform=None, **fit))
    from skillinfer_bayes.cli import main

    df.to_csv(tmp_path / "scores.csv")
    code = main(["fit", "--data", str(tmp_path / "scores.csv"), "--covariate", ":log",
                 "-o", str(tmp_path / "fit.nc"), "--quiet"])
    assert code == 2 and "--covariate takes NAME or NAME:TRANSFORM" in capsys.readouterr().err


def test_the_default_is_the_copula_with_automatic_bounds(fake_sampler):
    rng = np.random.default_rng(12)
    n = MIN_AUTO_COPULA_VALUES
    df = pd.DataFrame({"pct": rng.uniform(2, 98, n), "share": rng.uniform(0, 1, n),
                       "elo": rng.normal(1200, 80, n)}, index=[f"m{i}" for i in range(n)])
    fit = dict(normalize=False, random_seed=0, **FAKE)
    pop = sib.Population.from_dataframe(df, **fit)
    assert [t.name for t in pop.data.transforms] == ["copula"] * 3
    # with fewer scores, "auto" takes the logit of bounded scores and the normal otherwise
    fewer = sib.Population.from_dataframe(df.iloc[: MIN_AUTO_COPULA_TESTED - 1], **fit)
    assert [t.name for t in fewer.data.transforms] == ["logit", "logit", "identity"]
    assert "transforms: logit (0 to 100): pct; logit (0 to 1): share; none: elo" in str(fewer)
    assert [t.bounds for t in pop.data.transforms] == [(0.0, 100.0), (0.0, 1.0),
                                                       (-np.inf, np.inf)]
    assert "transforms: copula (0 to 100): pct; copula (0 to 1): share; copula: elo" in str(pop)
    # a wide table's names are cut short, and a normalization's rounding is not shown
    wide = pd.DataFrame(rng.uniform(0, 1, (40, 12)), columns=[f"c{k}" for k in range(12)])
    shown = str(sib.Population.from_dataframe(wide, random_seed=0, transform="copula", **FAKE))
    assert "transforms: copula (0 to 1): c0, c1, c2, ... (12 in all)\n" in shown
    same = sib.Population.from_dataframe(df, transform="copula", bounds="auto", **fit)
    assert same.data.transform_specs() == pop.data.transform_specs()
    # a dict leaves the other benchmarks at the defaults; None turns bounds or the map off
    mixed = sib.Population.from_dataframe(df, transform={"elo": None},
                                          bounds={"share": None}, **fit)
    assert [t.name for t in mixed.data.transforms] == ["copula", "copula", "identity"]
    assert mixed.data.transforms[1].bounds == (-np.inf, np.inf)
    raw = sib.Population.from_dataframe(df, transform=None, **fit)
    assert not raw.data.transformed
    # predictions stay inside the automatic bounds
    p = pop.profile().observe("elo", 1300.0).predict(level=0.99)
    assert p.loc["pct", "lower"] >= 0 and p.loc["pct", "upper"] <= 100
    assert p.loc["share", "lower"] >= 0 and p.loc["share", "upper"] <= 1
    # a benchmark too sparse for a copula asked for is named, with the way out; the default
    # takes its logit
    sparse = df.assign(pct=df["pct"].where(np.arange(n) < 4))
    with pytest.raises(ValueError, match=r"Benchmark 'pct': a copula marginal needs at least "
                                         r"5 observed values; got 4\. .*transform=\{'pct': "
                                         r"None\}"):
        sib.Population.from_dataframe(sparse, transform="copula", **fit)
    assert sib.Population.from_dataframe(sparse, **fit).data.transforms[0].name == "logit"
    with pytest.raises(ValueError, match=r"bounds must be \(lower, upper\), 'auto', None or a "
                                         r"dict by benchmark; got 100"):
        sib.Population.from_dataframe(df, bounds=100, **fit)
    with pytest.raises(ValueError, match=r"bounds of benchmark 'pct' must be \(lower, upper\), "
                                         r"'auto' or None; got 'automatic'"):
        sib.Population.from_dataframe(df, bounds="automatic", **fit)


def test_the_evaluation_curve_scores_a_copula_population_on_the_score_scale(fake_sampler):
    df = simulate_latent(100, seed=13)[["a", "b"]]
    curve = sib.evaluation_curve(df, rules=("random", "most_uncertain"), random_seed=0,
                                 **FAKE)
    test = curve.orders.loc[curve.orders["rule"] == "random", "entity"]
    # refit the curve's population (same seed, same rows) and score step 0 by hand
    from skillinfer_bayes.studies.protocol import make_splits

    ((_, train, seed),) = make_splits(len(df), 0.2, None, 1, 0)
    pop = sib.Population.from_dataframe(df.iloc[train].reset_index(drop=True),
                                        normalize=False, random_seed=seed, **FAKE)
    assert pop.data.transforms[0].name == "copula"
    prior_mean = pop.profile().mean()
    expected = np.abs(df.loc[test].to_numpy() - prior_mean).mean()
    at0 = curve.steps[curve.steps["n_observed"] == 0].set_index("rule")
    # the curve merges the mixture into 64 normals per benchmark, the Profile into 128
    assert at0.loc["random", "mae_all"] == pytest.approx(expected, rel=5e-3)
    # after one step every mean is a score inside the bounds, and CRPS is finite
    assert np.isfinite(curve.steps["crps"].dropna()).all()
    same = sib.evaluation_curve(df, rules=("random",), random_seed=0, population=pop)
    assert same.steps["crps_all"].tolist() == pytest.approx(
        curve.steps.loc[curve.steps["rule"] == "random", "crps_all"].tolist(), rel=1e-12)


def test_held_out_evaluation_refits_the_transforms_and_scores_on_the_score_scale():
    df = simulate_latent(120, seed=14)[["a", "b"]]
    config = sib.SamplerConfig(draws=300, tune=300, chains=4, progressbar=False)
    pop = sib.Population.from_dataframe(df, normalize=False, bounds=(0, 100),
                                        sampler_config=config, random_seed=0)
    res = sib.validation.held_out_evaluation(pop, frac_observed=0.5, n_splits=1,
                                             obs_noise=None, sampler_config=config)
    kalman = res[res["method"] == "kalman"]
    assert len(kalman) == 24 and np.isfinite(kalman["mean_log_likelihood"]).all()
    by_method = res.groupby("method")["mae"].mean()
    assert by_method["kalman"] < 0.9 * by_method["prior"]  # the correlation 0.6 informs
    assert 0.75 <= kalman["calibration_coverage"].mean() <= 1.0
