"""Wall time of scoring a mixture predictive on the fixed protocol's test models (issue 13).

    python benchmarks/mixture_scoring.py 6      # C = 6 components

A C-component Gaussian mixture fitted by EM (scikit-learn) to the latent leaderboard (copula
marginals, log parameter count), repeated over 4,000 jittered "draws", stands in for a
posterior; ``predict_cells`` then scores 915 test models on 4 observed sets (every metric on
the score scale), as ``evaluate`` does for a fitted mixture population. No sampling: the time
is the prediction's alone.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from sklearn.mixture import GaussianMixture

import skillinfer_bayes as sib
from skillinfer_bayes.data.prepared import latent_values, prepare
from skillinfer_bayes.predictive.components import ComponentDraws
from skillinfer_bayes.studies.scoring import predict_cells

warnings.simplefilter("ignore")


def main(C: int, S: int = 4000) -> None:
    full = sib.datasets.open_llm_leaderboard().set_index("fullname")
    df = full[["params_b", *sib.datasets.BENCHMARKS]].dropna()
    data = prepare(df, covariates={"params_b": "log"})
    X = data.raw_values()
    Z = latent_values(X, data.transforms)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    test, train = order[:915], order[915:]
    em = GaussianMixture(C, covariance_type="full", random_state=0, reg_covar=1e-3)
    em.fit(Z[train])
    K = Z.shape[1]
    draws = ComponentDraws(
        em.means_[None] + 0.02 * rng.normal(size=(S, C, K)) * Z[train].std(axis=0),
        np.broadcast_to(em.covariances_, (S, C, K, K)).copy(),
        np.broadcast_to(em.weights_, (S, C)).copy(),
    )
    noise = 0.05 * Z[train].std(axis=0)
    noise[-1] = 0.0  # the covariate is known exactly
    start = time.perf_counter()
    for observed in ([0, K - 1], [1, K - 1], [2, 3, K - 1], [0, 5, K - 1]):
        predict_cells(draws, X[test], observed, noise=noise, transforms=data.transforms,
                      predicted=range(K - 1))
    print(f"C = {C}, {S} draws, 915 test models x 4 observed sets: "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
