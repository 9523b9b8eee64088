"""EnTranNAS: engine cells search, transit cells run the derived sub-graph; derivation by
differentiable sparsification.

Our reading of the method, whose code is not public (*choice* marks what the abstract leaves
open):

- Every node of a cell owns its *connections*: one per (incoming edge, operation other than
  ``none``). A softmax over a node's connections gives ``q``, and a learnable threshold per node,
  ``t = sigmoid(beta) / n`` for a node with ``n`` connections, sparsifies it:
  ``w = relu(q - t)``, times the node's number of incoming edges, so its edges mix weights that
  sum to ``1 - sigmoid(beta)`` on average (a DARTS edge's sum to 1), and not renormalised, so a
  kept connection always has a gradient. A connection whose probability falls below its node's
  threshold gets a weight of exactly zero; a threshold above every probability of an edge prunes
  the edge (derived as ``none``), so a node keeps any number of inputs: topology search. Because
  ``t < 1 / n <= max(q)``, a node always keeps its strongest connection, so every node, the
  output included, stays reachable from the cell's input (*choice*, as in differentiable
  sparsification, Lee 2019; with ``none`` as an operation an argmax could prune all of them).
- Derivation takes each edge's heaviest non-zero operation, so the derived architecture is what
  the engine computes, not a top-k rule applied afterwards.
- *Engine cells* (*choice*: the first ``engines`` relaxed cells; 1 by default) mix every
  operation with the sparsified weights and carry the gradients to the logits and thresholds.
- *Transit cells* (the others) run only the currently derived sub-graph: a one-hot, gradient-free
  weight per edge, so the relaxed network skips every other operation and costs about what the
  derived network costs. That is the memory and time saving over DARTS.
- *Choice*: the feature-sharing strategy is read as every cell, engine or transit, feeding the
  same stem and head, trained together by the weight step; operation weights are not shared
  across cells (their widths differ between stages).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adwp.search.differentiable import ArchitectureParameters, register_searcher
from adwp.spaces.nb201 import EDGES

__all__ = ["EntrannasParameters"]


class EntrannasParameters(ArchitectureParameters):
    """Connection logits and a threshold per node; per-cell weights for engine and transit cells.

    Args:
        shape: ``(edges, operations)``; the edges are NB201's (:data:`adwp.spaces.nb201.EDGES`)
            and operation 0 is ``none``, which a pruned edge derives to and which is never a
            connection of its own.
        generator: Draws the initial logits (``1e-3`` x standard normal).
        cells: Relaxed cells of the network.
        engines: How many of the first cells are engine cells (at least 1).
        threshold: Initial ``beta`` of every node; 0 prunes a connection once its probability
            falls below half its node's uniform share.

    Raises:
        ValueError: If the shape is not NB201's edges or ``engines`` is out of range.
    """

    def __init__(
        self,
        shape: tuple[int, int],
        generator: torch.Generator,
        cells: int = 1,
        engines: int = 1,
        threshold: float = 0.0,
    ) -> None:
        super().__init__(shape)
        edges, ops = shape
        if edges != len(EDGES) or ops < 2:
            raise ValueError(
                f"EnTranNAS reads NB201's {len(EDGES)} edges and at least 2 operations "
                f"(none first), got shape {tuple(shape)}"
            )
        if not 1 <= engines <= cells:
            raise ValueError(f"engines must be in 1..{cells} (the cells), got {engines}")
        self.cells, self.engines = cells, engines
        targets = sorted({to for _, to in EDGES})
        # Node k's incoming edges, in edge order.
        self.incoming = [[e for e, (_, to) in enumerate(EDGES) if to == node] for node in targets]
        self.logits = nn.Parameter(1e-3 * torch.randn(edges, ops - 1, generator=generator))
        self.thresholds = nn.Parameter(torch.full((len(targets),), float(threshold)))

    def sparse(self) -> torch.Tensor:
        """The ``[edges, operations]`` sparsified weights (``none``'s column is zero); a row of
        zeros is a pruned edge."""
        rows: dict[int, torch.Tensor] = {}
        for node, incoming in enumerate(self.incoming):
            q = F.softmax(self.logits[incoming].flatten(), dim=0)
            kept = F.relu(q - torch.sigmoid(self.thresholds[node]) / q.numel())
            # Renormalising would freeze a node left with one connection: constant weight.
            weights = (len(incoming) * kept).view(len(incoming), -1)
            rows.update(zip(incoming, weights))
        return F.pad(torch.stack([rows[e] for e in range(len(rows))]), (1, 0))

    def derive(self) -> list[int]:
        with torch.no_grad():
            return _heaviest_kept(self.sparse())

    def weights(self) -> torch.Tensor:
        engine = self.sparse()
        derived = torch.zeros_like(engine.detach())
        for edge, op in enumerate(_heaviest_kept(engine.detach())):
            if op != 0:
                derived[edge, op] = 1.0
        rows = [engine if cell < self.engines else derived for cell in range(self.cells)]
        return torch.stack(rows)


def _heaviest_kept(sparse: torch.Tensor) -> list[int]:
    """Each edge's heaviest non-zero operation; 0 (``none``) for a pruned edge."""
    return [int(row.argmax()) if bool(row.any()) else 0 for row in sparse]


register_searcher(
    "entrannas",
    lambda shape, generator, cells: EntrannasParameters(shape, generator, cells),
    description="EnTranNAS: engine cells search, transit cells run the derived sub-graph",
)
