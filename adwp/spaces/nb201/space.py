"""The ``nb201`` search space: NAS-Bench-201's cell space and network.

The network is NAS-Bench-201's ``TinyNetwork``: a 3x3 stem convolution with BatchNorm, then three
stages of ``cells_per_stage`` cells at ``channels``, ``2 * channels`` and ``4 * channels``,
separated by residual reduction blocks (stride 2), then BatchNorm, ReLU, global average pooling and
a linear classifier. Every cell shares one genotype: a 4-node DAG whose six edges each carry one of
five operations, so the space holds ``5 ** 6 = 15,625`` architectures.

Its architectures are :class:`~adwp.spaces.nb201.cell.CellArchitecture` cells.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from adwp._checks import is_integer
from adwp.errors import ArchitectureError
from adwp.spaces._registry import parse_in_space, register_space
from adwp.spaces._shared import SpaceMethods
from adwp.spaces.nb201.cell import (
    ALLOWED,
    CONV_KERNELS,
    EDGES,
    ENCODING,
    NUM_NODES,
    OPERATIONS,
    CellArchitecture,
    edge_name,
)
from adwp.spaces.protocol import Cut, Decision, DecisionGroup, WeightSlot

__all__ = [
    "NB201Space",
]


@register_space("nb201")
class NB201Space(SpaceMethods):
    """NAS-Bench-201's search space: one shared cell, six edges, five operations per edge.

    The architecture (and its string) does not depend on the options: they only size the network.
    Isomorphic cells are distinct architectures, so :meth:`size` is ``15,625`` as in
    NAS-Bench-201's tables.

    Args:
        in_channels: Image channels of the data set.
        num_classes: Classes of the data set.
        image_size: Height (= width) of the input images, used for FLOPs; a multiple of 4, because
            each reduction block adds a stride-2 branch to a 2x2 average-pooled shortcut.
        channels: Channels of the first stage (``C``; the others have ``2C`` and ``4C``).
        cells_per_stage: Cells in each of the three stages (``N``).
    """

    name = "nb201"

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        image_size: int = 32,
        channels: int = 16,
        cells_per_stage: int = 5,
    ) -> None:
        for name, value in (
            ("in_channels", in_channels),
            ("num_classes", num_classes),
            ("image_size", image_size),
            ("channels", channels),
            ("cells_per_stage", cells_per_stage),
        ):
            if not is_integer(value) or value < 1:
                raise ArchitectureError(f"{name} must be a positive integer, got {value!r}")
        if image_size % 4:
            raise ArchitectureError(
                f"image_size must be a multiple of 4 (two stride-2 reductions), got {image_size}"
            )
        self.in_channels = int(in_channels)
        self.num_classes = int(num_classes)
        self.image_size = int(image_size)
        self.channels = int(channels)
        self.cells_per_stage = int(cells_per_stage)

    # -- description -------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """Returns the constructor options as JSON-ready primitives (stored in checkpoints)."""
        return {
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "image_size": self.image_size,
            "channels": self.channels,
            "cells_per_stage": self.cells_per_stage,
        }

    def choices(self) -> dict[str, list[str]]:
        """Returns the allowed operations of every edge, keyed ``"0->1"`` ... ``"2->3"``.

        Every decision is always active: a cell always has all six edges.
        """
        return {edge_name(edge): list(OPERATIONS) for edge in range(len(EDGES))}

    def decisions(self) -> tuple[Decision, ...]:
        """Returns one always-active decision per edge, named ``"0->1"`` ... ``"2->3"`` in
        :data:`EDGES` order, each choosing among :data:`OPERATIONS`."""
        return tuple(Decision(edge_name(edge), OPERATIONS) for edge in range(len(EDGES)))

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({options})"

    # -- membership ---------------------------------------------------------------------------
    def validate(self, arch: CellArchitecture | str) -> CellArchitecture:
        """Checks that an architecture belongs to this space.

        Args:
            arch: A cell or its NAS-Bench-201 string.

        Returns:
            The cell (parsed if a string was given).

        Raises:
            ArchitectureError: Naming the malformed part of the string, or the offending edge and
                the allowed operations.
        """
        if isinstance(arch, str):
            return parse_in_space(arch, CellArchitecture.from_string, self)
        if not isinstance(arch, CellArchitecture):
            raise ArchitectureError(
                f"expected a CellArchitecture or NB201 string, got {type(arch).__name__}"
            )
        return arch

    # -- counting, sampling, enumeration ----------------------------------------------------
    def size(self) -> int:
        """Returns the exact number of architectures in the space (``15,625``)."""
        return len(OPERATIONS) ** len(EDGES)

    def sample(self, rng: np.random.Generator) -> CellArchitecture:
        """Draws an architecture uniformly (every edge's operation independently and uniformly).

        Args:
            rng: Source of randomness (``np.random.default_rng(seed)``).

        Returns:
            A cell of the space.
        """
        codes = rng.integers(len(OPERATIONS), size=len(EDGES))
        return CellArchitecture(tuple(OPERATIONS[int(c)] for c in codes))

    def enumerate(self) -> Iterator[CellArchitecture]:
        """Yields every architecture once, in a fixed order.

        The order is that of the genotypes: edge ``0->1`` varies slowest, ``2->3`` fastest, each
        through :data:`OPERATIONS` in order.
        """
        for ops in itertools.product(OPERATIONS, repeat=len(EDGES)):
            yield CellArchitecture(ops)

    def genotype(self, arch: CellArchitecture | str) -> tuple[int, ...]:
        """Returns the operation codes (indices into :data:`OPERATIONS`) of the six edges."""
        arch = self.validate(arch)
        return tuple(ENCODING[op] for op in arch.ops)

    def from_genotype(self, codes: Sequence[int]) -> CellArchitecture:
        """Builds the cell of six operation codes; the inverse of :meth:`genotype`.

        Raises:
            ArchitectureError: If there are not six codes or one is out of range.
        """
        codes = list(codes)
        if len(codes) != len(EDGES):
            raise ArchitectureError(f"genotype has {len(codes)} codes, expected {len(EDGES)}")
        for edge, code in enumerate(codes):
            if not is_integer(code) or not 0 <= code < len(OPERATIONS):
                raise ArchitectureError(
                    f"edge {edge_name(edge)}: code {code!r} not in 0..{len(OPERATIONS) - 1} "
                    f"({ALLOWED})"
                )
        return CellArchitecture(tuple(OPERATIONS[int(c)] for c in codes))

    def isomorphism_key(self, arch: CellArchitecture | str) -> str:
        """Returns NAS-Bench-201's ``UniqueString`` of a cell: equal keys, equal computations.

        The key is NB201's own (``Structure.to_unique_str(consider_zero=True)``): each node is the
        sorted sum of its inputs' terms, a ``skip_connect`` passes its source's term on, a ``none``
        edge (or an edge from a node that is always zero) contributes ``#``. The 15,625 cells
        have 6,466 keys, the distinct computations of the table's ``UniqueString`` column.
        """
        arch = self.validate(arch)
        terms = {0: "0"}
        for node in range(1, NUM_NODES):
            parts = []
            for (source, target), op in zip(EDGES, arch.ops):
                if target != node:
                    continue
                if op == "none" or terms[source] == "#":
                    parts.append("#")
                elif op == "skip_connect":
                    parts.append(terms[source])
                else:
                    parts.append(f"({terms[source]})@{op}")
            terms[node] = "+".join(sorted(parts))
        return terms[NUM_NODES - 1]

    def smallest(self) -> CellArchitecture:
        """Returns the architecture with the fewest parameters (and FLOPs): every edge ``none``.

        Parameter-free edges (``none``, ``skip_connect``, ``avg_pool_3x3``) tie; of those the
        first in :meth:`enumerate` order is returned.
        """
        return CellArchitecture((OPERATIONS[0],) * len(EDGES))

    def largest(self) -> CellArchitecture:
        """Returns the architecture with the most parameters and FLOPs: every edge 3x3 conv."""
        return CellArchitecture(("nor_conv_3x3",) * len(EDGES))

    # -- network shape --------------------------------------------------------------------
    def _stages(self) -> list[tuple[int, int]]:
        """Returns ``(channels, feature-map side)`` of the cells of each stage."""
        return [(self.channels * 2**s, self.image_size // 2**s) for s in range(3)]

    def params(self, arch: CellArchitecture | str) -> int:
        """Returns the exact number of trainable parameters of ``build(arch)``.

        Counts every parameter as NAS-Bench-201 does: conv kernels (no bias), BatchNorm scale and
        shift, the reduction blocks' shortcut convolutions and the classifier's weight and bias.
        """
        arch = self.validate(arch)
        total = self.in_channels * self.channels * 9 + 2 * self.channels
        previous = self.channels
        for width, _ in self._stages():
            if width != previous:
                # conv_a (3x3, stride 2) + BN, conv_b (3x3) + BN, 1x1 shortcut conv.
                total += 9 * previous * width + 9 * width * width + 4 * width + previous * width
            for op in arch.ops:
                if op in CONV_KERNELS:
                    kernel = CONV_KERNELS[op]
                    total += self.cells_per_stage * (kernel * kernel * width * width + 2 * width)
            previous = width
        return total + 2 * previous + previous * self.num_classes + self.num_classes

    def flops(self, arch: CellArchitecture | str) -> int:
        """Returns multiply-accumulates of the convolutions and the classifier for one image.

        Counted as NAS-Bench-201 counts them: every convolution's ``k * k * C_in * C_out * H * W``
        plus the classifier's ``in * out + out`` (its bias); BatchNorm, ReLU, pooling and
        additions are not counted.
        """
        arch = self.validate(arch)
        total = self.in_channels * self.channels * 9 * self.image_size**2
        previous = self.channels
        for width, side in self._stages():
            if width != previous:
                per_pixel = 9 * previous * width + 9 * width * width + previous * width
                total += per_pixel * side * side
            for op in arch.ops:
                if op in CONV_KERNELS:
                    kernel = CONV_KERNELS[op]
                    total += self.cells_per_stage * kernel * kernel * width * width * side * side
            previous = width
        return total + previous * self.num_classes + self.num_classes

    # -- what the weight generators read (the GeneratorSpace protocol) ------------------------
    def decision_groups(self) -> tuple[DecisionGroup, ...]:
        """Returns one group, ``edges`` ``[B, 6, len(OPERATIONS)]``."""
        return (DecisionGroup("edges", tuple(range(len(EDGES))), len(OPERATIONS)),)

    def num_tokens(self) -> int:
        """Returns one token per edge of every cell: ``3 * cells_per_stage * 6``, cell-major."""
        return 3 * self.cells_per_stage * len(EDGES)

    def token_features(self) -> int:
        """Returns ``1 + len(OPERATIONS)``: presence (always 1), then the edge's probabilities."""
        return 1 + len(OPERATIONS)

    def encode(self, probabilities: Sequence[Any]) -> Any:
        """Returns the tokens ``[B, 3 * N * 6, 6]``: every cell repeats the shared cell's edges
        (the hypernetwork's position embeddings tell the cells apart)."""
        import torch  # torch is imported only when encodings are built

        (edges,) = probabilities
        tokens = torch.cat([torch.ones_like(edges[..., :1]), edges], dim=-1)
        return tokens.repeat(1, 3 * self.cells_per_stage, 1)

    def weight_slots(self) -> tuple[WeightSlot, ...]:
        """Returns ``cell{c}_edge{e}`` per edge of every cell (reading its token), then
        ``stem``, ``reduction{r}_a``, ``_b`` and ``_shortcut``, ``head`` (its BatchNorm only)
        and ``classifier``, which read the global embedding."""
        n = self.cells_per_stage
        slots = [
            WeightSlot(f"cell{c}_edge{e}", "conv", (width, width, 3, 3), token=c * len(EDGES) + e)
            for c, width in enumerate(w for w, _ in self._stages() for _ in range(n))
            for e in range(len(EDGES))
        ]
        slots.append(WeightSlot("stem", "conv", (self.channels, self.in_channels, 3, 3)))
        for r in range(2):
            narrow = self.channels * 2**r
            wide = 2 * narrow
            slots.append(WeightSlot(f"reduction{r}_a", "conv", (wide, narrow, 3, 3)))
            slots.append(WeightSlot(f"reduction{r}_b", "conv", (wide, wide, 3, 3)))
            slots.append(WeightSlot(f"reduction{r}_shortcut", "conv", (wide, narrow, 1, 1)))
        last = self.channels * 4
        slots.append(WeightSlot("head", "conv", (last, 1, 1, 1)))
        slots.append(WeightSlot("classifier", "linear", (self.num_classes, last)))
        return tuple(slots)

    def weight_plan(self, arch: CellArchitecture | str) -> dict[str, Cut]:
        """Returns the cut of every parameter of ``build(arch)`` (see :class:`NB201Net`)."""
        arch = self.validate(arch)

        def conv_bn(prefix: str, slot: str, shape: tuple[int, ...]) -> dict[str, Cut]:
            return {
                f"{prefix}.conv.weight": Cut(slot, "kernel", shape),
                f"{prefix}.bn.weight": Cut(slot, "gamma", shape[:1]),
                f"{prefix}.bn.bias": Cut(slot, "beta", shape[:1]),
            }

        cuts = conv_bn("stem", "stem", (self.channels, self.in_channels, 3, 3))
        module, cell = 0, 0
        for stage, (width, _) in enumerate(self._stages()):
            if stage > 0:
                r, narrow = stage - 1, width // 2
                prefix = f"cells.{module}"
                cuts |= conv_bn(f"{prefix}.conv_a", f"reduction{r}_a", (width, narrow, 3, 3))
                cuts |= conv_bn(f"{prefix}.conv_b", f"reduction{r}_b", (width, width, 3, 3))
                cuts[f"{prefix}.shortcut.weight"] = Cut(
                    f"reduction{r}_shortcut", "kernel", (width, narrow, 1, 1)
                )
                module += 1
            for _ in range(self.cells_per_stage):
                for e, op in enumerate(arch.ops):
                    if op in CONV_KERNELS:
                        k = CONV_KERNELS[op]
                        cuts |= conv_bn(
                            f"cells.{module}.edges.{e}", f"cell{cell}_edge{e}", (width, width, k, k)
                        )
                module += 1
                cell += 1
        last = self.channels * 4
        cuts["head_bn.weight"] = Cut("head", "gamma", (last,))
        cuts["head_bn.bias"] = Cut("head", "beta", (last,))
        cuts["classifier.weight"] = Cut("classifier", "weight", (self.num_classes, last))
        cuts["classifier.bias"] = Cut("classifier", "bias", (self.num_classes,))
        return cuts

    def mixed_shape(self) -> tuple[int, int]:
        """Returns ``(decisions, choices)`` of the relaxed network: 6 edges x 5 operations."""
        return len(EDGES), len(OPERATIONS)

    def build_mixed(self) -> Any:
        """Builds the relaxed network of differentiable search (randomly initialised).

        Returns:
            A :class:`adwp.spaces.nb201.mixed.MixedNB201Net`: ``forward(x, weights)`` with
            ``weights`` of shape :meth:`mixed_shape` (shared by every cell) or
            ``[cells, 6, 5]``; each edge outputs the weighted sum of all its operations.
        """
        from adwp.spaces.nb201.mixed import MixedNB201Net

        return MixedNB201Net(
            self.in_channels, self.channels, self.cells_per_stage, self.num_classes
        )

    def mixed_weight_plan(self) -> dict[str, Cut]:
        """Returns the cut of every parameter of :meth:`build_mixed`'s network.

        Operation ``k`` of a mixed edge takes the cut it takes in a plain network (a 1x1
        convolution the centre of its edge's 3x3 slot), so a weight generator emits all of an
        edge's operations from one encoding.
        """
        cuts: dict[str, Cut] = {}
        for k, op in enumerate(OPERATIONS):
            for name, cut in self.weight_plan(CellArchitecture((op,) * len(EDGES))).items():
                path = name.split(".")
                if path[0] == "cells" and path[2] == "edges":
                    # cells.{i}.edges.{e}.conv.weight -> cells.{i}.edges.{e}.ops.{k}.conv.weight
                    path[4:4] = ["ops", str(k)]
                cuts[".".join(path)] = cut
        return cuts

    def build(self, arch: CellArchitecture | str) -> Any:
        """Builds the plain PyTorch network of an architecture (randomly initialised).

        Args:
            arch: A cell of this space or its string.

        Returns:
            A :class:`adwp.spaces.nb201.network.NB201Net` (an ``nn.Module``) mapping
            ``[B, in_channels, H, W]`` images to ``[B, num_classes]`` logits.
        """
        from adwp.spaces.nb201.network import NB201Net  # torch only when networks are built

        return NB201Net(
            self.validate(arch).ops,
            self.in_channels,
            self.channels,
            self.cells_per_stage,
            self.num_classes,
        )
