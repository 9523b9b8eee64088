"""The ranking-backend protocol, and backends built from a spec.

Every searcher takes any :class:`RankingBackend`. From the command line a backend is named by a
spec ``KIND:ARGUMENT``: ``hypernet:CKPT`` (the evaluator), ``supernet:CKPT`` (the SPOS baseline),
``table:GT.jsonl`` or ``table:GT.csv`` (look-up in a ground-truth table) or ``proxy:NAME`` (a
zero-cost proxy); :mod:`adwp.ranking.backends` defines these kinds. New kinds register with
:func:`register_backend`. ``hypernet:A.pt,B.pt`` (and likewise ``supernet:``) averages the scores
of several training runs (:class:`EnsembleBackend`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from adwp.errors import AdwpError
from adwp.registry import BACKENDS

__all__ = [
    "BackendContext",
    "CachedBackend",
    "EnsembleBackend",
    "MISSING",
    "RankingBackend",
    "arch_key",
    "checked_scores",
    "list_backends",
    "load_backend",
    "register_backend",
]


MISSING = ("error", "skip")


def checked_scores(values: Any, archs: Sequence[Any], allow_missing: bool = False) -> np.ndarray:
    """A backend's answer to ``score(archs)``, checked: one finite number per architecture.

    Args:
        values: What the backend returned.
        archs: The architectures it was asked to score.
        allow_missing: Accept NaN, the score of an architecture a backend with
            ``missing == "skip"`` cannot score (infinities stay errors).

    Returns:
        The scores as a float64 array.

    Raises:
        AdwpError: Naming the count, or the first architecture whose score is not finite.
    """
    try:
        scores = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise AdwpError(f"backend returned scores that are not numbers: {values!r:.80}") from None
    if scores.shape != (len(archs),):
        raise AdwpError(f"backend returned {scores.shape} scores for {len(archs)} architectures")
    finite = np.isfinite(scores) | (np.isnan(scores) if allow_missing else False)
    if not finite.all():
        first = int(np.argmin(finite))
        raise AdwpError(f"backend score of {arch_key(archs[first])} is {scores[first]}")
    return scores


@runtime_checkable
class RankingBackend(Protocol):
    """Anything that scores architectures, higher is better.

    ``score`` returns a float array of ``len(archs)`` scores in input order.
    """

    def score(self, archs: Sequence[Any]) -> np.ndarray:
        """Scores architectures; higher is better, input order."""
        ...


def arch_key(arch: Any) -> str:
    """The canonical string tables and caches are keyed by: an architecture's ``to_string()``,
    or the string given."""
    return arch.to_string() if hasattr(arch, "to_string") else str(arch)


class CachedBackend:
    """Keeps every score of a backend in a JSONL file, so a killed search resumes where it was.

    Searchers are deterministic given their seed and the scores, so re-running a killed search
    with the same seed and cache file replays the stored scores (no backend call) and gives the
    same result; only architectures not in the file reach the backend. Each score is appended and
    flushed to disk as soon as it is known.

    Args:
        backend: The backend to cache.
        path: JSONL file, one ``{"backend", "arch", "score"}`` row per architecture.
        key: Names the backend (e.g. its spec); a file written for another key is refused.

    Raises:
        DataError: If a row is corrupt (naming its line).
        AdwpError: If the file holds scores of another backend.
    """

    def __init__(self, backend: Any, path: str | os.PathLike[str], key: str) -> None:
        from pathlib import Path

        from adwp.errors import DataError
        from adwp.io import read_jsonl

        self.backend = backend
        self.space = getattr(backend, "space", None)
        # A table that skips what it lacks answers NaN; NaN is passed on, never stored.
        self.missing = getattr(backend, "missing", "error")
        self.path = Path(path)
        self.key = key
        self.scores: dict[str, float] = {}
        if self.path.exists():
            # A write cut off by a kill leaves a partial last row: it is dropped.
            for number, row in read_jsonl(self.path, repair_tail=True, what="score cache"):
                try:
                    arch, score, owner = str(row["arch"]), float(row["score"]), row["backend"]
                except (KeyError, TypeError, ValueError):
                    raise DataError(f"{self.path}:{number}: corrupt score row") from None
                if owner != key:
                    raise AdwpError(
                        f"{self.path} holds scores of backend {owner!r}, this run is {key!r}: "
                        "use another cache file"
                    )
                self.scores[arch] = score
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def score(self, archs: Sequence[Any]) -> np.ndarray:
        """Scores from the file where present, from the backend otherwise (then stored).

        A NaN of a backend with ``missing == "skip"`` is returned but not stored.
        """
        from adwp.io import append_jsonl

        keys = [arch_key(a) for a in archs]
        todo: dict[str, int] = {}  # first position of every architecture not yet stored
        for i, k in enumerate(keys):
            if k not in self.scores:
                todo.setdefault(k, i)
        if todo:
            asked = [archs[i] for i in todo.values()]
            try:
                fresh = checked_scores(
                    self.backend.score(asked), asked, allow_missing=self.missing == "skip"
                )
            except AdwpError as exc:
                # A stored NaN would be replayed by every resumed search.
                raise AdwpError(f"{self.key!r}: {exc}; none were written to {self.path}") from None
            rows = []
            for i, value in zip(todo.values(), fresh):
                if np.isnan(value):
                    continue
                self.scores[keys[i]] = float(value)
                rows.append({"backend": self.key, "arch": keys[i], "score": float(value)})
            append_jsonl(self.path, rows)
        return np.array([self.scores.get(k, np.nan) for k in keys], dtype=np.float64)


class EnsembleBackend:
    """The mean score of several backends, such as hypernetworks from separate training runs.

    A hypernetwork's scores carry noise from its training run that its own snapshots do not
    average away. On the default benchmark the mean of 2 runs ranks at Kendall tau 0.736 and of 4
    runs at 0.750, against 0.717 for one; more runs add nothing (docs/results.md). Each run costs
    its training and scoring again. Raw scores are averaged, as over snapshots, so the members
    should score on one scale: the same metric on the same images.

    Args:
        members: The backends, at least one. Those with a ``space`` attribute must have the same
            space, which becomes the ensemble's ``space`` (None when no member has one).

    Raises:
        AdwpError: If there are no members, one is not a backend, or their spaces differ.
    """

    def __init__(self, members: Sequence[Any]) -> None:
        self.members = list(members)
        if not self.members:
            raise AdwpError("an ensemble needs at least one backend")
        for member in self.members:
            if not isinstance(member, RankingBackend):
                raise AdwpError(f"ensemble member {member!r:.60} has no score method")
        spaces = [m.space for m in self.members if getattr(m, "space", None) is not None]
        for other in spaces[1:]:
            if (other.name, other.config()) != (spaces[0].name, spaces[0].config()):
                raise AdwpError(
                    f"ensemble members score different spaces: {spaces[0].name} "
                    f"{spaces[0].config()} and {other.name} {other.config()}"
                )
        self.space = spaces[0] if spaces else None

    def score(self, archs: Sequence[Any], **options: Any) -> np.ndarray:
        """Scores with every member and returns the mean, input order.

        Args:
            archs: Architectures to score.
            **options: Passed to every member's ``score`` (e.g. ``progress=True`` for
                evaluators).

        Returns:
            Float array of mean scores.

        Raises:
            AdwpError: If a member returns the wrong number of scores or a non-finite one.
        """
        return np.mean(
            [checked_scores(m.score(archs, **options), archs) for m in self.members], axis=0
        )


@dataclass(frozen=True)
class BackendContext:
    """What a backend factory may need besides its spec argument.

    Attributes:
        space: Search space the backend scores (proxies build its networks). Checkpoint backends
            bring their own space and ignore this.
        data: Data splits (:class:`adwp.data.DataSplits`), for proxies; loaded lazily when None.
        dataset: Data set name used when ``data`` is None.
        data_root: Folder of on-disk data sets.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        metric: The evaluator's metric (checkpoint backends).
        seed: Seed of a proxy's batch.
        missing: Policy of a table backend for architectures it lacks (:data:`MISSING`).
        table_key: Key column of a table backend.
        table_metric: Metric column of a table backend (any finite scale).
    """

    space: Any = None
    data: Any = None
    dataset: str = "mnist5k"
    data_root: str | None = None
    device: str = "auto"
    metric: str | None = None
    seed: int = 0
    missing: str = "error"
    table_key: str = "arch"
    table_metric: str = "val_acc"

    def load_data(self) -> Any:
        """Returns ``data``, or loads ``dataset``."""
        if self.data is not None:
            return self.data
        from adwp.data import get_dataset

        return get_dataset(self.dataset, root=self.data_root)


_FactoryT = TypeVar("_FactoryT", bound=Callable[..., Any])


def register_backend(kind: str, **options: Any) -> Callable[[_FactoryT], _FactoryT]:
    """Decorator registering ``factory(argument, context)`` for specs ``KIND:ARGUMENT``.

    Args:
        kind: The spec's kind, e.g. ``"table"``.
        **options: Facts kept with the entry (:meth:`adwp.registry.Registry.info`):
            ``description``; ``reads``, what the kind needs besides its argument (``"images"``,
            the default, for a data set and the space shaped like it; ``"checkpoint"`` when the
            argument brings its own space and data; ``"table"`` for no images); ``label``, the
            scores' name on plots, formatted with ``kind``, ``argument`` and ``metric``.

    Raises:
        RegistryError: If the kind is malformed or already registered (a ``ValueError``).
    """
    return BACKENDS.register(kind, **options)


def list_backends() -> list[str]:
    """Returns the registered backend kinds, sorted."""
    return BACKENDS.list()


def load_backend(spec: str, context: BackendContext | None = None) -> Any:
    """Builds a backend from a spec such as ``hypernet:runs/mnist.pt`` or ``proxy:synflow``.

    Args:
        spec: ``KIND:ARGUMENT``, KIND one of :func:`list_backends`.
        context: Space, data and device for the factories.

    Returns:
        A :class:`RankingBackend`. Checkpoint backends have a ``space`` attribute.

    Raises:
        AdwpError: If the spec is malformed or its kind unknown (naming the allowed kinds), or
            the factory cannot build it (missing file, wrong checkpoint kind...).
    """
    kind, sep, argument = str(spec).partition(":")
    if not sep or not argument:
        raise AdwpError(
            f"backend spec {spec!r} must look like KIND:ARGUMENT, KIND one of "
            f"{', '.join(list_backends())} (e.g. hypernet:run.pt, table:gt.jsonl, proxy:synflow)"
        )
    if kind not in BACKENDS:
        raise AdwpError(
            f"unknown backend kind {kind!r} in {spec!r}; available: {', '.join(list_backends())}"
        )
    return BACKENDS.get(kind)(argument, context or BackendContext())
