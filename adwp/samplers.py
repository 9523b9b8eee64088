"""Architecture samplers that propose the meta-batch of every hypernetwork training step.

A sampler decides where in the space the hypernetwork spends its training; the stochastic encoder
then draws architecture parameters around each proposal. New samplers (e.g. one concentrated on an
inherited region of the layer-assignment search) register with :func:`register_sampler`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from adwp.errors import AdwpError
from adwp.spaces import Architecture

__all__ = [
    "ArchitectureSampler",
    "UniformSampler",
    "get_sampler",
    "list_samplers",
    "register_sampler",
]

_SAMPLERS: dict[str, Callable[..., Any]] = {}


@runtime_checkable
class ArchitectureSampler(Protocol):
    """Proposes architectures for a training step."""

    def sample(self, n: int, rng: np.random.Generator) -> list[Architecture]:
        """Returns ``n`` architectures of the space drawn with ``rng``."""
        ...


def register_sampler(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a sampler factory ``factory(space, **options)`` under ``name``."""

    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        if name in _SAMPLERS:
            raise ValueError(f"sampler {name!r} is already registered")
        _SAMPLERS[name] = factory
        return factory

    return decorate


def get_sampler(name: str, space: Any, **options: Any) -> ArchitectureSampler:
    """Builds a registered sampler for ``space``.

    Raises:
        AdwpError: If the name is unknown.
    """
    if name not in _SAMPLERS:
        raise AdwpError(f"unknown sampler {name!r}; available: {', '.join(list_samplers())}")
    return _SAMPLERS[name](space, **options)


def list_samplers() -> list[str]:
    """Returns the registered sampler names, sorted."""
    return sorted(_SAMPLERS)


@register_sampler("uniform")
class UniformSampler:
    """Draws every decision uniformly (``space.sample``).

    Args:
        space: The search space.
    """

    def __init__(self, space: Any) -> None:
        self.space = space

    def sample(self, n: int, rng: np.random.Generator) -> list[Architecture]:
        """Returns ``n`` independent draws of ``space.sample``."""
        return [self.space.sample(rng) for _ in range(n)]
