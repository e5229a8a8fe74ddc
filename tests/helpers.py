"""Shared test helpers: the known simulated population and a fake sampler.

Test modules import these directly (``from helpers import simulate``); ``conftest.py`` holds
only fixtures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    """Stands in for :func:`skillinfer_bayes.inference.sampling.sample_posterior` in API tests.

    Returns draws shaped as the real sampler's (same variables, dims and sample stats) around
    the standardized scale's natural values (means 0, sds 1, correlations 0.2), without NUTS.
    """
    import arviz as az

    from skillinfer_bayes.inference.sampling import posterior_coords, posterior_dims
    from skillinfer_bayes.models.mvn import CHOL_VAR, GROUP_MEAN_VAR, GROUP_SD_VAR, MEAN_VAR

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
        coords=posterior_coords(model),
        dims=posterior_dims(model),
        attrs={"tuning_steps": tune},
    )
    idata["posterior"].attrs["sampler"] = "fake"
    return idata
