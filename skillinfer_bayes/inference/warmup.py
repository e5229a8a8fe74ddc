"""The staged warm-up of a model started near its posterior mode (a mixture, started at EM).

numpyro's windowed adaptation starts from the identity metric; a mixture of thousands of rows
has 140 or more parameters whose posterior sds span 0.001 to 1, and its first windows ran trees
of hundreds of leapfrog steps. From a start near the mode the warm-up is instead:

1. :func:`posterior_mode`: L-BFGS from each of the model's starts (a mixture's EM runs) to
   the mode nearest it; the chains start at the highest (:func:`best_posterior_mode`);
2. :func:`initial_inverse_mass`: the inverse Hessian there (the Laplace approximation) as the
   first metric, the Hessian by central differences of the compiled gradient
   (:func:`finite_difference_hessian`);
3. stages ending at :data:`WARMUP_STAGES` of the tuning steps (:func:`stage_lengths`), each
   adapting the step size by one run of dual averaging from the previous stage's step
   (:func:`adapt_step`), then estimating the next stage's metric from every draw since the
   first stage's burn-in, pooled within chains (:func:`pooled_covariance`, :func:`restage`),
   and restarting chains left in a minor mode from the best chain's state
   (:func:`in_main_mode`); :func:`run_stages` runs them with one compiled NUTS scan for every
   stage and the draws (:func:`scan_lengths`);
4. the draws take the smallest of the chains' adapted step sizes (:func:`common_step_size`).

On the leaderboard (C = 4, 143 parameters, 1,000 tuning steps and 1,000 draws) the cold fit
went from 96-101 s to 52-56 s with these (each draw's tree 15 leapfrog steps instead of
17 on average and 22 for the slowest of the four vectorized chains; the sampler compiled once
instead of three times).

References
----------
.. [1] Stan Development Team. Stan Reference Manual, "HMC algorithm parameters: automatic
   parameter tuning" (the regularization of :func:`pooled_covariance`).
.. [2] Hoffman, M. D. and Gelman, A. (2014). The No-U-Turn Sampler: adaptively setting path
   lengths in Hamiltonian Monte Carlo. *Journal of Machine Learning Research* 15, 1593-1623
   (dual averaging of the step size, :func:`adapt_step`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pymc as pm

#: The smallest curvature :func:`initial_inverse_mass` allows an unconstrained direction (a
#: variance of at most 100 in the first warm-up stage).
MIN_CURVATURE = 1e-2


def initial_inverse_mass(hessian: np.ndarray, dense: bool) -> np.ndarray:
    """NUTS's first inverse mass matrix from the potential's Hessian at the start point.

    numpyro starts the adaptation from the identity; on a posterior whose scales span orders of
    magnitude (a mixture of thousands of rows: sds from 0.001 to 1) the first windows then take
    trees of hundreds of steps. At the mode (:func:`posterior_mode`, from a mixture's EM start),
    the inverse Hessian is the Laplace approximation of the posterior covariance, and the
    adaptation starts from it. The Hessian is symmetrized and its eigenvalues replaced by their
    absolute values, floored at :data:`MIN_CURVATURE` (where the optimizer stopped short of the
    mode, a few directions may curve the wrong way).

    Parameters
    ----------
    hessian : numpy.ndarray
        (d, d) Hessian of the potential (the negative log density) on the unconstrained scale.
    dense : bool
        Return the (d, d) inverse; else the (d,) inverse of the diagonal.

    Examples
    --------
    >>> initial_inverse_mass(np.array([[4.0, 0.0], [0.0, -0.5]]), dense=True).tolist()
    [[0.25, 0.0], [0.0, 2.0]]
    >>> initial_inverse_mass(np.array([[4.0, 1.0], [1.0, 0.0]]), dense=False).tolist()
    [0.25, 100.0]
    """
    hessian = np.asarray(hessian, dtype=float)
    if not dense:
        return 1.0 / np.maximum(np.abs(np.diag(hessian)), MIN_CURVATURE)
    values, vectors = np.linalg.eigh(0.5 * (hessian + hessian.T))
    values = np.maximum(np.abs(values), MIN_CURVATURE)
    return (vectors / values) @ vectors.T


#: The fewest tuning steps for the staged warm-up (its first stage estimates a dense metric from
#: the second half of its draws: 100 per chain at 400); below, numpyro's windowed adaptation.
MIN_STAGED_TUNE = 400
#: Where the warm-up stages of a model started near its mode end, as fractions of the tuning
#: steps (see :func:`run_stages`).
WARMUP_STAGES = (0.5, 0.75, 1.0)
#: A chain whose mean potential energy over the end of a warm-up stage lies more than this
#: above the lowest chain's is in a minor mode (:func:`in_main_mode`).
MODE_GAP = 10.0


def in_main_mode(potential_energy):
    """Which chains' (T, chains) potential energies put them in the main mode: their mean at
    most :data:`MODE_GAP` above the lowest chain's mean.

    A mixture's posterior has minor modes (other allocations of a few dozen borderline rows
    between components) that NUTS rarely leaves: on the leaderboard (C = 4) chains settle 20
    log-density units below the best one. Within one mode the chains' mean potentials differ
    by about one unit (its sd over the draws, about 8 for 140 parameters, over the square root
    of the effective draws); between modes of similar width the gap in the means is the log
    of their mass ratio, so a chain 10 units above the best lies in a mode with about e^-10
    of its mass, and the next warm-up stage restarts it from the best chain's state.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> energy = jnp.array([[100.0, 101.0, 120.0], [102.0, 100.0, 121.0]])
    >>> in_main_mode(energy).tolist()
    [True, True, False]
    """
    level = potential_energy.mean(axis=0)
    return level <= level.min() + MODE_GAP


def pooled_covariance(draws, dense: bool, kept=None):
    """The metric of the later warm-up stages: the within-chain covariance of (T, chains, d)
    draws, pooled over chains (chains in different modes do not inflate it; only the chains
    ``kept``, default all), regularized as Stan's: ``n / (n + 5) S + 1e-3 * 5 / (n + 5) I``
    (the diagonal only, when not ``dense``).

    ``draws`` may also be a list of windows, (T_w, chains, d) each, and ``kept`` a list of
    their masks: each chain is centred within each window (a chain restarted between two
    stages moved), and the windows' scatter is pooled.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> x = jnp.stack([jnp.array([[0.0], [2.0]]), jnp.array([[10.0], [12.0]])], axis=1)
    >>> round(float(pooled_covariance(x, dense=False)[0]), 4)  # 4 / 9 * (1 + 1 + 1 + 1) / 2
    0.8894
    >>> later = x + 100.0  # a second window: its own means, the same scatter
    >>> round(float(pooled_covariance([x, later], dense=False)[0]), 4)  # 8/13 * 8/4 + 0.005/13
    1.2312
    """
    import jax.numpy as jnp

    windows = list(draws) if isinstance(draws, (list, tuple)) else [draws]
    masks = list(kept) if isinstance(kept, (list, tuple)) else [kept] * len(windows)
    scatter, n, means = 0.0, 0, 0
    for window, mask in zip(windows, masks):
        T, chains, d = window.shape
        mask = jnp.ones(chains, dtype=bool) if mask is None else mask
        centred = ((window - window.mean(axis=0)) * mask[None, :, None]).reshape(T * chains, d)
        scatter = scatter + (centred.T @ centred if dense else jnp.sum(centred**2, axis=0))
        used = jnp.sum(mask)
        n, means = n + T * used, means + used
    shrink = n / (n + 5.0)
    if dense:
        return shrink * scatter / (n - means) + 1e-3 * 5.0 / (n + 5.0) * jnp.eye(d)
    return shrink * scatter / (n - means) + 1e-3 * 5.0 / (n + 5.0)


def posterior_mode(value_and_grad, start: dict, model: pm.Model, data) -> dict:
    """The posterior mode nearest ``start``: L-BFGS (:func:`scipy.optimize.minimize`) on the
    unconstrained scale, with the compiled potential's value and gradient.

    A mixture's EM start maximizes the likelihood without the priors and with its own
    regularization; on the leaderboard (C = 4) the posterior's mode lies about 1,000 log-density
    units above it, and the Hessian there, the first metric of the warm-up
    (:func:`initial_inverse_mass`), describes the posterior, where the Hessian at the EM start
    did not (a fit took 710 s with it, 100 s from the mode). A few hundred iterations, about
    2 s.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> with pm.Model() as model:
    ...     x = pm.Normal("x", 3.0, 1.0)
    >>> def value_and_grad(flat, params, data):  # the potential of Normal(3, 1)
    ...     return jax.value_and_grad(lambda v: 0.5 * jnp.sum((v - 3.0) ** 2))(flat)
    >>> round(float(posterior_mode(value_and_grad, {"x": np.array(0.0)}, model, ())["x"]), 4)
    3.0
    """
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from scipy.optimize import minimize

    params = [jnp.asarray(start[v.name]) for v in model.value_vars]
    flat, unravel = ravel_pytree(params)

    def potential_and_gradient(x):
        value, gradient = value_and_grad(jnp.asarray(x), params, data)
        return float(value), np.asarray(gradient, dtype=float)

    result = minimize(potential_and_gradient, np.asarray(flat, dtype=float), jac=True,
                      method="L-BFGS-B", options={"maxiter": 2000, "maxcor": 30})
    x = result.x if np.isfinite(result.fun) else np.asarray(flat, dtype=float)
    values = unravel(jnp.asarray(x))
    return {v.name: np.asarray(value) for v, value in zip(model.value_vars, values)}



def best_posterior_mode(value_and_grad, starts: list[dict], model: pm.Model, data) -> dict:
    """The highest of the posterior modes :func:`posterior_mode` reaches from each of
    ``starts`` (a mixture's EM starts,
    :func:`~skillinfer_bayes.models.mixture.starting_points`): the chains start there.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> with pm.Model() as model:
    ...     x = pm.Normal("x", 0.0, 1.0)
    >>> def value_and_grad(flat, params, data):  # two wells: x = -2 (deeper) and x = 2
    ...     f = lambda v: -jnp.log(jnp.exp(-(v - 2.0) ** 2) + 2 * jnp.exp(-(v + 2.0) ** 2))
    ...     return jax.value_and_grad(lambda v: jnp.sum(f(v)))(flat)
    >>> starts = [{"x": np.array(1.0)}, {"x": np.array(-1.0)}]
    >>> round(float(best_posterior_mode(value_and_grad, starts, model, ())["x"]), 2)
    -2.0
    """
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    best, lowest = None, np.inf
    for start in starts:
        mode = posterior_mode(value_and_grad, start, model, data)
        params = [jnp.asarray(mode[v.name]) for v in model.value_vars]
        value = float(value_and_grad(ravel_pytree(params)[0], params, data)[0])
        if best is None or (np.isfinite(value) and value < lowest):
            best, lowest = mode, value if np.isfinite(value) else np.inf
    return best


#: The step of :func:`finite_difference_hessian`, relative to each coordinate (at least 1).
HESSIAN_STEP = 1e-3


def finite_difference_hessian(gradient: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                              step: float = HESSIAN_STEP) -> np.ndarray:
    """The (d, d) Hessian at ``x`` of a function whose gradient is ``gradient``: central
    differences of the gradient, one coordinate at a time, symmetrized.

    The first metric of the warm-up needs the Hessian once per fit. The compiled gradient is
    there already (:func:`posterior_mode` uses it): 2 d calls of it take about 0.2 s for a
    four-component mixture of the leaderboard (d = 143), where compiling JAX's exact Hessian
    (a Hessian-vector product per column) took 2.7 s. Its error is ``step^2`` times the third
    derivatives plus the gradient's rounding divided by the step. A mixture's log-sum-exp
    takes single-precision exponentials (relative rounding near 1e-7), so the best step is
    near ``1e-7 ** (1 / 3)``: on a two-component mixture the largest error is 6e-7 of the
    largest entry with :data:`HESSIAN_STEP` = 1e-3, against 3e-5 with 1e-5 and 5e-5 with
    1e-2.

    Parameters
    ----------
    gradient : callable
        (d,) array -> (d,) gradient.
    x : numpy.ndarray
        (d,) point.
    step : float, default :data:`HESSIAN_STEP`
        Coordinate j moves by ``step * max(1, |x_j|)`` each way.

    Examples
    --------
    >>> A = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> gradient = lambda x: A @ x + x**3  # of x'Ax / 2 + sum(x^4) / 4
    >>> finite_difference_hessian(gradient, np.array([1.0, 0.0])).round(6).tolist()
    [[5.000001, 0.5], [0.5, 1.000001]]

    (The exact Hessian is ``[[5, 0.5], [0.5, 1]]``; ``step^2`` of the cubic term remains.)
    """
    x = np.asarray(x, dtype=float)
    h = step * np.maximum(1.0, np.abs(x))
    columns = []
    for j in range(x.size):
        move = np.zeros_like(x)
        move[j] = h[j]
        columns.append((np.asarray(gradient(x + move)) - np.asarray(gradient(x - move)))
                       / (2.0 * h[j]))
    hessian = np.column_stack(columns) if columns else np.zeros((0, 0))
    return 0.5 * (hessian + hessian.T)


def stage_lengths(tune: int) -> list[int]:
    """The warm-up stages' numbers of steps: they end at :data:`WARMUP_STAGES` of ``tune``.

    Examples
    --------
    >>> stage_lengths(1000), stage_lengths(401)
    ([500, 250, 250], [200, 101, 100])
    """
    ends = [int(round(tune * f)) for f in WARMUP_STAGES]
    return [int(n) for n in np.diff([0, *ends])]


def scan_lengths(steps: int, size: int) -> list[int]:
    """``steps`` cut into scans of ``size`` steps and one shorter remainder.

    Every scan of one length runs the same compiled NUTS steps (whether they adapt the step
    size is an argument): cut into the shortest stage's length, 1,000 tuning steps and 1,000
    draws are scans of 250 steps, and the sampler compiles once.

    Examples
    --------
    >>> scan_lengths(500, 250), scan_lengths(1100, 250), scan_lengths(90, 250)
    ([250, 250], [250, 250, 250, 250, 100], [90])
    """
    return [size] * (steps // size) + ([steps % size] if steps % size else [])


#: The step size the first warm-up stage starts from (numpyro's default).
FIRST_STEP_SIZE = 1.0


def start_step_adaptation(step_size):
    """Dual averaging's state (Hoffman and Gelman 2014, numpyro's
    :func:`~numpyro.infer.hmc_util.dual_averaging`) for chains at ``step_size`` (chains,): it
    pulls toward ten times that step, as Stan's and numpyro's restarts do."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer.hmc_util import dual_averaging

    start, _ = dual_averaging()
    return jax.vmap(start)(jnp.log(10.0) + jnp.log(step_size))


