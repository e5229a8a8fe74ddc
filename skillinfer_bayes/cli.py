"""The ``skillinfer-bayes`` command line.

Examples
--------
Fit the embedded leaderboard without one model, observe its BBH score, print the prediction::

    skillinfer-bayes predict --hold-out meta-llama/Llama-3.1-70B-Instruct --observe BBH=55.93

Fit once, save the posterior, then predict and choose the next benchmark without refitting::

    skillinfer-bayes fit --output leaderboard.nc
    skillinfer-bayes predict --posterior leaderboard.nc --observe BBH=55.93
    skillinfer-bayes next --posterior leaderboard.nc --observe BBH=55.93
    skillinfer-bayes evaluate --methods bayes,plugin --n-observed 1
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import NoReturn

import pandas as pd

from skillinfer_bayes._version import __version__
from skillinfer_bayes.cli_options import (
    EXIT_FAILURE,
    CLIError,
    add_data_options,
    add_fit_options,
    add_profile_options,
    check_output,
    covariates,
    ignored_with_posterior,
    load_table,
    parse_observation,
    parse_target,
    positive_int,
    prior_option,
    sampler_config,
    scale_options,
)
from skillinfer_bayes.cli_process import configure_logging, exit_code, exit_status, show_warning


def _hold_out(args: argparse.Namespace, df: pd.DataFrame):
    """(table without the held-out row, its scores or None)."""
    if getattr(args, "hold_out", None) is None:
        return df, None
    rows = (df.index.astype(str) == args.hold_out)
    if not rows.any():
        raise CLIError(
            f"--hold-out {args.hold_out!r} is not a row of the data (rows are named by "
            "the index column, e.g. 'meta-llama/Llama-3.1-70B-Instruct')."
        )
    truth = df[rows].iloc[0]
    return df[~rows], truth


def _fit(args: argparse.Namespace, df: pd.DataFrame):
    from skillinfer_bayes.population import Population

    groups = None
    if args.groups is not None:
        if args.groups not in df.columns:
            raise CLIError(f"--groups {args.groups!r} is not a column of the data; columns: "
                           f"{sorted(map(str, df.columns))}.")
        groups = args.groups
    scales = scale_options(args)
    n_covariates = len(scales["covariates"] or {})
    print(
        f"Fitting {len(df)} models x {df.shape[1] - (groups is not None) - n_covariates} "
        f"benchmarks" + (f" + {n_covariates} covariate(s)" if n_covariates else "")
        + f" ({args.chains} chains x {args.draws} draws after {args.tune} tuning steps)...",
        file=sys.stderr,
    )
    return Population.from_dataframe(
        df, normalize=args.normalize, prior=prior_option(args), groups=groups,
        sampler_config=sampler_config(args), random_seed=args.seed, cache=not args.no_cache,
        **scales,
    )


def _population(args: argparse.Namespace):
    """(population, held-out truth or None): loaded from --posterior, or fitted."""
    from skillinfer_bayes.population import Population

    if args.posterior is not None:
        ignored = ignored_with_posterior(args)
        if ignored:
            raise CLIError(
                f"{', '.join(ignored)} would do nothing with --posterior: the model and its "
                f"data are those saved in {args.posterior}. Drop them, or fit anew without "
                "--posterior (--data, --benchmarks and --groups serve --hold-out only)."
            )
        pop = Population.from_netcdf(args.posterior)
        truth = None
        if args.hold_out is not None:
            truth = _held_out_truth(args, pop)
        return pop, truth
    df, truth = _hold_out(args, load_table(args))
    _observations(args, [c for c in df.columns if c != args.groups])  # fail before fitting
    return _fit(args, df), truth


def _held_out_truth(args: argparse.Namespace, pop) -> pd.Series:
    """The --hold-out model's scores for a loaded posterior, after checking that the
    posterior was fitted to this table (--data or the embedded leaderboard) without it."""
    from skillinfer_bayes.inference.storage import PosteriorFileError, check_same_data

    source = args.data or "the embedded leaderboard"
    if args.hold_out in {str(e) for e in pop.entity_names}:
        raise CLIError(
            f"--hold-out {args.hold_out!r} is in the population {args.posterior} was fitted "
            "to, so its scores are not a held-out check; fit with 'skillinfer-bayes fit "
            f"--hold-out {args.hold_out} ...' first."
        )
    df, truth = _hold_out(args, load_table(args, columns=pop.latent_names))
    scores = df.drop(columns=args.groups) if args.groups in df.columns else df
    try:
        check_same_data(args.posterior, pop.data, scores)
    except PosteriorFileError:
        raise CLIError(
            f"{args.posterior} was not fitted to {source} without {args.hold_out!r} (the data "
            "hashes differ), so the comparison would be against other scores: pass the --data "
            "(and --index-col) it was fitted to.", status=EXIT_FAILURE
        ) from None
    return truth


def _observations(args: argparse.Namespace, names) -> dict[str, float]:
    observations = dict(parse_observation(o) for o in args.observe or [])
    unknown = sorted(set(observations) - set(names))
    if unknown:
        raise CLIError(
            f"--observe names unknown benchmark(s) {unknown}; known benchmarks: "
            f"{sorted(names)}."
        )
    return observations


def _profile(args: argparse.Namespace, pop, truth: pd.Series | None = None):
    observations = _observations(args, pop.latent_names)
    if truth is not None:  # a held-out model's known covariates are observed for free
        for name in pop.covariate_names:
            if name not in observations and name in truth and not pd.isna(truth[name]):
                observations[name] = float(truth[name])
    try:
        profile = pop.profile(noise=args.noise, group=args.group)
    except ValueError as err:
        raise CLIError(f"--noise/--group: {err}") from None
    return profile.observe_many(observations)


def _fit_command(args: argparse.Namespace) -> int:
    output = check_output(args.output)
    df, _ = _hold_out(args, load_table(args))
    pop = _fit(args, df)
    print(pop)
    path = pop.to_netcdf(output)
    print(f"\nSaved the posterior to {path} (use: skillinfer-bayes predict --posterior {path})")
    return 0


def _predict(args: argparse.Namespace) -> int:
    pop, truth = _population(args)
    if truth is not None and not args.observe:
        raise CLIError("--hold-out needs at least one --observe BENCHMARK=SCORE.")
    if args.posterior is None:
        print(pop)
    profile = _profile(args, pop, truth)
    # skillinfer's duplicate names of the benchmark and the interval are not printed
    table = profile.predict(level=args.level).drop(columns=["feature", "ci_lower", "ci_upper"])
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


def _next(args: argparse.Namespace) -> int:
    from skillinfer_bayes.predictive.active import resolve_target

    pop, _ = _population(args)
    profile = _profile(args, pop)
    if args.rule == "most_uncertain":
        if args.target is not None:
            raise CLIError("--target applies to --rule most_informative only.")
        table = profile.most_uncertain(k=args.k).drop(columns="feature")
    else:
        try:
            weights, _ = resolve_target(parse_target(args.target), pop.benchmark_names)
        except (KeyError, ValueError) as err:
            raise CLIError(f"--target: {err}") from None
        table = profile.most_informative(k=args.k, target=parse_target(args.target))
    if table.empty:
        print("Every benchmark is observed: nothing left to run.")
        return 0
    print(f"Observed: {profile.observed}")
    print(f"Next benchmark(s) to run ({args.rule}"
          + (f", target {args.target}" if args.target else "") + "):")
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 120):
        print(table.to_string(index=False))
    return 0


#: The most models ``rank`` compares without ``--models`` (their joint draws are held at once).
MAX_RANKED = 20


def _rank(args: argparse.Namespace) -> int:
    from skillinfer_bayes.population import Population
    from skillinfer_bayes.predictive.decisions import compare, target_weights

    target = parse_target(args.target)
    if args.posterior is not None:  # the rows of the saved fit's table
        if args.data is not None:
            raise CLIError("rank compares rows of the population's own table: give --data to "
                           "fit it, or --posterior to load a fit, not both.")
        pop = Population.from_netcdf(args.posterior)
        names, benchmarks = [str(e) for e in pop.entity_names], pop.benchmark_names
    else:  # checked before the fit
        df = load_table(args)
        names = [str(e) for e in df.index]
        benchmarks = [c for c in df.columns
                      if c != args.groups and c not in (covariates(args) or {})]
    try:
        target_weights(target, benchmarks)
    except (KeyError, ValueError, TypeError) as err:
        raise CLIError(f"--target: {str(err).strip(chr(34))}") from None
    models = args.models.split(",") if args.models else names
    unknown = sorted(set(models) - set(names))
    if unknown:
        raise CLIError(f"--models names {unknown}, not rows of the population's table (its "
                       f"{len(names)} rows are named by the index column).")
    if len(models) > MAX_RANKED and not args.models:
        raise CLIError(f"The table has {len(models)} models: choose up to {MAX_RANKED} with "
                       "--models NAME,NAME,... (or more, named).")
    if args.posterior is None:
        pop = _fit(args, df)
    values = pop.data.raw_values()
    profiles = {}
    for name in models:
        row = values[names.index(name)]
        known = {pop.latent_names[j]: float(v) for j, v in enumerate(row) if v == v}
        try:
            profiles[name] = pop.profile(noise=args.noise).observe_many(known)
        except ValueError as err:
            raise CLIError(f"--noise: {err}") from None
    result = compare(profiles, target, level=args.level, random_seed=args.seed)
    print(f"Ranking {len(profiles)} models on {args.target} from their observed scores "
          f"({result.n_draws} joint predictive draws, {args.level:.0%} intervals):")
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 160):
        print(result.table.to_string())
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from skillinfer_bayes.studies.evaluation import check_methods, evaluate

    output = check_output(args.output) if args.output else None
    df = load_table(args)
    try:
        n_observed = [int(k) for k in args.n_observed.split(",")]
    except ValueError:
        raise CLIError(f"--n-observed takes integers like 1,2; got {args.n_observed!r}.") from None
    try:
        methods = check_methods(args.methods.split(","))
    except ValueError as err:
        raise CLIError(f"--methods: {err}") from None
    print(f"Evaluating {', '.join(methods)} on {len(df)} models...", file=sys.stderr)
    result = evaluate(
        df, test_fraction=args.test_fraction, n_observed=n_observed, methods=methods,
        random_seed=args.seed, population_size=args.population_size,
        replications=args.replications, prior=prior_option(args), groups=args.groups,
        sampler_config=sampler_config(args), n_jobs=args.n_jobs, progressbar=not args.quiet,
        **scale_options(args),
    )
    columns = ["MAE", "RMSE", "coverage_50", "coverage_90", "coverage_95", "width_90", "crps",
               "log_score", "n_cells"]
    with pd.option_context("display.float_format", "{:.4f}".format):
        print(result.summary[columns].to_string())
    if output is not None:
        result.cells.to_csv(output, index=False)
        print(f"\nWrote {len(result.cells)} cells to {args.output}")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from skillinfer_bayes.inference.locations import cache_contents, clear_cache

    contents = clear_cache() if args.clear else cache_contents()
    verb = "Removed" if args.clear else "Holds"
    print(f"Fit cache: {contents['folder']}")
    print(f"{verb} {contents['fits']} cached fit(s) and {contents['compiled']} compiled-sampler "
          f"file(s), {contents['bytes'] / 1e6:.1f} MB.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="skillinfer-bayes",
        description="Fully Bayesian prediction of a model's benchmark scores from a few "
        "observed ones. Data default to the embedded Open LLM Leaderboard v2 snapshot.",
        epilog="Exit status: 0 success, 1 the run failed, 2 the command line is wrong.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of one line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "fit", help="fit a population and save its posterior",
        description="Fit the population model and save the posterior to a NetCDF file that "
        "'predict' and 'next' load with --posterior (no refit).",
    )
    add_data_options(p)
    add_fit_options(p)
    p.add_argument("--hold-out", help="model (row name) to leave out of the fit")
    p.add_argument("--output", "-o", required=True, help="where to save the posterior (.nc)")
    p.set_defaults(func=_fit_command)

    p = sub.add_parser(
        "predict", help="predict a model's unobserved scores from observed ones",
        description="Observe some scores of a new model and print the predicted scores of "
        "every benchmark with intervals, from a saved posterior (--posterior) or a fit.",
    )
    add_data_options(p)
    add_fit_options(p)
    add_profile_options(p)
    p.add_argument("--level", type=float, default=0.9, help="interval probability (0.9)")
    p.set_defaults(func=_predict)

    p = sub.add_parser(
        "next", help="which benchmark to run next",
        description="Rank the unobserved benchmarks of a new model by the expected reduction "
        "of predictive variance (most_informative, posterior-averaged) or by predictive sd "
        "(most_uncertain).",
    )
    add_data_options(p)
    add_fit_options(p)
    add_profile_options(p)
    p.add_argument("--rule", default="most_informative",
                   choices=["most_informative", "most_uncertain"], help="(most_informative)")
    p.add_argument("--target", help="what to learn about: a benchmark, or weights like "
                   "IFEval=0.5,GPQA=0.5 (default: all unobserved benchmarks)")
    p.add_argument("-k", type=positive_int, default=3, help="how many benchmarks to list (3)")
    p.set_defaults(func=_next)

    p = sub.add_parser(
        "rank", help="which models are best on a benchmark or a task",
        description="Compare models (rows of the table, each observed on the benchmarks it "
        "has scores for) on a target: expected score, interval, P(best), expected rank and "
        "rank interval, from joint predictive draws that share each posterior draw.",
    )
    add_data_options(p)
    add_fit_options(p)
    p.add_argument("--posterior", help="a posterior saved by 'skillinfer-bayes fit' (no refit)")
    p.add_argument("--target", required=True, help="a benchmark, or weights like "
                   "MMLU-PRO=1,GPQA=1 (a task)")
    p.add_argument("--models", help=f"comma-separated rows to rank (default: every row, at "
                   f"most {MAX_RANKED})")
    p.add_argument("--noise", type=float, default=None, help="observation noise sd")
    p.add_argument("--level", type=float, default=0.9, help="interval probability (0.9)")
    p.set_defaults(func=_rank)

    p = sub.add_parser(
        "evaluate", help="run the held-out calibration protocol",
        description="Hold out models, predict their benchmarks from n observed ones with each "
        "method, and print accuracy and calibration (coverage, CRPS, log score).",
    )
    add_data_options(p)
    add_fit_options(p)
    p.add_argument("--test-fraction", type=float, default=0.2, help="held-out share (0.2)")
    p.add_argument("--n-observed", default="1,2", help="observed benchmarks per cell (1,2)")
    p.add_argument("--methods", default="bayes,plugin,diagonal,mean",
                   help="comma-separated methods (bayes,plugin,diagonal,mean)")
    p.add_argument("--population-size", type=int, help="small-population study size")
    p.add_argument("--replications", type=int, default=1, help="small-population repeats (1)")
    p.add_argument("--n-jobs", type=int, default=1, help="parallel fits (1; -1 = all cores)")
    p.add_argument("--output", "-o", help="also write the cell-level results (CSV)")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser(
        "cache", help="show or clear the fit cache",
        description="Show where fits and compiled samplers are cached and how much they take "
        "($SKILLINFER_BAYES_CACHE, or the platform's user cache folder); --clear deletes them.",
    )
    p.add_argument("--clear", action="store_true", help="delete the cached fits and samplers")
    p.set_defaults(func=_cache)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``skillinfer-bayes`` command; returns the exit status.

    0 on success; 2 when the command line is wrong (argparse's convention: an unknown
    option, a bad value, an unknown benchmark name); 1 when the run fails (bad data, an
    unusable saved posterior, a file that cannot be written). Either way one line on stderr
    says what to do; ``--debug`` shows the traceback instead. Errors that are not the
    package's own (a bug) are not caught: their traceback is the report.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(quiet=getattr(args, "quiet", False))
    try:
        with warnings.catch_warnings():
            # what the library warns about (sampler checks, out-of-range observations, ...)
            # is shown once, as the command's own lines; other libraries' deprecation notices
            # are not the user's business here
            warnings.filterwarnings("default", category=UserWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            # the JAX samplers never use PyTensor's C/BLAS backend: its link warning is noise
            warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
            warnings.filterwarnings("ignore",
                                    message="Using NumPy C-API based implementation for BLAS")
            warnings.showwarning = show_warning
            return args.func(args)
    except Exception as exc:
        status = exit_status(exc)
        if status is None or args.debug:
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"skillinfer-bayes: error: {message}", file=sys.stderr)
        return status


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The ``skillinfer-bayes`` process: :func:`main`, then an exit without interpreter teardown.

    A native thread of an imported library can abort the process while Python finalizes,
    after the command has done its work: "terminate called without an active exception",
    status -6. Measured with ``sys.exit(main(...))``: 6 and 16 of 150 runs of ``predict
    --observe FOO=3`` in six concurrent loops on 2 cores; the core dump's aborting thread is
    one started late in the run, after pandas read the embedded Parquet table through Arrow
    (whose issue apache/arrow#34314 reports the same abort). So the command flushes its
    output, closes logging and leaves with :func:`os._exit` (150 of 150 clean in the same
    loops); its status is :func:`main`'s (argparse's 0 or 2 for ``--help`` and a wrong
    option, 1 after a traceback, 130 after Ctrl-C, 120 when the output could not be
    written). ``os._exit`` skips exit handlers: the command closes its own files before it
    returns. Call :func:`main` to run the command inside a Python process.
    """
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse: --help, --version, a wrong option
        status = exit_code(exc.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        status = 130
    except BaseException:  # a bug: its traceback is the report, as Python would print it
        traceback.print_exc()
        status = EXIT_FAILURE
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe (e.g. `| head`)
            pass
        except OSError:  # output lost (a full disk): not a success, as Python's own 120
            status = status or 120
    logging.shutdown()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
