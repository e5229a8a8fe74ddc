r"""The numpyro backend: PyMC's log-density compiled to JAX, numpyro's NUTS with every chain
vectorized inside compiled ``lax.scan``\ s, and the compiled runs kept for refits of
same-shaped data (:class:`CompiledSamplers`).

The mass matrix is dense for the LKJ model and diagonal for the factor model
(:func:`dense_mass`). A model with its own start (a mixture, started at EM) starts at the
posterior mode nearest it and is warmed up in three stages from the curvature there
(:mod:`~skillinfer_bayes.inference.warmup`, one compiled scan for every stage and the draws)
instead of numpyro's windows from the identity. The data (sufficient statistics, ``pm.Data``)
are arguments of the compiled run, so refitting data of the same shape reuses it and costs
about a second; JAX's persistent cache keeps the compilations across processes
(:func:`enable_compilation_cache`).
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from functools import partial

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from skillinfer_bayes.inference.inference_data import InferenceData, from_dict
from skillinfer_bayes.inference.locations import compiled_sampler_dir
from skillinfer_bayes.inference.posterior_variables import posterior_coords, posterior_dims
from skillinfer_bayes.inference.warmup import (
    MIN_STAGED_TUNE,
    adapt_step,
    best_posterior_mode,
    finite_difference_hessian,
    initial_inverse_mass,
    restage,
    run_stages,
    start_step_adaptation,
)
from skillinfer_bayes.models.mixture import START_ATTRIBUTE, START_JITTER
from skillinfer_bayes.models.mvn import (
    CHOL_VAR,
    GROUP_CENTERED_VAR,
    GROUP_OFFSET_VAR,
    GROUP_SD_VAR,
    MEAN_VAR,
)

#: numpyro's NUTS default maximum tree depth (trajectories of at most 2^10 - 1 steps).
NUMPYRO_MAX_TREE_DEPTH = 10

#: Compiled numpyro runs, keyed by model structure and sampler settings (see
#: :func:`skillinfer_bayes.models.mvn.structure_key`): refits of same-shaped data reuse them.
class CompiledSamplers:
    """Compiled numpyro runs, keyed by model structure and sampler settings (see
    :func:`skillinfer_bayes.models.mvn.structure_key`): refits of same-shaped data reuse them.

    The least recently used entry is dropped beyond ``capacity``. Every fit uses
    :data:`COMPILED_SAMPLERS`, the process's instance, unless it is given its own (e.g. to
    keep a study's compilations apart, or :meth:`clear` them to free memory).

    Examples
    --------
    >>> samplers = CompiledSamplers(capacity=2)
    >>> len(samplers), samplers.compilations
    (0, 0)
    """

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        #: How many samplers this object has compiled.
        self.compilations = 0
        self._entries: OrderedDict = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key, compile_sampler):
        """The compiled run of ``key``, compiled by ``compile_sampler()`` on first use (never
        kept when ``key`` is None)."""
        if key is not None and key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        compiled = compile_sampler()
        self.compilations += 1
        if key is not None:
            self._entries[key] = compiled
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return compiled

    def clear(self) -> None:
        """Forget every compiled sampler."""
        self._entries.clear()



#: The compiled samplers of this process (see :class:`CompiledSamplers`).
COMPILED_SAMPLERS = CompiledSamplers()



#: The progress bar the compiled runs report to (set for the duration of one run).
_PROGRESS: dict = {"bar": None, "label": ""}



def _report(i: np.ndarray) -> None:
    bar = _PROGRESS["bar"]
    if bar is not None:
        if bar.n == 0:
            bar.set_description(_PROGRESS["label"])
        bar.update(int(i) + 1 - bar.n)



def dense_mass(model: pm.Model) -> bool:
    """Whether numpyro adapts a dense mass matrix for ``model``: yes for the LKJ model (its
    posterior is close to a Gaussian, whose correlations a dense mass matrix absorbs), no for
    the factor model (its loadings' posterior is a curved ridge of rotations, which a dense
    estimate from the warm-up draws misreads: 4 x 500 draws of an 80 x 20 rank-2 table took
    116 s with it and about 30 s with a diagonal one, at the same r_hat and ESS)."""
    return "factor" not in model.coords



def widen_arange_constants(fgraph) -> None:
    """Give every ``ARange`` of a rewritten graph start and step constants of its own dtype.

    The rewrites leave ``arange(0, n, 1)`` with int8 constants (the smallest dtype that holds
    them); PyTensor's JAX form calls ``jnp.arange(start, stop, step)``, and where ``n`` is a
    static shape (a Python int) NumPy 2 refuses ``n - int8(0)`` for n > 127: a table of 128 or
    more benchmarks failed after the whole sampling (``OverflowError: Python integer 133 out of
    bounds for int8``), when its draws were turned into the model's variables.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from pytensor.graph.fg import FunctionGraph
    >>> x = pt.vector("x")
    >>> fg = FunctionGraph([x], [pt.arange(x.shape[0])])
    >>> widen_arange_constants(fg)
    >>> sorted({str(i.type.dtype) for n in fg.apply_nodes for i in n.inputs
    ...         if type(n.op).__name__ == "ARange" and i.owner is None})
    ['int64']
    """
    from pytensor.graph.basic import Constant
    from pytensor.tensor.basic import ARange

    for node in list(fgraph.toposort()):
        if not isinstance(node.op, ARange):
            continue
        inputs = [pt.constant(np.asarray(i.data, dtype=node.op.dtype))
                  if isinstance(i, Constant) and i.type.dtype != node.op.dtype else i
                  for i in node.inputs]
        if any(new is not old for new, old in zip(inputs, node.inputs)):
            fgraph.replace(node.outputs[0], node.op(*inputs), reason="widen_arange_constants")



def compile_numpyro(model: pm.Model, draws: int, tune: int, chains: int,
                     target_accept: float, progressbar: bool):
    """Build the NUTS run (compiled pieces), the draw transform, the kept variables' names and
    the potential's curvature and compiled value-and-gradient, for this model's structure."""
    import jax
    import jax.numpy as jnp
    from jax import lax
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.hmc import hmc
    from pytensor.compile.mode import JAX
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph import FunctionGraph
    try:  # PyTensor >= 2.32 moved it
        from pytensor.graph.traversal import graph_inputs
    except ImportError:  # pragma: no cover
        from pytensor.graph.basic import graph_inputs
    from pytensor.graph.replace import clone_replace
    from pytensor.link.jax.dispatch import jax_funcify

    data_vars = list(model.data_vars)

    def jaxify(outputs):
        # other shared variables (dim lengths) become constants, as in PyMC's JAX samplers
        others = {
            v: pt.constant(v.get_value(borrow=True))
            for v in graph_inputs(outputs)
            if isinstance(v, SharedVariable) and not any(v is d for d in data_vars)
        }
        outputs = clone_replace(outputs, replace=others) if others else outputs
        fgraph = FunctionGraph(inputs=[*model.value_vars, *data_vars], outputs=outputs, clone=True)
        JAX.optimizer.rewrite(fgraph)
        widen_arange_constants(fgraph)
        with warnings.catch_warnings():
            # parameter checks (e.g. sigma > 0 of a group mean's Normal) hold by construction:
            # every scale is a transformed positive variable
            warnings.filterwarnings("ignore", message="Skipping Check", category=UserWarning)
            # shape asserts of the per-row kernel's broadcasts: JAX checks shapes when tracing
            warnings.filterwarnings("ignore", message="Skipping Assert", category=UserWarning)
            return jax_funcify(fgraph)

    # PyMC's log density, negated: numpyro's potential energy, data as arguments.
    logp_fn = jaxify([-model.logp()])
    n_values = len(model.value_vars)

    # jitted so that the several places NUTS evaluates it trace the graph only once
    potential = jax.jit(lambda params, data: logp_fn(*params, *data)[0])

    def potential_fn_gen(*data):
        return lambda params: potential(params, data)

    dense = dense_mass(model)
    total = tune + draws
    report_every = max(1, total // 40)

    def kernels():
        """A NUTS kernel pair of its own: numpyro's ``sample_kernel`` reads the settings of
        the last ``init_kernel`` traced with it, so the windowed and the staged runs must not
        share one."""
        return hmc(potential_fn_gen=potential_fn_gen, algo="NUTS")

    def initializer(init_kernel, num_warmup):
        def init(params, keys, data, inverse_mass, step_size=None):
            if step_size is None:
                step_size = jnp.ones(len(keys))  # numpyro's default
            return jax.vmap(
                lambda p, k, e: init_kernel(
                    p,
                    num_warmup=num_warmup,
                    step_size=e,
                    inverse_mass_matrix=inverse_mass,
                    adapt_mass_matrix=inverse_mass is None,
                    dense_mass=dense,
                    target_accept_prob=target_accept,
                    model_args=data,
                    rng_key=k,
                )
            )(params, keys, step_size)

        return init

    def stepper(sample_kernel):
        def advance(state, step_state, data, first, adapting, final):
            """``len(adapting)`` NUTS iterations of every chain, numbered from ``first`` (the
            progress); where ``adapting``, each chain's step size follows dual averaging
            (``step_state``, :func:`.warmup.adapt_step`), its average where ``final``."""

            def step(carry, inputs):
                state, step_state = carry
                i, adapt, last = inputs
                state = jax.vmap(lambda st: sample_kernel(st, model_args=data))(state)
                size, step_state = adapt_step(step_state, state.adapt_state.step_size,
                                              state.accept_prob, target_accept, adapt, last)
                state = state._replace(adapt_state=state.adapt_state._replace(step_size=size))
                if progressbar:
                    lax.cond((i + 1) % report_every == 0,
                             lambda: jax.debug.callback(_report, i), lambda: None)
                keep = (
                    state.z,
                    state.diverging,
                    state.num_steps,
                    state.accept_prob,  # this draw's (mean_accept_prob is a running mean)
                    state.energy,
                    state.potential_energy,
                    state.adapt_state.step_size,
                )
                return (state, step_state), keep

            steps = first + jnp.arange(adapting.shape[0])
            (state, step_state), trace = lax.scan(step, (state, step_state),
                                                  (steps, adapting, final))
            return state, step_state, trace

        return advance

    # numpyro's windowed adaptation from the identity (inside its kernel), all in one
    # compiled function
    windowed_init, windowed_sample = kernels()
    windowed_init = initializer(windowed_init, tune)
    windowed_advance = stepper(windowed_sample)

    @jax.jit
    def windowed(params, keys, data):
        state = windowed_init(params, keys, data, None)
        off = jnp.zeros(total, dtype=bool)  # the kernel adapts its own step size
        step_state = start_step_adaptation(jnp.ones(len(keys)))
        _, _, trace = windowed_advance(state, step_state, data, 0, off, off)
        return jax.tree.map(lambda x: x[tune:], trace), jnp.ones(len(keys), dtype=bool)

    # The staged warm-up from a start near the mode (:mod:`.warmup`): numpyro's kernel without
    # its adaptation (no warm-up steps), the step size adapted by :func:`.warmup.adapt_step`
    # inside one compiled scan that serves every stage and the draws.
    staged_init, staged_sample = kernels()
    staged = {
        "init": jax.jit(initializer(staged_init, 0)),
        "advance": jax.jit(stepper(staged_sample)),
        "restage": jax.jit(partial(restage, dense=dense), static_argnums=4),
    }

    def run(params, keys, data, inverse_mass):
        if inverse_mass is None:
            return windowed(params, keys, data)
        return run_stages(params, keys, data, inverse_mass, tune=tune, draws=draws, **staged)

    keep = posterior_dims(model)
    outputs = [v for v in model.unobserved_value_vars if v.name in keep]
    names = [v.name for v in outputs]
    graph = jaxify(outputs)
    in_axes = (0,) * n_values + (None,) * len(data_vars)  # draws batched, data shared
    transform = jax.jit(jax.vmap(graph, in_axes=in_axes))

    @jax.jit
    def value_and_grad(flat, params, data):
        _, unravel = ravel_pytree(params)
        return jax.value_and_grad(lambda x: potential(unravel(x), data))(flat)

    def curvature(params, data):
        flat = np.asarray(ravel_pytree(params)[0], dtype=float)
        return finite_difference_hessian(
            lambda x: np.asarray(value_and_grad(jnp.asarray(x), params, data)[1]), flat)

    return run, transform, names, (curvature, value_and_grad)



def initial_point(model: pm.Model) -> dict[str, np.ndarray]:
    """Unconstrained starting values: zero means and an identity covariance.

    On the standardized scale that is the natural centre of the prior, and it avoids compiling
    PyMC's initial-point function (seconds with PyTensor's C backend). Chains start from it
    with uniform(-1, 1) jitter, as PyMC's own samplers do.
    """
    K = len(model.coords["benchmark"])
    shapes = {MEAN_VAR: (K,), f"{CHOL_VAR}_cholesky-cov-packed__": (K * (K + 1) // 2,)}
    if "group" in model.coords:
        # log tau = 0 (tau = 1 sd of the standardized scores); zero offsets / group means
        shapes[f"{GROUP_SD_VAR}_log__"] = (K,)
        for name in (GROUP_OFFSET_VAR, GROUP_CENTERED_VAR):
            if name in model.named_vars:
                shapes[name] = tuple(int(d) for d in model[name].shape.eval())
    names = [v.name for v in model.value_vars]
    if sorted(names) != sorted(shapes):  # a model this module does not know: ask PyMC
        return model.initial_point()
    return {name: np.zeros(shape) for name, shape in shapes.items()}



def chain_starts(model: pm.Model) -> tuple[list[dict[str, np.ndarray]], float, bool]:
    """The chains' candidate starting points, the half-width of their uniform jitter, and
    whether the starts are near a mode: a model's own where its builder set them (a
    mixture's, :func:`~skillinfer_bayes.models.mixture.starting_points`), else
    :func:`initial_point` with PyMC's jitter of 1."""
    own = getattr(model, START_ATTRIBUTE, None)
    names = sorted(v.name for v in model.value_vars)
    if own and all(sorted(start) == names for start in own):
        return own, START_JITTER, True
    return [initial_point(model)], 1.0, False



