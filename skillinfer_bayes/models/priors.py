"""Prior: the population model's prior choices as a small frozen value object.

All scales are on the *standardized* scale: each benchmark is centred and scaled by the
population's own mean and standard deviation before fitting, so the same ``Prior`` means the
same thing on any data (see ``docs/design.md``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from skillinfer_bayes.data.checks import check_fields

SD_FAMILIES = ("exponential", "halfnormal", "halfstudentt")


@dataclass(frozen=True)
class Prior:
    """Prior on the population mean, benchmark sds and benchmark correlations.

    The model (``docs/design.md``), on the standardized scale::

        mu_k    ~ Normal(0, mean_scale)
        sigma_k ~ HalfNormal(sd_scale) | Exponential(1 / sd_scale) | HalfStudentT(sd_nu, sd_scale)
        Omega   ~ LKJCorr(eta)
        tau_k   ~ HalfNormal(group_scale)          (grouped populations only)
        mu_gk   ~ Normal(mu_k, tau_k)              (one mean vector per group)
        w       ~ Dirichlet(weight_concentration)  (mixture populations only)

    Parameters
    ----------
    eta : float, default 2.0
        LKJ concentration of the correlation matrix. ``eta = 1`` is uniform over correlation
        matrices; larger values pull correlations toward 0.
    sd : {"halfnormal", "exponential", "halfstudentt"}, default "halfnormal"
        Family of the prior on each benchmark's standard deviation.
    sd_scale : float, default 1.0
        Scale of that family (for "exponential", its mean).
    sd_nu : float, default 3.0
        Degrees of freedom, used by "halfstudentt" only.
    mean_scale : float, default 1.0
        Standard deviation of the Normal prior on each benchmark's mean.
    group_scale : float, default 0.5
        Scale of the HalfNormal prior on the between-group sd ``tau_k`` of each benchmark's
        mean; used only when the population is fitted with ``groups=``. Smaller values pool
        the group means harder toward the population mean.
    weight_concentration : float, default 0.5
        Dirichlet concentration of the component weights of a mixture population
        (``components=`` of :meth:`~skillinfer_bayes.Population.from_dataframe`); below 1 the
        prior favours few occupied components, so components the data do not support empty
        out (:mod:`~skillinfer_bayes.models.mixture`).
    component_floor : float, default 0.1
        The smallest sd a mixture component has in any latent dimension, as a fraction of that
        dimension's sd in the data: each component's covariance is ``L L' + diag(floor^2)``.
        It keeps components from collapsing onto rows that tie on a dimension (thousands of
        models share a parameter count), which makes the likelihood unbounded and the
        posterior a set of spikes NUTS cannot cross
        (:func:`~skillinfer_bayes.models.mixture.component_floor`). 0 removes it.

    Examples
    --------
    >>> import skillinfer_bayes as sib
    >>> p = sib.Prior(eta=4.0, sd="exponential")
    >>> p  # doctest: +NORMALIZE_WHITESPACE
    Prior(eta=4.0, sd='exponential', sd_scale=1.0, sd_nu=3.0, mean_scale=1.0, group_scale=0.5,
          weight_concentration=0.5, component_floor=0.1)
    >>> sib.Prior.from_dict(p.to_dict()) == p
    True
    """

    eta: float = 2.0
    sd: str = "halfnormal"
    sd_scale: float = 1.0
    sd_nu: float = 3.0
    mean_scale: float = 1.0
    group_scale: float = 0.5
    weight_concentration: float = 0.5
    component_floor: float = 0.1

    def __post_init__(self) -> None:
        for name in ("eta", "sd_scale", "sd_nu", "mean_scale", "group_scale",
                     "weight_concentration"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"Prior {name} must be a number, got {value!r}.")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(
                    f"Prior {name} must be a finite number > 0, got {value!r}."
                )
            object.__setattr__(self, name, float(value))
        floor = self.component_floor
        if isinstance(floor, bool) or not isinstance(floor, (int, float)):
            raise TypeError(f"Prior component_floor must be a number, got {floor!r}.")
        if not (math.isfinite(floor) and 0 <= floor < 1):
            raise ValueError(
                f"Prior component_floor must be in [0, 1) (a fraction of each dimension's sd; "
                f"0 removes the floor), got {floor!r}."
            )
        object.__setattr__(self, "component_floor", float(floor))
        if self.sd not in SD_FAMILIES:
            raise ValueError(
                f"Unknown sd family {self.sd!r}; choose one of {sorted(SD_FAMILIES)}."
            )

    def to_dict(self) -> dict[str, Any]:
        """The prior as a plain JSON-serialisable dict (inverse of :meth:`from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Prior:
        """Rebuild a Prior from :meth:`to_dict` output; unknown keys are an error."""
        return cls(**check_fields(cls, data))
