"""Categorical genotype of a macro-style space: the decisions searchers sample and mutate.

Variables: the depth of every stage, then kernel, width and skip of every layer slot
(``stage * max_depth + position``), each a categorical over the space's allowed values. Slots past
a stage's depth are inactive: they do not change the architecture, but keep their value so that a
deeper mutation inherits them. Decisions with a single allowed value are not variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adwp.spaces import Architecture, Layer

__all__ = ["CategoricalEncoding", "Variable"]


@dataclass(frozen=True)
class Variable:
    """One categorical decision.

    Attributes:
        name: e.g. ``"stage1.depth"`` or ``"stage1.layer2.kernel"``.
        stage: Stage it belongs to.
        position: Layer position in the stage (None for the depth).
        field: ``"depth"``, ``"kernel"``, ``"width"`` or ``"skip"``.
        choices: Allowed values, in index order.
    """

    name: str
    stage: int
    position: int | None
    field: str
    choices: tuple[Any, ...]


class CategoricalEncoding:
    """Maps integer vectors (one index per variable) to architectures of a space and back.

    Args:
        space: A :class:`adwp.spaces.MacroSpace` (or subclass).
    """

    def __init__(self, space: Any) -> None:
        self.space = space
        variables = []
        for s in range(space.num_stages):
            variables.append(Variable(f"stage{s}.depth", s, None, "depth", tuple(space.depths)))
            for p in range(space.max_depth):
                for field, choices in (
                    ("kernel", space.kernels),
                    ("width", space.widths),
                    ("skip", space.skips),
                ):
                    variables.append(
                        Variable(f"stage{s}.layer{p}.{field}", s, p, field, tuple(choices))
                    )
        self.variables = [v for v in variables if len(v.choices) > 1]
        self._fixed = {
            "depth": space.depths[0],
            "kernel": space.kernels[0],
            "width": space.widths[0],
            "skip": space.skips[0],
        }
        self._index = {(v.stage, v.position, v.field): i for i, v in enumerate(self.variables)}

    @property
    def categories(self) -> np.ndarray:
        """Number of choices of every variable."""
        return np.array([len(v.choices) for v in self.variables], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.variables)

    def _value(self, x: np.ndarray, stage: int, position: int | None, field: str) -> Any:
        i = self._index.get((stage, position, field))
        return self._fixed[field] if i is None else self.variables[i].choices[int(x[i])]

    def decode(self, x: np.ndarray) -> Architecture:
        """Returns the architecture of a genotype (not validated: a sub-space may reject it)."""
        stages = []
        for s in range(self.space.num_stages):
            depth = self._value(x, s, None, "depth")
            stages.append(
                tuple(
                    Layer(
                        self._value(x, s, p, "kernel"),
                        self._value(x, s, p, "width"),
                        self._value(x, s, p, "skip"),
                    )
                    for p in range(depth)
                )
            )
        return Architecture(tuple(stages))

    def encode(self, arch: Architecture) -> np.ndarray:
        """Returns a genotype of ``arch`` (inactive slots get index 0)."""
        arch = self.space.validate(arch)
        x = np.zeros(len(self.variables), dtype=np.int64)
        for i, v in enumerate(self.variables):
            if v.field == "depth":
                x[i] = v.choices.index(len(arch.stages[v.stage]))
            elif v.position < len(arch.stages[v.stage]):
                layer = arch.stages[v.stage][v.position]
                value = getattr(layer, v.field)
                x[i] = min(range(len(v.choices)), key=lambda j: abs(v.choices[j] - value))
        return x

    def active(self, x: np.ndarray) -> np.ndarray:
        """Boolean mask of the variables that change the architecture of genotype ``x``."""
        mask = np.ones(len(self.variables), dtype=bool)
        for i, v in enumerate(self.variables):
            if v.position is not None:
                mask[i] = v.position < self._value(x, v.stage, None, "depth")
        return mask

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """Draws every variable uniformly."""
        return np.array([rng.integers(n) for n in self.categories], dtype=np.int64)
