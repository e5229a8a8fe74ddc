"""The ``skillinfer-bayes`` command line's options: the argument groups the commands share,
and what they mean to the library (a table, a ``ModelSpec``'s fields, a ``Prior``, a
``SamplerConfig``), with the one-line :class:`CLIError` for each bad value.

Examples
--------
>>> scale_options(argparse.Namespace(bounds="0,100", transform="none"))["bounds"]
(0.0, 100.0)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

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


def parse_observation(text: str) -> tuple[str, float]:
    name, sep, value = text.rpartition("=")
    if not sep or not name:
        raise CLIError(f"--observe takes BENCHMARK=SCORE (e.g. BBH=55.93); got {text!r}.")
    try:
        return name, float(value)
    except ValueError:
        raise CLIError(f"--observe {text!r}: {value!r} is not a number.") from None


def load_table(args: argparse.Namespace, columns: Sequence[str] | None = None) -> pd.DataFrame:
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
    covariate_columns = list(covariates(args) or {})
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


def check_output(path: str) -> Path:
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


def covariates(args: argparse.Namespace) -> dict | None:
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


def scale_options(args: argparse.Namespace) -> dict:
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
            "covariates": covariates(args),
            "covariance": getattr(args, "covariance", "lkj"), "n_factors": n_factors}


def prior_option(args: argparse.Namespace):
    from skillinfer_bayes.models.priors import Prior

    try:
        return Prior(eta=args.eta, sd=args.sd_family, sd_scale=args.sd_scale,
                     mean_scale=args.mean_scale)
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from None


def sampler_config(args: argparse.Namespace):
    """The --draws/--tune/--chains/--sampler options as one SamplerConfig (usage errors)."""
    from skillinfer_bayes.inference.fitting import SamplerConfig

    try:
        return SamplerConfig(draws=args.draws, tune=args.tune, chains=args.chains,
                             sampler=args.sampler, progressbar=not args.quiet)
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from None


def parse_target(text: str | None):
    if text is None or "=" not in text:
        return text
    weights = {}
    for part in text.split(","):
        name, value = parse_observation(part.strip())
        weights[name] = value
    return weights


def add_data_options(p: argparse.ArgumentParser) -> None:
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
KEPT_WITH_POSTERIOR = {"quiet"}


def ignored_with_posterior(args: argparse.Namespace) -> list[str]:
    """The options given with --posterior that would do nothing: the fit options (the model
    is the saved one) and, without --hold-out, the table's (--data, --benchmarks, ...)."""
    ignored = [option for dest, (option, default) in FIT_OPTIONS.items()
               if dest not in KEPT_WITH_POSTERIOR and getattr(args, dest, default) != default]
    if getattr(args, "hold_out", None) is None:
        ignored += [f"--{name.replace('_', '-')}" for name in ("data", "benchmarks",
                                                               "index_col", "groups")
                    if getattr(args, name, None) is not None]
    return ignored


def add_fit_options(p: argparse.ArgumentParser) -> None:
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


def add_profile_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the new model")
    g.add_argument("--posterior", help="a posterior saved by 'skillinfer-bayes fit' (no refit)")
    g.add_argument("--hold-out", help="model (row name) to leave out and compare against")
    g.add_argument("--observe", action="append", metavar="BENCHMARK=SCORE",
                   help="an observed score; repeat for several")
    g.add_argument("--group", help="the model's group (populations fitted with --groups)")
    g.add_argument("--noise", type=float, default=None, help="observation noise sd")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value

