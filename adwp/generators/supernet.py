"""SPOS-style weight-sharing supernet, the main baseline of the hypernetwork.

One weight tensor of the largest shape per weight slot of the space; an
architecture uses the first ``C_out`` x ``C_in`` channels and the centre ``k x k`` window.
Trained on exact single paths, drawn by the same sampler (sandwich by default), by the same
:class:`~adwp.generators.training.Trainer` (same steps, images and BatchNorm handling as the
hypernetwork) and scored by the same :class:`~adwp.ranking.evaluator.Evaluator`; it has the
hypernetwork's call signature so the two are interchangeable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from adwp.registry import GENERATORS
from adwp.spaces.protocol import Cut

__all__ = ["SuperNet"]


def _kaiming(out_ch: int, in_ch: int, k: int) -> nn.Parameter:
    return nn.Parameter(torch.randn(out_ch, in_ch, k, k) * math.sqrt(2.0 / (in_ch * k * k)))


@GENERATORS.register("supernet")
class SuperNet(nn.Module):
    """Shared max-shape weights sliced per architecture.

    Parameter names follow the space's weight slots: slots that read a token are
    ``kernels.{i}``, ``gammas.{i}`` and ``betas.{i}`` in slot order, other conv slots
    ``{name}``, ``{name}_gamma`` and ``{name}_beta``, and the linear slot ``classifier`` and
    ``classifier_bias``.

    Args:
        space: A :class:`adwp.spaces.GeneratorSpace` (e.g. ``macro``).
        config: Ignored; accepted so the trainer builds every weight generator the same way.
    """

    def __init__(self, space: Any, config: Any = None) -> None:
        super().__init__()
        self.space = space
        self.kernels = nn.ParameterList()
        self.gammas = nn.ParameterList()
        self.betas = nn.ParameterList()
        self._parts: dict[tuple[str, str], nn.Parameter] = {}
        for slot in space.weight_slots():
            if slot.kind == "linear":
                out_max, in_max = slot.shape
                self.classifier = nn.Parameter(torch.randn(out_max, in_max) / math.sqrt(in_max))
                self.classifier_bias = nn.Parameter(torch.zeros(out_max))
                self._parts[slot.name, "weight"] = self.classifier
                self._parts[slot.name, "bias"] = self.classifier_bias
                continue
            out_max, in_max, k_max, _ = slot.shape
            kernel = _kaiming(out_max, in_max, k_max)
            gamma, beta = nn.Parameter(torch.ones(out_max)), nn.Parameter(torch.zeros(out_max))
            if slot.token is None:
                self.register_parameter(slot.name, kernel)
                self.register_parameter(f"{slot.name}_gamma", gamma)
                self.register_parameter(f"{slot.name}_beta", beta)
            else:
                self.kernels.append(kernel)
                self.gammas.append(gamma)
                self.betas.append(beta)
            self._parts.update(
                {
                    (slot.name, "kernel"): kernel,
                    (slot.name, "gamma"): gamma,
                    (slot.name, "beta"): beta,
                }
            )

    def compilable_parts(self) -> list[nn.Module]:
        """None: the supernet only slices its weights, which leaves nothing to compile."""
        return []

    def forward(
        self, encoding: torch.Tensor | None, archs: Sequence[Any]
    ) -> list[dict[str, torch.Tensor]]:
        """Slices every architecture's weights out of the shared ones.

        Args:
            encoding: Ignored (the supernet does not look at the architecture as a whole).
            archs: Architectures of the space.

        Returns:
            One weight dict per architecture, keyed like ``space.build(arch)``'s parameters.
        """
        return self.emit(encoding, [self.space.weight_plan(arch) for arch in archs])

    def emit(
        self, encoding: torch.Tensor | None, plans: Sequence[Mapping[str, Cut]]
    ) -> list[dict[str, torch.Tensor]]:
        """Slices the parameters each weight plan names out of the shared weights.

        Args:
            encoding: Ignored.
            plans: Maps of parameter names to the cut of a slot they take (e.g.
                ``space.weight_plan(arch)`` or ``space.mixed_weight_plan()``).

        Returns:
            One weight dict per plan.
        """
        return [
            {name: cut.take(self._parts[cut.slot, cut.part]) for name, cut in plan.items()}
            for plan in plans
        ]
