"""No silent wrong answers: one regression test per case of issue 9 (strict input, saved-file
integrity, scales, the command line). Fits here use the fake sampler unless NUTS matters."""

from __future__ import annotations

import threading
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
from helpers import simulate

import skillinfer_bayes as sib
from skillinfer_bayes.cli import main
from skillinfer_bayes.inference import storage

#: Fake fits: big enough for the fake draws to pass the sampler checks.
FAKE = dict(draws=200, chains=2, progressbar=False)
FAKE_CLI = ("--draws", "200", "--tune", "10", "--chains", "2", "--quiet")


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def last_error(err: str) -> str:
    return err.strip().splitlines()[-1]


# ------------------------------------------------------------------ 1, 2: one input path
def test_cli_data_with_one_non_numeric_cell_fails_naming_the_cell(tmp_path, capsys,
                                                                  fake_sampler):
    df = simulate(30, seed=1)
    df["b"] = df["b"].round(1).astype(object)
    df.loc["m3", "b"] = "59.1%"
    df.to_csv(tmp_path / "bad.csv")
    code, _, err = cli(capsys, "fit", "--data", str(tmp_path / "bad.csv"),
                       "-o", str(tmp_path / "x.nc"), *FAKE_CLI)
    assert code == 1  # the run failed (bad data), not the command line
    assert "'59.1%' in column 'b', row 'm3'" in last_error(err)
    assert not fake_sampler  # refused before fitting
    with pytest.raises(TypeError, match=r"'59.1%' in column 'b', row 'm3'"):
        sib.Population.from_csv(tmp_path / "bad.csv", **FAKE)


def test_cli_data_written_by_to_csv_fits_exactly_the_benchmark_columns(tmp_path, capsys,
                                                                        fake_sampler):
    simulate(40, seed=2).to_csv(tmp_path / "scores.csv")  # unnamed index column first
    out = tmp_path / "pop.nc"
    code, stdout, err = cli(capsys, "fit", "--data", str(tmp_path / "scores.csv"),
                            "-o", str(out), *FAKE_CLI)
    assert code == 0, err
    pop = sib.Population.from_netcdf(out)
    assert pop.benchmark_names == ["a", "b", "c"]
    assert pop.entity_names[:2] == ["m0", "m1"]
    same = sib.Population.from_csv(tmp_path / "scores.csv", random_seed=0, **FAKE)
    assert same.benchmark_names == pop.benchmark_names and same.entity_names == pop.entity_names
    # read without the index column, the unnamed column is refused rather than fitted
    with pytest.raises(ValueError, match=r"without a header \['Unnamed: 0'\].*index_col=0"):
        sib.Population.from_csv(tmp_path / "scores.csv", index_col=None, **FAKE)
    # a file without a name column: the first benchmark is not taken for names, even when it
    # holds whole numbers
    plain_df = simulate(40, seed=2)
    plain_df["a"] = plain_df["a"].round().astype(int)
    plain_df.to_csv(tmp_path / "plain.csv", index=False)
    with pytest.raises(ValueError, match="'a' .* looks like a benchmark, not model names"):
        sib.Population.from_csv(tmp_path / "plain.csv", **FAKE)
    code, _, err = cli(capsys, "fit", "--data", str(tmp_path / "plain.csv"),
                       "-o", str(tmp_path / "plain.nc"), *FAKE_CLI)
    assert code == 1 and "--index-col none" in last_error(err)
    plain = sib.Population.from_csv(tmp_path / "plain.csv", index_col=None, **FAKE)
    assert plain.benchmark_names == ["a", "b", "c"]
    code, _, err = cli(capsys, "fit", "--data", str(tmp_path / "plain.csv"), "--index-col",
                       "none", "-o", str(tmp_path / "plain.nc"), *FAKE_CLI)
    assert code == 0, err
    assert sib.Population.from_netcdf(tmp_path / "plain.nc").benchmark_names == ["a", "b", "c"]
    # a named numeric column is taken for names when named so
    ids = sib.Population.from_csv(tmp_path / "plain.csv", index_col="a", **FAKE)
    assert ids.benchmark_names == ["b", "c"]


# ------------------------------------------------------------------ 3, 10: saved-file integrity
@pytest.fixture
def saved(tmp_path, fake_sampler):
    pop = sib.Population.from_dataframe(simulate(60, seed=3), normalize=False, random_seed=0,
                                        cache=False, **FAKE)
    return pop, pop.to_netcdf(tmp_path / "pop.nc")