def adapt_step(step_state, step_size, accept_prob, target_accept: float, adapt, final):
    """One dual-averaging update of each chain's step size (:func:`start_step_adaptation`):
    ``(new step sizes, new state)``. Where ``adapt`` is false both are kept; where ``final``,
    the step size is the average of the log step sizes so far (the one kept for the draws).

    numpyro's own adaptation restarts dual averaging at the end of every window of its mass
    matrix schedule, even when the mass matrix is given (with 250 warm-up steps at steps 99 and
    199): each restart explored step sizes afresh, and those iterations ran trees of 26 to 31
    leapfrog steps where the adapted ones ran 15. The staged warm-up runs one dual averaging
    per stage instead, from the previous stage's step size.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> state = start_step_adaptation(jnp.array([0.5, 0.5]))
    >>> size, state = adapt_step(state, jnp.array([0.5, 0.5]), jnp.array([0.99, 0.2]), 0.8,
    ...                          True, False)
    >>> bool(size[0] > size[1])  # accepted too often: a longer step; too rarely: shorter
    True
    >>> kept, _ = adapt_step(state, size, jnp.array([0.5, 0.5]), 0.8, False, False)
    >>> bool(jnp.all(kept == size))
    True
    """
    import jax
    import jax.numpy as jnp
    from numpyro.infer.hmc_util import dual_averaging

    _, update = dual_averaging()
    updated = jax.vmap(update)(target_accept - accept_prob, step_state)
    log_step, log_average = updated[0], updated[1]
    new = jnp.exp(jnp.where(final, log_average, log_step))
    finfo = jnp.finfo(new.dtype)
    new = jnp.clip(new, finfo.tiny, finfo.max)
    kept = jax.tree.map(lambda a, b: jnp.where(adapt, a, b), updated, step_state)
    return jnp.where(adapt, new, step_size), kept


