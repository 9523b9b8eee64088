"""The ranking-backend protocol, the ground-truth table backend, and backends built from a spec.

Every searcher takes any :class:`RankingBackend`. From the command line a backend is named by a
spec ``KIND:ARGUMENT``: ``hypernet:CKPT`` (the evaluator), ``supernet:CKPT`` (the SPOS baseline),
``table:GT.jsonl`` or ``table:GT.csv`` (look-up in a ground-truth table) or ``proxy:NAME`` (a
zero-cost proxy). New kinds register with :func:`register_backend`. ``hypernet:A.pt,B.pt`` (and
likewise ``supernet:``) averages the scores of several training runs (:class:`EnsembleBackend`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from adwp.errors import AdwpError, ArchitectureError, CheckpointError
from adwp.registry import BACKENDS, PROXIES
from adwp.spaces import Architecture

__all__ = [
    "BackendContext",
    "CachedBackend",
    "EnsembleBackend",
    "RankingBackend",
    "TableBackend",
    "checked_scores",
    "checkpoint_ensemble",
    "MISSING",
    "list_backends",
    "load_backend",
    "register_backend",
]

#: Policies of a table backend for architectures the table lacks (see :class:`TableBackend`).
MISSING = ("error", "skip")


def checked_scores(
    values: Any, archs: Sequence[Architecture], allow_missing: bool = False
) -> np.ndarray:
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
        raise AdwpError(f"backend score of {_key(archs[first])} is {scores[first]}")
    return scores


@runtime_checkable
class RankingBackend(Protocol):
    """Anything that scores architectures, higher is better.

    ``score`` returns a float array of ``len(archs)`` scores in input order.
    """

    def score(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Scores architectures; higher is better, input order."""
        ...


def _key(arch: Architecture | str) -> str:
    """The canonical string tables and caches are keyed by."""
    return arch.to_string() if isinstance(arch, Architecture) else str(arch)


class TableBackend:
    """Scores architectures by looking them up in a ground-truth table (mean over seeds).

    Useful to check a searcher against the truth: the same search on ``table:GT.jsonl`` and on
    ``hypernet:CKPT`` shows what the evaluator's ranking errors cost.

    Args:
        path: CSV or JSONL table (see :func:`adwp.groundtruth.read_truth`): one written by
            ``adwp groundtruth``, or any table with a key column and the metric column.
        metric: Column averaged over seeds (any finite scale, e.g. percentages).
        missing: What an architecture absent from the table gets: ``"error"`` raises
            :class:`ArchitectureError` naming it; ``"skip"`` scores it NaN, and the searchers
            draw another architecture instead (it does not count as an evaluation).
        key: Column holding the architectures' canonical strings.

    Raises:
        DataError: If the table is missing, lacks the key or metric column, or has a bad row.
        AdwpError: If ``missing`` is not one of :data:`MISSING`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        metric: str = "val_acc",
        missing: str = "error",
        key: str = "arch",
    ) -> None:
        from adwp.groundtruth import read_truth

        if missing not in MISSING:
            raise AdwpError(f"missing must be one of {', '.join(MISSING)}, got {missing!r}")
        self.path = str(path)
        self.metric = metric
        self.key = key
        self.truth = read_truth(path, key=key, metric=metric).mean()
        self.missing = missing
        self.compute_seconds = 0.0

    def check_space(self, space: Any) -> None:
        """Raises unless at least one of the table's keys is an architecture of ``space``.

        A table of another space (or benchmark) would otherwise fail on the first architecture
        (or, skipping, never find one); this says so at once.

        Raises:
            ArchitectureError: Naming the table, the space and one of the table's keys.
        """
        for key in self.truth:
            try:
                space.validate(key)
                return
            except AdwpError:
                continue
        name = getattr(space, "name", type(space).__name__)
        raise ArchitectureError(
            f"table {self.path} holds no architecture of the {name} space (its keys look like "
            f"{next(iter(self.truth))!r}); search the space its keys belong to (--space)"
        )

    def __len__(self) -> int:
        return len(self.truth)

    def score(self, archs: Sequence[Architecture | str]) -> np.ndarray:
        """Mean metric over seeds of every architecture.

        Args:
            archs: Architectures or their canonical strings.

        Returns:
            Float64 array, input order; NaN for architectures not in the table when
            ``missing == "skip"``.

        Raises:
            ArchitectureError: If an architecture is not in the table and ``missing == "error"``.
        """
        out = np.empty(len(archs), dtype=np.float64)
        for i, arch in enumerate(archs):
            key = _key(arch)
            if key not in self.truth:
                if self.missing == "skip":
                    out[i] = np.nan
                    continue
                raise ArchitectureError(
                    f"architecture {key} is not in table {self.path} ({len(self.truth)} "
                    f"architectures, keyed by column {self.key!r}); a table backend scores only "
                    "the architectures it holds: with missing='skip' (adwp search --missing "
                    "skip) searchers draw another one; or search the space the table covers "
                    "(--space)"
                )
            out[i] = self.truth[key]
        return out


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

    def score(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Scores from the file where present, from the backend otherwise (then stored).

        A NaN of a backend with ``missing == "skip"`` is returned but not stored.
        """
        from adwp.io import append_jsonl

        keys = [_key(a) for a in archs]
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

    def score(self, archs: Sequence[Architecture], **options: Any) -> np.ndarray:
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


