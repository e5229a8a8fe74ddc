"""The model specification: its dict round trip, its checks, and a population refitted from
its own ``spec`` (issue 33)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from helpers import simulate

import skillinfer_bayes as sib

FAKE = dict(draws=200, chains=2, progressbar=False)


def test_a_spec_survives_its_dict_and_json():
    specs = [
        sib.ModelSpec(),
        sib.ModelSpec(prior=sib.Prior(eta=3.0), transform={"a": "logit", "b": None},
                      bounds={"a": (0, 100), "b": None, "c": "auto"},
                      covariates={"size": "log"}, groups="family", normalize=False),
        sib.ModelSpec(covariance="factor", n_factors="auto", transform=None, bounds=None),
        sib.ModelSpec(components=3, shared_covariance=True, covariates=["size"]),
    ]
    for spec in specs:
        again = sib.ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
        assert again == spec and hash(again) == hash(spec)
    assert specs[3].covariates == {"size": "identity"}  # a list means the identity each
    assert specs[1].bounds["a"] == (0.0, 100.0)


def test_bad_specs_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"Unknown ModelSpec field\(s\) \['draws'\]; valid"):
        sib.ModelSpec.from_dict({"draws": 100})
    with pytest.raises(ValueError, match="not both at once"):
        sib.ModelSpec(covariance="factor", n_factors="auto", components="auto")
    with pytest.raises(TypeError, match=r"groups is a column name.*from_dataframe\(df, "
                                        r"groups=labels\)"):
        sib.ModelSpec(groups=["x", "y"])
    with pytest.raises(TypeError, match="covariates must be a column name"):
        sib.ModelSpec(covariates=3)


def test_refitting_a_populations_spec_reproduces_it(fake_sampler):
    df = simulate(60, seed=3).assign(size=lambda d: np.exp(d["a"] / 20.0))
    df["a"] = df["a"].clip(0.5, 99.5)
    pop = sib.Population.from_dataframe(df, normalize=False, transform={"a": "logit"},
                                        bounds={"a": (0, 100)}, covariates={"size": "log"},
                                        random_seed=4, **FAKE)
    spec = pop.spec
    assert spec == sib.ModelSpec(transform={"a": "logit"}, bounds={"a": (0, 100)},
                                 covariates={"size": "log"}, normalize=False)
    again = sib.Population.from_dataframe(
        df, spec=sib.ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))),
        random_seed=4, cache=False, **FAKE)
    np.testing.assert_array_equal(again.Sigma_draws, pop.Sigma_draws)
    assert [t.to_dict() for t in again.data.transforms] == [
        t.to_dict() for t in pop.data.transforms]
    pd.testing.assert_frame_equal(again.profile().observe("a", 60.0).predict(),
                                  pop.profile().observe("a", 60.0).predict())


def test_the_spec_is_saved_whole_and_resolves_auto(fake_sampler, tmp_path):
    df = simulate(40, seed=5)
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=1, transform=None,
                                        components="auto", **FAKE)
    assert pop.spec.components == pop.n_components  # the chosen number, not "auto"
    same = sib.Population.from_netcdf(pop.to_netcdf(tmp_path / "pop.nc"))
    assert same.spec == pop.spec
    # a file without a stored spec (saved before issue 33) gives the one it records
    del pop.idata.attrs["model_spec"]
    legacy = pop.spec
    assert (legacy.normalize, legacy.components, legacy.transform) == (
        False, pop.n_components, {"a": None, "b": None, "c": None})


def test_a_spec_and_model_keywords_are_not_mixed(fake_sampler):
    df = simulate(30, seed=6)
    spec = sib.ModelSpec(normalize=False, transform=None)
    with pytest.raises(ValueError, match=r"either as spec= or as keywords, not both: "
                                         r"components=2 beside spec\. Put them in the spec: "
                                         r"dataclasses\.replace\(spec, \.\.\.\)"):
        sib.Population.from_dataframe(df, spec=spec, components=2, **FAKE)
    with pytest.raises(TypeError, match="spec must be a skillinfer_bayes.ModelSpec"):
        sib.Population.from_dataframe(df, spec=spec.to_dict(), **FAKE)
    pop = sib.Population.from_dataframe(df, spec=dataclasses.replace(spec, components=2),
                                        random_seed=0, **FAKE)
    assert pop.n_components == 2 and not pop.data.normalized
