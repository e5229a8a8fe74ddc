"""Input checks shared by Population and Profile: each error names the bad value and the fix."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: Smallest and largest benchmark sd and score magnitude the model accepts (see
#: :func:`check_scale`).
SCALE_LIMITS = (1e-50, 1e50)


class UnknownBenchmarkError(KeyError):
    """A benchmark name that is not one of the population's benchmarks."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class OutOfRangeWarning(UserWarning):
    """An observed score (or covariate, or prior mean) lies outside the population's observed
    range: the prediction extrapolates. The message says how far, in latent sds."""


class OutOfBoundsWarning(OutOfRangeWarning):
    """An observed score lies beyond bounds that were inferred from the population's scores
    (``bounds="auto"``), not given: it is read as a score on the bound."""


#: Fewest observed scores, all equal, that make a benchmark "constant" (an error); fewer equal
#: scores are a sparse benchmark that is fitted.
MIN_CONSTANT_SCORES = 5


def degenerate_columns(values: np.ndarray) -> np.ndarray:
    """(K,) bool: columns with fewer than two different observed values (one score, or a few
    equal ones), whose spread the data cannot tell (:class:`~skillinfer_bayes.data.prepared.
    PreparedData` gives them a prior scale).

    Examples
    --------
    >>> degenerate_columns(np.array([[1.0, 2.0, np.nan], [1.0, 3.0, 5.0]])).tolist()
    [True, False, True]
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    return ~(hi > lo)


def validate_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Check a score table and return a float copy of it (the input is never modified).

    Rows are entities, columns are benchmarks; ``NaN`` marks a missing score.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame, or has non-numeric columns.
    ValueError
        Duplicate column names, infinite values, fewer than 2 rows, a benchmark with no
        observed score, or a constant benchmark (at least :data:`MIN_CONSTANT_SCORES` scores,
        all equal). A benchmark with one score, or a few equal ones, is accepted: a new
        benchmark starts with few models (see :func:`degenerate_columns`).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"Expected a pandas DataFrame (rows = models, columns = benchmarks), got "
            f"{type(df).__name__}. Wrap it with pd.DataFrame(...)."
        )
    names = pd.Index([str(c) for c in df.columns])
    duplicated = sorted(set(names[names.duplicated()]))
    if duplicated:
        raise ValueError(
            f"Duplicate benchmark column(s) {duplicated} (benchmark names are the columns' "
            "str forms: 2 and '2' are one name): give each column a unique name."
        )
    non_numeric = [
        c
        for c in df.columns
        if not _numeric_column(df[c])
    ]
    if non_numeric:
        raise TypeError(
            f"Non-numeric column(s) {[str(c) for c in non_numeric]}"
            f"{_first_bad_cell(df, non_numeric)}: every column must hold benchmark scores. "
            "Move names to the index (df.set_index('fullname')), select the score columns, "
            "or fix the cell (a missing score is an empty cell or NaN)."
        )
    if len(df) < 2:
        raise ValueError(f"A population needs at least 2 rows (models); got {len(df)}.")
    values = df.to_numpy(dtype=float, na_value=np.nan)
    inf_rows, inf_cols = np.nonzero(np.isinf(values))
    if len(inf_rows):
        r, c = inf_rows[0], inf_cols[0]
        raise ValueError(
            f"Infinite score {values[r, c]} in column {names[c]!r}, row {_label(df.index[r])!r} "
            f"({len(inf_rows)} infinite value(s) in all). Replace them with NaN (missing) or a "
            "finite score."
        )
    counts = (~np.isnan(values)).sum(axis=0)
    empty = [str(c) for c, n in zip(df.columns, counts) if n == 0]
    if empty:
        raise ValueError(
            f"Benchmark(s) {empty} have no observed score: drop those columns (a benchmark "
            "with one known score is fitted; its predictions carry the prior's uncertainty)."
        )
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(values, axis=0) - np.nanmin(values, axis=0)
    constant = [f"{str(c)!r} ({n} scores, all {values[~np.isnan(values[:, j]), j][0]:g})"
                for j, (c, s, n) in enumerate(zip(df.columns, spread, counts))
                if s == 0 and n >= MIN_CONSTANT_SCORES]
    if constant:
        raise ValueError(
            f"Benchmark(s) {', '.join(constant)} are constant across the population: they carry "
            "no information about the others; drop those columns."
        )
    return pd.DataFrame(values, index=df.index.copy(), columns=list(names))


def _label(value: object) -> object:
    """A row label as the user wrote it (``5``, not ``np.int64(5)``)."""
    return value.item() if isinstance(value, np.generic) else value


#: What pandas infers for an object column of numbers (and missing values) only.
_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "decimal", "empty"}


def _numeric_column(column: pd.Series) -> bool:
    """Scores: a numeric dtype (not bool), or an object column of numbers and missing values
    only (text such as ``"59.1"`` or ``"59.1%"`` is never read as a number)."""
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    if column.dtype != object:
        return False
    return pd.api.types.infer_dtype(column, skipna=True) in _NUMBER_KINDS


def _first_bad_cell(df: pd.DataFrame, columns: Sequence) -> str:
    """``", e.g. '59.1%' in column 'BBH', row 'm3'"``: the first cell of ``columns`` that is
    not a number (nor missing), or ``""`` when each column is non-numeric as a whole."""
    for c in columns:
        column = df[c]
        if pd.api.types.is_bool_dtype(column):
            return f" (column {str(c)!r} holds True/False, not scores)"
        numbers = pd.to_numeric(column, errors="coerce")
        bad = numbers.isna() & column.notna()
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            return (f", e.g. {column.iloc[row]!r} in column {str(c)!r}, row "
                    f"{_label(df.index[row])!r}")
    return ""


def check_scale(matrix: pd.DataFrame) -> None:
    """Refuse scores whose magnitude float64 cannot carry through the model.

    Covariances are squares of the scores' spread and the conditioning divides by them:
    benchmarks whose sd or magnitude lies outside ``[1e-50, 1e50]`` would overflow to
    inf or underflow to 0 somewhere (all-NaN predictions, or every expected variance reduction
    0: products of covariances are fourth powers of the scale). Rescale such columns, or fit
    with ``normalize=True``.

    Examples
    --------
    >>> check_scale(pd.DataFrame({"a": [1e60, 2e60]}))
    Traceback (most recent call last):
    ...
    ValueError: Benchmark 'a' has scores of magnitude 2e+60 with sd 5e+59: outside [1e-50, ...
    """
    values = matrix.to_numpy(dtype=float)
    degenerate = degenerate_columns(values)
    with np.errstate(invalid="ignore", over="ignore"):
        sd = np.nanstd(values, axis=0)
        biggest = np.nanmax(np.abs(values), axis=0)
    for j, name in enumerate(matrix.columns):
        small = not degenerate[j] and sd[j] < SCALE_LIMITS[0]
        if small or sd[j] > SCALE_LIMITS[1] or biggest[j] > SCALE_LIMITS[1]:
            raise ValueError(
                f"Benchmark {str(name)!r} has scores of magnitude {biggest[j]:.3g} with sd "
                f"{sd[j]:.3g}: outside [{SCALE_LIMITS[0]:g}, {SCALE_LIMITS[1]:g}], where "
                "float64 covariances overflow or underflow. Rescale that column (e.g. to "
                "percent) or fit with normalize=True."
            )


def check_positive_int(name: str, value: object) -> int:
    """An integer >= 1 (bools, floats and strings are refused).

    Examples
    --------
    >>> check_positive_int("draws", 500)
    500
    >>> check_positive_int("draws", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: draws must be a positive integer, e.g. 2; got 1.5.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, e.g. 2; got {value!r}.")
    return int(value)


def check_seed(random_seed: object) -> int | None:
    """A random seed: ``None`` or an integer >= 0 (``0.5`` is not silently seed 0).

    Examples
    --------
    >>> check_seed(np.int64(3)), check_seed(None)
    (3, None)
    """
    if random_seed is None:
        return None
    if (
        isinstance(random_seed, bool)
        or not isinstance(random_seed, (int, np.integer))
        or random_seed < 0
    ):
        raise ValueError(
            f"random_seed must be None or an integer >= 0, e.g. 0; got {random_seed!r}."
        )
    return int(random_seed)


def check_noise(
    noise: object, names: Sequence[str], default: np.ndarray | None = None
) -> np.ndarray:
    """Observation noise sds as a (K,) array, from a number, K numbers or ``{benchmark: sd}``
    (benchmarks a dict leaves out get their ``default``, 0 without one).

    Examples
    --------
    >>> check_noise(0.5, ["a", "b"]).tolist(), check_noise({"b": 2}, ["a", "b"], [1, 1]).tolist()
    ([0.5, 0.5], [1.0, 2.0])
    """
    K = len(names)
    if isinstance(noise, Mapping):
        sds = np.zeros(K) if default is None else np.array(default, dtype=float)
        for benchmark, value in noise.items():
            sds[resolve_benchmark(benchmark, names)] = _noise_value(value, noise)
        return sds
    if isinstance(noise, pd.Series):
        return check_noise(noise.to_dict(), names, default)
    if _is_number(noise):
        return np.full(K, _noise_value(noise, noise))
    try:
        values = [_noise_value(v, noise) for v in noise]  # type: ignore[union-attr]
    except TypeError:
        values = None
    if values is None or len(values) != K:
        raise ValueError(
            f"noise must be a finite sd >= 0, {K} of them (one per benchmark) or a dict "
            f"{{benchmark: sd}}; got {noise!r}."
        )
    return np.asarray(values, dtype=float)


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer,
                                                              np.floating))


