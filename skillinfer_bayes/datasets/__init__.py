"""Embedded datasets, and simulated tables whose truth is known.

The Open LLM Leaderboard v2 snapshot (4,576 models x 6 benchmarks, frozen 2025-05-09) ships
inside the package, so everything works offline. Cite the Open LLM Leaderboard (Hugging Face)
when using it; see ``data/README.md`` for provenance and column meanings. The O*NET 30.2 skill
matrix (894 occupations x 120 descriptors, CC BY 4.0) is a real wide table.
:func:`simulate_factor_table` draws wide, sparse tables of known low-rank structure, the
setting of the factor covariance.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd

__all__ = ["BENCHMARKS", "HUB_PATH", "SimulatedTable", "onet", "open_llm_leaderboard",
           "simulate_factor_table"]

#: The six leaderboard benchmarks, in leaderboard order.
BENCHMARKS = ["IFEval", "BBH", "MATH Lvl 5", "GPQA", "MUSR", "MMLU-PRO"]

#: The same population on the Hugging Face Hub (needs network and ``huggingface_hub``).
HUB_PATH = "hf://datasets/open-llm-leaderboard/contents/data/train-00000-of-00001.parquet"

_FILE = "open_llm_leaderboard_v2.parquet"
_ONET_FILE = "onet_30_2.parquet"


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


def onet() -> pd.DataFrame:
    """The O*NET 30.2 skill matrix: 894 occupations x 120 descriptors, a real wide table.

    Each value is how important a skill (35 columns ``Skill:...``), knowledge area (33,
    ``Knowledge:...``) or ability (52, ``Ability:...``) is to an occupation, rescaled per column
    to [0, 1]; every cell is known. Many columns pile up at 0 (e.g. ``Skill:Installation``,
    0 for 68% of the occupations).

    Includes information from the O*NET 30.2 Database by the U.S. Department of Labor,
    Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0 licence;
    rescaled and joined by the ``skillinfer`` package (MIT); USDOL/ETA has not approved,
    endorsed, or tested these modifications. See ``data/README.md``.

    Returns
    -------
    pandas.DataFrame
        Index ``occupation`` (unique names), 120 float columns in [0, 1].

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> table = sib.datasets.onet()
    >>> table.shape, table.index.name, bool(table.notna().all().all())
    ((894, 120), 'occupation', True)
    >>> table.columns[0]
    'Skill:Active Learning'
    """
    with files(__package__).joinpath("data", _ONET_FILE).open("rb") as fh:
        return pd.read_parquet(fh)


def _unknown_counts_as_nan(table: pd.DataFrame) -> pd.DataFrame:
    """``params_b`` of 0 or less (the source's marks of an unknown count) become NaN."""
    table = table.copy()
    table["params_b"] = table["params_b"].where(table["params_b"] > 0)
    return table


@dataclass(frozen=True)
class SimulatedTable:
    """A simulated score table and the truth it was drawn from.

    Attributes
    ----------
    table : pandas.DataFrame
        Entities ``m0, m1, ...`` x benchmarks ``b0, b1, ...``, NaN = not observed.
    complete : pandas.DataFrame
        The same table with every cell (the hidden ones too).
    mean : numpy.ndarray
        (K,) true mean.
    loadings : numpy.ndarray
        (K, r) true loadings.
    specific_var : numpy.ndarray
        (K,) true specific variances.
    """

    table: pd.DataFrame
    complete: pd.DataFrame
    mean: np.ndarray
    loadings: np.ndarray
    specific_var: np.ndarray

    @property
    def covariance(self) -> np.ndarray:
        """(K, K) true covariance ``loadings loadings' + diag(specific_var)``."""
        return self.loadings @ self.loadings.T + np.diag(self.specific_var)


def simulate_factor_table(n_entities: int, n_benchmarks: int, n_factors: int,
                          known: float = 1.0, random_seed: int = 0) -> SimulatedTable:
    """A table of rank ``n_factors`` plus noise with a share ``known`` of its cells observed.

    Loadings ~ N(0, 0.8^2), specific sds ~ U(0.3, 0.6), means ~ N(0, 1); rows ~
    N(mean, loadings loadings' + diag(specific sds^2)); each cell observed with probability
    ``known``, at random, and every entity keeps at least one.

    Examples
    --------
    >>> sim = simulate_factor_table(80, 50, 2, known=0.35, random_seed=0)
    >>> sim.table.shape, round(float(sim.table.notna().mean().mean()), 2)
    ((80, 50), 0.36)
    """
    rng = np.random.default_rng(random_seed)
    N, K, r = int(n_entities), int(n_benchmarks), int(n_factors)
    loadings = rng.normal(size=(K, r)) * 0.8
    specific_var = rng.uniform(0.3, 0.6, K) ** 2
    mean = rng.normal(size=K)
    X = rng.multivariate_normal(mean, loadings @ loadings.T + np.diag(specific_var), size=N)
    mask = rng.random((N, K)) < known
    mask[np.arange(N), rng.integers(K, size=N)] = True
    columns, index = [f"b{k}" for k in range(K)], [f"m{i}" for i in range(N)]
    return SimulatedTable(
        table=pd.DataFrame(np.where(mask, X, np.nan), columns=columns, index=index),
        complete=pd.DataFrame(X, columns=columns, index=index),
        mean=mean, loadings=loadings, specific_var=specific_var,
    )
