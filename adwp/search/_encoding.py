"""Categorical genotype of any search space: the decisions searchers sample and mutate.

Built from the space's :meth:`adwp.spaces.SearchSpace.decisions`. A decision with a single choice
is not a variable (nothing to learn or mutate); every other decision is one, in the space's order.
Inactive variables (e.g. a macro layer slot past its stage's depth) do not change the
architecture, but keep their value so that a mutation making them active inherits it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adwp.errors import ArchitectureError
from adwp.spaces import Decision, active_decisions

__all__ = ["CategoricalEncoding"]


class CategoricalEncoding:
    """Maps integer vectors (one index per variable) to architectures of a space and back.

    Args:
        space: Any :class:`adwp.spaces.SearchSpace`.

    Attributes:
        variables: The space's decisions with more than one choice, in the space's order.
    """

    def __init__(self, space: Any) -> None:
        self.space = space
        self._decisions = tuple(space.decisions())
        self._free = np.array(
            [i for i, d in enumerate(self._decisions) if len(d.choices) > 1], dtype=np.int64
        )
        self.variables: list[Decision] = [self._decisions[i] for i in self._free]

    @property
    def categories(self) -> np.ndarray:
        """Number of choices of every variable."""
        return np.array([len(v.choices) for v in self.variables], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.variables)

    def _genotype(self, x: np.ndarray) -> np.ndarray:
        full = np.zeros(len(self._decisions), dtype=np.int64)
        full[self._free] = x
        return full

    def decode(self, x: np.ndarray) -> Any | None:
        """Returns the architecture of ``x``, or None if it is not in the space (a sub-space may
        reject a combination of allowed values, e.g. a total depth)."""
        try:
            return self.space.from_genotype(self._genotype(np.asarray(x)))
        except ArchitectureError:
            return None

    def encode(self, arch: Any) -> np.ndarray:
        """Returns the variables of ``arch`` (inactive ones get index 0)."""
        return np.asarray(self.space.genotype(arch), dtype=np.int64)[self._free]

    def active(self, x: np.ndarray) -> np.ndarray:
        """Boolean mask of the variables that change the architecture of ``x``."""
        return active_decisions(self._decisions, self._genotype(np.asarray(x)))[self._free]

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """Draws every variable uniformly."""
        return np.array([rng.integers(n) for n in self.categories], dtype=np.int64)
