"""Many population fits at once, through joblib (local processes or a Dask cluster).

:func:`fit_many` runs :meth:`Population.from_dataframe` for a list of jobs with
``joblib.Parallel(n_jobs=...)``, so it follows whatever joblib backend is active: local
processes by default, a Dask cluster inside ``joblib.parallel_config(backend="dask")`` (with a
``dask.distributed.Client`` connected). Every job carries its own ``random_seed``, derived from
the caller's seed before dispatch, so results do not depend on the backend, on ``n_jobs`` or on
the order in which the fits finish.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from skillinfer_bayes.inference.diagnostics import SamplerWarning

if TYPE_CHECKING:
    from skillinfer_bayes.population import Population


def _fit_one(kwargs: dict[str, Any]) -> tuple[Population, list[str]]:
    """Fit one population; sampler warnings are returned, to be re-issued by the caller."""
    from skillinfer_bayes.population import Population

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SamplerWarning)
        pop = Population.from_dataframe(**kwargs, progressbar=False)
    other = [w for w in caught if not issubclass(w.category, SamplerWarning)]
    for w in other:  # anything else is not ours to swallow
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return pop, [str(w.message) for w in caught if issubclass(w.category, SamplerWarning)]


def check_n_jobs(n_jobs: int) -> int:
    """Validate ``n_jobs`` (joblib's convention: -1 = all cores)."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1 (all cores); got {n_jobs!r}.")
    return n_jobs


def run_many(
    function,
    jobs: Sequence[dict[str, Any]],
    n_jobs: int = 1,
    progressbar: bool = True,
    desc: str = "running",
) -> list:
    """``[function(**job) for job in jobs]`` through joblib, with a bar over completed jobs.

    ``n_jobs=1`` runs in this process (no joblib); otherwise ``joblib.Parallel(n_jobs)``,
    which follows the active joblib backend (processes, or Dask). Results keep the order of
    ``jobs``.

    Examples
    --------
    >>> run_many(pow, [dict(base=2, exp=3), dict(base=3, exp=2)], progressbar=False)
    [8, 9]
    """
    from joblib import Parallel, delayed

    n_jobs = check_n_jobs(n_jobs)
    results = []
    with tqdm(total=len(jobs), desc=desc, unit="job", disable=not progressbar) as bar:
        if n_jobs == 1:
            for job in jobs:
                results.append(function(**job))
                bar.update()
        else:
            parallel = Parallel(n_jobs=n_jobs, return_as="generator")
            for result in parallel(delayed(function)(**job) for job in jobs):
                results.append(result)
                bar.update()
    return results


def fit_many(
    jobs: Sequence[dict[str, Any]],
    labels: Sequence[str],
    n_jobs: int = 1,
    progressbar: bool = True,
    desc: str = "fitting",
) -> list[Population]:
    """Fit one population per job, in parallel through joblib.

    Parameters
    ----------
    jobs : sequence of dict
        Keyword arguments of :meth:`Population.from_dataframe` (each with its own
        ``random_seed``); ``progressbar`` is set to False inside.
    labels : sequence of str
        A label per job, used in re-issued sampler warnings.
    n_jobs : int, default 1
        Parallel fits (-1: all cores). ``1`` fits in this process, where same-shaped fits
        share one compiled sampler; more processes each compile once.
    progressbar : bool
        A bar over completed fits.
    desc : str
        The bar's label.

    Returns
    -------
    list of Population
        In the order of ``jobs``.

    Warns
    -----
    SamplerWarning
        For each fit whose checks fail, prefixed with its label.

    Examples
    --------
    >>> pops = fit_many([dict(df=df, random_seed=s) for s in (1, 2)], ["a", "b"])  # doctest: +SKIP
    """
    results = run_many(_fit_one, [{"kwargs": job} for job in jobs], n_jobs, progressbar, desc)
    for label, (_, messages) in zip(labels, results):
        for message in messages:
            warnings.warn(f"[{label}] {message}", SamplerWarning, stacklevel=3)
    return [pop for pop, _ in results]
