"""NAS-Bench-201's cell: its operations, its edges and the immutable :class:`CellArchitecture`.

Architectures are written in NAS-Bench-201's own string form, e.g.
``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|``,
so published tables can be keyed on it directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adwp.errors import ArchitectureError
from adwp.spaces._shared import JsonForm

__all__ = [
    "ALLOWED",
    "CONV_KERNELS",
    "EDGES",
    "ENCODING",
    "NUM_NODES",
    "OPERATIONS",
    "CellArchitecture",
    "edge_name",
]


OPERATIONS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)
"""The five edge operations, in NAS-Bench-201's order (the genotype's integer codes)."""

EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""The six ``(from_node, to_node)`` edges of a cell, in the order of the string form."""

NUM_NODES = 4
CONV_KERNELS = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
ENCODING = {op: i for i, op in enumerate(OPERATIONS)}


def edge_name(edge: int) -> str:
    source, target = EDGES[edge]
    return f"{source}->{target}"


ALLOWED = ", ".join(OPERATIONS)


@dataclass(frozen=True)
class CellArchitecture(JsonForm):
    """An immutable, hashable NAS-Bench-201 cell: one operation per edge.

    Isomorphic cells (e.g. ones that differ only on an edge whose result is never used) stay
    distinct architectures, as in NAS-Bench-201's own tables.

    Args:
        ops: Six operation names from :data:`OPERATIONS`, one per edge in :data:`EDGES` order
            (``0->1, 0->2, 1->2, 0->3, 1->3, 2->3``).

    Raises:
        ArchitectureError: If there are not six operations or one is not allowed.
    """

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        # Accept any sequence for convenience but store a tuple so the value stays hashable.
        if isinstance(self.ops, str | bytes) or not isinstance(self.ops, Sequence):
            raise ArchitectureError(
                f"cell ops must be a sequence of {len(EDGES)} operation names, got {self.ops!r}"
            )
        ops = tuple(self.ops)
        if len(ops) != len(EDGES):
            raise ArchitectureError(f"cell has {len(ops)} edges, expected exactly {len(EDGES)}")
        for edge, op in enumerate(ops):
            if op not in ENCODING:
                raise ArchitectureError(
                    f"edge {edge_name(edge)}: op {op!r} not in allowed ops {ALLOWED}"
                )
        object.__setattr__(self, "ops", ops)

    def to_string(self) -> str:
        """Returns NAS-Bench-201's string form ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        nodes = []
        for target in range(1, NUM_NODES):
            tokens = [
                f"{op}~{source}"
                for (source, to), op in zip(EDGES, self.ops, strict=True)
                if to == target
            ]
            nodes.append("|" + "|".join(tokens) + "|")
        return "+".join(nodes)

    def __str__(self) -> str:
        return self.to_string()

    @classmethod
    def from_string(cls, text: str) -> CellArchitecture:
        """Parses NAS-Bench-201's string form.

        Args:
            text: e.g. ``"|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|"
                "avg_pool_3x3~2|"``.

        Returns:
            The cell.

        Raises:
            ArchitectureError: Naming the malformed part of the string or the offending edge.
        """
        if not isinstance(text, str) or not text.strip():
            raise ArchitectureError(f"empty or non-string NB201 architecture: {text!r}")
        parts = text.strip().split("+")
        if len(parts) != NUM_NODES - 1:
            raise ArchitectureError(
                f"NB201 architecture {text!r} has {len(parts)} '+'-separated nodes, "
                f"expected {NUM_NODES - 1}"
            )
        ops: list[str] = []
        for target, part in enumerate(parts, start=1):
            if len(part) < 2 or not (part.startswith("|") and part.endswith("|")):
                raise ArchitectureError(
                    f"node {target} part {part!r} must be '|'-delimited, e.g. '|none~0|'"
                )
            tokens = part[1:-1].split("|")
            if len(tokens) != target:
                raise ArchitectureError(
                    f"node {target} part {part!r} has {len(tokens)} edges, expected {target}"
                )
            for source, token in enumerate(tokens):
                op, sep, index = token.partition("~")
                if not sep or index != str(source):
                    raise ArchitectureError(
                        f"node {target} edge token {token!r} must be '<op>~{source}'"
                    )
                ops.append(op)
        return cls(tuple(ops))

    def to_dict(self) -> dict[str, Any]:
        """Returns the JSON-ready form ``{"ops": [op, ...]}`` (edges in :data:`EDGES` order)."""
        return {"ops": list(self.ops)}

    @classmethod
    def from_dict(cls, data: Any) -> CellArchitecture:
        """Builds a cell from its JSON-ready form.

        Args:
            data: A mapping with key ``"ops"``, as returned by :meth:`to_dict`.

        Returns:
            The cell.

        Raises:
            ArchitectureError: If the key is missing or the operations are not valid.
        """
        if not isinstance(data, dict) or set(data) != {"ops"} or not isinstance(data["ops"], list):
            raise ArchitectureError('NB201 architecture JSON must be an object {"ops": [...]}')
        return cls(tuple(data["ops"]))
