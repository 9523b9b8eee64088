"""Pieces every searcher shares: an evaluation counter, picks, results and Pareto sets."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adwp.backend import checked_scores
from adwp.checkpoint import check_intact
from adwp.errors import AdwpError, CheckpointError
from adwp.spaces import Architecture

__all__ = [
    "MAX_CONSECUTIVE_MISSES",
    "CountingBackend",
    "Pick",
    "SearchOutcome",
    "SearchResult",
    "complexity_range",
    "evaluated_picks",
    "pareto_front",
    "read_search_checkpoint",
    "record",
    "resolve_space",
    "search_result",
    "truth_records",
]

COMPLEXITIES = ("params", "flops")

#: Architectures in a row a backend may fail to score (``missing="skip"``) before a search stops.
MAX_CONSECUTIVE_MISSES = 1000

# Spaces up to this size are measured architecture by architecture in complexity_range.
_MEASURE_WHOLE_LIMIT = 1000


class CountingBackend:
    """Wraps a backend: scores each distinct architecture once and counts backend evaluations.

    Searchers revisit architectures; with a deterministic backend a repeat costs nothing, so
    ``evaluations`` counts distinct architectures sent to the backend and ``queries`` all requests.
    A backend with ``missing == "skip"`` (a table that lacks some architectures) may answer NaN:
    such an architecture is remembered in ``skipped``, scored NaN, and not counted.

    Args:
        backend: Any :class:`adwp.backend.RankingBackend`.
    """

    def __init__(self, backend: Any) -> None:
        if not callable(getattr(backend, "score", None)):
            raise AdwpError(f"{type(backend).__name__} is not a ranking backend (no score method)")
        self.backend = backend
        self.cache: dict[Architecture, float] = {}
        self.skipped: set[Architecture] = set()
        self.skips_missing = getattr(backend, "missing", "error") == "skip"
        self.queries = 0
        self.misses = 0

    @property
    def evaluations(self) -> int:
        """Distinct architectures scored by the backend."""
        return len(self.cache)

    def score(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Scores architectures (cached); NaN for skipped ones.

        Raises:
            AdwpError: If a score is not finite (NaN is allowed when the backend skips).
        """
        self.queries += len(archs)
        todo = list(
            dict.fromkeys(a for a in archs if a not in self.cache and a not in self.skipped)
        )
        if todo:
            values = checked_scores(self.backend.score(todo), todo, self.skips_missing)
            for arch, value in zip(todo, map(float, values)):
                if math.isnan(value):
                    self.skipped.add(arch)
                else:
                    self.cache[arch] = value
        return np.array([self.cache.get(a, math.nan) for a in archs], dtype=np.float64)

    def missed(self, count: int = 1) -> None:
        """Counts proposals in a row that brought no new score; stops a search that finds none.

        Searchers call it for every skipped (or, while hunting for new ones, repeated)
        architecture, and :meth:`hit` when one is scored.

        Raises:
            AdwpError: After :data:`MAX_CONSECUTIVE_MISSES` misses in a row.
        """
        self.misses += count
        if self.misses >= MAX_CONSECUTIVE_MISSES:
            raise AdwpError(
                f"gave up after {self.misses} proposals in a row that the backend could not score "
                f"or had already scored ({self.evaluations} scored, {len(self.skipped)} not in "
                "its table): use a table covering more of the space or a smaller budget"
            )

    def hit(self) -> None:
        """Resets the count of :meth:`missed` proposals in a row."""
        self.misses = 0


def resolve_space(backend: Any, space: Any) -> Any:
    """Returns ``space``, or the backend's own space (checkpoint backends carry one).

    Raises:
        AdwpError: If neither is available (e.g. a table backend without a space).
    """
    space = space if space is not None else getattr(backend, "space", None)
    if space is None:
        raise AdwpError("give the search space: the backend has none")
    return space


@dataclass(frozen=True)
class Pick:
    """One architecture a search scored: what every result's ``best`` (and per-depth or
    per-coefficient pick) is.

    Attributes:
        arch: The architecture.
        score: Its backend score (higher is better); a gradient search's picks hold their table
            value, NaN without a table.
        params: Its number of parameters.
        flops: Its FLOPs.
        extras: Searcher-specific values, e.g. ``objective`` of an importance-sampling pick.
    """

    arch: Architecture
    score: float
    params: int
    flops: int
    extras: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, space: Any, arch: Architecture, score: float, **extras: Any) -> Pick:
        """The pick of ``arch`` with its #params and FLOPs measured in ``space``."""
        return cls(arch, float(score), int(space.params(arch)), int(space.flops(arch)), extras)

    def to_dict(self) -> dict[str, Any]:
        """JSON record ``{"arch", "score", "params", "flops", **extras}``, ``arch`` canonical,
        ``score`` None where it is NaN (an architecture nothing scored)."""
        return {
            "arch": self.arch.to_string(),
            "score": None if math.isnan(self.score) else self.score,
            "params": self.params,
            "flops": self.flops,
            **self.extras,
        }


def record(space: Any, arch: Architecture, score: float) -> dict[str, Any]:
    """Returns the JSON record ``{"arch", "score", "params", "flops"}`` of one architecture."""
    return Pick.of(space, arch, score).to_dict()


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


def _value(rec: Mapping[str, Any] | Pick, key: str) -> Any:
    return getattr(rec, key) if isinstance(rec, Pick) else rec[key]


