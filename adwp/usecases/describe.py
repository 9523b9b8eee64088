"""A search space described: what ``adwp space`` prints."""

from __future__ import annotations

from typing import Any

__all__ = ["describe_space"]


def describe_space(name: str, seed: int = 0, **options: Any) -> dict[str, Any]:
    """A registered space's size, decisions, options, and an example and its extremes.

    Args:
        name: The space's registered name.
        seed: Seed of the example architecture.
        **options: The space's options.

    Returns:
        ``space``, ``size``, ``choices``, ``options``, ``example`` (a sampled architecture's
        string), ``example_params``, ``example_flops``, ``largest`` and ``smallest``.

    Raises:
        AdwpError: If the space is unknown or an option wrong.
    """
    import numpy as np

    from adwp.spaces import get_space

    space = get_space(name, **options)
    example = space.sample(np.random.default_rng(seed))
    return {
        "space": name,
        "size": space.size(),
        "choices": space.choices(),
        "options": space.config(),
        "example": example.to_string(),
        "example_params": space.params(example),
        "example_flops": space.flops(example),
        "largest": space.largest().to_string(),
        "smallest": space.smallest().to_string(),
    }
