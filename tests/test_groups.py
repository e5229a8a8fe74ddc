"""Group-level means: partial pooling, per-(group, pattern) statistics, group profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from helpers import TRUE_MU, TRUE_SIGMA

import skillinfer_bayes as sib
from skillinfer_bayes.data.sufficient_stats import loglik_draws, pattern_stats, pointwise_loglik
from skillinfer_bayes.models.mvn import build_model, centered_groups

#: Known group shifts of the means (data scale), 6 groups.
SHIFTS = {
    "g0": [12.0, 8.0, 3.0],
    "g1": [-12.0, -8.0, -3.0],
    "g2": [6.0, -4.0, 0.0],
    "g3": [-6.0, 4.0, 1.0],
    "g4": [0.0, 0.0, -2.0],
    "g5": [0.0, 0.0, 0.0],
}


def simulate_groups(n_per_group: int, seed: int, missing: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for name, shift in SHIFTS.items():
        X = rng.multivariate_normal(TRUE_MU + np.array(shift), TRUE_SIGMA, size=n_per_group)
        frame = pd.DataFrame(X, columns=["a", "b", "c"])
        frame["family"] = name
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    scores = df[["a", "b", "c"]].to_numpy()
    mask = rng.random(scores.shape) < missing
    mask[np.arange(len(df)), rng.integers(0, 3, len(df))] = False
    df[["a", "b", "c"]] = np.where(mask, np.nan, scores)
    return df


@pytest.fixture(scope="module")
def grouped_df() -> pd.DataFrame:
    return simulate_groups(120, seed=5)


@pytest.fixture(scope="module")
def grouped_pop(grouped_df) -> sib.Population:
    return sib.Population.from_dataframe(
        grouped_df, groups="family", normalize=False, draws=500, tune=500, chains=4,
        target_accept=0.95, random_seed=4, progressbar=False, transform=None,
    )


def test_group_means_recover_the_known_shifts(grouped_df, grouped_pop):
    assert grouped_pop.group_names == sorted(SHIFTS)
    assert grouped_pop.diagnostics()["ok"], grouped_pop.diagnostics()["problems"]
    sample_means = grouped_df.groupby("family")[["a", "b", "c"]].mean()
    se = np.sqrt(np.diag(TRUE_SIGMA) / 110)
    # 120 rows per group: little pooling, the group means sit near their sample means
    deviation = (grouped_pop.group_mean - sample_means).abs() / se
    assert (deviation.to_numpy() < 2.0).all(), deviation
    # the between-group sds are of the size of the shifts' sds, not 0
    shift_sd = np.std(np.array(list(SHIFTS.values())), axis=0, ddof=1)
    tau = grouped_pop.group_sd_draws.mean(axis=0)
    assert (tau > 0.4 * shift_sd).all() and (tau < 2.5 * shift_sd).all(), (tau, shift_sd)
    np.testing.assert_allclose(grouped_pop.correlation, TRUE_SIGMA / np.outer(
        np.sqrt(np.diag(TRUE_SIGMA)), np.sqrt(np.diag(TRUE_SIGMA))), atol=0.1)
    assert grouped_pop.idata["posterior"]["group_mu"].dims == (
        "chain", "draw", "group", "benchmark")
    assert "6 groups" in str(grouped_pop)


def test_profiles_of_known_unknown_and_absent_groups(grouped_pop):
    g0 = grouped_pop.profile(group="g0")
    assert g0.group == "g0" and "group='g0'" in repr(g0)
    np.testing.assert_allclose(g0.mean(), grouped_pop.group_mean.loc["g0"], rtol=1e-12)
    pooled = grouped_pop.profile()
    np.testing.assert_allclose(pooled.mean(), grouped_pop.population_mean, rtol=1e-12)
    # a member of an unseen group also carries the between-group variance of the mean
    sd_within = np.sqrt(np.diagonal(grouped_pop.Sigma_draws, axis1=1, axis2=2).mean(axis=0))
    assert (pooled.std() > sd_within).all()
    assert (g0.std() < pooled.std()).all()
    with pytest.warns(sib.UnknownGroupWarning, match=r"Unknown group 'g9'.*\['g0', 'g1'"):
        unknown = grouped_pop.profile(group="g9")
    np.testing.assert_allclose(unknown.observe("a", 60.0).mean(),
                               pooled.observe("a", 60.0).mean(), rtol=1e-12)
    # observing a score moves a group member from its group's mean
    copy = g0.copy().observe("a", 30.0)
    assert copy.group == "g0" and copy.mean("b") < g0.mean("b")


def test_grouped_pointwise_loglik_sums_to_the_models_joint_loglik(grouped_pop):
    """Issue 4, done-when 3: LOO's pointwise terms vs the PyMC model's potential."""
    pop = grouped_pop
    X = pop.matrix.to_numpy()
    center, scale = np.nanmean(X, axis=0), np.nanstd(X, axis=0, ddof=1)
    codes = pd.Categorical(pop.groups, pop.group_names).codes
    model_stats = pattern_stats((X - center) / scale, codes)
    model = build_model(model_stats, pop.benchmark_names, pop.prior, pop.group_names)
    fn = pm.pytensorf.compile(
        model.value_vars, model.replace_rvs_by_values([model["loglik"]])[0],
        on_unused_input="ignore",  # with centred groups the likelihood skips mu_std
    )
    post = pop.idata["posterior"]
    ll = pop.log_likelihood().sum("entity").values
    K = len(pop.benchmark_names)
    rows, cols = np.tril_indices(K)
    # data scale = standardized scale minus the Jacobian of the standardization
    jacobian = np.sum((~np.isnan(X)).sum(axis=0) * np.log(scale))
    for chain, draw in [(0, 0), (0, 250), (1, 499)]:
        at = post.isel(chain=chain, draw=draw)
        L = np.linalg.cholesky(at["chol_corr"].values * np.outer(
            at["chol_stds"].values, at["chol_stds"].values))
        packed = L[rows, cols]
        packed[rows == cols] = np.log(packed[rows == cols])
        tau = at["group_tau"].values
        group_mu = at["group_mu_std"].values
        centred = centered_groups(model_stats, len(pop.group_names))
        point = {
            "mu_std": at["mu_std"].values,
            "chol_cholesky-cov-packed__": packed,
            "group_tau_log__": np.log(tau),
            "group_offset": (group_mu[~centred] - at["mu_std"].values) / tau,
            "group_mu_centered": group_mu[centred],
        }
        model_ll = float(fn(*[point[v.name] for v in model.value_vars]))
        assert ll[chain, draw] == pytest.approx(model_ll - jacobian, rel=1e-8)
    loo = pop.loo()
    assert loo.elpd_loo < 0 and loo.p_loo > 9  # more parameters than the pooled model


def test_grouped_numpy_loglik_equals_per_row_scipy():
    from scipy import stats

    df = simulate_groups(8, seed=1, missing=0.3)
    X = df[["a", "b", "c"]].to_numpy()
    codes = pd.Categorical(df["family"]).codes
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(4, 3))
    group_mu = mu[None] + rng.normal(size=(6, 4, 3))
    A = rng.normal(size=(4, 3, 3))
    Sigma = A @ np.swapaxes(A, 1, 2) + np.eye(3)
    ll = pointwise_loglik(X, mu, Sigma, codes, group_mu)
    joint = loglik_draws(pattern_stats(X, codes), mu, Sigma, group_mu)
    np.testing.assert_allclose(ll.sum(axis=1), joint, rtol=1e-10)
    for i in (0, 13, 47):
        o = np.flatnonzero(~np.isnan(X[i]))
        ref = stats.multivariate_normal(group_mu[codes[i], 3][o], Sigma[3][np.ix_(o, o)])
        assert ll[3, i] == pytest.approx(ref.logpdf(X[i, o]), rel=1e-10)


def test_groups_as_series_or_sequence(grouped_df, fake_sampler):
    scores = grouped_df[["a", "b", "c"]]
    kwargs = dict(normalize=False, draws=200, chains=2, random_seed=0, progressbar=False,
                  cache=False)
    by_series = sib.Population.from_dataframe(scores, groups=grouped_df["family"], **kwargs)
    by_list = sib.Population.from_dataframe(scores, groups=list(grouped_df["family"]),
                                            **kwargs)
    np.testing.assert_array_equal(by_series.mu_draws, by_list.mu_draws)
    assert by_series.groups.tolist() == grouped_df["family"].tolist()


@pytest.mark.parametrize(
    ("groups", "error", "match"),
    [
        ("familly", ValueError, r"groups='familly' is not a column of df; columns: \['a'"),
        (["g0"] * 5, ValueError, "groups has 5 labels for 720 rows"),
        ("nan", ValueError, "groups has 1 missing label"),
        ("shifted", ValueError, "must have the same index as df"),
    ],
)
def test_bad_groups_get_clear_errors(grouped_df, groups, error, match):
    df = grouped_df.copy()
    if groups == "nan":
        df.loc[3, "family"] = None
        groups = "family"
    elif groups == "shifted":
        groups = df["family"].set_axis(df.index + 1)
        df = df.drop(columns="family")
    with pytest.raises(error, match=match):
        sib.Population.from_dataframe(df, groups=groups, progressbar=False)
    assert "family" not in df or df["family"].notna().sum() >= 719  # input untouched


def test_group_on_an_ungrouped_population_is_an_error(simulated_pop):
    with pytest.raises(ValueError, match=r"needs a grouped population.*groups="):
        simulated_pop.profile(group="g0")
    with pytest.raises(ValueError, match="needs a grouped population"):
        simulated_pop.group_mean  # noqa: B018


def test_mixed_centred_and_non_centred_groups_give_the_same_likelihood():
    """A large group is parameterized centred, a small one non-centred; the potential is the
    sufficient-statistics log-likelihood at the implied group means either way."""
    from skillinfer_bayes.models.mvn import CENTERED_MIN_SIZE

    rng = np.random.default_rng(3)
    sizes = [CENTERED_MIN_SIZE + 10, 5]
    X = rng.normal(size=(sum(sizes), 3))
    X[rng.random(X.shape) < 0.2] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 0.5
    codes = np.repeat([0, 1], sizes)
    stats = pattern_stats(X, codes)
    assert centered_groups(stats, 2).tolist() == [True, False]
    model = build_model(stats, ["a", "b", "c"], sib.Prior(), ["big", "small"])
    names = {v.name for v in model.value_vars}
    assert {"group_offset", "group_mu_centered"} <= names
    outs = model.replace_rvs_by_values(
        [model["mu_std"], model["chol"], model["group_mu_std"], model["loglik"]])
    fn = pm.pytensorf.compile(model.value_vars, outs)
    point = {v.name: rng.normal(scale=0.3, size=v.type.shape if all(
        d is not None for d in v.type.shape) else model.initial_point()[v.name].shape)
        for v in model.value_vars}
    mu, chol_packed, group_mu, loglik = fn(*[point[v.name] for v in model.value_vars])
    L = np.zeros((3, 3))
    L[np.tril_indices(3)] = chol_packed
    assert group_mu.shape == (2, 3)
    expected = loglik_draws(stats, mu, L @ L.T, group_mu)
    assert float(loglik) == pytest.approx(float(expected), rel=1e-9)
