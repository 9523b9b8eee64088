"""Per-decision probabilities of a batch of architectures and their encoding tensor.

A space stacks its decisions into groups (:meth:`adwp.spaces.GeneratorSpace.decision_groups`);
the probabilities of a batch of B architectures are one tensor ``[B, rows, num_choices]`` per
group, in group order: row ``r`` is the categorical distribution of the group's ``r``-th
decision. A decision's row may sum to less than 1 (a decision that does not matter in a one-hot
architecture is all zeros, and a mixture gives it part of the mass); the rows of a group of
decisions that always matter must sum to 1. The space turns them into the hypernetwork input
``[B, T, F]`` (:meth:`~adwp.spaces.GeneratorSpace.encode`), smoothly and differentiably.

On the macro spaces the groups are ``depth`` ``[B, S, D]`` and ``kernel`` ``[B, L, K]``,
``width`` ``[B, L, W]``, ``skip`` ``[B, L, R]`` over the layer slots, held as a
:class:`ChoiceProbabilities`; the encoding is ``[B, L, 1 + K + W + R]``: per slot, the
probability that it is active followed by the joint probabilities of its choices.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch

from adwp.spaces import active_decisions

__all__ = [
    "ChoiceProbabilities",
    "Probabilities",
    "check_probabilities",
    "encode_probabilities",
    "encode_unchecked",
    "feature_dim",
    "one_hot_probabilities",
    "wrap_probabilities",
]


@dataclass(frozen=True)
class ChoiceProbabilities:
    """The probability tensors of a macro space, by name (iterates in group order).

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

    def __iter__(self) -> Iterator[torch.Tensor]:
        return iter((self.depth, self.kernel, self.width, self.skip))


# One tensor per decision group: a plain sequence, or ChoiceProbabilities on the macro spaces.
Probabilities = Sequence[torch.Tensor] | ChoiceProbabilities


def wrap_probabilities(space: Any, tensors: Sequence[torch.Tensor]) -> Probabilities:
    """The group tensors as the space's callers expect them: named where the space's decision
    groups are :class:`ChoiceProbabilities`' fields (the macro spaces), a tuple elsewhere."""
    named = tuple(f.name for f in fields(ChoiceProbabilities))
    if tuple(g.name for g in space.decision_groups()) == named:
        return ChoiceProbabilities(*tensors)
    return tuple(tensors)


def feature_dim(space: Any) -> int:
    """Returns the per-token encoding width ``F`` of a space."""
    return space.token_features()


def one_hot_probabilities(
    space: Any, archs: Sequence[Any], device: torch.device | str = "cpu"
) -> Probabilities:
    """Returns the degenerate (one-hot) distributions of discrete architectures.

    A decision that does not matter for an architecture gets an all-zero row; a row the space
    fixes (one choice) is 1.

    Args:
        space: The search space (validates every architecture).
        archs: Architectures of the space.
        device: Where to put the tensors.

    Returns:
        One tensor per decision group.
    """
    groups = space.decision_groups()
    decisions = space.decisions()
    tensors = [torch.zeros(len(archs), len(g.decisions), g.num_choices) for g in groups]
    for i, arch in enumerate(archs):
        genotype = space.genotype(arch)
        active = active_decisions(decisions, genotype)
        for group, tensor in zip(groups, tensors, strict=True):
            for row, d in enumerate(group.decisions):
                if d is None:
                    tensor[i, row, 0] = 1.0
                elif active[d]:
                    tensor[i, row, genotype[d]] = 1.0
    return wrap_probabilities(space, [t.to(device) for t in tensors])


def check_probabilities(space: Any, probs: Probabilities) -> None:
    """Checks that distributions fit a space: shapes, finite non-negative values, sums.

    Args:
        space: The search space.
        probs: One tensor per decision group.

    Raises:
        ValueError: Naming the group and what was expected.
    """
    groups = space.decision_groups()
    tensors = list(probs)
    if len(tensors) != len(groups):
        names = ", ".join(g.name for g in groups)
        raise ValueError(
            f"this space needs {len(groups)} probability tensors ({names}), got {len(tensors)}"
        )
    decisions = space.decisions()
    batch = tensors[0].shape[0] if tensors[0].dim() == 3 else None
    for group, tensor in zip(groups, tensors, strict=True):
        tail = (len(group.decisions), group.num_choices)
        if tuple(tensor.shape) != (batch, *tail):
            raise ValueError(
                f"{group.name} probabilities have shape {tuple(tensor.shape)}; this space needs "
                f"[B, {tail[0]}, {tail[1]}] with the same B for every field"
            )
        if not bool(torch.isfinite(tensor).all()) or bool((tensor < 0).any()):
            raise ValueError(f"{group.name} probabilities must be finite and non-negative")
        rows = tensor.sum(-1)
        always = all(d is not None and decisions[d].parent is None for d in group.decisions)
        if always and not bool(torch.allclose(rows, torch.ones_like(rows), atol=1e-4)):
            raise ValueError(f"each row of the {group.name} probabilities must sum to 1")
        if bool((rows > 1 + 1e-4).any()):
            raise ValueError(f"some {group.name} probabilities sum to more than 1")


def encode_probabilities(space: Any, probs: Probabilities) -> torch.Tensor:
    """Turns per-decision probabilities into the hypernetwork input, differentiably.

    Args:
        space: The search space.
        probs: One tensor per decision group.

    Returns:
        Encoding ``[B, T, F]``.
    """
    check_probabilities(space, probs)
    return encode_unchecked(space, probs)


def encode_unchecked(space: Any, probs: Probabilities) -> torch.Tensor:
    """:func:`encode_probabilities` without its checks, for distributions known to be valid.

    The encoders use it on the distributions they build themselves; anything else should go
    through :func:`encode_probabilities`, which refuses shapes and values that do not fit.

    Args:
        space: The search space.
        probs: One tensor per decision group, of the shapes the space needs.

    Returns:
        Encoding ``[B, T, F]``.
    """
    return space.encode(tuple(probs))
