"""Mixture populations (``components=``): the API on faked posteriors, each summary against a
direct computation, saving and loading, the choice of C, the diagnostics on label-invariant
quantities, and (slow) recovery and calibration of a real fit on simulated clusters."""

from __future__ import annotations

import json
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import assert_chosen_by_paired_loo, simulate
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

import skillinfer_bayes as sib
from skillinfer_bayes.inference import diagnostics
from skillinfer_bayes.inference.relabel import relabel
from skillinfer_bayes.models.mixture import component_floor
from skillinfer_bayes.models.mixture_likelihood import rows_by_pattern

FAST = dict(draws=200, tune=200, chains=2, random_seed=0, progressbar=False)


@pytest.fixture
def mixture_pop(fake_sampler):
    df = simulate(120, seed=4, missing=0.2)
    return sib.Population.from_dataframe(df, normalize=False, transform=None, components=3,
                                         **FAST)


def _component_densities(pop, x):
    """(S, C) log w_c + log N(x_o; mu_c, Sigma_c), by scipy, for one row x (NaN = missing)."""
    o = ~np.isnan(x)
    S, C = pop.component_weight_draws.shape
    out = np.empty((S, C))
    for s in range(S):
        for c in range(C):
            mu, Sigma = pop.component_mu_draws[s, c], pop.component_Sigma_draws[s, c]
            out[s, c] = np.log(pop.component_weight_draws[s, c]) + multivariate_normal(
                mu[o], Sigma[np.ix_(o, o)]).logpdf(x[o])
    return out


def test_a_mixture_population_has_its_components_everywhere(mixture_pop):
    pop = mixture_pop
    S = pop.n_draws
    assert pop.n_components == 3
    assert pop.posterior["mu"].dims == ("chain", "draw", "component", "benchmark")
    assert pop.component_weight_draws.shape == (S, 3)
    assert pop.component_mu_draws.shape == (S, 3, 3)
    assert pop.predictive_components().n_components == 3
    with pytest.raises(ValueError, match="needs a grouped population"):
        pop.profile(group="x")
    # the population's mean and covariance are the mixture's moments, per draw
    w, mu, Sigma = (pop.component_weight_draws, pop.component_mu_draws,
                    pop.component_Sigma_draws)
    s = 7
    mean = w[s] @ mu[s]
    second = sum(w[s, c] * (Sigma[s, c] + np.outer(mu[s, c], mu[s, c])) for c in range(3))
    assert np.allclose(pop.mu_draws[s], mean)
    assert np.allclose(pop.Sigma_draws[s], second - np.outer(mean, mean))
    assert np.allclose(np.diag(pop.correlation), 1.0)
    text = str(pop)
    assert "components: 3 (a covariance each; mean weights" in text
    assert "of draws relabelled)" in text  # relabelling ran on the fit
    assert pop.summary()["n_components"] == 3


