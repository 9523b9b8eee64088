"""Atomic checkpoint files holding plain dicts of tensors and primitives.

Checkpoints are written to a temporary file in the target folder and moved into place, so a kill
never leaves a half-written file, and read with ``torch.load(..., weights_only=True)``.

In memory (what :func:`load_checkpoint` returns and :func:`save_checkpoint` takes) a checkpoint's
``snapshots`` entry lists every kept snapshot: ``{"steps": [...], "models": [...]}``. On disk
(format version 2) a snapshot taken at the checkpoint's own step is not stored twice: it is
``model`` itself, marked by ``snapshots["final_is_model"]``. Version 1 files stored it in full;
both load the same way.

Every file is checked for damage before it is read: ``torch.save`` writes a zip archive in which
each record (the pickled structure, and each tensor's storage) carries a CRC-32 of its bytes, and
:func:`load_checkpoint` recomputes them all, so a file changed after it was written (a bad copy, a
failing disk) is named as damaged instead of loading as other numbers. Files of every format
version carry them; checking them costs about 0.03 s per 10 MB.
"""

from __future__ import annotations

import os
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch

from adwp.errors import CheckpointError
from adwp.io import atomic_write

__all__ = [
    "FORMAT",
    "SNAPSHOT_DTYPE",
    "VERSION",
    "best_path",
    "check_intact",
    "compact_snapshot",
    "load_checkpoint",
    "metrics_path",
    "read_checkpoint_header",
    "save_checkpoint",
]

FORMAT = "adwp.hypernet"
VERSION = 2
# Oldest first; every version listed here loads.
_READABLE = (1, 2)
# Snapshots are only ever scored, never trained from. When this was chosen, the 6 snapshots of a
# default mnist5k run ranked the 100 benchmark architectures at Kendall tau 0.708 in float16,
# 0.709 in float32 (tau 0.999 between the two score vectors; docs/decisions.md), at half the size.
SNAPSHOT_DTYPE = torch.float16
_REQUIRED = ("format", "version", "space", "dataset", "train_config", "step", "model")
# The entries read_checkpoint_header returns: everything but the tensors.
_HEADER = ("format", "version", "space", "dataset", "train_config", "step", "complete")


def metrics_path(checkpoint: str | os.PathLike[str]) -> Path:
    """Returns the JSONL metrics file of a checkpoint (``h.pt`` -> ``h.metrics.jsonl``)."""
    path = Path(checkpoint)
    return path.with_name(path.stem + ".metrics.jsonl")


def best_path(checkpoint: str | os.PathLike[str]) -> Path:
    """Where ``--select-on`` keeps the selected checkpoint of a run (``X.pt`` -> ``X.best.pt``)."""
    path = Path(checkpoint)
    return path.with_name(path.stem + ".best" + (path.suffix or ".pt"))


