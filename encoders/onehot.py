"""Deterministic one-hot encoder: the encoder used to score discrete architectures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from adwp.spaces import Architecture
from encoders._probabilities import encode_unchecked, feature_dim, one_hot_probabilities

__all__ = ["OneHotEncoder"]


class OneHotEncoder:
    """Encodes discrete architectures as ``[B, L, 1 + K + W + R]`` one-hot slot features.

    Args:
        space: The search space the architectures belong to.
    """

    def __init__(self, space: Any) -> None:
        self.space = space
        self.feature_dim = feature_dim(space)
        self.num_slots = space.num_slots

    def encode(
        self, archs: Sequence[Architecture], device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        """Encodes architectures.

        Args:
            archs: Architectures of the space (validated).
            device: Where to put the result.

        Returns:
            Float tensor ``[len(archs), L, feature_dim]``.
        """
        return encode_unchecked(self.space, one_hot_probabilities(self.space, archs, device))
