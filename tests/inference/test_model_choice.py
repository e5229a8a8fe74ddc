"""The paired elpd difference against ArviZ's ``compare``, and the significance rule."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest

from skillinfer_bayes.inference.model_choice import elpd_difference, significantly_better


def _loo(log_lik: np.ndarray):
    idata = az.from_dict(posterior={"x": np.zeros(log_lik.shape[:2])},
                         log_likelihood={"y": log_lik})
    return az.loo(idata, pointwise=True)


def test_the_paired_difference_and_its_se_are_arviz_compares():
    rng = np.random.default_rng(0)
    shared = rng.normal(-1.0, 1.0, size=60)  # entities hard for one model are hard for both
    a = _loo(shared + rng.normal(0.0, 0.1, size=(2, 200, 60)))
    b = _loo(shared - 0.3 + rng.normal(0.0, 0.1, size=(2, 200, 60)))
    with warnings.catch_warnings():  # ArviZ 0.2x sorts in place, which pandas 3 deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword")
        table = az.compare({"a": a, "b": b}, ic="loo")
    diff, se = elpd_difference(np.asarray(a.loo_i), np.asarray(b.loo_i))
    assert diff == pytest.approx(table.loc["a", "elpd_loo"] - table.loc["b", "elpd_loo"])
    assert se == pytest.approx(table.loc["b", "dse"])
    assert se < 0.2 * table.loc["b", "se"]  # pairing removes the entities' shared spread


def test_a_gain_counts_only_beyond_two_paired_standard_errors():
    reference = np.zeros(100)
    offsets = np.tile([-1.0, 1.0], 50)  # var 1: the paired se is exactly 10
    assert significantly_better(reference + offsets + 0.21, reference)  # gain 21 > 20
    assert not significantly_better(reference + offsets + 0.19, reference)  # 19 < 20
    assert not significantly_better(reference, reference)  # no gain at all
    assert significantly_better(reference + offsets + 0.11, reference, threshold=1.0)


def test_pointwise_arrays_of_other_shapes_are_refused():
    with pytest.raises(ValueError, match=r"same length; got shapes \(3,\) and \(4,\)"):
        elpd_difference(np.zeros(3), np.zeros(4))
