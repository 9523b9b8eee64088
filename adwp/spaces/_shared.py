"""What the built-in spaces share: methods a space derives from its own ``validate``, ``sample``
and ``size``, and an architecture's JSON string form derived from its ``to_dict``/``from_dict``."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from adwp.errors import ArchitectureError
from adwp.spaces._sampling import draw_many

__all__ = ["JsonForm", "SpaceMethods"]


class SpaceMethods:
    """``contains`` and ``sample_many`` of a space with ``validate``, ``sample`` and ``size``."""

    def contains(self, arch: Any) -> bool:
        """Returns whether ``validate`` would accept the architecture."""
        try:
            self.validate(arch)  # type: ignore[attr-defined]
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
        return draw_many(self.sample, self.size(), n, rng, unique)  # type: ignore[attr-defined]


class JsonForm:
    """``to_json`` and ``from_json`` of an architecture with ``to_dict`` and ``from_dict``."""

    def to_json(self) -> str:
        """Returns the JSON form as a string."""
        return json.dumps(self.to_dict(), sort_keys=True)  # type: ignore[attr-defined]

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
        return cls.from_dict(data)  # type: ignore[attr-defined]
