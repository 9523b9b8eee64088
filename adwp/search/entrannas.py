"""EnTranNAS: engine cells search, transit cells run the derived sub-graph; derivation by
differentiable sparsification.

Our reading of the method, whose code is not public (*choice* marks what the abstract leaves
open):

- Architecture logits ``alpha`` per edge and one learnable threshold ``t`` per edge. The
  sparsified weights are ``w = relu(softmax(alpha) - t)``: an operation whose probability falls
  below its edge's threshold gets a weight of exactly zero, and a threshold above every
  probability prunes the whole edge (derived as ``none``, so a node keeps any number of inputs:
  topology search). Derivation takes each edge's heaviest non-zero operation, so the derived
  architecture is what the engine computes, not a top-k rule applied afterwards.
- *Engine cells* (*choice*: the first ``engines`` relaxed cells; 1 by default) mix every
  operation with the sparsified weights and carry the gradients to ``alpha`` and ``t``.
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

__all__ = ["EntrannasParameters"]


class EntrannasParameters(ArchitectureParameters):
    """Logits and thresholds per edge; per-cell weights for engine and transit cells.

    Args:
        shape: ``(edges, operations)``; operation 0 must be the space's "no edge" (NB201's
            ``none``), which a pruned edge derives to.
        generator: Draws the initial logits (``1e-3`` x standard normal).
        cells: Relaxed cells of the network.
        engines: How many of the first cells are engine cells (at least 1).
        threshold: Initial threshold of every edge; 0 keeps every operation at first.
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
        if not 1 <= engines <= cells:
            raise ValueError(f"engines must be in 1..{cells} (the cells), got {engines}")
        self.cells, self.engines = cells, engines
        self.logits = nn.Parameter(1e-3 * torch.randn(shape, generator=generator))
        self.thresholds = nn.Parameter(torch.full((shape[0],), float(threshold)))

    def sparse(self) -> torch.Tensor:
        """The ``[edges, operations]`` sparsified weights; a row of zeros is a pruned edge."""
        return F.relu(F.softmax(self.logits, dim=-1) - self.thresholds[:, None])

    def derive(self) -> list[int]:
        with torch.no_grad():
            sparse = self.sparse()
            return [int(row.argmax()) if bool(row.any()) else 0 for row in sparse]

    def weights(self) -> torch.Tensor:
        engine = self.sparse()
        derived = torch.zeros_like(engine.detach())
        for edge, op in enumerate(self.derive()):
            if op != 0:
                derived[edge, op] = 1.0
        rows = [engine if cell < self.engines else derived for cell in range(self.cells)]
        return torch.stack(rows)


register_searcher("entrannas", lambda shape, generator, cells: EntrannasParameters(
    shape, generator, cells))  # fmt: skip
