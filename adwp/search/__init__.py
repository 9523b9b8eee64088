"""Searchers that take any :class:`adwp.backend.RankingBackend` as their ranking backend.

- :class:`LayerAssignmentSearch`: inherited layer-assignment search (Meng et al., AAAI 2020),
  with an "architecture dataset" mode.
- :class:`ImportanceSamplingSearch`: multi-complexity importance-sampling search on ASNG
  (Noda et al., 2022): one architecture per complexity coefficient from one pooled run.
- :class:`RandomSearch` and :class:`RegularizedEvolution`: the usual baselines.
- :mod:`adwp.search.optuna`: expose the space and a backend to an Optuna study.

Example::

    from adwp.backend import load_backend
    from adwp.search import ImportanceSamplingSearch

    backend = load_backend("hypernet:runs/mnist5k.pt")
    result = ImportanceSamplingSearch(backend, coefficients=[0, 0.1, 0.3], samples=8).run(50)
    for pick in result.results:
        print(pick["coefficient"], pick["arch"], pick["score"], pick["params"])

Names are imported lazily, so ``import adwp.search`` does not import Optuna.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CategoricalEncoding": "adwp.search._encoding",
    "CountingBackend": "adwp.search._common",
    "SearchResult": "adwp.search._common",
    "pareto_front": "adwp.search._common",
    "LayerAssignmentSearch": "adwp.search.layer_assignment",
    "LayerAssignmentResult": "adwp.search.layer_assignment",
    "children": "adwp.search.layer_assignment",
    "ImportanceSamplingSearch": "adwp.search.importance_sampling",
    "ImportanceSamplingResult": "adwp.search.importance_sampling",
    "CategoricalASNG": "adwp.search.importance_sampling",
    "RandomSearch": "adwp.search.random_search",
    "RegularizedEvolution": "adwp.search.evolution",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'adwp.search' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
