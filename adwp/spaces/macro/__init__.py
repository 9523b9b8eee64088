"""The ``macro`` search space and its ``layer-assignment`` sub-space, and everything specific to
them: the :class:`~adwp.spaces.macro.architecture.Architecture` value, the space
(:mod:`~adwp.spaces.macro.space`), what weight generators read from it
(:mod:`~adwp.spaces.macro.generator_methods`), the sub-space
(:mod:`~adwp.spaces.macro.layer_assignment`) and the network (:mod:`~adwp.spaces.macro.network`,
imported with torch on first use)."""

from adwp.spaces.macro.architecture import Architecture, Layer, LayerPlan
from adwp.spaces.macro.layer_assignment import LayerAssignmentSpace
from adwp.spaces.macro.space import MacroSpace

__all__ = [
    "Architecture",
    "Layer",
    "LayerAssignmentSpace",
    "LayerPlan",
    "MacroSpace",
]
