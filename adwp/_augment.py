"""Simple, seeded data augmentation for hypernetwork and standalone training."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["apply_shift", "draw_shifts", "random_shift"]


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translates every image by its own random integer offset, filling with zeros.

    Zero is the data mean after normalisation, so the fill looks like background.

    Args:
        x: Images ``[B, C, H, W]``.
        max_shift: Largest offset in pixels along each axis.
        generator: Seeded CPU generator.

    Returns:
        Shifted images, same shape.
    """
    if max_shift <= 0:
        return x
    return apply_shift(x, draw_shifts(x.shape[0], max_shift, generator), max_shift)


def draw_shifts(batch: int, max_shift: int, generator: torch.Generator) -> torch.Tensor | None:
    """The offsets :func:`random_shift` draws for ``batch`` images (None when it draws none), so
    a process that skips a batch can still advance the generator as if it had shifted it."""
    if max_shift <= 0:
        return None
    return torch.randint(-max_shift, max_shift + 1, (batch, 2), generator=generator)


def apply_shift(x: torch.Tensor, shifts: torch.Tensor | None, max_shift: int) -> torch.Tensor:
    """Translates images ``[B, C, H, W]`` by offsets ``[B, 2]`` of :func:`draw_shifts`."""
    if shifts is None:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    rows = torch.arange(h)[None, :] + max_shift - shifts[:, :1]  # [B, H]
    cols = torch.arange(w)[None, :] + max_shift - shifts[:, 1:]  # [B, W]
    rows, cols = rows.to(x.device), cols.to(x.device)
    batch = torch.arange(b, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # [B, H, W, C]
    return out.permute(0, 3, 1, 2).contiguous()
