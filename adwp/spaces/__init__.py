"""Search spaces: the :class:`Architecture` value, the space registry and the built-in spaces."""

from __future__ import annotations

from adwp.spaces._registry import get_space, list_spaces, register_space
from adwp.spaces.architecture import Architecture, Layer
from adwp.spaces.macro import LayerAssignmentSpace, LayerPlan, MacroSpace

__all__ = [
    "Architecture",
    "Layer",
    "LayerAssignmentSpace",
    "LayerPlan",
    "MacroSpace",
    "get_space",
    "list_spaces",
    "register_space",
]
