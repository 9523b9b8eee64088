"""SPOS-style weight-sharing supernet, the main baseline of the hypernetwork.

One weight tensor of the largest shape per layer slot (and for the stem and classifier); an
architecture uses the first ``C_out`` x ``C_in`` channels and the centre ``k x k`` window.
Trained on exact single paths, drawn by the same sampler (sandwich by default), by the same
:class:`~adwp.training.Trainer` (same steps, images and BatchNorm handling as the hypernetwork)
and scored by the same :class:`~adwp.evaluator.Evaluator`; it has the hypernetwork's call
signature so the two are interchangeable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from adwp.spaces import Architecture

__all__ = ["SuperNet"]


def _kaiming(out_ch: int, in_ch: int, k: int) -> nn.Parameter:
    return nn.Parameter(torch.randn(out_ch, in_ch, k, k) * math.sqrt(2.0 / (in_ch * k * k)))


def _crop(weight: torch.Tensor, out_ch: int, in_ch: int, k: int) -> torch.Tensor:
    offset = (weight.shape[-1] - k) // 2
    return weight[:out_ch, :in_ch, offset : offset + k, offset : offset + k]


class SuperNet(nn.Module):
    """Shared max-shape weights sliced per architecture.

    Args:
        space: A :class:`adwp.spaces.MacroSpace`.
        config: Ignored; accepted so the trainer builds every weight generator the same way.
    """

    def __init__(self, space: Any, config: Any = None) -> None:
        super().__init__()
        self.space = space
        k_max, w_max = max(space.kernels), max(space.widths)
        self.kernels = nn.ParameterList()
        self.gammas = nn.ParameterList()
        self.betas = nn.ParameterList()
        for out_max, in_max in space.slot_shapes():
            self.kernels.append(_kaiming(out_max, in_max, k_max))
            self.gammas.append(nn.Parameter(torch.ones(out_max)))
            self.betas.append(nn.Parameter(torch.zeros(out_max)))
        self.stem = _kaiming(space.stem_width, space.in_channels, 3)
        self.stem_gamma = nn.Parameter(torch.ones(space.stem_width))
        self.stem_beta = nn.Parameter(torch.zeros(space.stem_width))
        last_max = space.channels(space.num_stages - 1, w_max)
        self.classifier = nn.Parameter(
            torch.randn(space.num_classes, last_max) / math.sqrt(last_max)
        )
        self.classifier_bias = nn.Parameter(torch.zeros(space.num_classes))

    def forward(
        self, encoding: torch.Tensor | None, archs: Sequence[Architecture]
    ) -> list[dict[str, torch.Tensor]]:
        """Slices every architecture's weights out of the shared ones.

        Args:
            encoding: Ignored (the supernet does not look at the architecture as a whole).
            archs: Architectures of the space.

        Returns:
            One weight dict per architecture, keyed like ``space.build(arch)``'s parameters.
        """
        outputs = []
        for arch in archs:
            plan = self.space.plan(arch)
            weights = {
                "stem.conv.weight": self.stem,
                "stem.bn.weight": self.stem_gamma,
                "stem.bn.bias": self.stem_beta,
            }
            for i, layer in enumerate(plan):
                weights[f"blocks.{i}.conv.weight"] = _crop(
                    self.kernels[layer.slot], layer.out_ch, layer.in_ch, layer.kernel
                )
                weights[f"blocks.{i}.bn.weight"] = self.gammas[layer.slot][: layer.out_ch]
                weights[f"blocks.{i}.bn.bias"] = self.betas[layer.slot][: layer.out_ch]
            weights["classifier.weight"] = self.classifier[:, : plan[-1].out_ch]
            weights["classifier.bias"] = self.classifier_bias
            outputs.append(weights)
        return outputs
