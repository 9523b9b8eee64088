"""Context model: per-layer embeddings that see the whole architecture.

A layer's best weights depend on its neighbours (what it receives, what consumes it), so every slot
embedding is computed by a small Transformer over all slots of the architecture.
"""

from __future__ import annotations

import torch
from torch import nn

from adwp.registry import ENCODERS

__all__ = ["ContextEncoder"]


@ENCODERS.register("context")
class ContextEncoder(nn.Module):
    """Transformer over the tokens of an encoding.

    Args:
        feature_dim: Per-token encoding width ``F``.
        num_tokens: Tokens ``T`` of an encoding (layer slots on the macro spaces).
        embed_dim: Embedding width ``E``.
        layers: Transformer layers; 0 embeds every token from its own encoding and position only
            (no token sees the rest of the architecture, except through the global embedding).
        heads: Attention heads (must divide ``embed_dim``).

    Shapes:
        input ``[B, T, F]`` -> token embeddings ``[B, T, E]`` and a global embedding ``[B, E]``
        (the mean of token embeddings weighted by feature 0, the probability a token is present).
    """

    def __init__(
        self,
        feature_dim: int,
        num_tokens: int,
        embed_dim: int = 64,
        layers: int = 2,
        heads: int = 4,
    ) -> None:
        super().__init__()
        self.input = nn.Linear(feature_dim, embed_dim)
        self.position = nn.Parameter(torch.randn(num_tokens, embed_dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            embed_dim, heads, dim_feedforward=2 * embed_dim, dropout=0.0, batch_first=True
        )
        self.transformer: nn.Module = (
            nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            if layers
            else nn.Identity()
        )
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, encoding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeds every slot in the context of the whole architecture.

        Args:
            encoding: ``[B, L, F]``; feature 0 is the slot's probability of being active.

        Returns:
            Slot embeddings ``[B, L, E]`` and global embedding ``[B, E]``.
        """
        tokens = self.norm(self.transformer(self.input(encoding) + self.position))
        active = encoding[..., :1]
        pooled = (tokens * active).sum(dim=1) / active.sum(dim=1).clamp_min(1e-6)
        return tokens, pooled
