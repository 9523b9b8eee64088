"""Functional network: runs an architecture with given (predicted) weights.

The network skeleton is ``space.build(arch)`` allocated without initialisation, and the forward pass
is :func:`torch.func.functional_call` with the given weights, so the result equals the built module
loaded with the same weights by construction, and gradients flow back into whatever produced the
weights.

BatchNorm is handled the same way for every candidate: during hypernetwork training it normalises
with batch statistics; for scoring, :meth:`FunctionalNetwork.recalibrate` recomputes the running
statistics on a fixed set of training batches (a cumulative average, independent of order), then
evaluation uses those, so a score does not depend on how the evaluation set is batched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from adwp.spaces import Architecture

__all__ = ["FunctionalNetwork"]


class FunctionalNetwork:
    """One architecture, runnable with any weights of the right shapes.

    Args:
        space: The search space.
        arch: An architecture of the space.
        device: Where buffers live (weights passed in must be on the same device).
    """

    def __init__(self, space: Any, arch: Architecture, device: torch.device | str = "cpu") -> None:
        # Allocating on the meta device skips random initialisation, which would dominate the
        # cost of creating a skeleton for a small network.
        with torch.device("meta"):
            module = space.build(arch)
        self.module: nn.Module = module.to_empty(device=device)
        self.norms = [m for m in self.module.modules() if isinstance(m, nn.BatchNorm2d)]
        for norm in self.norms:
            norm.reset_running_stats()
        self.parameter_shapes = {n: tuple(p.shape) for n, p in self.module.named_parameters()}

    def check(self, weights: Mapping[str, torch.Tensor]) -> None:
        """Raises ``ValueError`` unless ``weights`` has exactly the network's names and shapes."""
        if set(weights) != set(self.parameter_shapes):
            missing = sorted(set(self.parameter_shapes) - set(weights))
            extra = sorted(set(weights) - set(self.parameter_shapes))
            raise ValueError(f"weights do not match the network: missing {missing}, extra {extra}")
        for name, shape in self.parameter_shapes.items():
            if tuple(weights[name].shape) != shape:
                got = tuple(weights[name].shape)
                raise ValueError(f"weight {name!r} has shape {got}, expected {shape}")

    def __call__(
        self, weights: Mapping[str, torch.Tensor], x: torch.Tensor, train: bool = True
    ) -> torch.Tensor:
        """Runs the network.

        Args:
            weights: Parameter tensors keyed like ``space.build(arch).named_parameters()``.
            x: Images ``[B, C, H, W]``.
            train: BatchNorm uses batch statistics (True) or the running ones (False).

        Returns:
            Logits ``[B, num_classes]``.
        """
        self.module.train(train)
        return functional_call(self.module, dict(weights), (x,))

    @torch.no_grad()
    def recalibrate(
        self, weights: Mapping[str, torch.Tensor], batches: Iterable[torch.Tensor]
    ) -> None:
        """Recomputes BatchNorm running statistics as the exact average over ``batches``."""
        for norm in self.norms:
            norm.reset_running_stats()
            norm.momentum = None  # cumulative moving average: every batch counts equally
        for x in batches:
            self(weights, x, train=True)
