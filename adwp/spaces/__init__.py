"""Search spaces: the :class:`SearchSpace` protocol, the space registry and the built-in spaces.

:class:`MacroNet` (the plain PyTorch network a macro-space architecture builds) is imported on
first use, so that importing the spaces does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from adwp.spaces import protocol as _protocol
from adwp.spaces._registry import (
    DATA_SHAPE,
    get_space,
    layer_assignment_region,
    list_spaces,
    register_space,
    space_options,
)
from adwp.spaces.macro import (
    Architecture,
    Layer,
    LayerAssignmentSpace,
    LayerPlan,
    MacroSpace,
)
from adwp.spaces.nb201 import CellArchitecture, NB201Space
from adwp.spaces.nbmacro import NBMacroArchitecture, NBMacroAssignmentSpace, NBMacroSpace

# Re-exported as themselves: __all__ takes the protocol's names from its module.
from adwp.spaces.protocol import (
    AssignmentSpace as AssignmentSpace,
    Cut as Cut,
    Decision as Decision,
    DecisionGroup as DecisionGroup,
    DepthLimitedSpace as DepthLimitedSpace,
    DifferentiableSpace as DifferentiableSpace,
    GeneratorSpace as GeneratorSpace,
    MixedGeneratorSpace as MixedGeneratorSpace,
    SearchSpace as SearchSpace,
    WeightSlot as WeightSlot,
    active_decisions as active_decisions,
)

if TYPE_CHECKING:
    from adwp.spaces.macro.network import MacroNet

__all__ = [
    "DATA_SHAPE",
    "Architecture",
    "CellArchitecture",
    "Layer",
    "LayerAssignmentSpace",
    "LayerPlan",
    "MacroNet",
    "MacroSpace",
    "NB201Space",
    "NBMacroArchitecture",
    "NBMacroAssignmentSpace",
    "NBMacroSpace",
    "get_space",
    "list_spaces",
    "layer_assignment_region",
    "register_space",
    "space_options",
    # The protocol's names, listed once, in its module.
    *_protocol.__all__,
]


def __getattr__(name: str) -> Any:
    if name == "MacroNet":
        return importlib.import_module("adwp.spaces.macro.network").MacroNet
    raise AttributeError(f"module 'adwp.spaces' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
