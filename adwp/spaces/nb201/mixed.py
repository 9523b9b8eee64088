"""NB201's network with every cell edge a weighted mixture of all operations (DARTS's relaxation).

Parameter names follow :class:`adwp.spaces.nb201.network.NB201Net`, with the operation of a mixed
edge in the path: ``cells.{i}.edges.{e}.ops.{k}`` for operation ``k`` of
:data:`adwp.spaces.nb201.OPERATIONS`.
"""

from __future__ import annotations

import torch
from torch import nn

from adwp.spaces._layers import ConvBN
from adwp.spaces.nb201.cell import EDGES, OPERATIONS
from adwp.spaces.nb201.network import edge_module, stage_blocks

__all__ = ["MixedCell", "MixedEdge", "MixedNB201Net"]


class MixedEdge(nn.Module):
    """One edge holding every operation, each with its own weights.

    The output is ``sum_k w[k] * op_k(x)``; operations whose weight is exactly zero are skipped,
    so a sparse weight vector (a derived sub-graph) costs only its non-zero operations.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(edge_module(op, channels) for op in OPERATIONS)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = x.new_zeros(())
        for weight, op in zip(weights, self.ops, strict=True):
            # A zero weight adds nothing and passes no gradient (to the operation, or through a
            # relu-sparsified weight); skipping it is what makes a pruned edge free (EnTranNAS's
            # transit cells rely on it).
            if bool(weight != 0):
                out = out + weight * op(x)
        return out if out.dim() else x.mul(0.0)


class MixedCell(nn.Module):
    """A 4-node NB201 cell of mixed edges; node ``j`` sums its incoming edges."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedEdge(channels) for _ in EDGES)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in range(1, 4):
            total = None
            for e, (source, to) in enumerate(EDGES):
                if to == target:
                    out = self.edges[e](nodes[source], weights[e])
                    total = out if total is None else total + out
            nodes.append(total)
        return nodes[-1]


class MixedNB201Net(nn.Module):
    """Stem, three stages of mixed cells joined by reduction blocks, and the head.

    Args:
        in_channels: Image channels.
        channels: Channels of the first stage.
        cells_per_stage: Cells per stage.
        num_classes: Classifier outputs.

    Shapes: ``forward(x [B, C, H, W], weights [6, 5])`` -> logits ``[B, num_classes]``; one weight
    matrix for every cell (NB201 repeats one cell), or ``[num_cells, 6, 5]`` for per-cell weights.
    """

    def __init__(
        self, in_channels: int, channels: int, cells_per_stage: int, num_classes: int
    ) -> None:
        super().__init__()
        self.stem = ConvBN(in_channels, channels, 3, 1)
        self.cells, width = stage_blocks(channels, cells_per_stage, MixedCell)
        self.num_cells = sum(isinstance(b, MixedCell) for b in self.cells)
        self.head_bn = nn.BatchNorm2d(width)
        self.head_relu = nn.ReLU()
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        expected = (len(EDGES), len(OPERATIONS))
        if tuple(weights.shape[-2:]) != expected or weights.dim() not in (2, 3):
            raise ValueError(
                f"weights must be {list(expected)} or [cells, {expected[0]}, {expected[1]}], "
                f"got {list(weights.shape)}"
            )
        per_cell = weights.dim() == 3
        if per_cell and weights.shape[0] != self.num_cells:
            raise ValueError(f"weights hold {weights.shape[0]} cells, the network {self.num_cells}")
        x = self.stem(x)
        cell = 0
        for block in self.cells:
            if isinstance(block, MixedCell):
                x = block(x, weights[cell] if per_cell else weights)
                cell += 1
            else:
                x = block(x)
        x = self.head_relu(self.head_bn(x))
        return self.classifier(x.mean(dim=(2, 3)))
