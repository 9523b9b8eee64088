"""Pieces every searcher shares: an evaluation counter with a cache, records and Pareto sets."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from adwp.backend import checked_scores
from adwp.errors import AdwpError
from adwp.spaces import Architecture

__all__ = [
    "CountingBackend",
    "SearchResult",
    "complexity_range",
    "pareto_front",
    "record",
    "resolve_space",
    "search_result",
    "truth_records",
]

COMPLEXITIES = ("params", "flops")


class CountingBackend:
    """Wraps a backend: scores each distinct architecture once and counts backend evaluations.

    Searchers revisit architectures; with a deterministic backend a repeat costs nothing, so
    ``evaluations`` counts distinct architectures sent to the backend and ``queries`` all requests.

    Args:
        backend: Any :class:`adwp.backend.RankingBackend`.
    """

    def __init__(self, backend: Any) -> None:
        if not callable(getattr(backend, "score", None)):
            raise AdwpError(f"{type(backend).__name__} is not a ranking backend (no score method)")
        self.backend = backend
        self.cache: dict[Architecture, float] = {}
        self.queries = 0

    @property
    def evaluations(self) -> int:
        """Distinct architectures scored by the backend."""
        return len(self.cache)

    def score(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Scores architectures (cached); non-finite scores are an error naming the architecture."""
        self.queries += len(archs)
        todo = list(dict.fromkeys(a for a in archs if a not in self.cache))
        if todo:
            values = checked_scores(self.backend.score(todo), todo)
            self.cache.update(zip(todo, map(float, values)))
        return np.array([self.cache[a] for a in archs], dtype=np.float64)


def resolve_space(backend: Any, space: Any) -> Any:
    """Returns ``space``, or the backend's own space (checkpoint backends carry one).

    Raises:
        AdwpError: If neither is available (e.g. a table backend without a space).
    """
    space = space if space is not None else getattr(backend, "space", None)
    if space is None:
        raise AdwpError("give the search space: the backend has none")
    return space


def record(space: Any, arch: Architecture, score: float) -> dict[str, Any]:
    """Returns the JSON record ``{"arch", "score", "params", "flops"}`` of one architecture."""
    return {
        "arch": arch.to_string(),
        "score": float(score),
        "params": int(space.params(arch)),
        "flops": int(space.flops(arch)),
    }


def truth_records(truth: Mapping[str, float], space: Any) -> list[dict[str, Any]]:
    """Records of the architectures of a ``{canonical string: score}`` table that lie in ``space``.

    Args:
        truth: e.g. :attr:`adwp.backend.TableBackend.truth` (mean accuracy per architecture).
        space: The space whose #params and FLOPs are reported; other architectures are skipped.

    Returns:
        ``{"arch", "score", "params", "flops"}`` records in table order.
    """
    return [
        record(space, space.validate(key), value)
        for key, value in truth.items()
        if space.contains(key)
    ]


def pareto_front(
    records: Sequence[dict[str, Any]], complexity: str = "params"
) -> list[dict[str, Any]]:
    """Records not dominated in (higher score, lower complexity), sorted by complexity.

    Args:
        records: Dicts with ``score`` and the complexity key.
        complexity: ``"params"`` or ``"flops"``.

    Returns:
        The non-dominated records (one per distinct (score, complexity) point).
    """
    best = -math.inf
    front = []
    for rec in sorted(records, key=lambda r: (r[complexity], -r["score"])):
        if rec["score"] > best:
            front.append(rec)
            best = rec["score"]
    return front


def complexity_range(space: Any, complexity: str) -> tuple[float, float]:
    """Smallest and largest complexity of the space (for normalising it to [0, 1])."""
    if complexity not in COMPLEXITIES:
        raise AdwpError(f"complexity must be one of {COMPLEXITIES}, got {complexity!r}")
    measure = getattr(space, complexity)
    if hasattr(space, "assignments"):
        values = [measure(space.from_depths(d)) for d in space.assignments()]
        return float(min(values)), float(max(values))
    return float(measure(space.smallest())), float(measure(space.largest()))


@dataclass(frozen=True)
class SearchResult:
    """Outcome of a budgeted single-objective search (random search, evolution).

    Attributes:
        best: Record ``{"arch", "score", "params", "flops"}`` of the best architecture.
        history: Record of every query in order, with ``best_so_far``.
        pareto: Non-dominated (score, #params) records among the evaluated architectures.
        evaluations: Distinct architectures the backend scored.
        queries: Architectures proposed (repeats are served from the cache).
    """

    best: dict[str, Any]
    history: list[dict[str, Any]]
    pareto: list[dict[str, Any]]
    evaluations: int
    queries: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form ``{"best", "score", "params", "flops", "evaluations", "history", ...}``."""
        return {
            "best": self.best["arch"],
            "score": self.best["score"],
            "params": self.best["params"],
            "flops": self.best["flops"],
            "evaluations": self.evaluations,
            "queries": self.queries,
            "pareto": self.pareto,
            "history": self.history,
        }


def search_result(
    space: Any, counter: CountingBackend, queried: Sequence[Architecture]
) -> SearchResult:
    """Builds a :class:`SearchResult` from the queries of a run (first best wins ties)."""
    history, best = [], None
    for arch in queried:
        rec = record(space, arch, counter.cache[arch])
        if best is None or rec["score"] > best["score"]:
            best = rec
        history.append({**rec, "best_so_far": best["score"]})
    evaluated = [record(space, a, s) for a, s in counter.cache.items()]
    return SearchResult(best, history, pareto_front(evaluated), counter.evaluations, len(queried))
