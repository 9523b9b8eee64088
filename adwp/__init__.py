"""adwp: zero-finetune ranking of neural architectures with hypernetwork-predicted weights.

Public names are imported lazily, so ``import adwp`` stays cheap (no torch until it is needed).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

_EXPORTS = {
    "AdwpError": "adwp.errors",
    "ArchitectureError": "adwp.errors",
    "CheckpointError": "adwp.errors",
    "DataError": "adwp.errors",
    "RegistryError": "adwp.errors",
    "Registry": "adwp.registry",
    "Architecture": "adwp.spaces",
    "Layer": "adwp.spaces",
    "get_space": "adwp.spaces",
    "list_spaces": "adwp.spaces",
    "register_space": "adwp.spaces",
    "get_dataset": "adwp.data",
    "list_datasets": "adwp.data",
    "register_dataset": "adwp.data",
    "RankingBackend": "adwp.backend",
    "load_backend": "adwp.backend",
    "EnsembleBackend": "adwp.backend",
    "checkpoint_ensemble": "adwp.backend",
    "HyperNetConfig": "adwp.hypernet",
    "HyperNetwork": "adwp.hypernet",
    "FunctionalNetwork": "adwp.functional",
    "TrainConfig": "adwp.generator",
    "Trainer": "adwp.training",
    "train": "adwp.training",
    "Evaluator": "adwp.evaluator",
    "EvaluatorConfig": "adwp.evaluator",
    "get_sampler": "adwp.samplers",
    "register_sampler": "adwp.samplers",
    "register_proxy": "adwp.baselines",
    "rank": "adwp.usecases.ranking",
    "search": "adwp.usecases.searching",
    "groundtruth": "adwp.usecases.ground_truth",
    "correlate": "adwp.usecases.correlation",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'adwp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
