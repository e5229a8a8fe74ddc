"""Label switching in a mixture's draws, undone by pivotal relabelling.

A mixture's likelihood is the same under any permutation of its components, and so is its
posterior with exchangeable priors: the sampler may give the labels to the clusters in any
order, a different one in each chain, and may swap them between draws. Predictions do not
depend on the labels, but per-component summaries (weights, means, which cluster an entity is
in) mix clusters when the labels differ between draws.

:func:`relabel` matches each draw's components to a reference (Marin, Mengersen and Robert
2005): the reference starts as the components of the draw of highest log density (the pivot)
and becomes the posterior mean of the matched component means, until the matching stops
changing; each draw's permutation is the one minimizing the total squared distance of its
component means (standardized scale) to the reference's, found by
:func:`scipy.optimize.linear_sum_assignment`. The components are then numbered along the
ordering direction of the model (the data's first principal direction: the overall level of
a model on a leaderboard), lowest first.

An ordering constraint on the means' projection would identify the labels before sampling;
on the leaderboard it bound (two clusters at similar levels along the direction) and its
fits diverged (80 divergences at 8 components). Relabelling after sampling leaves the
posterior exchangeable and unconstrained.

References
----------
.. [1] Marin, J.-M., Mengersen, K. and Robert, C. P. (2005). Bayesian modelling and inference
   on mixtures of distributions. *Handbook of Statistics* 25, 459-507.
.. [2] Stephens, M. (2000). Dealing with label switching in mixture models. *Journal of the
   Royal Statistical Society B* 62(4), 795-809.

Examples
--------
Two chains that give the labels to the clusters in opposite orders:

>>> import xarray as xr
>>> means = np.array([[[-2.0], [2.0]], [[2.0], [-2.0]]])[:, None].repeat(3, axis=1)
>>> posterior = xr.Dataset(
...     {"mu_std": (("chain", "draw", "component", "benchmark"), means),
...      "component_weights": (("chain", "draw", "component"),
...                            np.array([[0.3, 0.7], [0.7, 0.3]])[:, None].repeat(3, 1))})
>>> permutations = matching_permutations(posterior["mu_std"].values.reshape(6, 2, 1),
...                                      pivot=0)
>>> permutations.tolist()
[[0, 1], [0, 1], [0, 1], [1, 0], [1, 0], [1, 0]]
>>> relabelled = permute_components(posterior, permutations.reshape(2, 3, 2))
>>> relabelled["component_weights"].values[:, 0].tolist()
[[0.3, 0.7], [0.3, 0.7]]
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import linear_sum_assignment

from skillinfer_bayes.models.mvn import MEAN_VAR

#: The most reference updates of :func:`matching_permutations`.
MAX_ITERATIONS = 10


def matching_permutations(means: np.ndarray, pivot: int,
                          max_iterations: int = MAX_ITERATIONS) -> np.ndarray:
    """(S, C) permutations matching each draw's components to a reference: ``means[s,
    permutations[s]]`` lists draw ``s``'s components in the reference's order.

    The reference starts as draw ``pivot``'s means and becomes the mean of the matched
    draws' means, until no permutation changes (at most ``max_iterations`` times).

    Parameters
    ----------
    means : numpy.ndarray
        (S, C, K) component means of each draw.
    pivot : int
        The draw whose components start the reference (e.g. the draw of highest density).

    Examples
    --------
    >>> means = np.array([[[0.0], [5.0]], [[5.1], [0.2]], [[-0.1], [4.8]]])
    >>> matching_permutations(means, pivot=0).tolist()
    [[0, 1], [1, 0], [0, 1]]
    """
    means = np.asarray(means, dtype=float)
    S, C, _ = means.shape
    reference = means[pivot]
    permutations = np.tile(np.arange(C), (S, 1))
    for _ in range(max_iterations):
        # cost[s, c, d]: the squared distance of draw s's component c to the reference's d
        cost = ((means[:, :, None, :] - reference[None, None, :, :]) ** 2).sum(axis=-1)
        # one small assignment per draw (C <= 8): 4,000 draws take about 20 ms
        found = np.empty_like(permutations)
        for s in range(S):
            rows, cols = linear_sum_assignment(cost[s])
            found[s, cols] = rows
        changed = not np.array_equal(found, permutations)
        permutations = found
        reference = np.take_along_axis(means, permutations[:, :, None], axis=1).mean(axis=0)
        if not changed:
            break
    return permutations


def permute_components(posterior: xr.Dataset, permutations: np.ndarray) -> xr.Dataset:
    """``posterior`` with every variable that has a ``component`` dim reordered per draw:
    component ``c`` of draw (chain, draw) becomes its component ``permutations[chain, draw,
    c]``.

    Parameters
    ----------
    posterior : xarray.Dataset
        Draws with dims ``chain``, ``draw`` (first) and, on the component-labelled
        variables, ``component``.
    permutations : numpy.ndarray
        (chains, draws, C) integer permutations.

    Examples
    --------
    >>> posterior = xr.Dataset({"w": (("chain", "draw", "component"), [[[0.2, 0.8]]]),
    ...                         "lp": (("chain", "draw"), [[-3.0]])})
    >>> swapped = permute_components(posterior, np.array([[[1, 0]]]))
    >>> swapped["w"].values.tolist(), swapped["lp"].values.tolist()
    ([[[0.8, 0.2]]], [[-3.0]])
    """
    index = xr.DataArray(np.asarray(permutations), dims=("chain", "draw", "component"))
    out = {}
    for name, values in posterior.data_vars.items():
        if "component" not in values.dims:
            out[name] = values
            continue
        moved = values.transpose("chain", "draw", "component", ...)
        taken = np.take_along_axis(
            moved.values, index.values.reshape(index.shape + (1,) * (moved.ndim - 3)), axis=2)
        out[name] = moved.copy(data=taken).transpose(*values.dims)
    return xr.Dataset(out, coords=posterior.coords, attrs=posterior.attrs)


def relabel(posterior: xr.Dataset, lp: np.ndarray | None,
            direction: np.ndarray | None = None) -> tuple[xr.Dataset, float]:
    """A mixture's draws with consistent component labels (see the module docstring), and
    the fraction of draws whose labels changed.

    Parameters
    ----------
    posterior : xarray.Dataset
        A mixture's posterior: ``mu_std`` (chain, draw, component, benchmark) and the other
        component-labelled variables.
    lp : numpy.ndarray, optional
        (chain, draw) log densities; the pivot is the draw of highest ``lp`` (the first draw
        when None).
    direction : numpy.ndarray, optional
        (K,) direction the components are numbered along, lowest projection of the mean
        first (default: the pivot's numbering).

    Returns
    -------
    tuple
        The relabelled posterior and the fraction of draws whose labels were permuted
        (before the final numbering, which is the same for every draw).

    Examples
    --------
    >>> means = np.array([[[[-2.0], [2.0]]] * 3, [[[2.0], [-2.0]]] * 3])
    >>> posterior = xr.Dataset({"mu_std": (("chain", "draw", "component", "benchmark"),
    ...                                    means)})
    >>> relabelled, switched = relabel(posterior, lp=None, direction=np.array([-1.0]))
    >>> relabelled["mu_std"].values[:, 0, :, 0].tolist(), switched
    ([[2.0, -2.0], [2.0, -2.0]], 0.5)
    """
    means = posterior[MEAN_VAR].transpose("chain", "draw", "component", ...)
    chains, draws, C = means.shape[:3]
    flat = means.values.reshape(chains * draws, C, -1)
    if lp is not None and np.shape(lp) != (chains, draws):
        raise ValueError(f"lp must hold one log density per draw, shape {(chains, draws)}; "
                         f"got shape {np.shape(lp)}. Pass sample_stats['lp'].values.")
    if direction is not None and np.shape(direction) != (flat.shape[2],):
        raise ValueError(f"direction must have one entry per benchmark, shape "
                         f"{(flat.shape[2],)}; got shape {np.shape(direction)}.")
    pivot = 0 if lp is None else int(np.nanargmax(np.asarray(lp, dtype=float).ravel()))
    permutations = matching_permutations(flat, pivot)
    switched = float(np.mean(np.any(permutations != np.arange(C), axis=1)))
    if direction is not None:  # number the matched components along the direction
        matched = np.take_along_axis(flat, permutations[:, :, None], axis=1).mean(axis=0)
        order = np.argsort(matched @ np.asarray(direction, dtype=float), kind="stable")
        permutations = permutations[:, order]
    relabelled = permute_components(posterior, permutations.reshape(chains, draws, C))
    return relabelled, switched
