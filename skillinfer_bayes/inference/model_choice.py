"""Comparing fitted models by their pointwise PSIS-LOO elpd, and when a bigger one is worth it.

The elpd difference of two models fitted to the same entities is the sum of their pointwise
differences; its standard error comes from the same pairs (Vehtari, Gelman and Gabry 2017,
eq. 24), which is much smaller than either model's own ``se`` because the entities that are
hard for one are hard for the other. A larger model (one more component or factor) is kept
only when its gain exceeds :data:`SIGNIFICANT_SE` such standard errors: with few entities
PSIS-LOO is noisy (on 20 leaderboard models, 8 to 17 of the 20 Pareto k were above 0.7 for 1 to 5
components, and the estimated elpd rose by 17 from one to four components on draws whose
r_hat reached 1.65), and a gain within two standard errors is one the comparison cannot tell
from noise (Sivula et al. 2022). Sivula et al. also find the normal approximation behind
that standard error unreliable when the models predict alike, when there are few entities
(under about 100) or when some are badly misfitted: there the rule errs toward the smaller
model (on 20-model leaderboard populations it kept one component in 9 of 10 replications,
whose intervals stayed calibrated; notebook 06).

References
----------
.. [1] Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation using
   leave-one-out cross-validation and WAIC. *Statistics and Computing* 27, 1413-1432.
.. [2] Sivula, T., Magnusson, M., Matamoros, A. A. and Vehtari, A. (2022). Uncertainty in
   Bayesian leave-one-out cross-validation based model comparison. arXiv:2008.10296.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import warnings

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from skillinfer_bayes.inference.inference_data import InferenceData, from_datasets, with_group

logger = logging.getLogger(__name__)

#: How many standard errors of the paired difference a larger model's elpd gain must exceed.
SIGNIFICANT_SE = 2.0
#: The posterior attribute where :func:`select_by_loo` saves its comparison, per field.
SELECTION_ATTRIBUTES = {"n_factors": "factor_selection", "components": "component_selection"}


def elpd_difference(pointwise: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """The elpd difference ``sum(pointwise - reference)`` and its paired standard error
    ``sqrt(n var(pointwise - reference))``.

    Parameters
    ----------
    pointwise, reference : numpy.ndarray
        (n,) pointwise elpd (``loo(pointwise=True).loo_i``) of two models of the same n
        entities, in the same order.

    Returns
    -------
    (float, float)
        The difference and its standard error.

    Examples
    --------
    >>> diff, se = elpd_difference(np.array([-1.0, -2.0, -0.5]), np.array([-1.5, -2.0, -1.0]))
    >>> round(diff, 3), round(se, 3)
    (1.0, 0.408)
    """
    a, b = np.asarray(pointwise, dtype=float), np.asarray(reference, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"pointwise and reference must be two 1-d arrays of the same length; "
                         f"got shapes {a.shape} and {b.shape}.")
    diff = a - b
    return float(diff.sum()), float(np.sqrt(len(diff) * np.var(diff)))


def significantly_better(pointwise: np.ndarray, reference: np.ndarray,
                         threshold: float = SIGNIFICANT_SE) -> bool:
    """Whether ``pointwise``'s elpd beats ``reference``'s by more than ``threshold`` paired
    standard errors (:func:`elpd_difference`).

    Examples
    --------
    >>> reference = np.zeros(100)
    >>> significantly_better(np.full(100, 0.1), reference)  # every entity better: se 0
    True
    >>> noisy = np.random.default_rng(0).normal(0.02, 1.0, size=100)  # +10.1, se 9.6
    >>> significantly_better(noisy, reference)
    False
    """
    diff, se = elpd_difference(pointwise, reference)
    return diff > threshold * se


def select_by_loo(fit_one, spec, field: str, candidates, progressbar: bool = True,
                  shared_covariance: bool = False):
    """``n_factors="auto"`` or ``components="auto"`` (``field``): fit each of ``candidates``
    in turn (``fit_one(spec)`` returns a fitted population, which has ``loo`` and
    ``diagnostics``); one is kept over the current choice only when its PSIS-LOO elpd beats
    it by more than :data:`SIGNIFICANT_SE` standard errors of their paired difference
    (:func:`significantly_better`), and the search stops at the first that does not. The
    comparison is saved as the ``factor_selection`` or ``component_selection`` attribute of
    the chosen fit, which is returned.

    Examples
    --------
    >>> class Fit:  # a stand-in population whose elpd gains 10 per component up to 2
    ...     def __init__(self, spec):
    ...         self.spec, self.idata = spec, type("I", (), {"attrs": {}})()
    ...     def loo(self, pointwise):
    ...         c = min(self.spec.components, 2)
    ...         loo_i = np.full(50, 0.2 * c) + np.linspace(0, 0.01, 50)
    ...         return type("L", (), dict(loo_i=loo_i, elpd_loo=loo_i.sum(), se=1.0,
    ...                                   p_loo=1.0, pareto_k=np.zeros(50)))()
    ...     def diagnostics(self):
    ...         return {"max_r_hat": 1.0}
    >>> from skillinfer_bayes.inference.spec import ModelSpec
    >>> select_by_loo(Fit, ModelSpec(), "components", range(1, 5), False).spec.components
    2
    """
    label = "factor(s)" if field == "n_factors" else "component(s)"
    fitted, pointwise, rows, chosen = {}, {}, [], None
    for value in candidates:
        logger.info("%s='auto': fitting %d %s", field, value, label)
        if progressbar:
            print(f"{field}='auto': fitting {value} {label}", file=sys.stderr, flush=True)
        changes = {field: value}
        if field == "components":
            changes["shared_covariance"] = shared_covariance and value > 1
        pop = fit_one(dataclasses.replace(spec, **changes))
        with warnings.catch_warnings():  # reported as pareto_k_bad
            warnings.filterwarnings("ignore", message=".*Pareto k.*")
            warnings.filterwarnings("ignore", message=".*shape parameter of Pareto.*")
            loo = pop.loo(pointwise=True)
        fitted[value], pointwise[value] = pop, np.asarray(loo.loo_i)
        good_k = float(getattr(loo, "good_k", 0.7))
        rows.append({field: value, "elpd_loo": float(loo.elpd_loo), "se": float(loo.se),
                     "p_loo": float(loo.p_loo),
                     "pareto_k_bad": int((np.asarray(loo.pareto_k) > good_k).sum()),
                     "max_r_hat": float(pop.diagnostics()["max_r_hat"])})
        if chosen is not None and not significantly_better(pointwise[value],
                                                           pointwise[chosen]):
            break
        chosen = value
    for row in rows:
        row["elpd_diff"], row["dse"] = elpd_difference(pointwise[row[field]],
                                                       pointwise[chosen])
        row["chosen"] = row[field] == chosen
    pop = fitted[chosen]
    pop.idata.attrs[SELECTION_ATTRIBUTES[field]] = json.dumps(rows)
    return pop


def selection_table(attrs: dict, field: str):
    """The comparison :func:`select_by_loo` saved for ``field`` (``"n_factors"`` or
    ``"components"``) in a posterior's attributes, one row per number fitted (indexed by
    it); None where the number was given by hand.

    Examples
    --------
    >>> attrs = {"component_selection": '[{"components": 1, "elpd_loo": -3.0}]'}
    >>> selection_table(attrs, "components")["elpd_loo"].tolist()
    [-3.0]
    >>> selection_table(attrs, "n_factors") is None
    True
    """
    saved = attrs.get(SELECTION_ATTRIBUTES[field])
    return None if not saved else pd.DataFrame(json.loads(saved)).set_index(field)


class LeaveOneOut:
    """PSIS leave-one-entity-out cross-validation of a fitted population (mixed into
    ``Population``: it works on any object with ``draws``, ``posterior``, ``idata`` and
    ``entity_names``)."""

    def log_likelihood(self) -> xr.DataArray:
        """Per-entity log-likelihood at every posterior draw, ``(chain, draw, entity)``.

        Each entity on its own observed scores, on the data's scale (see
        :func:`~skillinfer_bayes.data.sufficient_stats.pointwise_loglik`). Entities are numbered
        ``0..N-1`` (names may repeat); their names are the ``name`` coordinate.

        Examples
        --------
        >>> pop.log_likelihood().dims
        ('chain', 'draw', 'entity')
        """
        chains, draws = self.posterior.sizes["chain"], self.posterior.sizes["draw"]
        ll = self.draws.entity_log_likelihood()
        return xr.DataArray(
            ll.reshape(chains, draws, -1),
            dims=("chain", "draw", "entity"),
            coords={
                "chain": self.posterior["chain"].values,
                "draw": self.posterior["draw"].values,
                "entity": np.arange(ll.shape[1]),
                "name": ("entity", np.asarray(self.entity_names, dtype=object)),
            },
            name="scores",
        )

    def loo(self, pointwise: bool = False):
        """PSIS leave-one-entity-out cross-validation (``arviz.loo``).

        Returns
        -------
        arviz.ELPDData
            ``elpd_loo``, its ``se``, ``p_loo`` and the Pareto-k diagnostics (with
            ``pointwise=True``, per entity).

        References
        ----------
        .. [1] Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian model evaluation
           using leave-one-out cross-validation and WAIC. *Statistics and Computing* 27,
           1413-1432.

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")  # a few outlying models have Pareto k > 0.7
        ...     loo = pop.loo()
        >>> int(loo.n_data_points)
        4576
        """
        ll = self.log_likelihood().drop_vars("name")
        # the whole posterior, as az.loo(pop.compute_log_likelihood()) sees it (the relative
        # efficiency of the draws comes from it)
        idata = from_datasets(posterior=self.posterior, log_likelihood=xr.Dataset({"scores": ll}))
        return az.loo(idata, pointwise=pointwise)

    def compute_log_likelihood(self) -> InferenceData:
        """Add the per-entity log-likelihood to ``pop.idata`` as its ``log_likelihood`` group.

        Then ArviZ's own functions work on the population's InferenceData:
        ``az.loo(pop.idata)`` (equal to :meth:`loo`), ``az.waic`` and
        ``az.compare({"a": pop_a.idata, "b": pop_b.idata})`` to compare fits of the same
        entities (e.g. under two priors). The group holds ``scores``, ``(chain, draw, entity)``
        (see :meth:`log_likelihood`); it is not saved by :meth:`to_netcdf` (recompute it after
        loading).

        Returns
        -------
        arviz.InferenceData
            ``pop.idata``, with the group added (or replaced).

        Examples
        --------
        >>> import arviz as az
        >>> "log_likelihood" in pop.compute_log_likelihood().groups()
        True
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")  # a few outlying models have Pareto k > 0.7
        ...     bool(np.isclose(az.loo(pop.idata).elpd_loo, pop.loo().elpd_loo))
        True
        """
        ll = self.log_likelihood()
        ll = ll.assign_coords(name=("entity", np.asarray([str(e) for e in self.entity_names])))
        return with_group(self.idata, "log_likelihood", xr.Dataset({"scores": ll}))
