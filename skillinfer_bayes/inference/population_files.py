"""A fitted population's files: fit one from a CSV or Parquet table, save its posterior to
NetCDF and load it back, checked (:mod:`~skillinfer_bayes.inference.storage`).

:class:`PopulationFiles` is mixed into ``Population`` (its class methods build one with
``cls.from_dataframe`` or ``cls(data, idata, prior)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

import pandas as pd

from skillinfer_bayes.data.tables import read_table
from skillinfer_bayes.inference import diagnostics, storage


class PopulationFiles:
    """Reading and writing a population's files (mixed into ``Population``)."""

    @classmethod
    def from_csv(cls, path, index_col: int | str | None = 0, **kwargs) -> Self:
        """Fit the population to a CSV file (first column = entity names by default).

        ``path`` is a file (possibly compressed), a URL or an open file; it is read by
        :func:`skillinfer_bayes.data.tables.read_table`, as the command line reads ``--data``: a
        first column with a header that holds numbers is refused rather than taken for names
        (name it, e.g. ``index_col="id"``), and ``index_col=None`` reads a file without a name
        column. Extra keyword arguments go to :meth:`from_dataframe`.

        Examples
        --------
        >>> df.to_csv("scores.csv")
        >>> from_file = sib.Population.from_csv("scores.csv", normalize=False, random_seed=0,
        ...                                     draws=500, tune=500, progressbar=False)
        >>> from_file.matrix.shape
        (4576, 6)
        """
        return cls.from_dataframe(read_table(path, index_col=index_col, format="csv"),
                                  **kwargs)

    @classmethod
    def from_parquet(cls, path: str, index_col: str | None = None, **kwargs) -> Self:
        """Fit the population to a Parquet file (local, or ``hf://`` when online).

        Parameters
        ----------
        path : str
            File path or URL understood by :func:`pandas.read_parquet`.
        index_col : str, optional
            Column to use as entity names (e.g. ``"fullname"``); by default the index stored
            in the file (see :func:`skillinfer_bayes.data.tables.read_table`).
        **kwargs
            Passed to :meth:`from_dataframe`.

        Examples
        --------
        >>> df.reset_index().to_parquet("scores.parquet")
        >>> from_file = sib.Population.from_parquet(
        ...     "scores.parquet", index_col="fullname", normalize=False, random_seed=0,
        ...     draws=500, tune=500, progressbar=False)
        >>> from_file.matrix.shape
        (4576, 6)
        """
        return cls.from_dataframe(read_table(path, index_col=index_col, format="parquet"),
                                  **kwargs)

    def to_netcdf(self, path) -> Path:
        """Save the posterior and everything a Profile needs to a NetCDF file.

        The file holds the posterior draws, the fitted scores with entity and benchmark names,
        group labels, the scaling, the prior, the fit settings, the library version and a hash
        of the data; :meth:`from_netcdf` reads it back and predicts bit-identically.

        Parameters
        ----------
        path : str or path-like
            Destination file (``~`` is expanded; written atomically: a temporary file unique
            to this process and thread, then a rename).

        Returns
        -------
        pathlib.Path

        Examples
        --------
        >>> pop.to_netcdf("leaderboard.nc").name
        'leaderboard.nc'
        >>> same = sib.Population.from_netcdf("leaderboard.nc")
        >>> bool((same.Sigma_draws == pop.Sigma_draws).all())
        True
        """
        return storage.save(path, self.data, self.idata)

    @classmethod
    def from_netcdf(cls, path, data: pd.DataFrame | None = None) -> Self:
        """Load a population saved by :meth:`to_netcdf` (no refit).

        Parameters
        ----------
        path : str or path-like
            The file.
        data : pandas.DataFrame, optional
            The score table you expect the file to have been fitted to (as passed to
            :meth:`from_dataframe`, without a groups column): loading fails if it differs.

        Returns
        -------
        Population

        Raises
        ------
        FileNotFoundError
            No file at ``path``.
        PosteriorFileError
            Whatever else is wrong with the file: unreadable or truncated, edited (its data,
            draws or attributes do not match the checksums recorded when it was saved), with
            non-finite draws, written in another file format version, or fitted to other data
            than ``data``.

        Examples
        --------
        >>> pop.to_netcdf("leaderboard.nc").name
        'leaderboard.nc'
        >>> same = sib.Population.from_netcdf("leaderboard.nc", data=df)
        >>> sib.Population.from_netcdf("leaderboard.nc", data=df.iloc[:100])
        Traceback (most recent call last):
        ...
        skillinfer_bayes.inference.storage.PosteriorFileError: ...
        """
        saved = storage.load(path, data=data)
        try:
            pop = cls(saved.data, saved.idata, saved.prior)
        except Exception as err:  # noqa: BLE001 - a file that passed its checks but is unusable
            raise storage.PosteriorFileError(
                f"{str(path)!r} cannot be used ({type(err).__name__}: {err}); refit and save "
                "it again."
            ) from None
        diagnostics.warn_if_bad(pop.diagnostics())
        return pop
