"""Stochastic architecture encoder of the ADWP method (used during hypernetwork training).

For every architecture ``x`` proposed by a sampler, the encoder draws architecture parameters
``theta``: one categorical distribution per decision, ``theta = (1 - lam) * onehot(x) + lam * pi``
with ``pi ~ Dirichlet(1)`` and ``lam ~ U(0, max_mix)`` drawn per architecture. It then samples the
architecture that is actually run, ``x' ~ theta``, and encodes ``theta`` itself (soft probabilities)
as the hypernetwork input. The hypernetwork thus learns weights that are good in expectation over
the architectures a distribution describes: a smooth map from the probability simplex to weights,
which also accepts soft encodings and is differentiable in them (for gradient-based search). A
fraction of every meta-batch is encoded exactly one-hot (``lam = 0``), the regime used for scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from adwp.registry import ENCODERS
from encoders._probabilities import (
    Probabilities,
    check_probabilities,
    encode_probabilities,
    encode_unchecked,
    feature_dim,
    one_hot_probabilities,
    wrap_probabilities,
)

__all__ = ["StochasticEncoder"]


def _dirichlet_ones(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    # Dirichlet(1, ..., 1) is a normalised vector of Exponential(1) draws; drawing them from the
    # uniform generator keeps every random choice tied to one seeded generator.
    exp = -torch.log(torch.rand(shape, generator=generator).clamp_min(1e-12))
    return exp / exp.sum(dim=-1, keepdim=True)


def _categorical(probs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand((*probs.shape[:-1], 1), generator=generator)
    index = (probs.cumsum(dim=-1) < u * probs.sum(dim=-1, keepdim=True)).sum(dim=-1)
    return index.clamp_max(probs.shape[-1] - 1)


@ENCODERS.register("stochastic")
class StochasticEncoder:
    """Draws stochastic architecture parameters around proposed architectures.

    Args:
        space: The search space.
        max_mix: Upper bound of the per-architecture mixing weight ``lam`` (0 gives one-hot).
        hard_fraction: Probability that an architecture is encoded exactly one-hot.
    """

    def __init__(self, space: Any, max_mix: float = 0.5, hard_fraction: float = 0.25) -> None:
        if not 0.0 <= max_mix <= 1.0 or not 0.0 <= hard_fraction <= 1.0:
            raise ValueError("max_mix and hard_fraction must lie in [0, 1]")
        self.space = space
        self.max_mix = max_mix
        self.hard_fraction = hard_fraction
        self.feature_dim = feature_dim(space)
        self.num_tokens = space.num_tokens()

    def parameters_around(self, archs: Sequence[Any], generator: torch.Generator) -> Probabilities:
        """Draws architecture parameters ``theta`` whose mode region contains each architecture.

        Args:
            archs: Proposed architectures of the space.
            generator: Seeded CPU generator.

        Returns:
            Distributions over every decision (rows sum to one).
        """
        base = one_hot_probabilities(self.space, archs)
        n = len(archs)
        lam = torch.rand(n, generator=generator) * self.max_mix
        lam = torch.where(torch.rand(n, generator=generator) < self.hard_fraction, 0.0, lam)
        fields = []
        for h in base:
            noise = _dirichlet_ones(tuple(h.shape), generator)
            # Decisions that do not matter for the proposal have no one-hot row: use the noise.
            h = torch.where(h.sum(dim=-1, keepdim=True) > 0, h, noise)
            mix = lam.view(-1, *([1] * (h.dim() - 1)))
            fields.append((1 - mix) * h + mix * noise)
        return wrap_probabilities(self.space, fields)

    def sample_architectures(self, probs: Probabilities, generator: torch.Generator) -> list[Any]:
        """Samples one architecture from each distribution.

        Args:
            probs: Distributions over every decision.
            generator: Seeded CPU generator.

        Returns:
            Architectures of the space.
        """
        check_probabilities(self.space, probs)
        return self._sample(probs, generator)

    def _sample(self, probs: Probabilities, generator: torch.Generator) -> list[Any]:
        space = self.space
        decisions = len(space.decisions())
        # One draw per group, in group order, so a seed gives the same architectures however
        # the decisions interleave.
        drawn = [
            (group, _categorical(tensor, generator))
            for group, tensor in zip(space.decision_groups(), probs, strict=True)
        ]
        archs = []
        for b in range(drawn[0][1].shape[0]):
            genotype = [0] * decisions
            for group, index in drawn:
                for row, d in enumerate(group.decisions):
                    if d is not None:
                        genotype[d] = int(index[b, row])
            archs.append(space.from_genotype(genotype))
        return archs

    def sample(
        self, archs: Sequence[Any], generator: torch.Generator
    ) -> tuple[list[Any], torch.Tensor]:
        """Draws parameters around ``archs``, samples the architectures to run and encodes them.

        Args:
            archs: Proposed architectures (from a sampler).
            generator: Seeded CPU generator.

        Returns:
            The architectures to run and their soft encodings ``[B, T, feature_dim]``.
        """
        # Built here, so the boundary checks of sample_architectures and encode are not needed.
        probs = self.parameters_around(archs, generator)
        return self._sample(probs, generator), encode_unchecked(self.space, probs)

    def encode(self, probs: Probabilities) -> torch.Tensor:
        """Encodes (soft) distributions, differentiably; see :mod:`encoders._probabilities`."""
        return encode_probabilities(self.space, probs)