def _noise_value(value: object, noise: object) -> float:
    if not _is_number(value) or not (np.isfinite(value) and value >= 0):
        raise ValueError(
            f"noise must be a finite sd >= 0 (a number, one per benchmark, or a dict "
            f"{{benchmark: sd}}); got {noise!r}."
        )
    return float(value)


def resolve_benchmark(benchmark: str | int, names: Sequence[str]) -> int:
    """Index of a benchmark given by name or integer position.

    Names come first: benchmark names are strings, and an integer that is the name of a
    benchmark (a table whose columns were the integers ``[2, 0, 1]`` has the names ``"2"``,
    ``"0"``, ``"1"``) means that benchmark, as a label does in pandas; any other integer is a
    position.

    Examples
    --------
    >>> resolve_benchmark(0, ["2", "0", "1"]), resolve_benchmark(1, ["a", "b"])
    (1, 1)
    """
    if isinstance(benchmark, (int, np.integer)) and not isinstance(benchmark, bool):
        if str(int(benchmark)) in names:
            return list(names).index(str(int(benchmark)))
        if not 0 <= int(benchmark) < len(names):
            raise IndexError(
                f"Benchmark index {benchmark} out of range for {len(names)} benchmarks "
                f"(0..{len(names) - 1})."
            )
        return int(benchmark)
    try:
        return list(names).index(benchmark)
    except (ValueError, TypeError):
        raise UnknownBenchmarkError(
            f"Unknown benchmark {benchmark!r}; known benchmarks: {sorted(names)}."
        ) from None


