"""ArviZ-native posteriors: the log_likelihood group, per-draw sample statistics, BFMI and tree
depth diagnostics, and what a saved file keeps of the InferenceData."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr

import skillinfer_bayes as sib
from skillinfer_bayes.inference import diagnostics
from skillinfer_bayes.inference.inference_data import read_netcdf, with_group, write_netcdf


# ArviZ 0.23's compare sorts in place, which pandas 3.1 deprecates (not this package's code)
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.sort_values")
def test_arviz_loo_and_compare_run_on_the_population_idata(simulated_df, simulated_pop):
    idata = simulated_pop.compute_log_likelihood()
    assert idata is simulated_pop.idata
    assert idata["log_likelihood"]["scores"].dims == ("chain", "draw", "entity")
    ours, arviz = simulated_pop.loo(), az.loo(simulated_pop.idata)
    assert arviz.elpd_loo == pytest.approx(ours.elpd_loo, rel=1e-12)
    assert arviz.se == pytest.approx(ours.se, rel=1e-12)
    assert arviz.p_loo == pytest.approx(ours.p_loo, rel=1e-12)
    other = sib.Population.from_dataframe(
        simulated_df, normalize=False, prior=sib.Prior(eta=10.0), draws=500, tune=500,
        chains=4, random_seed=4, progressbar=False, cache=False,
    )
    table = az.compare({"eta=2": simulated_pop.idata, "eta=10": other.compute_log_likelihood()})
    assert set(table.index) == {"eta=2", "eta=10"}
    assert table.loc["eta=10", "elpd_loo"] == pytest.approx(other.loo().elpd_loo, rel=1e-12)


def test_sample_stats_are_per_draw(simulated_pop):
    stats = simulated_pop.idata["sample_stats"]
    for name in ("acceptance_rate", "n_steps", "tree_depth", "reached_max_treedepth", "energy",
                 "diverging", "lp", "step_size"):
        assert stats[name].dims == ("chain", "draw"), name
    accept = stats["acceptance_rate"].values
    assert ((accept >= 0) & (accept <= 1)).all()
    # a running mean would change by about 1/n per draw; per-draw probabilities jump
    assert np.abs(np.diff(accept, axis=1)).mean() > 0.05
    steps, depth = stats["n_steps"].values, stats["tree_depth"].values
    assert (steps <= 2**depth - 1).all() and (steps > 2 ** (depth - 1) - 1).all()
    d = simulated_pop.diagnostics()
    assert 0.3 < d["min_bfmi"] < 3 and d["max_tree_depth_hits"] == 0


def test_low_bfmi_and_max_tree_depth_are_reported():
    ok = {"chains": 4, "draws": 500, "divergences": 0, "max_r_hat": 1.0, "min_ess_bulk": 2000,
          "min_ess_tail": 2000, "min_bfmi": 0.9, "max_tree_depth_hits": 0}
    assert diagnostics.problems(ok) == []
    (bfmi,) = diagnostics.problems({**ok, "min_bfmi": 0.12})
    assert bfmi.startswith("min BFMI = 0.12 < 0.3") and "Reparameterize" in bfmi
    (depth,) = diagnostics.problems({**ok, "max_tree_depth_hits": 7})
    assert depth.startswith("7 draws hit the maximum tree depth")
    # a chain whose energy wanders (a random walk) has a low BFMI
    rng = np.random.default_rng(0)
    energy = np.cumsum(rng.normal(size=(2, 500)), axis=1)
    assert np.min(az.bfmi(energy)) < 0.3


def test_saved_files_keep_only_what_their_checksums_cover(simulated_pop, tmp_path):
    simulated_pop.compute_log_likelihood()
    path = simulated_pop.to_netcdf(tmp_path / "pop.nc")
    assert "log_likelihood" in simulated_pop.idata.groups()  # the population keeps it
    loaded = sib.Population.from_netcdf(path)
    assert sorted(loaded.idata.groups()) == ["posterior", "sample_stats"]
    # a group slipped into the file (e.g. a forged log_likelihood) is not used
    idata = read_netcdf(path)
    forged = xr.Dataset({"scores": xr.zeros_like(
        simulated_pop.idata["log_likelihood"]["scores"]).drop_vars("name")})
    write_netcdf(with_group(idata, "log_likelihood", forged), tmp_path / "forged.nc")
    again = sib.Population.from_netcdf(tmp_path / "forged.nc")
    assert "log_likelihood" not in again.idata.groups()
    az.loo(again.compute_log_likelihood())  # recomputed from the draws


def test_the_log_likelihood_group_can_be_recomputed(simulated_pop, tmp_path):
    simulated_pop.compute_log_likelihood()
    simulated_pop.compute_log_likelihood()
    assert list(simulated_pop.idata.groups()).count("log_likelihood") == 1
    simulated_pop.to_netcdf(tmp_path / "again.nc")  # saving drops the derived group cleanly


def test_a_sampler_store_of_ones_own_is_used():
    from helpers import simulate

    from skillinfer_bayes.inference.numpyro_backend import COMPILED_SAMPLERS, CompiledSamplers
    from skillinfer_bayes.inference.sampling import sample_posterior
    from skillinfer_bayes.models.mvn import build_model, structure_key

    data = sib.prepare(simulate(60, seed=9), normalize=False)
    model = build_model(data.stats, data.benchmarks, sib.Prior())
    mine = CompiledSamplers(capacity=2)  # empty, hence falsy: it must still be used
    before = COMPILED_SAMPLERS.compilations
    settings = dict(draws=20, tune=20, chains=1, sampler="numpyro", target_accept=0.8,
                    random_seed=0, progressbar=False, compiled=mine,
                    structure=structure_key(data.stats, 3, sib.Prior()))
    first = sample_posterior(model, **settings)
    again = sample_posterior(model, **settings)
    assert (mine.compilations, len(mine)) == (1, 1)
    assert COMPILED_SAMPLERS.compilations == before
    np.testing.assert_array_equal(first["posterior"]["mu_std"], again["posterior"]["mu_std"])
    mine.clear()
    assert len(mine) == 0
