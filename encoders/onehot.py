"""Deterministic one-hot encoder: the encoder used to score discrete architectures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from adwp.registry import ENCODERS
from encoders._probabilities import encode_unchecked, feature_dim, one_hot_probabilities

__all__ = ["OneHotEncoder"]


@ENCODERS.register("onehot")
class OneHotEncoder:
    """Encodes discrete architectures as one-hot tokens ``[B, T, F]`` (see the space's ``encode``).

    Args:
        space: The search space the architectures belong to.
    """

    def __init__(self, space: Any) -> None:
        self.space = space
        self.feature_dim = feature_dim(space)
        self.num_tokens = space.num_tokens()

    def encode(self, archs: Sequence[Any], device: torch.device | str = "cpu") -> torch.Tensor:
        """Encodes architectures.

        Args:
            archs: Architectures of the space (validated).
            device: Where to put the result.

        Returns:
            Float tensor ``[len(archs), T, feature_dim]``.
        """
        return encode_unchecked(self.space, one_hot_probabilities(self.space, archs, device))
