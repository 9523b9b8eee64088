"""Split and normalization helpers of the built-in loaders."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import TensorDataset

from adwp.errors import DataError

# Per-channel statistics of ImageNet's training set, the usual choice for natural photos.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


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
