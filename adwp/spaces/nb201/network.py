"""The plain PyTorch network of an ``nb201`` architecture (NAS-Bench-201's ``TinyNetwork``).

Parameter names: ``stem.conv.weight``, ``stem.bn.{weight,bias}``; ``cells.{i}`` for the
``3 * N + 2`` cells and reduction blocks in order, a cell's edges ``cells.{i}.edges.{e}`` (``e`` in
the string's edge order) with ``.conv.weight`` and ``.bn.{weight,bias}`` on convolution edges, a
reduction block's ``conv_a``/``conv_b`` (``.conv``, ``.bn``) and ``shortcut.weight``;
``head_bn.{weight,bias}`` and ``classifier.{weight,bias}``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence

import torch
from torch import nn

from adwp.spaces._layers import ConvBN
from adwp.spaces.nb201.cell import EDGES

__all__ = [
    "NB201Cell",
    "NB201Net",
    "ReLUConvBN",
    "ReductionBlock",
    "Zero",
    "edge_module",
    "stage_blocks",
]


class ReLUConvBN(nn.Module):
    """ReLU, convolution without bias, BatchNorm with affine parameters."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int) -> None:
        super().__init__()
        # A module, not a functional call: activation-based proxies hook every nn.ReLU.
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.relu(x)))


class Zero(nn.Module):
    """The ``none`` edge: zeros shaped like its input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Multiplying (rather than allocating zeros) keeps the graph and dtype of the reference.
        return x.mul(0.0)


def edge_module(op: str, channels: int) -> nn.Module:
    """Returns the module of one cell edge.

    Args:
        op: One of the ``nb201`` operations.
        channels: Input and output channels of the edge.

    Returns:
        The edge's module.

    Raises:
        ValueError: If ``op`` is unknown.
    """
    if op == "none":
        return Zero()
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown nb201 operation {op!r}")


class NB201Cell(nn.Module):
    """A 4-node cell: node ``j`` sums its incoming edges; the cell outputs node 3.

    Args:
        ops: The six edge operations, in the string's edge order.
        channels: Channels of every node.
    """

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(edge_module(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in range(1, 4):
            incoming = [
                edge(nodes[source])
                for edge, (source, to) in zip(self.edges, EDGES, strict=True)
                if to == target
            ]
            nodes.append(functools.reduce(operator.add, incoming))
        return nodes[-1]


class ReductionBlock(nn.Module):
    """Residual block halving the resolution: ReLU-conv3x3(stride 2)-BN, ReLU-conv3x3-BN, plus a
    2x2 average-pooled, 1x1-convolved shortcut.
    """

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(in_ch, out_ch, 3, 2)
        self.conv_b = ReLUConvBN(out_ch, out_ch, 3, 1)
        self.pool = nn.AvgPool2d(2, stride=2)
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(self.pool(x))


def stage_blocks(
    channels: int, cells_per_stage: int, make_cell: Callable[[int], nn.Module]
) -> tuple[nn.ModuleList, int]:
    """NB201's body: three stages of ``cells_per_stage`` cells joined by reduction blocks.

    Args:
        channels: Width of the first stage (doubled at each reduction).
        cells_per_stage: Cells per stage.
        make_cell: Builds one cell of a given width.

    Returns:
        The blocks in order and the width of the last stage.
    """
    blocks: list[nn.Module] = []
    width = channels
    for stage in range(3):
        if stage > 0:
            blocks.append(ReductionBlock(width, 2 * width))
            width *= 2
        blocks.extend(make_cell(width) for _ in range(cells_per_stage))
    return nn.ModuleList(blocks), width


class NB201Net(nn.Module):
    """Stem, three stages of shared-genotype cells joined by reduction blocks, and the head.

    Args:
        ops: The six edge operations of the shared cell.
        in_channels: Image channels.
        channels: Channels of the first stage (doubled at each reduction).
        cells_per_stage: Cells per stage.
        num_classes: Classifier outputs.
    """

    def __init__(
        self,
        ops: Sequence[str],
        in_channels: int,
        channels: int,
        cells_per_stage: int,
        num_classes: int,
    ) -> None:
        super().__init__()
        self.stem = ConvBN(in_channels, channels, 3, 1)
        self.cells, width = stage_blocks(channels, cells_per_stage, lambda w: NB201Cell(ops, w))
        self.head_bn = nn.BatchNorm2d(width)
        self.head_relu = nn.ReLU()
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        x = self.head_relu(self.head_bn(x))
        return self.classifier(x.mean(dim=(2, 3)))

    def relu_code_sites(self) -> list[nn.Module]:
        """Modules whose output is positive exactly where one of the network's ReLUs is active.

        Every ReLU of this network is an ``nn.ReLU`` module, as in NAS-Bench-201's reference code,
        whose NASWOT implementation hooks each of them.
        """
        return [module for module in self.modules() if isinstance(module, nn.ReLU)]
