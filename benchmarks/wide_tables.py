"""Wide and sparse tables: the factor covariance against its references, in one run.

    python benchmarks/wide_tables.py sparse   # 80 x 50, rank 2, 35% known (about 10 min)
    python benchmarks/wide_tables.py wide     # 900 x 120, rank 5, complete (about 2 min)
    python benchmarks/wide_tables.py wide --draws 400   # the same with 4 x 400 draws
    python benchmarks/wide_tables.py leaderboard  # the fixed protocol, factor vs dense (~10 min)
    python benchmarks/wide_tables.py calibration  # the defaults' 90% coverage, 3 tables (~20 min)

``sparse``: a cold fit of the whole table (fresh process, JAX's compilation cache off, 4 x 1000
draws, ``target_accept=0.9``): seconds, divergences, max r_hat and min bulk ESS over Sigma's
entries. Then the cell-holdout protocol (hide 50%, 3 folds, seed 42) on the same table: the
Bayesian factor model of rank 2, the plug-in factor analysis fitted by EM at ranks 1, 2 and 3
(``models.factor_em``), the k-nearest-neighbour and mean baselines, and the oracle that
conditions on the true mean and covariance. Printed: median absolute error (and its ratio to
the oracle's), MAE, 90% coverage and CRPS.

``wide``: a cold fit of a complete 900 x 120 table of rank 5 (4 x ``--draws`` draws after as
many tuning steps): seconds and the diagnostics over Sigma's entries; the EM fit's time beside
it.

``calibration``: the cell-holdout protocol (hide 50%, 3 folds, seed 42) of the sparse table
drawn with seeds 0, 1 and 2, the Bayesian factor model of rank 2 on the defaults (no
``transform=`` argument: ``"auto"`` picks each benchmark's transform) beside
``transform=None``: each benchmark's choice, 90% coverage, MAE and CRPS per table and averaged.

``leaderboard``: ``n_factors="auto"`` on the full leaderboard (its PSIS-LOO table), then the
fixed protocol (``sib.evaluate(df, random_seed=0)``) with ``covariance="factor"`` at the chosen
rank against the dense (LKJ) default and the plug-in: CRPS, MAE and 90% coverage with one and
two observed benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

FIT = """
import json, time, warnings
warnings.simplefilter("ignore")
import numpy as np, arviz as az, xarray as xr
import skillinfer_bayes as sib
sim = sib.datasets.simulate_factor_table({N}, {K}, {r}, known={known}, random_seed=0)
t = time.perf_counter()
pop = sib.Population.from_dataframe(sim.table, covariance="factor", n_factors={r},
                                    transform=None, normalize=False, random_seed=1,
                                    target_accept={target_accept}, progressbar=False,
                                    cache=False, draws={draws}, tune={draws})
elapsed = time.perf_counter() - t
S = pop.idata["posterior"]["Sigma"]
i, j = np.triu_indices(S.sizes["benchmark"])
entries = xr.Dataset({{"S": (("chain", "draw", "entry"), S.values[:, :, i, j])}})
d = pop.diagnostics()
err = np.abs(pop.Sigma_draws.mean(0) - sim.covariance).max() / np.abs(sim.covariance).max()
print(json.dumps({{"seconds": elapsed, "divergences": d["divergences"],
                  "max_r_hat_Sigma": float(az.rhat(entries)["S"].max()),
                  "min_ess_bulk_Sigma": float(az.ess(entries, method="bulk")["S"].min()),
                  "max_tree_depth_hits": d["max_tree_depth_hits"],
                  "mean_tree_depth": float(pop.idata["sample_stats"]["tree_depth"].mean()),
                  "Sigma_max_rel_error": float(err)}}))
