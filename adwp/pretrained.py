"""Trained evaluators that ship with adwp, by name (as ppuda ships ``GHN2('cifar10')``).

A shipped checkpoint is an ordinary ``adwp train`` checkpoint, slimmed by
:func:`slim_checkpoint` to what scoring needs, in the package's ``weights/`` folder. Scoring with
one needs only the data set's images: ``Evaluator.pretrained(name, data_root=...)`` or
``adwp rank --pretrained NAME --data-root DIR``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from adwp.checkpoint import load_checkpoint, read_checkpoint_header, save_checkpoint
from adwp.errors import CheckpointError
from adwp.registry import PRETRAINED

__all__ = ["Pretrained", "check_pretrained", "get_pretrained", "list_pretrained", "slim_checkpoint"]


@dataclass(frozen=True)
class Pretrained:
    """One shipped evaluator.

    Attributes:
        name: Its name, e.g. ``"nb201-cifar10"``.
        file: The checkpoint's file name in the package's ``weights/`` folder.
        space: The search space it scores.
        dataset: The data set whose validation images it scores on.
        summary: What it is and how well it ranks, in one line.
        metric: The scoring metric its reported ranking was measured with (the default of
            :meth:`adwp.evaluator.Evaluator.pretrained` and ``adwp rank --pretrained``).
        max_images: The validation images per score of its reported ranking (None: all).
    """

    name: str
    file: str
    space: str
    dataset: str
    summary: str
    metric: str = "accuracy"
    max_images: int | None = None

    @property
    def path(self) -> Path:
        """The checkpoint file inside the installed package."""
        return Path(str(resources.files("adwp") / "weights" / self.file))


PRETRAINED.register(
    "nb201-cifar10",
    Pretrained(
        name="nb201-cifar10",
        file="nb201-cifar10.pt",
        space="nb201",
        dataset="cifar10",
        summary="hypernetwork on NAS-Bench-201 (proxy skeleton) trained on CIFAR-10 image "
        "folders; docs/results.md, 'NAS-Bench-201, CIFAR-10'",
        # Minus the log loss ranks NB201 far better than accuracy (docs/decisions.md).
        metric="neg_log_loss",
        max_images=1000,
    ),
    description="hypernetwork on NAS-Bench-201 (proxy skeleton) trained on CIFAR-10",
)


PRETRAINED.register(
    "nbmacro-cifar10",
    Pretrained(
        name="nbmacro-cifar10",
        file="nbmacro-cifar10.pt",
        space="nbmacro",
        dataset="cifar10",
        summary="hypernetwork on NAS-Bench-Macro (proxy skeleton: stem 8, stages 16/32/64, head "
        "128) trained on CIFAR-10 image folders; docs/results.md, 'NAS-Bench-Macro, CIFAR-10'",
        metric="neg_log_loss",
        max_images=1000,
    ),
    description="hypernetwork on NAS-Bench-Macro (proxy skeleton) trained on CIFAR-10",
)


def list_pretrained() -> list[str]:
    """Names of the shipped evaluators, sorted."""
    return PRETRAINED.list()


def get_pretrained(name: str) -> Pretrained:
    """The shipped evaluator of a name.

    Raises:
        AdwpError: If no evaluator has that name (the message lists those that do).
    """
    return PRETRAINED.get(name)


def check_pretrained(item: Pretrained) -> Path:
    """Checks that a shipped checkpoint is there and is of the space and data set it claims.

    Args:
        item: The shipped evaluator.

    Returns:
        The checked file.

    Raises:
        CheckpointError: If the file is missing, or holds another space or data set.
    """
    path = item.path
    if not path.is_file():
        raise CheckpointError(f"pretrained {item.name}: {path} is missing from this installation")
    header = read_checkpoint_header(path)
    space, dataset = header["space"]["name"], header["dataset"]["name"]
    if (space, dataset) != (item.space, item.dataset):
        raise CheckpointError(
            f"pretrained {item.name} must be a {item.space} checkpoint of {item.dataset}; "
            f"{path} holds a {space} checkpoint of {dataset}"
        )
    return path


def slim_checkpoint(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> dict[str, Any]:
    """Writes the part of a finished checkpoint that scoring needs, for shipping.

    Drops the optimiser state and anything machine-specific (the data folder and the decoded-image
    cache it was read from); keeps the space, the data set's name, split seed and options, the
    training settings, the weights and the weight snapshots (already float16).

    Args:
        src: A complete checkpoint of ``adwp train`` (or its selected ``.best.pt``).
        dst: The file to write.

    Returns:
        The slimmed state.

    Raises:
        CheckpointError: If ``src`` is an unfinished run without a selected step.
    """
    state = load_checkpoint(src)
    if not state.get("complete") and "selection" not in state:
        raise CheckpointError(f"{src} is an unfinished run; ship a finished or selected checkpoint")
    dataset = dict(state["dataset"])
    dataset["root"] = None
    dataset["options"] = {
        k: v for k, v in (dataset.get("options") or {}).items() if k != "cache_dir"
    }
    slim = {key: value for key, value in state.items() if key != "optimizer"}
    slim["dataset"] = dataset
    save_checkpoint(dst, slim)
    return slim
