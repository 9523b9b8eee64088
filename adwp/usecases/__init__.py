"""The use cases of adwp as functions: what the ``adwp`` commands do, for Python callers.

- :func:`rank`: score architectures with trained weight generators (``adwp rank``).
- :func:`search`: search a space with a backend, a differentiable searcher, or a trained
  generator's gradient (``adwp search``).
- :func:`groundtruth`: train architectures standalone into a table (``adwp groundtruth``);
  :func:`merge_groundtruth` joins shard tables.
- :func:`correlate`: rank correlation of scores against a ground truth (``adwp correlate``).

Each returns a frozen result whose ``to_dict()`` is the JSON the command writes, and raises an
:class:`adwp.AdwpError` with a one-line message on a wrong argument. The files they read and
write are in :mod:`adwp.io`. Example::

    from adwp.usecases import correlate, rank

    result = rank(["k3w50s1|k5w100s1|k3w50s1"], checkpoints=["runs/mnist5k.pt"])
    print(result.scores, result.to_dict()["archs"])

Names are imported lazily, so ``import adwp.usecases`` imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "rank": "adwp.usecases.ranking",
    "RankResult": "adwp.usecases.ranking",
    "search": "adwp.usecases.searching",
    "search_methods": "adwp.usecases.searching",
    "SEARCH_DEFAULTS": "adwp.usecases.searching",
    "SearchRun": "adwp.usecases._search_job",
    "groundtruth": "adwp.usecases.ground_truth",
    "merge_groundtruth": "adwp.usecases.ground_truth",
    "GroundTruthResult": "adwp.usecases.ground_truth",
    "correlate": "adwp.usecases.correlation",
    "CorrelationResult": "adwp.usecases.correlation",
    "describe_space": "adwp.usecases.describe",
    "check_space_options": "adwp.usecases._common",
    "load_data": "adwp.usecases._common",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'adwp.usecases' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
