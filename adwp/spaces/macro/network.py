"""The plain PyTorch network of a macro-space architecture (used for standalone training).

Parameter names are the contract between the space, the hypernetwork and the functional network:
``stem.conv.weight``, ``stem.bn.{weight,bias}``, ``blocks.{i}.conv.weight``,
``blocks.{i}.bn.{weight,bias}``, ``classifier.{weight,bias}``, with ``i`` the layer's index in the
flattened architecture.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from adwp.spaces._layers import ConvBN

if TYPE_CHECKING:
    from adwp.spaces.macro.architecture import LayerPlan

__all__ = ["ConvBN", "MacroBlock", "MacroNet", "shortcut"]


def shortcut(x: torch.Tensor, out_ch: int, stride: int) -> torch.Tensor:
    """Parameter-free residual shortcut (ResNet "option A").

    Spatial downsampling by average pooling and channel change by zero padding or truncation keep
    every weight of the network in its convolutions, so the hypernetwork has nothing else to emit.

    Args:
        x: Input ``[B, C_in, H, W]``.
        out_ch: Channels the residual branch produces.
        stride: Stride of the residual branch.

    Returns:
        Tensor ``[B, out_ch, ceil(H / stride), ceil(W / stride)]``.
    """
    if stride > 1:
        x = F.avg_pool2d(x, stride, stride, ceil_mode=True)
    in_ch = x.shape[1]
    if out_ch > in_ch:
        x = F.pad(x, (0, 0, 0, 0, 0, out_ch - in_ch))
    elif out_ch < in_ch:
        x = x[:, :out_ch]
    return x


class MacroBlock(nn.Module):
    """Conv-BN, optional residual shortcut, then ReLU."""

    def __init__(self, plan: LayerPlan) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            plan.in_ch, plan.out_ch, plan.kernel, plan.stride, padding=plan.kernel // 2, bias=False
        )
        self.bn = nn.BatchNorm2d(plan.out_ch)
        self.stride = plan.stride
        self.skip = plan.skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn(self.conv(x))
        if self.skip:
            out = out + shortcut(x, out.shape[1], self.stride)
        return F.relu(out)


class MacroNet(nn.Module):
    """Stem, the planned blocks, global average pooling and a linear classifier.

    Args:
        in_channels: Image channels.
        stem_width: Output channels of the fixed 3x3 stem.
        plans: One :class:`LayerPlan` per layer, in order.
        num_classes: Classifier outputs.
    """

    def __init__(
        self, in_channels: int, stem_width: int, plans: Sequence[LayerPlan], num_classes: int
    ) -> None:
        super().__init__()
        self.stem = ConvBN(in_channels, stem_width, 3, 1)
        self.blocks = nn.ModuleList(MacroBlock(plan) for plan in plans)
        self.classifier = nn.Linear(plans[-1].out_ch, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        return self.classifier(x.mean(dim=(2, 3)))

    def relu_code_sites(self) -> list[nn.Module]:
        """Modules whose output is positive exactly where one of the network's ReLUs is active.

        The ReLUs are functional calls: a block's output is post-ReLU, and the stem's pre-ReLU
        output is positive exactly where its ReLU output is.
        """
        return [self.stem, *self.blocks]
