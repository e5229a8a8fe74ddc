"""The factor-covariance population model, for wide tables.

On the standardized latent scale, as the LKJ model of :mod:`~skillinfer_bayes.models.mvn`, but
with the covariance of a factor model:

    s_j          ~ HalfNormal(1)                                 r factor scales
    Z            = W [T; B]                                      K x r standard loadings
                   T lower-triangular r x r:  T_jk ~ Normal(0, 1) below the diagonal,
                   T_jj^2 ~ ChiSquared(r - j + 1);   B_kj ~ Normal(0, 1)
    Lambda_kj    = s_j Z_kj                                      K x r loadings
    psi_k        ~ Gamma(2, 4 / sd_scale)                        K specific sds (mean sd_scale / 2)
    Sigma        = Lambda Lambda' + diag(psi^2)
    mu           = mean_scale (Lambda a + psi * b),  a ~ Normal(0, I_r),  b ~ Normal(0, I_K)
    entity       z_i[observed] ~ MvNormal(mu, Sigma)[observed]

with ``W`` a fixed orthonormal basis whose first r columns span the data's principal
directions (:func:`~skillinfer_bayes.models.principal.factor_basis`: the eigenvectors of the
second moments for complete or tall tables, an EM factor analysis's subspace for sparse
ones).

- **Identification: a gauge on the principal directions.** Free loadings are not identified:
  a rotation ``Lambda Q`` gives the same Sigma. NUTS then travels along that ridge of
  rotations (``r (r - 1) / 2`` flat dimensions) in trajectories as long as the maximum tree
  depth allows, and a large complete table is slow: 900 x 120 of rank 5, 4 x 1000 draws, 359 s
  with nearly every draw at the maximum depth. Here the rotation is fixed instead: ``W' Z``
  has a lower-triangular top block with a positive diagonal (the LQ decomposition, unique for
  a full-rank block), so each loadings matrix stands for its whole orbit once. Without the
  factor scales, the prior is exactly that of free ``Normal(0, 1)`` loadings with the rotation
  integrated out, whatever ``W``: the LQ factor of a standard normal r x r matrix has
  standard normal entries below the diagonal and ``ChiSquared(r - j + 1)`` squared diagonal
  entries (the Bartlett decomposition), and the rows of ``B`` stay standard normal under the
  rotation. The factor scales (below) are per column of the gauged loadings, so factor j is
  the one beyond the first j - 1 principal directions, and the later ones shrink first.
  Sigma, its sds and correlations (the deterministics ``chol_stds`` and ``chol_corr``, named
  as in the LKJ model so that every later step reads them alike) and the predictions are what
  the library reports; the diagnostics (r_hat, ESS) are computed on them.

  Why the principal directions: the gauge is ill-posed where the top block ``W_r' Lambda``
  is near singular, and with ``W`` = the first benchmarks (the classic positive
  lower-triangular constraint of Geweke and Zhou 1996) a benchmark that loads weakly on a
  factor puts a diagonal entry near 0: on an 80 x 20 rank-2 table (35% known) the chains
  settled in different modes (max r_hat of the correlations 1.70, min ESS 6). The data's
  principal directions keep that block far from singular. Measured (4 x 1000 draws, cold,
  2 cores), free loadings against this gauge:

  - 900 x 120, rank 5, complete: free 359 s (3,999 of 4,000 draws at the maximum depth,
    r_hat 1.005); gauged 53 s (mean depth 6.0, r_hat 1.007, min ESS 3,734).
  - 80 x 50, rank 2, 35% known, ``target_accept=0.9``: free 125 s; gauged on the EM subspace
    46 s (mean depth 5.0, r_hat 1.004, min ESS 2,677).

  (r_hat and ESS over Sigma's entries.) Also measured on the free loadings: a dense mass
  matrix made it worse (300 x 40 rank 3: mean depth 9.7 against 8.9); a lower maximum tree
  depth (8) cut the 900 x 120 fit to 97 s but its min ESS to 635 and its r_hat rose to 1.012.
- **The mean.** Its prior is ``mu | Sigma ~ Normal(0, mean_scale^2 Sigma)`` (the conjugate
  normal-inverse-Wishart form; on the standardized scale each mean still has a prior sd of
  about ``mean_scale``), written non-centred along the factors. Its posterior is then nearly
  isotropic in ``(a, b)``, where ``mu`` itself is correlated as ``Sigma / N``, which a diagonal
  mass matrix cannot follow: with independent ``Normal(0, 1)`` means, an 80 x 50 rank-2 table
  (35% known, 4 x 1000 draws) gave a min ESS of the means of 378 and r_hat 1.012; this form
  gives 5,195 and 1.004, in 87 s instead of 124.
- **Shrinkage of unneeded factors.** Each factor has its own scale ``s_j``, so a factor the
  data do not support shrinks toward zero (automatic relevance determination). Fixed,
  decreasing scales (``1 / sqrt(j)``, as the cumulative-shrinkage priors of Bhattacharya and
  Dunson 2011 with fixed rates) were measured on free loadings: faster on a simulated
  60 x 16 rank-2 table (mean tree depth 4.4 against 5.8), but on the 80 x 50 table the chains
  disagreed (max r_hat of Sigma's entries 1.045, min ESS 68, against 1.006 and 2,746 with
  learned scales).
- **Specific sds away from 0.** A benchmark with few scores can be fitted exactly by the
  factors, and its specific sd then runs to 0 (a Heywood case), where the likelihood is
  unbounded and NUTS diverges. The ``Gamma(2, .)`` prior has zero density at 0 (a
  boundary-avoiding prior, Chung et al. 2013) where a half-normal does not: on a sparse fold
  of the 60 x 16 table (25% of its cells visible), with fixed factor scales, the half-normal
  gave 289 divergences and r_hat 1.30 even at ``target_accept=0.95``, the gamma prior none at
  0.9; with the learned scales, none either (raise ``target_accept`` to 0.9 for sparse
  tables).
- **Cost.** With few missingness patterns (a tall or complete table) the likelihood is the
  sufficient statistics of each pattern through the Woodbury identity
  (:func:`factor_pattern_loglik`): O(k^2 r) per pattern whatever the number of rows. With many
  patterns it is the batched per-row kernel of :mod:`~skillinfer_bayes.models.masked`, also
  through the Woodbury identity: O(N K r^2) per evaluation whatever the missingness. Either
  way no K x K matrix is factorized, and there are ``K r`` free loadings instead of the LKJ
  model's ``K (K - 1) / 2`` correlations.

The prior's ``eta`` (the LKJ concentration) does not enter this model.

References
----------
.. [1] Geweke, J. and Zhou, G. (1996). Measuring the pricing error of the arbitrage pricing
   theory. *Review of Financial Studies* 9(2), 557-587.
.. [2] Lopes, H. F. and West, M. (2004). Bayesian model assessment in factor analysis.
   *Statistica Sinica* 14, 41-67.
.. [3] Bhattacharya, A. and Dunson, D. B. (2011). Sparse Bayesian infinite factor models.
   *Biometrika* 98(2), 291-306.
.. [4] Chung, Y., Rabe-Hesketh, S., Dorie, V., Gelman, A. and Liu, J. (2013). A
   nondegenerate penalized likelihood estimator for variance parameters in multilevel
   models. *Psychometrika* 78(4), 685-709.

Examples
--------
>>> import numpy as np
>>> from skillinfer_bayes.models.masked import masked_rows
>>> from skillinfer_bayes.models.priors import Prior
>>> X = np.random.default_rng(0).normal(size=(40, 5))
>>> model = build_factor_model(masked_rows(X), ["a", "b", "c", "d", "e"], Prior(), 2)
>>> sorted(v.name for v in model.free_RVs)  # doctest: +NORMALIZE_WHITESPACE
['factor_scale', 'loadings_diag_sq', 'loadings_lower', 'loadings_rest', 'mean_factor',
 'mean_specific', 'specific_sd']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.slinalg import solve_triangular

from skillinfer_bayes.data.sufficient_stats import LOG_2PI, PatternStats
from skillinfer_bayes.models.masked import masked_factor_loglik
from skillinfer_bayes.models.mvn import CHOL_VAR, MEAN_VAR, ROW_MASK, ROW_VALUES
from skillinfer_bayes.models.principal import factor_basis, is_rows
from skillinfer_bayes.models.priors import Prior

#: Names of the factor model's variables (standardized scale).
FACTOR_SCALE_VAR = "factor_scale"
LOWER_VAR = "loadings_lower"
DIAG_SQ_VAR = "loadings_diag_sq"
REST_VAR = "loadings_rest"
BASIS_DATA = "loadings_basis"
LOADINGS_VAR = "loadings"
SPECIFIC_SD_VAR = "specific_sd"
MEAN_FACTOR_VAR = "mean_factor"
MEAN_SPECIFIC_VAR = "mean_specific"


def check_n_factors(n_factors, K: int) -> int:
    """``n_factors`` as an int in [1, K - 1] (a clear error otherwise).

    Examples
    --------
    >>> check_n_factors(2, 5)
    2
    """
    if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) \
            or not 1 <= n_factors < K:
        raise ValueError(
            f"n_factors must be an integer from 1 to {K - 1} (fewer factors than the {K} "
            f"latent dimensions); got {n_factors!r}."
        )
    return int(n_factors)


def factor_pattern_loglik(stats: PatternStats, mu, loadings, psi, K: int, label: str):
    """Symbolic log-likelihood of one missingness pattern's sufficient statistics under
    ``MvNormal(mu, loadings loadings' + diag(psi^2))``, through the Woodbury identity.

    With ``o`` the pattern's k observed dimensions, ``D = diag(psi_o^2)``, ``W = D^-1
    Lambda_o`` and ``C = I_r + Lambda_o' W = L L'``:

        log|Sigma_oo|          = sum log psi_o^2 + 2 sum log diag(L)
        tr(Sigma_oo^-1 A)      = tr(D^-1 A) - ||L^-1 W' A W L^-T||   (A = S + n d d')

    at O(k^2 r), where the dense form factorizes the k x k block. The statistics enter as
    ``pm.Data`` (``n_<label>``, ``mean_<label>``, ``scatter_<label>``) as in
    :func:`~skillinfer_bayes.models.mvn.pattern_loglik`.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import multivariate_normal
    >>> from skillinfer_bayes.data.sufficient_stats import pattern_stats
    >>> lam, psi = np.array([[1.0], [0.5], [-0.3]]), np.array([0.5, 1.0, 0.8])
    >>> X = np.random.default_rng(0).normal(size=(6, 3))
    >>> with pm.Model():
    ...     got = factor_pattern_loglik(pattern_stats(X)[0], np.zeros(3), lam, psi, 3, "0").eval()
    >>> ref = multivariate_normal(np.zeros(3), lam @ lam.T + np.diag(psi**2)).logpdf(X).sum()
    >>> bool(np.isclose(got, ref))
    True
    """
    o = stats.observed
    k = len(o)
    n = pm.Data(f"n_{label}", float(stats.n))
    mean = pm.Data(f"mean_{label}", stats.mean)
    scatter = pm.Data(f"scatter_{label}", stats.scatter)
    lam, sd, centre = (loadings, psi, mu) if k == K else (loadings[o], psi[o], mu[o])
    r = lam.shape[1]
    d = mean - centre
    total = scatter + n * pt.outer(d, d)  # S + n d d'
    d_inv = 1.0 / sd**2
    weighted = lam * d_inv[:, None]  # W = D^-1 Lambda_o
    chol = pt.linalg.cholesky(pt.eye(r) + lam.T @ weighted)
    a = solve_triangular(chol, weighted.T, lower=True)  # (r, k): L^-1 W'
    quad = pt.sum(pt.diag(total) * d_inv) - pt.sum((a @ total) * a)
    logdet = pt.sum(pt.log(sd**2)) + 2.0 * pt.sum(pt.log(pt.diag(chol)))
    return -0.5 * (n * logdet + quad + n * k * LOG_2PI)


def build_factor_model(
    data: tuple[np.ndarray, np.ndarray] | Sequence[PatternStats],
    benchmarks: Sequence[str],
    prior: Prior,
    n_factors: int,
    basis: np.ndarray | None = None,
) -> pm.Model:
    """The factor-covariance model (see the module docstring) of standardized scores.

    Parameters
    ----------
    data : (values, mask) or sequence of PatternStats
        Either the (N, K) standardized rows (any number where missing) and their 0/1 mask
        (:func:`~skillinfer_bayes.models.masked.masked_rows`): the likelihood is then the
        batched per-row kernel; or the sufficient statistics of each missingness pattern
        (:func:`~skillinfer_bayes.data.sufficient_stats.pattern_stats`): one Woodbury block
        per pattern (:func:`factor_pattern_loglik`), cheaper for few patterns.
    benchmarks : sequence of str
        The latent dimensions' names (the ``benchmark`` coordinate).
    prior : Prior
        ``mean_scale`` and ``sd_scale`` (twice the prior mean of the specific sds) are used;
        ``eta`` is not.
    n_factors : int
        Number of factors r, from 1 to K - 1.
    basis : numpy.ndarray, optional
        (K, K) orthonormal basis of the loadings' gauge; by default
        :func:`~skillinfer_bayes.models.principal.factor_basis` of ``data``. It enters
        as data (``loadings_basis``), so fits of same-shaped tables share one compiled
        sampler.

    Returns
    -------
    pymc.Model
        Free variables ``factor_scale``, ``loadings_lower`` and ``loadings_diag_sq`` (the
        r x r lower-triangular block), ``loadings_rest``, ``specific_sd``, ``mean_factor``
        (a) and ``mean_specific`` (b); deterministics ``mu_std``, ``loadings`` (K x r),
        ``chol_stds`` and ``chol_corr`` (the sds and correlations of Sigma); the likelihood as
        the potential ``loglik``.
    """
    K = len(benchmarks)
    r = check_n_factors(n_factors, K)
    basis = factor_basis(data, K, r) if basis is None else np.asarray(basis, dtype=float)
    if basis.shape != (K, K) or not np.allclose(basis.T @ basis, np.eye(K), atol=1e-8):
        raise ValueError(
            f"basis must be an orthonormal ({K}, {K}) matrix; got shape {basis.shape}. "
            "Leave it out to use factor_basis(data, K, n_factors)."
        )
    coords = {"benchmark": list(benchmarks), "benchmark_bis": list(benchmarks),
              "factor": list(range(r))}
    lower = np.tril_indices(r, -1)
    with pm.Model(coords=coords) as model:
        scale = pm.HalfNormal(FACTOR_SCALE_VAR, sigma=1.0, dims="factor")
        off = pm.Normal(LOWER_VAR, 0.0, 1.0, shape=len(lower[0]))
        # Bartlett: the LQ factor of an r x r standard normal matrix has these diagonals
        diag_sq = pm.ChiSquared(DIAG_SQ_VAR, nu=np.arange(r, 0, -1).astype(float),
                                dims="factor")
        rest = pm.Normal(REST_VAR, 0.0, 1.0, shape=(K - r, r))
        block = pt.set_subtensor(pt.zeros((r, r))[lower], off)
        block = pt.set_subtensor(block[np.arange(r), np.arange(r)], pt.sqrt(diag_sq))
        gauge = pm.Data(BASIS_DATA, basis)
        z = gauge @ pt.concatenate([block, rest], axis=0)  # (K, r) standard loadings
        loadings = pm.Deterministic(LOADINGS_VAR, z * scale[None, :],
                                    dims=("benchmark", "factor"))
        psi = pm.Gamma(SPECIFIC_SD_VAR, alpha=2.0, beta=4.0 / prior.sd_scale, dims="benchmark")
        a = pm.Normal(MEAN_FACTOR_VAR, 0.0, 1.0, dims="factor")
        b = pm.Normal(MEAN_SPECIFIC_VAR, 0.0, 1.0, dims="benchmark")
        mu = pm.Deterministic(MEAN_VAR, prior.mean_scale * (loadings @ a + psi * b),
                              dims="benchmark")
        cov = loadings @ loadings.T + pt.diag(psi**2)
        stds = pt.sqrt(pt.diag(cov))
        pm.Deterministic(f"{CHOL_VAR}_stds", stds, dims="benchmark")
        pm.Deterministic(f"{CHOL_VAR}_corr", cov / pt.outer(stds, stds),
                         dims=("benchmark", "benchmark_bis"))
        if is_rows(data):
            values = pm.Data(ROW_VALUES, data[0])
            mask = pm.Data(ROW_MASK, data[1])
            total = pt.sum(masked_factor_loglik(values, mask, mu, loadings, psi))
        else:
            total = sum(factor_pattern_loglik(s, mu, loadings, psi, K, str(p))
                        for p, s in enumerate(data))
        pm.Potential("loglik", total)
    return model
