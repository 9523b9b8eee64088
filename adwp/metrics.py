"""``adwp.metrics`` gathers, under its former name, the rank-correlation metrics of
:mod:`adwp.truth.correlation`, :mod:`adwp.truth.comparison` and :mod:`adwp.truth.report`."""

from adwp.truth.comparison import (
    bootstrap_ci,
    bootstrap_verdict,
    compare_scores,
    paired_bootstrap_difference,
)
from adwp.truth.correlation import (
    KS,
    TOP_K,
    kendall_tau,
    partial_tau,
    precision_at_top_percent,
    rank_metrics,
    tau_within_bins,
    tau_within_size_bins,
    top_k_mean,
    top_percent_count,
)
from adwp.truth.report import correlation_report, noise_ceiling, split_half_ceiling

__all__ = [
    "KS",
    "TOP_K",
    "bootstrap_ci",
    "bootstrap_verdict",
    "compare_scores",
    "correlation_report",
    "kendall_tau",
    "noise_ceiling",
    "paired_bootstrap_difference",
    "partial_tau",
    "precision_at_top_percent",
    "rank_metrics",
    "split_half_ceiling",
    "tau_within_bins",
    "tau_within_size_bins",
    "top_k_mean",
    "top_percent_count",
]
