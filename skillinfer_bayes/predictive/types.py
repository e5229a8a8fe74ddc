"""skillinfer's small value types: :class:`Skill`, :class:`Task` and :class:`MatchResult`.

They behave as skillinfer 0.1.1's (same constructors, ``repr``, ``str`` and equality), so a
skillinfer user's code that builds them runs unchanged with ``import skillinfer_bayes as
skillinfer``. A :class:`Skill` names a benchmark (with an optional score and description); a
:class:`Task` is a weighted combination of benchmarks that
:meth:`Profile.match_score <skillinfer_bayes.predictive.profile.Profile.match_score>` and
:func:`~skillinfer_bayes.predictive.composites.rank_agents` score; :class:`MatchResult` is what
``match_score`` returns.

Examples
--------
>>> Skill("BBH", score=55.9)
Skill('BBH', 55.9)
>>> Skill("BBH") == "BBH"
True
>>> Task({Skill("MATH Lvl 5"): 1.0, "GPQA": 0.5}, "Math-heavy reasoning").weights
{'MATH Lvl 5': 1.0, 'GPQA': 0.5}
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol


class Skill:
    """A benchmark name with an optional score and description (skillinfer's ``Skill``).

    Parameters
    ----------
    name : str
        The benchmark (a column of the population's table).
    score : float, optional
        An observed score of it.
    description : str, default ""
        What it measures (see :meth:`Population.describe_skills
        <skillinfer_bayes.predictive.compat.SkillinferPopulationNames.describe_skills>`).

    Notes
    -----
    A Skill equals another Skill, or a str, of the same name, and hashes as its name, so it can
    stand where a benchmark name is looked up in a list or a dict.

    Examples
    --------
    >>> Skill("Programming", score=0.92, description="General programming ability")
    Skill('Programming', 0.92, 'General programming ability')
    >>> str(Skill("Writing")), Skill("Writing") == Skill("Writing", score=1.0)
    ('Writing', True)
    """

    __slots__ = ("name", "score", "description")

    def __init__(self, name: str, *, score: float | None = None, description: str = "") -> None:
        self.name = name
        self.score = score
        self.description = description

    def __repr__(self) -> str:
        parts = [repr(self.name)]
        if self.score is not None:
            parts.append(repr(self.score))
        if self.description:
            parts.append(repr(self.description))
        return f"Skill({', '.join(parts)})"

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Skill):
            return self.name == other.name
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)


class Task:
    """A task as a weighted combination of benchmarks (skillinfer's ``Task``).

    Parameters
    ----------
    weights : dict
        ``{benchmark: weight}``, the benchmark as a str or a :class:`Skill`. Weights are
        relative: ``match_score`` divides them by the sum of their absolute values.
    description : str, default ""
        What the task is.

    Notes
    -----
    As in skillinfer, two Tasks are equal only if they are the same object.

    Examples
    --------
    >>> task = Task({"MATH Lvl 5": 1.0, "GPQA": 0.5}, "Math-heavy reasoning")
    >>> task
    Task({'MATH Lvl 5': 1.0, 'GPQA': 0.5}, 'Math-heavy reasoning')
    >>> str(Task({"BBH": 1, "GPQA": 0.5}))
    'Task(BBH=1.0, GPQA=0.5)'
    """

    __slots__ = ("weights", "description")

    def __init__(self, weights: dict[str | Skill, float], description: str = "") -> None:
        self.weights = {
            (k.name if isinstance(k, Skill) else str(k)): float(v) for k, v in weights.items()
        }
        self.description = description

    def __repr__(self) -> str:
        if self.description:
            return f"Task({self.weights}, {self.description!r})"
        return f"Task({self.weights})"

    def __str__(self) -> str:
        if self.description:
            return self.description
        skills = ", ".join(f"{k}={v:.1f}" for k, v in self.weights.items())
        return f"Task({skills})"


class MatchResult(NamedTuple):
    """How well an entity matches a task: the composite score's predictive summary
    (skillinfer's ``MatchResult``, the same fields).

    Attributes
    ----------
    score : float
        Predictive mean of the composite ``sum_k w_k y_k`` (weights normalized to
        ``sum |w| = 1``, so it is on the scores' scale).
    std : float
        Its predictive sd.
    ci_lower, ci_upper : float
        The central interval at the requested level.
    p_above_threshold : float or None
        ``P(composite > threshold)``; None without a threshold.

    Examples
    --------
    >>> MatchResult(50.0, 2.0, 46.1, 53.9, None)._fields
    ('score', 'std', 'ci_lower', 'ci_upper', 'p_above_threshold')
    """

    score: float
    std: float
    ci_lower: float
    ci_upper: float
    p_above_threshold: float | None


class PopulationLike(Protocol):
    """What the predictive modules need of a fitted population (``Population`` is one): they
    sit below the population layer and annotate with this instead of importing it."""

    benchmark_names: list[str]
    latent_names: list[str]
    data: Any
    idata: Any
    score_range: Any

    def predictive_components(self, group=None, warn: bool = True) -> Any: ...

    def default_noise(self) -> Any: ...


class ProfileLike(Protocol):
    """What the composite scores and skillinfer's views need of a profile (``Profile`` is
    one; the modules that ``profile.py`` itself imports annotate with this)."""

    description: Any
    benchmark_names: list[str]
    latent_names: list[str]
    transforms: Any
    components: Any

    def latent_observations(self) -> tuple: ...

    def conditioned(self, full_cov: bool = False) -> Any: ...

    def conditional_moments(self) -> tuple: ...