def _edit(path, out, edit):
    idata = az.from_netcdf(str(path), engine="h5netcdf")
    idata.load()
    edit(idata)
    tmp = out.with_name(out.name + ".edit")
    idata.to_netcdf(str(tmp), engine="h5netcdf")
    tmp.replace(out)
    return out


def _shift_mu(idata):
    idata["posterior"]["mu"] = idata["posterior"]["mu"] + 100


def _nan_in_one_sigma(idata):
    values = idata["posterior"]["Sigma"].values.copy()
    values[0, 3, 1, 1] = np.nan
    idata["posterior"]["Sigma"] = (idata["posterior"]["Sigma"].dims, values)


def _edit_prior(idata):
    idata.attrs["prior"] = idata.attrs["prior"].replace('"eta": 2.0', '"eta": 50.0')


def _drop_variable(idata):
    idata["posterior"] = idata["posterior"].drop_vars("Sigma")


def _drop_attribute(idata):
    del idata.attrs["prior"]


@pytest.mark.parametrize("edit", [_shift_mu, _nan_in_one_sigma, _edit_prior, _drop_variable,
                                  _drop_attribute])
def test_edited_saved_files_are_refused(saved, tmp_path, edit):
    _, path = saved
    edited = _edit(path, tmp_path / "edited.nc", edit)
    with pytest.raises(sib.PosteriorFileError, match="corrupted or was edited|not a usable"):
        sib.Population.from_netcdf(edited)


def test_non_finite_draws_are_refused_even_with_a_matching_checksum(saved, tmp_path):
    _, path = saved

    def nan_and_rehash(idata):
        _nan_in_one_sigma(idata)
        idata.attrs["content_hash"] = storage.content_hash(idata)

    edited = _edit(path, tmp_path / "nan.nc", nan_and_rehash)
    with pytest.raises(sib.PosteriorFileError, match=r"1 posterior draw\(s\) of Sigma are not "
                                                     "finite"):
        sib.Population.from_netcdf(edited)


@pytest.mark.parametrize("edit", [_nan_in_one_sigma, _drop_variable, _drop_attribute])
def test_broken_cache_entries_are_refitted(monkeypatch, tmp_path, fake_sampler, edit):
    monkeypatch.setenv(storage.CACHE_ENV, str(tmp_path / "cache"))
    df = simulate(50, seed=4)
    first = sib.Population.from_dataframe(df, random_seed=5, **FAKE)
    (entry,) = (tmp_path / "cache").glob("*.nc")
    _edit(entry, entry, edit)
    with pytest.warns(storage.CacheWarning, match="broken fit cache entry"):
        second = sib.Population.from_dataframe(df, random_seed=5, **FAKE)
    assert len(fake_sampler) == 2  # sampled again, not served
    np.testing.assert_array_equal(first.Sigma_draws, second.Sigma_draws)
    third = sib.Population.from_dataframe(df, random_seed=5, **FAKE)  # the entry was rewritten
    assert len(fake_sampler) == 2
    np.testing.assert_array_equal(third.Sigma_draws, first.Sigma_draws)


