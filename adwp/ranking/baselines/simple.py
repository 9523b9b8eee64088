"""Simple ranking baselines: parameter count, FLOPs and short standalone training.

Each class implements :class:`adwp.ranking.backend.RankingBackend` (``score(archs)`` returns a
float64 array in input order, higher is better) and reports ``compute_seconds`` so a harness can
put the cost of a ranking next to its quality.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from adwp.data import DataSplits
from adwp.errors import AdwpError
from adwp.spaces import Architecture, SearchSpace
from adwp.truth.standalone import Recipe, train_standalone

__all__ = ["FlopsBackend", "ParamsBackend", "ShortTrainingBackend"]


class _AnalyticBackend:
    """Ranks architectures by an analytic size measure of the space (more is better)."""

    measure = "params"

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.compute_seconds = 0.0

    def score(self, archs: Sequence[Architecture | str]) -> np.ndarray:
        """The measure of every architecture.

        Args:
            archs: Architectures (or canonical strings) of the space.

        Returns:
            Float64 array of ``len(archs)`` values, input order.

        Raises:
            ArchitectureError: If an architecture is outside the space.
        """
        start = time.perf_counter()
        try:
            measure = getattr(self.space, self.measure)
            valid = [self.space.validate(a) for a in archs]
            return np.array([float(measure(a)) for a in valid], dtype=np.float64)
        finally:
            self.compute_seconds += time.perf_counter() - start


class ParamsBackend(_AnalyticBackend):
    """Ranks architectures by their number of trainable parameters (more is better).

    Args:
        space: The search space.
    """

    measure = "params"


class FlopsBackend(_AnalyticBackend):
    """Ranks architectures by multiply-accumulates per image (more is better).

    Args:
        space: The search space.
    """

    measure = "flops"


class ShortTrainingBackend:
    """Ranks architectures by validation accuracy after a few epochs of standalone training.

    This is the classic "reduced-budget proxy": the ground-truth recipe with fewer epochs.

    Args:
        space: The search space.
        data: Data splits (train to train on, val to score).
        recipe: Training recipe; its ``epochs`` is replaced by ``epochs`` (default
            :class:`~adwp.truth.standalone.Recipe`).
        epochs: Training epochs per architecture.
        seed: Seed of initialisation, data order and augmentation.
        device: Where to train.
        quiet: Hide the progress bar.

    Raises:
        AdwpError: If ``epochs`` is not a positive integer.
    """

    def __init__(
        self,
        space: SearchSpace,
        data: DataSplits,
        recipe: Recipe | None = None,
        epochs: int = 1,
        seed: int = 0,
        device: str | torch.device = "cpu",
        quiet: bool = True,
    ) -> None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise AdwpError(f"epochs must be a positive integer, got {epochs!r}")
        self.space = space
        self.data = data
        self.recipe = dataclasses.replace(recipe or Recipe(), epochs=epochs)
        self.seed = seed
        self.device = torch.device(device)
        self.quiet = quiet
        self.compute_seconds = 0.0
        self._cache: dict[Architecture, float] = {}

    def score(self, archs: Sequence[Architecture | str]) -> np.ndarray:
        """Validation accuracy of every architecture after short training (cached).

        Args:
            archs: Architectures (or canonical strings) of the space.

        Returns:
            Float64 array of accuracies in [0, 1], input order.

        Raises:
            ArchitectureError: If an architecture is outside the space.
        """
        start = time.perf_counter()
        try:
            valid = [self.space.validate(a) for a in archs]
            todo = list(dict.fromkeys(a for a in valid if a not in self._cache))
            for arch in tqdm(todo, disable=self.quiet, desc="short training", unit="arch"):
                result = train_standalone(
                    self.space, arch, self.data, self.recipe, self.seed, self.device
                )
                self._cache[arch] = float(result["val_acc"])
            return np.array([self._cache[a] for a in valid], dtype=np.float64)
        finally:
            self.compute_seconds += time.perf_counter() - start
