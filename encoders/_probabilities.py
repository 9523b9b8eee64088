"""Per-decision probabilities of a batch of architectures and their encoding tensor.

Shapes (B architectures, S stages, D depth choices, L = S * max_depth layer slots, K kernel,
W width and R skip choices):

- ``depth``  ``[B, S, D]``  probability of each depth per stage;
- ``kernel`` ``[B, L, K]``, ``width`` ``[B, L, W]``, ``skip`` ``[B, L, R]``: probability of each
  choice of a slot, given that the slot is active.

The encoding is ``[B, L, 1 + K + W + R]``: per slot, the probability that the slot is active
(``P(depth > position)``) followed by the *joint* probabilities ``P(active) * P(choice | active)``.
An inactive slot of a discrete architecture therefore encodes as all zeros, and the map from
probabilities to encoding is smooth and differentiable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from adwp.spaces import Architecture

__all__ = [
    "ChoiceProbabilities",
    "check_probabilities",
    "encode_probabilities",
    "encode_unchecked",
    "feature_dim",
    "one_hot_probabilities",
]


@dataclass(frozen=True)
class ChoiceProbabilities:
    """Categorical distributions over every decision of a batch of architectures.

    Attributes:
        depth: ``[B, S, D]``.
        kernel: ``[B, L, K]``.
        width: ``[B, L, W]``.
        skip: ``[B, L, R]``.
    """

    depth: torch.Tensor
    kernel: torch.Tensor
    width: torch.Tensor
    skip: torch.Tensor


def feature_dim(space: Any) -> int:
    """Returns the per-slot encoding width ``1 + K + W + R`` of a space."""
    return 1 + len(space.kernels) + len(space.widths) + len(space.skips)


def _index(values: Sequence[Any], value: Any) -> int:
    for i, v in enumerate(values):
        if v == value or (isinstance(v, float) and abs(v - value) < 1e-9):
            return i
    raise ValueError(f"{value!r} not in {list(values)}")


def one_hot_probabilities(
    space: Any, archs: Sequence[Architecture], device: torch.device | str = "cpu"
) -> ChoiceProbabilities:
    """Returns the degenerate (one-hot) distributions of discrete architectures.

    Slots beyond a stage's depth get all-zero choice rows; they are masked by ``P(active) = 0``.

    Args:
        space: The search space (validates every architecture).
        archs: Architectures of the space.
        device: Where to put the tensors.

    Returns:
        One-hot :class:`ChoiceProbabilities`.
    """
    b, s, m = len(archs), space.num_stages, space.max_depth
    depth = torch.zeros(b, s, len(space.depths))
    kernel = torch.zeros(b, s * m, len(space.kernels))
    width = torch.zeros(b, s * m, len(space.widths))
    skip = torch.zeros(b, s * m, len(space.skips))
    for i, arch in enumerate(archs):
        arch = space.validate(arch)
        for stage, layers in enumerate(arch.stages):
            depth[i, stage, _index(space.depths, len(layers))] = 1.0
            for pos, layer in enumerate(layers):
                slot = stage * m + pos
                kernel[i, slot, _index(space.kernels, layer.kernel)] = 1.0
                width[i, slot, _index(space.widths, layer.width)] = 1.0
                skip[i, slot, _index(space.skips, layer.skip)] = 1.0
    return ChoiceProbabilities(*(t.to(device) for t in (depth, kernel, width, skip)))


def check_probabilities(space: Any, probs: ChoiceProbabilities) -> None:
    """Checks that distributions fit a space: shapes, finite non-negative values, sums.

    A slot's choice row may sum to less than 1 (a slot that is inactive in a one-hot architecture
    is all zeros, and a mixture gives it part of the mass); a stage's depth row must sum to 1.

    Args:
        space: The search space.
        probs: Distributions over every decision.

    Raises:
        ValueError: Naming the field and what was expected.
    """
    slots = space.num_stages * space.max_depth
    expected = {
        "depth": (space.num_stages, len(space.depths)),
        "kernel": (slots, len(space.kernels)),
        "width": (slots, len(space.widths)),
        "skip": (slots, len(space.skips)),
    }
    batch = probs.depth.shape[0] if probs.depth.dim() == 3 else None
    for name, tail in expected.items():
        tensor = getattr(probs, name)
        if tuple(tensor.shape) != (batch, *tail):
            raise ValueError(
                f"{name} probabilities have shape {tuple(tensor.shape)}; this space needs "
                f"[B, {tail[0]}, {tail[1]}] with the same B for every field"
            )
        if not bool(torch.isfinite(tensor).all()) or bool((tensor < 0).any()):
            raise ValueError(f"{name} probabilities must be finite and non-negative")
        rows = tensor.sum(-1)
        if name == "depth" and not bool(torch.allclose(rows, torch.ones_like(rows), atol=1e-4)):
            raise ValueError("each stage's depth probabilities must sum to 1")
        if bool((rows > 1 + 1e-4).any()):
            raise ValueError(f"a slot's {name} probabilities sum to more than 1")


def encode_probabilities(space: Any, probs: ChoiceProbabilities) -> torch.Tensor:
    """Turns per-decision probabilities into the hypernetwork input, differentiably.

    Args:
        space: The search space.
        probs: Distributions over every decision.

    Returns:
        Encoding ``[B, L, 1 + K + W + R]``.
    """
    check_probabilities(space, probs)
    return encode_unchecked(space, probs)


def encode_unchecked(space: Any, probs: ChoiceProbabilities) -> torch.Tensor:
    """:func:`encode_probabilities` without its checks, for distributions known to be valid.

    The encoders use it on the distributions they build themselves; anything else should go
    through :func:`encode_probabilities`, which refuses shapes and values that do not fit.

    Args:
        space: The search space.
        probs: Distributions over every decision, of the shapes the space needs.

    Returns:
        Encoding ``[B, L, 1 + K + W + R]``.
    """
    depths = torch.tensor(space.depths, device=probs.depth.device)
    positions = torch.arange(space.max_depth, device=probs.depth.device)
    # Slot p of a stage is active when the depth exceeds p: sum the depth probabilities above p.
    longer = (depths[None, :] > positions[:, None]).to(probs.depth.dtype)  # [M, D]
    active = torch.einsum("bsd,md->bsm", probs.depth, longer).flatten(1).unsqueeze(-1)  # [B, L, 1]
    joint = torch.cat([probs.kernel, probs.width, probs.skip], dim=-1) * active
    return torch.cat([active, joint], dim=-1)
