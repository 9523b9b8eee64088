"""Network layers the built-in spaces share."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvBN"]


class ConvBN(nn.Module):
    """Convolution without bias followed by BatchNorm."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))
