"""The data layer: a score table checked, scaled and summarized once, as one immutable value.

:func:`prepare` turns a table into a :class:`PreparedData`: the validated matrix on the scale
the model is fitted on, the min-max scaling (``normalize=True``), the group labels, the
per-benchmark transforms to the latent scale the model is a normal on
(:mod:`~skillinfer_bayes.data.transforms`), the standardization the priors refer to and the
sufficient statistics of every missingness pattern of the latent scores. It is the only owner of
scaling, transforms and standardization: models, samplers, the fit cache, saved files and
predictions all read them from here.

Examples
--------
>>> import numpy as np, pandas as pd
>>> df = pd.DataFrame({"a": [1.0, 2.0, 4.0, np.nan], "b": [0.0, 1.0, 1.0, 3.0]})
>>> data = prepare(df, normalize=False, transform=None)  # too few rows for the copula
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
from functools import cached_property

import numpy as np
import pandas as pd

from skillinfer_bayes.data.checks import (
    check_scale,
    degenerate_columns,
    split_covariates,
    split_groups,
    validate_scores,
)
from skillinfer_bayes.data.sufficient_stats import PatternStats, pattern_stats
from skillinfer_bayes.data.transform_choice import (
    DEFAULT_BOUNDS,
    DEFAULT_TRANSFORM,
    resolve_transforms,
    scale_kind,
)
from skillinfer_bayes.data.transforms import Identity, Transform


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
    transforms : tuple
        One fitted transform per latent dimension, the benchmarks' then the covariates'
        (:mod:`~skillinfer_bayes.data.transforms`): the latent score is
        ``transforms[k].forward(x[:, k])``.
    covariates : pandas.DataFrame or None
        Columns known for free (e.g. a parameter count), aligned with ``matrix``, NaN =
        unknown: extra dimensions of the latent normal, never predicted unless asked.
    center, scale : numpy.ndarray
        (K + P,) mean and sd (ddof 1) of each latent dimension's observed values: the
        standardization the priors refer to.
    stats : tuple of PatternStats
        Sufficient statistics of the standardized latent scores per (group,) missingness
        pattern.
    """

    matrix: pd.DataFrame
    scaling: pd.DataFrame | None
    groups: pd.Series | None
    group_names: tuple[str, ...]
    group_codes: np.ndarray | None
    transforms: tuple[Transform, ...]
    covariates: pd.DataFrame | None
    center: np.ndarray
    scale: np.ndarray
    stats: tuple[PatternStats, ...]

    @classmethod
    def from_fitted(
        cls,
        matrix: pd.DataFrame,
        scaling: pd.DataFrame | None = None,
        groups: pd.Series | None = None,
        transforms: Sequence[Transform] | None = None,
        covariates: pd.DataFrame | None = None,
    ) -> PreparedData:
        """From a matrix already on the fitted scale (validated), its scaling, groups,
        fitted transforms (default: identity) and covariates."""
        width = matrix.shape[1] + (0 if covariates is None else covariates.shape[1])
        if transforms is None:
            transforms = (Identity(),) * width
        transforms = tuple(transforms)
        if len(transforms) != width:
            raise ValueError(f"{len(transforms)} transforms for {width} latent dimensions.")
        values = latent_values(_raw(matrix, covariates), transforms)
        group_names: tuple[str, ...] = ()
        codes = None
        if groups is not None:
            group_names = tuple(sorted(groups.unique()))
            codes = np.asarray(pd.Categorical(groups, list(group_names)).codes)
            codes.flags.writeable = False
        center = np.nanmean(values, axis=0)
        scale = latent_scales(values, transforms)
        for array in (center, scale):
            array.flags.writeable = False
        stats = tuple(pattern_stats(_fitted_values(values, center, scale), codes))
        return cls(matrix, scaling, groups, group_names, codes, transforms, covariates, center,
                   scale, stats)

    @property
    def benchmarks(self) -> list[str]:
        """Benchmark names (str), in column order."""
        return list(self.matrix.columns)

    @property
    def covariate_names(self) -> list[str]:
        """Covariate names (empty without covariates)."""
        return [] if self.covariates is None else list(self.covariates.columns)

    @property
    def latent_names(self) -> list[str]:
        """The latent dimensions: the benchmarks, then the covariates."""
        return self.benchmarks + self.covariate_names

    def raw_values(self) -> np.ndarray:
        """(N, K + P) scores on the fitted scale next to the covariates (NaN = missing)."""
        return _raw(self.matrix, self.covariates)

    @property
    def n_entities(self) -> int:
        """Number of entities (rows)."""
        return len(self.matrix)

    @property
    def transformed(self) -> bool:
        """Whether any benchmark has a transform other than the identity."""
        return any(t.name != "identity" for t in self.transforms)

    def latent(self) -> np.ndarray:
        """(N, K + P) latent values (each dimension's transform applied; NaN = missing)."""
        return latent_values(self.raw_values(), self.transforms)

    def fitted_latent(self) -> np.ndarray:
        """(N, K + P) the latent values the likelihood uses: :meth:`latent` with the
        dimensions of fewer than two different values masked (see :meth:`standardized`)."""
        values = self.latent()
        values[:, self.degenerate] = np.nan
        return values

    @cached_property
    def degenerate(self) -> np.ndarray:
        """(K + P,) bool, read-only: the dimensions the likelihood leaves out, in no pattern of
        :attr:`stats` (those with fewer than two different observed values:
        :func:`~skillinfer_bayes.data.checks.degenerate_columns`)."""
        flags = np.ones(len(self.center), dtype=bool)
        for pattern in self.stats:
            flags[pattern.observed] = False
        flags.flags.writeable = False
        return flags

    def log_jacobian(self) -> np.ndarray:
        """(N,) each entity's ``sum_k log g_k'(x_ik)`` over its observed values (of the
        dimensions the likelihood uses): what turns the latent log-likelihood into the
        log-likelihood of the data themselves."""
        values = np.array(self.raw_values(), dtype=float)  # a copy: masked below
        values[:, self.degenerate] = np.nan
        total = np.zeros(len(values))
        for k, transform in enumerate(self.transforms):
            observed = ~np.isnan(values[:, k])
            total[observed] += transform.log_jacobian(values[observed, k])
        return total

    def scale_kinds(self) -> list[tuple[float, float] | None]:
        """Each benchmark's :func:`~skillinfer_bayes.data.transform_choice.scale_kind` on the fitted
        scale (after ``normalize``, every benchmark is in ``(0, 1)``): benchmarks of one kind
        share the default noise's scale."""
        values = self.matrix.to_numpy(dtype=float)
        return [scale_kind(values[:, k]) for k in range(values.shape[1])]

    @cached_property
    def noise_slopes(self) -> np.ndarray:
        """(K + P,) each transform's slope ``g'`` at the median observed value (1 for the
        identity), read-only: an observation noise sd ``r`` on the data's scale is ``g' r`` on
        the latent scale."""
        values = self.raw_values()
        slopes = np.ones(values.shape[1])
        for k, transform in enumerate(self.transforms):
            if transform.name != "identity":
                slopes[k] = np.exp(transform.log_jacobian(np.nanmedian(values[:, k])))
        slopes.flags.writeable = False
        return slopes

    def transform_specs(self) -> list[dict]:
        """The transforms as :meth:`to_dict` specifications (what saved files store)."""
        return [t.to_dict() for t in self.transforms]

    @property
    def normalized(self) -> bool:
        """Whether scores were min-max scaled to [0, 1]."""
        return self.scaling is not None

    def standardized(self) -> np.ndarray:
        """(N, K) standardized latent scores ``(z - center) / scale`` that the model is fitted
        to (NaN = missing): a dimension with fewer than two different values is left out of
        the likelihood (all NaN here; see :func:`latent_scales`)."""
        return (self.fitted_latent() - self.center) / self.scale

    def scale_like(self, df: pd.DataFrame) -> pd.DataFrame:
        """A table with this data's benchmarks, validated and put on the fitted scale the way
        :func:`prepare` would (its own min-max scaling with ``normalize``)."""
        matrix = validate_scores(df)
        if self.scaling is not None:
            matrix = (matrix - matrix.min()) / normalizing_ranges(matrix)
        return matrix

    def data_hash(self) -> str:
        """SHA-256 of the fitted scores, their labels, the groups, the scaling, the
        transforms and the covariates."""
        return data_hash(self.matrix, self.groups, self.scaling, self.transforms,
                         self.covariates)


