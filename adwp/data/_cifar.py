"""The ``cifar10`` and ``cifar100`` loaders: torchvision's pickles or ``train/<class>/``,
``test/<class>/`` image folders.

torchvision is imported inside the loaders so that importing :mod:`adwp.data` stays cheap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from adwp.data import _cifar_folders
from adwp.data._registry import DataSplits, register_dataset
from adwp.data._splits import (
    _seed_int,
    _stratified_split,
    _uint8_channel_stats,
    _uint8_to_normalized,
)
from adwp.errors import DataError, DataNotFoundError

__all__ = [
    "load_cifar10",
    "load_cifar100",
]


def _stratified_subset(
    labels: np.ndarray, size: int | None, seed: int, option: str, what: str
) -> np.ndarray:
    """Positions of a stratified, seeded subset of ``size`` items (all of them for None).

    Args:
        labels: Class label of each item.
        size: Number of items to keep; None keeps every item.
        seed: Seed of the draw.
        option: Option name, for error messages.
        what: Data set and split description, for error messages.

    Returns:
        Positions into ``labels``.

    Raises:
        DataError: If ``size`` is not an int in ``[1, len(labels)]`` or cannot be stratified.
    """
    n = len(labels)
    if size is None:
        return np.arange(n)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= n:
        raise DataError(f"{what}: {option} must be an int in [1, {n}], got {size!r}")
    if size == n:
        return np.arange(n)
    return _stratified_split(labels, size, seed, what)[1]


def _cifar_splits(
    name: str,
    root: Path,
    num_classes: int,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray] | None,
    test: tuple[np.ndarray, np.ndarray],
    seed: int,
    val_size: int | None,
    train_size: int | None,
) -> DataSplits:
    """Split, subset and normalize CIFAR uint8 arrays ``[N, 3, 32, 32]`` with their labels.

    Args:
        name: Data set name.
        root: Folder the images were read from.
        num_classes: Number of classes.
        train: Official training images and labels.
        val: Validation images and labels of a val folder, or None to hold some out of train.
        test: Official test images and labels.
        seed: Seed of the hold-out split and the subsets.
        val_size: Validation images: held out of train (default 5000) without a val folder,
            a stratified subset of it (default all) with one.
        train_size: Stratified subset of the remaining training images (None: all).

    Returns:
        Splits normalized with the per-channel mean/std of the training split they return.
    """
    train_u8, train_y = train
    if val is None:
        holdout = 5000 if val_size is None else val_size
        train_pos, val_pos = _stratified_split(train_y, holdout, seed, name)
        val_u8, val_y = train_u8[val_pos], train_y[val_pos]
        train_u8, train_y = train_u8[train_pos], train_y[train_pos]
    else:
        val_u8, val_y = val
        keep = _stratified_subset(val_y, val_size, seed, "val_size", f"{name} val folder")
        val_u8, val_y = val_u8[keep], val_y[keep]
    keep = _stratified_subset(train_y, train_size, seed, "train_size", f"{name} train split")
    train_u8, train_y = train_u8[keep], train_y[keep]

    # Statistics of the images trained on only, so no val/test pixel leaks into the inputs.
    mean, std = _uint8_channel_stats(train_u8)
    train_ds, val_ds, test_ds = (
        TensorDataset(_uint8_to_normalized(x, mean, std), torch.from_numpy(y))
        for x, y in ((train_u8, train_y), (val_u8, val_y), test)
    )
    return DataSplits(
        name,
        train_ds,
        val_ds,
        test_ds,
        in_channels=3,
        num_classes=num_classes,
        image_size=32,
        root=str(root.resolve()),
    )


def _read_cifar_pickles(
    name: str, root: Path, download: bool
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read torchvision's CIFAR-10/100 pickles (downloading them if asked).

    Args:
        name: ``"cifar10"`` or ``"cifar100"``.
        root: Folder that holds (or receives) torchvision's extracted CIFAR folder.
        download: Whether torchvision may download missing files.

    Returns:
        ``((train_images, train_labels), (test_images, test_labels))``, images uint8 NCHW.

    Raises:
        DataError: If the files are missing or corrupt, or the download fails.
    """
    from torchvision.datasets import CIFAR10, CIFAR100

    cls = CIFAR10 if name == "cifar10" else CIFAR100
    folder = root / cls.base_folder
    try:
        # Only the first call may download; the test split is in the same archive.
        train_raw = cls(str(root), train=True, download=download)
        test_raw = cls(str(root), train=False, download=False)
    except RuntimeError as exc:
        if "not found or corrupted" not in str(exc):
            raise
        if download:
            message = f"{name} is still missing or corrupted in {folder} after downloading"
            raise DataError(message) from exc
        if not root.exists():
            message = f"{name}: the data folder {root} does not exist (--data-root)"
        elif name == "cifar10" and not folder.exists():
            message = (
                f"cifar10: {root} holds neither torchvision's {cls.base_folder}/ nor "
                f"{_cifar_folders.FOLDER_LAYOUT} (--data-root)"
            )
        elif not folder.exists():
            message = f"{name}: {root} holds no torchvision {cls.base_folder}/ (--data-root)"
        else:
            raise DataError(f"{name}: {folder} is incomplete or corrupted") from exc
        raise DataNotFoundError(message) from exc
    except OSError as exc:
        # Network failures (urllib's URLError is an OSError) and unreadable folders.
        reason = str(exc).replace("\n", " ")
        raise DataError(f"{name}: could not download or read {folder}: {reason}") from exc
    # torchvision keeps HWC uint8; go to NCHW before any float copy.
    return (
        (
            np.asarray(train_raw.data).transpose(0, 3, 1, 2),
            np.asarray(train_raw.targets, dtype=np.int64),
        ),
        (
            np.asarray(test_raw.data).transpose(0, 3, 1, 2),
            np.asarray(test_raw.targets, dtype=np.int64),
        ),
    )


