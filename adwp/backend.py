"""The ranking-backend protocol every scorer (evaluator, baselines, tables) implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from adwp.spaces import Architecture

__all__ = ["RankingBackend"]


@runtime_checkable
class RankingBackend(Protocol):
    """Anything that scores architectures, higher is better.

    ``score`` returns a float array of ``len(archs)`` scores in input order.
    """

    def score(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Scores architectures; higher is better, input order."""
        ...
