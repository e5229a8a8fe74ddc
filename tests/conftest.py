"""Shared fixtures: small fits for fast tests, one leaderboard fit per session."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers import LLAMA, fake_sample_posterior, simulate

import skillinfer_bayes as sib


def pytest_collection_modifyitems(items):
    """The slowest test files first, each file's tests kept together in their order (their
    times are measured in ``durations.json``): the two workers of ``-n 2 --dist load`` then
    share the long files instead of one of them finishing a notebook alone at the end
    (longest first is the classic greedy balance of two machines). Files stay whole because
    a module-scoped fixture (a fit) is torn down when the run leaves its file and would be
    fitted again on the way back. Every worker sorts the same way, as xdist needs.
    ``python tests/durations.py LOG`` refreshes the times from a ``--durations=0`` run."""
    seconds = json.loads(Path(__file__).with_name("durations.json").read_text())
    per_file: dict[str, float] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        per_file[path] = per_file.get(path, 0.0) + seconds.get(item.nodeid, 0.0)
    items.sort(key=lambda item: -per_file[item.nodeid.split("::")[0]])  # stable in a file


@pytest.fixture(scope="session", autouse=True)
def fit_cache_in_a_temporary_folder(tmp_path_factory):
    """Fits cache into a fresh folder (not the user's ~/.cache): the session's, where the
    session- and module-scoped fits (made before any test's own folder) go."""
    import os

    from skillinfer_bayes.inference.storage import CACHE_ENV

    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("fit_cache"))
    yield
    if old is None:
        del os.environ[CACHE_ENV]
    else:
        os.environ[CACHE_ENV] = old


@pytest.fixture(autouse=True)
def fit_cache_of_this_test(monkeypatch, tmp_path_factory):
    """Each test's fits cache into a folder of its own, so that no test loads a posterior
    another test saved (which it would, or not, depending on their order). A test of the
    cache itself sets its own folder. The compiled-sampler registry stays shared: a sampler
    compiled for a model's structure is reused with each fit's own data and seed, the draws
    are those of a fresh compilation (``tests/test_population.py``), and compiling again in
    every test would add about 5 s per fit."""
    from skillinfer_bayes.inference.storage import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("test_fit_cache")))


@pytest.fixture(scope="session")
def simulated_df() -> pd.DataFrame:
    # seed 1 draws a sample whose mean of "c" is 3.1 standard errors from the truth; seed 2
    # is the next one (all its sample moments lie within 2 standard errors).
    return simulate(400, seed=2)


@pytest.fixture(scope="session")
def simulated_pop(simulated_df) -> sib.Population:
    return sib.Population.from_dataframe(
        simulated_df, normalize=False, draws=500, tune=500, chains=4, random_seed=3,
        progressbar=False, transform=None,  # the normal model: its closed forms are tested
    )


@pytest.fixture(scope="session")
def leaderboard() -> pd.DataFrame:
    df = sib.datasets.open_llm_leaderboard()
    return df[["fullname", *sib.datasets.BENCHMARKS]].dropna().set_index("fullname")


@pytest.fixture(scope="session")
def leaderboard_pop(leaderboard) -> sib.Population:
    """The tutorial's population (Llama-3.1-70B-Instruct held out), 4 chains x 500 draws, with
    the normal on the scores (the plug-in's model, which its tests compare against)."""
    return sib.Population.from_dataframe(
        leaderboard.drop(LLAMA), normalize=False, draws=500, tune=500, random_seed=0,
        progressbar=False, transform=None,
    )


@pytest.fixture
def fake_sampler(monkeypatch, tmp_path_factory):
    """Fits in this test use :func:`fake_sample_posterior` (no NUTS, milliseconds) and cache
    into a folder of their own (fake posteriors never reach other tests). Returns the list of
    the calls' keyword arguments. Use at least 2 chains x 200 draws for the fake draws to
    pass the sampler checks."""
    from skillinfer_bayes.inference import fitting
    from skillinfer_bayes.inference.storage import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("fake_fit_cache")))

    calls = []

    def fake(model, **kwargs):
        calls.append(kwargs)
        return fake_sample_posterior(model, **kwargs)

    monkeypatch.setattr(fitting, "sample_posterior", fake)
    return calls