def common_step_size(state):
    """The chains' NUTS states with every chain's step size the smallest one adapted.

    The chains share the metric and sample one posterior, so their adapted step sizes differ
    only by the adaptation's noise and the region each chain adapted in. On the fixed
    protocol's training split (C = 4) they ended at 0.089 to 0.162, and the draws' acceptance
    ranged from 0.96 to 0.68: the chains with the largest steps diverged 8 and 23 times, the
    one with the smallest not at all. The vectorized chains advance together, so the slowest
    one's trees set the cost, and the smallest step costs little more.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from collections import namedtuple
    >>> Adapt = namedtuple("Adapt", "step_size"); State = namedtuple("State", "adapt_state")
    >>> common = common_step_size(State(Adapt(jnp.array([0.5, 0.25, 0.75]))))
    >>> common.adapt_state.step_size.tolist()
    [0.25, 0.25, 0.25]
    """
    import jax.numpy as jnp

    size = state.adapt_state.step_size
    smallest = jnp.full_like(size, jnp.min(size))
    return state._replace(adapt_state=state.adapt_state._replace(step_size=smallest))


def run_stages(params, keys, data, inverse_mass, *, tune: int, draws: int,
               init: Callable, advance: Callable, restage: Callable):
    """The staged warm-up and the draws of vectorized chains (see the module docstring).

    Parameters
    ----------
    params : list of arrays
        The chains' starting values, (chains, ...) per value variable.
    keys : array
        The chains' random keys.
    data : tuple of arrays
        The model's data (arguments of the compiled functions).
    inverse_mass : array
        The first stage's metric (:func:`initial_inverse_mass`).
    tune, draws : int
    init : callable
        ``init(params, keys, data, inverse_mass, step_size)``: the chains' NUTS states
        (numpyro's kernel, without its own adaptation).
    advance : callable
        ``advance(state, step_state, data, first, adapting, final)``: ``len(adapting)`` steps
        of every chain, numbered from ``first`` (for the progress), each chain's step size
        adapted by :func:`adapt_step` where ``adapting``; the new states and the trace
        (``z``, ..., the potential energy at index 5).
    restage : callable
        ``restage(z_trace, energy, z, keys, stage, windows)`` on a stage's draws (after the
        first stage's burn-in, its first half) and the earlier stages' ``windows``: the next
        stage's start, metric, chains in the main mode, keys and this stage's window.

    Returns
    -------
    tuple
        The draws' trace (after the warm-up) and which chains were never restarted.
    """
    import jax
    import jax.numpy as jnp

    def concatenate(pieces):
        if len(pieces) == 1:
            return pieces[0]
        return jax.tree.map(lambda *x: jnp.concatenate(x), *pieces)

    lengths = stage_lengths(tune)
    size = min(lengths)
    metric, z, kept = inverse_mass, params, jnp.ones(len(keys), dtype=bool)
    # a NumPy array, not a weakly typed one: the later stages' step sizes are strongly typed,
    # and a weak first one made the compiled functions compile again
    step_size = jnp.asarray(np.full(len(keys), FIRST_STEP_SIZE))
    windows, first = [], 0
    for stage, length in enumerate(lengths):
        state = init(z, keys, data, metric, step_size)
        step_state = start_step_adaptation(step_size)
        last = stage == len(lengths) - 1
        pieces, scans = [], scan_lengths(length, size)
        for n, end in zip(scans, np.cumsum(scans)):
            final = np.arange(end - n, end) == length - 1
            state, step_state, trace = advance(state, step_state, data, first,
                                               np.ones(n, dtype=bool), final)
            if not last:  # the last stage's draws inform no metric
                pieces.append(trace)
            first += n
        step_size = state.adapt_state.step_size
        if last:
            break
        # the first stage's first half is its burn-in (from the mode to the typical set)
        burn_in = length // 2 if stage == 0 else 0
        trace = jax.tree.map(lambda x, skip=burn_in: x[skip:], concatenate(pieces))
        z, metric, main, keys, window = restage(trace[0], trace[5], state.z, keys, stage + 1,
                                                windows)
        windows.append(window)
        kept = kept & main
    state = common_step_size(state)
    pieces = []
    for n in scan_lengths(draws, size):
        state, step_state, trace = advance(state, step_state, data, first,
                                           np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
        pieces.append(trace)
        first += n
    return concatenate(pieces), kept


def restage(z_trace, energy, z, keys, stage: int, windows, dense: bool):
    """Between two warm-up stages, from the last stage's draws (``z_trace`` (T, chains, ...)
    per variable, potential ``energy`` (T, chains)) and the earlier stages' ``windows``.

    Returns the next stage's start (a chain outside the main mode, :func:`in_main_mode`,
    restarts from the best chain's last state ``z``), its metric (:func:`pooled_covariance` of
    every window, each over the chains that were in the main mode in it), which chains are in
    the main mode, the keys folded with ``stage``, and this stage's window, ``(draws (T, chains,
    d), main)`` for the next call.

    The metric pools every draw since the first stage's burn-in, not the last stage's alone: a
    dense metric of d = 143 parameters (a four-component mixture of the leaderboard) estimated
    from 500 draws misjudges the posterior's scales by a factor of up to 2.4 each way (the
    Marchenko-Pastur range of d / n = 0.29), and NUTS needs smaller steps; from 2,000 draws,
    1.6 each way. On the leaderboard the draws then ran 15 leapfrog steps per iteration
    instead of 17 (and 15 instead of 22 for the slowest of the four vectorized chains).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> T, rng = 50, np.random.default_rng(0)
    >>> z_trace = [jnp.asarray(rng.normal(size=(T, 3, 2)))]
    >>> energy = jnp.asarray(np.c_[np.zeros(T), np.zeros(T), np.full(T, 30.0)])
    >>> last = [jnp.asarray([[0.0, 0.0], [1.0, 1.0], [9.0, 9.0]])]
    >>> keys = jax.random.split(jax.random.PRNGKey(0), 3)
    >>> z, metric, main, keys, window = restage(z_trace, energy, last, keys, 1, [],
    ...                                         dense=True)
    >>> np.asarray(z[0]).tolist(), np.asarray(main).tolist(), metric.shape, window[0].shape
    ([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]], [True, True, False], (2, 2), (50, 3, 2))
    """
    import jax
    import jax.numpy as jnp

    T, chains = energy.shape
    recent = jnp.concatenate([x.reshape(T, chains, -1) for x in z_trace], axis=-1)
    main = in_main_mode(energy)
    best = jnp.argmin(energy.mean(axis=0))
    start = [jnp.where(main.reshape((-1,) + (1,) * (x.ndim - 1)), x, x[best]) for x in z]
    draws = [w for w, _ in windows] + [recent]
    masks = [m for _, m in windows] + [main]
    metric = pooled_covariance(draws, dense, masks)
    keys = jax.vmap(lambda k: jax.random.fold_in(k, stage))(keys)
    return start, metric, main, keys, (recent, main)
