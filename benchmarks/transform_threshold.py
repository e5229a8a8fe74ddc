"""How many scores a benchmark needs before its copula marginal beats the logit.

    python benchmarks/transform_threshold.py          # about 40 s

``transform="auto"`` estimates a copula only for a benchmark with at least
``MIN_AUTO_COPULA_VALUES`` observed scores. This script measures where that threshold should
lie: for each leaderboard benchmark, training sets of n random models (n = 5 ... 400, 100 sets
each) fit the marginal three ways (copula with (0, 100) bounds, logit (0, 100), identity), each
followed by a normal on its latent scale with the training mean and sd, and the held-out log
density of 1,000 other models' scores (Jacobian included: the density of the scores
themselves) is averaged. A last block does the same for Gaussian scores (mean 50, sd 15), where
the normal is the truth. Printed: mean held-out log density per score, and copula - logit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

SIZES = (5, 10, 20, 30, 50, 75, 100, 150, 200, 400)
REPEATS = 100
HELD_OUT = 1000


def held_out_log_density(transform, train: np.ndarray, test: np.ndarray) -> float:
    z = transform.forward(train)
    mean, sd = z.mean(), z.std(ddof=1)
    return float(np.mean(norm.logpdf(transform.forward(test), mean, sd)
                         + transform.log_jacobian(test)))


def main() -> None:
    warnings.simplefilter("ignore")
    import skillinfer_bayes as sib
    from skillinfer_bayes.data.transforms import Copula, Identity, Logit

    df = sib.datasets.open_llm_leaderboard()[sib.datasets.BENCHMARKS].dropna()
    rng = np.random.default_rng(0)
    for column in [*df.columns, "Gaussian (50, 15)"]:
        rows = {}
        for n in SIZES:
            scores = {"copula": [], "logit": [], "identity": []}
            for _ in range(REPEATS):
                if column in df.columns:
                    values = df[column].to_numpy()[rng.permutation(len(df))[: n + HELD_OUT]]
                else:
                    values = np.clip(rng.normal(50, 15, n + HELD_OUT), 0.5, 99.5)
                train, test = values[:n], values[n:]
                if np.ptp(train) == 0:
                    continue
                for name, transform in (("copula", Copula.fit(train, bounds=(0, 100))),
                                        ("logit", Logit(0, 100)), ("identity", Identity())):
                    scores[name].append(held_out_log_density(transform, train, test))
            rows[n] = {name: np.mean(v) for name, v in scores.items()}
        table = pd.DataFrame(rows).T.rename_axis("n")
        table["copula - logit"] = table["copula"] - table["logit"]
        print(column)
        print(table.round(3).to_string(), flush=True)


if __name__ == "__main__":
    main()
