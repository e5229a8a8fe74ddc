"""The docstring examples of the computational modules run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "skillinfer_bayes.active",
    "skillinfer_bayes.curves",
    "skillinfer_bayes.locations",
    "skillinfer_bayes.protocol",
    "skillinfer_bayes.conditioning",
    "skillinfer_bayes.datasets",
    "skillinfer_bayes.diagnostics",
    "skillinfer_bayes.evaluation",
    "skillinfer_bayes.fitting",
    "skillinfer_bayes.inference_data",
    "skillinfer_bayes.mixture",
    "skillinfer_bayes.model",
    "skillinfer_bayes.parallel",
    "skillinfer_bayes.prepared",
    "skillinfer_bayes.prior_predictive",
    "skillinfer_bayes.priors",
    "skillinfer_bayes.scores",
    "skillinfer_bayes.storage",
    "skillinfer_bayes.sufficient_stats",
    "skillinfer_bayes.tables",
    "skillinfer_bayes.validation",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
