"""The docstring examples of the computational modules run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "skillinfer_bayes.predictive.active",
    "skillinfer_bayes.studies.curves",
    "skillinfer_bayes.inference.locations",
    "skillinfer_bayes.studies.protocol",
    "skillinfer_bayes.predictive.conditioning",
    "skillinfer_bayes.datasets",
    "skillinfer_bayes.inference.diagnostics",
    "skillinfer_bayes.studies.evaluation",
    "skillinfer_bayes.inference.fitting",
    "skillinfer_bayes.inference.inference_data",
    "skillinfer_bayes.predictive.mixture",
    "skillinfer_bayes.models.mvn",
    "skillinfer_bayes.studies.parallel",
    "skillinfer_bayes.data.prepared",
    "skillinfer_bayes.predictive.prior_predictive",
    "skillinfer_bayes.models.priors",
    "skillinfer_bayes.predictive.scores",
    "skillinfer_bayes.inference.storage",
    "skillinfer_bayes.data.sufficient_stats",
    "skillinfer_bayes.data.tables",
    "skillinfer_bayes.data.checks",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