@register_dataset("cifar10")
def load_cifar10(
    root: Path | None,
    *,
    download: bool = False,
    seed: int = 0,
    val_size: int | None = None,
    train_size: int | None = None,
    cache_dir: str | None = None,
) -> DataSplits:
    """CIFAR-10 from torchvision's pickles or from image folders, held in memory.

    Two layouts of ``root`` are read: torchvision's ``cifar-10-batches-py/`` (downloaded with
    ``download=True``), or class folders of PNG/JPEG files as public copies ship them
    (Kaggle's PNGs, cifar2png): ``root/train/<class>/*``, ``root/test/<class>/*`` and optionally
    ``root/val/<class>/*``, the class folders named exactly as CIFAR-10's ten classes (labels
    follow CIFAR-10's class order). Folder images are decoded once at their native 32x32 size
    (no resize) in a thread pool, and items are ordered round-robin over the classes.

    Splits: without a val folder, ``val_size`` (default 5000) training images are held out,
    stratified by class and seeded (45k/5k); with one, it is the val split (``val_size`` then
    draws a stratified subset of it). ``train_size`` draws a stratified, seeded subset of the
    training split for cheap runs. Test is the official test set. All splits are normalized with
    the per-channel mean/std of the returned training split.

    Cost of the whole load (decode, split, normalize) on the 60,000 JPEGs of a public copy,
    measured on a busy 2-core machine: about 10 s CPU (13-19 s wall) without ``cache_dir`` or
    on its first run; about 3.3 s CPU (5 s wall) once cached, 1.5 s CPU with
    ``train_size=5000, val_size=1000``. Decoding alone is about 7 s CPU; the cache file holds
    184 MB of uint8 arrays.

    Args:
        root: Folder holding ``cifar-10-batches-py/`` (or receiving it when downloading), or
            the image folders.
        download: Whether to download the pickles if neither layout is there.
        seed: Seed of the train/val split and the subsets.
        val_size: Validation images (see above).
        train_size: Size of a stratified subset of the training split (None: all of it).
        cache_dir: Image folders only: folder of a cache of the decoded uint8 arrays, keyed by
            the file names, sizes and modification times and written atomically, so later runs
            skip decoding (None: no cache).

    Returns:
        Splits of normalized ``[3, 32, 32]`` images with 10 classes, held in memory.

    Raises:
        DataError: If the data is missing (and not downloaded), corrupt, or the folders are
            laid out differently (a missing, unknown or empty class folder, a non-32x32 image).
    """
    seed = _seed_int(seed)
    if root is None:
        raise DataNotFoundError("cifar10 needs a data folder (--data-root, none was given)")
    if cache_dir is not None and not isinstance(cache_dir, (str, Path)):
        raise DataError(f"cifar10: cache_dir must be a folder path, got {cache_dir!r}")
    if not (root / "cifar-10-batches-py").is_dir() and _cifar_folders.has_folder_layout(root):
        read = _cifar_folders.read_cifar10_folders(
            root, Path(cache_dir) if cache_dir is not None else None
        )
        val = (read["val"].images, read["val"].labels) if "val" in read else None
        train = (read["train"].images, read["train"].labels)
        test = (read["test"].images, read["test"].labels)
        del read
    else:
        (train, test), val = _read_cifar_pickles("cifar10", root, download), None
    return _cifar_splits("cifar10", root, 10, train, val, test, seed, val_size, train_size)


@register_dataset("cifar100")
def load_cifar100(
    root: Path | None,
    *,
    download: bool = False,
    seed: int = 0,
    val_size: int | None = None,
    train_size: int | None = None,
) -> DataSplits:
    """CIFAR-100 (fine labels) via torchvision: 45k train / 5k val / official 10k test.

    Args:
        root: Folder holding ``cifar-100-python/`` (or receiving it when downloading).
        download: Whether to download the archive if it is missing.
        seed: Seed of the train/val split and the training subset.
        val_size: Number of official training images held out for validation (default 5000,
            stratified).
        train_size: Size of a stratified subset of the training split (None: all of it).

    Returns:
        Splits of normalized ``[3, 32, 32]`` images with 100 classes, held in memory.

    Raises:
        DataError: If the data is missing (and not downloaded) or corrupt.
    """
    seed = _seed_int(seed)
    if root is None:
        raise DataNotFoundError("cifar100 needs a data folder (--data-root, none was given)")
    train, test = _read_cifar_pickles("cifar100", root, download)
    return _cifar_splits("cifar100", root, 100, train, None, test, seed, val_size, train_size)
