"""Searchers that take any :class:`adwp.backend.RankingBackend` as their ranking backend.

- :class:`LayerAssignmentSearch`: inherited layer-assignment search (Meng et al., AAAI 2020),
  with an "architecture dataset" mode.
- :class:`ImportanceSamplingSearch`: multi-complexity importance-sampling search on ASNG
  (Noda et al., 2022): one architecture per complexity coefficient from one pooled run.
- :class:`RandomSearch` and :class:`RegularizedEvolution`: the usual baselines.
- :mod:`adwp.search.optuna`: expose the space and a backend to an Optuna study.
- :class:`DifferentiableSearch` (:mod:`adwp.search.differentiable`): DARTS-family bi-level search
  on a space's relaxation (``nb201``), trained here rather than ranked by a backend.
- :class:`HypernetGradientSearch` (:mod:`adwp.search.hypernet_gradient`): gradient descent on
  architecture logits through a trained hypernetwork's predicted weights; nothing is trained.
- :class:`EpochSearch`: the epoch loop both share (resume, per-step seeding, progress, history,
  atomic checkpoints); a new gradient searcher subclasses it.

Every result (:class:`SearchResult`, :class:`LayerAssignmentResult`,
:class:`ImportanceSamplingResult`, :class:`DifferentiableResult`, all :class:`SearchOutcome`) has
``best``, the highest-scoring architecture the search evaluated, as a :class:`Pick` (``arch``,
``score``, ``params``, ``flops``, ``extras``); ``evaluated``, a :class:`Pick` of every
architecture the backend scored; ``evaluations``, their number; and ``to_dict()``, whose JSON has
the keys ``best`` (``{"arch", "score", "params", "flops"}``), ``evaluations`` and ``evaluated``
plus the searcher's own. Layer-assignment search adds ``per_depth`` (``{total depth: Pick}``);
importance sampling adds ``per_coefficient``, one :class:`CoefficientPicks` per coefficient with
its ``best`` (highest ``score - eps * complexity`` among everything evaluated) and its
distribution's ``mode``. The gradient searches score no architecture with a backend: their
``evaluated`` are the architectures derived after each epoch, scored by a table when one is
given (NaN, and null in JSON, without), and their ``best`` is the last one derived; they add
``method``, ``arch`` (the best's string), ``truth``, ``history`` and ``config``.

Example::

    from adwp.backend import load_backend
    from adwp.search import ImportanceSamplingSearch

    backend = load_backend("hypernet:runs/mnist5k.pt")
    result = ImportanceSamplingSearch(backend, coefficients=[0, 0.1, 0.3], samples=8).run(50)
    print(result.best.arch, result.best.score, result.evaluations)
    for picks in result.per_coefficient:
        print(picks.coefficient, picks.best.arch, picks.best.score, picks.best.params)

Names are imported lazily, so ``import adwp.search`` does not import Optuna.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CategoricalEncoding": "adwp.search._encoding",
    "CountingBackend": "adwp.search._common",
    "Pick": "adwp.search._common",
    "SearchOutcome": "adwp.search._common",
    "SearchResult": "adwp.search._common",
    "pareto_front": "adwp.search._common",
    "resolve_space": "adwp.search._common",
    "search_result": "adwp.search._common",
    "truth_records": "adwp.search._common",
    "LayerAssignmentSearch": "adwp.search.layer_assignment",
    "LayerAssignmentResult": "adwp.search.layer_assignment",
    "children": "adwp.search.layer_assignment",
    "ImportanceSamplingSearch": "adwp.search.importance_sampling",
    "ImportanceSamplingResult": "adwp.search.importance_sampling",
    "CoefficientPicks": "adwp.search.importance_sampling",
    "CategoricalASNG": "adwp.search.importance_sampling",
    "RandomSearch": "adwp.search.random_search",
    "RegularizedEvolution": "adwp.search.evolution",
    "ArchitectureParameters": "adwp.search.differentiable",
    "DartsParameters": "adwp.search.differentiable",
    "DifferentiableConfig": "adwp.search.differentiable",
    "DifferentiableResult": "adwp.search.differentiable",
    "EpochSearch": "adwp.search._epochs",
    "DifferentiableSearch": "adwp.search.differentiable",
    "HypernetGradientConfig": "adwp.search.hypernet_gradient",
    "HypernetGradientSearch": "adwp.search.hypernet_gradient",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'adwp.search' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
