"""Latency of the decision functions on the default model (issue 35, done-when 3).

    python benchmarks/decision_speed.py

Fits the embedded leaderboard on the defaults (4 chains x 1000 draws), holds out nothing, and
makes 10 profiles of leaderboard models, each observing its BBH and IFEval scores. Prints the
median time of ``sib.compare(profiles, "MMLU-PRO")`` (joint predictive draws of the 10
profiles, P(best), ranks, pairwise P(A > B)), of ``compare`` on a task, and of one
``Profile.probability`` (exact, from the predictive CDF), over ``--repeats`` calls.
"""

from __future__ import annotations

import argparse
import warnings

from timing import median_ms  # benchmarks/timing.py

import skillinfer_bayes as sib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    df = df.dropna()
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, progressbar=False)
    models = df.sample(10, random_state=0)
    profiles = {name: pop.profile().observe_many(row[["BBH", "IFEval"]].to_dict())
                for name, row in models.iterrows()}
    task = {"MMLU-PRO": 1.0, "GPQA": 1.0}
    first = next(iter(profiles.values()))
    rows = [
        ("compare, 10 profiles, MMLU-PRO", median_ms(lambda: sib.compare(profiles, "MMLU-PRO"),
                                                     args.repeats)),
        ("compare, 10 profiles, a task", median_ms(lambda: sib.compare(profiles, task),
                                                   args.repeats)),
        ("Profile.probability, one benchmark",
         median_ms(lambda: first.probability("MMLU-PRO", above=40.0), args.repeats)),
    ]
    print(f"{pop.n_draws} posterior draws, median of {args.repeats} calls\n")
    for name, ms in rows:
        print(f"{name:<40}{ms:>10.1f} ms")
    print()
    print(sib.compare(profiles, "MMLU-PRO"))


if __name__ == "__main__":
    main()
