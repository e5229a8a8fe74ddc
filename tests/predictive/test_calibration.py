"""Predictive intervals against simulated entities whose true scores are known."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TRUE_MU, TRUE_SIGMA

import skillinfer_bayes as sib
from skillinfer_bayes.predictive.conditioning import condition
from skillinfer_bayes.predictive.mixture import mixture_cdf


def test_predictive_intervals_are_calibrated_on_simulated_entities(simulated_pop):
    rng = np.random.default_rng(123)
    new = rng.multivariate_normal(TRUE_MU, TRUE_SIGMA, size=3000)
    pits = []
    for j in range(3):  # observe one benchmark, predict the other two
        others = [k for k in range(3) if k != j]
        noise = simulated_pop.profile().noise
        means, var = condition(
            simulated_pop.mu_draws, simulated_pop.Sigma_draws, np.array([j]), new[:, [j]],
            noise**2,
        )
        m = np.swapaxes(means, 1, 2)[:, others]  # (E, 2, S)
        sd = np.sqrt(var.T[others])  # (2, S)
        pits.append(mixture_cdf(new[:, others], m, sd))
    pit = np.concatenate(pits).ravel()
    for level in (0.5, 0.9, 0.95):
        coverage = np.mean(np.abs(pit - 0.5) <= level / 2)
        assert coverage == pytest.approx(level, abs=0.02), level


@pytest.mark.slow
def test_default_full_leaderboard_fit_passes_every_check(leaderboard):
    pop = sib.Population.from_dataframe(
        leaderboard, normalize=False, random_seed=1, progressbar=False
    )
    d = pop.diagnostics()
    assert d["chains"] == 4 and d["draws"] == 1000
    assert d["divergences"] == 0
    assert d["max_r_hat"] <= 1.01
    assert d["min_ess_bulk"] >= 400 and d["min_ess_tail"] >= 400
