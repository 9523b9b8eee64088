"""Mini-batch iteration with a fast path for in-memory tensor data sets."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

__all__ = ["as_tensors", "iterate_batches"]


def iterate_batches(
    dataset: Dataset,
    batch_size: int,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x, y)`` mini-batches covering the data set once.

    A :class:`~torch.utils.data.TensorDataset` of ``(images, labels)`` is indexed directly (no
    per-item Python work); any other data set goes through a single-process
    :class:`~torch.utils.data.DataLoader`. The order depends only on ``generator``'s state, and
    the global RNG is never consumed.

    Args:
        dataset: Data set whose items are ``(image [C, H, W], label)`` pairs.
        batch_size: Number of items per batch (the last one may be smaller).
        shuffle: Whether to visit the items in a random order drawn from ``generator``.
        generator: Source of randomness for shuffling; required when ``shuffle`` is true.
        drop_last: Whether to skip a final batch smaller than ``batch_size``.

    Returns:
        An iterator of ``(x, y)`` with ``x`` float ``[B, C, H, W]`` and ``y`` int64 ``[B]``. In
        the fast path without shuffling ``x`` and ``y`` are views of the data set's tensors.

    Raises:
        ValueError: If ``batch_size`` is not a positive int, ``shuffle`` is requested without a
            generator, or a tensor data set does not hold exactly two tensors.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if shuffle and generator is None:
        raise ValueError("shuffle=True needs a torch.Generator so that the order is seeded")
    # Validate eagerly (not on first next()) so misuse fails where the call is made.
    if isinstance(dataset, TensorDataset):
        if len(dataset.tensors) != 2:
            raise ValueError(
                f"expected a TensorDataset of (images, labels), got {len(dataset.tensors)} tensors"
            )
        return _tensor_batches(dataset, batch_size, shuffle, generator, drop_last)
    return _loader_batches(dataset, batch_size, shuffle, generator, drop_last)


def _tensor_batches(
    dataset: TensorDataset,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None,
    drop_last: bool,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of a TensorDataset by slicing or fancy-indexing its tensors.

    Args:
        dataset: Tensor data set holding ``(images, labels)``.
        batch_size: Items per batch.
        shuffle: Whether to permute the items with ``generator``.
        generator: Generator for the permutation (not None when ``shuffle``).
        drop_last: Whether to skip a short final batch.

    Returns:
        An iterator of ``(x, y)`` batches.
    """
    images, labels = dataset.tensors
    n = images.shape[0]
    order = torch.randperm(n, generator=generator) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            x = images[start : start + batch_size]
            y = labels[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            x, y = images[idx], labels[idx]
        yield _as_float(x), y.long()


def _loader_batches(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None,
    drop_last: bool,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of an arbitrary map-style data set of ``(image, label)`` items through a
    single-process DataLoader; the other arguments as for :func:`_tensor_batches`."""
    # DataLoader draws a base seed from its generator even when it does not shuffle; a private
    # generator keeps that draw off the global RNG (and off the caller's generator).
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator if shuffle else torch.Generator(),
        drop_last=drop_last,
        num_workers=0,
    )
    for batch in loader:
        if not isinstance(batch, (list, tuple)) or len(batch) != 2:
            raise ValueError("data set items must be (image, label) pairs")
        x, y = batch
        yield _as_float(x), torch.as_tensor(y).long()


def _as_float(x: torch.Tensor) -> torch.Tensor:
    """Return ``x`` unchanged if floating point, else as float32.

    Args:
        x: Image batch.

    Returns:
        A floating-point tensor.
    """
    return x if x.is_floating_point() else x.float()


def as_tensors(dataset: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns every image and label of a data set as two tensors, in data set order.

    Args:
        dataset: Items ``(image, label)``.

    Returns:
        Images ``[N, C, H, W]`` and labels ``[N]``.
    """
    xs, ys = zip(*iterate_batches(dataset, 4096))
    return torch.cat(xs), torch.cat(ys)
