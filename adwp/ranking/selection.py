"""Checkpoint selection on a small ground-truth table kept apart from the reported architectures.

Ranking quality of a weight generator does not grow with training: it often peaks early and then
falls as predicted accuracies saturate (``docs/decisions.md``). A :class:`CheckpointSelector`
scores a few architectures with known ground truth at every checkpoint of ``adwp train
--select-on GT.jsonl`` (a :class:`~adwp.generators.training.CheckpointCallback` of the trainer)
and keeps the checkpoint with the best Kendall tau. The selection architectures must not be among
those a study reports, or the truth leaks into the choice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import torch

from adwp.data import DataSplits
from adwp.errors import AdwpError, ArchitectureError
from adwp.generators.checkpoint import best_path, load_checkpoint, save_checkpoint
from adwp.ranking.evaluator import Evaluator, EvaluatorConfig
from adwp.spaces import Architecture
from adwp.truth.correlation import kendall_tau
from adwp.truth.tables import read_truth

if TYPE_CHECKING:
    from adwp.generators.training import Trainer

__all__ = ["CheckpointSelector", "best_path"]


class CheckpointSelector:
    """Kendall tau of a weight generator's scores against a small ground-truth table.

    As a callback of :meth:`adwp.generators.training.Trainer.fit` it scores the table at every
    checkpoint, logs ``selection_tau`` and keeps the checkpoint with the best tau in
    :func:`~adwp.generators.checkpoint.best_path` (``X.best.pt``, without optimiser state) with a
    ``selection`` entry (table, tau, step). A resumed run keeps the same choice as an
    uninterrupted one.

    Args:
        table: Ground-truth CSV or JSONL (:func:`adwp.truth.tables.read_truth`); seeds
            averaged.
        space: The space being trained; every table architecture must belong to it.
        data: The data set the generator is trained on (scores use its validation split).
        metric: Ground-truth column compared with (any finite scale).
        config: Scoring settings.
        key: Column holding the architectures' canonical strings.

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
        key: str = "arch",
    ) -> None:
        self.table = str(table)
        truth = read_truth(table, key=key, metric=metric).mean()
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
        # The selected checkpoint's tau and step in the current run (None: none selected yet).
        self.best_tau: float | None = None
        self.best_step: int | None = None

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

    def on_start(self, trainer: Trainer, out: Path, resumed: bool) -> None:
        """Forgets any earlier choice, or restores the one a resumed run had made.

        Raises:
            AdwpError: If the run's selected checkpoint was selected on another table.
        """
        self.best_tau = self.best_step = None
        chosen_path = best_path(out)
        if not resumed or not chosen_path.exists():
            return
        chosen = load_checkpoint(chosen_path).get("selection") or {}
        if chosen.get("table") != self.table:
            raise AdwpError(
                f"{chosen_path} was selected on {chosen.get('table')!r}, not "
                f"{self.table!r}: resume with that table, or remove the file to "
                "start the selection afresh"
            )
        self.best_tau, self.best_step = chosen.get("tau"), chosen.get("step")

    def on_checkpoint(self, trainer: Trainer, out: Path, log: IO[str]) -> None:
        """Scores the table and saves this checkpoint as the selected one if its tau is higher."""
        tau = self.tau(trainer.model, trainer.device)
        log.write(json.dumps({"step": trainer.step, "selection_tau": tau}) + "\n")
        # Ties keep the earlier checkpoint: the same choice whether or not the run was resumed.
        if tau is not None and (self.best_tau is None or tau > self.best_tau):
            self.best_tau, self.best_step = tau, trainer.step
            # Kept for scoring only: no optimiser state.
            state = trainer.state_dict(resumable=False)
            save_checkpoint(best_path(out), {**state, "selection": self.info(tau, trainer.step)})
