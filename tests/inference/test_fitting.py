"""The data layer (prepare / PreparedData), the fit (ModelSpec, SamplerConfig, fit) and how
Population.from_dataframe composes them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from helpers import simulate

import skillinfer_bayes as sib


def test_prepare_owns_scaling_standardization_and_statistics():
    df = simulate(50, seed=1, missing=0.2)
    data = sib.prepare(df, normalize=True, transform=None)
    assert data.benchmarks == ["a", "b", "c"] and data.n_entities == 50 and data.normalized
    np.testing.assert_allclose(data.matrix.min(), 0.0)
    np.testing.assert_allclose(data.matrix.max(), 1.0)
    np.testing.assert_allclose(data.center, np.nanmean(data.matrix, axis=0))
    np.testing.assert_allclose(data.scale, np.nanstd(data.matrix, axis=0, ddof=1))
    assert sum(s.n for s in data.stats) == 50  # every row in exactly one pattern
    with pytest.raises(ValueError, match="read-only"):
        data.center[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.scaling = None
    grouped = sib.prepare(df.assign(family=["x", "y"] * 25), normalize=False, groups="family")
    assert grouped.group_names == ("x", "y") and list(grouped.group_codes[:2]) == [0, 1]
    assert grouped.benchmarks == ["a", "b", "c"]


def test_sampler_config_and_model_spec_check_their_values():
    config = sib.SamplerConfig(draws=300, chains=2)
    assert eval(repr(config), {"SamplerConfig": sib.SamplerConfig}) == config
    assert sib.SamplerConfig.resolve(config, tune=50, draws=None).to_dict() == {
        "draws": 300, "tune": 50, "chains": 2, "target_accept": 0.85, "sampler": "auto",
        "progressbar": True}
    for kwargs, match in [({"draws": 0}, "draws must be a positive integer"),
                          ({"chains": 2.5}, "chains must be a positive integer"),
                          ({"target_accept": 1.0}, r"target_accept must be in \(0, 1\)"),
                          ({"sampler": "magic"}, r"Unknown sampler 'magic'; choose one of "
                                                 r"\['auto', 'numpyro', 'nutpie', 'pymc'\]")]:
        with pytest.raises(ValueError, match=match):
            sib.SamplerConfig(**kwargs)
    with pytest.raises(TypeError, match="sampler_config must be a skillinfer_bayes.Sampler"):
        sib.SamplerConfig.resolve({"draws": 3})
    with pytest.raises(ValueError, match=r"Unknown covariance 'wishart'; choose one of "
                                         r"\['lkj', 'factor'\]"):
        sib.ModelSpec(covariance="wishart")
    with pytest.raises(ValueError, match="covariance='factor' needs n_factors"):
        sib.ModelSpec(covariance="factor")
    assert sib.ModelSpec(covariance="factor", n_factors=3).to_dict()["n_factors"] == 3
    with pytest.raises(TypeError, match="prior must be a skillinfer_bayes.Prior"):
        sib.ModelSpec(prior={"eta": 2})


def test_from_dataframe_is_prepare_then_fit(fake_sampler):
    df = simulate(80, seed=2)
    data = sib.prepare(df, normalize=False)
    spec = sib.ModelSpec(prior=sib.Prior(eta=3.0))
    config = sib.SamplerConfig(draws=200, chains=2, progressbar=False)
    idata = sib.fit(data, spec, config, random_seed=5)
    assert idata["posterior"]["Sigma"].dims == ("chain", "draw", "benchmark", "benchmark_bis")
    assert idata.attrs["covariance"] == "lkj" and idata.attrs["random_seed"] == 5
    composed = sib.Population(data, idata, spec.prior)
    pop = sib.Population.from_dataframe(df, normalize=False, prior=spec.prior,
                                        sampler_config=config, random_seed=5, cache=False)
    np.testing.assert_array_equal(pop.Sigma_draws, composed.Sigma_draws)
    pd.testing.assert_frame_equal(pop.profile().observe("a", 60.0).predict(),
                                  composed.profile().observe("a", 60.0).predict())


def test_sampler_keywords_override_the_config_everywhere(fake_sampler):
    df = simulate(150, seed=3)
    config = sib.SamplerConfig(draws=200, chains=2, target_accept=0.9)
    sib.Population.from_dataframe(df, sampler_config=config, draws=250, cache=False,
                                  progressbar=False)
    assert (fake_sampler[-1]["draws"], fake_sampler[-1]["target_accept"]) == (250, 0.9)
    sib.evaluate(df, methods=("bayes",), n_observed=1, sampler_config=config, chains=3,
                 progressbar=False)
    assert (fake_sampler[-1]["draws"], fake_sampler[-1]["chains"]) == (200, 3)
    sib.compare_priors(df, {"a": sib.Prior()}, sampler_config=config, progressbar=False)
    assert fake_sampler[-1]["draws"] == 200 and fake_sampler[-1]["target_accept"] == 0.9
