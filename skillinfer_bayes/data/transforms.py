"""Per-column monotone transforms from scores (or covariates) to the latent normal scale.

The population model is a multivariate normal on a **latent scale** ``z = g(x)``, one strictly
increasing ``g`` per column; predictions map back through ``g^-1``. Every transform gives

- ``forward(x)``: ``z = g(x)``; ``inverse(z)``: ``x = g^-1(z)``, inside the column's bounds;
- ``log_jacobian(x)``: ``log g'(x)``, so that densities (and log-likelihoods) are on the data's
  own scale: ``log p_x(x) = log p_z(g(x)) + log g'(x)``;
- ``to_dict()`` / :func:`transform_from_dict`: what a saved population stores.

The transforms:

``Identity``
    ``z = x`` (the model before transforms; scores may be any real number).
``Logit(lower, upper)``
    For scores with known bounds: ``z = log((x - a) / (b - x))`` on the interval widened by a
    margin (``a = lower - margin``, ``b = upper + margin``, default margin 0.5% of the range),
    so that scores *on* a bound (0% on a hard benchmark) stay finite. Predictions are clipped to
    ``[lower, upper]``: the latent mass beyond a bound is read as a score on the bound.
``Log()``
    ``z = log(x)`` for positive quantities (a parameter count as covariate).
``Copula``
    A Gaussian copula marginal: the smoothed empirical CDF ``F`` of the column mapped to normal
    scores, ``z = Phi^-1(F(u))``, where ``u`` is the score itself or, with bounds, its logit.
    ``F`` is a Gaussian-kernel estimate of the CDF (bandwidth ``1.3 s n^(-1/3)``, the rate that
    suits a CDF rather than a density, with ``s`` the smaller of the sd and IQR / 1.349) whose
    tails extend past the observed range (a new best model stays possible), tabulated on a
    fine grid and interpolated linearly (exactly invertible), with linear tails beyond the
    grid. It is a **plug-in**
    estimate from the fitted population, not a posterior.

References
----------
.. [1] Azzalini, A. (1981). A note on the estimation of a distribution function and quantiles
   by a kernel method. *Biometrika* 68(1), 326-328 (the n^(-1/3) bandwidth of a kernel CDF).
.. [2] Hoff, P. D. (2007). Extending the rank likelihood for semiparametric copula estimation.
   *Annals of Applied Statistics* 1(1), 265-283 (Gaussian copulas for mixed marginals).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, ndtri

#: Names accepted for a column's transform (``"auto"`` resolves to one of the others per
#: column, :func:`~skillinfer_bayes.data.transform_choice.auto_transform`).
TRANSFORMS = ("identity", "logit", "log", "copula", "auto")
#: Default margin of the logit, as a fraction of ``upper - lower``.
LOGIT_MARGIN = 0.005
#: Points of the copula's tabulated CDF.
COPULA_GRID = 2048
#: The copula's grid reaches this many bandwidths beyond the observed range.
COPULA_REACH = 6.0
#: Fewest observed values a copula is estimated from.
MIN_COPULA_VALUES = 5


@dataclass(frozen=True)
class Identity:
    """``z = x``.

    Examples
    --------
    >>> Identity().forward(3.0)
    3.0
    """

    name: str = field(default="identity", init=False)

    @property
    def bounds(self) -> tuple[float, float]:
        return (-np.inf, np.inf)

    def forward(self, x):
        return x

    def inverse(self, z):
        return z

    def log_jacobian(self, x):
        return np.zeros_like(np.asarray(x, dtype=float))

    def to_dict(self) -> dict:
        return {"name": self.name}


@dataclass(frozen=True)
class Logit:
    """``z = log((x - a) / (b - x))`` with ``a = lower - margin``, ``b = upper + margin``.

    Examples
    --------
    >>> t = Logit(0.0, 100.0)
    >>> round(float(t.forward(50.0)), 6), round(float(t.inverse(t.forward(12.5))), 10)
    (0.0, 12.5)
    >>> bool(np.isfinite(t.forward(0.0)))
    True
    """

    lower: float
    upper: float
    margin: float | None = None
    #: Whether the bounds were inferred from the scores (``bounds="auto"``) rather than given:
    #: an observation beyond inferred bounds is read as a score on the bound, with a warning;
    #: beyond given bounds it is an error.
    inferred: bool = False
    name: str = field(default="logit", init=False)

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lower) and np.isfinite(self.upper) and self.lower < self.upper):
            raise ValueError(
                f"logit bounds must be finite with lower < upper; got ({self.lower!r}, "
                f"{self.upper!r})."
            )
        if self.margin is None:
            object.__setattr__(self, "margin", LOGIT_MARGIN * (self.upper - self.lower))
        if not (np.isfinite(self.margin) and self.margin >= 0):
            raise ValueError(f"logit margin must be a finite number >= 0; got {self.margin!r}.")

    @property
    def bounds(self) -> tuple[float, float]:
        return (float(self.lower), float(self.upper))

    def _ends(self) -> tuple[float, float]:
        return self.lower - self.margin, self.upper + self.margin

    def forward(self, x):
        a, b = self._ends()
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x - a) - np.log(b - x)

    def inverse(self, z):
        a, b = self._ends()
        z = np.asarray(z, dtype=float)
        # a + (b - a) * sigmoid(z), clipped to the bounds (mass beyond a bound sits on it)
        x = a + (b - a) * np.exp(-np.logaddexp(0.0, -z))
        return np.clip(x, self.lower, self.upper)

    def log_jacobian(self, x):
        a, b = self._ends()
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(b - a) - np.log(x - a) - np.log(b - x)

    def to_dict(self) -> dict:
        spec = {"name": self.name, "lower": float(self.lower), "upper": float(self.upper),
                "margin": float(self.margin)}
        if self.inferred:  # saved files of given bounds keep their former specification
            spec["inferred"] = True
        return spec


@dataclass(frozen=True)
class Log:
    """``z = log(x)`` for positive values.

    Examples
    --------
    >>> round(float(Log().inverse(Log().forward(70.6))), 10)
    70.6
    """

    name: str = field(default="log", init=False)

    @property
    def bounds(self) -> tuple[float, float]:
        return (0.0, np.inf)

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.asarray(x, dtype=float))

    def inverse(self, z):
        return np.exp(np.asarray(z, dtype=float))

    def log_jacobian(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.log(np.asarray(x, dtype=float))

    def to_dict(self) -> dict:
        return {"name": self.name}


@dataclass(frozen=True, eq=False)
class Copula:
    """A Gaussian-copula marginal: ``z = Phi^-1(F(base(x)))``, ``F`` tabulated on a grid.

    Build one with :meth:`fit`. ``base`` is :class:`Identity` or, for bounded scores,
    :class:`Logit`; ``grid_u`` and ``grid_z`` are the increasing knots of ``z`` as a function
    of ``u = base(x)``, interpolated linearly and extended linearly beyond the ends.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> scores = rng.gamma(2.0, 10.0, size=500)  # skewed, in [0, 100]
    >>> t = Copula.fit(scores, bounds=(0.0, 100.0))
    >>> x = np.array([0.0, 5.0, 20.0, 99.0])
    >>> np.allclose(t.inverse(t.forward(x)), x)
    True
    >>> z = t.forward(scores)  # normal scores: median 0, sd about 1
    >>> round(float(np.median(z)), 1), round(float(z.std()), 1)
    (0.0, 1.0)
    """

    base: Identity | Logit
    grid_u: np.ndarray
    grid_z: np.ndarray
    bandwidth: float
    name: str = field(default="copula", init=False)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Copula) and self.base == other.base
                and np.array_equal(self.grid_u, other.grid_u)
                and np.array_equal(self.grid_z, other.grid_z))

    def __hash__(self) -> int:
        return hash((self.base, self.grid_u.tobytes(), self.grid_z.tobytes()))

    @classmethod
    def fit(cls, values, bounds: tuple[float, float] | None = None,
            margin: float | None = None, inferred: bool = False) -> Copula:
        """Estimate the marginal from a column's observed values (NaN ignored); ``inferred``
        marks bounds found from the scores (see :attr:`Logit.inferred`)."""
        values = np.asarray(values, dtype=float)
        values = values[~np.isnan(values)]
        if len(values) < MIN_COPULA_VALUES:
            raise ValueError(
                f"a copula marginal needs at least {MIN_COPULA_VALUES} observed values; got "
                f"{len(values)}."
            )
        base = (Identity() if bounds is None
                else Logit(*bounds, margin=margin, inferred=inferred))
        u = np.asarray(base.forward(values), dtype=float)
        n = len(u)
        sd = u.std(ddof=1)
        iqr = np.subtract(*np.percentile(u, [75, 25]))
        spread = min(sd, iqr / 1.349) if iqr > 0 else sd
        if not spread > 0:
            raise ValueError("a copula marginal needs values that are not all equal.")
        h = 1.3 * spread * n ** (-1.0 / 3.0)
        grid_u = np.linspace(u.min() - COPULA_REACH * h, u.max() + COPULA_REACH * h,
                             COPULA_GRID)
        # F(u) = mean_i Phi((u - u_i) / h), in chunks of the grid to bound memory
        cdf = np.concatenate([ndtr((chunk[:, None] - u[None, :]) / h).mean(axis=1)
                              for chunk in np.array_split(grid_u, max(1, n * COPULA_GRID
                                                                      // 4_000_000))])
        grid_z = ndtri(np.clip(cdf, 1e-300, 1.0 - 1e-16))
        keep = np.concatenate([[True], np.diff(grid_z) > 1e-12])  # strictly increasing knots
        return cls(base, grid_u[keep], grid_z[keep], float(h))

    @property
    def bounds(self) -> tuple[float, float]:
        return self.base.bounds

    @property
    def inferred(self) -> bool:
        """Whether the bounds were inferred from the scores (:attr:`Logit.inferred`)."""
        return bool(getattr(self.base, "inferred", False))

    def _slopes(self) -> tuple[float, float]:
        u, z = self.grid_u, self.grid_z
        return (z[1] - z[0]) / (u[1] - u[0]), (z[-1] - z[-2]) / (u[-1] - u[-2])

    def forward(self, x):
        u = np.asarray(self.base.forward(x), dtype=float)
        lo, hi = self._slopes()
        z = np.interp(u, self.grid_u, self.grid_z)
        z = np.where(u < self.grid_u[0], self.grid_z[0] + lo * (u - self.grid_u[0]), z)
        return np.where(u > self.grid_u[-1], self.grid_z[-1] + hi * (u - self.grid_u[-1]), z)

    def inverse(self, z):
        z = np.asarray(z, dtype=float)
        lo, hi = self._slopes()
        u = np.interp(z, self.grid_z, self.grid_u)
        u = np.where(z < self.grid_z[0], self.grid_u[0] + (z - self.grid_z[0]) / lo, u)
        u = np.where(z > self.grid_z[-1], self.grid_u[-1] + (z - self.grid_z[-1]) / hi, u)
        return self.base.inverse(u)

    def log_jacobian(self, x):
        u = np.asarray(self.base.forward(x), dtype=float)
        slopes = np.diff(self.grid_z) / np.diff(self.grid_u)
        segment = np.clip(np.searchsorted(self.grid_u, u) - 1, 0, len(slopes) - 1)
        return np.log(slopes[segment]) + self.base.log_jacobian(x)

    def to_dict(self) -> dict:
        return {"name": self.name, "base": self.base.to_dict(), "grid_u": self.grid_u.tolist(),
                "grid_z": self.grid_z.tolist(), "bandwidth": self.bandwidth}


Transform = Identity | Logit | Log | Copula


def transform_from_dict(spec: dict) -> Transform:
    """Rebuild a transform from :meth:`to_dict` output.

    Examples
    --------
    >>> transform_from_dict(Logit(0.0, 1.0).to_dict()) == Logit(0.0, 1.0)
    True
    """
    name = spec.get("name")
    if name == "identity":
        return Identity()
    if name == "log":
        return Log()
    if name == "logit":
        return Logit(spec["lower"], spec["upper"], margin=spec["margin"],
                     inferred=bool(spec.get("inferred", False)))
    if name == "copula":
        return Copula(transform_from_dict(spec["base"]), np.asarray(spec["grid_u"], float),
                      np.asarray(spec["grid_z"], float), float(spec["bandwidth"]))
    raise ValueError(f"Unknown transform {name!r} in a saved specification; this version "
                     f"knows {list(TRANSFORMS)}.")


def bounds_inferred(transform: Transform) -> bool:
    """Whether a transform's bounds were inferred from the scores (``bounds="auto"``) rather
    than given.

    Examples
    --------
    >>> bounds_inferred(Logit(0.0, 1.0, inferred=True)), bounds_inferred(Logit(0.0, 1.0))
    (True, False)
    """
    return bool(getattr(transform, "inferred", False))
