"""The default transform on the fixed protocol's 20-model variant, beside the previous default.

    python benchmarks/default_transform.py        # about 10 min on 2 cores

``transform="auto"`` (the default) picks the copula for a benchmark with at least 50 scores,
else the logit of bounded scores, else the normal. On the full leaderboard (4,575 scores per
benchmark) it picks the copula everywhere: the script checks that the fitted transforms are
those of ``transform="copula"`` (so the fixed protocol's figures are unchanged), then runs the
20-model variant (``sib.evaluate(df, random_seed=0, population_size=20, replications=10)``,
100 test models per replication) for the default, the previous default (``"copula"``), the
normal on the scores (``None``) and the plug-in: CRPS, MAE and 90% coverage with one and two
observed benchmarks.
"""

from __future__ import annotations

import time
import warnings

import pandas as pd


def main() -> None:
    warnings.simplefilter("ignore")
    import skillinfer_bayes as sib

    df = sib.datasets.open_llm_leaderboard()[sib.datasets.BENCHMARKS]
    auto = sib.prepare(df, normalize=False).transform_specs()
    copula = sib.prepare(df, normalize=False, transform="copula").transform_specs()
    print("full leaderboard: 'auto' fits the same transforms as 'copula':", auto == copula)
    rows = {}
    variants = {"auto (the default)": "auto", "copula (the previous default)": "copula",
                "logit (0, 100)": "logit",
                "normal on the scores (None)": None}
    for label, transform in variants.items():
        t = time.perf_counter()
        methods = ("bayes", "plugin") if transform is None else ("bayes",)
        res = sib.evaluate(df, random_seed=0, methods=methods, population_size=20,
                           replications=10, progressbar=False, transform=transform)
        for method in methods:
            s = res.summary.loc[method]
            name = label if method == "bayes" else "plug-in (skillinfer's method)"
            rows[name] = {"crps_1": s.loc[1, "crps"], "crps_2": s.loc[2, "crps"],
                          "mae_1": s.loc[1, "MAE"], "mae_2": s.loc[2, "MAE"],
                          "cov90_1": s.loc[1, "coverage_90"], "cov90_2": s.loc[2, "coverage_90"]}
        print(f"{label}: {time.perf_counter() - t:.0f} s", flush=True)
    print(pd.DataFrame(rows).T.round(3).to_string())


if __name__ == "__main__":
    main()
