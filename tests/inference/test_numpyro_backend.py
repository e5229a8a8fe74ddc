"""The numpyro backend: the posterior mode it warms up from, the fallback to numpyro's windows,
and the staged warm-up's posterior against the windowed one."""

from __future__ import annotations

import numpy as np
import pytest

from skillinfer_bayes.inference import numpyro_backend, sampling, warmup
from skillinfer_bayes.inference.relabel import relabel
from skillinfer_bayes.models.mixture import (
    DIRECTION_DATA,
    START_ATTRIBUTE,
    build_mixture_model,
)
from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern
from skillinfer_bayes.models.priors import Prior


def test_the_warmup_starts_from_the_posterior_mode_near_the_em_start():
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(1.0, 0.5, (60, 2)), rng.normal(-1.0, 0.7, (40, 2))])
    model = build_mixture_model(rows_by_pattern(X), ["a", "b"], Prior(), 2)
    _, _, _, (_, value_and_grad) = numpyro_backend.compile_numpyro(model, 10, 10, 1, 0.8, False)
    data = tuple(jnp.asarray(v.get_value()) for v in model.data_vars)
    start = getattr(model, START_ATTRIBUTE)[0]

    def potential_and_gradient(point):
        params = [jnp.asarray(point[v.name]) for v in model.value_vars]
        value, gradient = value_and_grad(ravel_pytree(params)[0], params, data)
        return float(value), np.asarray(gradient)

    mode = warmup.posterior_mode(value_and_grad, start, model, data)
    assert sorted(mode) == sorted(start)
    value, gradient = potential_and_gradient(mode)
    assert value < potential_and_gradient(start)[0]
    assert np.max(np.abs(gradient)) < 1e-2
    # PyMC's own log density agrees it is the higher point
    logp = model.compile_logp()
    assert logp(mode) == pytest.approx(-value, rel=1e-8) and logp(mode) > logp(start)


@pytest.mark.parametrize("tune", [1, 3, 11, 150])
def test_a_short_warmup_falls_back_to_numpyros_windows(tune):
    rng = np.random.default_rng(6)
    X = np.vstack([rng.normal(1.0, 0.5, (30, 2)), rng.normal(-1.0, 0.7, (20, 2))])
    model = build_mixture_model(rows_by_pattern(X), ["a", "b"], Prior(), 2)
    idata = sampling.sample_posterior(model, draws=5, tune=tune, chains=2, sampler="numpyro",
                                      target_accept=0.8, random_seed=0, progressbar=False)
    assert tune < warmup.MIN_STAGED_TUNE
    assert idata.attrs["warmup"] == "windowed"  # the path that ran
    assert np.all(np.isfinite(idata["posterior"]["mu_std"].values))
    assert idata["posterior"]["mu_std"].shape == (2, 5, 2, 2)


@pytest.mark.slow
def test_the_staged_warmup_samples_the_posterior_of_the_windowed_one():
    """A two-cluster mixture sampled from its EM start (the staged warm-up) and from the
    identity (numpyro's windowed adaptation, the model's start removed): the same posterior
    means within Monte Carlo error, once each is relabelled as a fit does (chains started at
    random give the exchangeable components' labels in any order)."""
    rng = np.random.default_rng(2)
    X = np.vstack([rng.multivariate_normal([2.0, 1.0], [[0.5, 0.2], [0.2, 0.5]], 120),
                   rng.multivariate_normal([-1.0, -1.0], [[0.4, -0.1], [-0.1, 0.6]], 80)])
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    summaries = []
    for staged in (True, False):
        model = build_mixture_model(rows_by_pattern(X), ["a", "b"], Prior(), 2)
        if not staged:
            delattr(model, START_ATTRIBUTE)
        idata = sampling.sample_posterior(model, draws=1000, tune=600, chains=4,
                                          sampler="numpyro", target_accept=0.8, random_seed=3,
                                          progressbar=False)
        # the comparison holds only if each run took the path it is named for
        assert idata.attrs["warmup"] == ("staged" if staged else "windowed")
        post, _ = relabel(idata["posterior"], idata["sample_stats"]["lp"].values,
                          direction=model[DIRECTION_DATA].get_value()[:, 0])
        summaries.append({name: (post[name].mean(("chain", "draw")).values,
                                 post[name].std(("chain", "draw")).values)
                          for name in ("component_weights", "mu_std", "chol_stds")})
    staged, windowed = summaries
    for name, (mean, sd) in staged.items():
        # both are MCMC estimates (ESS in the hundreds at least): 5 sds / sqrt(200) apart
        np.testing.assert_array_less(np.abs(mean - windowed[name][0]), 5 * sd / np.sqrt(200),
                                     err_msg=name)


def test_a_table_of_more_than_127_benchmarks_samples_and_keeps_its_draws():
    # the JAX form of the draws' transform met an int8 arange (issue 32: "Python integer 133
    # out of bounds for int8" after the whole sampling); 133 benchmarks through the real path
    import warnings

    import skillinfer_bayes as sib

    sim = sib.datasets.simulate_factor_table(40, 133, 2, known=0.3, random_seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sib.SamplerWarning)  # 2 x 20 draws: not the question
        pop = sib.Population.from_dataframe(
            sim.table, covariance="factor", n_factors=2, transform=None, normalize=False,
            random_seed=0, draws=20, tune=20, chains=2, progressbar=False, cache=False)
    assert pop.Sigma_draws.shape == (40, 133, 133)
    assert np.isfinite(pop.Sigma_draws).all()
