"""The docstring examples of the computational modules run and give what they show."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skillinfer_bayes"
#: Run with the real fit's globals by the test below: module -> the fewest examples it must
#: run (what it has: an example that disappears fails the test).
REAL_FIT_MODULES = {"skillinfer_bayes": 4, "skillinfer_bayes.population": 19,
                    "skillinfer_bayes.predictive.profile": 18,
                    "skillinfer_bayes.predictive.accuracy": 8,
                    "skillinfer_bayes.predictive.active": 12,
                    "skillinfer_bayes.predictive.profile_views": 10,
                    "skillinfer_bayes.predictive.summaries": 9,
                    "skillinfer_bayes.predictive.display": 1,
                    "skillinfer_bayes.predictive.posterior_draws": 2,
                    "skillinfer_bayes.predictive.starting": 3,
                    "skillinfer_bayes.predictive.prior_predictive": 4,
                    "skillinfer_bayes.inference.model_choice": 17,
                    "skillinfer_bayes.inference.fit_record": 6,
                    "skillinfer_bayes.inference.population_files": 12}


def has_examples(name: str) -> bool:
    """Whether the module has a docstring example doctest runs (not all ``+SKIP``)."""
    tests = doctest.DocTestFinder().find(importlib.import_module(name))
    return any(not example.options.get(doctest.SKIP) for t in tests for example in t.examples)


#: Every other module with an example (found, not listed, so that none is forgotten).
MODULES = sorted(
    name for name in (".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
                      .removesuffix(".__init__") for p in PACKAGE.rglob("*.py"))
    if name not in REAL_FIT_MODULES and not name.endswith("__main__") and has_examples(name)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


@pytest.fixture(scope="module")
def example_globals() -> dict:
    """What the examples of Population and Profile assume: ``sib``, ``np``, the leaderboard
    ``df`` and ``pop``, the fit of the class example (4 chains x 500 draws), and
    ``mix``, a two-component mixture of the first 400 models (the component examples)."""
    import numpy as np

    import skillinfer_bayes as sib

    df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, draws=500,
                                        tune=500, progressbar=False)
    mix = sib.Population.from_dataframe(df.iloc[:400], components=2, random_seed=0,
                                        draws=500, tune=500, progressbar=False)
    return {"sib": sib, "np": np, "df": df, "pop": pop, "mix": mix}


@pytest.mark.slow
@pytest.mark.parametrize("name", REAL_FIT_MODULES)
def test_population_and_profile_examples_run_on_a_real_fit(name, example_globals, tmp_path,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write scores.csv, leaderboard.nc, ...
    result = doctest.testmod(
        importlib.import_module(name), extraglobs=dict(example_globals),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0
    assert result.attempted >= REAL_FIT_MODULES[name]
