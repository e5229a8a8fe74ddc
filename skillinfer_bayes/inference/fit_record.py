"""What a fitted population records about its fit: the model specification it was fitted
as, its covariance structure, and how ``"auto"`` chose a number of factors or components.

:class:`FitRecord` reads them back from the posterior's attributes (``idata.attrs``, where the
fit and :func:`~skillinfer_bayes.inference.model_choice.select_by_loo` write them, and where a
saved file keeps them); it is mixed into ``Population``.
"""

from __future__ import annotations

import json

import pandas as pd

from skillinfer_bayes.data.transform_choice import transform_arguments
from skillinfer_bayes.inference.model_choice import selection_table
from skillinfer_bayes.inference.spec import ModelSpec


class FitRecord:
    """The fit's record in ``idata.attrs`` (mixed into ``Population``: it works on any object
    with ``idata``, ``prior``, ``data``, ``benchmark_names``, ``latent_names`` and
    ``n_components``)."""

    @property
    def spec(self) -> ModelSpec:
        """The model this population was fitted as (:class:`~skillinfer_bayes.ModelSpec`),
        with ``"auto"`` numbers of factors or components resolved to the chosen one:
        ``Population.from_dataframe(df, spec=pop.spec, random_seed=...)`` refits it. A file
        saved before specifications were stored gives the one its attributes and transforms
        record. Groups given as labels (not a column name) are not part of it.

        Examples
        --------
        >>> spec = pop.spec
        >>> spec.normalize, spec.covariance, spec.components
        (False, 'lkj', 1)
        >>> sib.ModelSpec.from_dict(spec.to_dict()) == spec
        True
        """
        saved = self.idata.attrs.get("model_spec")
        if saved:
            return ModelSpec.from_dict(json.loads(saved))
        K = len(self.benchmark_names)
        transforms = self.data.transforms
        names = self.latent_names
        n_factors = int(self.idata.attrs.get("n_factors", -1))
        kinds, bounds = transform_arguments(names[:K], transforms[:K])
        return ModelSpec(
            prior=self.prior,
            transform=kinds,
            bounds=bounds,
            covariates={names[k]: t.name for k, t in enumerate(transforms) if k >= K} or None,
            normalize=self.data.normalized,
            covariance=self.covariance_structure,
            n_factors=None if n_factors < 0 else n_factors,
            components=self.n_components,
            shared_covariance=bool(int(self.idata.attrs.get("shared_covariance", 0))),
        )

    @property
    def covariance_structure(self) -> str:
        """The fitted covariance structure: ``"lkj"`` or ``"factor"``."""
        return str(self.idata.attrs.get("covariance", "lkj"))

    @property
    def factor_selection(self) -> pd.DataFrame | None:
        """How ``n_factors="auto"`` chose the rank: one row per rank fitted, with
        ``elpd_loo``, ``se``, ``elpd_diff`` and ``dse`` (against the chosen), ``p_loo``,
        ``pareto_k_bad``, ``max_r_hat`` and ``chosen``; None for a rank given by hand.
        The row after the chosen one may have a positive ``elpd_diff``: a gain within two
        of its standard errors ``dse``, which the rule does not take
        (:mod:`~skillinfer_bayes.inference.model_choice`).

        Examples
        --------
        >>> pop.factor_selection is None  # an LKJ population
        True
        """
        return selection_table(self.idata.attrs, "n_factors")

    @property
    def component_selection(self) -> pd.DataFrame | None:
        """How ``components="auto"`` chose the number of components: one row per number
        fitted, with the columns of :attr:`factor_selection`; None for a number given by
        hand.

        Examples
        --------
        >>> pop.component_selection is None
        True
        """
        return selection_table(self.idata.attrs, "components")

    @property
    def n_factors(self) -> int | None:
        """The number of factors of a ``"factor"`` covariance (None otherwise).

        Examples
        --------
        >>> pop.covariance_structure, pop.n_factors
        ('lkj', None)
        """
        n = int(self.idata.attrs.get("n_factors", -1))
        return None if n < 0 else n