def test_component_weights_and_probabilities(mixture_pop):
    pop = mixture_pop
    table = pop.component_weights(level=0.8)
    w = pop.component_weight_draws
    assert table.index.name == "component" and list(table.index) == [0, 1, 2]
    assert np.allclose(table["weight"], w.mean(axis=0))
    assert np.allclose(table["lower"], np.quantile(w, 0.1, axis=0))
    probs = pop.component_probabilities()
    assert probs.shape == (120, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert np.isclose(table["entities"].sum(), 120)
    # entity 5 (with a missing score) by Bayes' rule with scipy, averaged over the draws
    x = pop.data.latent()[5]
    terms = _component_densities(pop, x)
    expected = np.exp(terms - logsumexp(terms, axis=1, keepdims=True)).mean(axis=0)
    assert np.allclose(probs.iloc[5], expected)
    assert pop.component_means().shape == (3, 3)


def test_the_mixtures_log_likelihood_is_the_rows_mixture_density(mixture_pop):
    pop = mixture_pop
    ll = pop.log_likelihood()
    X = pop.data.latent()
    for i in (0, 3):  # a complete row and one with a missing score
        expected = logsumexp(_component_densities(pop, X[i]), axis=1)
        assert np.allclose(ll.isel(entity=i).values.reshape(-1), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isfinite(pop.loo().elpd_loo)


def test_a_profile_reweights_the_components_by_their_evidence(mixture_pop):
    pop = mixture_pop
    before = pop.profile().component_probabilities()
    assert np.allclose(before, pop.component_weight_draws.mean(axis=0))
    with pytest.warns(sib.OutOfRangeWarning, match="Observed a = 1.5 .* below its lowest"):
        profile = pop.profile(noise=0.3).observe("a", 1.5)  # in the lowest cluster's tail
    probs = profile.component_probabilities()
    # by hand: per draw, w_c N(1.5; mu_c[a], Sigma_c[a, a] + 0.3^2), normalized, averaged
    mu, Sigma = pop.component_mu_draws[:, :, 0], pop.component_Sigma_draws[:, :, 0, 0]
    log_r = (np.log(pop.component_weight_draws)
             - 0.5 * np.log(Sigma + 0.09) - 0.5 * (1.5 - mu) ** 2 / (Sigma + 0.09))
    expected = np.exp(log_r - logsumexp(log_r, axis=1, keepdims=True)).mean(axis=0)
    assert np.allclose(probs, expected) and np.isclose(probs.sum(), 1.0)
    table = profile.predict(level=0.9)
    assert table.loc["b", "lower"] < table.loc["b", "mean"] < table.loc["b", "upper"]
    assert list(profile.most_informative(k=2)["benchmark"]) in (["b", "c"], ["c", "b"])
    assert profile.sample(50, random_seed=0).shape == (50, 3)


def test_the_prior_predictive_of_a_mixture_draws_components(mixture_pop):
    prior = mixture_pop.sample_prior_predictive(draws=40, n_entities=30, random_seed=0)
    assert prior["prior"]["mu"].dims == ("chain", "draw", "component", "benchmark")
    w = prior["prior"]["component_weights"].values
    assert w.shape == (1, 40, 3) and np.allclose(w.sum(axis=-1), 1.0)
    assert prior["prior_predictive"]["scores"].shape == (1, 40, 30, 3)
    again = mixture_pop.sample_prior_predictive(draws=40, n_entities=30, random_seed=0)
    assert np.array_equal(prior["prior_predictive"]["scores"],
                          again["prior_predictive"]["scores"])
    # the components' covariances have the model's floor
    floor = component_floor(rows_by_pattern(mixture_pop.data.standardized()), 3,
                            mixture_pop.prior.component_floor)
    scale = mixture_pop.standardization["scale"].to_numpy()
    assert np.all(prior["prior"]["sigma"].values >= scale * floor * (1 - 1e-9))


def test_a_mixture_saved_before_the_floor_loads_without_one(mixture_pop, tmp_path,
                                                             monkeypatch):
    attrs = mixture_pop.idata.attrs
    older = {k: v for k, v in json.loads(attrs["prior"]).items() if k != "component_floor"}
    monkeypatch.setitem(attrs, "prior", json.dumps(older))  # as an older version wrote it
    path = mixture_pop.to_netcdf(tmp_path / "older.nc")
    monkeypatch.undo()
    assert sib.Population.from_netcdf(path).prior.component_floor == 0.0
    assert sib.Population.from_netcdf(mixture_pop.to_netcdf(tmp_path / "now.nc")).prior == \
        mixture_pop.prior


def test_a_saved_mixture_loads_and_predicts_the_same(mixture_pop, tmp_path):
    path = mixture_pop.to_netcdf(tmp_path / "mixture.nc")
    same = sib.Population.from_netcdf(path)
    assert same.n_components == 3
    first = mixture_pop.profile().observe("a", 10.0).predict()
    assert first.equals(same.profile().observe("a", 10.0).predict())


def test_components_auto_adds_components_only_on_a_significant_loo_gain(fake_sampler):
    df = simulate(80, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sib.SamplerWarning)
        pop = sib.Population.from_dataframe(df, normalize=False, transform=None,
                                            components="auto", **FAST)
    table = pop.component_selection
    assert table.index.name == "components"
    assert_chosen_by_paired_loo(table, pop.n_components, sib.population.MAX_AUTO_COMPONENTS)
    assert "(pop.component_selection)" in str(pop)


def test_components_auto_moves_on_only_while_the_gain_is_significant(fake_sampler,
                                                                      monkeypatch):
    """The rule's branches, with LOO faked: 2 components beat 1 by far more than two paired
    standard errors and are kept; 3 gain a little more, within them, and the search stops."""
    from types import SimpleNamespace

    df = simulate(60, seed=8)
    noise = np.random.default_rng(0).normal(size=60)
    gains = {1: 0.0 * noise, 2: 1.0 + 0.1 * noise, 3: 1.01 + 0.3 * noise}

    def fake_loo(self, pointwise=False):
        loo_i = gains[self.n_components] - 2.0
        return SimpleNamespace(loo_i=loo_i, elpd_loo=loo_i.sum(), se=1.0, p_loo=3.0,
                               pareto_k=np.zeros(60), good_k=0.7)

    monkeypatch.setattr(sib.Population, "loo", fake_loo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sib.SamplerWarning)
        pop = sib.Population.from_dataframe(df, normalize=False, transform=None,
                                            components="auto", **FAST)
    table = pop.component_selection
    assert pop.n_components == 2 and list(table.index) == [1, 2, 3]
    assert table.loc[1, "elpd_diff"] == pytest.approx(-60.0, rel=0.05)
    assert 0 < table.loc[3, "elpd_diff"] < 2 * table.loc[3, "dse"]  # a gain, not taken
    assert_chosen_by_paired_loo(table, 2, sib.population.MAX_AUTO_COMPONENTS)


def test_bad_component_specifications_get_clear_errors(fake_sampler):
    df = simulate(40, seed=6)
    kwargs = dict(normalize=False, transform=None, **FAST)
    with pytest.raises(ValueError, match=r"components must be a positive integer.*got 0"):
        sib.Population.from_dataframe(df, components=0, **kwargs)
    with pytest.raises(ValueError, match="components must be a positive integer.*'two'"):
        sib.Population.from_dataframe(df, components="two", **kwargs)
    with pytest.raises(ValueError, match="components=2 needs covariance='lkj'"):
        sib.Population.from_dataframe(df, components=2, covariance="factor", n_factors=1,
                                      **kwargs)
    with pytest.raises(ValueError, match="shared_covariance=True is for mixtures"):
        sib.Population.from_dataframe(df, shared_covariance=True, **kwargs)
    with pytest.raises(ValueError, match="groups are not supported with components=2"):
        sib.Population.from_dataframe(df, components=2, groups=["x", "y"] * 20, **kwargs)
    with pytest.raises(ValueError, match="not both at once"):
        sib.Population.from_dataframe(df, components="auto", covariance="factor",
                                      n_factors="auto", **kwargs)
    assert not fake_sampler  # all refused before sampling


def _posterior_with_modes(lp_offsets, swap_labels=False):
    """A 2-component fake posterior of 4 chains; chain c's log density shifted by
    ``lp_offsets[c]``; with ``swap_labels`` the last two chains give the labels the other
    way round."""
    rng = np.random.default_rng(0)
    chains, draws, K = 4, 300, 2
    w = np.clip(rng.normal([0.3, 0.7], 0.02, size=(chains, draws, 2)), 0.01, None)
    w /= w.sum(axis=-1, keepdims=True)
    mu = rng.normal([[-1.0, -1.0], [1.0, 1.0]], 0.05, size=(chains, draws, 2, K))
    if swap_labels:
        w[2:] = w[2:, :, ::-1]
        mu[2:] = mu[2:, :, ::-1]
    stds = rng.normal(1.0, 0.05, size=(chains, draws, 2, K))
    r = rng.normal(0.3, 0.05, size=(chains, draws, 2))
    corr = np.tile(np.eye(K), (chains, draws, 2, 1, 1))
    corr[..., 0, 1] = corr[..., 1, 0] = r
    if swap_labels:
        stds[2:], corr[2:] = stds[2:, :, ::-1], corr[2:, :, ::-1]
    posterior = xr.Dataset(
        {"component_weights": (("chain", "draw", "component"), w),
         "mu_std": (("chain", "draw", "component", "benchmark"), mu),
         "chol_stds": (("chain", "draw", "component", "benchmark"), stds),
         "chol_corr": (("chain", "draw", "component", "benchmark", "benchmark_bis"), corr)},
        coords={"chain": range(chains), "draw": range(draws), "benchmark": ["a", "b"],
                "benchmark_bis": ["a", "b"], "component": [0, 1]})
    lp = rng.normal(size=(chains, draws)) + np.asarray(lp_offsets)[:, None]
    stats = xr.Dataset({"lp": (("chain", "draw"), lp),
                        "diverging": (("chain", "draw"), np.zeros((chains, draws), bool))})
    return {"posterior": posterior, "sample_stats": stats}


def test_label_invariant_diagnostics_ignore_the_labels_but_see_different_modes():
    swapped = diagnostics.summarize(_posterior_with_modes([0, 0, 0, 0], swap_labels=True))
    assert swapped["max_r_hat"] < 1.01  # the population is the same in every chain
    assert swapped["max_r_hat_components"] > 1.5
    (problem,) = diagnostics.problems(swapped)
    assert "could not be matched" in problem and "predictions" in problem
    assert "fewer than 2 components" in problem and "(worst: " in problem
    # with no draw relabelled, a labelled r_hat that fails is slow mixing, not switching
    (problem,) = diagnostics.problems({**swapped, "label_switched_fraction": 0.0})
    assert "No draw's labels were switched" in problem and "Run more draws" in problem
    assert "fewer than" not in problem
    (problem,) = diagnostics.problems({**swapped, "label_switched_fraction": 0.25})
    assert "changed the labels of 25% of draws" in problem
    modes = diagnostics.summarize(_posterior_with_modes([0, 0, -40, -40]))
    problem = diagnostics.problems(modes)[0]
    assert "settled in different modes" in problem and "-40" in problem
    assert "Fit fewer than 2 components" in problem  # the number fitted, whatever chose it


def test_relabelling_matches_the_chains_labels():
    """Chains that give the labels the other way round: after relabelling, the labelled
    r_hat passes and the summary reports the draws whose labels changed."""
    fake = _posterior_with_modes([0, 0, 0, 0], swap_labels=True)
    posterior, switched = relabel(fake["posterior"], fake["sample_stats"]["lp"].values,
                                  direction=np.array([1.0, 1.0]))
    assert switched == 0.5  # the two swapped chains of four, whichever the pivot's
    idata = az.InferenceData(posterior=posterior, sample_stats=fake["sample_stats"])
    idata.attrs["label_switched_fraction"] = switched
    summary = diagnostics.summarize(idata)
    assert summary["max_r_hat_components"] < 1.01
    assert summary["label_switched_fraction"] == 0.5
    assert diagnostics.problems(summary) == []
    # numbered along (1, 1): the component at -1 first, with weight 0.3
    assert posterior["component_weights"].mean(("chain", "draw")).values[0] < 0.5


def test_evaluate_takes_components(fake_sampler):
    df = simulate(150, seed=7)
    res = sib.evaluate(df, methods=("bayes", "plugin", "plugin_mixture"), components=2,
                       transform=None, n_observed=1, progressbar=False, draws=200, tune=200,
                       chains=2)
    assert res.settings["components"] == 2
    assert set(res.summary.index.get_level_values("method")) == {
        "bayes", "plugin", "plugin_mixture"}
    assert (res.summary["coverage_90"] > 0.5).all()
    # the one fit's diagnostics, the same as its population's
    assert list(res.fits.index) == [0] and res.fits.index.name == "replication"
    assert res.fits["components"].tolist() == [2]  # the number fitted (chosen, with "auto")
    assert set(res.fits.columns) == {"components", "divergences", "max_r_hat", "min_ess_bulk",
                                     "min_ess_tail", "min_bfmi", "max_tree_depth_hits",
                                     "max_r_hat_components", "ok", "problems"}
    # a mixture's labelled r_hat is reported; ok agrees with the problems found
    assert res.fits["max_r_hat_components"].notna().all()
    assert (res.fits["ok"] == (res.fits["problems"] == "")).all()
    plugin_only = sib.evaluate(df, methods=("plugin",), n_observed=1, progressbar=False)
    assert plugin_only.fits.empty  # no fit ran
    with pytest.raises(ValueError, match="protocol='cells' takes no .*components"):
        sib.evaluate(df, protocol="cells", components=2)


def test_the_plugin_mixture_is_sklearns_em_fit():
    from sklearn.mixture import GaussianMixture

    from skillinfer_bayes.studies.evaluation import plugin_mixture

    X = simulate(200, seed=8).to_numpy()
    draws = plugin_mixture(X, 3, random_seed=1)
    gmm = GaussianMixture(3, random_state=1, reg_covar=1e-6).fit(X)
    assert np.allclose(draws.means[0], gmm.means_) and np.allclose(draws.weights[0],
                                                                   gmm.weights_)
    by_bic = plugin_mixture(X)  # one Gaussian population: BIC keeps one component
    assert by_bic.n_components == 1


@pytest.mark.slow
def test_a_real_fit_recovers_known_clusters_and_is_calibrated():
    """Two clusters of known means and weights: each recovered within 2 posterior sds of the
    truth and of the sample's own cluster estimates (the means and shares of the simulated rows
    given their true labels, which an exact posterior centres on); new entities' predictive
    intervals cover at their levels (PIT within 0.02).

    The sample must itself lie near the truth for the check against the truth to test the fit:
    seed 11's put a cluster mean 2.03 standard errors from it, and the check passed or failed
    with the Monte Carlo noise. Seed 13 is the first after it whose clusters' means and shares
    all lie within 1.5 standard errors of the truth (asserted below, before the fit)."""
    rng = np.random.default_rng(13)
    means = np.array([[-1.5, -1.0, -0.5], [1.5, 1.0, 1.5]])
    cov = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]]) * 0.5
    weights = np.array([0.35, 0.65])

    def draw(n):
        which = rng.choice(2, size=n, p=weights)
        return means[which] + rng.multivariate_normal(np.zeros(3), cov, size=n), which

    X, which = draw(600)
    sample_means = np.stack([X[which == c].mean(axis=0) for c in range(2)])
    sample_weights = np.bincount(which, minlength=2) / len(which)
    counts = np.bincount(which, minlength=2)
    standard_errors = np.sqrt(np.diag(cov)[None, :] / counts[:, None])
    assert np.all(np.abs(sample_means - means) < 1.5 * standard_errors)
    assert np.all(np.abs(sample_weights - weights)
                  < 1.5 * np.sqrt(weights * (1 - weights) / len(which)))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    # 4 x 1000 draws: with 4 x 500, r_hat was 1.008-1.013 over seeds 1-4 (bulk ESS 570-750)
    pop = sib.Population.from_dataframe(df, normalize=False, transform=None, components=2,
                                        random_seed=1, draws=1000, tune=500, progressbar=False)
    assert pop.diagnostics()["ok"]
    mu = pop.component_mu_draws
    assert np.all(np.abs(mu.mean(axis=0) - sample_means) < 2 * mu.std(axis=0))
    assert np.all(np.abs(mu.mean(axis=0) - means) < 2 * mu.std(axis=0))
    table = pop.component_weights()
    assert np.all(np.abs(table["weight"] - sample_weights) < 2 * table["sd"])
    assert np.all(np.abs(table["weight"] - weights) < 2 * table["sd"])
    # PIT of new entities' unobserved scores given one observed score: 2,000 entities, so
    # that 0.02 is 2.5 binomial standard errors at 50% (0.018 with the 400 used before)
    new = draw(2000)[0]
    components = pop.predictive_components()
    from skillinfer_bayes.predictive.components import condition_components
    from skillinfer_bayes.predictive.mixture import mixture_cdf

    out = condition_components(components, np.array([0]), new[:, [0]], noise_var=0.0)
    pit = np.stack([mixture_cdf(new[:, k], out.means[:, :, k], np.sqrt(out.cov[:, k]),
                                out.weights) for k in (1, 2)])
    for level in (0.5, 0.9, 0.95):
        inside = np.mean(np.abs(pit - 0.5) <= level / 2)
        assert abs(inside - level) <= 0.02, (level, inside)


