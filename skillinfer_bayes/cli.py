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
from pathlib import Path
from typing import NoReturn

import pandas as pd

from skillinfer_bayes._version import __version__
from skillinfer_bayes.data.checks import validate_scores
from skillinfer_bayes.data.tables import read_table
from skillinfer_bayes.data.transform_choice import (
    DEFAULT_TRANSFORM,
    MIN_AUTO_COPULA_TESTED,
    MIN_AUTO_COPULA_VALUES,
)
from skillinfer_bayes.datasets import BENCHMARKS, open_llm_leaderboard
from skillinfer_bayes.inference.fitting import SamplerConfig
from skillinfer_bayes.inference.sampling import SAMPLERS
from skillinfer_bayes.inference.spec import COVARIANCES, ModelSpec
from skillinfer_bayes.models.priors import SD_FAMILIES, Prior

#: The defaults the command line shows and uses: the dataclasses' own.
SPEC, PRIOR, SAMPLER = ModelSpec(), Prior(), SamplerConfig()

#: Exit statuses: a run that failed (bad data, an unusable file, ...) and a command line
#: that is wrong (argparse's convention).
EXIT_FAILURE, EXIT_USAGE = 1, 2


class CLIError(Exception):
    """An error the command reports as one line; ``status`` is its exit status (2: the
    command line is wrong, 1: the run failed)."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def _parse_observation(text: str) -> tuple[str, float]:
    name, sep, value = text.rpartition("=")
    if not sep or not name:
        raise CLIError(f"--observe takes BENCHMARK=SCORE (e.g. BBH=55.93); got {text!r}.")
    try:
        return name, float(value)
    except ValueError:
        raise CLIError(f"--observe {text!r}: {value!r} is not a number.") from None


def _load_table(args: argparse.Namespace, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The score table of --data (or the embedded leaderboard), read as
    ``Population.from_csv`` / ``from_parquet`` read it, with the benchmark columns selected
    (``columns``: those of a saved posterior) and the --groups column last."""
    if args.data is None:
        df = open_llm_leaderboard().set_index("fullname")
        default_columns = BENCHMARKS
    else:
        index_col = args.index_col if args.index_col is not None else 0
        if isinstance(index_col, str) and index_col.lower() == "none":
            index_col = None
        df = read_table(args.data, index_col=index_col)
        df.columns = [str(c) for c in df.columns]
        default_columns = list(df.columns)  # every column: a non-numeric cell is an error
    group_column = getattr(args, "groups", None)
    covariate_columns = list(_covariates(args) or {})
    if columns is None:
        columns = args.benchmarks.split(",") if args.benchmarks else default_columns
    columns = [c for c in columns if c != group_column and c not in covariate_columns]
    columns = columns + covariate_columns
    if group_column is not None and group_column in df.columns:
        columns = columns + [group_column]
    unknown = sorted(set(columns) - set(map(str, df.columns)))
    if unknown:
        raise CLIError(
            f"benchmark(s) {unknown} not in the data; columns: {sorted(map(str, df.columns))}."
        )
    table = df[columns]
    try:  # fail here, before any fit, with the command line's own advice
        validate_scores(table.drop(columns=[c for c in [group_column, *covariate_columns]
                                            if c in table]))
    except TypeError as err:
        raise CLIError(
            f"{err} On the command line: name the model column with --index-col and choose "
            "the score columns with --benchmarks.", status=EXIT_FAILURE
        ) from None
    return table


