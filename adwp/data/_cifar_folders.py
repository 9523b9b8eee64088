"""CIFAR-10 read from class folders of image files, decoded once into uint8 arrays in memory.

Public copies of CIFAR-10 (Kaggle's PNGs, cifar2png's output, JPEG copies) lay the images out as
``root/train/<class>/*``, ``root/test/<class>/*`` and sometimes ``root/val/<class>/*``. This module
lists such folders, decodes every image at its native 32x32 size in a thread pool, and keeps an
opt-in cache of the decoded arrays so that later runs skip the decoding.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adwp.errors import DataError
from adwp.io import atomic_write

__all__ = [
    "CIFAR10_CLASSES",
    "FOLDER_LAYOUT",
    "FolderSplit",
    "has_folder_layout",
    "read_cifar10_folders",
]

# CIFAR-10's label order (batches.meta); labels follow it whatever order the folders list in.
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
FOLDER_LAYOUT = (
    "image folders root/train/<class>/*, root/test/<class>/*, optional root/val/<class>/*"
)

_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
_SIDE = 32
# Bumped when the cached arrays would change for the same files (decoder, layout, ordering).
_CACHE_FORMAT = 1
_CACHE_PREFIX = "cifar10-folders-"
# Images per task handed to a decoding thread: large enough that scheduling costs little.
_CHUNK = 512


@dataclass(frozen=True)
class FolderSplit:
    """The decoded images of one split folder.

    Attributes:
        images: uint8 array ``[N, 3, 32, 32]``.
        labels: int64 array ``[N]`` of CIFAR-10 class indices.
    """

    images: np.ndarray
    labels: np.ndarray


def has_folder_layout(root: Path) -> bool:
    """Whether ``root`` looks like CIFAR-10 image folders (it has a ``train`` folder).

    Args:
        root: Data folder.

    Returns:
        True when ``root/train`` is a folder.
    """
    return (root / "train").is_dir()


def read_cifar10_folders(
    root: Path, cache_dir: Path | None = None, workers: int | None = None
) -> dict[str, FolderSplit]:
    """Decode CIFAR-10 image folders into memory, through the cache when one is given.

    Items are ordered round-robin over the classes (the first file of each class by name, then
    the second, ...), so the first N images of a split are class-balanced.

    Args:
        root: Folder holding ``train/`` and ``test/`` (and optionally ``val/``) class folders.
        cache_dir: Folder of the decoded-array cache, created if missing; None: no cache.
        workers: Decoding threads; None: one per available core, at most 8.

    Returns:
        ``{"train": ..., "test": ...}`` plus ``"val"`` when ``root/val`` exists.

    Raises:
        DataError: If a split folder is missing, a class folder is missing, unknown or empty, or
            an image cannot be decoded or is not 32x32.
    """
    names = ["train", "test"] + (["val"] if (root / "val").is_dir() else [])
    listed = {name: _list_split(root / name) for name in names}
    cache_file = None
    if cache_dir is not None:
        cache_file = _cache_file(root, cache_dir, listed)
        cached = _read_cache(cache_file, listed)
        if cached is not None:
            return cached
    if workers is None:
        # sched_getaffinity counts the cores this process may use; macOS lacks it.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        workers = min(8, cores or 1)
    splits = {
        name: FolderSplit(_decode_all(paths, workers), labels)
        for name, (paths, labels) in listed.items()
    }
    if cache_file is not None:
        _write_cache(cache_file, splits)
    return splits


def _list_split(folder: Path) -> tuple[list[Path], np.ndarray]:
    """The image files of one split folder with their labels, in round-robin class order.

    Args:
        folder: Split folder with one sub-folder per CIFAR-10 class.

    Returns:
        ``(paths, labels)``.

    Raises:
        DataError: If the folder or a class folder is missing, a class folder is unknown, or a
            class folder holds no image.
    """
    allowed = ", ".join(CIFAR10_CLASSES)
    if not folder.is_dir():
        raise DataError(f"cifar10: no {folder.name} folder {folder}; expected {FOLDER_LAYOUT}")
    found = {e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")}
    unknown = sorted(found - set(CIFAR10_CLASSES))
    if unknown:
        raise DataError(
            f"cifar10: {folder / unknown[0]} is not a CIFAR-10 class folder; class folders must "
            f"be named {allowed}"
        )
    missing = [c for c in CIFAR10_CLASSES if c not in found]
    if missing:
        raise DataError(
            f"cifar10: {folder} lacks the class folder(s) {', '.join(missing)}; every split needs "
            f"all of {allowed}"
        )
    per_class = []
    for c in CIFAR10_CLASSES:
        files = sorted(
            Path(e.path)
            for e in os.scandir(folder / c)
            if e.is_file()
            and not e.name.startswith(".")
            and os.path.splitext(e.name)[1].lower() in _SUFFIXES
        )
        if not files:
            raise DataError(f"cifar10: class folder {folder / c} holds no .png/.jpg/.jpeg image")
        per_class.append(files)
    paths, labels = [], []
    for rank in range(max(len(files) for files in per_class)):
        for label, files in enumerate(per_class):
            if rank < len(files):
                paths.append(files[rank])
                labels.append(label)
    return paths, np.asarray(labels, dtype=np.int64)


def _decode_one(path: Path) -> np.ndarray:
    """Decode one image file to a ``[3, 32, 32]`` uint8 RGB array.

    Args:
        path: PNG or JPEG file.

    Returns:
        The pixels, channel-major.

    Raises:
        DataError: If the file cannot be decoded or is not 32x32.
    """
    from PIL import Image

    try:
        with Image.open(path, formats=("JPEG", "PNG")) as image:
            if image.size != (_SIDE, _SIDE):
                width, height = image.size
                raise DataError(
                    f"cifar10: image {path} is {width}x{height}; CIFAR-10 folders must hold "
                    "32x32 images (they are not resized)"
                )
            pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    except OSError as exc:  # PIL.UnidentifiedImageError and truncated files are OSErrors
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(f"cifar10: cannot decode image {path}: {reason}") from None
    return pixels.transpose(2, 0, 1)


def _decode_all(paths: list[Path], workers: int) -> np.ndarray:
    """Decode files into one array, in parallel threads (Pillow decodes without the GIL).

    Each image lands at its own index, so the result does not depend on thread scheduling.

    Args:
        paths: Image files.
        workers: Number of threads.

    Returns:
        uint8 array ``[len(paths), 3, 32, 32]``.
    """
    out = np.empty((len(paths), 3, _SIDE, _SIDE), dtype=np.uint8)

    def decode_chunk(start: int) -> None:
        for i in range(start, min(start + _CHUNK, len(paths))):
            out[i] = _decode_one(paths[i])

    starts = range(0, len(paths), _CHUNK)
    if workers <= 1 or len(starts) == 1:
        for start in starts:
            decode_chunk(start)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # list() re-raises the first failing chunk's DataError here.
            list(pool.map(decode_chunk, starts))
    return out


def _cache_file(
    root: Path, cache_dir: Path, listed: dict[str, tuple[list[Path], np.ndarray]]
) -> Path:
    """Cache file name for these folders: the root's hash, then a hash of every file's state.

    Args:
        root: Data folder.
        cache_dir: Cache folder.
        listed: Output of :func:`_list_split` per split name.

    Returns:
        ``cache_dir/cifar10-folders-<root hash>-<content hash>.npz``.
    """
    import PIL

    entries: dict[str, list[tuple[str, int, int]]] = {}
    for name, (paths, _) in listed.items():
        rows = []
        for path in paths:
            stat = path.stat()
            rows.append((path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns))
        entries[name] = rows
    description = {"format": _CACHE_FORMAT, "decoder": PIL.__version__, "files": entries}
    content = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:24]
    where = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return cache_dir.expanduser() / f"{_CACHE_PREFIX}{where}-{content}.npz"


def _read_cache(
    path: Path, listed: dict[str, tuple[list[Path], np.ndarray]]
) -> dict[str, FolderSplit] | None:
    """The cached arrays, or None when there is no usable cache file.

    Args:
        path: Cache file.
        listed: Output of :func:`_list_split` per split name (the labels and expected sizes).

    Returns:
        The splits, or None if the file is missing, unreadable or does not match the listing.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            splits = {
                name: FolderSplit(stored[name], labels) for name, (_, labels) in listed.items()
            }
    except (OSError, ValueError, KeyError) as exc:  # zipfile.BadZipFile is an OSError subclass
        warnings.warn(f"ignoring unreadable cache file {path}: {exc}", stacklevel=3)
        return None
    for name, split in splits.items():
        expected = (len(split.labels), 3, _SIDE, _SIDE)
        if split.images.dtype != np.uint8 or split.images.shape != expected:
            warnings.warn(
                f"ignoring cache file {path}: its {name} array has the wrong shape", stacklevel=3
            )
            return None
    return splits


def _write_cache(path: Path, splits: dict[str, FolderSplit]) -> None:
    """Write the decoded arrays atomically and drop this root's older cache files.

    A cache that cannot be written only costs speed, so failures are warnings.

    Args:
        path: Cache file from :func:`_cache_file`.
        splits: Decoded splits.
    """
    try:
        # Not flushed to the disk first: a cache lost to a power cut is only decoded again.
        with atomic_write(path, "wb", durable=False) as f:
            np.savez(f, **{name: split.images for name, split in splits.items()})
    except OSError as exc:
        warnings.warn(f"could not write the data cache {path}: {exc}", stacklevel=3)
        return
    # The root hash is the part before the last "-"; older contents of the same folders go.
    same_root = path.name.rsplit("-", 1)[0] + "-"
    for old in path.parent.glob(f"{same_root}*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
