"""The ``nbmacro`` search space (NAS-Bench-Macro): the space (:mod:`~adwp.spaces.nbmacro.space`),
its network (:mod:`~adwp.spaces.nbmacro.network`, torch on first use) and its layer assignments
(:mod:`~adwp.spaces.nbmacro.assignment`)."""

from adwp.spaces.nbmacro.assignment import NBMacroAssignmentSpace
from adwp.spaces.nbmacro.space import BLOCKS, STAGE_LAYERS, NBMacroArchitecture, NBMacroSpace

__all__ = [
    "BLOCKS",
    "STAGE_LAYERS",
    "NBMacroArchitecture",
    "NBMacroAssignmentSpace",
    "NBMacroSpace",
]
