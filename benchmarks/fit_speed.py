"""Wall time of fitting the full leaderboard: ours (sufficient statistics + numpyro) vs the
textbook per-row ``pm.MvNormal(observed=X)`` PyMC model, same priors and settings, in one run.

    python benchmarks/fit_speed.py            # full reference (the per-row model takes ~11 min)
    python benchmarks/fit_speed.py --quick    # per-row reference at 1/10 of the iterations

Each fit runs in a fresh process, without the fit cache, so every time includes compilation
(JAX's persistent compilation cache, when warm, shortens it). Ours is repeated
``--repeats`` times and its median reported: the default (copula marginals, bounds "auto"
= 0-100 here), the default with the log parameter count as a covariate, and the normal on the
raw scores (``transform=None``, the previous default).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

OURS = """
import json, time, warnings
warnings.simplefilter("ignore")
import skillinfer_bayes as sib
full = sib.datasets.open_llm_leaderboard().set_index("fullname")
scales = {scales}
df = full[(["params_b"] if "covariates" in scales else []) + sib.datasets.BENCHMARKS]
t = time.perf_counter()
pop = sib.Population.from_dataframe(df, normalize=False, random_seed={seed}, progressbar=False,
                                    cache=False, **scales)
elapsed = time.perf_counter() - t
print(json.dumps({{"seconds": elapsed, **{{k: v for k, v in pop.diagnostics().items()
                                          if k != "problems"}}}}))
"""

PER_ROW = """
import json, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pymc as pm
import skillinfer_bayes as sib
from skillinfer_bayes.models.mvn import per_row_model
df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
X = df.to_numpy()
X = (X - X.mean(0)) / X.std(0, ddof=1)
t = time.perf_counter()
with per_row_model(X, sib.datasets.BENCHMARKS, sib.Prior()):
    idata = pm.sample(draws={draws}, tune={tune}, chains=4, cores=2, random_seed=0,
                      progressbar=False, compute_convergence_checks=False)
elapsed = time.perf_counter() - t
print(json.dumps({{"seconds": elapsed,
                  "divergences": int(idata["sample_stats"]["diverging"].sum())}}))
"""


#: Our fits, by label: keyword arguments of ``Population.from_dataframe``.
VARIANTS = {
    "ours: the default (copula, bounds auto)": {},
    "ours: the default + log params": {"covariates": {"params_b": "log"}},
    "ours: normal on raw scores (transform=None)": {"transform": None},
}


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="run the per-row reference at 1/10 of the draws and tuning steps")
    parser.add_argument("--repeats", type=int, default=3, help="fits of ours (median reported)")
    args = parser.parse_args()

    runs = {label: [run(OURS.format(seed=i, scales=scales)) for i in range(args.repeats)]
            for label, scales in VARIANTS.items()}
    scale = 10 if args.quick else 1
    ref = run(PER_ROW.format(draws=1000 // scale, tune=1000 // scale))

    print("Full leaderboard: 4,576 models x 6 benchmarks, 4 chains, 2 cores\n")
    print(f"{'model':<54}{'iterations':>12}{'wall s':>10}")
    for label, results in runs.items():
        print(f"{label + ', median':<54}{'1000+1000':>12}"
              f"{statistics.median(r['seconds'] for r in results):>10.1f}")
    print(f"{'per-row pm.MvNormal (raw scores), PyMC NUTS':<54}"
          f"{f'{1000 // scale}+{1000 // scale}':>12}{ref['seconds']:>10.1f}")
    default = statistics.median(r["seconds"] for r in runs[next(iter(VARIANTS))])
    if args.quick:
        print(f"\n--quick: the per-row reference ran 1/{scale} of the iterations; its time for "
              "1000+1000 is larger (roughly x10 for the sampling part).")
    else:
        print(f"\nspeed-up of the default: x{ref['seconds'] / default:.0f}")
    print()
    for label, results in runs.items():
        seconds = ", ".join(f"{r['seconds']:.1f}" for r in results)
        print(f"{label}, each run: {seconds} s")
    every = [r for results in runs.values() for r in results]
    worst = max(every, key=lambda r: r["max_r_hat"])
    print(f"ours, worst run: divergences {worst['divergences']}, max r_hat "
          f"{worst['max_r_hat']:.4f}, min bulk ESS {min(r['min_ess_bulk'] for r in every):.0f}, "
          f"min tail ESS {min(r['min_ess_tail'] for r in every):.0f}")


if __name__ == "__main__":
    main()
