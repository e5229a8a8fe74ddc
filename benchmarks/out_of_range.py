"""Observations in the tails and beyond the population (issue 32): what the model gets right,
and where it cannot know.

    python benchmarks/out_of_range.py        # about 1 min on 2 cores

Two cases, each for the default model, the normal on the scores (``transform=None``) and the
alternative noise model that takes the transform's slope where each observation lies (through
the public ``profile(noise=...)``: a score-scale sd ``r g'(x) / g'(median)`` has latent sd
``r g'(x)``):

1. **The seed tutorial's example**: ``meta-llama/Llama-3.1-70B-Instruct`` held out of the
   leaderboard, BBH and then IFEval observed (IFEval's 86.69 is above 99.98% of the others).
   MAE over the six benchmarks, and which 90% intervals contain the truth.
2. **Beyond the population's range**: fitted on the first 150 complete leaderboard rows (with
   a parameter count; the leaderboard lists its strongest models first), every later model
   whose GPQA lies below their lowest GPQA observes its GPQA; the 90% coverage of its other
   five scores, and how many observations raised the ``OutOfRangeWarning``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

BENCHMARKS = ["IFEval", "BBH", "MATH Lvl 5", "GPQA", "MUSR", "MMLU-PRO"]
MODEL = "meta-llama/Llama-3.1-70B-Instruct"


def slope_at_observation_noise(pop, observations: dict) -> dict:
    """Score-scale noise sds that give each observation the latent noise ``r g'(x)``."""
    noise = dict(zip(pop.latent_names, pop.default_noise()))
    slopes = dict(zip(pop.latent_names, pop.data.noise_slopes))
    for name, value in observations.items():
        transform = pop.data.transforms[pop.latent_names.index(name)]
        if transform.name != "identity":
            noise[name] *= float(np.exp(transform.log_jacobian(value))) / slopes[name]
    return {name: noise[name] for name in pop.benchmark_names}


def profile_for(pop, observations: dict, at_observation: bool):
    noise = slope_at_observation_noise(pop, observations) if at_observation else None
    return pop.profile(noise=noise).observe_many(observations)


def tutorial_case(sib, df: pd.DataFrame) -> None:
    truth = df.loc[MODEL]
    print(f"1. {MODEL}, BBH and IFEval observed")
    rows = {}
    for label, transform, at_observation in VARIANTS:
        pop = sib.Population.from_dataframe(df.drop(MODEL), normalize=False, random_seed=0,
                                            progressbar=False, transform=transform)
        p = profile_for(pop, {"BBH": truth["BBH"], "IFEval": truth["IFEval"]}, at_observation)
        table = p.predict(level=0.9)
        inside = (table["lower"] <= truth) & (truth <= table["upper"])
        rows[label] = {"MAE": p.mae(truth.to_numpy()),
                       "MATH Lvl 5 (true 38.07)": table.loc["MATH Lvl 5", "mean"],
                       "its 90% interval": f"[{table.loc['MATH Lvl 5', 'lower']:.1f}, "
                                           f"{table.loc['MATH Lvl 5', 'upper']:.1f}]",
                       "intervals with the truth": f"{int(inside.sum())} of 6"}
    print(pd.DataFrame(rows).T.round(3).to_string())
    near = df.drop(MODEL)
    near = near[near["BBH"].between(53, 59) & near["IFEval"].between(83, 90)]["MATH Lvl 5"]
    print(f"   the {len(near)} leaderboard models with BBH in [53, 59] and IFEval in [83, 90] "
          f"have MATH Lvl 5 median {near.median():.1f}, range [{near.min():.1f}, "
          f"{near.max():.1f}]\n")


def out_of_range_case(sib, raw: pd.DataFrame) -> None:
    full = raw[["fullname", "params_b"] + BENCHMARKS].dropna().set_index("fullname")
    full = full[full["params_b"] > 0]
    train, rest = full.iloc[:150], full.iloc[150:]
    low = rest[rest["GPQA"] < train["GPQA"].min()]
    others = [b for b in BENCHMARKS if b != "GPQA"]
    print(f"2. fitted on the first 150 rows (lowest GPQA {train['GPQA'].min():.2f}); "
          f"{len(low)} later models lie below it")
    print(f"   their mean scores: {low[others].mean().round(1).to_dict()}")
    print(f"   the 150's lowest:  {train[others].min().round(1).to_dict()}")
    rows = {}
    cases = [(label, transform, at_observation, None)
             for label, transform, at_observation in VARIANTS]
    cases.append(("default + log params_b covariate", "auto", False, {"params_b": "log"}))
    for label, transform, at_observation, covariates in cases:
        columns = BENCHMARKS if covariates is None else ["params_b"] + BENCHMARKS
        t = time.perf_counter()
        pop = sib.Population.from_dataframe(train[columns], normalize=False, random_seed=0,
                                            progressbar=False, transform=transform,
                                            covariates=covariates)
        hits = warned = 0
        for _, row in low.iterrows():
            observations = {"GPQA": row["GPQA"]}
            if covariates is not None:
                observations["params_b"] = row["params_b"]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                p = profile_for(pop, observations, at_observation)
            warned += any(issubclass(w.category, sib.OutOfRangeWarning)
                          and "GPQA" in str(w.message) for w in caught)
            table = p.predict(level=0.9).loc[others]
            hits += int(((table["lower"] <= row[others]) & (row[others] <= table["upper"])).sum())
        rows[label] = {"90% coverage": hits / (len(low) * len(others)),
                       "observations warned": f"{warned} of {len(low)}",
                       "seconds": time.perf_counter() - t}
    print(pd.DataFrame(rows).T.round(3).to_string())


VARIANTS = [("default (latent noise at the median slope)", "auto", False),
            ("default, noise slope at the observation", "auto", True),
            ("normal on the scores (transform=None)", None, False)]


def main() -> None:
    warnings.simplefilter("ignore")
    import skillinfer_bayes as sib

    raw = sib.datasets.open_llm_leaderboard()
    tutorial_case(sib, raw[["fullname"] + BENCHMARKS].dropna().set_index("fullname"))
    out_of_range_case(sib, raw)


if __name__ == "__main__":
    main()
