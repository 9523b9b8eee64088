"""``adwp.backend`` gathers, under its former name, the backend protocol and spec loading
(:mod:`adwp.ranking.backend`) and the built-in backend kinds (:mod:`adwp.ranking.backends`)."""

from adwp.ranking.backend import (
    MISSING,
    BackendContext,
    CachedBackend,
    EnsembleBackend,
    RankingBackend,
    checked_scores,
    list_backends,
    load_backend,
    register_backend,
)
from adwp.ranking.backends import TableBackend, checkpoint_ensemble

__all__ = [
    "MISSING",
    "BackendContext",
    "CachedBackend",
    "EnsembleBackend",
    "RankingBackend",
    "TableBackend",
    "checked_scores",
    "checkpoint_ensemble",
    "list_backends",
    "load_backend",
    "register_backend",
]
