"""Checkpoint selection on a small ground-truth table kept apart from the reported architectures.

Ranking quality of a weight generator does not grow with training: it often peaks early and then
falls as predicted accuracies saturate (``docs/decisions.md``). A :class:`CheckpointSelector`
scores a few architectures with known ground truth at every checkpoint of ``adwp train
--select-on GT.jsonl`` and the trainer keeps the checkpoint with the best Kendall tau. The
selection architectures must not be among those a study reports, or the truth leaks into the
choice.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from adwp.data import DataSplits
from adwp.errors import AdwpError, ArchitectureError
from adwp.evaluator import Evaluator, EvaluatorConfig
from adwp.groundtruth import mean_by_arch, read_table
from adwp.metrics import kendall_tau
from adwp.spaces import Architecture
from adwp.training import best_path

__all__ = ["CheckpointSelector", "best_path"]


class CheckpointSelector:
    """Kendall tau of a weight generator's scores against a small ground-truth table.

    Args:
        table: Ground-truth JSONL (the ``adwp groundtruth`` format); seeds are averaged.
        space: The space being trained; every table architecture must belong to it.
        data: The data set the generator is trained on (scores use its validation split).
        metric: Ground-truth column compared with.
        config: Scoring settings.

    Raises:
        AdwpError: Fewer than 3 architectures, or a constant ground truth.
        ArchitectureError: A table architecture outside the space (the message names it).
    """

    def __init__(
        self,
        table: str | os.PathLike[str],
        space: Any,
        data: DataSplits,
        metric: str = "val_acc",
        config: EvaluatorConfig | None = None,
    ) -> None:
        if metric not in ("val_acc", "test_acc"):
            raise AdwpError(f"metric must be 'val_acc' or 'test_acc', got {metric!r}")
        self.table = str(table)
        truth = mean_by_arch(read_table(table), metric)
        if len(truth) < 3:
            raise AdwpError(
                f"{table}: checkpoint selection needs at least 3 architectures, got {len(truth)}"
            )
        self.archs: list[Architecture] = []
        for key in truth:
            try:
                self.archs.append(space.validate(key))
            except ArchitectureError as exc:
                raise ArchitectureError(
                    f"{table}: architecture {key!r} is not in the space being trained: {exc}"
                ) from None
        self.truth = np.array(list(truth.values()), float)
        if np.ptp(self.truth) == 0:
            raise AdwpError(f"{table}: every architecture has the same {metric}; nothing to rank")
        self.data = data
        self.config = config or EvaluatorConfig()

    def __len__(self) -> int:
        return len(self.archs)

    def scores(
        self, model: torch.nn.Module, device: torch.device | str | None = None
    ) -> np.ndarray:
        """Scores the table's architectures with the generator's current weights."""
        was_training = model.training
        try:
            return Evaluator(model, self.data, self.config, device=device).score(self.archs)
        finally:
            model.train(was_training)

    def tau(self, model: torch.nn.Module, device: torch.device | str | None = None) -> float | None:
        """Kendall tau-b of the current scores against the truth.

        Returns:
            The tau, or None while every architecture gets the same score (early in training),
            which never counts as an improvement.
        """
        scores = self.scores(model, device)
        if np.ptp(scores) == 0:
            return None
        return kendall_tau(scores, self.truth)

    def info(self, tau: float, step: int) -> dict[str, Any]:
        """The ``selection`` entry stored in the selected checkpoint (primitives only)."""
        return {"table": self.table, "archs": len(self), "tau": float(tau), "step": int(step)}
