"""Data sets and mini-batch iteration.

Loaders are looked up by name (:func:`get_dataset`) and return a :class:`DataSplits` with
deterministic, seed-controlled train/val/test splits. Built-in names: ``mnist5k`` (default),
``digits``, ``cifar10`` (torchvision's pickles or ``train/<class>/``, ``test/<class>/`` image
folders), ``cifar100`` and ``imagefolder``; :func:`register_dataset` adds more.
"""

from __future__ import annotations

# Imported for their side effect: registering the built-in loaders.
from adwp.data import _cifar as _cifar, _datasets as _datasets
from adwp.data._batches import as_tensors, iterate_batches
from adwp.data._registry import (
    DataSplits,
    LoaderFn,
    get_dataset,
    list_datasets,
    register_dataset,
)

__all__ = [
    "DataSplits",
    "as_tensors",
    "LoaderFn",
    "get_dataset",
    "iterate_batches",
    "list_datasets",
    "register_dataset",
]
