"""Drawing several architectures from any space of the package."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from adwp.errors import ArchitectureError

__all__ = ["draw_many"]

_A = TypeVar("_A")


def draw_many(
    sample: Callable[[np.random.Generator], _A],
    size: int,
    n: int,
    rng: np.random.Generator,
    unique: bool,
) -> list[_A]:
    """Draws ``n`` architectures with ``sample``, skipping repeats if ``unique``.

    Args:
        sample: The space's single draw.
        size: Number of architectures in the space.
        n: How many to draw.
        rng: Source of randomness.
        unique: Skip repeats.

    Returns:
        The architectures in draw order.

    Raises:
        ArchitectureError: If ``unique`` and ``n`` exceeds ``size``.
    """
    if unique and n > size:
        raise ArchitectureError(f"cannot draw {n} distinct architectures from {size}")
    out: list[_A] = []
    seen: set[_A] = set()
    while len(out) < n:
        arch = sample(rng)
        if unique and arch in seen:
            continue
        seen.add(arch)
        out.append(arch)
    return out
