"""The plain PyTorch network of an ``nbmacro`` architecture (NAS-Bench-Macro's network).

Parameter names: ``stem.conv.weight``, ``stem.bn.{weight,bias}``; ``layers.{i}`` for the eight
searchable layers, an inverted-residual block with ``expand``, ``depthwise`` and ``project``
(each ``.conv.weight`` and ``.bn.{weight,bias}``), a projecting identity with ``.conv.weight`` and
``.bn.{weight,bias}``, a plain identity with none; ``head.conv.weight``, ``head.bn.{weight,bias}``
and ``classifier.{weight,bias}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ConvBN", "InvertedResidual", "NBMacroNet", "ProjectingIdentity"]


class ConvBN(nn.Module):
    """Convolution without bias, then BatchNorm; ``groups == in_ch`` makes it depthwise."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_ch, out_ch, kernel, stride, padding=kernel // 2, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expansion, depthwise ``k x k`` (the layer's stride), 1x1
    projection, each with BatchNorm; ReLU after the first two; the input added where the shapes
    allow (stride 1 and ``in_ch == out_ch``)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int, kernel: int) -> None:
        super().__init__()
        hidden = in_ch * expansion
        self.expand = ConvBN(in_ch, hidden, 1, 1)
        # Modules, not functional calls: activation-based proxies hook every nn.ReLU.
        self.expand_relu = nn.ReLU()
        self.depthwise = ConvBN(hidden, hidden, kernel, stride, groups=hidden)
        self.depthwise_relu = nn.ReLU()
        self.project = ConvBN(hidden, out_ch, 1, 1)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand_relu(self.expand(x))
        out = self.depthwise_relu(self.depthwise(out))
        out = self.project(out)
        return out + x if self.residual else out


class ProjectingIdentity(ConvBN):
    """The identity choice where the layer has stride 2 or changes channels: 1x1 conv + BN."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__(in_ch, out_ch, 1, stride)


class NBMacroNet(nn.Module):
    """Stem, eight searchable layers in three stages, 1x1 head, pooling and a linear classifier.

    Args:
        blocks: Per layer ``None`` (identity) or ``(expansion, kernel)``.
        plan: Per layer ``(in_channels, out_channels, stride)``.
        in_channels: Image channels.
        stem_channels: Stem output channels.
        head_channels: Width of the 1x1 head convolution.
        num_classes: Classifier outputs.
    """

    def __init__(
        self,
        blocks: Sequence[tuple[int, int] | None],
        plan: Sequence[tuple[int, int, int]],
        in_channels: int,
        stem_channels: int,
        head_channels: int,
        num_classes: int,
    ) -> None:
        super().__init__()
        self.stem = ConvBN(in_channels, stem_channels, 3, 1)
        self.stem_relu = nn.ReLU()
        layers: list[nn.Module] = []
        for block, (in_ch, out_ch, stride) in zip(blocks, plan, strict=True):
            if block is not None:
                layers.append(InvertedResidual(in_ch, out_ch, stride, *block))
            elif stride != 1 or in_ch != out_ch:
                layers.append(ProjectingIdentity(in_ch, out_ch, stride))
            else:
                layers.append(nn.Identity())
        self.layers = nn.ModuleList(layers)
        self.head = ConvBN(plan[-1][1], head_channels, 1, 1)
        self.head_relu = nn.ReLU()
        self.classifier = nn.Linear(head_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem_relu(self.stem(x))
        for layer in self.layers:
            x = layer(x)
        x = self.head_relu(self.head(x))
        return self.classifier(x.mean(dim=(2, 3)))

    def relu_code_sites(self) -> list[nn.Module]:
        """Modules whose output is positive exactly where one of the network's ReLUs is active:
        every ReLU is an ``nn.ReLU`` module."""
        return [module for module in self.modules() if isinstance(module, nn.ReLU)]
