"""The ``nbmacro`` search space: NAS-Bench-Macro's network (Su et al., CVPR 2021).

A 3x3 stem convolution (BatchNorm, ReLU), then eight searchable layers in three stages of 2, 3 and
3 layers, then a 1x1 head convolution (BatchNorm, ReLU), global average pooling and a linear
classifier. The first layer of each stage has stride 2 and doubles the channels. Each layer is one
of three blocks, written as one digit:

- ``0``: identity; where the layer has stride 2 or changes channels, a 1x1 convolution with
  BatchNorm instead;
- ``1``: MobileNetV2's inverted residual block with expansion 3 and a 3x3 depthwise kernel;
- ``2``: the same block with expansion 6 and a 5x5 depthwise kernel.

An architecture is the eight digits, e.g. ``"22212220"``, NAS-Bench-Macro's own keys (kept as
strings: leading zeros matter). An identity that is not the first layer of its stage can move to
the end of its stage without changing the network, so the 6,561 strings are 3,969 distinct
networks; :meth:`NBMacroSpace.canonical` gives the table's ``CanonicalArch`` and sampling draws
distinct networks uniformly.

With the default options every params and FLOPs value equals NAS-Bench-Macro's table. Narrower
``stem_channels``, ``channels`` and ``head_channels`` give a cheaper skeleton of the same
architectures (same strings) for training a weight generator on a CPU.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from adwp._checks import is_integer
from adwp.errors import ArchitectureError
from adwp.spaces._registry import DATA_SHAPE, parse_in_space, register_space
from adwp.spaces._sampling import draw_many
from adwp.spaces._shared import JsonForm, SpaceMethods
from adwp.spaces.protocol import Cut, Decision, DecisionGroup, WeightSlot

__all__ = ["BLOCKS", "STAGE_LAYERS", "NBMacroArchitecture", "NBMacroSpace"]

BLOCKS: tuple[str, ...] = ("identity", "mbconv_t3_k3", "mbconv_t6_k5")
"""The three layer choices, in digit order (the genotype's codes)."""

STAGE_LAYERS: tuple[int, ...] = (2, 3, 3)
"""Searchable layers per stage."""

_NUM_LAYERS = sum(STAGE_LAYERS)
# (expansion, depthwise kernel) of the inverted-residual choices, by digit.
_INVERTED = {1: (3, 3), 2: (6, 5)}
_MAX_EXPANSION = max(t for t, _ in _INVERTED.values())
_MAX_KERNEL = max(k for _, k in _INVERTED.values())
_DIGITS = "".join(str(d) for d in range(len(BLOCKS)))
# First layer index of each stage.
_STAGE_STARTS = tuple(int(s) for s in np.cumsum((0, *STAGE_LAYERS[:-1])))
# Distinct networks: per stage, any first layer times the canonical tails of the others (j
# blocks in the tail: 2 ** j orderings of the two block types), 3,969 in all.
_NUM_DISTINCT = int(np.prod([len(BLOCKS) * (2**count - 1) for count in STAGE_LAYERS]))


@dataclass(frozen=True)
class NBMacroArchitecture(JsonForm):
    """An immutable, hashable NAS-Bench-Macro architecture: one block code per layer.

    Equivalent strings (an identity moved within its stage) stay distinct architectures, as in
    the benchmark's table; :meth:`NBMacroSpace.canonical` maps them to one.

    Args:
        codes: Eight codes in ``0..2`` (see :data:`BLOCKS`), one per layer in network order.

    Raises:
        ArchitectureError: If there are not eight codes or one is out of range.
    """

    codes: tuple[int, ...]

    def __post_init__(self) -> None:
        if isinstance(self.codes, str | bytes) or not isinstance(self.codes, Sequence):
            raise ArchitectureError(
                f"layer codes must be a sequence of {_NUM_LAYERS} integers in 0..2, "
                f"got {self.codes!r}"
            )
        codes = tuple(self.codes)
        if len(codes) != _NUM_LAYERS:
            raise ArchitectureError(f"architecture has {len(codes)} layers, expected {_NUM_LAYERS}")
        for layer, code in enumerate(codes):
            if not is_integer(code) or not 0 <= code < len(BLOCKS):
                raise ArchitectureError(
                    f"layer {layer}: code {code!r} not in 0..{len(BLOCKS) - 1} "
                    f"({', '.join(f'{i}={b}' for i, b in enumerate(BLOCKS))})"
                )
        object.__setattr__(self, "codes", tuple(int(c) for c in codes))

    def to_string(self) -> str:
        """Returns the eight-digit string, NAS-Bench-Macro's key (e.g. ``"22212220"``)."""
        return "".join(str(c) for c in self.codes)

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_string(cls, text: str) -> NBMacroArchitecture:
        """Parses an eight-digit string of ``0``, ``1`` and ``2``.

        Raises:
            ArchitectureError: Naming what is wrong with the string.
        """
        if not isinstance(text, str):
            raise ArchitectureError(f"expected an eight-digit string, got {type(text).__name__}")
        stripped = text.strip()
        if len(stripped) != _NUM_LAYERS or any(c not in _DIGITS for c in stripped):
            raise ArchitectureError(
                f"NAS-Bench-Macro architecture {text!r} must be {_NUM_LAYERS} digits of "
                f"{', '.join(_DIGITS)} (e.g. '22212220')"
            )
        return cls(tuple(int(c) for c in stripped))

    def to_dict(self) -> dict[str, Any]:
        """Returns the JSON-ready form ``{"arch": "22212220"}``."""
        return {"arch": self.to_string()}

    @classmethod
    def from_dict(cls, data: Any) -> NBMacroArchitecture:
        """Builds an architecture from :meth:`to_dict`'s form.

        Raises:
            ArchitectureError: If the mapping is not ``{"arch": "<8 digits>"}``.
        """
        if not isinstance(data, dict) or set(data) != {"arch"} or not isinstance(data["arch"], str):
            raise ArchitectureError(
                'NAS-Bench-Macro architecture JSON must be an object {"arch": "<8 digits>"}'
            )
        return cls.from_string(data["arch"])


def _positive(name: str, value: Any) -> int:
    if not is_integer(value) or value < 1:
        raise ArchitectureError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@register_space("nbmacro", description="NAS-Bench-Macro's network on CIFAR-10 (6,561 strings)")
class NBMacroSpace(SpaceMethods):
    """NAS-Bench-Macro's space: eight layers, each an identity or one of two inverted residuals.

    Args:
        in_channels: Image channels of the data set.
        num_classes: Classes of the data set.
        image_size: Height (= width) of the input images, used for FLOPs; a multiple of 8 (three
            stride-2 stages).
        stem_channels: Stem output channels (NAS-Bench-Macro: 32).
        channels: Channels of the three stages (NAS-Bench-Macro: 64, 128, 256).
        head_channels: Width of the 1x1 head convolution (NAS-Bench-Macro: 1280).
    """

    name = "nbmacro"

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        image_size: int = 32,
        stem_channels: int = 32,
        channels: Sequence[int] = (64, 128, 256),
        head_channels: int = 1280,
    ) -> None:
        self.in_channels = _positive("in_channels", in_channels)
        self.num_classes = _positive("num_classes", num_classes)
        self.image_size = _positive("image_size", image_size)
        if self.image_size % 8:
            raise ArchitectureError(
                f"image_size must be a multiple of 8 (three stride-2 stages), got {image_size}"
            )
        self.stem_channels = _positive("stem_channels", stem_channels)
        if (
            isinstance(channels, str | bytes)
            or not isinstance(channels, Sequence | np.ndarray)
            or len(channels) != len(STAGE_LAYERS)
        ):
            raise ArchitectureError(
                f"channels must be a list of {len(STAGE_LAYERS)} stage widths, got {channels!r}"
            )
        self.channels = tuple(_positive("channels", c) for c in channels)
        self.head_channels = _positive("head_channels", head_channels)

    def config(self) -> dict[str, Any]:
        """Returns the constructor options as JSON-ready primitives (stored in checkpoints)."""
        shape = {name: getattr(self, name) for name in DATA_SHAPE}
        widths = {"stem_channels": self.stem_channels, "channels": list(self.channels)}
        return {**shape, **widths, "head_channels": self.head_channels}

    def choices(self) -> dict[str, list[str]]:
        """Returns the allowed blocks of every layer, keyed ``"layer0"`` ... ``"layer7"``."""
        return {f"layer{i}": list(BLOCKS) for i in range(_NUM_LAYERS)}

    def decisions(self) -> tuple[Decision, ...]:
        """Returns one always-active decision per layer, choosing among :data:`BLOCKS`."""
        return tuple(Decision(f"layer{i}", BLOCKS) for i in range(_NUM_LAYERS))

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({options})"

    # -- membership ---------------------------------------------------------------------------
    def validate(self, arch: NBMacroArchitecture | str) -> NBMacroArchitecture:
        """Checks that an architecture belongs to this space.

        Args:
            arch: An architecture or its eight-digit string.

        Returns:
            The architecture (parsed if a string was given).

        Raises:
            ArchitectureError: Naming what is wrong.
        """
        if isinstance(arch, str):
            return parse_in_space(arch, NBMacroArchitecture.from_string, self)
        if not isinstance(arch, NBMacroArchitecture):
            raise ArchitectureError(
                f"expected an NBMacroArchitecture or eight-digit string, got {type(arch).__name__}"
            )
        return arch

    # -- equivalence --------------------------------------------------------------------------
    def canonical(self, arch: NBMacroArchitecture | str) -> NBMacroArchitecture:
        """Returns the equivalent architecture with every movable identity at the end of its
        stage: the table's ``CanonicalArch``.

        A stage's first layer is never moved: there an identity is a strided 1x1 projection.
        """
        codes = list(self.validate(arch).codes)
        for start, count in zip(_STAGE_STARTS, STAGE_LAYERS, strict=True):
            rest = codes[start + 1 : start + count]
            blocks = [c for c in rest if c != 0]
            codes[start + 1 : start + count] = blocks + [0] * (len(rest) - len(blocks))
        return NBMacroArchitecture(tuple(codes))

    def isomorphism_key(self, arch: NBMacroArchitecture | str) -> str:
        """Returns the canonical string: equal keys, equal networks (3,969 keys in all)."""
        return self.canonical(arch).to_string()

    def distinct(self) -> list[NBMacroArchitecture]:
        """Returns the 3,969 canonical architectures, in :meth:`enumerate` order."""
        return [a for a in self.enumerate() if self.canonical(a) == a]

    # -- counting, sampling, enumeration ----------------------------------------------------
    def size(self) -> int:
        """Returns the number of architecture strings (``3 ** 8 = 6,561``, the table's rows)."""
        return len(BLOCKS) ** _NUM_LAYERS

    def sample(self, rng: np.random.Generator) -> NBMacroArchitecture:
        """Draws a distinct network uniformly, as its canonical architecture.

        Each stage is drawn on its own: its first layer uniformly, then the number of blocks
        among the other layers in proportion to how many canonical orderings have that number,
        so every one of the 3,969 networks is equally likely.
        """
        codes: list[int] = []
        for count in STAGE_LAYERS:
            codes.append(int(rng.integers(len(BLOCKS))))
            rest = count - 1
            # Canonical tails with j blocks: 2 ** j orderings of the two block types.
            weights = np.array([2.0**j for j in range(rest + 1)])
            blocks = int(rng.choice(rest + 1, p=weights / weights.sum()))
            codes.extend(int(c) for c in rng.integers(1, len(BLOCKS), size=blocks))
            codes.extend([0] * (rest - blocks))
        return NBMacroArchitecture(tuple(codes))

    def sample_many(
        self, n: int, rng: np.random.Generator, unique: bool = True
    ) -> list[NBMacroArchitecture]:
        """Draws ``n`` distinct networks with :meth:`sample` (repeats skipped if ``unique``).

        Raises:
            ArchitectureError: If ``unique`` and ``n`` exceeds the 3,969 distinct networks.
        """
        return draw_many(self.sample, _NUM_DISTINCT, n, rng, unique)

    def enumerate(self) -> Iterator[NBMacroArchitecture]:
        """Yields all 6,561 strings once: layer 0 varies slowest, each through ``0, 1, 2``."""
        for codes in itertools.product(range(len(BLOCKS)), repeat=_NUM_LAYERS):
            yield NBMacroArchitecture(codes)

    def genotype(self, arch: NBMacroArchitecture | str) -> tuple[int, ...]:
        """Returns the eight block codes."""
        return self.validate(arch).codes

    def from_genotype(self, codes: Sequence[int]) -> NBMacroArchitecture:
        """Builds the architecture of eight block codes; the inverse of :meth:`genotype`."""
        return NBMacroArchitecture(tuple(codes))

    def smallest(self) -> NBMacroArchitecture:
        """Returns the architecture with the fewest parameters and FLOPs: all identities."""
        return NBMacroArchitecture((0,) * _NUM_LAYERS)

    def largest(self) -> NBMacroArchitecture:
        """Returns the architecture with the most parameters and FLOPs: all expansion-6 blocks."""
        return NBMacroArchitecture((2,) * _NUM_LAYERS)

    # -- network shape --------------------------------------------------------------------
    def layer_plan(self) -> list[tuple[int, int, int]]:
        """Returns ``(in_channels, out_channels, stride)`` of each of the eight layers."""
        plan = []
        width = self.stem_channels
        for out, count in zip(self.channels, STAGE_LAYERS, strict=True):
            for i in range(count):
                plan.append((width, out, 2 if i == 0 else 1))
                width = out
        return plan

    def _shapes(self, arch: NBMacroArchitecture) -> Iterator[tuple[str, tuple[int, ...], int, int]]:
        """Yields ``(module, kernel shape, groups, output side)`` of every convolution."""
        side = self.image_size
        yield "stem", (self.stem_channels, self.in_channels, 3, 3), 1, side
        for i, (code, (in_ch, out_ch, stride)) in enumerate(zip(arch.codes, self.layer_plan())):
            side_in, side = side, side // stride
            if code in _INVERTED:
                expansion, kernel = _INVERTED[code]
                hidden = in_ch * expansion
                yield f"layers.{i}.expand", (hidden, in_ch, 1, 1), 1, side_in
                yield f"layers.{i}.depthwise", (hidden, 1, kernel, kernel), hidden, side
                yield f"layers.{i}.project", (out_ch, hidden, 1, 1), 1, side
            elif stride != 1 or in_ch != out_ch:
                yield f"layers.{i}", (out_ch, in_ch, 1, 1), 1, side
        yield "head", (self.head_channels, self.channels[-1], 1, 1), 1, side

    def params(self, arch: NBMacroArchitecture | str) -> int:
        """Returns the trainable parameters of ``build(arch)``: conv kernels (no bias),
        BatchNorm scale and shift, the classifier's weight and bias."""
        total = 0
        for _, shape, _, _ in self._shapes(self.validate(arch)):
            total += int(np.prod(shape)) + 2 * shape[0]
        return total + self.head_channels * self.num_classes + self.num_classes

    def flops(self, arch: NBMacroArchitecture | str) -> int:
        """Returns the multiply-accumulates of one image, counted as NAS-Bench-Macro counts them:
        each convolution's ``out_side ** 2 * (in / groups) * k * k * out`` and the classifier's
        ``in * out``; BatchNorm, ReLU, pooling and additions are not counted."""
        total = 0
        for _, shape, _, side in self._shapes(self.validate(arch)):
            total += side * side * int(np.prod(shape))
        return total + self.head_channels * self.num_classes

    # -- what the weight generators read (the GeneratorSpace protocol) ------------------------
    def decision_groups(self) -> tuple[DecisionGroup, ...]:
        """Returns one group, ``layers`` ``[B, 8, 3]``."""
        return (DecisionGroup("layers", tuple(range(_NUM_LAYERS)), len(BLOCKS)),)

    def num_tokens(self) -> int:
        """Returns one token per layer."""
        return _NUM_LAYERS

    def token_features(self) -> int:
        """Returns ``1 + 3``: presence (always 1), then the layer's block probabilities."""
        return 1 + len(BLOCKS)

    def encode(self, probabilities: Sequence[Any]) -> Any:
        """Returns the tokens ``[B, 8, 4]``."""
        import torch  # torch is imported only when encodings are built

        (layers,) = probabilities
        return torch.cat([torch.ones_like(layers[..., :1]), layers], dim=-1)

    def weight_slots(self) -> tuple[WeightSlot, ...]:
        """Returns, per layer ``i`` (reading token ``i``), ``layer{i}_expand``,
        ``layer{i}_depthwise`` and ``layer{i}_project`` at the expansion-6, 5x5 block's shapes
        (the expansion-3, 3x3 block takes their first channels and centre window) and, where the
        identity projects, ``layer{i}_identity``; then ``stem``, ``head`` and ``classifier``,
        which read the global embedding."""
        slots = []
        for i, (in_ch, out_ch, stride) in enumerate(self.layer_plan()):
            hidden = in_ch * _MAX_EXPANSION
            k = _MAX_KERNEL
            slots.append(WeightSlot(f"layer{i}_expand", "conv", (hidden, in_ch, 1, 1), token=i))
            slots.append(WeightSlot(f"layer{i}_depthwise", "conv", (hidden, 1, k, k), token=i))
            slots.append(WeightSlot(f"layer{i}_project", "conv", (out_ch, hidden, 1, 1), token=i))
            if stride != 1 or in_ch != out_ch:
                slots.append(
                    WeightSlot(f"layer{i}_identity", "conv", (out_ch, in_ch, 1, 1), token=i)
                )
        slots.append(WeightSlot("stem", "conv", (self.stem_channels, self.in_channels, 3, 3)))
        slots.append(WeightSlot("head", "conv", (self.head_channels, self.channels[-1], 1, 1)))
        slots.append(WeightSlot("classifier", "linear", (self.num_classes, self.head_channels)))
        return tuple(slots)

    def weight_plan(self, arch: NBMacroArchitecture | str) -> dict[str, Cut]:
        """Returns the cut of every parameter of ``build(arch)`` (see :class:`NBMacroNet`)."""
        cuts: dict[str, Cut] = {}
        for module, shape, _, _ in self._shapes(self.validate(arch)):
            path = module.split(".")
            if path[0] == "layers":
                part = path[2] if len(path) > 2 else "identity"
                slot = f"layer{path[1]}_{part}"
            else:
                slot = module
            cuts[f"{module}.conv.weight"] = Cut(slot, "kernel", shape)
            cuts[f"{module}.bn.weight"] = Cut(slot, "gamma", shape[:1])
            cuts[f"{module}.bn.bias"] = Cut(slot, "beta", shape[:1])
        cuts["classifier.weight"] = Cut(
            "classifier", "weight", (self.num_classes, self.head_channels)
        )
        cuts["classifier.bias"] = Cut("classifier", "bias", (self.num_classes,))
        return cuts

    # -- the relaxation (the MixedGeneratorSpace protocol) -----------------------------------
    def mixed_shape(self) -> tuple[int, int]:
        """Returns ``(decisions, choices)`` of the relaxed network: 8 layers x 3 blocks."""
        return _NUM_LAYERS, len(BLOCKS)

    def build_mixed(self) -> Any:
        """Builds the relaxed network of differentiable search (randomly initialised).

        Returns:
            A :class:`adwp.spaces.nbmacro.mixed.MixedNBMacroNet`: ``forward(x, weights)`` with
            ``weights`` of shape :meth:`mixed_shape`; each layer outputs the weighted sum of its
            three blocks.
        """
        from adwp.spaces.nbmacro.mixed import MixedNBMacroNet  # torch only when built

        # Every layer holds each block: the identity (None) and the two inverted residuals.
        return MixedNBMacroNet(
            [_INVERTED.get(code) for code in range(len(BLOCKS))], *self._network_shape()
        )

    def mixed_weight_plan(self) -> dict[str, Cut]:
        """Returns the cut of every parameter of :meth:`build_mixed`'s network.

        Block ``k`` of a mixed layer takes the cut it takes in a plain network, so a weight
        generator emits all of a layer's blocks from one encoding.
        """
        cuts: dict[str, Cut] = {}
        for k in range(len(BLOCKS)):
            for name, cut in self.weight_plan(NBMacroArchitecture((k,) * _NUM_LAYERS)).items():
                path = name.split(".")
                if path[0] == "layers":
                    # layers.{i}.expand.conv.weight -> layers.{i}.ops.{k}.expand.conv.weight
                    path[2:2] = ["ops", str(k)]
                cuts[".".join(path)] = cut
        return cuts

    def build(self, arch: NBMacroArchitecture | str) -> Any:
        """Builds the plain PyTorch network of an architecture (randomly initialised).

        Returns:
            A :class:`adwp.spaces.nbmacro.network.NBMacroNet` (an ``nn.Module``) mapping
            ``[B, in_channels, H, W]`` images to ``[B, num_classes]`` logits.
        """
        from adwp.spaces.nbmacro.network import NBMacroNet  # torch only when built

        blocks = [_INVERTED.get(code) for code in self.validate(arch).codes]
        return NBMacroNet(blocks, *self._network_shape())

    def _network_shape(self) -> tuple[list[tuple[int, int, int]], int, int, int, int]:
        """The plain and the relaxed network's arguments after their blocks."""
        return (
            self.layer_plan(),
            self.in_channels,
            self.stem_channels,
            self.head_channels,
            self.num_classes,
        )