"""


def cold_fit(N: int, K: int, r: int, known: float, target_accept: float,
             draws: int = 1000) -> dict:
    """A fit in a fresh process with JAX's persistent compilation cache off (4 chains x
    ``draws`` after as many tuning steps)."""
    code = FIT.format(N=N, K=K, r=r, known=known, target_accept=target_accept, draws=draws)
    env = {**os.environ, "SKILLINFER_BAYES_JAX_CACHE": "0"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def oracle_errors(sim, hidden_folds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Absolute errors, PIT-free 90% hits and CRPS of the oracle on the hidden cells."""
    from scipy.stats import norm

    X = sim.table.to_numpy()
    mu, Sigma = sim.mean, sim.covariance
    errors, hits, crps = [], [], []
    for h in hidden_folds:
        for i in np.flatnonzero(h.any(axis=1)):
            o = np.flatnonzero(~np.isnan(X[i]) & ~h[i])
            u = np.flatnonzero(h[i])
            gain = Sigma[np.ix_(u, o)] @ np.linalg.inv(Sigma[np.ix_(o, o)])
            m = mu[u] + gain @ (X[i, o] - mu[o])
            s = np.sqrt(np.diag(Sigma[np.ix_(u, u)] - gain @ Sigma[np.ix_(o, u)]))
            z = (X[i, u] - m) / s
            errors += list(np.abs(X[i, u] - m))
            hits += list(np.abs(z) <= norm.ppf(0.95))
            crps += list(s * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi)))
    return np.array(errors), np.array(hits), np.array(crps)


def sparse() -> None:
    import skillinfer_bayes as sib
    from skillinfer_bayes.studies.cells import evaluate_cells, hide_cells

    N, K, r, known = 80, 50, 2, 0.35
    print(f"Simulated {N} x {K}, rank {r}, {known:.0%} of the cells known "
          "(sib.datasets.simulate_factor_table(..., random_seed=0))")
    fit = cold_fit(N, K, r, known, 0.9)
    print("cold fit, 4 x 1000 draws:", json.dumps({k: round(v, 4) for k, v in fit.items()}))
    sim = sib.datasets.simulate_factor_table(N, K, r, known=known, random_seed=0)
    rows = []
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_cells(sim.table, hide_fraction=0.5, folds=3, random_seed=42,
                             covariance="factor", n_factors=r, transform=None,
                             methods=("bayes", "em", "knn", "mean"), progressbar=False,
                             sampler_config=sib.SamplerConfig(target_accept=0.9))
    print(f"cell protocol with the Bayesian fits: {time.perf_counter() - t:.0f} s")
    summary = res.summary
    for method in ("bayes", "em", "knn", "mean"):
        label = {"bayes": f"bayes, factor r={r}", "em": f"EM plug-in r={r}"}.get(method, method)
        rows.append((label, *summary.loc[method, ["median_abs_error", "MAE", "coverage_90",
                                                  "crps"]]))
    for rank in (1, 3):
        other = evaluate_cells(sim.table, hide_fraction=0.5, folds=3, random_seed=42,
                               methods=("em",), em_factors=rank, progressbar=False).summary
        rows.append((f"EM plug-in r={rank}", *other.loc["em", ["median_abs_error", "MAE",
                                                              "coverage_90", "crps"]]))
    rng = np.random.default_rng(42)
    known_cells = sim.table.notna().to_numpy()
    hidden = [hide_cells(known_cells, 0.5, 2, rng) for _ in range(3)]
    errors, hits, crps = oracle_errors(sim, hidden)
    rows.append(("oracle (true mean and covariance)", np.median(errors), errors.mean(),
                 hits.mean(), crps.mean()))
    table = pd.DataFrame(rows, columns=["method", "median_abs_error", "MAE", "coverage_90",
                                        "crps"]).set_index("method")
    table.insert(1, "x oracle", table["median_abs_error"] / np.median(errors))
    print(table.round(4).to_string())


