"""Atomic checkpoint files holding plain dicts of tensors and primitives.

Checkpoints are written to a temporary file in the target folder and moved into place, so a kill
never leaves a half-written file, and read with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from adwp.errors import CheckpointError

__all__ = ["FORMAT", "load_checkpoint", "save_checkpoint"]

FORMAT = "adwp.hypernet"
VERSION = 1
_REQUIRED = ("format", "version", "space", "dataset", "train_config", "step", "model")


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Writes ``state`` atomically to ``path``.

    Args:
        path: Destination file.
        state: Plain dict of tensors and primitives.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads and sanity-checks an adwp hypernetwork checkpoint.

    Args:
        path: Checkpoint file.

    Returns:
        The stored dict.

    Raises:
        CheckpointError: If the file is missing, unreadable, or not an adwp checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not zipfile.is_zipfile(path):
        # torch.save has written zip archives since PyTorch 1.6; anything else is another file.
        raise CheckpointError(
            f"cannot read checkpoint {path}: not a torch zip archive (a truncated file, or not "
            "a checkpoint written by adwp train)"
        )
    try:
        # torch's restricted unpickler warns about, and raises arbitrary exception types on,
        # malformed files (IndexError, KeyError, AssertionError, ...): all of them mean corrupt.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"cannot read checkpoint {path}: corrupt, or holding more than tensors and plain "
            f"values (torch.load says: {reason[:160]})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an adwp hypernetwork checkpoint")
    missing = [key for key in _REQUIRED if key not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {', '.join(missing)}")
    if state["version"] != VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {state['version']}, this adwp reads {VERSION}"
        )
    return state
