"""Cold fits of mixture populations on the embedded leaderboard (issue 13, done-when 4).

    python benchmarks/mixture_fit.py            # C = 1 (reference), 2, 4
    python benchmarks/mixture_fit.py 2 6        # the numbers of components to fit
    python benchmarks/mixture_fit.py 1 8 --concentration 0.01   # an overfitted, sparse mixture

The default configuration of the issue: the copula marginals and the log parameter count as a
covariate, default sampler settings (4 chains x 1000 draws after 1000 tuning steps), no fit
cache. Each fit runs in a fresh Python process, so the time includes compiling the sampler
(the JAX compilation cache is turned off). Prints per C: the wall time of the fit, the
label-invariant max r_hat and min bulk / tail ESS (the headline diagnostics of a mixture), the
max r_hat of the component-labelled parameters, divergences, the mean tree depth, the time
of the plug-in Gaussian mixture (scikit-learn's EM) on the same latent table, the posterior
mean weights and how many components hold more than 1% of the weight (mean over draws).
``--concentration`` sets the Dirichlet concentration of the weights (``Prior.
weight_concentration``): an overfitted mixture with a small one (Malsiner-Walli et al. 2016
use about 10 components and 0.01) should leave the components the data do not need empty,
choosing C in one fit (issue 34).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import skillinfer_bayes as sib

ONE_FIT = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import skillinfer_bayes as sib
from sklearn.mixture import GaussianMixture
C, concentration = int(sys.argv[1]), float(sys.argv[2])
full = sib.datasets.open_llm_leaderboard().set_index("fullname")
df = full[["params_b", *sib.datasets.BENCHMARKS]]
start = time.perf_counter()
pop = sib.Population.from_dataframe(df, covariates={"params_b": "log"}, components=C,
                                    prior=sib.Prior(weight_concentration=concentration),
                                    random_seed=0, cache=False, progressbar=False)
seconds = time.perf_counter() - start
d = pop.diagnostics()
Z = pop.data.standardized()
Z = Z[~np.isnan(Z).any(axis=1)]
start = time.perf_counter()
GaussianMixture(C, random_state=0).fit(Z)
em = time.perf_counter() - start
stats = pop.idata["sample_stats"]
print(json.dumps({"C": C, "seconds": seconds, "max_r_hat": d["max_r_hat"],
                  "min_ess_bulk": d["min_ess_bulk"], "min_ess_tail": d["min_ess_tail"],
                  "max_r_hat_components": d.get("max_r_hat_components", float("nan")),
                  "divergences": d["divergences"],
                  "tree_depth": float(stats["tree_depth"].mean()), "em_seconds": em,
                  "weights": pop.component_weight_draws.mean(axis=0).round(3).tolist(),
                  "occupied": float((pop.component_weight_draws > 0.01).sum(axis=1).mean())}))
"""


def main(components: list[int], concentration: float) -> None:
    env = {**os.environ, "SKILLINFER_BAYES_JAX_CACHE": "0"}
    rows = []
    for C in components:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", ONE_FIT, str(C), str(concentration)],
                             capture_output=True, text=True, env=env, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["process"] = time.perf_counter() - started
        rows.append(row)
        print(f"C = {C}: {row['seconds']:.1f} s", file=sys.stderr, flush=True)
    print("Leaderboard, 4,576 models x 6 benchmarks + log params, copula, cold, 4 x 1000 draws, "
          f"weight concentration {concentration:g}\n")
    print(f"{'C':>3} {'fit s':>7} {'r_hat':>7} {'ESS bulk':>9} {'ESS tail':>9} "
          f"{'r_hat comp.':>12} {'div.':>5} {'depth':>6} {'EM s':>6} {'>1%':>5}  weights")
    for r in rows:
        print(f"{r['C']:>3} {r['seconds']:>7.1f} {r['max_r_hat']:>7.4f} "
              f"{r['min_ess_bulk']:>9.0f} {r['min_ess_tail']:>9.0f} "
              f"{r['max_r_hat_components']:>12.4f} {r['divergences']:>5} "
              f"{r['tree_depth']:>6.2f} {r['em_seconds']:>6.2f} {r['occupied']:>5.2f}  "
              f"{r['weights']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("components", nargs="*", type=int, default=[1, 2, 4])
    parser.add_argument("--concentration", type=float, default=None,
                        help="Dirichlet concentration of the weights (default: the Prior's)")
    args = parser.parse_args()
    main(args.components, args.concentration if args.concentration is not None
         else sib.Prior().weight_concentration)
