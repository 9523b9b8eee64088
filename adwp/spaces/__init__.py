"""Search spaces: the :class:`SearchSpace` protocol, the space registry and the built-in spaces.

:class:`MacroNet` (the plain PyTorch network a macro-space architecture builds) is imported on
first use, so that importing the spaces does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from adwp.spaces._registry import (
    DATA_SHAPE,
    get_space,
    list_spaces,
    register_space,
    space_options,
)
from adwp.spaces.macro import Architecture, Layer, LayerAssignmentSpace, LayerPlan, MacroSpace
from adwp.spaces.nb201 import CellArchitecture, NB201Space
from adwp.spaces.nbmacro import NBMacroArchitecture, NBMacroSpace
from adwp.spaces.protocol import (
    Cut,
    Decision,
    DecisionGroup,
    DifferentiableSpace,
    GeneratorSpace,
    MixedGeneratorSpace,
    SearchSpace,
    WeightSlot,
    active_decisions,
)

if TYPE_CHECKING:
    from adwp.spaces.macro.network import MacroNet

__all__ = [
    "DATA_SHAPE",
    "Architecture",
    "CellArchitecture",
    "Cut",
    "Decision",
    "DecisionGroup",
    "DifferentiableSpace",
    "GeneratorSpace",
    "Layer",
    "LayerAssignmentSpace",
    "LayerPlan",
    "MacroNet",
    "MacroSpace",
    "MixedGeneratorSpace",
    "NB201Space",
    "NBMacroArchitecture",
    "NBMacroSpace",
    "SearchSpace",
    "WeightSlot",
    "active_decisions",
    "get_space",
    "list_spaces",
    "register_space",
    "space_options",
]


def __getattr__(name: str) -> Any:
    if name == "MacroNet":
        return importlib.import_module("adwp.spaces.macro.network").MacroNet
    raise AttributeError(f"module 'adwp.spaces' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
