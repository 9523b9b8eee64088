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
    "RankingBackend": "adwp.ranking.backend",
    "load_backend": "adwp.ranking.backend",
    "EnsembleBackend": "adwp.ranking.backend",
    "checkpoint_ensemble": "adwp.ranking.backends",
    "HyperNetConfig": "adwp.generators.hypernet",
    "HyperNetwork": "adwp.generators.hypernet",
    "FunctionalNetwork": "adwp.generators.functional",
    "TrainConfig": "adwp.generators.build",
    "Trainer": "adwp.generators.training",
    "train": "adwp.generators.training",
    "Evaluator": "adwp.ranking.evaluator",
    "EvaluatorConfig": "adwp.ranking.evaluator",
    "get_sampler": "adwp.generators.samplers",
    "register_sampler": "adwp.generators.samplers",
    "register_proxy": "adwp.ranking.baselines",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'adwp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