def calibration(seeds: tuple[int, ...] = (0, 1, 2), models: tuple[str, ...] = ("defaults",
                                                                             "none")) -> None:
    import skillinfer_bayes as sib
    from skillinfer_bayes.data.prepared import prepare
    from skillinfer_bayes.studies.cells import evaluate_cells

    N, K, r, known = 80, 50, 2, 0.35
    rows = []
    for seed in seeds:
        table = sib.datasets.simulate_factor_table(N, K, r, known=known, random_seed=seed).table
        chosen = pd.Series([t.name for t in prepare(table).transforms]).value_counts()
        print(f"table seed {seed}: the default's transforms {chosen.to_dict()}", flush=True)
        variants = {"defaults": ("defaults", {}), "none": ("transform=None", {"transform": None})}
        for label, options in (variants[m] for m in models):
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = evaluate_cells(table, hide_fraction=0.5, folds=3, random_seed=42,
                                     covariance="factor", n_factors=r, methods=("bayes",),
                                     progressbar=False, **options,
                                     sampler_config=sib.SamplerConfig(target_accept=0.9))
            s = res.summary.loc["bayes"]
            rows.append({"seed": seed, "model": label, "coverage_90": s["coverage_90"],
                         "MAE": s["MAE"], "crps": s["crps"],
                         "seconds": time.perf_counter() - t})
            print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    print(frame.round(4).to_string(index=False))
    print(frame.groupby("model")[["coverage_90", "MAE", "crps"]].mean().round(4).to_string())


def wide(draws: int) -> None:
    import skillinfer_bayes as sib
    from skillinfer_bayes.models.factor_em import fit_factor_em

    N, K, r = 900, 120, 5
    print(f"Simulated {N} x {K}, rank {r}, complete")
    fit = cold_fit(N, K, r, 1.0, 0.8, draws)
    print(f"cold fit, 4 x {draws} draws:",
          json.dumps({k: round(v, 4) for k, v in fit.items()}))
    sim = sib.datasets.simulate_factor_table(N, K, r, known=1.0, random_seed=0)
    t = time.perf_counter()
    em = fit_factor_em(sim.table.to_numpy(), r)
    err = np.abs(em.covariance - sim.covariance).max() / np.abs(sim.covariance).max()
    print(f"EM plug-in: {time.perf_counter() - t:.1f} s, {em.n_iter} iterations, "
          f"Sigma max rel error {err:.4f}")


def leaderboard() -> None:
    import skillinfer_bayes as sib

    df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = sib.Population.from_dataframe(df, covariance="factor", n_factors="auto",
                                            random_seed=0, progressbar=False, cache=False)
    print(f"n_factors='auto' on the full table ({time.perf_counter() - t:.0f} s):")
    print(pop.factor_selection.round(2).to_string())
    chosen = pop.n_factors
    models = {"dense (lkj), the default": {},
              f"factor r={chosen} (chosen)": {"covariance": "factor", "n_factors": chosen}}
    rows = {}
    for label, options in models.items():
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sib.evaluate(df, random_seed=0, methods=("bayes", "plugin"),
                               progressbar=False, **options)
        for method in ("bayes", "plugin"):
            if method == "plugin" and "plug-in (skillinfer's method)" in rows:
                continue  # the same for every model: once
            s = res.summary.loc[method]
            rows[label if method == "bayes" else "plug-in (skillinfer's method)"] = {
                "crps_1": s.loc[1, "crps"], "crps_2": s.loc[2, "crps"],
                "mae_1": s.loc[1, "MAE"], "mae_2": s.loc[2, "MAE"],
                "cov90_1": s.loc[1, "coverage_90"], "cov90_2": s.loc[2, "coverage_90"],
                "seconds": time.perf_counter() - t}
        print(label, "done", flush=True)
    table = pd.DataFrame(rows).T
    dense = table.iloc[0]
    table["crps_1 vs dense"] = table["crps_1"] / dense["crps_1"] - 1
    table["crps_2 vs dense"] = table["crps_2"] / dense["crps_2"] - 1
    print(table.round(4).to_string())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("sparse", "wide", "leaderboard", "calibration"))
    parser.add_argument("--seeds", default="0,1,2", help="calibration: the tables' seeds")
    parser.add_argument("--models", default="defaults,none",
                        help="calibration: defaults, none (transform=None) or both")
    parser.add_argument("--draws", type=int, default=1000,
                        help="draws and tuning steps per chain of the wide fit")
    args = parser.parse_args()
    if args.case == "wide":
        wide(args.draws)
    elif args.case == "calibration":
        calibration(tuple(int(v) for v in args.seeds.split(",")),
                    tuple(args.models.split(",")))
    else:
        {"sparse": sparse, "leaderboard": leaderboard, "calibration": calibration}[args.case]()
