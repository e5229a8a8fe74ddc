"""Shared test helpers: the known simulated population and a fake sampler.

Test modules import these directly (``from helpers import simulate``); ``conftest.py`` holds
only fixtures.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

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


def simulate_sparse(N: int, K: int, known: float, seed: int, r: int = 2) -> pd.DataFrame:
    """N x K scores of rank r plus noise (a factor model), a share ``known`` of the cells
    observed at random (every row keeps at least one):
    :func:`skillinfer_bayes.datasets.simulate_factor_table`'s table."""
    from skillinfer_bayes.datasets import simulate_factor_table

    return simulate_factor_table(N, K, r, known=known, random_seed=seed).table


# ---------------------------------------------------------------------------- fake sampling
def fake_sample_posterior(model, *, draws, tune, chains, sampler, target_accept, random_seed,
                          progressbar, structure=None, compiled=None):
    """Stands in for :func:`skillinfer_bayes.inference.sampling.sample_posterior` in API tests.

    Draws from the model's **prior** (``pm.sample_prior_predictive``, as PyMC-Marketing's and
    Bambi's test fixtures do), so it fakes any model the library builds, shaped as the real
    sampler's output (same variables, dims and sample stats), without NUTS. Every half of every
    chain is a random permutation of the same ``ceil(draws / 2)`` prior draws: the split chains
    agree exactly (r_hat below 1) and the draws are uncorrelated within a chain (high ESS), so
    fake posteriors pass the sampler checks (2 chains x 200 draws and more).
    """
    import arviz as az
    import pymc as pm

    from skillinfer_bayes.inference.posterior_variables import posterior_coords, posterior_dims

    names = list(posterior_dims(model))
    K = len(model.coords["benchmark"])
    # PyMC cannot draw a 1 x 1 LKJCholeskyCov from the prior: with one benchmark the
    # correlation is 1 and the sd is drawn here as |N(0, 1)| (the default prior's shape)
    sampled = [n for n in names if not (K == 1 and n.startswith("chol"))]
    # unseeded fits get seed 0: fake draws need not differ, and random ones failed the tail
    # ESS check now and then (191 < 200 for 2 x 200 draws)
    random_seed = 0 if random_seed is None else random_seed
    half = (draws + 1) // 2
    with warnings.catch_warnings():
        # the likelihood is a Potential: the prior's draws rightly ignore it
        warnings.filterwarnings("ignore", message="The effect of Potentials")
        prior = pm.sample_prior_predictive(draws=half, model=model, var_names=sampled,
                                           random_seed=random_seed)["prior"]
    rng = np.random.default_rng(random_seed)
    order = np.stack([np.concatenate([rng.permutation(half), rng.permutation(half)])[:draws]
                      for _ in range(chains)])  # (chains, draws) indices into the prior draws
    posterior = {name: prior[name].values[0][order] for name in sampled}
    if K == 1:
        stds = np.abs(rng.normal(size=half))[order][..., None]
        posterior.update({n: stds if n.endswith("_stds") else np.ones((chains, draws, 1, 1))
                          for n in names if n.startswith("chol")})
    shape = (chains, draws)
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={
            "diverging": np.zeros(shape, dtype=bool),
            "n_steps": np.full(shape, 7),
            "tree_depth": np.full(shape, 3),
            "reached_max_treedepth": np.zeros(shape, dtype=bool),
            "acceptance_rate": np.full(shape, target_accept),
            "energy": rng.normal(size=shape),
            "lp": rng.normal(size=half)[order],  # as the draws: the chains agree
            "step_size": np.full(shape, 0.5),
        },
        coords=posterior_coords(model),
        dims=posterior_dims(model),
        attrs={"tuning_steps": tune},
    )
    idata["posterior"].attrs["sampler"] = "fake"
    return idata


#: PyTensor's mode for the log densities the tests compare: its Python implementations of the
#: same ops, compiled in a fraction of a second where the C backend took up to a minute for a
#: mixture's graph (the values agree to rounding; a test evaluates them a few times).
QUICK = "FAST_COMPILE"


def assert_same_logp_and_gradient(model, other, seed: int, scale: float = 0.4) -> None:
    """Two PyMC models of the same variables give the same log density and gradient at a
    random point near ``model``'s initial point."""
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(scale=scale, size=np.shape(v))
             for k, v in model.initial_point(random_seed=seed + 1).items()}
    assert other.compile_logp(mode=QUICK)(point) == pytest.approx(
        model.compile_logp(mode=QUICK)(point), rel=1e-10)
    np.testing.assert_allclose(other.compile_dlogp(mode=QUICK)(point),
                               model.compile_dlogp(mode=QUICK)(point),
                               rtol=1e-8)


def assert_chosen_by_paired_loo(table: pd.DataFrame, chosen: int, most: int) -> None:
    """A ``factor_selection`` / ``component_selection`` table follows the "auto" rule: 1, 2, ...
    fitted in turn, the chosen number beat the one before it by more than two paired standard
    errors (the table's differences are against the chosen), and the search stopped at the
    first number after it that did not (or at ``most``)."""
    assert list(table.index) == list(range(1, len(table) + 1))
    assert table["chosen"].sum() == 1 and int(table.index[table["chosen"]][0]) == chosen
    assert table.loc[chosen, "elpd_diff"] == 0.0
    if chosen > 1:
        assert -table.loc[chosen - 1, "elpd_diff"] > 2 * table.loc[chosen - 1, "dse"]
    if len(table) == chosen + 1:
        assert table.loc[chosen + 1, "elpd_diff"] <= 2 * table.loc[chosen + 1, "dse"]
    else:
        assert len(table) == chosen == most