def _check_output(path: str) -> Path:
    """Fail before a long fit if the posterior cannot be written to ``path``."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise CLIError(f"--output {path!r} is a folder: give a file name, e.g. "
                       f"{str(target / 'posterior.nc')!r}.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        probe = target.with_name(f".{target.name}.{os.getpid()}.write-test")
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as err:
        raise CLIError(
            f"--output {path!r} cannot be written ({err}); choose another path."
        ) from None
    return target


def _covariates(args: argparse.Namespace) -> dict | None:
    """--covariate NAME[:TRANSFORM] options as ``{name: transform}`` (None: identity)."""
    specs = getattr(args, "covariate", None) or []
    result = {}
    for spec in specs:
        name, _, transform = spec.partition(":")
        if not name:
            raise CLIError(f"--covariate takes NAME or NAME:TRANSFORM (e.g. params_b:log); got "
                           f"{spec!r}.")
        result[name] = None if transform in ("", "none") else transform
    return result or None


def _scale_options(args: argparse.Namespace) -> dict:
    """--transform, --bounds, --covariate, --covariance and --n-factors as keyword arguments
    of the fit."""
    bounds = getattr(args, "bounds", "auto")
    if bounds == "none":
        bounds = None
    elif bounds != "auto":
        try:
            lower, upper = (float(v) for v in args.bounds.split(","))
        except ValueError:
            raise CLIError(f"--bounds takes LOWER,UPPER (e.g. 0,100), auto or none; got "
                           f"{args.bounds!r}.") from None
        bounds = (lower, upper)
    transform = getattr(args, "transform", DEFAULT_TRANSFORM)
    n_factors = getattr(args, "n_factors", None)
    if n_factors is not None and n_factors != "auto":
        try:
            n_factors = int(n_factors)
        except ValueError:
            raise CLIError(f"--n-factors takes a positive integer or auto; got "
                           f"{n_factors!r}.") from None
    return {"transform": None if transform == "none" else transform, "bounds": bounds,
            "covariates": _covariates(args),
            "covariance": getattr(args, "covariance", "lkj"), "n_factors": n_factors}


def _prior(args: argparse.Namespace):
    from skillinfer_bayes.models.priors import Prior

    try:
        return Prior(eta=args.eta, sd=args.sd_family, sd_scale=args.sd_scale,
                     mean_scale=args.mean_scale)
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from None


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
    scales = _scale_options(args)
    n_covariates = len(scales["covariates"] or {})
    print(
        f"Fitting {len(df)} models x {df.shape[1] - (groups is not None) - n_covariates} "
        f"benchmarks" + (f" + {n_covariates} covariate(s)" if n_covariates else "")
        + f" ({args.chains} chains x {args.draws} draws after {args.tune} tuning steps)...",
        file=sys.stderr,
    )
    return Population.from_dataframe(
        df, normalize=args.normalize, prior=_prior(args), groups=groups,
        sampler_config=_sampler_config(args), random_seed=args.seed, cache=not args.no_cache,
        **scales,
    )


def _sampler_config(args: argparse.Namespace):
    """The --draws/--tune/--chains/--sampler options as one SamplerConfig (usage errors)."""
    from skillinfer_bayes.inference.fitting import SamplerConfig

    try:
        return SamplerConfig(draws=args.draws, tune=args.tune, chains=args.chains,
                             sampler=args.sampler, progressbar=not args.quiet)
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from None


def _population(args: argparse.Namespace):
    """(population, held-out truth or None): loaded from --posterior, or fitted."""
    from skillinfer_bayes.population import Population

    if args.posterior is not None:
        ignored = _ignored_with_posterior(args)
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
    df, truth = _hold_out(args, _load_table(args))
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
    df, truth = _hold_out(args, _load_table(args, columns=pop.latent_names))
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
    observations = dict(_parse_observation(o) for o in args.observe or [])
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
    output = _check_output(args.output)
    df, _ = _hold_out(args, _load_table(args))
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


def _parse_target(text: str | None):
    if text is None or "=" not in text:
        return text
    weights = {}
    for part in text.split(","):
        name, value = _parse_observation(part.strip())
        weights[name] = value
    return weights


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
            weights, _ = resolve_target(_parse_target(args.target), pop.benchmark_names)
        except (KeyError, ValueError) as err:
            raise CLIError(f"--target: {err}") from None
        table = profile.most_informative(k=args.k, target=_parse_target(args.target))
    if table.empty:
        print("Every benchmark is observed: nothing left to run.")
        return 0
    print(f"Observed: {profile.observed}")
    print(f"Next benchmark(s) to run ({args.rule}"
          + (f", target {args.target}" if args.target else "") + "):")
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 120):
        print(table.to_string(index=False))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from skillinfer_bayes.studies.evaluation import check_methods, evaluate

    output = _check_output(args.output) if args.output else None
    df = _load_table(args)
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
        replications=args.replications, prior=_prior(args), groups=args.groups,
        sampler_config=_sampler_config(args), n_jobs=args.n_jobs, progressbar=not args.quiet,
        **_scale_options(args),
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


def _add_data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--data", help="CSV or Parquet score table (default: embedded leaderboard)")
    g.add_argument("--index-col", help="column holding model names (with --data): a name or "
                   "a position; default: the first CSV column (as DataFrame.to_csv writes it) "
                   "or the index stored in a Parquet file; 'none' for a file without one")
    g.add_argument("--benchmarks", help="comma-separated benchmark columns (default: every "
                   "other column, each must be numeric; the embedded data: its 6 benchmarks)")
    g.add_argument("--groups", help="column of group labels for group-level means")


#: The fit options (dest -> (option string, default)), which a saved posterior makes moot.
FIT_OPTIONS: dict[str, tuple[str, object]] = {}
#: Fit options that still matter next to --posterior.
_KEPT_WITH_POSTERIOR = {"quiet"}


def _ignored_with_posterior(args: argparse.Namespace) -> list[str]:
    """The options given with --posterior that would do nothing: the fit options (the model
    is the saved one) and, without --hold-out, the table's (--data, --benchmarks, ...)."""
    ignored = [option for dest, (option, default) in FIT_OPTIONS.items()
               if dest not in _KEPT_WITH_POSTERIOR and getattr(args, dest, default) != default]
    if getattr(args, "hold_out", None) is None:
        ignored += [f"--{name.replace('_', '-')}" for name in ("data", "benchmarks",
                                                               "index_col", "groups")
                    if getattr(args, name, None) is not None]
    return ignored


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model and sampler")
    _record = g.add_argument

    def add_argument(*names, **kwargs):  # every fit option is recorded in FIT_OPTIONS
        action = _record(*names, **kwargs)
        FIT_OPTIONS[action.dest] = (names[0], action.default)
        return action

    g.add_argument = add_argument
    g.add_argument("--normalize", action="store_true", help="min-max scale scores to [0, 1]")
    g.add_argument("--transform", default=SPEC.transform,
                   choices=["auto", "copula", "logit", "none"],
                   help="each benchmark's map to the latent normal scale (auto, the default: "
                   f"the copula with {MIN_AUTO_COPULA_VALUES} scores or more, or "
                   f"{MIN_AUTO_COPULA_TESTED} bounded ones that are not normal, else the logit "
                   "of bounded scores, else none; none: the normal on the scores)")
    g.add_argument("--bounds", metavar="LOWER,UPPER", default=SPEC.bounds,
                   help="known bounds of the scores, e.g. 0,100 (needed by logit); auto "
                   "(default): 0,1 or 0,100 when every score lies inside; none")
    g.add_argument("--covariate", action="append", metavar="NAME[:TRANSFORM]",
                   help="a column known for free, e.g. params_b:log (repeatable)")
    g.add_argument("--covariance", default=SPEC.covariance, choices=list(COVARIANCES),
                   help="covariance structure: dense with an LKJ prior (lkj, the default) or "
                        "a factor model for wide tables (factor, with --n-factors)")
    g.add_argument("--n-factors", metavar="N|auto",
                   help="number of factors of --covariance factor, or auto (by PSIS-LOO)")
    g.add_argument("--eta", type=float, default=PRIOR.eta,
                   help=f"LKJ concentration ({PRIOR.eta:g})")
    g.add_argument("--sd-family", default=PRIOR.sd, choices=list(SD_FAMILIES),
                   help=f"prior family of the benchmark sds ({PRIOR.sd})")
    g.add_argument("--sd-scale", type=float, default=PRIOR.sd_scale,
                   help=f"scale of that prior ({PRIOR.sd_scale:g})")
    g.add_argument("--mean-scale", type=float, default=PRIOR.mean_scale,
                   help=f"sd of the mean prior ({PRIOR.mean_scale:g})")
    g.add_argument("--draws", type=int, default=SAMPLER.draws,
                   help=f"draws per chain ({SAMPLER.draws})")
    g.add_argument("--tune", type=int, default=SAMPLER.tune,
                   help=f"tuning steps per chain ({SAMPLER.tune})")
    g.add_argument("--chains", type=int, default=SAMPLER.chains,
                   help=f"number of chains ({SAMPLER.chains})")
    g.add_argument("--sampler", default=SAMPLER.sampler, choices=sorted(SAMPLERS))
    g.add_argument("--seed", type=int, default=0, help="random seed (0)")
    g.add_argument("--no-cache", action="store_true",
                   help="always sample (default: reuse a cached fit of the same data/settings)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_profile_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the new model")
    g.add_argument("--posterior", help="a posterior saved by 'skillinfer-bayes fit' (no refit)")
    g.add_argument("--hold-out", help="model (row name) to leave out and compare against")
    g.add_argument("--observe", action="append", metavar="BENCHMARK=SCORE",
                   help="an observed score; repeat for several")
    g.add_argument("--group", help="the model's group (populations fitted with --groups)")
    g.add_argument("--noise", type=float, default=None, help="observation noise sd")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


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
    _add_data_options(p)
    _add_fit_options(p)
    p.add_argument("--hold-out", help="model (row name) to leave out of the fit")
    p.add_argument("--output", "-o", required=True, help="where to save the posterior (.nc)")
    p.set_defaults(func=_fit_command)

    p = sub.add_parser(
        "predict", help="predict a model's unobserved scores from observed ones",
        description="Observe some scores of a new model and print the predicted scores of "
        "every benchmark with intervals, from a saved posterior (--posterior) or a fit.",
    )
    _add_data_options(p)
    _add_fit_options(p)
    _add_profile_options(p)
    p.add_argument("--level", type=float, default=0.9, help="interval probability (0.9)")
    p.set_defaults(func=_predict)

    p = sub.add_parser(
        "next", help="which benchmark to run next",
        description="Rank the unobserved benchmarks of a new model by the expected reduction "
        "of predictive variance (most_informative, posterior-averaged) or by predictive sd "
        "(most_uncertain).",
    )
    _add_data_options(p)
    _add_fit_options(p)
    _add_profile_options(p)
    p.add_argument("--rule", default="most_informative",
                   choices=["most_informative", "most_uncertain"], help="(most_informative)")
    p.add_argument("--target", help="what to learn about: a benchmark, or weights like "
                   "IFEval=0.5,GPQA=0.5 (default: all unobserved benchmarks)")
    p.add_argument("-k", type=_positive_int, default=3, help="how many benchmarks to list (3)")
    p.set_defaults(func=_next)

    p = sub.add_parser(
        "evaluate", help="run the held-out calibration protocol",
        description="Hold out models, predict their benchmarks from n observed ones with each "
        "method, and print accuracy and calibration (coverage, CRPS, log score).",
    )
    _add_data_options(p)
    _add_fit_options(p)
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
    _configure_logging(quiet=getattr(args, "quiet", False))
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
            warnings.showwarning = _show_warning
            return args.func(args)
    except Exception as exc:
        status = _status(exc)
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
        status = _exit_code(exc.code)
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


