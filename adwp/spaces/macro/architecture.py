"""The immutable :class:`Architecture` value and its canonical string and JSON forms.

An architecture is a tuple of stages, each a tuple of :class:`Layer` choices. It knows nothing about
which search space it belongs to: ``space.validate(arch)`` decides that. The canonical string is
``|``-separated stages of ``,``-separated layers, each ``k{kernel}w{width percent}s{0|1}``, e.g.
``k3w100s1,k5w50s0|k3w75s1|k7w100s0``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from adwp.errors import ArchitectureError
from adwp.spaces._shared import JsonForm

__all__ = ["Architecture", "Layer", "LayerPlan"]

_LAYER_RE = re.compile(r"^k(\d+)w(\d+)s([01])$")


@dataclass(frozen=True, order=True)
class Layer:
    """One convolution layer: kernel size, width multiplier and residual skip.

    Args:
        kernel: Square kernel size (odd).
        width: Multiplier of the stage's base width, e.g. 0.5.
        skip: Whether the layer adds a residual shortcut.
    """

    kernel: int
    width: float
    skip: bool

    def __post_init__(self) -> None:
        # Checked here, because a float kernel would print as "k3.0..." and never match a table.
        # numpy scalars (from arrays of choices) become the Python values they stand for.
        kernel, width, skip = self.kernel, self.width, self.skip
        if isinstance(kernel, (bool, np.bool_)) or not isinstance(kernel, (int, np.integer)):
            raise ArchitectureError(f"layer kernel must be an int, got {kernel!r}")
        if isinstance(width, (bool, np.bool_)) or not isinstance(width, (int, float, np.number)):
            raise ArchitectureError(f"layer width must be a number, got {width!r}")
        if not isinstance(skip, (int, np.integer, np.bool_)) or skip not in (0, 1):
            raise ArchitectureError(f"layer skip must be a bool, got {skip!r}")
        object.__setattr__(self, "kernel", int(kernel))
        object.__setattr__(self, "width", float(width))
        object.__setattr__(self, "skip", bool(skip))

    def to_string(self) -> str:
        """Returns the canonical token ``k{kernel}w{percent}s{0|1}``."""
        return f"k{self.kernel}w{round(self.width * 100)}s{int(self.skip)}"

    @classmethod
    def from_string(cls, token: str) -> Layer:
        """Parses a canonical layer token.

        Args:
            token: e.g. ``"k5w75s1"``.

        Returns:
            The layer.

        Raises:
            ArchitectureError: If the token is malformed.
        """
        match = _LAYER_RE.match(token.strip())
        if match is None:
            raise ArchitectureError(
                f"malformed layer {token!r}: expected k<kernel>w<width percent>s<0|1>, "
                "e.g. 'k3w100s1'"
            )
        kernel, percent, skip = match.groups()
        return cls(int(kernel), int(percent) / 100, skip == "1")

    def to_dict(self) -> dict[str, Any]:
        """Returns the JSON form ``{"kernel", "width", "skip"}``."""
        return {"kernel": self.kernel, "width": self.width, "skip": self.skip}


@dataclass(frozen=True)
class Architecture(JsonForm):
    """An immutable, hashable network description: stages of layers.

    Args:
        stages: One tuple of layers per stage, in order.
    """

    stages: tuple[tuple[Layer, ...], ...]

    def __post_init__(self) -> None:
        # Accept lists for convenience but store tuples so the value stays hashable.
        stages = tuple(tuple(stage) for stage in self.stages)
        for stage in stages:
            for layer in stage:
                if not isinstance(layer, Layer):
                    raise ArchitectureError(f"stage entries must be Layer objects, got {layer!r}")
        object.__setattr__(self, "stages", stages)

    @property
    def depths(self) -> tuple[int, ...]:
        """Number of layers per stage (the layer assignment)."""
        return tuple(len(stage) for stage in self.stages)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """All layers, stage by stage."""
        return tuple(layer for stage in self.stages for layer in stage)

    def to_string(self) -> str:
        """Returns the canonical string form."""
        return "|".join(",".join(layer.to_string() for layer in stage) for stage in self.stages)

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_string(cls, text: str) -> Architecture:
        """Parses the canonical string form.

        Args:
            text: e.g. ``"k3w100s1,k5w50s0|k3w75s1|k7w100s0"``.

        Returns:
            The architecture.

        Raises:
            ArchitectureError: If the string is malformed.
        """
        if not isinstance(text, str) or not text.strip():
            raise ArchitectureError(f"empty or non-string architecture: {text!r}")
        stages = []
        for stage_text in text.strip().split("|"):
            if not stage_text:
                raise ArchitectureError(f"empty stage in architecture {text!r}")
            stages.append(tuple(Layer.from_string(tok) for tok in stage_text.split(",")))
        return cls(tuple(stages))

    def to_dict(self) -> dict[str, Any]:
        """Returns the JSON-ready form ``{"stages": [[{kernel, width, skip}, ...], ...]}``."""
        return {"stages": [[layer.to_dict() for layer in stage] for stage in self.stages]}

    @classmethod
    def from_dict(cls, data: Any) -> Architecture:
        """Builds an architecture from its JSON-ready form.

        Args:
            data: A mapping with key ``"stages"``, as returned by :meth:`to_dict`.

        Returns:
            The architecture.

        Raises:
            ArchitectureError: If keys or value types are wrong.
        """
        if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
            raise ArchitectureError('architecture JSON must be an object with a "stages" list')
        stages = []
        for s, stage in enumerate(data["stages"]):
            if not isinstance(stage, list):
                raise ArchitectureError(f"stage {s} must be a list of layers")
            layers = []
            for i, layer in enumerate(stage):
                if not isinstance(layer, dict) or set(layer) != {"kernel", "width", "skip"}:
                    raise ArchitectureError(
                        f"stage {s} layer {i} must be an object with keys kernel, width, skip"
                    )
                kernel, width, skip = layer["kernel"], layer["width"], layer["skip"]
                if (
                    not isinstance(kernel, int)
                    or isinstance(kernel, bool)
                    or not isinstance(width, (int, float))
                    or isinstance(width, bool)
                    or not isinstance(skip, bool)
                ):
                    raise ArchitectureError(
                        f"stage {s} layer {i}: kernel must be int, width a number, skip a bool"
                    )
                layers.append(Layer(kernel, float(width), skip))
            stages.append(tuple(layers))
        return cls(tuple(stages))


@dataclass(frozen=True)
class LayerPlan:
    """Everything the network needs to know about one layer of an architecture.

    Attributes:
        stage: Stage index.
        position: Index of the layer inside its stage.
        slot: ``stage * max_depth + position``, a fixed position shared by all architectures.
        in_ch: Input channels.
        out_ch: Output channels.
        kernel: Kernel size.
        stride: 1, or 2 at the first layer of stages after the first.
        skip: Residual shortcut on or off.
    """

    stage: int
    position: int
    slot: int
    in_ch: int
    out_ch: int
    kernel: int
    stride: int
    skip: bool