def compact_snapshot(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A weight snapshot as kept and stored: a CPU copy, floating tensors in SNAPSHOT_DTYPE.

    Args:
        state: A model's ``state_dict()``.

    Returns:
        The copy (never shares memory with ``state``).
    """
    return {
        name: (
            tensor.detach().to("cpu", SNAPSHOT_DTYPE, copy=True)
            if tensor.is_floating_point()
            else tensor.detach().to("cpu", copy=True)
        )
        for name, tensor in state.items()
    }


def _on_disk(state: dict[str, Any]) -> dict[str, Any]:
    """The version-2 layout of an in-memory checkpoint dict."""
    snapshots = state.get("snapshots")
    if not snapshots or not snapshots["steps"]:
        return state
    steps, models = list(snapshots["steps"]), list(snapshots["models"])
    final_is_model = bool(steps) and steps[-1] == state["step"]
    if final_is_model:
        models = models[:-1]
    # The dtype the final snapshot was kept in, which rebuilding it from ``model`` must restore.
    floating = [t.dtype for t in snapshots["models"][-1].values() if t.is_floating_point()]
    dtype = floating[0] if floating and final_is_model else SNAPSHOT_DTYPE
    packed = {
        "steps": steps,
        "models": models,
        "final_is_model": final_is_model,
        "dtype": str(dtype).removeprefix("torch."),
    }
    return {**state, "snapshots": packed}


def _in_memory(state: dict[str, Any], path: Path) -> dict[str, Any]:
    """Inverse of :func:`_on_disk`; version-1 files are already in this layout."""
    snapshots = state.get("snapshots")
    if state["version"] == 1 or not snapshots:
        return state
    models = list(snapshots["models"])
    if snapshots.get("final_is_model"):
        stored_dtype = getattr(torch, str(snapshots.get("dtype", "float32")), None)
        if not isinstance(stored_dtype, torch.dtype):
            raise CheckpointError(f"checkpoint {path} has an unknown snapshot dtype")
        models.append(
            {
                name: tensor.to(stored_dtype) if tensor.is_floating_point() else tensor
                for name, tensor in state["model"].items()
            }
        )
    return {**state, "snapshots": {"steps": list(snapshots["steps"]), "models": models}}


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Writes ``state`` atomically to ``path``, in the current on-disk layout.

    Args:
        path: Destination file.
        state: Plain dict of tensors and primitives (the in-memory layout).
    """
    with atomic_write(path, "wb") as handle:
        torch.save(_on_disk(state), handle)


def check_intact(path: str | os.PathLike[str], what: str = "checkpoint") -> None:
    """Checks every record of a ``torch.save`` zip archive against its stored CRC-32.

    ``torch.load`` does not check them: a zeroed region or random bytes inside a tensor load as
    other numbers, silently or as a network that later gives non-finite outputs.

    Args:
        path: A file written by ``torch.save`` (a zip archive).
        what: What the file is, for the message.

    Raises:
        CheckpointError: If a record's bytes do not match its CRC-32, or the archive's structure
            is unreadable: the file is damaged.
    """
    damaged = (
        f"{what} {path} is damaged: it changed after it was written (a bad copy or a failing "
        "disk); restore it from a good copy or write it again"
    )
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError, zlib.error) as exc:
        raise CheckpointError(f"{damaged} (its zip structure: {exc})") from None
    if bad is not None:
        raise CheckpointError(f"{damaged} (record {bad} fails its CRC-32 check)")


def _read(path: Path, mmap: bool) -> dict[str, Any]:
    """Reads and checks a checkpoint; with ``mmap`` its tensor data stays on disk until used."""
    if path.is_dir():
        raise CheckpointError(
            f"checkpoint path is a folder, not a file: {path} (give the .pt file written by "
            "adwp train)"
        )
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not zipfile.is_zipfile(path):
        # torch.save has written zip archives since PyTorch 1.6; anything else is another file.
        raise CheckpointError(
            f"cannot read checkpoint {path}: not a torch zip archive (a truncated file, or not "
            "a checkpoint written by adwp train)"
        )
    if not mmap:
        # A header read skips the check: it reads no tensor, and the full load checks them.
        check_intact(path)
    try:
        # torch's restricted unpickler warns about, and raises arbitrary exception types on,
        # malformed files (IndexError, KeyError, AssertionError, ...): all of them mean corrupt.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
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
    if state["version"] not in _READABLE:
        raise CheckpointError(
            f"checkpoint {path} has format version {state['version']}; this adwp reads "
            f"versions {', '.join(map(str, _READABLE))} (a newer adwp wrote it: upgrade adwp)"
        )
    return state


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads and sanity-checks an adwp hypernetwork checkpoint of any readable version.

    Args:
        path: Checkpoint file.

    Returns:
        The stored dict, in the in-memory layout (every snapshot listed in full).

    Raises:
        CheckpointError: If the path is a folder, or the file is missing, unreadable, not an
            adwp checkpoint, or of a format version this adwp does not read.
    """
    path = Path(path)
    return _in_memory(_read(path, mmap=False), path)


def read_checkpoint_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads a checkpoint's settings without reading its tensors (fast on a large file).

    The file is memory-mapped, so the weights are never read from disk: this is for checks that
    need the space, data set or training settings before the full load.

    Args:
        path: Checkpoint file.

    Returns:
        The entries ``format``, ``version``, ``space``, ``dataset``, ``train_config``, ``step``
        and ``complete`` (those present).

    Raises:
        CheckpointError: As :func:`load_checkpoint`.
    """
    state = _read(Path(path), mmap=True)
    return {key: state[key] for key in _HEADER if key in state}
