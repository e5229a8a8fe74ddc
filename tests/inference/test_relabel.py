"""Pivotal relabelling: the matching against an exhaustive search over permutations, and the
relabelled draws of label-switched chains."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr

from skillinfer_bayes.inference.relabel import (
    matching_permutations,
    permute_components,
    relabel,
)


def test_each_draw_gets_the_permutation_of_least_squared_distance():
    """One matching step against the exhaustive search over the C! permutations."""
    rng = np.random.default_rng(0)
    S, C, K = 200, 4, 3
    means = rng.normal(size=(S, C, K)) * 2.0
    got = matching_permutations(means, pivot=7, max_iterations=1)
    reference = means[7]
    for s in range(S):
        costs = {p: ((means[s, list(p)] - reference) ** 2).sum()
                 for p in itertools.permutations(range(C))}
        best = min(costs, key=costs.get)
        assert costs[tuple(got[s])] == min(costs.values()), (s, best, got[s])


def test_scrambled_labels_are_restored():
    """Well-separated clusters, each draw's labels scrambled at random: relabelling recovers
    the clusters in every draw, numbered along the direction."""
    rng = np.random.default_rng(1)
    chains, draws, C, K = 3, 100, 3, 2
    centres = np.array([[0.0, 0.0], [4.0, 1.0], [-4.0, 2.0]])
    means = centres + rng.normal(scale=0.3, size=(chains, draws, C, K))
    weights = np.array([0.2, 0.3, 0.5]) + rng.normal(scale=0.01, size=(chains, draws, C))
    scramble = np.array([rng.permutation(C) for _ in range(chains * draws)])
    scramble = scramble.reshape(chains, draws, C)
    posterior = xr.Dataset(
        {"mu_std": (("chain", "draw", "component", "benchmark"), means),
         "component_weights": (("chain", "draw", "component"), weights),
         "other": (("chain", "draw"), rng.normal(size=(chains, draws)))},
        coords={"component": range(C)})
    scrambled = permute_components(posterior, scramble)
    assert np.array_equal(scrambled["other"].values, posterior["other"].values)
    lp = rng.normal(size=(chains, draws))
    relabelled, switched = relabel(scrambled, lp, direction=np.array([1.0, 0.0]))
    assert 0.5 < switched <= 1.0  # 5 of the 6 permutations move a label
    # numbered along (1, 0): the clusters at x = -4, 0, 4
    order = [2, 0, 1]
    np.testing.assert_array_equal(relabelled["component_weights"].values,
                                  weights[:, :, order])
    np.testing.assert_array_equal(relabelled["mu_std"].values, means[:, :, order])


def test_consistent_labels_are_left_alone():
    rng = np.random.default_rng(2)
    means = np.array([[-3.0], [3.0]]) + rng.normal(scale=0.2, size=(2, 50, 2, 1))
    posterior = xr.Dataset({"mu_std": (("chain", "draw", "component", "benchmark"), means)})
    relabelled, switched = relabel(posterior, lp=None, direction=np.array([1.0]))
    assert switched == 0.0
    np.testing.assert_array_equal(relabelled["mu_std"].values, means)


def test_bad_inputs_get_clear_errors():
    means = np.zeros((2, 5, 2, 3))
    posterior = xr.Dataset({"mu_std": (("chain", "draw", "component", "benchmark"), means)})
    with pytest.raises(ValueError, match=r"lp must hold one log density per draw, shape "
                                         r"\(2, 5\); got shape \(10,\)"):
        relabel(posterior, lp=np.zeros(10))
    with pytest.raises(ValueError, match=r"direction must have one entry per benchmark, "
                                         r"shape \(3,\); got shape \(2,\)"):
        relabel(posterior, lp=None, direction=np.ones(2))
