"""Input checks shared by Population and Profile: each error names the bad value and the fix."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd


class UnknownBenchmarkError(KeyError):
    """A benchmark name that is not one of the population's benchmarks."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class OutOfRangeWarning(UserWarning):
    """An observed score lies far outside the population's range."""


def validate_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Check a score table and return a float copy of it (the input is never modified).

    Rows are entities, columns are benchmarks; ``NaN`` marks a missing score.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame, or has non-numeric columns.
    ValueError
        Duplicate column names, infinite values, fewer than 2 rows, a benchmark with fewer than
        2 observed scores, or a constant benchmark.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"Expected a pandas DataFrame (rows = models, columns = benchmarks), got "
            f"{type(df).__name__}. Wrap it with pd.DataFrame(...)."
        )
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if duplicated:
        raise ValueError(
            f"Duplicate benchmark column(s) {duplicated}: give each column a unique name."
        )
    non_numeric = [
        str(c)
        for c in df.columns
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])
    ]
    if non_numeric:
        raise TypeError(
            f"Non-numeric column(s) {non_numeric}: every column must hold benchmark scores. "
            "Move names to the index (df.set_index('fullname')) or select the score columns."
        )
    if len(df) < 2:
        raise ValueError(f"A population needs at least 2 rows (models); got {len(df)}.")
    values = df.to_numpy(dtype=float, na_value=np.nan)
    inf_rows, inf_cols = np.nonzero(np.isinf(values))
    if len(inf_rows):
        r, c = inf_rows[0], inf_cols[0]
        raise ValueError(
            f"Infinite score {values[r, c]} in column {df.columns[c]!r}, row {df.index[r]!r} "
            f"({len(inf_rows)} infinite value(s) in all). Replace them with NaN (missing) or a "
            "finite score."
        )
    counts = (~np.isnan(values)).sum(axis=0)
    sparse = [str(c) for c, n in zip(df.columns, counts) if n < 2]
    if sparse:
        raise ValueError(
            f"Benchmark(s) {sparse} have fewer than 2 observed scores: drop those columns."
        )
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(values, axis=0) - np.nanmin(values, axis=0)
    constant = [str(c) for c, s in zip(df.columns, spread) if s == 0]
    if constant:
        raise ValueError(
            f"Benchmark(s) {constant} are constant across the population: they carry no "
            "information about the others; drop those columns."
        )
    return pd.DataFrame(values, index=df.index.copy(), columns=[str(c) for c in df.columns])


def resolve_benchmark(feature: str | int, names: Sequence[str]) -> int:
    """Index of a benchmark given by name or integer position."""
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
        if not 0 <= int(feature) < len(names):
            raise IndexError(
                f"Benchmark index {feature} out of range for {len(names)} benchmarks "
                f"(0..{len(names) - 1})."
            )
        return int(feature)
    try:
        return list(names).index(feature)
    except ValueError:
        raise UnknownBenchmarkError(
            f"Unknown benchmark {feature!r}; known benchmarks: {sorted(names)}."
        ) from None


def check_value(feature: str, value: object) -> float:
    """An observed score as a finite float, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"Observed score for {feature!r} must be a number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(
            f"Observed score for {feature!r} is {value}: pass a finite number "
            "(leave a benchmark unobserved instead of passing NaN)."
        )
    return value


def check_level(level: float) -> float:
    """A central-interval probability in (0, 1)."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not (
        0.0 < float(level) < 1.0
    ):
        raise ValueError(f"level must be a probability in (0, 1), e.g. 0.9; got {level!r}.")
    return float(level)
