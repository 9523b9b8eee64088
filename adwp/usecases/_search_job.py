"""The arguments and the result of one :func:`adwp.usecases.search`, shared by its runners."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adwp.registry import BACKENDS

__all__ = ["SearchJob", "SearchRun", "backend_kind"]


@dataclass(frozen=True)
class SearchRun:
    """What a search found, as ``adwp search --output`` writes it.

    Attributes:
        method: The searcher.
        record: The JSON written: ``method``, ``seed`` (and ``backend``, or the
            generator's...), then the searcher's own result (``best``, ``evaluations``,
            ``evaluated``... for backend searchers; ``arch``, ``truth``, ``history`` for
            gradient searchers).
        rows: The picks a summary shows, ``(label, pick)`` with ``arch``, ``score`` and
            ``params`` (backend searchers).
        heading: What the labels of ``rows`` are (``depth``...).
        outcome: The searcher's own result object (:class:`adwp.search.SearchOutcome`...).
    """

    method: str
    record: Mapping[str, Any]
    rows: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    heading: str = ""
    outcome: Any = None

    @property
    def arch(self) -> str:
        """The architecture found: the best one evaluated, or the gradient search's result."""
        best = self.record.get("best")
        return str(best["arch"] if isinstance(best, Mapping) else self.record["arch"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``adwp search --output``."""
        return dict(self.record)


@dataclass(frozen=True)
class SearchJob:
    """The arguments of one :func:`search`, as the runners read them."""

    method: str
    backend: str | None
    seed: int
    space: str | None
    space_options: dict[str, Any]
    dataset: str | None
    data_root: str | None
    data_options: dict[str, Any]
    device: str
    truth: str | None
    key: str | None
    metric: str | None
    plot: str | None
    quiet: bool
    settings: dict[str, Any]

    @property
    def label(self) -> str:
        """Names the score of the backend, for plot axes."""
        kind, _, argument = str(self.backend).partition(":")
        template = backend_kind(kind)[1]
        return template.format(kind=kind, argument=argument, metric=self.metric or "val_acc")


def backend_kind(kind: str) -> tuple[str, str]:
    """``(reads, label)`` of a backend kind: what it reads besides its argument (``checkpoint``,
    ``table`` or ``images``) and how its scores are labelled (formatted with kind, argument and
    metric), as its registration says; left out, it reads images like a proxy."""
    options = BACKENDS.info(kind).options if kind in BACKENDS else {}
    return options.get("reads", "images"), options.get("label", "{kind} score")
