"""The data layer: a score table checked, scaled and summarized once, as one immutable value.

:func:`prepare` turns a table into a :class:`PreparedData`: the validated matrix on the scale
the model is fitted on, the min-max scaling (``normalize=True``), the group labels, the
standardization the priors refer to and the sufficient statistics of every missingness pattern.
It is the only owner of scaling and standardization: models, samplers, the fit cache, saved
files and predictions all read them from here (per-benchmark transforms and covariates will
live here too).

Examples
--------
>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"a": [1.0, 2.0, 4.0, np.nan], "b": [0.0, 1.0, 1.0, 3.0]})
>>> data = prepare(df, normalize=False)
>>> data.benchmarks, data.n_entities, len(data.stats)
(['a', 'b'], 4, 2)
>>> data.center.round(3).tolist()
[2.333, 1.25]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import check_scale, split_groups, validate_scores
from skillinfer_bayes.data.sufficient_stats import PatternStats, pattern_stats


@dataclass(frozen=True, eq=False)
class PreparedData:
    """A validated score table on the fitted scale, with everything derived from it.

    Build it with :func:`prepare` (from a user's table) or :meth:`from_fitted` (from a matrix
    already on the fitted scale, e.g. a saved file's). Its arrays are read-only.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Entities x benchmarks on the fitted scale (after ``normalize``), NaN = missing.
    scaling : pandas.DataFrame or None
        With ``normalize=True``, each benchmark's ``min`` and ``range`` (scores were mapped to
        ``(x - min) / range``).
    groups : pandas.Series or None
        Each entity's group label (str), aligned with ``matrix``.
    group_names : tuple of str
        The groups, sorted (empty without groups).
    group_codes : numpy.ndarray or None
        (N,) index of each entity's group in ``group_names``.
    center, scale : numpy.ndarray
        (K,) mean and sd (ddof 1) of each benchmark's observed scores: the standardization
        the priors refer to.
    stats : tuple of PatternStats
        Sufficient statistics of the standardized scores per (group,) missingness pattern.
    """

    matrix: pd.DataFrame
    scaling: pd.DataFrame | None
    groups: pd.Series | None
    group_names: tuple[str, ...]
    group_codes: np.ndarray | None
    center: np.ndarray
    scale: np.ndarray
    stats: tuple[PatternStats, ...]

    @classmethod
    def from_fitted(
        cls,
        matrix: pd.DataFrame,
        scaling: pd.DataFrame | None = None,
        groups: pd.Series | None = None,
    ) -> PreparedData:
        """From a matrix already on the fitted scale (validated), its scaling and groups."""
        values = matrix.to_numpy(dtype=float)
        group_names: tuple[str, ...] = ()
        codes = None
        if groups is not None:
            group_names = tuple(sorted(groups.unique()))
            codes = np.asarray(pd.Categorical(groups, list(group_names)).codes)
            codes.flags.writeable = False
        center = np.nanmean(values, axis=0)
        scale = np.nanstd(values, axis=0, ddof=1)
        for array in (center, scale):
            array.flags.writeable = False
        stats = tuple(pattern_stats((values - center) / scale, codes))
        return cls(matrix, scaling, groups, group_names, codes, center, scale, stats)

    @property
    def benchmarks(self) -> list[str]:
        """Benchmark names (str), in column order."""
        return list(self.matrix.columns)

    @property
    def n_entities(self) -> int:
        """Number of entities (rows)."""
        return len(self.matrix)

    @property
    def normalized(self) -> bool:
        """Whether scores were min-max scaled to [0, 1]."""
        return self.scaling is not None

    def standardized(self) -> np.ndarray:
        """(N, K) standardized scores ``(x - center) / scale`` (NaN = missing)."""
        return (self.matrix.to_numpy(dtype=float) - self.center) / self.scale

    def scale_like(self, df: pd.DataFrame) -> pd.DataFrame:
        """A table with this data's benchmarks, validated and put on the fitted scale the way
        :func:`prepare` would (its own min-max scaling with ``normalize``)."""
        matrix = validate_scores(df)
        if self.scaling is not None:
            lo, hi = matrix.min(), matrix.max()
            matrix = (matrix - lo) / (hi - lo)
        return matrix

    def data_hash(self) -> str:
        """SHA-256 of the fitted scores, their labels, the groups and the scaling."""
        return data_hash(self.matrix, self.groups, self.scaling)


def prepare(
    df: pd.DataFrame,
    normalize: bool = True,
    groups: str | pd.Series | Sequence | None = None,
) -> PreparedData:
    """Check a score table and derive everything a fit needs (see :class:`PreparedData`).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows = entities, columns = benchmarks (numeric; NaN = missing). Not modified.
    normalize : bool, default True
        Min-max scale each benchmark to [0, 1] (as ``skillinfer`` does).
    groups : str, pandas.Series or array-like, optional
        Each entity's group: a column of ``df`` (then not a benchmark), a Series indexed like
        ``df`` or N labels.

    Returns
    -------
    PreparedData

    Raises
    ------
    TypeError, ValueError
        A table the model cannot use, with the bad value and the fix (see
        :func:`~skillinfer_bayes.data.checks.validate_scores` and
        :func:`~skillinfer_bayes.data.checks.check_scale`).

    Examples
    --------
    >>> df = pd.DataFrame({"a": [10.0, 20.0, 30.0], "b": [1.0, 0.0, 2.0]})
    >>> prepare(df).matrix["a"].tolist()  # min-max scaled
    [0.0, 0.5, 1.0]
    """
    scores, labels = split_groups(df, groups)
    matrix = validate_scores(scores)
    scaling = None
    if normalize:
        lo, hi = matrix.min(), matrix.max()
        scaling = pd.DataFrame({"min": lo, "range": hi - lo})
        matrix = (matrix - lo) / (hi - lo)
    check_scale(matrix)
    if labels is not None:
        labels = pd.Series(labels.to_numpy(), index=matrix.index, name="group")
    return PreparedData.from_fitted(matrix, scaling, labels)


def data_hash(matrix: pd.DataFrame, groups: pd.Series | None = None,
              scaling: pd.DataFrame | None = None) -> str:
    """SHA-256 of the fitted scores, their labels, the groups and the scaling.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"x": [1.0, 2.0]}, index=["m0", "m1"])
    >>> data_hash(a) == data_hash(a.copy()), data_hash(a) == data_hash(a * 2)
    (True, False)
    """
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(matrix.to_numpy(dtype=float)).tobytes())
    h.update(json.dumps([str(c) for c in matrix.columns]).encode())
    h.update(json.dumps([str(i) for i in matrix.index]).encode())
    if groups is not None:
        h.update(json.dumps([str(g) for g in groups]).encode())
    if scaling is not None:
        h.update(np.ascontiguousarray(scaling.to_numpy(dtype=float)).tobytes())
    return h.hexdigest()
