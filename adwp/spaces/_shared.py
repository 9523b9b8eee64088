"""What the built-in spaces share: methods a space derives from its own ``validate``, ``sample``
and ``size``, and an architecture's JSON string form derived from its ``to_dict``/``from_dict``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from adwp.errors import ArchitectureError
from adwp.spaces._sampling import draw_many

__all__ = ["AssignmentMethods", "JsonForm", "SpaceMethods"]


class SpaceMethods:
    """``contains`` and ``sample_many`` of a space with ``validate``, ``sample`` and ``size``."""

    def contains(self, arch: Any) -> bool:
        """Returns whether ``validate`` would accept the architecture."""
        try:
            self.validate(arch)
        except ArchitectureError:
            return False
        return True

    def sample_many(self, n: int, rng: np.random.Generator, unique: bool = True) -> list[Any]:
        """Draws ``n`` architectures with :meth:`sample`.

        Args:
            n: How many.
            rng: Source of randomness.
            unique: Skip repeats (raises if the space has fewer than ``n`` architectures).

        Returns:
            The architectures in draw order.

        Raises:
            ArchitectureError: If ``unique`` and ``n`` exceeds the size of the space.
        """
        return draw_many(self.sample, self.size(), n, rng, unique)


class JsonForm:
    """``to_json`` and ``from_json`` of an architecture with ``to_dict`` and ``from_dict``."""

    def to_json(self) -> str:
        """Returns the JSON form as a string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Any:
        """Parses the JSON form produced by :meth:`to_json`.

        Raises:
            ArchitectureError: If the text is not valid JSON or not an architecture.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArchitectureError(f"architecture is not valid JSON: {exc.msg}") from None
        return cls.from_dict(data)


class AssignmentMethods:
    """What an assignment space (:class:`adwp.spaces.AssignmentSpace`) derives from its
    ``assignments``, ``from_depths``, ``config`` and total-depth range: sampling, counting,
    enumerating, and the same space over other total depths."""

    def with_total_depth(self, low: int | None, high: int | None) -> Any:
        """The same space with total depths from ``low`` to ``high`` (None: this space's own)."""
        config = self.config()
        config["min_total_depth"] = self.min_total_depth if low is None else low
        config["max_total_depth"] = self.max_total_depth if high is None else high
        return type(self)(**config)

    def size(self) -> int:
        """Returns the exact number of architectures in the space."""
        return len(self.assignments())

    def sample(self, rng: np.random.Generator) -> Any:
        """Draws an assignment uniformly from the allowed ones."""
        options = self.assignments()
        return self.from_depths(options[rng.integers(len(options))])

    def enumerate(self) -> Iterator[Any]:
        """Yields every architecture, ordered by per-stage depths."""
        for depths in self.assignments():
            yield self.from_depths(depths)