def test_a_failing_cache_write_warns_and_still_returns_the_fit(monkeypatch, tmp_path,
                                                              fake_sampler):
    monkeypatch.setenv(storage.CACHE_ENV, str(tmp_path / "cache"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk says no")

    monkeypatch.setattr(storage, "save", broken)
    with pytest.warns(storage.CacheWarning, match="disk says no"):
        pop = sib.Population.from_dataframe(simulate(30, seed=5), random_seed=1, **FAKE)
    assert pop.n_draws == 400


def test_threads_saving_to_one_path_do_not_collide(saved, tmp_path):
    pop, _ = saved
    target = tmp_path / "shared.nc"
    errors = []

    def write():
        try:
            for _ in range(3):
                pop.to_netcdf(target)
        except Exception as err:  # noqa: BLE001 - collected and reported below
            errors.append(err)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    np.testing.assert_array_equal(sib.Population.from_netcdf(target).mu_draws, pop.mu_draws)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop.nc", "shared.nc"]  # no debris


def test_a_swapped_cache_entry_is_not_served(monkeypatch, tmp_path, fake_sampler):
    monkeypatch.setenv(storage.CACHE_ENV, str(tmp_path / "cache"))
    a = sib.Population.from_dataframe(simulate(30, seed=6), random_seed=1, **FAKE)
    (entry,) = (tmp_path / "cache").glob("*.nc")
    other = sib.Population.from_dataframe(simulate(30, seed=7), random_seed=1, cache=False,
                                          **FAKE)
    other.to_netcdf(entry)  # a valid file, but of other data
    with pytest.warns(storage.CacheWarning, match="other data than expected"):
        again = sib.Population.from_dataframe(simulate(30, seed=6), random_seed=1, **FAKE)
    pd.testing.assert_frame_equal(again.matrix, a.matrix)


# ------------------------------------------------------------------ 4: integer column names
def test_integer_column_names_are_labels_not_positions(fake_sampler):
    df = simulate(40, seed=8)
    df.columns = [2, 0, 1]
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, cache=False, **FAKE)
    assert pop.benchmark_names == ["2", "0", "1"]
    p = pop.profile().observe(0, 55.0)
    assert p.observed == {"0": 55.0}
    assert p.predict().loc["0", "observed"] == 55.0
    truth = pd.Series([50.0, 30.0, 10.0], index=[2, 0, 1])
    assert p.mae(truth) == pytest.approx(np.mean(np.abs(p.mean() - truth.to_numpy())))
    assert p.mae(truth.iloc[[1, 2, 0]]) == p.mae(truth)  # by label, not by order
    # positions still work where they are not names
    q = sib.Population.from_dataframe(simulate(40, seed=8), normalize=False, random_seed=0,
                                      cache=False, **FAKE).profile().observe(1, 30.0)
    assert q.observed == {"b": 30.0}


# ------------------------------------------------------------------ 5: held-out checks in the CLI
def test_cli_hold_out_with_a_posterior_checks_data_and_membership(tmp_path, capsys,
                                                                   fake_sampler):
    simulate(60, seed=9).rename_axis("model").to_csv(tmp_path / "s.csv")
    data = ("--data", str(tmp_path / "s.csv"))
    out = str(tmp_path / "pop.nc")
    code, _, err = cli(capsys, "fit", *data, "--hold-out", "m0", "-o", out, *FAKE_CLI)
    assert code == 0, err
    code, stdout, err = cli(capsys, "predict", "--posterior", out, *data, "--hold-out", "m0",
                            "--observe", "a=50")
    assert code == 0, err
    assert "MAE" in stdout
    # without --data the truth would come from the embedded leaderboard: refused
    code, _, err = cli(capsys, "predict", "--posterior", out, "--hold-out",
                       "meta-llama/Llama-3.1-70B-Instruct", "--observe", "a=50")
    assert code == 2 and "benchmark(s) ['a', 'b', 'c'] not in the data" in last_error(err)
    # a model inside the fitted population is no held-out check
    code, _, err = cli(capsys, "predict", "--posterior", out, *data, "--hold-out", "m1",
                       "--observe", "a=50")
    assert code == 2 and "is in the population" in last_error(err)
    # a table that differs from the fitted one
    other = simulate(60, seed=10).rename_axis("model")
    other.to_csv(tmp_path / "other.csv")
    code, _, err = cli(capsys, "predict", "--posterior", out, "--data",
                       str(tmp_path / "other.csv"), "--hold-out", "m0", "--observe", "a=50")
    assert code == 1 and "was not fitted to" in last_error(err)


# ------------------------------------------------------------------ 6: mixed scales and noise
def test_default_noise_keeps_skillinfer_figure_on_alike_scales_and_adapts_to_mixed_ones():
    from skillinfer_bayes.predictive.conditioning import default_noise

    sds = np.array([20.49, 15.22, 14.63, 5.09, 5.84, 14.27])  # the leaderboard's
    noise = default_noise(np.diag(sds**2)[None])
    np.testing.assert_allclose(noise, 0.05 * sds.mean())
    mixed = default_noise(np.diag([20.0**2, 0.1**2])[None])
    np.testing.assert_allclose(mixed, [0.05 * 10.05, 0.05 * 0.3])


def test_a_small_scale_benchmark_still_informs_the_others():
    rng = np.random.default_rng(11)
    z = rng.normal(size=(300, 2))
    df = pd.DataFrame({"pct": 50 + 20 * z[:, 0],
                       "frac": 0.5 + 0.1 * (0.6 * z[:, 0] + 0.8 * z[:, 1])})  # correlation 0.6
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, cache=False,
                                        draws=300, tune=300, chains=4, progressbar=False)
    high = float(df["frac"].quantile(0.95))
    exact = pop.profile(noise=0.0).observe("frac", high).mean("pct") - pop.profile().mean("pct")
    moved = pop.profile().observe("frac", high).mean("pct") - pop.profile().mean("pct")
    assert exact > 1.0
    assert moved == pytest.approx(exact, rel=0.05)  # scalar 5% noise moved it by 15% of this
    assert pop.default_noise()[1] < 0.02 < pop.default_noise()[0]
    # a scalar noise is still one figure for every benchmark; per benchmark by name
    assert repr(pop.profile(noise=0.5)).endswith("noise=0.5)")
    np.testing.assert_array_equal(pop.profile(noise={"frac": 0.01}).noise,
                                  [pop.default_noise()[0], 0.01])  # the others: default
    with pytest.raises(ValueError, match="noise must be a finite sd >= 0, 2 of them"):
        pop.profile(noise=[1.0, 2.0, 3.0])


