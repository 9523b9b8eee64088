"""``nbmacro-assignment``: NAS-Bench-Macro's layer assignments, the region of ``nbmacro`` that the
layer-assignment search walks.

Depth is the number of non-identity layers; an assignment is how many each stage gets (0-2, 0-3,
0-3), every one of them the same block. A stage of ``d`` blocks holds them in its first ``d``
layers and identities after them, the canonical form of every equivalent string, so each
assignment is one distinct NAS-Bench-Macro network and one row of its table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from adwp._checks import is_integer
from adwp.errors import ArchitectureError
from adwp.spaces._registry import register_space
from adwp.spaces._shared import AssignmentMethods, SpaceMethods
from adwp.spaces.nbmacro.space import BLOCKS, STAGE_LAYERS, NBMacroArchitecture, NBMacroSpace
from adwp.spaces.protocol import Decision

__all__ = ["NBMacroAssignmentSpace"]

_HIGHEST = sum(STAGE_LAYERS)


def _block_code(block: Any) -> int:
    """The digit of a block given by name or digit; identity is not a block to assign."""
    names = {name: code for code, name in enumerate(BLOCKS) if code}
    if isinstance(block, str) and block in names:
        return names[block]
    if (is_integer(block) or (isinstance(block, str) and block.isdigit())) and int(block) in set(
        names.values()
    ):
        return int(block)
    allowed = ", ".join(f"{name} ({code})" for name, code in names.items())
    raise ArchitectureError(f"block must be one of {allowed}, got {block!r}")


@register_space(
    "nbmacro-assignment",
    description="NAS-Bench-Macro's layer assignments: blocks per stage, one block type",
    region_of=("nbmacro",),
)
class NBMacroAssignmentSpace(AssignmentMethods, SpaceMethods):
    """NAS-Bench-Macro networks whose stages hold ``d`` blocks of one type, then identities.

    Args:
        in_channels: Image channels of the data set.
        num_classes: Classes of the data set.
        image_size: Height (= width) of the input images; a multiple of 8.
        stem_channels: Stem output channels (NAS-Bench-Macro: 32).
        channels: Channels of the three stages (NAS-Bench-Macro: 64, 128, 256).
        head_channels: Width of the head convolution (NAS-Bench-Macro: 1280).
        block: The block of every non-identity layer: ``mbconv_t6_k5`` (digit 2) or
            ``mbconv_t3_k3`` (digit 1).
        min_total_depth: Fewest blocks in all (default 0).
        max_total_depth: Most blocks in all (default 8).

    Raises:
        ArchitectureError: If an option is out of range (naming what is allowed).
    """

    name = "nbmacro-assignment"

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        image_size: int = 32,
        stem_channels: int = 32,
        channels: Sequence[int] = (64, 128, 256),
        head_channels: int = 1280,
        block: str = "mbconv_t6_k5",
        min_total_depth: int | None = None,
        max_total_depth: int | None = None,
    ) -> None:
        self.network = NBMacroSpace(
            in_channels, num_classes, image_size, stem_channels, channels, head_channels
        )
        self.in_channels = self.network.in_channels
        self.num_classes = self.network.num_classes
        self.image_size = self.network.image_size
        self.code = _block_code(block)
        self.block = BLOCKS[self.code]
        self.min_total_depth = 0 if min_total_depth is None else int(min_total_depth)
        self.max_total_depth = _HIGHEST if max_total_depth is None else int(max_total_depth)
        if not 0 <= self.min_total_depth <= self.max_total_depth <= _HIGHEST:
            raise ArchitectureError(
                f"total depth range [{min_total_depth}, {max_total_depth}] must lie within "
                f"[0, {_HIGHEST}]"
            )

    def config(self) -> dict[str, Any]:
        """Returns the constructor options as JSON-ready primitives."""
        return {
            **self.network.config(),
            "block": self.block,
            "min_total_depth": self.min_total_depth,
            "max_total_depth": self.max_total_depth,
        }

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({options})"

    # -- assignments ---------------------------------------------------------------------------
    def stage_depths(self) -> tuple[tuple[int, ...], ...]:
        """The allowed blocks of each stage: 0-2, 0-3, 0-3."""
        return tuple(tuple(range(count + 1)) for count in STAGE_LAYERS)

    def assignments(self, total_depth: int | None = None) -> list[tuple[int, ...]]:
        """Every per-stage block count within the total-depth range, optionally of one total."""
        return [
            depths
            for depths in itertools.product(*self.stage_depths())
            if self.min_total_depth <= sum(depths) <= self.max_total_depth
            and (total_depth is None or sum(depths) == total_depth)
        ]

    def from_depths(self, depths: Sequence[int]) -> NBMacroArchitecture:
        """The network with ``depths[s]`` blocks at the start of stage ``s``."""
        if len(depths) != len(STAGE_LAYERS) or not all(is_integer(d) for d in depths):
            raise ArchitectureError(
                f"an assignment is {len(STAGE_LAYERS)} block counts, got {list(depths)!r}"
            )
        codes = [
            self.code if layer < int(d) else 0
            for d, count in zip(depths, STAGE_LAYERS)
            for layer in range(count)
        ]
        return self.validate(NBMacroArchitecture(tuple(codes)))

    def depths_of(self, arch: NBMacroArchitecture | str) -> tuple[int, ...]:
        """The blocks per stage of an architecture of the space."""
        codes = self.validate(arch).codes
        starts = np.cumsum((0, *STAGE_LAYERS[:-1]))
        return tuple(sum(c != 0 for c in codes[s : s + n]) for s, n in zip(starts, STAGE_LAYERS))

    # -- the space contract ---------------------------------------------------------------------
    def choices(self) -> dict[str, list[Any]]:
        """The allowed blocks per stage and the total-depth range."""
        per_stage = {f"stage{s}_blocks": list(d) for s, d in enumerate(self.stage_depths())}
        return {**per_stage, "total_depth": [self.min_total_depth, self.max_total_depth]}

    def decisions(self) -> tuple[Decision, ...]:
        """One decision per stage: its number of blocks."""
        return tuple(Decision(f"stage{s}_blocks", d) for s, d in enumerate(self.stage_depths()))

    def validate(self, arch: NBMacroArchitecture | str) -> NBMacroArchitecture:
        """Checks that an architecture is an assignment of this space.

        Raises:
            ArchitectureError: Naming what is wrong.
        """
        arch = self.network.validate(arch)
        starts = np.cumsum((0, *STAGE_LAYERS[:-1]))
        total = 0
        for stage, (start, count) in enumerate(zip(starts, STAGE_LAYERS)):
            codes = arch.codes[start : start + count]
            blocks = sum(c != 0 for c in codes)
            if codes != (self.code,) * blocks + (0,) * (count - blocks):
                raise ArchitectureError(
                    f"{arch}: stage {stage} is not {self.block} blocks (digit {self.code}) "
                    "followed by identities"
                )
            total += blocks
        if not self.min_total_depth <= total <= self.max_total_depth:
            raise ArchitectureError(
                f"{arch}: {total} blocks, allowed {self.min_total_depth}..{self.max_total_depth}"
            )
        return arch

    def genotype(self, arch: NBMacroArchitecture | str) -> tuple[int, ...]:
        """The blocks per stage (each decision's choice index is its count)."""
        return self.depths_of(arch)

    def from_genotype(self, genotype: Sequence[int]) -> NBMacroArchitecture:
        """The architecture of per-stage block counts; the inverse of :meth:`genotype`."""
        return self.from_depths(genotype)

    def smallest(self) -> NBMacroArchitecture:
        """The assignment with the fewest blocks, earliest stages first."""
        return self._extreme(min)

    def largest(self) -> NBMacroArchitecture:
        """The assignment with the most blocks, latest stages first (wider stages, more
        parameters)."""
        return self._extreme(max)

    def _extreme(self, pick: Any) -> NBMacroArchitecture:
        return pick(self.enumerate(), key=self.network.params)

    def params(self, arch: NBMacroArchitecture | str) -> int:
        """Trainable parameters of the network."""
        return self.network.params(self.validate(arch))

    def flops(self, arch: NBMacroArchitecture | str) -> int:
        """Multiply-accumulates of one forward pass, as NAS-Bench-Macro counts them."""
        return self.network.flops(self.validate(arch))

    def build(self, arch: NBMacroArchitecture | str) -> Any:
        """The network as a plain ``nn.Module``."""
        return self.network.build(self.validate(arch))
