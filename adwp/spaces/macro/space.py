"""The ``macro`` search space.

A fixed 3x3 stem, then stages with base widths (16, 32, 64 by default), stride 2 at the first
layer of every stage but the first, 1 to 4 layers per stage, and per layer a kernel size
{3, 5, 7}, a width multiplier {0.5, 0.75, 1.0} and a residual skip {off, on}; Conv-BN-ReLU layers,
global average pooling and a linear classifier.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from adwp._checks import is_integer
from adwp.errors import ArchitectureError
from adwp.spaces._registry import parse_in_space, register_space
from adwp.spaces._shared import SpaceMethods
from adwp.spaces.macro.architecture import Architecture, Layer, LayerPlan
from adwp.spaces.macro.generator_methods import MacroGeneratorMethods
from adwp.spaces.protocol import Decision

__all__ = ["MacroSpace"]

_ENUMERATION_LIMIT = 1_000_000


@register_space("macro")
class MacroSpace(SpaceMethods, MacroGeneratorMethods):
    """Macro search space over stage depths and per-layer kernel, width and skip.

    Args:
        in_channels: Image channels of the data set.
        num_classes: Classes of the data set.
        image_size: Height (= width) of the input images, used for FLOPs.
        base_widths: Full width of each stage; its length is the number of stages.
        depths: Allowed layers per stage.
        kernels: Allowed kernel sizes (odd).
        widths: Allowed width multipliers.
        skips: Allowed residual settings.
    """

    name = "macro"

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        base_widths: Sequence[int] = (16, 32, 64),
        depths: Sequence[int] = (1, 2, 3, 4),
        kernels: Sequence[int] = (3, 5, 7),
        widths: Sequence[float] = (0.5, 0.75, 1.0),
        skips: Sequence[bool] = (False, True),
    ) -> None:
        for name, value in (
            ("in_channels", in_channels),
            ("num_classes", num_classes),
            ("image_size", image_size),
        ):
            if not is_integer(value) or value < 1:
                raise ArchitectureError(f"{name} must be a positive integer, got {value!r}")
        # A string is a sequence too: "16" would become widths 1 and 6.
        for name, value, whole, unique in (
            ("base_widths", base_widths, True, False),
            ("depths", depths, True, True),
            ("kernels", kernels, True, True),
            ("widths", widths, False, True),
            ("skips", skips, False, True),
        ):
            listed = isinstance(value, (Sequence, np.ndarray)) and not isinstance(
                value, str | bytes
            )
            if not listed or len(value) == 0:
                raise ArchitectureError(f"{name} must be a non-empty list, got {value!r}")
            if whole and not all(is_integer(v) and v >= 1 for v in value):
                raise ArchitectureError(f"{name} must be positive integers, got {list(value)}")
            if unique and len(set(value)) != len(value):
                raise ArchitectureError(f"{name} lists a choice twice: {list(value)}")
        if any(k % 2 == 0 for k in kernels):
            raise ArchitectureError(f"kernels must be odd and positive, got {list(kernels)}")
        numbers = (int, float, np.integer, np.floating)
        if not all(isinstance(w, numbers) and not isinstance(w, bool) and w > 0 for w in widths):
            raise ArchitectureError(f"widths must be positive multipliers, got {list(widths)}")
        if not all(s in (0, 1) for s in skips):
            raise ArchitectureError(f"skips must be booleans, got {list(skips)}")
        self.in_channels = int(in_channels)
        self.num_classes = int(num_classes)
        self.image_size = int(image_size)
        self.base_widths = tuple(int(w) for w in base_widths)
        self.depths = tuple(sorted(int(d) for d in depths))
        self.kernels = tuple(sorted(int(k) for k in kernels))
        self.widths = tuple(sorted(float(w) for w in widths))
        self.skips = tuple(sorted(bool(s) for s in skips))
        self._decisions, self._fields = self._build_decisions()

    # -- description -------------------------------------------------------------------------
    @property
    def num_stages(self) -> int:
        """Number of stages."""
        return len(self.base_widths)

    @property
    def max_depth(self) -> int:
        """Largest number of layers in one stage."""
        return self.depths[-1]

    @property
    def num_slots(self) -> int:
        """Layer positions over all stages (``num_stages * max_depth``)."""
        return self.num_stages * self.max_depth

    @property
    def stem_width(self) -> int:
        """Output channels of the fixed stem (the first stage's base width)."""
        return self.base_widths[0]

    def config(self) -> dict[str, Any]:
        """Returns the constructor options as JSON-ready primitives (stored in checkpoints)."""
        return {
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "image_size": self.image_size,
            "base_widths": list(self.base_widths),
            "depths": list(self.depths),
            "kernels": list(self.kernels),
            "widths": list(self.widths),
            "skips": list(self.skips),
        }

    def choices(self) -> dict[str, list[Any]]:
        """Returns the allowed values of every decision."""
        return {
            "depth": list(self.depths),
            "kernel": list(self.kernels),
            "width": list(self.widths),
            "skip": list(self.skips),
        }

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({options})"

    # -- decisions and genotypes ----------------------------------------------------------------
    def _build_decisions(
        self,
    ) -> tuple[tuple[Decision, ...], tuple[tuple[int, int | None, str], ...]]:
        # Searchers' seeded draws depend on this order: every stage's depth, then kernel, width
        # and skip of each of its layer slots; a decision with a single allowed value is fixed,
        # not a decision.
        per_field = {
            "kernel": self.kernels,
            "width": self.widths,
            "skip": self.skips,
        }
        decisions: list[Decision] = []
        fields: list[tuple[int, int | None, str]] = []
        for s in range(self.num_stages):
            depth_index = len(decisions) if len(self.depths) > 1 else None
            if depth_index is not None:
                decisions.append(Decision(f"stage{s}_depth", self.depths))
                fields.append((s, None, "depth"))
            for p in range(self.max_depth):
                # The slot exists once the depth reaches the first allowed depth above p.
                needed = next(j for j, d in enumerate(self.depths) if d > p)
                parent = None if needed == 0 or depth_index is None else (depth_index, needed)
                for field, choices in per_field.items():
                    if len(choices) > 1:
                        decisions.append(Decision(f"stage{s}_layer{p}_{field}", choices, parent))
                        fields.append((s, p, field))
        return tuple(decisions), tuple(fields)

    def decisions(self) -> tuple[Decision, ...]:
        """Returns the categorical decisions, in genotype order.

        For every stage ``s``: ``stage{s}_depth`` (choices :attr:`depths`), then for every layer
        slot ``p`` ``stage{s}_layer{p}_kernel``, ``_width`` and ``_skip``, active only when the
        stage has more than ``p`` layers. A decision with a single allowed value (every per-layer
        one of ``layer-assignment``) is fixed and not listed.
        """
        return self._decisions

    def genotype(self, arch: Architecture | str) -> tuple[int, ...]:
        """Returns the choice index of every decision (0 for slots past a stage's depth).

        Raises:
            ArchitectureError: If ``arch`` is not in the space.
        """
        arch = self.validate(arch)
        out = []
        for decision, (stage, position, field) in zip(self._decisions, self._fields, strict=True):
            if field == "depth":
                out.append(decision.choices.index(len(arch.stages[stage])))
            elif position < len(arch.stages[stage]):
                value = getattr(arch.stages[stage][position], field)
                choices = decision.choices
                # Widths are floats: the nearest allowed one is the one validate matched.
                out.append(min(range(len(choices)), key=lambda j: abs(choices[j] - value)))
            else:
                out.append(0)
        return tuple(out)

    def from_genotype(self, genotype: Sequence[int]) -> Architecture:
        """Returns the architecture of a genotype; the inverse of :meth:`genotype`.

        Indices of inactive decisions are checked for range but otherwise ignored.

        Raises:
            ArchitectureError: If the length or an index is wrong, or the architecture is not in
                the space (e.g. a total depth ``layer-assignment`` forbids).
        """
        if isinstance(genotype, str | bytes) or not isinstance(genotype, Sequence | np.ndarray):
            raise ArchitectureError(f"genotype must be a sequence of integers, got {genotype!r}")
        codes = list(genotype)
        if len(codes) != len(self._decisions):
            raise ArchitectureError(
                f"genotype has {len(codes)} indices, the {self.name} space has "
                f"{len(self._decisions)} decisions"
            )
        for decision, code in zip(self._decisions, codes, strict=True):
            if not is_integer(code) or not 0 <= code < len(decision.choices):
                raise ArchitectureError(
                    f"{decision.name}: index {code!r} not in 0..{len(decision.choices) - 1}"
                )
        values = {
            key: decision.choices[int(code)]
            for decision, key, code in zip(self._decisions, self._fields, codes, strict=True)
        }
        fixed = {
            "depth": self.depths[0],
            "kernel": self.kernels[0],
            "width": self.widths[0],
            "skip": self.skips[0],
        }

        def value(stage: int, position: int | None, field: str) -> Any:
            return values.get((stage, position, field), fixed[field])

        stages = []
        for s in range(self.num_stages):
            stages.append(
                tuple(
                    Layer(value(s, p, "kernel"), value(s, p, "width"), value(s, p, "skip"))
                    for p in range(value(s, None, "depth"))
                )
            )
        return self.validate(Architecture(tuple(stages)))

    # -- membership ---------------------------------------------------------------------------
    def _layer_choices_ok(self, stage: int, position: int, layer: Layer) -> None:
        where = f"stage {stage} layer {position}"
        if layer.kernel not in self.kernels:
            raise ArchitectureError(f"{where}: kernel {layer.kernel} not in allowed {self.kernels}")
        if not any(math.isclose(layer.width, w) for w in self.widths):
            raise ArchitectureError(f"{where}: width {layer.width} not in allowed {self.widths}")
        if layer.skip not in self.skips:
            raise ArchitectureError(f"{where}: skip {layer.skip} not in allowed {self.skips}")

    def validate(self, arch: Architecture | str) -> Architecture:
        """Checks that an architecture belongs to this space.

        Args:
            arch: An architecture or its canonical string.

        Returns:
            The architecture (parsed if a string was given).

        Raises:
            ArchitectureError: Naming the offending field and the allowed values.
        """
        if isinstance(arch, str):
            arch = parse_in_space(arch, Architecture.from_string, self)
        if not isinstance(arch, Architecture):
            raise ArchitectureError(
                f"expected an Architecture or string, got {type(arch).__name__}"
            )
        if len(arch.stages) != self.num_stages:
            raise ArchitectureError(
                f"stages: got {len(arch.stages)}, the space has exactly {self.num_stages}"
            )
        for s, stage in enumerate(arch.stages):
            if len(stage) not in self.depths:
                raise ArchitectureError(
                    f"stage {s} depth: got {len(stage)}, allowed {list(self.depths)}"
                )
            for i, layer in enumerate(stage):
                self._layer_choices_ok(s, i, layer)
        return arch

    # -- counting, sampling, enumeration ----------------------------------------------------
    def _layer_options(self) -> list[Layer]:
        return [Layer(k, w, s) for k in self.kernels for w in self.widths for s in self.skips]

    def size(self) -> int:
        """Returns the exact number of architectures in the space."""
        per_stage = sum(len(self._layer_options()) ** d for d in self.depths)
        return per_stage**self.num_stages

    def sample(self, rng: np.random.Generator) -> Architecture:
        """Draws an architecture, each decision uniformly and independently.

        Depths are drawn uniformly first, then every layer's choices. This is the usual NAS
        sampling; it is *not* uniform over the set of architectures, which deep ones dominate.

        Args:
            rng: Source of randomness (``np.random.default_rng(seed)``).

        Returns:
            An architecture of the space.
        """
        stages = []
        for _ in range(self.num_stages):
            depth = self.depths[rng.integers(len(self.depths))]
            stages.append(tuple(self._sample_layer(rng) for _ in range(depth)))
        return Architecture(tuple(stages))

    def _sample_layer(self, rng: np.random.Generator) -> Layer:
        return Layer(
            self.kernels[rng.integers(len(self.kernels))],
            self.widths[rng.integers(len(self.widths))],
            self.skips[rng.integers(len(self.skips))],
        )

    def enumerate(self) -> Iterator[Architecture]:
        """Yields every architecture of the space in a fixed order.

        Raises:
            ArchitectureError: If the space has more than a million architectures.
        """
        if self.size() > _ENUMERATION_LIMIT:
            raise ArchitectureError(
                f"space has {self.size()} architectures; enumeration is limited to "
                f"{_ENUMERATION_LIMIT}, use sample() instead"
            )
        options = self._layer_options()
        per_stage = [stage for d in self.depths for stage in itertools.product(options, repeat=d)]
        for stages in itertools.product(per_stage, repeat=self.num_stages):
            yield Architecture(stages)

    def largest(self) -> Architecture:
        """Returns the architecture with the most parameters and FLOPs."""
        layer = Layer(self.kernels[-1], self.widths[-1], self.skips[-1])
        return Architecture(tuple((layer,) * self.max_depth for _ in range(self.num_stages)))

    def smallest(self) -> Architecture:
        """Returns the architecture with the fewest parameters and FLOPs."""
        layer = Layer(self.kernels[0], self.widths[0], self.skips[0])
        return Architecture(tuple((layer,) * self.depths[0] for _ in range(self.num_stages)))

    # -- network shape --------------------------------------------------------------------
    def channels(self, stage: int, width: float) -> int:
        """Returns the output channels of a layer of ``stage`` with multiplier ``width``."""
        return max(1, round(self.base_widths[stage] * width))

    def slot_shapes(self) -> list[tuple[int, int]]:
        """Returns the largest ``(out_channels, in_channels)`` of every layer slot, in slot order.

        These are the shapes of shared or generated weights that any architecture is cut from.
        """
        w_max = max(self.widths)
        shapes = []
        for s in range(self.num_stages):
            out_max = self.channels(s, w_max)
            for p in range(self.max_depth):
                if p > 0:
                    in_max = out_max
                elif s == 0:
                    in_max = self.stem_width
                else:
                    in_max = self.channels(s - 1, w_max)
                shapes.append((out_max, in_max))
        return shapes

    def plan(self, arch: Architecture) -> list[LayerPlan]:
        """Returns the shape of every layer of a (valid) architecture.

        Args:
            arch: An architecture of this space.

        Returns:
            One :class:`LayerPlan` per layer, in order.
        """
        arch = self.validate(arch)
        plans = []
        in_ch = self.stem_width
        for s, stage in enumerate(arch.stages):
            for i, layer in enumerate(stage):
                out_ch = self.channels(s, layer.width)
                stride = 2 if (s > 0 and i == 0) else 1
                slot = s * self.max_depth + i
                plans.append(LayerPlan(s, i, slot, in_ch, out_ch, layer.kernel, stride, layer.skip))
                in_ch = out_ch
        return plans

    def params(self, arch: Architecture) -> int:
        """Returns the exact number of trainable parameters of ``build(arch)``.

        Counts conv kernels (no bias), BatchNorm scale and shift, and the classifier.
        """
        plans = self.plan(arch)
        total = self.in_channels * self.stem_width * 9 + 2 * self.stem_width
        for p in plans:
            total += p.in_ch * p.out_ch * p.kernel * p.kernel + 2 * p.out_ch
        return total + plans[-1].out_ch * self.num_classes + self.num_classes

    def flops(self, arch: Architecture) -> int:
        """Returns multiply-accumulates of the convolutions and the classifier for one image.

        BatchNorm, ReLU, pooling and additions are not counted (the usual NAS convention).
        """
        plans = self.plan(arch)
        size = self.image_size
        total = self.in_channels * self.stem_width * 9 * size * size
        for p in plans:
            size = (size - 1) // p.stride + 1
            total += p.in_ch * p.out_ch * p.kernel * p.kernel * size * size
        return total + plans[-1].out_ch * self.num_classes

    def build(self, arch: Architecture) -> Any:
        """Builds the plain PyTorch network of an architecture (randomly initialised).

        Args:
            arch: An architecture of this space.

        Returns:
            A :class:`adwp.spaces.MacroNet` (an ``nn.Module``).
        """
        from adwp.spaces.macro.network import (
            MacroNet,  # torch is imported only when networks are built
        )

        return MacroNet(self.in_channels, self.stem_width, self.plan(arch), self.num_classes)
