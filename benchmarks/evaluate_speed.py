"""Wall time of the full calibration protocol (issue 3): fit once, then predict and score
27,450 + 54,900 held-out cells per method, Bayesian mixture over 4,000 draws vs plug-in.

    python benchmarks/evaluate_speed.py

Prints the phase times and the summary table of one run (seed 0, n_observed 1 and 2).
"""

from __future__ import annotations

import time
import warnings

warnings.simplefilter("ignore")

import pandas as pd  # noqa: E402

import skillinfer_bayes as sib  # noqa: E402


def main() -> None:
    df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    rows = []
    start = time.perf_counter()
    both = sib.evaluate(df, n_observed=(1, 2), methods=("bayes", "plugin"), random_seed=0,
                        progressbar=False)
    rows.append(("bayes + plugin (one fit, all metrics)", time.perf_counter() - start))
    start = time.perf_counter()
    sib.evaluate(df, n_observed=(1, 2), methods=("plugin",), random_seed=0, progressbar=False)
    rows.append(("plugin only", time.perf_counter() - start))
    print("Full protocol: 915 test models, n_observed 1 and 2 (82,350 cells per method)\n")
    for name, seconds in rows:
        print(f"  {name:<40}{seconds:>8.1f} s")
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print()
        print(both.summary.to_string())


if __name__ == "__main__":
    main()