def checkpoint_ensemble(
    paths: Sequence[str | os.PathLike[str]],
    *,
    model: str | None = None,
    data_root: str | None = None,
    device: str | None = None,
    config: Any = None,
    data: Any = None,
) -> EnsembleBackend:
    """Evaluators of several checkpoints, their scores averaged (:class:`EnsembleBackend`).

    The checkpoints must come from the same data set and split (the split's seed decides which
    images are held out, so a run trained on another split may have trained on the validation
    images). The data set is loaded once and every member scores the same images.

    Args:
        paths: Checkpoint files written by ``adwp train``.
        model: ``"hypernet"`` or ``"supernet"`` to require that kind; None accepts both.
        data_root: Folder of on-disk data sets.
        device: Where to score.
        config: :class:`adwp.evaluator.EvaluatorConfig` of every member.
        data: Data splits to use instead of loading the checkpoints' data set.

    Returns:
        The ensemble; its ``members`` are the evaluators, in the order of ``paths``.

    Raises:
        CheckpointError: If a file is missing or corrupt, of the wrong kind, or trained on
            another data set or split than the first.
    """
    from adwp.evaluator import Evaluator

    paths = list(paths)
    if not paths:
        raise AdwpError("an ensemble needs at least one checkpoint")
    members: list[Any] = []
    for path in paths:
        member = Evaluator.from_checkpoint(
            path, data_root=data_root, config=config, device=device, data=data
        )
        # Checked on the loaded settings, so that no checkpoint is read twice (each holds up to
        # 7 copies of the model).
        trained = member.train_config
        if model is not None and trained.model != model:
            raise CheckpointError(
                f"{path} is a {trained.model} checkpoint; use the spec {trained.model}:{path}"
            )
        first = members[0].train_config if members else trained
        if (trained.dataset, trained.data_seed) != (first.dataset, first.data_seed):
            raise CheckpointError(
                f"{path} was trained on data set {trained.dataset} with split seed "
                f"{trained.data_seed}, {paths[0]} on {first.dataset} with split seed "
                f"{first.data_seed}; an ensemble's checkpoints must share the data set and its "
                "split"
            )
        members.append(member)
        data = member.data
    return EnsembleBackend(members)


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
        **options: Facts kept with the entry (:meth:`adwp.registry.Registry.info`), e.g.
            ``description``.

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


def _checkpoint_backend(argument: str, context: BackendContext, model: str) -> Any:
    from adwp.evaluator import EvaluatorConfig

    paths = argument.split(",")
    config = EvaluatorConfig(seed=context.seed)
    if context.metric is not None:
        config = EvaluatorConfig(seed=context.seed, metric=context.metric)
    ensemble = checkpoint_ensemble(
        paths,
        model=model,
        data_root=context.data_root,
        device=context.device,
        config=config,
        data=context.data,
    )
    # One checkpoint stays a plain Evaluator, with everything an Evaluator offers.
    return ensemble.members[0] if len(paths) == 1 else ensemble


@register_backend("hypernet", description="evaluator of hypernetwork checkpoints CKPT[,CKPT...]")
def _hypernet(path: str, context: BackendContext) -> Any:
    return _checkpoint_backend(path, context, "hypernet")


@register_backend("supernet", description="evaluator of SPOS supernet checkpoints CKPT[,CKPT...]")
def _supernet(path: str, context: BackendContext) -> Any:
    return _checkpoint_backend(path, context, "supernet")


@register_backend("table", description="look-up in a ground-truth table GT.jsonl or GT.csv")
def _table(path: str, context: BackendContext) -> Any:
    return TableBackend(path, context.table_metric, missing=context.missing, key=context.table_key)


@register_backend("proxy", description="zero-cost proxy NAME of the space's fresh networks")
def _proxy(name: str, context: BackendContext) -> Any:
    PROXIES.check(name)
    if context.space is None:
        raise AdwpError("a proxy backend needs the search space")
    from adwp.baselines import ZeroCostProxy
    from adwp.device import resolve_device

    return ZeroCostProxy(
        context.space,
        context.load_data(),
        name,
        seed=context.seed,
        device=resolve_device(context.device),
    )