def test_evaluation_curves_of_a_mixture_score_one_predictive_alike_under_every_rule(
        fake_sampler):
    """A mixture's curves draw each model's CRPS pairs from its conditioned weights, the same
    pairs for the same predictive: before any observation every rule scores the same."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(1.0, 0.5, (80, 3)), rng.normal(-1.0, 0.6, (70, 3))])
    curve = sib.evaluation_curve(pd.DataFrame(X, columns=["a", "b", "c"]), random_seed=1,
                                 components=2, transform=None, draws=200, tune=400, chains=2,
                                 progressbar=False)
    first = curve.steps[curve.steps["n_observed"] == 0]
    assert len(first) == len(curve.steps["rule"].unique()) > 1
    assert np.allclose(first["crps"], first["crps"].iloc[0], rtol=1e-12)
    assert (curve.steps.groupby("rule")["crps_all"].apply(lambda c: c.iloc[-1] < c.iloc[0])).all()


def test_too_many_components_for_the_rows_advises_fewer_components():
    # issue 32, item 8: 8 components on 12 rows failed r_hat and were told to run more draws
    from skillinfer_bayes.inference.diagnostics import problems

    summary = {"divergences": 0, "chains": 4, "max_r_hat": 1.30, "max_r_hat_components": 1.4,
               "n_components": 8, "n_entities": 12, "dimensions": 3, "chain_mean_lp": [],
               "chain_lp_sd": 1.0, "min_ess_bulk": 4000.0, "min_ess_tail": 4000.0}
    (message,) = problems(summary)
    assert "8 components are too many for 12 entities" in message
    assert "fit at most 3 components; more draws will not help" in message
    enough = {**summary, "n_entities": 4000}
    assert "Run more tune and draws" in problems(enough)[0]
