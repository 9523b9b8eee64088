"""adwp's file formats: atomic writes, JSON results, append-only JSONL tables, scores files and
architecture lists.

Every file adwp writes whole (checkpoints, search results, merged tables, decoded-image caches,
benchmark results) goes through :func:`atomic_write`: the bytes go to a temporary file next to
the destination, which then replaces it in one ``os.replace``, so a kill leaves the previous file
or the new one, never a part. Tables that grow row by row (ground truth, score caches) are
appended with :func:`append_jsonl` and read back with :func:`read_jsonl`, which can drop a last
row a kill cut off.

The scores file is what ``adwp rank --output`` writes and ``adwp correlate --scores`` reads
(:func:`read_scores`): a JSON object with parallel ``archs`` and ``scores`` lists, and optionally
``params`` and ``flops`` lists and what the scores are. An architecture list (:func:`read_archs`)
is a text file with one architecture string per line (``#`` starts a comment line), or a JSON list
of strings or objects, or ``{"archs": [...]}``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from adwp.errors import AdwpError, DataError

__all__ = [
    "ScoresFile",
    "append_jsonl",
    "atomic_write",
    "check_writable",
    "describe_scores",
    "file_tag",
    "parse_archs",
    "read_archs",
    "read_flops",
    "read_jsonl",
    "read_scores",
    "read_text",
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


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """The UTF-8 text of a file (or of a pipe such as bash's ``<(...)``).

    Args:
        path: The file.
        what: What the file is, for the messages (``"scores file"``).

    Raises:
        AdwpError: If it is missing, a folder, or not UTF-8 text.
    """
    file = Path(path)
    if file.is_dir():
        raise AdwpError(f"{what} {path} is a folder, not a file")
    # Not is_file(): a pipe such as bash's <(...) is a fine source of text too.
    if not file.exists():
        raise AdwpError(f"{what} not found: {path}")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AdwpError(f"{what} {path} is not a UTF-8 text file") from None


def check_writable(path: str | os.PathLike[str] | None, what: str) -> None:
    """Fails before any work when a file could not be written at the end of it.

    Args:
        path: The file to write later; None: nothing to check.
        what: How the file was given, for the messages (``"--output"``).

    Raises:
        AdwpError: If ``path`` is a folder, or a parent of it is a file.
    """
    if path is None:
        return
    out = Path(path)
    if out.is_dir():
        raise AdwpError(f"{what} {path} is a folder; give a file name")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise AdwpError(f"{what} {path}: {parent} is not a folder")


def _load_json(path: str | os.PathLike[str], text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdwpError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None


def read_archs(path: str | os.PathLike[str]) -> list[tuple[str, Any]]:
    """The architectures of an architecture list, each with where it stands.

    Args:
        path: One architecture string per line (blank lines and lines starting with ``#``
            skipped), or a JSON list of strings or objects, or ``{"archs": [...]}``.

    Returns:
        ``(place, item)`` pairs: ``FILE:LINE`` and the line's string, or ``FILE: item N`` and
        the JSON item; :func:`parse_archs` turns them into architectures.

    Raises:
        AdwpError: If the file cannot be read or its JSON is not such a list.
    """
    text = read_text(path, "architecture file")
    if text.lstrip().startswith(("[", "{")):
        data = _load_json(path, text)
        if isinstance(data, dict):
            data = data.get("archs")
        if not isinstance(data, list):
            raise AdwpError(f'{path}: expected a JSON list of architectures or {{"archs": [...]}}')
        return [(f"{path}: item {i}", item) for i, item in enumerate(data, 1)]
    return [
        (f"{path}:{number}", line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.startswith("#")
    ]


def parse_archs(raw: Iterable[tuple[str, Any]], space: Any) -> list[Any]:
    """Architectures of ``space`` from ``(place, string or JSON object)`` pairs.

    Args:
        raw: Pairs as :func:`read_archs` returns them; ``place`` names the item in errors.
        space: The search space that validates them.

    Raises:
        AdwpError: Of the first item that is not an architecture of ``space``, prefixed with
            its place.
    """
    archs = []
    for place, item in raw:
        try:
            if isinstance(item, dict):
                kind = type(space.smallest())
                if not hasattr(kind, "from_dict"):
                    raise AdwpError(
                        f"{space.name} architectures are given as strings, got {item!r}"
                    )
                item = kind.from_dict(item)
            archs.append(space.validate(item))
        except AdwpError as exc:
            raise type(exc)(f"{place}: {exc}") from None
    return archs


@dataclass(frozen=True)
class ScoresFile:
    """A scores file, as :func:`read_scores` reads it.

    Attributes:
        path: Where it was read from.
        scores: ``{architecture string: score}``.
        params: ``{architecture string: #params}``; empty if the file has no ``params`` list.
        description: What the scores are, for axis labels (:func:`describe_scores`).
        data: The whole JSON object, for the entries read on demand (:func:`read_flops`).
    """

    path: str
    scores: dict[str, float]
    params: dict[str, float]
    description: str
    data: Mapping[str, Any] = field(repr=False)


def describe_scores(data: Mapping[str, Any]) -> str:
    """What a scores file's JSON says its scores are, for axis labels; "score" when it says
    nothing."""
    combined = data.get("combine")
    if isinstance(combined, dict) and isinstance(combined.get("members"), list):
        return f"rank combination of {', '.join(map(str, combined['members']))}"
    if isinstance(data.get("metric"), str):
        return data["metric"]
    split = f" on the {data['split']} split" if isinstance(data.get("split"), str) else ""
    if isinstance(data.get("checkpoint"), str):
        return f"{Path(data['checkpoint']).name}{split}"
    if isinstance(data.get("checkpoints"), list):
        return f"ensemble of {len(data['checkpoints'])} checkpoints{split}"
    return "score"


def _positive(path: Any, what: str, archs: Sequence[Any], values: Any, n: int) -> dict[str, float]:
    """``{arch: value}`` of a list parallel to ``archs`` whose values must be positive numbers."""
    if not isinstance(values, list) or len(values) != len(archs):
        raise AdwpError(f"{path}: '{what}' must be a list as long as 'archs' ({n})")
    out = {}
    for arch, value in zip(archs, values):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and 0 < value < math.inf):
            raise AdwpError(f"{path}: {what} of {arch!r} is not a positive number: {value!r}")
        out[str(arch)] = float(value)
    return out


def read_scores(path: str | os.PathLike[str]) -> ScoresFile:
    """Reads a scores file as ``adwp rank --output`` writes it.

    Raises:
        AdwpError: If it is not such a file: no ``archs`` list, ``scores`` not a parallel list
            of finite numbers, one architecture with two scores, or ``params`` not a parallel
            list of positive numbers.
    """
    data = _load_json(path, read_text(path, "scores file"))
    if not isinstance(data, dict) or not isinstance(data.get("archs"), list):
        raise AdwpError(f'{path}: expected {{"archs": [...], "scores": [...]}} as written by rank')
    archs, values = data["archs"], data.get("scores")
    if not isinstance(values, list) or len(values) != len(archs):
        raise AdwpError(f"{path}: 'scores' must be a list as long as 'archs' ({len(archs)})")
    scores: dict[str, float] = {}
    for arch, value in zip(archs, values):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AdwpError(f"{path}: score of {arch!r} is not a number: {value!r}")
        if not math.isfinite(value):
            raise AdwpError(f"{path}: score of {arch!r} is not a finite number: {value!r}")
        if str(arch) in scores and scores[str(arch)] != value:
            raise AdwpError(f"{path}: {arch!r} appears twice with different scores")
        scores[str(arch)] = float(value)
    params = data.get("params")
    sizes = {} if params is None else _positive(path, "params", archs, params, len(archs))
    return ScoresFile(str(path), scores, sizes, describe_scores(data), data)


def read_flops(file: ScoresFile) -> dict[str, float] | None:
    """The ``flops`` list of a scores file as ``{arch: FLOPs}``; None if it has none.

    Raises:
        AdwpError: If ``flops`` is not a list of positive numbers parallel to ``archs``.
    """
    flops = file.data.get("flops")
    if flops is None:
        return None
    return _positive(file.path, "flops", file.data["archs"], flops, len(file.scores))