# ------------------------------------------------------------------ 7: extreme scales
@pytest.mark.parametrize("factor", [1e200, 1e-300])
def test_extreme_scales_get_a_clear_error_or_normalize(factor, fake_sampler):
    df = simulate(40, seed=12) * factor
    with pytest.raises(ValueError, match=r"Benchmark 'a' has scores of magnitude .* "
                                         r"normalize=True"):
        sib.Population.from_dataframe(df, normalize=False, random_seed=0, **FAKE)
    assert not fake_sampler
    pop = sib.Population.from_dataframe(df, normalize=True, random_seed=0, cache=False, **FAKE)
    table = pop.profile().observe("a", 0.5).predict()
    assert np.isfinite(table[["mean", "std", "lower", "upper"]].to_numpy()).all()


# ------------------------------------------------------------------ 8: paths with ~
def test_home_relative_paths_are_expanded(saved, tmp_path, monkeypatch):
    pop, _ = saved
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    written = pop.to_netcdf("~/x.nc")
    assert written == home / "x.nc" and written.exists()
    assert not (tmp_path / "~").exists()
    assert [p.name for p in home.iterdir()] == ["x.nc"]  # no temporary file left
    np.testing.assert_array_equal(sib.Population.from_netcdf("~/x.nc").mu_draws, pop.mu_draws)


# ------------------------------------------------------------------ 9: one benchmark
def test_a_one_benchmark_population_prints_and_saves(tmp_path, capsys, fake_sampler):
    df = simulate(30, seed=13)[["a"]]
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, cache=False, **FAKE)
    assert "One benchmark: no correlations" in str(pop)
    df.to_csv(tmp_path / "one.csv")
    code, stdout, err = cli(capsys, "fit", "--data", str(tmp_path / "one.csv"),
                            "-o", str(tmp_path / "one.nc"), *FAKE_CLI)
    assert code == 0, err
    assert (tmp_path / "one.nc").exists() and "Saved the posterior" in stdout


# ------------------------------------------------------------------ 11: evaluate arguments
def test_evaluate_refuses_settings_that_would_be_silently_wrong():
    df = simulate(300, seed=14)
    with pytest.raises(ValueError, match=r"test_fraction=0.001 of 300 complete rows holds out "
                                         r"0 model\(s\)"):
        sib.evaluate(df, test_fraction=0.001, methods=("mean",), progressbar=False)
    with pytest.raises(ValueError, match="replications=2 repeats a small-population study: "
                                         "give population_size"):
        sib.evaluate(df, replications=2, methods=("mean",), progressbar=False)
    with pytest.raises(ValueError, match=r"needs 102 or more complete rows; got 100"):
        sib.evaluate(df.iloc[:100], population_size=20, methods=("mean",), progressbar=False)
    res = sib.evaluate(df, methods="mean", n_observed=1, progressbar=False)
    assert list(res.summary.index.get_level_values("method").unique()) == ["mean"]
    with pytest.raises(ValueError, match=r"Unknown method\(s\) \['m'\]"):
        sib.evaluate(df, methods=["m"], progressbar=False)


