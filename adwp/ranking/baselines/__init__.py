"""Baseline ranking backends: model size, short training and zero-cost proxies; and the
combination of any backend's ranking with proxies' (:class:`CombinedBackend`).

Every class implements :class:`adwp.ranking.backend.RankingBackend` and reports ``compute_seconds``.
"""

from __future__ import annotations

from adwp.ranking.baselines.combined import CombinedBackend, aggregate_ranks
from adwp.ranking.baselines.proxies import ProxyFn, ZeroCostProxy, list_proxies, register_proxy
from adwp.ranking.baselines.simple import FlopsBackend, ParamsBackend, ShortTrainingBackend

__all__ = [
    "CombinedBackend",
    "FlopsBackend",
    "ParamsBackend",
    "ProxyFn",
    "ShortTrainingBackend",
    "ZeroCostProxy",
    "aggregate_ranks",
    "list_proxies",
    "register_proxy",
]
