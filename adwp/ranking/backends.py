"""The built-in backend kinds: evaluators of checkpoints (``hypernet:``, ``supernet:``), look-up in
a ground-truth table (``table:``) and zero-cost proxies (``proxy:``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from adwp.errors import AdwpError, ArchitectureError, CheckpointError
from adwp.ranking.backend import (
    MISSING,
    BackendContext,
    EnsembleBackend,
    arch_key,
    register_backend,
)
from adwp.registry import PRETRAINED, PROXIES

__all__ = [
    "TableBackend",
    "checkpoint_ensemble",
]


class TableBackend:
    """Scores architectures by looking them up in a ground-truth table (mean over seeds).

    Useful to check a searcher against the truth: the same search on ``table:GT.jsonl`` and on
    ``hypernet:CKPT`` shows what the evaluator's ranking errors cost.

    Args:
        path: CSV or JSONL table (see :func:`adwp.truth.tables.read_truth`): one written by
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
        from adwp.truth.tables import read_truth

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

    def score(self, archs: Sequence[Any]) -> np.ndarray:
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
            key = arch_key(arch)
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
        config: :class:`adwp.ranking.evaluator.EvaluatorConfig` of every member.
        data: Data splits to use instead of loading the checkpoints' data set.

    Returns:
        The ensemble; its ``members`` are the evaluators, in the order of ``paths``.

    Raises:
        CheckpointError: If a file is missing or corrupt, of the wrong kind, or trained on
            another data set or split than the first.
    """
    from adwp.ranking.evaluator import Evaluator

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


def _checkpoint_backend(argument: str, context: BackendContext, model: str) -> Any:
    from adwp.ranking.evaluator import EvaluatorConfig

    paths = argument.split(",")
    config = EvaluatorConfig(seed=context.seed)
    if len(paths) == 1 and paths[0] in PRETRAINED:
        # A shipped evaluator scores as its reported ranking was measured, unless told otherwise.
        shipped = PRETRAINED.get(paths[0])
        config = EvaluatorConfig(
            seed=context.seed, metric=shipped.metric, max_images=shipped.max_images
        )
    if context.metric is not None:
        config = replace(config, metric=context.metric)
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


@register_backend(
    "hypernet",
    description="evaluator of hypernetwork checkpoints CKPT[,CKPT...]",
    reads="checkpoint",
    label="{kind} score (accuracy of its weights)",
)
def _hypernet(path: str, context: BackendContext) -> Any:
    return _checkpoint_backend(path, context, "hypernet")


@register_backend(
    "supernet",
    description="evaluator of SPOS supernet checkpoints CKPT[,CKPT...]",
    reads="checkpoint",
    label="{kind} score (accuracy of its weights)",
)
def _supernet(path: str, context: BackendContext) -> Any:
    return _checkpoint_backend(path, context, "supernet")


@register_backend(
    "table",
    description="look-up in a ground-truth table GT.jsonl or GT.csv",
    reads="table",
    label="ground truth from table ({metric})",
)
def _table(path: str, context: BackendContext) -> Any:
    return TableBackend(path, context.table_metric, missing=context.missing, key=context.table_key)


@register_backend(
    "proxy",
    description="zero-cost proxy NAME of the space's fresh networks",
    reads="images",
    label="zero-cost proxy {argument}",
)
def _proxy(name: str, context: BackendContext) -> Any:
    PROXIES.check(name)
    if context.space is None:
        raise AdwpError("a proxy backend needs the search space")
    from adwp.device import resolve_device
    from adwp.ranking.baselines import ZeroCostProxy

    return ZeroCostProxy(
        context.space,
        context.load_data(),
        name,
        seed=context.seed,
        device=resolve_device(context.device),
    )
