"""Embedded datasets.

The Open LLM Leaderboard v2 snapshot (4,576 models x 6 benchmarks, frozen 2025-05-09) ships
inside the package, so everything works offline. Cite the Open LLM Leaderboard (Hugging Face)
when using it; see ``data/README.md`` for provenance and column meanings.
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

__all__ = ["BENCHMARKS", "HUB_PATH", "open_llm_leaderboard"]

#: The six leaderboard benchmarks, in leaderboard order.
BENCHMARKS = ["IFEval", "BBH", "MATH Lvl 5", "GPQA", "MUSR", "MMLU-PRO"]

#: The same population on the Hugging Face Hub (needs network and ``huggingface_hub``).
HUB_PATH = "hf://datasets/open-llm-leaderboard/contents/data/train-00000-of-00001.parquet"

_FILE = "open_llm_leaderboard_v2.parquet"


def open_llm_leaderboard(source: str = "embedded") -> pd.DataFrame:
    """The Open LLM Leaderboard v2 scores.

    Parameters
    ----------
    source : {"embedded", "hub"}, default "embedded"
        ``"embedded"`` reads the snapshot shipped in the package (offline, 4,576 rows).
        ``"hub"`` reads the live ``open-llm-leaderboard/contents`` dataset (needs network and
        ``huggingface_hub``) and returns the same columns: ``fullname``, ``params_b`` and the
        six benchmarks, rows with a missing benchmark dropped.

    Returns
    -------
    pandas.DataFrame
        Columns ``fullname``, ``params_b`` and :data:`BENCHMARKS` (scores 0-100, 0 = random
        baseline). ``fullname`` is not unique: 79 models were evaluated twice. ``params_b``
        (billions of parameters) is NaN where the source records 0 or -1, its marks of an
        unknown count (10 models in the snapshot).

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> df = sib.datasets.open_llm_leaderboard()
    >>> df.shape
    (4576, 8)
    >>> list(df.columns[2:]) == sib.datasets.BENCHMARKS
    True
    """
    if source == "embedded":
        with files(__package__).joinpath("data", _FILE).open("rb") as fh:
            return _unknown_counts_as_nan(pd.read_parquet(fh))
    if source == "hub":
        raw = pd.read_parquet(HUB_PATH)
        raw = raw.rename(columns={"#Params (B)": "params_b"})
        table = raw[["fullname", "params_b", *BENCHMARKS]].dropna(subset=BENCHMARKS)
        return _unknown_counts_as_nan(table.reset_index(drop=True))
    raise ValueError(f"Unknown source {source!r}; choose one of ['embedded', 'hub'].")


def _unknown_counts_as_nan(table: pd.DataFrame) -> pd.DataFrame:
    """``params_b`` of 0 or less (the source's marks of an unknown count) become NaN."""
    table = table.copy()
    table["params_b"] = table["params_b"].where(table["params_b"] > 0)
    return table
