"""Every study takes the model as one ``spec=`` (issue 33): the same cells as the keywords
that build it, and the same errors for a keyword that is no option."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from helpers import simulate

import skillinfer_bayes as sib

SAMPLER = dict(draws=200, chains=2)


def test_evaluate_takes_the_spec_or_the_keywords_that_build_it(fake_sampler):
    df = simulate(60, seed=1)
    spec = sib.ModelSpec(transform=None, prior=sib.Prior(eta=3.0))
    common = dict(methods=("bayes",), n_observed=1, random_seed=0, progressbar=False)
    by_spec = sib.evaluate(df, spec=spec, **common, **SAMPLER)
    by_keywords = sib.evaluate(df, transform=None, prior=sib.Prior(eta=3.0), **common,
                               **SAMPLER)
    pd.testing.assert_frame_equal(by_spec.cells, by_keywords.cells)
    assert by_spec.settings["transform"] is None and by_spec.settings["draws"] == 200
    config = sib.SamplerConfig(**SAMPLER, progressbar=False)
    same = sib.evaluate(df, spec=spec, sampler_config=config, **common)
    pd.testing.assert_frame_equal(same.cells, by_spec.cells)
    cells = sib.evaluate(df, protocol="cells", spec=spec, methods=("bayes", "mean"), folds=1,
                         random_seed=0, progressbar=False, **SAMPLER)
    assert cells.settings["transform"] is None and cells.summary["n_cells"].min() > 0
    with pytest.raises(TypeError, match=r"evaluate\(\) got an unexpected keyword argument "
                                        r"'trasform'; its model options are \['prior', "
                                        r"'transform'"):
        sib.evaluate(df, trasform=None, **common)
    with pytest.raises(ValueError, match="not both: transform=None beside spec"):
        sib.evaluate(df, spec=sib.ModelSpec(), transform=None, **common)
    with pytest.raises(ValueError, match="protocol='cells' takes no groups, covariates"):
        sib.evaluate(df, protocol="cells", spec=sib.ModelSpec(components=2), **common)


def test_compare_models_takes_specs_with_any_structure(fake_sampler):
    df = simulate(50, seed=2)
    models = {"normal": sib.ModelSpec(transform=None),
              "eta=3": {"transform": None, "prior": sib.Prior(eta=3.0)},
              "two clusters": {"transform": None, "components": 2}}
    cmp = sib.compare_models(df, models, n_observed=1, random_seed=0, progressbar=False,
                             **SAMPLER)
    assert set(cmp.table.index) == set(models)
    assert cmp.priors["eta=3"] == sib.Prior(eta=3.0)
    with pytest.raises(ValueError, match=r"model 'x' has unknown key\(s\) \['trasform'\]"):
        sib.compare_models(df, {"x": {"trasform": None}}, progressbar=False)
    with pytest.raises(TypeError, match=r"priors\['x'\] must be a skillinfer_bayes.Prior"):
        sib.compare_models(df, {"x": 3.0}, progressbar=False)


def test_held_out_evaluation_curves_and_sbc_take_a_spec(fake_sampler):
    df = simulate(40, seed=3)
    pop = sib.Population.from_dataframe(df, normalize=False, transform=None, random_seed=0,
                                        progressbar=False, **SAMPLER)
    config = sib.SamplerConfig(**SAMPLER, progressbar=False)
    default = sib.validation.held_out_evaluation(pop, n_splits=1, sampler_config=config)
    given = sib.validation.held_out_evaluation(
        pop, n_splits=1, sampler_config=config,
        spec=dataclasses.replace(pop.spec, transform={"a": None, "b": None, "c": None},
                                 bounds={"a": None, "b": None, "c": None}))
    pd.testing.assert_frame_equal(default, given)  # pop's model, its scales pinned
    curve = sib.evaluation_curve(df, rules=("random",), n_steps=1, random_seed=0,
                                 spec=sib.ModelSpec(transform=None), **SAMPLER)
    assert np.isfinite(curve.steps["crps"]).all()
    with pytest.raises(ValueError, match="as spec= or as prior= / n_factors=, not both"):
        sib.simulation_based_calibration(sib.Prior(), spec=sib.ModelSpec())
    with pytest.raises(ValueError, match="no covariates, groups, components"):
        sib.simulation_based_calibration(spec=sib.ModelSpec(components=2))
