"""The fixed protocol with mixture populations on the embedded leaderboard (issue 13, done-when 1).

    python benchmarks/mixture_protocol.py 6                  # C = 6, the default prior
    python benchmarks/mixture_protocol.py 8 --floor 0.15 --target-accept 0.9
    python benchmarks/mixture_protocol.py 1 --plugin         # with the plug-in methods

Runs ``sib.evaluate(df[["params_b", *BENCHMARKS]], random_seed=0, covariates={"params_b":
"log"}, components=C)`` (the fixed split and metrics; only the prior and sampler settings
given here change) and prints, per number of observed benchmarks, CRPS, MAE and 90% coverage,
then the training fit's sampler diagnostics (``EvaluationResult.fits``) and the wall time of
the whole run. A figure is worth quoting only from a fit whose diagnostics are ``ok``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import skillinfer_bayes as sib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("components", help="C, or 'auto'")
    parser.add_argument("--floor", type=float, default=sib.Prior().component_floor)
    parser.add_argument("--concentration", type=float,
                        default=sib.Prior().weight_concentration)
    parser.add_argument("--target-accept", type=float, default=None)
    parser.add_argument("--tune", type=int, default=None)
    parser.add_argument("--shared", action="store_true", help="one shared covariance")
    parser.add_argument("--plugin", action="store_true",
                        help="also the plug-in normal and the plug-in EM mixture")
    args = parser.parse_args()
    C = args.components if args.components == "auto" else int(args.components)
    full = sib.datasets.open_llm_leaderboard().set_index("fullname")
    df = full[["params_b", *sib.datasets.BENCHMARKS]]
    prior = sib.Prior(component_floor=args.floor, weight_concentration=args.concentration)
    methods = ("bayes", "plugin", "plugin_mixture") if args.plugin else ("bayes",)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fits' diagnostics are printed below
        res = sib.evaluate(df, random_seed=0, covariates={"params_b": "log"}, components=C,
                           methods=methods, prior=prior, target_accept=args.target_accept,
                           tune=args.tune, shared_covariance=args.shared, progressbar=False)
    seconds = time.perf_counter() - started
    print(f"components={C} floor={args.floor} concentration={args.concentration} "
          f"target_accept={args.target_accept} tune={args.tune} shared={args.shared}")
    print(res.summary[["crps", "MAE", "coverage_90", "width_90", "n_cells"]].round(4)
          .to_string())
    print(res.fits.to_string())
    print(f"run: {seconds:.0f} s")


if __name__ == "__main__":
    main()
