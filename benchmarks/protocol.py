"""The fixed protocol on the embedded leaderboard: the plug-in, the default model, and the
default with the log parameter count as a covariate (the README's results table).

    python benchmarks/protocol.py        # about 5 min on 2 cores

Runs ``sib.evaluate(df, random_seed=0, methods=("bayes", "plugin"))`` on the six benchmarks
(the fixed split: 20% of the complete rows held out, every set of 1 and 2 observed
benchmarks), then ``sib.evaluate(df[["params_b", *BENCHMARKS]], random_seed=0,
covariates={"params_b": "log"}, methods=("bayes",))``, and prints CRPS, 90% coverage and MAE
with 1 / 2 observed benchmarks for each, with the fits' diagnostics and the wall time. The
best configuration (``components="auto"`` with the covariate) takes about 35 minutes: run
``python benchmarks/mixture_protocol.py auto``.
"""

from __future__ import annotations

import time
import warnings

import pandas as pd


def rows(res, label: str, method: str) -> dict:
    s = res.summary.loc[method]
    pair = lambda column, fmt: " / ".join(format(s.loc[k, column], fmt) for k in (1, 2))  # noqa: E731
    return {"model": label, "CRPS": pair("crps", ".3f"), "cov90": pair("coverage_90", ".3f"),
            "MAE": pair("MAE", ".2f")}


def main() -> None:
    warnings.simplefilter("ignore")
    import skillinfer_bayes as sib

    raw = sib.datasets.open_llm_leaderboard().set_index("fullname")
    table = []
    started = time.perf_counter()
    res = sib.evaluate(raw[sib.datasets.BENCHMARKS], random_seed=0,
                       methods=("bayes", "plugin"), progressbar=False)
    table += [rows(res, "plug-in (skillinfer's Ledoit-Wolf)", "plugin"),
              rows(res, "the default", "bayes")]
    print(f"default and plug-in: {time.perf_counter() - started:.0f} s; fit diagnostics ok: "
          f"{bool(res.fits['ok'].all())}")
    started = time.perf_counter()
    res = sib.evaluate(raw[["params_b", *sib.datasets.BENCHMARKS]], random_seed=0,
                       covariates={"params_b": "log"}, methods=("bayes",), progressbar=False)
    table.append(rows(res, "the default + log params_b covariate", "bayes"))
    print(f"with the covariate: {time.perf_counter() - started:.0f} s; fit diagnostics ok: "
          f"{bool(res.fits['ok'].all())}")
    print("\nCRPS, 90% coverage and MAE with 1 / 2 observed benchmarks:")
    print(pd.DataFrame(table).to_string(index=False))


if __name__ == "__main__":
    main()
