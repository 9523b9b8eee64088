"""The ``layer-assignment`` search space: the sub-space of ``macro`` in which only the per-stage
depths vary (total depth in a range); every layer is a 3x3, full-width residual layer. Every such
architecture is also a ``macro`` architecture, so one hypernetwork trained on ``macro`` scores
both."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from adwp.errors import ArchitectureError
from adwp.spaces._registry import register_space
from adwp.spaces._shared import AssignmentMethods
from adwp.spaces.macro.architecture import Architecture, Layer
from adwp.spaces.macro.space import MacroSpace

__all__ = ["LayerAssignmentSpace"]


@register_space(
    "layer-assignment",
    description="macro with only the layers per stage searched",
    region_of=("macro",),
)
class LayerAssignmentSpace(AssignmentMethods, MacroSpace):
    """Sub-space of ``macro`` where only the number of layers per stage varies.

    Every layer is a 3x3, full-width residual layer; the total depth is limited to
    ``[min_total_depth, max_total_depth]``.

    Args:
        in_channels: Image channels of the data set.
        num_classes: Classes of the data set.
        image_size: Input height (= width).
        base_widths: Full width of each stage.
        depths: Allowed layers per stage.
        min_total_depth: Smallest total number of layers (default: one per stage).
        max_total_depth: Largest total number of layers (default: all stages at max depth).
    """

    name = "layer-assignment"
    fixed_layer = Layer(3, 1.0, True)

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        base_widths: Sequence[int] = (16, 32, 64),
        depths: Sequence[int] = (1, 2, 3, 4),
        min_total_depth: int | None = None,
        max_total_depth: int | None = None,
    ) -> None:
        super().__init__(
            in_channels, num_classes, image_size, base_widths, depths, (3,), (1.0,), (True,)
        )
        lowest, highest = self.depths[0] * self.num_stages, self.max_depth * self.num_stages
        self.min_total_depth = lowest if min_total_depth is None else int(min_total_depth)
        self.max_total_depth = highest if max_total_depth is None else int(max_total_depth)
        if not lowest <= self.min_total_depth <= self.max_total_depth <= highest:
            raise ArchitectureError(
                f"total depth range [{min_total_depth}, {max_total_depth}] must lie within "
                f"[{lowest}, {highest}]"
            )

    def config(self) -> dict[str, Any]:
        """Returns the constructor options as JSON-ready primitives."""
        # The macro options but the fixed per-layer choices, in the same order.
        fixed = ("kernels", "widths", "skips")
        shared = {k: v for k, v in super().config().items() if k not in fixed}
        return {
            **shared,
            "min_total_depth": self.min_total_depth,
            "max_total_depth": self.max_total_depth,
        }

    def stage_depths(self) -> tuple[tuple[int, ...], ...]:
        """The allowed layers of each stage: ``depths`` for every one."""
        return (tuple(self.depths),) * self.num_stages

    def depths_of(self, arch: Architecture | str) -> tuple[int, ...]:
        """The layers per stage of an architecture of the space."""
        return tuple(self.validate(arch).depths)

    def choices(self) -> dict[str, list[Any]]:
        """Returns the allowed values of every decision."""
        return {
            "depth": list(self.depths),
            "total_depth": [self.min_total_depth, self.max_total_depth],
        }

    def assignments(self, total_depth: int | None = None) -> list[tuple[int, ...]]:
        """Returns every allowed per-stage depth tuple, optionally of one total depth."""
        out = []
        for depths in itertools.product(self.depths, repeat=self.num_stages):
            total = sum(depths)
            if total_depth is not None and total != total_depth:
                continue
            if self.min_total_depth <= total <= self.max_total_depth:
                out.append(depths)
        return out

    def from_depths(self, depths: Sequence[int]) -> Architecture:
        """Returns the architecture with the given number of layers per stage."""
        arch = Architecture(tuple((self.fixed_layer,) * int(d) for d in depths))
        return self.validate(arch)

    def validate(self, arch: Architecture | str) -> Architecture:
        """Checks membership; see :meth:`MacroSpace.validate`.

        Raises:
            ArchitectureError: Naming the offending field and the allowed values.
        """
        arch = super().validate(arch)
        total = sum(arch.depths)
        if not self.min_total_depth <= total <= self.max_total_depth:
            raise ArchitectureError(
                f"total depth: got {total}, allowed {self.min_total_depth}..{self.max_total_depth} "
                f"(stage depths {arch.depths} sum to {total})"
            )
        return arch
