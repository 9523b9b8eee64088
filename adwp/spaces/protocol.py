"""The search-space protocol: what the rest of the library may ask of any space.

A space is a set of architectures described by named categorical **decisions**
(:class:`Decision`). An architecture maps to its **genotype**, one choice index per decision
(:meth:`SearchSpace.genotype`), and back (:meth:`SearchSpace.from_genotype`); it also has a
canonical string (``arch.to_string()``, parsed back by :meth:`SearchSpace.validate`). The three
forms round-trip: ``space.from_genotype(space.genotype(a)) == a`` and
``space.validate(a.to_string()) == a`` for every architecture ``a`` of the space.

A decision may matter only for some genotypes: a macro layer's kernel, width and skip only when
its stage is deep enough to have that layer. :attr:`Decision.parent` says so, and
:func:`active_decisions` gives the mask of the decisions that matter for a genotype. An inactive
decision's index changes nothing (:meth:`SearchSpace.genotype` writes 0 there). A decision's
parent always comes before it, so a walk in decision order (e.g. define-by-run Optuna suggestions)
knows whether a decision matters before reaching it.

This is the decision and genotype part of the protocol, which searchers use. The parts the weight
generators read (how a hypernetwork encodes an architecture and which weight slots it fills) are
not in the protocol yet; those generators still read the macro space's own attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from adwp._checks import is_integer
from adwp.errors import ArchitectureError

__all__ = ["Decision", "SearchSpace", "active_decisions"]


@dataclass(frozen=True)
class Decision:
    """One named categorical choice of a space.

    Attributes:
        name: Unique within the space, e.g. ``"stage1_layer2_kernel"`` (macro) or ``"0->1"``
            (nb201).
        choices: Allowed values in index order (the genotype stores the index).
        parent: ``(i, j)``: the decision matters only when decision ``i``'s index is at least
            ``j`` (``i`` comes before this decision); None: it always matters.
    """

    name: str
    choices: tuple[Any, ...]
    parent: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not self.choices:
            raise ArchitectureError(f"decision {self.name!r} has no choices")
        if self.parent is not None:
            if len(self.parent) != 2 or not all(is_integer(v) and v >= 0 for v in self.parent):
                raise ArchitectureError(
                    f"decision {self.name!r}: parent must be (decision index, choice index), "
                    f"got {self.parent!r}"
                )
            object.__setattr__(self, "parent", (int(self.parent[0]), int(self.parent[1])))

    def is_active(self, genotype: Sequence[int] | np.ndarray) -> bool:
        """Whether this decision changes the architecture of ``genotype``."""
        return self.parent is None or int(genotype[self.parent[0]]) >= self.parent[1]


def active_decisions(
    decisions: Sequence[Decision], genotype: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Boolean mask of the decisions that change the architecture of ``genotype``.

    Args:
        decisions: A space's :meth:`SearchSpace.decisions`.
        genotype: One choice index per decision.

    Returns:
        ``mask[i]`` is True when decision ``i`` matters.
    """
    return np.array([d.is_active(genotype) for d in decisions], dtype=bool)


@runtime_checkable
class SearchSpace(Protocol):
    """What every search space offers (``isinstance(space, SearchSpace)`` checks the names).

    Spaces with few enough architectures also offer ``enumerate()``, yielding each once in a fixed
    order; it is optional and not part of the protocol.
    """

    name: str

    def decisions(self) -> tuple[Decision, ...]:
        """The categorical decisions, in genotype order."""
        ...

    def genotype(self, arch: Any) -> tuple[int, ...]:
        """One choice index per decision (0 for inactive ones); validates ``arch`` first."""
        ...

    def from_genotype(self, genotype: Sequence[int]) -> Any:
        """The architecture of a genotype; ArchitectureError (one line) if it names none."""
        ...

    def validate(self, arch: Any) -> Any:
        """The architecture (parsed from its canonical string if one is given), or
        ArchitectureError naming what is wrong."""
        ...

    def contains(self, arch: Any) -> bool:
        """Whether :meth:`validate` accepts ``arch``."""
        ...

    def sample(self, rng: np.random.Generator) -> Any:
        """One random architecture."""
        ...

    def sample_many(self, n: int, rng: np.random.Generator) -> list[Any]:
        """``n`` distinct random architectures."""
        ...

    def size(self) -> int:
        """The exact number of architectures."""
        ...

    def params(self, arch: Any) -> int:
        """Trainable parameters of ``build(arch)``."""
        ...

    def flops(self, arch: Any) -> int:
        """Multiply-accumulates of one forward pass of one image."""
        ...

    def build(self, arch: Any) -> Any:
        """The plain PyTorch network of ``arch``."""
        ...

    def smallest(self) -> Any:
        """The architecture with the fewest parameters."""
        ...

    def largest(self) -> Any:
        """The architecture with the most parameters."""
        ...

    def config(self) -> dict[str, Any]:
        """Constructor options as JSON-ready primitives."""
        ...
