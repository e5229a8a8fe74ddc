"""What a profile knows of its population besides the predictive draws: the
:class:`PopulationDescription` (names, transforms, bounds, scaling, observed ranges, the latent
scale and the fit's id), and :func:`population_id`, what identifies a fit.

A :class:`~skillinfer_bayes.predictive.profile.Profile` is made from a description and the
predictive draws (:class:`~skillinfer_bayes.predictive.components.ComponentDraws`), not from
the ``Population`` itself, so the predictive layer needs nothing of the layer above it.

Examples
--------
>>> import skillinfer_bayes as sib
>>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
>>> description = pop.description
>>> description.benchmark_names, description.fit_id == population_id(pop)
(['a', 'b'], True)
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass

import numpy as np

from skillinfer_bayes.data.prepared import PreparedData
from skillinfer_bayes.predictive.types import PopulationLike

_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def population_id(population: PopulationLike) -> str:
    """What identifies a fit: a SHA-256 of its data hash and of every posterior draw a
    prediction uses (components, weights, group draws). A population loaded from a file saved
    by ``to_netcdf`` has the id of the fit saved (its draws are bit-identical).

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[1.0]], ["a"], [0.0])
    >>> len(population_id(pop)), population_id(pop) == population_id(pop)
    (64, True)
    """
    known = _IDS.get(population)
    if known is not None:
        return known
    h = hashlib.sha256(population.data.data_hash().encode())
    for draws in (population.component_mu_draws, population.component_Sigma_draws,
                  population.component_weight_draws, population.group_mu_draws,
                  population.group_sd_draws):
        if draws is not None:
            h.update(str(draws.shape).encode())
            h.update(np.ascontiguousarray(draws, dtype=float).tobytes())
    _IDS[population] = h.hexdigest()
    return _IDS[population]


@dataclass(frozen=True, eq=False)
class PopulationDescription:
    """A fitted population as a profile sees it, apart from its predictive draws.

    Attributes
    ----------
    data : PreparedData
        The prepared data the population was fitted to: names, transforms and bounds, the
        ``normalize`` scaling and the noise slopes.
    score_range : numpy.ndarray
        (2, K + P) lowest and highest value of each benchmark and covariate in the population
        (an observation beyond them warns).
    latent_scale : numpy.ndarray
        (K + P,) the standardization scale of each latent dimension (the unit in which the
        warning says how far out an observation lies).
    fit_id : str
        :func:`population_id` of the fit: profiles of one fit share it.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> pop = sib.Population.from_covariance([[4, 2], [2, 4]], ["a", "b"], [0, 0])
    >>> pop.description.score_range.shape, pop.description.latent_names
    ((2, 2), ['a', 'b'])
    """

    data: PreparedData
    score_range: np.ndarray
    latent_scale: np.ndarray
    fit_id: str

    @classmethod
    def of(cls, population: PopulationLike) -> PopulationDescription:
        """The description of a fitted population (``Population.description``)."""
        return cls(population.data, np.asarray(population.score_range, dtype=float),
                   np.asarray(population.data.scale, dtype=float), population_id(population))

    @property
    def benchmark_names(self) -> list[str]:
        """The benchmarks, in the population's order."""
        return list(self.data.benchmarks)

    @property
    def latent_names(self) -> list[str]:
        """The latent dimensions: the benchmarks, then the covariates."""
        return list(self.data.latent_names)