def _exit_code(code: object) -> int:
    """The status :class:`SystemExit` gives its code, as Python's own exit would."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return EXIT_FAILURE


def _status(exc: BaseException) -> int | None:
    """Exit status of an error the command reports in one line; None for anything else."""
    if isinstance(exc, CLIError):
        return exc.status
    if isinstance(exc, OSError):  # a file that cannot be read or written
        return EXIT_FAILURE
    if isinstance(exc, (ValueError, TypeError, KeyError, ImportError)):
        # the package's own checks: the innermost frame is one of its modules
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        module = "" if tb is None else tb.tb_frame.f_globals.get("__name__", "")
        if module.split(".")[0] == "skillinfer_bayes":
            return EXIT_FAILURE
    return None


def _configure_logging(quiet: bool) -> None:
    """The library's log messages (e.g. a fit loaded from the cache) on stderr."""
    logger = logging.getLogger("skillinfer_bayes")
    if not any(getattr(h, "_skillinfer_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("skillinfer-bayes: %(message)s"))
        handler._skillinfer_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as the command's own lines (what to do), without Python's source line."""
    text = str(message).strip()
    print(f"skillinfer-bayes: warning: {text}", file=sys.stderr if file is None else file)


if __name__ == "__main__":  # pragma: no cover
    run()
