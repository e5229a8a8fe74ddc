"""Wall time of fitting the full leaderboard: ours (sufficient statistics + numpyro) vs the
textbook per-row ``pm.MvNormal(observed=X)`` PyMC model, same priors and settings, in one run.

    python benchmarks/fit_speed.py            # full reference (the per-row model takes ~11 min)
    python benchmarks/fit_speed.py --quick    # per-row reference at 1/10 of the iterations

Each fit runs in a fresh process, without the fit cache, so every time includes compilation
(JAX's persistent compilation cache, when warm, shortens it). Ours is repeated
``--repeats`` times and its median reported, on the raw scores and with copula marginals
(bounds 0-100) plus the log parameter count as a covariate.
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
df = full[(["params_b"] if scales else []) + sib.datasets.BENCHMARKS]
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


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="run the per-row reference at 1/10 of the draws and tuning steps")
    parser.add_argument("--repeats", type=int, default=3, help="fits of ours (median reported)")
    args = parser.parse_args()

    ours = [run(OURS.format(seed=i, scales={})) for i in range(args.repeats)]
    times = [r["seconds"] for r in ours]
    scales = dict(transform="copula", bounds=(0, 100), covariates={"params_b": "log"})
    scaled = [run(OURS.format(seed=i, scales=scales)) for i in range(args.repeats)]
    scaled_times = [r["seconds"] for r in scaled]
    scale = 10 if args.quick else 1
    ref = run(PER_ROW.format(draws=1000 // scale, tune=1000 // scale))

    print("Full leaderboard: 4,576 models x 6 benchmarks, 4 chains, 2 cores\n")
    print(f"{'model':<46}{'iterations':>14}{'wall s':>10}")
    print(f"{'sufficient statistics + numpyro (ours), median':<46}{'1000+1000':>14}"
          f"{statistics.median(times):>10.1f}")
    print(f"{'  ours, copula (0-100) + log params, median':<46}{'1000+1000':>14}"
          f"{statistics.median(scaled_times):>10.1f}")
    print(f"{'per-row pm.MvNormal, PyMC NUTS':<46}"
          f"{f'{1000 // scale}+{1000 // scale}':>14}{ref['seconds']:>10.1f}")
    if args.quick:
        print(f"\n--quick: the per-row reference ran 1/{scale} of the iterations; its time for "
              "1000+1000 is larger (roughly x10 for the sampling part).")
    else:
        print(f"\nspeed-up: x{ref['seconds'] / statistics.median(times):.0f}")
    print(f"\nours, each run: {', '.join(f'{t:.1f}' for t in times)} s; copula + params: "
          f"{', '.join(f'{t:.1f}' for t in scaled_times)} s")
    worst = max(ours + scaled, key=lambda r: r["max_r_hat"])
    print(f"ours, worst run: divergences {worst['divergences']}, max r_hat "
          f"{worst['max_r_hat']:.4f}, min bulk ESS "
          f"{min(r['min_ess_bulk'] for r in ours + scaled):.0f}, "
          f"min tail ESS {min(r['min_ess_tail'] for r in ours + scaled):.0f}")


if __name__ == "__main__":
    main()
