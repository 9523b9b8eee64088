"""The ``nbmacro`` search space (NAS-Bench-Macro): the space (:mod:`~adwp.spaces.nbmacro.space`)
and its network (:mod:`~adwp.spaces.nbmacro.network`, torch on first use)."""

from adwp.spaces.nbmacro.space import BLOCKS, STAGE_LAYERS, NBMacroArchitecture, NBMacroSpace

__all__ = ["BLOCKS", "STAGE_LAYERS", "NBMacroArchitecture", "NBMacroSpace"]
