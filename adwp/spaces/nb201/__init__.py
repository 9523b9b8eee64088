"""The ``nb201`` search space (NAS-Bench-201): its cell (:mod:`~adwp.spaces.nb201.cell`), the
space (:mod:`~adwp.spaces.nb201.space`), its network (:mod:`~adwp.spaces.nb201.network`) and the
mixed network of differentiable search (:mod:`~adwp.spaces.nb201.mixed`); the networks import
torch on first use."""

from adwp.spaces.nb201.cell import EDGES, OPERATIONS, CellArchitecture
from adwp.spaces.nb201.space import NB201Space

__all__ = ["EDGES", "OPERATIONS", "CellArchitecture", "NB201Space"]