def pareto_front(records: Sequence[Any], complexity: str = "params") -> list[Any]:
    """Records not dominated in (higher score, lower complexity), sorted by complexity.

    Args:
        records: Dicts with ``score`` and the complexity key, or :class:`Pick` objects.
        complexity: ``"params"`` or ``"flops"``.

    Returns:
        The non-dominated records (one per distinct (score, complexity) point).
    """
    best = -math.inf
    front = []
    for rec in sorted(records, key=lambda r: (_value(r, complexity), -_value(r, "score"))):
        if _value(rec, "score") > best:
            front.append(rec)
            best = _value(rec, "score")
    return front


def complexity_range(space: Any, complexity: str) -> tuple[float, float]:
    """Smallest and largest complexity of the space (for normalising it to [0, 1])."""
    if complexity not in COMPLEXITIES:
        raise AdwpError(f"complexity must be one of {COMPLEXITIES}, got {complexity!r}")
    measure = getattr(space, complexity)
    # A small space is measured whole: a constrained sub-space's extremes (e.g. a total depth
    # range) need not be the per-decision smallest and largest choices.
    if space.size() <= _MEASURE_WHOLE_LIMIT and hasattr(space, "enumerate"):
        values = [measure(arch) for arch in space.enumerate()]
        return float(min(values)), float(max(values))
    return float(measure(space.smallest())), float(measure(space.largest()))


@dataclass(frozen=True)
class SearchOutcome:
    """What every searcher's result offers.

    Attributes:
        evaluated: Every distinct architecture the backend scored, in scoring order.
    """

    evaluated: list[Pick]

    @property
    def best(self) -> Pick:
        """The highest-scoring architecture the search evaluated (the first one on ties)."""
        if not self.evaluated:
            raise AdwpError("the search evaluated no architecture")
        return max(self.evaluated, key=lambda pick: pick.score)

    @property
    def evaluations(self) -> int:
        """Distinct architectures the backend scored."""
        return len(self.evaluated)

    def pareto(self, complexity: str = "params") -> list[Pick]:
        """Evaluated architectures not dominated in (higher score, lower complexity)."""
        return pareto_front(self.evaluated, complexity)

    def to_dict(self) -> dict[str, Any]:
        """JSON form ``{"best": {"arch", "score", "params", "flops"}, "evaluations",
        "evaluated": [...]}``; every result adds its own keys."""
        return {
            "best": self.best.to_dict(),
            "evaluations": self.evaluations,
            "evaluated": [pick.to_dict() for pick in self.evaluated],
        }


@dataclass(frozen=True)
class SearchResult(SearchOutcome):
    """Outcome of a budgeted single-objective search (random search, evolution).

    Attributes:
        evaluated: Every distinct architecture scored, in scoring order (``best`` is among them).
        history: Record ``{"arch", "score", "params", "flops", "best_so_far"}`` of every
            query in order (repeats included, skipped architectures not).
        queries: Architectures proposed and scored (repeats are served from the cache).
        skipped: Distinct architectures the backend could not score (``missing="skip"``).
    """

    history: list[dict[str, Any]]
    queries: int
    skipped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"best": {"arch", "score", "params", "flops"}, "evaluations",
        "queries", "skipped", "pareto": [records], "history": [records with "best_so_far"],
        "evaluated": [records]}``."""
        out = super().to_dict()
        return {
            "best": out["best"],
            "evaluations": self.evaluations,
            "queries": self.queries,
            "skipped": self.skipped,
            "pareto": [pick.to_dict() for pick in self.pareto()],
            "history": self.history,
            "evaluated": out["evaluated"],
        }


def evaluated_picks(space: Any, counter: CountingBackend) -> list[Pick]:
    """A :class:`Pick` of every architecture the counter's backend scored, in scoring order."""
    return [Pick.of(space, arch, score) for arch, score in counter.cache.items()]


def search_result(
    space: Any, counter: CountingBackend, queried: Sequence[Architecture]
) -> SearchResult:
    """Builds a :class:`SearchResult` from the scored queries of a run (first best wins ties)."""
    history: list[dict[str, Any]] = []
    best = -math.inf
    for arch in queried:
        rec = record(space, arch, counter.cache[arch])
        best = max(best, rec["score"])
        history.append({**rec, "best_so_far": best})
    return SearchResult(
        evaluated_picks(space, counter), history, len(queried), len(counter.skipped)
    )


def read_search_checkpoint(
    path: Path,
    kind: str,
    mine: Mapping[str, Any],
    identity: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    device: torch.device,
) -> Mapping[str, Any]:
    """A search checkpoint's state, once it is known to be of this kind and this search.

    Args:
        path: The checkpoint.
        kind: Its expected ``kind``.
        mine: What identifies the search resuming it (settings, space, ...).
        identity: Reads the same keys from the stored state.
        device: Where its tensors go.

    Returns:
        The stored state.

    Raises:
        CheckpointError: If it is unreadable, of another kind, or of a search with other
            settings (naming the first that differs).
    """
    if zipfile.is_zipfile(path):
        check_intact(path, "search checkpoint")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"cannot read search checkpoint {path}: {exc}") from None
    if not isinstance(state, Mapping) or state.get("kind") != kind:
        raise CheckpointError(f"{path} is not a {kind} checkpoint")
    theirs = identity(state)
    for key in mine:
        if mine[key] != theirs[key]:
            raise CheckpointError(
                f"{path} holds a search with another {key} ({theirs[key]!r}, this one "
                f"{mine[key]!r}); give another checkpoint path"
            )
    return state