#: Set to "0" to leave JAX's persistent compilation cache alone.
JAX_CACHE_ENV = "SKILLINFER_BAYES_JAX_CACHE"



def enable_compilation_cache() -> None:
    """Keep compiled samplers on disk (JAX's persistent compilation cache), so that a new
    Python process fitting a model of a known structure skips most of the XLA compilation.

    The cache lives in the marked ``compiled_samplers`` subfolder of the fit cache folder
    (:func:`skillinfer_bayes.inference.locations.compiled_sampler_dir`). A cache directory
    the user configured for JAX is respected, and ``SKILLINFER_BAYES_JAX_CACHE=0`` turns this
    off.
    """
    import jax

    if os.environ.get(JAX_CACHE_ENV, "1") == "0" or jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", str(compiled_sampler_dir()))



def sample_numpyro(
    model: pm.Model,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float,
    random_seed: int | None,
    progressbar: bool,
    structure: tuple | None = None,
    compiled: CompiledSamplers | None = None,
) -> InferenceData:
    import jax
    import jax.numpy as jnp
    from tqdm.auto import tqdm

    enable_compilation_cache()
    key = None if structure is None else (structure, draws, tune, chains, target_accept,
                                          progressbar, dense_mass(model))
    label = f"NUTS (numpyro), {chains} chains"
    store = compiled if compiled is not None else COMPILED_SAMPLERS  # (an empty one is falsy)
    run, transform, names, (curvature, value_and_grad) = store.get(
        key, lambda: compile_numpyro(model, draws, tune, chains, target_accept, progressbar)
    )
    data = tuple(jnp.asarray(v.get_value()) for v in model.data_vars)
    rng = np.random.default_rng(random_seed)
    starts, jitter, near_mode = chain_starts(model)
    start = starts[0]
    scale = {v.name: jitter for v in model.value_vars}
    inverse_mass = None
    if near_mode:  # the curvature at the mode is the posterior's
        start = best_posterior_mode(value_and_grad, starts, model, data)
        hessian = curvature([jnp.asarray(start[v.name]) for v in model.value_vars], data)
        inverse_mass = initial_inverse_mass(np.asarray(hessian), dense_mass(model))
        # jitter within the Laplace sds: some parameters' posterior sd is far below 0.1
        sds = np.sqrt(np.diag(inverse_mass) if inverse_mass.ndim == 2 else inverse_mass)
        offsets = np.cumsum([0] + [np.size(start[v.name]) for v in model.value_vars])
        scale = {v.name: np.minimum(jitter, sds[a:b].reshape(np.shape(start[v.name])))
                 for v, a, b in zip(model.value_vars, offsets[:-1], offsets[1:])}
        # a short warm-up cannot estimate the stages' metrics: numpyro's windows
        inverse_mass = jnp.asarray(inverse_mass) if tune >= MIN_STAGED_TUNE else None
    init_params = [
        jnp.asarray(
            start[v.name] + scale[v.name] * rng.uniform(-1.0, 1.0,
                                                        size=(chains, *np.shape(start[v.name])))
        )
        for v in model.value_vars
    ]
    keys = jax.random.split(jax.random.PRNGKey(int(rng.integers(2**31 - 1))), chains)
    total = tune + draws
    bar = tqdm(total=total, desc=f"{label}: compiling", disable=not progressbar, unit="it")
    _PROGRESS.update(bar=bar, label=label)
    try:
        with bar:
            trace, kept = jax.block_until_ready(run(init_params, keys, data, inverse_mass))
            bar.update(total - bar.n)
    finally:
        _PROGRESS.update(bar=None)
    z, diverging, n_steps, accept, energy, potential_energy, step_size = trace
    flat = transform(*[x.reshape((draws * chains, *x.shape[2:])) for x in z], *data)

    def by_chain(x) -> np.ndarray:
        # (draw, chain, ...) -> (chain, draw, ...)
        return np.swapaxes(np.asarray(x), 0, 1)

    posterior = {
        name: by_chain(np.reshape(x, (draws, chains, *np.shape(x)[1:])))
        for name, x in zip(names, flat)
    }
    steps = by_chain(n_steps)
    # a NUTS tree of depth d holds at most 2^d - 1 leapfrog steps
    depth = np.ceil(np.log2(steps.astype(float) + 1.0)).astype(int)
    sample_stats = {
        "diverging": by_chain(diverging),
        "n_steps": steps,
        "tree_depth": depth,
        "reached_max_treedepth": depth >= NUMPYRO_MAX_TREE_DEPTH,
        "acceptance_rate": by_chain(accept),
        "energy": by_chain(energy),
        "lp": -by_chain(potential_energy),
        "step_size": by_chain(step_size),
    }
    return from_dict(
        posterior=posterior,
        sample_stats=sample_stats,
        coords=posterior_coords(model),
        dims=posterior_dims(model),
        # which warm-up ran (the staged one from the mode's curvature, or numpyro's windows),
        # and the chains restarted from the best one between its stages (warmup.in_main_mode)
        attrs={"tuning_steps": tune, "warmup": "windowed" if inverse_mass is None else "staged",
               "warmup_restarts": int(np.sum(~np.asarray(kept)))},
    )