def prepare(
    df: pd.DataFrame,
    normalize: bool = True,
    groups: str | pd.Series | Sequence | None = None,
    transform: str | None | dict = DEFAULT_TRANSFORM,
    bounds: tuple[float, float] | str | dict | None = DEFAULT_BOUNDS,
    covariates: str | Sequence[str] | dict | None = None,
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
    transform : None, str or dict, default "auto"
        The transform of each benchmark to the latent scale: ``"auto"`` (chosen per benchmark,
        :func:`~skillinfer_bayes.data.transform_choice.auto_transform`), ``"copula"`` (bounds
        optional), ``"logit"`` (needs ``bounds``) or ``None`` (identity: the model is a normal
        on the scores themselves); a dict ``{benchmark: transform}`` chooses per benchmark
        (others: the default). See :mod:`~skillinfer_bayes.data.transforms` and
        :func:`~skillinfer_bayes.data.transform_choice.resolve_transforms`.
    bounds : (lower, upper), "auto", None or dict, default "auto"
        Known bounds of the scores, on the table's own scale (before ``normalize``): one pair
        for every benchmark, ``"auto"`` (:func:`~skillinfer_bayes.data.transforms.
        auto_bounds`), ``None`` or ``{benchmark: (lower, upper)}``. Scores outside given
        bounds are an error; the logit and the copula keep predictions inside them.
    covariates : str, list of str or dict, optional
        Columns of ``df`` known for free (not benchmarks): ``{column: transform}`` (e.g.
        ``{"params_b": "log"}``) or names (identity). They are extra latent dimensions,
        in the likelihood where known (NaN allowed), never min-max scaled.

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
    >>> prepare(df, transform=None).matrix["a"].tolist()  # min-max scaled
    [0.0, 0.5, 1.0]
    """
    scores, labels = split_groups(df, groups)
    scores, covariate_frame, covariate_spec = split_covariates(scores, covariates)
    matrix = validate_scores(scores)
    scaling = None
    fitted = matrix
    if normalize:
        lo = matrix.min()
        scaling = pd.DataFrame({"min": lo, "range": normalizing_ranges(matrix)})
        fitted = (matrix - lo) / scaling["range"]
    check_scale(fitted)  # before any transform is estimated from these numbers
    transforms = resolve_transforms(transform, bounds, matrix, scaling)
    if covariate_frame is not None:
        covariate_frame.index = matrix.index
        transforms += resolve_transforms(covariate_spec, None, covariate_frame,
                                         what="covariate")
    matrix = fitted
    if labels is not None:
        labels = pd.Series(labels.to_numpy(), index=matrix.index, name="group")
    return PreparedData.from_fitted(matrix, scaling, labels, transforms, covariate_frame)


def normalizing_ranges(matrix: pd.DataFrame) -> pd.Series:
    """The range each benchmark is divided by under ``normalize=True``: its max - min, or, for
    a benchmark with fewer than two different scores (which has no range), the width of its
    kind of scale (100 for a score within 0-100, 1 within 0-1:
    :func:`~skillinfer_bayes.data.transform_choice.scale_kind`), else the median range of the
    others, so that its normalized scale is comparable with theirs.

    Examples
    --------
    >>> table = pd.DataFrame({"a": [10.0, 60.0, 90.0], "b": [55.0, np.nan, np.nan],
    ...                       "c": [1210.0, np.nan, 1210.0]})
    >>> normalizing_ranges(table).tolist()
    [80.0, 100.0, 80.0]
    """
    lo, hi = matrix.min(), matrix.max()
    span = (hi - lo).astype(float)
    flat = ~(hi > lo)
    if flat.any():
        others = span[~flat]
        fallback = float(others.median()) if len(others) else 1.0
        for name in span.index[flat]:
            kind = scale_kind(matrix[name].to_numpy(dtype=float))
            span[name] = kind[1] - kind[0] if kind is not None else fallback
    return span


#: The prior scale of a logit-scale dimension whose data cannot tell its spread (one score,
#: or equal ones) and that no other dimension's spread stands in for: a latent sd of 1 spans
#: about 25% to 75% of the bounds' range within one sd.
FALLBACK_LOGIT_SCALE = 1.0


def latent_scales(values: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """(K,) the standardization's scale of each latent dimension: the sd (ddof 1) of its
    observed latent values or, for a dimension with fewer than two different values (a new
    benchmark with one score, :func:`~skillinfer_bayes.data.checks.degenerate_columns`), a
    prior scale: the median sd of the other dimensions of its kind (the same transform and
    bounds; for the identity, scores inside the same ``(0, 1)`` or ``(0, 100)``), else 1 on a
    logit scale (:data:`FALLBACK_LOGIT_SCALE`), else half the value's magnitude (at least 1).
    Its predictions then carry the prior's uncertainty about its spread: its values only
    centre its prior (:meth:`PreparedData.standardized` leaves them out of the likelihood).

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Identity
    >>> values = np.array([[10.0, 20.0, 1210.0, 1300.0], [30.0, np.nan, 1290.0, np.nan],
    ...                    [50.0, np.nan, 1250.0, np.nan]])
    >>> latent_scales(values, [Identity()] * 4).round(1).tolist()  # b borrows a's sd
    [20.0, 20.0, 40.0, 650.0]
    """
    values = np.asarray(values, dtype=float)
    degenerate = degenerate_columns(values)
    scale = np.full(values.shape[1], np.nan)
    scale[~degenerate] = np.nanstd(values[:, ~degenerate], axis=0, ddof=1)
    if not degenerate.any():
        return scale

    def kind(j: int) -> tuple | None:
        """Dimensions of one kind share a scale: the same transform and bounds, or for the
        identity, the same :func:`~skillinfer_bayes.data.transform_choice.scale_kind` (unbounded
        ones share nothing)."""
        t = transforms[j]
        if t.name != "identity":
            return (t.name, tuple(float(b) for b in t.bounds))
        common = scale_kind(values[:, j])
        return None if common is None else ("identity", common)

    for k in np.flatnonzero(degenerate):
        own = kind(k)
        peers = [scale[j] for j in range(len(transforms))
                 if own is not None and not degenerate[j] and kind(j) == own]
        if peers:
            scale[k] = float(np.median(peers))
        elif transforms[k].name in ("logit", "copula"):
            scale[k] = FALLBACK_LOGIT_SCALE
        else:
            scale[k] = max(abs(float(np.nanmean(values[:, k]))), 1.0) / 2.0
    return scale


def _fitted_values(values: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Standardized latent values, a dimension with fewer than two different values masked:
    its equal scores would pull its sd to 0, where the likelihood grows without bound (a
    spike NUTS cannot sample), so they only centre its prior."""
    standardized = (values - center) / scale
    standardized[:, degenerate_columns(values)] = np.nan
    return standardized


def _raw(matrix: pd.DataFrame, covariates: pd.DataFrame | None) -> np.ndarray:
    """The scores next to the covariates, as one float array."""
    values = matrix.to_numpy(dtype=float)
    if covariates is None:
        return values
    return np.column_stack([values, covariates.to_numpy(dtype=float)])


def latent_values(values: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """(..., K) latent values: each column (last axis) through its transform (NaN stays NaN).

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Identity, Log
    >>> latent_values(np.array([[2.0, np.e], [3.0, np.nan]]), [Identity(), Log()]).tolist()
    [[2.0, 1.0], [3.0, nan]]
    """
    out = np.array(values, dtype=float)
    for k, transform in enumerate(transforms):
        if transform.name != "identity":
            observed = ~np.isnan(out[..., k])
            out[..., k][observed] = transform.forward(out[..., k][observed])
    return out


def score_values(latent: np.ndarray, transforms: Sequence[Transform]) -> np.ndarray:
    """(..., K) values on the data's scale: each latent column (last axis) through its
    transform's inverse (the inverse of :func:`latent_values`).

    Examples
    --------
    >>> from skillinfer_bayes.data.transforms import Identity, Log
    >>> score_values(np.array([[2.0, 0.0]]), [Identity(), Log()]).tolist()
    [[2.0, 1.0]]
    """
    out = np.array(latent, dtype=float)
    for k, transform in enumerate(transforms):
        if transform.name != "identity":
            out[..., k] = transform.inverse(out[..., k])
    return out


def data_hash(matrix: pd.DataFrame, groups: pd.Series | None = None,
              scaling: pd.DataFrame | None = None,
              transforms: Sequence[Transform] | None = None,
              covariates: pd.DataFrame | None = None) -> str:
    """SHA-256 of the fitted scores, their labels, the groups, the scaling and the transforms
    (identity transforms leave the hash as it was before transforms existed).

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
    if transforms is not None and any(t.name != "identity" for t in transforms):
        h.update(json.dumps([t.to_dict() for t in transforms]).encode())
    if covariates is not None:
        h.update(np.ascontiguousarray(covariates.to_numpy(dtype=float)).tobytes())
        h.update(json.dumps([str(c) for c in covariates.columns]).encode())
    return h.hexdigest()
