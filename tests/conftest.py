"""Fixtures shared by the test modules: the digits data set and a tiny hypernetwork setting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adwp.data import DataSplits, get_dataset
from adwp.hypernet import HyperNetConfig
from adwp.training import TrainConfig


@pytest.fixture(scope="session")
def small_hypernet() -> HyperNetConfig:
    """A hypernetwork small enough for tests that train or differentiate it."""
    return HyperNetConfig(embed_dim=16, context_layers=1, heads=2, hidden=32, num_bases=2)


@pytest.fixture(scope="session")
def digits() -> DataSplits:
    return get_dataset("digits")


@pytest.fixture(scope="session")
def digits_config(small_hypernet: HyperNetConfig) -> Callable[..., TrainConfig]:
    """Builds a few-step training configuration on digits; keyword arguments override fields."""

    def build(**changes: Any) -> TrainConfig:
        base = {
            "dataset": "digits",
            "steps": 6,
            "meta_batch": 2,
            # The default sandwich rule needs 3 architectures per step; 2 keep the tests fast.
            "sampler": "uniform",
            "snapshot_every": 0,
            "batch_size": 16,
            "checkpoint_every": 3,
            "warmup_steps": 2,
            "hypernet": small_hypernet,
        }
        return TrainConfig(**{**base, **changes})

    return build


def write_cifar_folder(root: Path, splits: dict[str, int], seed: int = 0) -> Path:
    """Writes random 32x32 PNGs in CIFAR-10's class folders: ``{split: images per class}``."""
    from PIL import Image

    from adwp.data._cifar_folders import CIFAR10_CLASSES

    rng = np.random.default_rng(seed)
    for split, per_class in splits.items():
        for name in CIFAR10_CLASSES:
            (root / split / name).mkdir(parents=True)
            for k in range(per_class):
                pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{k}.png")
    return root


@pytest.fixture(scope="session")
def cifar_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CIFAR-10-like image folder: random 32x32 PNGs, 8 per class in train/, 2 in test/."""
    return write_cifar_folder(tmp_path_factory.mktemp("cifar"), {"train": 8, "test": 2})


@pytest.fixture(scope="session")
def cifar_folder_with_val(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As ``cifar_folder`` plus 2 images per class in val/, which then is the validation split
    (so a loader needs no 5,000 training images to hold out)."""
    root = tmp_path_factory.mktemp("cifar_val")
    return write_cifar_folder(root, {"train": 8, "val": 2, "test": 2}, seed=1)
