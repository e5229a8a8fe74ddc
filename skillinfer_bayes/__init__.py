"""skillinfer-bayes: fully Bayesian prediction of benchmark scores from a few observed ones.

A population of models scored on K benchmarks is fitted with a hierarchical multivariate-normal
model (LKJ prior on the correlations, PyMC + NUTS) on a latent scale (by default each benchmark's
Gaussian-copula transform, inside bounds found from the scores); a new model's unobserved scores
are predicted by conditioning every posterior draw on its observed scores and mapping back.

Examples
--------
>>> import skillinfer_bayes as sib
>>> df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
>>> pop = sib.Population.from_dataframe(df, normalize=False, random_seed=0,
...                                     draws=500, tune=500, progressbar=False)
>>> pop.profile().observe("BBH", 55.93).predict(level=0.9).round().loc["GPQA"]
mean        17.0
median      18.0
std          3.0
lower       10.0
upper       21.0
observed     NaN
feature     GPQA
ci_lower    10.0
ci_upper    21.0
Name: GPQA, dtype: object
"""

from skillinfer_bayes.banners import silence_third_party_banners

silence_third_party_banners()  # before arviz or pytensor is imported

from skillinfer_bayes import datasets
from skillinfer_bayes._version import __version__
from skillinfer_bayes.data.checks import (
    OutOfBoundsWarning,
    OutOfRangeWarning,
    UnknownBenchmarkError,
)
from skillinfer_bayes.data.prepared import PreparedData, prepare
from skillinfer_bayes.inference.diagnostics import SamplerWarning
from skillinfer_bayes.inference.fitting import ModelSpec, SamplerConfig, fit
from skillinfer_bayes.inference.storage import PosteriorFileError
from skillinfer_bayes.models.priors import Prior
from skillinfer_bayes.plots import plot_prior_comparison, plot_prior_predictive, plot_sbc_ranks
from skillinfer_bayes.population import Population, UnknownGroupWarning
from skillinfer_bayes.predictive.composites import rank_agents
from skillinfer_bayes.predictive.decisions import Comparison, compare
from skillinfer_bayes.predictive.profile import Profile
from skillinfer_bayes.predictive.types import MatchResult, Skill, Task
from skillinfer_bayes.studies import validation
from skillinfer_bayes.studies.curves import EvaluationCurve, evaluation_curve
from skillinfer_bayes.studies.evaluation import EvaluationResult, evaluate
from skillinfer_bayes.studies.prior_comparison import (
    PriorComparison,
    compare_models,
    compare_priors,
)
from skillinfer_bayes.studies.sbc import SBCResult, simulation_based_calibration
from skillinfer_bayes.studies.validation import held_out_evaluation

__all__ = [
    "Comparison",
    "EvaluationCurve",
    "EvaluationResult",
    "MatchResult",
    "ModelSpec",
    "OutOfBoundsWarning",
    "OutOfRangeWarning",
    "Population",
    "PreparedData",
    "PosteriorFileError",
    "Prior",
    "PriorComparison",
    "Profile",
    "SBCResult",
    "SamplerConfig",
    "SamplerWarning",
    "Skill",
    "Task",
    "UnknownBenchmarkError",
    "UnknownGroupWarning",
    "__version__",
    "datasets",
    "compare",
    "compare_models",
    "compare_priors",
    "evaluate",
    "evaluation_curve",
    "fit",
    "held_out_evaluation",
    "plot_prior_comparison",
    "plot_prior_predictive",
    "plot_sbc_ranks",
    "prepare",
    "rank_agents",
    "simulation_based_calibration",
    "validation",
]