def check_value(benchmark: str, value: object) -> float:
    """An observed score as a finite float, or a clear error."""
    if not _is_number(value):
        raise TypeError(f"Observed score for {benchmark!r} must be a number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(
            f"Observed score for {benchmark!r} is {value}: pass a finite number "
            "(leave a benchmark unobserved instead of passing NaN)."
        )
    return value


def check_level(level: float) -> float:
    """A central-interval probability in (0, 1)."""
    if not _is_number(level) or not (
        0.0 < float(level) < 1.0
    ):
        raise ValueError(f"level must be a probability in (0, 1), e.g. 0.9; got {level!r}.")
    return float(level)


def split_groups(df: pd.DataFrame, groups) -> tuple[pd.DataFrame, pd.Series | None]:
    """Separate the group labels from the scores; labels become str, aligned with ``df``.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1.0, 2.0], "family": ["x", 1]})
    >>> scores, labels = split_groups(df, "family")
    >>> list(scores.columns), labels.tolist()
    (['a'], ['x', '1'])
    """
    if groups is None:
        return df, None
    if isinstance(groups, str):
        if not isinstance(df, pd.DataFrame) or groups not in df.columns:
            columns = sorted(map(str, getattr(df, "columns", [])))
            raise ValueError(f"groups={groups!r} is not a column of df; columns: {columns}.")
        labels = df[groups]
        df = df.drop(columns=groups)
    elif isinstance(groups, pd.Series):
        if not isinstance(df, pd.DataFrame) or not groups.index.equals(df.index):
            raise ValueError(
                "groups (a Series) must have the same index as df, in the same order; use "
                "groups.reindex(df.index) or pass a plain sequence of labels."
            )
        labels = groups
    else:
        labels = list(groups)
        if len(labels) != len(df):
            raise ValueError(
                f"groups has {len(labels)} labels for {len(df)} rows of df; give one per row."
            )
        labels = pd.Series(labels, index=getattr(df, "index", None))
    missing = int(labels.isna().sum())
    if missing:
        raise ValueError(
            f"groups has {missing} missing label(s); give every entity a group "
            "(e.g. fill them with 'unknown')."
        )
    return df, labels.astype(str).rename("group")


