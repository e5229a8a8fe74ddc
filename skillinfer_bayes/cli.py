"""The ``skillinfer-bayes`` command line.

Examples
--------
Fit the embedded leaderboard without one model, observe its BBH score, print the prediction::

    skillinfer-bayes predict --hold-out meta-llama/Llama-3.1-70B-Instruct --observe BBH=55.93
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

import pandas as pd

from skillinfer_bayes.datasets import BENCHMARKS, open_llm_leaderboard


class CLIError(Exception):
    """Bad command-line input: reported as one line with exit status 2."""


def _parse_observation(text: str) -> tuple[str, float]:
    name, sep, value = text.rpartition("=")
    if not sep or not name:
        raise CLIError(f"--observe takes BENCHMARK=SCORE (e.g. BBH=55.93); got {text!r}.")
    try:
        return name, float(value)
    except ValueError:
        raise CLIError(f"--observe {text!r}: {value!r} is not a number.") from None


def _load_table(args: argparse.Namespace) -> pd.DataFrame:
    if args.data is None:
        df = open_llm_leaderboard().set_index("fullname")
        default_columns = BENCHMARKS
    else:
        path = args.data
        if path.endswith(".csv"):
            df = pd.read_csv(path)
        elif path.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        else:
            raise CLIError(f"--data {path!r}: expected a .csv or .parquet file.")
        if args.index_col is not None:
            if args.index_col not in df.columns:
                raise CLIError(
                    f"--index-col {args.index_col!r} is not a column of {path}; columns: "
                    f"{sorted(map(str, df.columns))}."
                )
            df = df.set_index(args.index_col)
        default_columns = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    columns = args.benchmarks.split(",") if args.benchmarks else default_columns
    unknown = sorted(set(columns) - set(map(str, df.columns)))
    if unknown:
        raise CLIError(
            f"--benchmarks {unknown} not in the data; columns: {sorted(map(str, df.columns))}."
        )
    return df[columns]


def _predict(args: argparse.Namespace) -> int:
    from skillinfer_bayes.population import Population

    df = _load_table(args)
    observations = dict(_parse_observation(o) for o in args.observe or [])
    unknown = sorted(set(observations) - set(df.columns))
    if unknown:
        raise CLIError(
            f"--observe names unknown benchmark(s) {unknown}; known benchmarks: "
            f"{sorted(df.columns)}."
        )
    truth = None
    if args.hold_out is not None:
        if args.hold_out not in df.index:
            raise CLIError(
                f"--hold-out {args.hold_out!r} is not a row of the data (rows are named by "
                "the index column, e.g. 'meta-llama/Llama-3.1-70B-Instruct')."
            )
        truth = df.loc[[args.hold_out]].iloc[0]
        df = df.drop(index=args.hold_out)
        if not observations:
            raise CLIError("--hold-out needs at least one --observe BENCHMARK=SCORE.")
    print(
        f"Fitting {len(df)} models x {df.shape[1]} benchmarks "
        f"({args.chains} chains x {args.draws} draws after {args.tune} tuning steps)...",
        file=sys.stderr,
    )
    pop = Population.from_dataframe(
        df,
        normalize=args.normalize,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        sampler=args.sampler,
        random_seed=args.seed,
        progressbar=not args.quiet,
    )
    print(pop)
    profile = pop.profile(noise=args.noise).observe_many(observations)
    table = profile.predict(level=args.level)
    if truth is not None:
        table["true"] = truth[table.index].to_numpy()
    print()
    print(f"Predicted scores ({args.level:.0%} intervals), observed: {profile.observed}")
    with pd.option_context("display.float_format", "{:.2f}".format, "display.width", 120):
        print(table)
    if truth is not None:
        print(
            f"\nMAE {profile.mae(truth):.2f}  RMSE {profile.rmse(truth):.2f}  "
            f"cosine {profile.similarity(truth):.4f}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="skillinfer-bayes",
        description="Fully Bayesian prediction of a model's benchmark scores from a few "
        "observed ones.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "predict",
        help="fit a population and predict a model's unobserved scores",
        description="Fit the population model (default: the embedded Open LLM Leaderboard v2 "
        "snapshot), observe some scores of a new model and print its predicted scores with "
        "intervals.",
    )
    p.add_argument("--data", help="CSV or Parquet score table (default: embedded leaderboard)")
    p.add_argument("--index-col", help="column holding model names (with --data)")
    p.add_argument("--benchmarks", help="comma-separated benchmark columns (default: all)")
    p.add_argument("--hold-out", help="model (row name) to leave out and compare against")
    p.add_argument(
        "--observe",
        action="append",
        metavar="BENCHMARK=SCORE",
        help="an observed score; repeat for several",
    )
    p.add_argument("--level", type=float, default=0.9, help="interval probability (0.9)")
    p.add_argument("--noise", type=float, default=None, help="observation noise sd")
    p.add_argument("--normalize", action="store_true", help="min-max scale scores to [0, 1]")
    p.add_argument("--draws", type=int, default=1000, help="draws per chain (1000)")
    p.add_argument("--tune", type=int, default=1000, help="tuning steps per chain (1000)")
    p.add_argument("--chains", type=int, default=4, help="number of chains (4)")
    p.add_argument(
        "--sampler", default="auto", choices=["auto", "numpyro", "nutpie", "pymc"]
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_predict)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skillinfer-bayes`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # The JAX samplers never use PyTensor's C/BLAS backend: its link warning is noise here.
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    warnings.filterwarnings("ignore", message="Using NumPy C-API based implementation for BLAS")
    try:
        return args.func(args)
    except (CLIError, ValueError, TypeError, KeyError, FileNotFoundError, ImportError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"skillinfer-bayes: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
