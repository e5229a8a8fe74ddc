"""What the speed scripts in ``benchmarks/`` share: the median latency of a call.

    >>> median_ms(lambda: None, 3) >= 0.0
    True
"""

from __future__ import annotations

import statistics
import time


def median_ms(fn, repeats: int) -> float:
    """The median time of ``repeats`` calls of ``fn``, in milliseconds, after one warm-up."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)
