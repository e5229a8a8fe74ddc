"""Scores of normal mixtures: the component pairs of the CRPS spread term drawn from weights."""

from __future__ import annotations

import numpy as np
import pytest

from skillinfer_bayes.predictive.scores import weighted_pairs


def test_weighted_pairs_follow_each_rows_weights():
    weights = np.array([[0.7, 0.0, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 3.0]])
    s, t = weighted_pairs(weights, 20000, np.random.default_rng(0))
    assert s.shape == t.shape == (3, 20000)
    for row, w in enumerate(weights / weights.sum(axis=1, keepdims=True)):
        for index in (s[row], t[row]):
            share = np.bincount(index, minlength=4) / index.size
            np.testing.assert_allclose(share, w, atol=0.015)
    assert not np.array_equal(s, t)  # two independent draws


@pytest.mark.parametrize("weights", [np.array([[0.5, 0.5], [0.0, 0.0]]),
                                     np.array([[0.5, -0.1]]), np.array([[np.nan, 1.0]]),
                                     np.array([0.5, 0.5])])
def test_weighted_pairs_refuse_weights_that_are_not_distributions(weights):
    with pytest.raises(ValueError, match="finite, non-negative weights with a positive sum"):
        weighted_pairs(weights, 10, np.random.default_rng(0))
