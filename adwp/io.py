"""Files that survive a kill: atomic writes, JSON results and append-only JSONL tables.

Every file adwp writes whole (checkpoints, search results, merged tables, decoded-image caches,
benchmark results) goes through :func:`atomic_write`: the bytes go to a temporary file next to
the destination, which then replaces it in one ``os.replace``, so a kill leaves the previous file
or the new one, never a part. Tables that grow row by row (ground truth, score caches) are
appended with :func:`append_jsonl` and read back with :func:`read_jsonl`, which can drop a last
row a kill cut off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from adwp.errors import DataError

__all__ = [
    "append_jsonl",
    "atomic_write",
    "file_tag",
    "read_jsonl",
    "write_json",
    "write_jsonl",
]


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", durable: bool = True
) -> Iterator[IO[Any]]:
    """Opens a temporary file that replaces ``path`` when the block ends without an error.

    The parent folders are created. On an error (or a kill) the temporary file is removed, or
    left as a hidden ``.NAME.PID.tmp`` file, and ``path`` keeps its previous content.

    Args:
        path: The destination.
        mode: ``"w"`` (UTF-8 text) or ``"wb"``.
        durable: Flush the bytes to the disk before the replace, so that a power cut cannot leave
            an empty file in its place; False for files that are only a cache.

    Yields:
        The open temporary file.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named by the process, so that two processes writing one file never share a temporary.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open(mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str | os.PathLike[str], data: Any, indent: int | None = 1) -> Path:
    """Writes ``data`` as JSON, atomically.

    Returns:
        The path written.
    """
    with atomic_write(path) as handle:
        handle.write(json.dumps(data, indent=indent))
    return Path(path)


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> Path:
    """Writes one JSON value per line, atomically.

    Returns:
        The path written.
    """
    with atomic_write(path) as handle:
        handle.write("".join(json.dumps(row) + "\n" for row in rows))
    return Path(path)


def append_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> None:
    """Appends one JSON value per line and flushes them to the disk before returning.

    A kill can cut off the last line only; :func:`read_jsonl` with ``repair_tail`` drops it.
    """
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(row) + "\n" for row in rows))
        handle.flush()
        os.fsync(handle.fileno())


def read_jsonl(
    path: str | os.PathLike[str], repair_tail: bool = False, what: str = "table"
) -> Iterator[tuple[int, Any]]:
    """Yields ``(line number, parsed value)`` of a JSONL file, blank lines skipped.

    Args:
        path: The file.
        repair_tail: Drop a last line that has no newline (a write cut off by a kill) and
            truncate the file to the complete lines, instead of raising.
        what: What the file is, for the messages (``"ground-truth table"``).

    Raises:
        DataError: If the file is missing, its last line is incomplete (without
            ``repair_tail``), or a line is not JSON (naming it).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} not found: {path}")
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    tail = lines.pop()  # text after the last newline: empty unless a write was cut off
    if tail.strip():
        if not repair_tail:
            raise DataError(f"{path}: last line is incomplete (no newline); was a run killed?")
        with path.open("r+b") as handle:
            handle.truncate(len(raw) - len(tail))
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DataError(f"{path}:{number}: corrupt row (not JSON)") from None


def file_tag(path: str | os.PathLike[str]) -> str:
    """The first 10 hex digits of a file's SHA-256: names results by the bytes they come from
    (e.g. a checkpoint's weights), not by the file's path."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:10]
