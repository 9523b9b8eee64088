"""Baseline ranking backends: model size, short training and zero-cost proxies.

Every class implements :class:`adwp.backend.RankingBackend` and reports ``compute_seconds``.
"""

from __future__ import annotations

from adwp.baselines.proxies import ZeroCostProxy, list_proxies
from adwp.baselines.simple import FlopsBackend, ParamsBackend, ShortTrainingBackend

__all__ = [
    "FlopsBackend",
    "ParamsBackend",
    "ShortTrainingBackend",
    "ZeroCostProxy",
    "list_proxies",
]
