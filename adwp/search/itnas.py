"""ITNAS (inter-layer transition NAS): inner edges' distributions follow from their predecessors'.

Our reading of the method, whose code is not public (the choices the abstract leaves open are
marked *choice*):

- An edge ``i -> j`` of a cell is *outer* when its predecessor edges (the edges into node ``i``)
  lie in another cell: in an NB201 cell, the edges leaving node 0 (``0->1``, ``0->2``,
  ``0->3``). Outer edges have independent logits and a softmax, as in DARTS.
- An *inner* edge (``1->2``, ``1->3``, ``2->3``) has no logits of its own. Its distribution is
  derived, in edge order, from those of its predecessor edges ``k`` (the edges into node ``i``)
  through a learnable transition matrix per (predecessor, edge) pair:
  ``p_edge = sum_k a_k * p_k @ T_k``.
- *Choice*: each ``T_k`` is row-stochastic, the row-wise softmax of a learnable matrix, so
  ``p_k @ T_k`` is a distribution. A predecessor's operation moves the edge's probability
  towards the operations that tend to follow it.
- *Choice*: the attention ``a`` over an edge's predecessors (``2->3`` has two, ``0->2`` and
  ``1->2``) is a softmax of learnable scores: the "attentive probability transition".
- A transition matrix equal to the identity makes an inner edge a plain copy of its single
  predecessor's distribution (tested).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adwp.search.differentiable import ArchitectureParameters, register_searcher
from adwp.spaces.nb201 import EDGES

__all__ = ["ItnasParameters", "predecessors"]


def predecessors(edges: tuple[tuple[int, int], ...] = EDGES) -> list[list[int]]:
    """For every edge, the indices of the edges into its source node (none for outer edges)."""
    return [[k for k, (_, to) in enumerate(edges) if to == source] for source, _ in edges]


class ItnasParameters(ArchitectureParameters):
    """Outer-edge logits, and transition matrices and attention scores for the inner edges.

    Args:
        shape: ``(edges, operations)``; the edges are NB201's (:data:`adwp.spaces.nb201.EDGES`).
        generator: Draws the initial logits and matrices (``1e-3`` x standard normal).
    """

    def __init__(self, shape: tuple[int, int], generator: torch.Generator) -> None:
        super().__init__(shape)
        edges, ops = shape
        if edges != len(EDGES):
            raise ValueError(f"ITNAS reads NB201's {len(EDGES)} edges, got {edges}")
        self.sources = predecessors()
        self.outer = [e for e, pred in enumerate(self.sources) if not pred]
        self.logits = nn.Parameter(1e-3 * torch.randn(len(self.outer), ops, generator=generator))
        pairs = [(e, k) for e, pred in enumerate(self.sources) for k in pred]
        self.pair_index = {pair: i for i, pair in enumerate(pairs)}
        self.transitions = nn.Parameter(
            1e-3 * torch.randn(len(pairs), ops, ops, generator=generator)
        )
        self.attention = nn.Parameter(torch.zeros(len(pairs)))

    def transition(self, edge: int, predecessor: int) -> torch.Tensor:
        """The row-stochastic ``[ops, ops]`` matrix from ``predecessor``'s to ``edge``'s
        distribution."""
        return F.softmax(self.transitions[self.pair_index[(edge, predecessor)]], dim=-1)

    def weights(self) -> torch.Tensor:
        rows: list[torch.Tensor | None] = [None] * len(self.sources)
        outer = F.softmax(self.logits, dim=-1)
        for i, edge in enumerate(self.outer):
            rows[edge] = outer[i]
        # EDGES lists every edge after the edges into its source node, so one pass suffices.
        for edge, pred in enumerate(self.sources):
            if not pred:
                continue
            scores = torch.stack([self.attention[self.pair_index[(edge, k)]] for k in pred])
            attention = F.softmax(scores, dim=0)
            moved = [rows[k] @ self.transition(edge, k) for k in pred]
            rows[edge] = sum(a * m for a, m in zip(attention, moved, strict=True))
        return torch.stack(rows)


register_searcher(
    "itnas",
    lambda shape, generator, cells: ItnasParameters(shape, generator),
    description="ITNAS: edge weights moved along the cell's topology by attention",
)