# ------------------------------------------------------------------ 12: the rest
def test_cli_checks_the_output_path_before_fitting(tmp_path, capsys, fake_sampler):
    for output in ("/proc/x.nc", str(tmp_path)):
        code, _, err = cli(capsys, "fit", "-o", output, *FAKE_CLI)
        assert code == 2 and "--output" in last_error(err), err
    assert not fake_sampler


def test_cli_next_k_zero_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["next", "-k", "0"])
    assert exit_info.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


def test_cli_prints_warnings_as_its_own_lines(tmp_path, capsys, fake_sampler):
    simulate(30, seed=15).to_csv(tmp_path / "s.csv")
    code, _, err = cli(capsys, "fit", "--data", str(tmp_path / "s.csv"), "-o",
                       str(tmp_path / "x.nc"), "--draws", "5", "--chains", "1", "--quiet")
    assert code == 0
    assert "skillinfer-bayes: warning: Sampler checks failed:" in err
    assert "warnings.warn" not in err and ".py:" not in err


def test_k_noise_and_seed_arguments_are_checked_alike(saved):
    pop, _ = saved
    p = pop.profile().observe("a", 50.0)
    for k in ("2", 1.7, True, 0):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            p.most_uncertain(k=k)
        with pytest.raises(ValueError, match="k must be a positive integer"):
            p.most_informative(k=k)
    np.testing.assert_array_equal(pop.profile(noise=np.float32(1)).noise, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(pop.profile(noise=np.int64(2)).noise, [2.0, 2.0, 2.0])
    for seed in (0.5, "0", True, -1):
        with pytest.raises(ValueError, match="random_seed must be None or an integer >= 0"):
            sib.Population.from_dataframe(simulate(30, seed=0), random_seed=seed, **FAKE)
        with pytest.raises(ValueError, match="random_seed must be None or an integer >= 0"):
            p.sample(3, random_seed=seed)


def test_a_cache_hit_keeps_an_integer_index(monkeypatch, tmp_path, fake_sampler):
    monkeypatch.setenv(storage.CACHE_ENV, str(tmp_path / "cache"))
    df = simulate(30, seed=16).reset_index(drop=True)
    first = sib.Population.from_dataframe(df, random_seed=2, **FAKE)
    second = sib.Population.from_dataframe(df, random_seed=2, **FAKE)
    assert len(fake_sampler) == 1  # the second came from the cache
    assert second.entity_names == first.entity_names == list(range(30))
    pd.testing.assert_index_equal(second.matrix.index, first.matrix.index, exact="equiv")


def test_the_cache_key_follows_the_model_code_and_library_versions(monkeypatch, tmp_path,
                                                                   fake_sampler):
    monkeypatch.setenv(storage.CACHE_ENV, str(tmp_path / "cache"))
    df = simulate(30, seed=17)
    sib.Population.from_dataframe(df, random_seed=3, **FAKE)
    sib.Population.from_dataframe(df, random_seed=3, **FAKE)
    assert len(fake_sampler) == 1
    source = storage._source

    def edited_model_code(module):
        return source(module) + (b"# edited" if module.endswith(".mvn") else b"")

    monkeypatch.setattr(storage, "_MODEL_FINGERPRINT", [])
    monkeypatch.setattr(storage, "_source", edited_model_code)
    sib.Population.from_dataframe(df, random_seed=3, **FAKE)
    assert len(fake_sampler) == 2  # a fit by other model code is not served
    version = storage.importlib.metadata.version

    def other_jax(library):
        return "0.0.1" if library == "jax" else version(library)

    monkeypatch.setattr(storage, "_MODEL_FINGERPRINT", [])
    monkeypatch.setattr(storage.importlib.metadata, "version", other_jax)
    sib.Population.from_dataframe(df, random_seed=3, **FAKE)
    assert len(fake_sampler) == 3  # nor one made by other library versions
    assert len(list((tmp_path / "cache").glob("*.nc"))) == 3


def test_population_refuses_non_finite_draws(saved):
    pop, _ = saved
    idata = pop.idata.copy()
    values = idata["posterior"]["mu"].values.copy()
    values[1, 2, 0] = np.inf
    idata["posterior"]["mu"] = (idata["posterior"]["mu"].dims, values)
    with warnings.catch_warnings():
        with pytest.raises(ValueError, match=r"1 posterior draw\(s\) of mu are not finite"):
            sib.Population(pop.matrix, idata, pop.prior)


def test_cli_shows_and_clears_the_cache(monkeypatch, tmp_path, capsys, fake_sampler):
    from skillinfer_bayes.inference.locations import compiled_sampler_dir

    monkeypatch.setenv(storage.CACHE_ENV, str(tmp_path / "cache"))
    sib.Population.from_dataframe(simulate(30, seed=18), random_seed=1, **FAKE)
    compiled = compiled_sampler_dir()  # the package's folder, marked as its own
    (compiled / "compiled-0").write_bytes(b"x" * 100)
    # a user's own jax folder (issue 32, item 7: it was counted and deleted)
    (tmp_path / "cache" / "jax").mkdir()
    (tmp_path / "cache" / "jax" / "my-notes").write_text("mine")
    (tmp_path / "cache" / "notes.txt").write_text("mine")
    (tmp_path / "cache" / "mine.nc").write_text("a posterior saved here by hand")
    code, out, _ = cli(capsys, "cache")
    assert code == 0 and str(tmp_path / "cache") in out
    assert "Holds 1 cached fit(s) and 1 compiled-sampler file(s)" in out
    code, out, _ = cli(capsys, "cache", "--clear")
    assert code == 0 and "Removed 1 cached fit(s)" in out
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["jax", "mine.nc",
                                                                      "notes.txt"]
    assert (tmp_path / "cache" / "jax" / "my-notes").read_text() == "mine"
    code, out, _ = cli(capsys, "cache")
    assert "Holds 0 cached fit(s) and 0 compiled-sampler file(s), 0.0 MB." in out


def test_the_default_cache_folder_is_the_platforms(monkeypatch):
    import platformdirs

    from skillinfer_bayes.inference.locations import cache_dir

    monkeypatch.delenv(storage.CACHE_ENV, raising=False)
    assert str(cache_dir()) == platformdirs.user_cache_dir("skillinfer_bayes")


def test_files_pandas_cannot_parse_are_the_packages_errors(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "quote.csv").write_text('model,a\nm0,"1.0\nm1,2.0\n')
    for name in ("empty.csv", "binary.csv", "quote.csv"):
        with pytest.raises(ValueError, match=rf"Cannot read '.*{name}' as a CSV table"):
            sib.Population.from_csv(tmp_path / name)
        code, _, err = cli(capsys, "fit", "--data", str(tmp_path / name), "-o",
                           str(tmp_path / "x.nc"))
        assert code == 1 and last_error(err).startswith("skillinfer-bayes: error: Cannot read")


def test_predict_keeps_level_as_its_first_argument_and_prior_mean_takes_names(saved):
    pop, _ = saved
    p = pop.profile().observe("a", 50.0)
    pd.testing.assert_frame_equal(p.predict(0.5), p.predict(level=0.5))
    by_name = pop.profile(prior_mean=pd.Series({"c": 7.0, "a": 40.0}))
    # the prior mean is the latent mean: the score-scale median of the default copula
    assert by_name.predict()["median"].iloc[[0, 2]].tolist() == pytest.approx([40.0, 7.0])
    with pytest.raises(ValueError, match="on the fitted scale"):
        pop.profile(prior_mean=[1.0])


def test_read_table_errors_name_the_value_and_the_fix(tmp_path):
    from skillinfer_bayes.data.tables import read_table

    simulate(10, seed=19).rename_axis("model").to_csv(tmp_path / "s.csv")
    (tmp_path / "s.txt").write_text("a,b\n1,2\n")
    with pytest.raises(FileNotFoundError, match="No score table at"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match=r"expected a \.csv .*Population\.from_dataframe"):
        read_table(tmp_path / "s.txt")
    with pytest.raises(ValueError, match=r"Unknown format 'xlsx'; choose one of"):
        read_table(tmp_path / "s.csv", format="xlsx")
    with pytest.raises(ValueError, match=r"index_col='name' is not a column of .*columns: "
                                         r"\['a', 'b', 'c', 'model'\]"):
        read_table(tmp_path / "s.csv", index_col="name")
    with pytest.raises(ValueError, match="index_col=9 is out of range .* 4 column"):
        read_table(tmp_path / "s.csv", index_col=9)
    assert read_table(tmp_path / "s.txt", format="csv", index_col=None).shape == (1, 2)
    assert read_table(tmp_path / "s.csv", index_col="model").index.name == "model"