def split_covariates(
    df: pd.DataFrame, covariates
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    """Separate covariate columns (known for free, e.g. a parameter count) from the scores.

    ``covariates`` is ``None``, a column name, a list of them, or ``{column: transform}``
    (a listed column's transform is ``None``: the identity). Returns the scores, the
    covariates as floats (NaN = unknown) and ``{column: transform}``.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1.0, 2.0], "params": [7, 70]})
    >>> scores, cov, spec = split_covariates(df, {"params": "log"})
    >>> list(scores.columns), cov["params"].tolist(), spec
    (['a'], [7.0, 70.0], {'params': 'log'})
    """
    if covariates is None:
        return df, None, {}
    if isinstance(covariates, str):
        covariates = [covariates]
    spec = (dict(covariates) if isinstance(covariates, Mapping)
            else dict.fromkeys(covariates))
    if not spec:
        return df, None, {}
    columns = [str(c) for c in getattr(df, "columns", [])]
    unknown = [name for name in spec if str(name) not in columns]
    if unknown:
        raise ValueError(f"covariate(s) {unknown} are not columns of df; columns: "
                         f"{sorted(columns)}.")
    names = [c for c in df.columns if str(c) in {str(n) for n in spec}]
    frame = df[names].copy()
    for name in names:
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() & frame[name].notna()
        if bad.any():
            raise ValueError(
                f"covariate {str(name)!r} must be numeric; it holds "
                f"{frame[name][bad].iloc[0]!r} (row {frame.index[bad][0]!r})."
            )
        if np.isinf(values).any():
            raise ValueError(f"covariate {str(name)!r} holds an infinite value; use NaN for "
                             "unknown.")
        if values.notna().sum() < 2 or values.nunique() < 2:
            raise ValueError(
                f"covariate {str(name)!r} needs at least 2 different known values; it has "
                f"{int(values.notna().sum())} known, {int(values.nunique())} distinct. Leave it "
                "out, or give the population models where it varies."
            )
        frame[name] = values.astype(float)
    frame.columns = [str(c) for c in names]
    return df.drop(columns=names), frame, {str(k): v for k, v in spec.items()}


def check_fields(cls, data) -> dict:
    """``data`` as the keyword arguments of the dataclass ``cls``: a mapping whose keys are
    all fields of ``cls`` (what every ``from_dict`` checks), or an error that names the unknown
    keys and the valid ones.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Point:
    ...     x: float = 0.0
    >>> check_fields(Point, {"y": 1.0})
    Traceback (most recent call last):
    ...
    ValueError: Unknown Point field(s) ['y']; valid fields are ['x'].
    """
    known = sorted(cls.__dataclass_fields__)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"Unknown {cls.__name__} field(s) {unknown}; valid fields are "
                         f"{known}.")
    return dict(data)
