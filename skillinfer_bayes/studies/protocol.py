"""The held-out protocol shared by every study: which rows, which splits, how many observed.

The protocol (fixed so results compare across papers and versions): rows with a missing score
are dropped (:func:`complete_rows`); rows are permuted with
``numpy.random.default_rng(random_seed).permutation(n)``; the first
``floor(n * test_fraction)`` permuted rows are the test models and the rest the population
that is fitted. With ``population_size``, each of ``replications`` repeats draws its own
permutation (seeded from ``numpy.random.SeedSequence(random_seed).spawn(replications)``): its
first 100 rows are the test models and the next ``population_size`` rows the fitted population
(:func:`make_splits`). :func:`~skillinfer_bayes.evaluate`,
:func:`~skillinfer_bayes.compare_priors` and :func:`~skillinfer_bayes.evaluation_curve` use it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import split_covariates, split_groups, validate_scores
from skillinfer_bayes.data.transform_choice import resolve_transforms

#: Test models per replication in small-population studies.
SMALL_POPULATION_TEST_MODELS = 100


def complete_rows(df: pd.DataFrame, groups=None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The protocol's table: validated rows with every score known, and their group labels
    (str array, or None).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> matrix, _ = complete_rows(pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0],
    ...                                         "b": [2.0, 1.0, 0.0, 5.0]}))
    >>> len(matrix)
    3
    """
    scores, labels = split_groups(df, groups)
    matrix = validate_scores(scores)
    keep = matrix.notna().all(axis=1).to_numpy()
    return matrix[keep], None if labels is None else labels.to_numpy()[keep]


def protocol_table(
    df: pd.DataFrame, groups=None, covariates=None
) -> tuple[pd.DataFrame, np.ndarray | None, pd.DataFrame | None, dict]:
    """:func:`complete_rows` with covariates: the complete score rows, their group labels,
    the same rows' covariates (NaN = unknown, allowed) and ``{covariate: transform}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [2.0, 1.0, 0.0],
    ...                    "size": [7.0, 8.0, np.nan]})
    >>> matrix, _, cov, spec = protocol_table(df, covariates={"size": "log"})
    >>> list(matrix.columns), cov["size"].tolist(), spec
    (['a', 'b'], [7.0, nan], {'size': 'log'})
    >>> protocol_table(df.assign(size=[0.0, 8.0, 5.0]), covariates={"size": "log"})
    Traceback (most recent call last):
    ...
    ValueError: transform 'log' of covariate 'size' needs positive values; it has 0 (on the ...
    """
    scores, cov, spec = split_covariates(df, covariates)
    matrix, labels = complete_rows(scores, groups)
    if cov is None:
        return matrix, labels, None, spec
    keep = validate_scores(split_groups(scores, groups)[0]).notna().all(axis=1).to_numpy()
    try:  # the held-out rows are checked as strictly as the fitted ones will be
        resolve_transforms(spec, None, cov[keep], what="covariate")
    except ValueError as err:
        raise ValueError(
            f"{err} The protocol holds out rows of this table, so every row's covariates must "
            "be valid: write an unknown value as NaN (e.g. df['params_b'].replace(0, np.nan))."
        ) from None
    return matrix, labels, cov[keep], spec


def make_splits(
    n: int,
    test_fraction: float,
    population_size: int | None,
    replications: int,
    random_seed: int,
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """The protocol's (test rows, fitted rows, fit seed) per replication (module docstring).

    Examples
    --------
    >>> [(len(t), len(f)) for t, f, _ in make_splits(500, 0.2, None, 1, 0)]
    [(100, 400)]
    >>> [(len(t), len(f)) for t, f, _ in make_splits(500, 0.2, 20, 2, 0)]
    [(100, 20), (100, 20)]
    >>> make_splits(300, 0.001, None, 1, 0)
    Traceback (most recent call last):
    ...
    ValueError: test_fraction=0.001 of 300 complete rows holds out 0 model(s) and fits 300: ...
    """
    if isinstance(replications, bool) or not isinstance(replications, (int, np.integer)) or (
        replications < 1
    ):
        raise ValueError(f"replications must be an integer >= 1; got {replications!r}.")
    if population_size is None:
        if replications != 1:
            raise ValueError(
                f"replications={replications!r} repeats a small-population study: give "
                "population_size too (the full-population protocol has one fixed split)."
            )
        if isinstance(test_fraction, bool) or not isinstance(
            test_fraction, (int, float, np.integer, np.floating)
        ) or not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction!r}.")
        n_test = math.floor(n * test_fraction)
        if not 1 <= n_test <= n - 2:
            raise ValueError(
                f"test_fraction={test_fraction!r} of {n} complete rows holds out {n_test} "
                f"model(s) and fits {n - n_test}: choose it so that at least 1 model is held "
                f"out and 2 are fitted (between {1 / n:.3g} and {(n - 2) / n:.3g})."
            )
        perm = np.random.default_rng(random_seed).permutation(n)
        return [(perm[:n_test], perm[n_test:], random_seed)]
    n_test = SMALL_POPULATION_TEST_MODELS
    if n < n_test + 2:
        raise ValueError(
            f"A small-population study holds out {n_test} test models and fits at least 2: "
            f"it needs {n_test + 2} or more complete rows; got {n}. Use the full-population "
            "protocol (population_size=None) on this table."
        )
    if isinstance(population_size, bool) or not isinstance(
        population_size, (int, np.integer)
    ) or not 2 <= population_size <= n - n_test:
        raise ValueError(
            f"population_size must be an integer between 2 and {n - n_test} (rows after the "
            f"{n_test} test models); got {population_size!r}."
        )
    splits = []
    for child in np.random.SeedSequence(random_seed).spawn(replications):
        rng = np.random.default_rng(child)
        perm = rng.permutation(n)
        seed = int(rng.integers(2**31 - 1))
        splits.append((perm[:n_test], perm[n_test : n_test + population_size], seed))
    return splits


def check_n_observed(n_observed, K: int) -> list[int]:
    """The numbers of observed benchmarks to evaluate, each in [1, K - 1].

    Examples
    --------
    >>> check_n_observed(2, K=6), check_n_observed((1, 2), K=6)
    ([2], [1, 2])
    """
    n_obs = [n_observed] if isinstance(n_observed, int) else list(n_observed)
    bad = [k for k in n_obs if not (isinstance(k, (int, np.integer)) and 1 <= k < K)]
    if bad or not n_obs:
        raise ValueError(f"n_observed must be integers in [1, {K - 1}]; got {n_observed!r}.")
    return n_obs
