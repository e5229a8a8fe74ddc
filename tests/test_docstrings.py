"""The docstring examples of the computational modules run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "skillinfer_bayes.predictive.active",
    "skillinfer_bayes.studies.curves",
    "skillinfer_bayes.inference.locations",
    "skillinfer_bayes.studies.protocol",
    "skillinfer_bayes.predictive.components",
    "skillinfer_bayes.predictive.marginals",
    "skillinfer_bayes.data.transforms",
    "skillinfer_bayes.predictive.conditioning",
    "skillinfer_bayes.datasets",
    "skillinfer_bayes.inference.diagnostics",
    "skillinfer_bayes.studies.evaluation",
    "skillinfer_bayes.inference.fitting",
    "skillinfer_bayes.inference.inference_data",
    "skillinfer_bayes.predictive.mixture",
    "skillinfer_bayes.models.mvn",
    "skillinfer_bayes.studies.parallel",
    "skillinfer_bayes.data.prepared",
    "skillinfer_bayes.predictive.prior_predictive",
    "skillinfer_bayes.models.priors",
    "skillinfer_bayes.predictive.scores",
    "skillinfer_bayes.inference.storage",
    "skillinfer_bayes.data.sufficient_stats",
    "skillinfer_bayes.data.tables",
    "skillinfer_bayes.data.checks",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


@pytest.fixture(scope="module")
def example_globals() -> dict:
    """What the examples of Population and Profile assume: ``sib``, ``np``, the leaderboard
    ``df`` and ``pop``, the small fit of the class example (4 chains x 300 draws), and
    ``mix``, a two-component mixture of the first 400 models (the component examples)."""
    import numpy as np

    import skillinfer_bayes as sib

    df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, draws=300,
                                        tune=300, progressbar=False)
    mix = sib.Population.from_dataframe(df.iloc[:400], components=2, random_seed=0,
                                        draws=300, tune=500, progressbar=False)
    return {"sib": sib, "np": np, "df": df, "pop": pop, "mix": mix}


@pytest.mark.parametrize("name", ["skillinfer_bayes", "skillinfer_bayes.population",
                                  "skillinfer_bayes.predictive.profile"])
def test_population_and_profile_examples_run_on_a_real_fit(name, example_globals, tmp_path,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write scores.csv, leaderboard.nc, ...
    result = doctest.testmod(
        importlib.import_module(name), extraglobs=dict(example_globals),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0
    assert result.attempted >= (3 if name == "skillinfer_bayes" else 20)
