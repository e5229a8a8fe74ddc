"""Silence third-party banners that say nothing about the user's work.

ArviZ 0.2x announces its 1.x refactor with a five-line ``FutureWarning`` on import, and PyTensor
warns that it cannot link its C code to a BLAS library (sampling runs in JAX, which never uses
that code). Both would open every command and every notebook session; the filters below match
those two messages only, so every warning about the user's work (sampler checks, out-of-range
observations, deprecations of this library) still shows.

Examples
--------
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     silence_third_party_banners()
...     warnings.warn("\\nArviZ is undergoing a major refactor to improve ...", FutureWarning)
>>> caught
[]
"""

from __future__ import annotations

import warnings

#: (message regex, category) of each banner silenced.
BANNERS: tuple[tuple[str, type[Warning]], ...] = (
    (r"\s*ArviZ is undergoing a major refactor", FutureWarning),
    (r"PyTensor could not link to a BLAS installation", UserWarning),
    (r"Using NumPy C-API based implementation for BLAS functions", UserWarning),
)


def silence_third_party_banners() -> None:
    """Add an "ignore" filter for each of :data:`BANNERS` (idempotent: a filter already
    present is not added twice)."""
    for message, category in BANNERS:
        warnings.filterwarnings("ignore", message=message, category=category)
