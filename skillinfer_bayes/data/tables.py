"""Reading score tables from files: the one path shared by the Python API and the CLI.

:meth:`Population.from_csv`, :meth:`Population.from_parquet` and ``skillinfer-bayes --data``
all read through :func:`read_table`, so a file gives the same table, with the same row labels
and the same strictness, whichever way it is fitted.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO

import pandas as pd

#: File suffixes :func:`read_table` recognizes (CSV possibly compressed).
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".csv.zst")
PARQUET_SUFFIXES = (".parquet", ".pq")
FORMATS = ("csv", "parquet")
#: The header pandas gives a column that had none (the index that ``df.to_csv()`` writes).
_UNNAMED = re.compile(r"^Unnamed: \d+$")


def read_table(
    path: str | os.PathLike | IO,
    index_col: int | str | None = 0,
    format: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet score table (rows = models, columns = benchmarks).

    Parameters
    ----------
    path : str, path-like or file-like
        The table: a local file (``~`` is expanded), a URL pandas understands (e.g.
        ``hf://``), or an open file (CSV).
    index_col : int, str or None, default 0
        The column that names the models: a position or a column name. The default ``0`` is
        the first column of the file: for CSV the one ``DataFrame.to_csv()`` writes, for
        Parquet the index ``DataFrame.to_parquet()`` stores. A first CSV column that has a
        header and holds numbers is refused rather than taken for names (it looks like a
        benchmark): name it (``index_col="id"``) to use it. ``None`` keeps rows numbered
        (a file without a name column).
    format : {"csv", "parquet"}, optional
        Default: from the file name (``.csv``, ``.csv.gz``, ... or ``.parquet``, ``.pq``).

    Returns
    -------
    pandas.DataFrame
        As read; the scores are checked when a population is fitted to it.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        An unknown format, an unknown ``index_col``, a first column that looks like scores,
        or a column without a header (an index written by ``to_csv()`` read as data).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"a": [1.0, 2.0]}, index=["m0", "m1"]).to_csv(folder / "s.csv")
    >>> read_table(folder / "s.csv")
          a
    m0  1.0
    m1  2.0
    """
    if hasattr(path, "read"):
        text, source = "<file>", path
        format = format or "csv"
    else:
        text = os.fspath(path)
        if "://" not in text:
            text = str(Path(text).expanduser())
            if not Path(text).exists():
                raise FileNotFoundError(f"No score table at {text!r}.")
        source = text
    if format is None:
        lower = text.lower().split("?")[0]
        if lower.endswith(CSV_SUFFIXES):
            format = "csv"
        elif lower.endswith(PARQUET_SUFFIXES):
            format = "parquet"
        else:
            raise ValueError(
                f"{text!r}: expected a .csv (possibly compressed, e.g. .csv.gz), .parquet or "
                "a .pq file; or read it with pandas and pass the DataFrame to "
                "Population.from_dataframe."
            )
    if format not in FORMATS:
        raise ValueError(f"Unknown format {format!r}; choose one of {list(FORMATS)}.")
    if format == "csv":
        df = _read(pd.read_csv, source, text, "CSV")
        first = index_col == 0 and not isinstance(index_col, bool)
        if first and len(df.columns):
            _check_first_column_names_rows(df, text)
        if index_col is not None:
            df = _set_index(df, index_col, text)
            if _UNNAMED.match(str(df.index.name)):
                df.index.name = None
    else:
        df = _read(pd.read_parquet, source, text, "Parquet")
        stored_index = index_col == 0 and not isinstance(index_col, bool)  # to_parquet's
        if index_col is not None and not stored_index:
            df = _set_index(df, index_col, text)
    unnamed = [str(c) for c in df.columns if _UNNAMED.match(str(c))]
    if unnamed:
        raise ValueError(
            f"{text!r} has column(s) without a header {unnamed}: an index written by "
            "DataFrame.to_csv() read as a benchmark. Read it with index_col=0 (CLI: "
            "--index-col 0), or give the column a name."
        )
    return df


def _read(reader, source, text: str, kind: str) -> pd.DataFrame:
    """``reader(source)``, with a file pandas cannot parse reported as this package's error."""
    try:
        return reader(source)
    except (OSError, ImportError):
        raise
    except Exception as err:  # noqa: BLE001 - pandas/pyarrow parser errors of every kind
        raise ValueError(
            f"Cannot read {text!r} as a {kind} table ({type(err).__name__}: "
            f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}); check that it "
            f"is a {kind} file of scores."
        ) from None


def _check_first_column_names_rows(df: pd.DataFrame, path: str) -> None:
    name = str(df.columns[0])
    if _UNNAMED.match(name) or not pd.api.types.is_numeric_dtype(df[df.columns[0]]):
        return  # to_csv()'s index, or names
    raise ValueError(
        f"The first column {name!r} of {path!r} holds numbers: it looks like a benchmark, "
        f"not model names. If it names the models, say so with index_col={name!r} (CLI: "
        f"--index-col {name!r}); if the file has no name column, read it with index_col=None "
        "(CLI: --index-col none)."
    )


def _set_index(df: pd.DataFrame, index_col: int | str, path: str) -> pd.DataFrame:
    columns = list(df.columns)
    if isinstance(index_col, str) and index_col not in columns and index_col.isdigit():
        index_col = int(index_col)  # "--index-col 0" from the command line
    if isinstance(index_col, bool) or not isinstance(index_col, (int, str)):
        raise ValueError(f"index_col must be a column name or position; got {index_col!r}.")
    if isinstance(index_col, int):
        if not 0 <= index_col < len(columns):
            raise ValueError(
                f"index_col={index_col} is out of range for {path!r}, which has "
                f"{len(columns)} column(s): {[str(c) for c in columns]}."
            )
        index_col = columns[index_col]
    if index_col not in columns:
        raise ValueError(
            f"index_col={index_col!r} is not a column of {path!r}; columns: "
            f"{sorted(map(str, columns))}."
        )
    return df.set_index(index_col)
