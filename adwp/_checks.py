"""Small argument checks shared by the library's configurations and searchers."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["is_integer"]


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer, numpy's included; a bool is not one, though Python says so.

    Args:
        value: Anything.

    Returns:
        True for ``int`` and ``numpy.integer`` values other than bools.
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
