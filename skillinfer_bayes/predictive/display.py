"""How a fitted population shows itself: ``repr(pop)`` and ``print(pop)``.

Functions of any fitted population (duck-typed: this module sits below
:mod:`skillinfer_bayes.population`, which calls them from ``__repr__`` and ``__str__``).

Examples
--------
>>> print(population_repr(pop))
Population(4576 entities x 6 benchmarks, 4 chains x 500 draws)
"""

from __future__ import annotations

import numpy as np


def population_repr(pop) -> str:
    """``repr(pop)``: its size and its sampler's."""
    d = pop.diagnostics()
    return (
        f"Population({len(pop.entity_names)} entities x {len(pop.benchmark_names)} "
        f"benchmarks"
        + (f" + {len(pop.covariate_names)} covariate(s)" if pop.covariate_names else "")
        + f", {d['chains']} chains x {d['draws']} draws)"
    )

def transforms_line(pop) -> str:
    """The benchmarks' transforms, grouped: ``copula (0-100): A, B; none: C``."""
    by_kind: dict[str, list[str]] = {}
    for name, transform in zip(pop.latent_names, pop.data.transforms):
        label = "none" if transform.name == "identity" else transform.name
        if name in pop.covariate_names:
            label = f"covariate, {label}"
        lower, upper = transform.bounds
        if np.isfinite(lower) and np.isfinite(upper):
            if pop.data.scaling is not None and name in pop.data.scaling.index:
                lo = float(pop.data.scaling.loc[name, "min"])
                span = float(pop.data.scaling.loc[name, "range"])
                lower, upper = lo + span * lower, lo + span * upper
            # the rounding of the normalization's round trip (1e-17 for a 0) is not shown
            lower, upper = (round(v, 10) + 0.0 for v in (lower, upper))
            label += f" ({lower:g} to {upper:g})"
        by_kind.setdefault(label, []).append(name)
    if list(by_kind) == ["none"]:
        return "none (the model is a normal on the scores)"

    def listed(names: list[str]) -> str:  # a wide table's names would fill the screen
        if len(names) <= 8:
            return ", ".join(names)
        return f"{', '.join(names[:3])}, ... ({len(names)} in all)"

    return "; ".join(f"{kind}: {listed(names)}" for kind, names in by_kind.items())

def covariance_lines(pop) -> list[str]:
    """The factor covariance and the mixture components, and how their numbers were
    chosen (nothing for one LKJ covariance)."""
    lines = []
    if pop.covariance_structure == "factor":
        line = f"  covariance: factor, {pop.n_factors} factor(s)"
        table = pop.factor_selection
        if table is not None:
            line += (f", chosen by PSIS-LOO among {', '.join(map(str, table.index))} "
                     "(pop.factor_selection)")
        lines.append(line)
    table = pop.component_selection
    if pop.n_components > 1 or table is not None:
        weights = pop.component_weight_draws.mean(axis=0)
        line = f"  components: {pop.n_components}"
        if pop.n_components > 1:
            shared = bool(int(pop.idata.attrs.get("shared_covariance", 0)))
            line += (f" ({'one shared covariance' if shared else 'a covariance each'}; "
                     f"mean weights {', '.join(f'{w:.2f}' for w in weights)}")
            switched = pop.idata.attrs.get("label_switched_fraction")
            if switched is not None:  # the draws whose labels relabelling changed
                line += f"; {float(switched):.0%} of draws relabelled"
            line += ")"
        if table is not None:
            line += (f", chosen by PSIS-LOO among {', '.join(map(str, table.index))} "
                     "(pop.component_selection)")
        lines.append(line)
    return lines

def population_text(pop) -> str:
    """``print(pop)``: the model, the data, the sampler's checks and the top correlations."""
    d = pop.diagnostics()
    n_missing = int(np.isnan(pop.matrix.to_numpy()).sum())
    lines = [
        repr(pop),
        f"  prior: {pop.prior!r}",
        f"  transforms: {transforms_line(pop)}",
        *covariance_lines(pop),
        f"  data: {n_missing} missing scores in {len(pop.data.stats)} missingness pattern(s)"
        + (f"; {len(pop.group_names)} groups" if pop.groups is not None else ""),
        f"  sampler: {pop.idata.attrs.get('sampler', '?')}; divergences {d['divergences']}, "
        f"max r_hat {d['max_r_hat']:.3f}, min ESS bulk {d['min_ess_bulk']:.0f} / "
        f"tail {d['min_ess_tail']:.0f}, min BFMI {d['min_bfmi']:.2f}"
        + ("" if d["ok"] else "  (CHECKS FAILED)"),
        "",
        "  Top benchmark correlations (posterior mean, 90% interval):",
    ]
    K = len(pop.latent_names)
    top = pop.top_correlations(k=min(5, K * (K - 1) // 2))
    if top.empty:
        lines[-1] = "  One benchmark: no correlations (observations inform only itself)."
    wa = max((len(a) for a in top["benchmark_a"]), default=0)
    wb = max((len(b) for b in top["benchmark_b"]), default=0)
    for row in top.itertuples():
        lines.append(
            f"    {row.benchmark_a:>{wa}} <-> {row.benchmark_b:<{wb}}  "
            f"r = {row.correlation:+.3f}"
            f"  [{row.lower:+.3f}, {row.upper:+.3f}]"
        )
    for problem in d["problems"]:
        lines.append(f"  WARNING: {problem}")
    return "\n".join(lines)
