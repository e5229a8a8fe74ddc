"""NUTS backends: run the sampler on a PyMC model and return ArviZ InferenceData.

``"numpyro"`` (the default when installed) compiles PyMC's log-density to JAX and runs numpyro's
NUTS with a dense mass matrix, all chains vectorized inside a single compiled ``lax.scan``: one
XLA compilation, no per-step Python dispatch. ``"nutpie"`` and ``"pymc"`` go through
``pm.sample``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable

import arviz as az
import numpy as np
import pymc as pm

from skillinfer_bayes.model import CHOL_VAR, MEAN_VAR

SAMPLERS = ("auto", "numpyro", "nutpie", "pymc")
#: Variables kept in the posterior, with their dims.
POSTERIOR_DIMS = {
    MEAN_VAR: ["benchmark"],
    f"{CHOL_VAR}_stds": ["benchmark"],
    f"{CHOL_VAR}_corr": ["benchmark", "benchmark_bis"],
}


def resolve_sampler(sampler: str) -> str:
    """Map ``sampler`` to an installed backend ("auto" picks the fastest installed one)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"Unknown sampler {sampler!r}; choose one of {sorted(SAMPLERS)}.")
    installed = {
        "numpyro": importlib.util.find_spec("numpyro") is not None
        and importlib.util.find_spec("jax") is not None,
        "nutpie": importlib.util.find_spec("nutpie") is not None,
        "pymc": True,
    }
    if sampler == "auto":
        return next(name for name in ("numpyro", "nutpie", "pymc") if installed[name])
    if not installed[sampler]:
        extra = "numpyro jax" if sampler == "numpyro" else sampler
        raise ImportError(
            f"sampler={sampler!r} needs the {sampler} package: pip install {extra} "
            "(or use sampler='auto')."
        )
    return sampler


def sample_posterior(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    sampler: str,
    target_accept: float,
    random_seed: int | None,
    progressbar: bool,
) -> az.InferenceData:
    """Sample ``model`` with NUTS; the posterior holds the variables of ``POSTERIOR_DIMS``."""
    backend = resolve_sampler(sampler)
    if backend == "numpyro":
        idata = _sample_numpyro(model, draws, tune, chains, target_accept, random_seed, progressbar)
    else:
        kwargs = {"nuts_sampler": backend} if backend == "nutpie" else {
            "cores": min(chains, os.cpu_count() or 1),
            "compute_convergence_checks": False,
        }
        with model:
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                target_accept=target_accept,
                random_seed=random_seed,
                progressbar=progressbar,
                idata_kwargs={"dims": POSTERIOR_DIMS},
                **kwargs,
            )
        idata = az.InferenceData(
            posterior=idata["posterior"][list(POSTERIOR_DIMS)],
            sample_stats=idata["sample_stats"],
        )
    idata["posterior"].attrs["sampler"] = backend
    return idata


def _sample_numpyro(
    model: pm.Model,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float,
    random_seed: int | None,
    progressbar: bool,
) -> az.InferenceData:
    import jax
    import jax.numpy as jnp
    from jax import lax
    from numpyro.infer.hmc import hmc
    from pymc.sampling.jax import get_jaxified_graph, get_jaxified_logp
    from tqdm.auto import tqdm

    rng = np.random.default_rng(random_seed)
    # PyMC's log-density, negated for numpyro's potential energy; jitted so numpyro's
    # initialisation compiles it once instead of dispatching op by op.
    potential = jax.jit(get_jaxified_logp(model, negative_logp=False))
    start = model.initial_point()
    init_params = [
        jnp.asarray(
            start[v.name] + rng.uniform(-1.0, 1.0, size=(chains, *np.shape(start[v.name])))
        )
        for v in model.value_vars
    ]
    keys = jax.random.split(jax.random.PRNGKey(int(rng.integers(2**31 - 1))), chains)
    init_kernel, sample_kernel = hmc(potential_fn=potential, algo="NUTS")
    total = tune + draws
    report_every = max(1, total // 40)
    bar = tqdm(
        total=total,
        desc=f"NUTS (numpyro), {chains} chains: compiling",
        disable=not progressbar,
        unit="it",
    )

    def _report(i: np.ndarray) -> None:
        if bar.n == 0:
            bar.set_description(f"NUTS (numpyro), {chains} chains")
        bar.update(int(i) + 1 - bar.n)

    def run(params, keys):
        state = jax.vmap(
            lambda p, k: init_kernel(
                p,
                num_warmup=tune,
                dense_mass=True,
                target_accept_prob=target_accept,
                rng_key=k,
            )
        )(params, keys)

        def step(state, i):
            state = jax.vmap(sample_kernel)(state)
            if progressbar:
                lax.cond(
                    (i + 1) % report_every == 0,
                    lambda: jax.debug.callback(_report, i),
                    lambda: None,
                )
            keep = (
                state.z,
                state.diverging,
                state.num_steps,
                state.mean_accept_prob,
                state.energy,
                state.potential_energy,
                state.adapt_state.step_size,
            )
            return state, keep

        _, trace = lax.scan(step, state, jnp.arange(total))
        return jax.tree.map(lambda x: x[tune:], trace)

    with bar:
        trace = jax.block_until_ready(jax.jit(run)(init_params, keys))
        bar.update(total - bar.n)
    z, diverging, n_steps, accept, energy, potential_energy, step_size = trace
    outputs = [v for v in model.unobserved_value_vars if v.name in POSTERIOR_DIMS]
    transform: Callable = jax.jit(
        jax.vmap(get_jaxified_graph(inputs=model.value_vars, outputs=outputs))
    )
    flat = transform(*[x.reshape((draws * chains, *x.shape[2:])) for x in z])

    def by_chain(x) -> np.ndarray:
        # (draw, chain, ...) -> (chain, draw, ...)
        return np.swapaxes(np.asarray(x), 0, 1)

    posterior = {
        v.name: by_chain(np.reshape(x, (draws, chains, *np.shape(x)[1:])))
        for v, x in zip(outputs, flat)
    }
    sample_stats = {
        "diverging": by_chain(diverging),
        "n_steps": by_chain(n_steps),
        "acceptance_rate": by_chain(accept),
        "energy": by_chain(energy),
        "lp": -by_chain(potential_energy),
        "step_size": by_chain(step_size),
    }
    coords = {"benchmark": model.coords["benchmark"], "benchmark_bis": model.coords["benchmark"]}
    return az.from_dict(
        posterior=posterior,
        sample_stats=sample_stats,
        coords=coords,
        dims=POSTERIOR_DIMS,
        attrs={"tuning_steps": tune},
    )
