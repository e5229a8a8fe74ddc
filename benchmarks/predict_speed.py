"""Latency of ``observe`` + ``predict()``: ours on a 4,000-draw posterior vs plug-in skillinfer.

    python benchmarks/predict_speed.py

Both predict the full leaderboard population for one new model observing BBH; ours computes
the mixture over all 4,000 posterior draws (mean, median, sd, exact 90% interval quantiles),
with the default copula marginals (bounds "auto" = 0-100 here; quantiles mapped back, mean and
sd by quadrature), with them plus the log parameter count as a covariate, and with the normal on
the raw scores (``transform=None``, the previous default). Medians over ``--repeats``
calls; needs the ``dev`` extra for skillinfer.
"""

from __future__ import annotations

import argparse
import warnings

warnings.simplefilter("ignore")

import skillinfer  # noqa: E402
from timing import median_ms  # noqa: E402 - benchmarks/timing.py

import skillinfer_bayes as sib  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    full = sib.datasets.open_llm_leaderboard().set_index("fullname")
    df = full[sib.datasets.BENCHMARKS]
    pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0, progressbar=False)
    scaled = sib.Population.from_dataframe(
        full[["params_b", *sib.datasets.BENCHMARKS]], normalize=False, random_seed=0,
        progressbar=False, covariates={"params_b": "log"})
    raw = sib.Population.from_dataframe(df, normalize=False, random_seed=0, progressbar=False,
                                        transform=None)
    plugin = skillinfer.Population.from_dataframe(df, normalize=False)

    def ours_one():
        return pop.profile().observe("BBH", 55.93).predict(level=0.9)

    def ours_two():
        return pop.profile().observe("BBH", 55.93).observe("IFEval", 86.69).predict(level=0.9)

    def scaled_one():
        return (scaled.profile().observe("BBH", 55.93).observe("params_b", 70.6)
                .predict(level=0.9))

    def raw_one():
        return raw.profile().observe("BBH", 55.93).predict(level=0.9)

    def plugin_one():
        return plugin.profile().observe("BBH", 55.93).predict(level=0.9)

    rows = [
        ("ours (default), 1 observed", pop.n_draws, median_ms(ours_one, args.repeats)),
        ("ours (default), 2 observed", pop.n_draws, median_ms(ours_two, args.repeats)),
        ("ours, default + log params, 1 observed", scaled.n_draws,
         median_ms(scaled_one, args.repeats)),
        ("ours, transform=None, 1 observed", raw.n_draws, median_ms(raw_one, args.repeats)),
        ("skillinfer 0.1.1 (plug-in), 1 observed", 1, median_ms(plugin_one, args.repeats)),
    ]
    print(f"observe + predict(level=0.9), median of {args.repeats} calls\n")
    print(f"{'method':<44}{'draws':>8}{'ms':>10}")
    for name, draws, ms in rows:
        print(f"{name:<44}{draws:>8}{ms:>10.2f}")
    print(f"\nours / plug-in (1 observed): x{rows[0][2] / rows[-1][2]:.1f}")


if __name__ == "__main__":
    main()
