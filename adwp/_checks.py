"""Small argument checks shared by the library's configurations and searchers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from adwp.errors import AdwpError, DataError

__all__ = ["check_data_fits", "check_fields", "is_integer"]


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer, numpy's included; a bool is not one, though Python says so.

    Args:
        value: Anything.

    Returns:
        True for ``int`` and ``numpy.integer`` values other than bools.
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_fields(
    config: Any,
    counts: Iterable[str] = (),
    positives: Iterable[str] = (),
    seed: str | None = "seed",
) -> None:
    """Refuses a configuration whose named fields are out of range, in one line naming the field.

    Args:
        config: A dataclass instance; its class name prefixes the messages.
        counts: Fields that must be positive integers.
        positives: Fields that must be positive numbers.
        seed: A field that must be a non-negative integer, or None.

    Raises:
        AdwpError: Naming the first field out of range, what it must be and its value.
    """
    kind = type(config).__name__
    for name in counts:
        value = getattr(config, name)
        if not is_integer(value) or value < 1:
            raise AdwpError(f"{kind}.{name} must be a positive integer, got {value!r}")
    if seed is not None:
        value = getattr(config, seed)
        if not is_integer(value) or value < 0:
            raise AdwpError(f"{kind}.{seed} must be a non-negative integer, got {value!r}")
    for name in positives:
        value = getattr(config, name)
        if not value > 0:
            raise AdwpError(f"{kind}.{name} must be positive, got {value!r}")


def check_data_fits(space: Any, data: Any) -> None:
    """Refuses a data set whose image channels or classes are not the space's.

    Args:
        space: A search space (``in_channels``, ``num_classes``).
        data: A :class:`adwp.data.DataSplits` (``name``, ``in_channels``, ``num_classes``).

    Raises:
        DataError: Naming both shapes.
    """
    if (data.in_channels, data.num_classes) != (space.in_channels, space.num_classes):
        raise DataError(
            f"space expects {space.in_channels} channels and {space.num_classes} classes, "
            f"data set {data.name} has {data.in_channels} and {data.num_classes}"
        )
