"""NAS-Bench-Macro's network with every layer a weighted mixture of its three blocks (DARTS's
relaxation), for gradient search through a weight generator.

Parameter names follow :class:`adwp.spaces.nbmacro.network.NBMacroNet`, with the block of a
mixed layer in the path: ``layers.{i}.ops.{k}`` for block ``k`` of
:data:`adwp.spaces.nbmacro.space.BLOCKS` (0 the identity, which has parameters only where it
projects).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from adwp.spaces.nbmacro.network import ConvBN, InvertedResidual, ProjectingIdentity

__all__ = ["MixedLayer", "MixedNBMacroNet"]


class MixedLayer(nn.Module):
    """One layer holding every block, each with its own weights: ``sum_k w[k] * block_k(x)``.

    Blocks whose weight is exactly zero are skipped, so a one-hot weight costs one block.
    """

    def __init__(
        self, in_ch: int, out_ch: int, stride: int, blocks: Sequence[tuple[int, int] | None]
    ) -> None:
        super().__init__()
        ops: list[nn.Module] = []
        for block in blocks:
            if block is not None:
                ops.append(InvertedResidual(in_ch, out_ch, stride, *block))
            elif stride != 1 or in_ch != out_ch:
                ops.append(ProjectingIdentity(in_ch, out_ch, stride))
            else:
                ops.append(nn.Identity())
        self.ops = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = None
        for weight, op in zip(weights, self.ops, strict=True):
            if bool(weight != 0):
                term = weight * op(x)
                out = term if out is None else out + term
        if out is None:  # every weight zero: the shape the layer would have, and no signal
            return self.ops[-1](x).mul(0.0)
        return out


class MixedNBMacroNet(nn.Module):
    """Stem, eight mixed layers, 1x1 head, pooling and a linear classifier.

    Shapes: ``forward(x [B, C, H, W], weights [8, 3])`` -> logits ``[B, num_classes]``.
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
        self.layers = nn.ModuleList(MixedLayer(i, o, s, blocks) for i, o, s in plan)
        self.head = ConvBN(plan[-1][1], head_channels, 1, 1)
        self.head_relu = nn.ReLU()
        self.classifier = nn.Linear(head_channels, num_classes)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        x = self.stem_relu(self.stem(x))
        for layer, row in zip(self.layers, weights, strict=True):
            x = layer(x, row)
        x = self.head_relu(self.head(x))
        return self.classifier(x.mean(dim=(2, 3)))
