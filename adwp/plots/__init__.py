"""PNG figures (matplotlib, headless, imported on first use): rankings against the truth
(:mod:`~adwp.plots.correlation`) and searches (:mod:`~adwp.plots.search`)."""

from adwp.plots.correlation import (
    plot_correlation,
    plot_curves,
    plot_methods,
    plot_tau_vs_compute,
)
from adwp.plots.search import (
    plot_differentiable_search,
    plot_layer_assignment,
    plot_pareto,
    plot_search_history,
    plot_trajectory,
)

__all__ = [
    "plot_correlation",
    "plot_curves",
    "plot_differentiable_search",
    "plot_layer_assignment",
    "plot_methods",
    "plot_pareto",
    "plot_search_history",
    "plot_tau_vs_compute",
    "plot_trajectory",
]
