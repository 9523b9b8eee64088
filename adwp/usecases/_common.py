"""What the use cases share: status lines, data loading, and spaces read from checkpoints.

Light on import: torch, numpy and the heavy modules of adwp load inside the functions.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adwp.errors import AdwpError

__all__ = [
    "at_least_one",
    "check_space_options",
    "checkpoint_dataset",
    "checkpoint_space",
    "data_shape",
    "load_data",
    "options_like",
    "reading_status",
    "reshaped",
    "status",
]


def status(message: str, quiet: bool) -> None:
    """A line on stderr before a long step that shows no progress bar."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def reading_status(
    dataset: Mapping[str, Any],
    quiet: bool,
    data_root: str | None = None,
    cache_dir: str | None = None,
    cache_hint: bool = False,
) -> None:
    """Says that a data set is read from a folder (seconds to a minute with no progress bar).

    Args:
        dataset: A checkpoint's ``dataset`` entry, or one like it (``name``, ``root``,
            ``options``).
        quiet: Say nothing.
        data_root: Folder that overrides the entry's.
        cache_dir: Decoded-image cache given for this run.
        cache_hint: Suggest a decoded-image cache where the images are decoded without one.

    Nothing is said for the embedded data sets or a folder that is not there, which ends in a
    one-line error instead.
    """
    root = data_root or dataset.get("root")
    if root is None or not Path(root).is_dir():
        return
    name = dataset.get("name", "the data set")
    cached = cache_dir or (dataset.get("options") or {}).get("cache_dir")
    hint = ""
    if name == "cifar10" and not cached and cache_hint:
        hint = "; image folders take a while to decode (--data-cache DIR keeps them decoded)"
    status(f"reading {name} images from {root}{hint}", quiet)


def load_data(
    dataset: str,
    *,
    root: str | None = None,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    download: bool | None = None,
    quiet: bool = True,
) -> Any:
    """A data set's splits; says so first when it is read from a folder.

    Args:
        dataset: Its registered name.
        root: Folder of on-disk data sets.
        seed: Seed of the train/val/test split.
        options: Options of its loader (``image_size``, ``cache_dir``...).
        download: Fetch a missing data set; None where the caller offers no download, so a
            missing one is not told to download.
        quiet: No status line.

    Raises:
        DataError: If it cannot be loaded.
    """
    from adwp.data import get_dataset
    from adwp.errors import DataNotFoundError

    options = dict(options or {})
    reading_status(
        {"name": dataset, "root": root},
        quiet,
        cache_dir=options.get("cache_dir"),
        cache_hint=True,
    )
    try:
        return get_dataset(dataset, root=root, download=bool(download), seed=seed, **options)
    except DataNotFoundError as exc:
        if download is None:
            raise
        raise DataNotFoundError(
            f"{exc}; --download fetches torchvision's copy into it (needs network access)"
        ) from None


def data_shape(data: Any) -> dict[str, int]:
    """The space options a data set sets, read from it."""
    from adwp.spaces import DATA_SHAPE

    return {name: getattr(data, name) for name in DATA_SHAPE}


def options_like(space: Any, name: str) -> dict[str, Any]:
    """The options of ``space`` that the space ``name`` takes too: the data shape, and e.g. a
    macro space's stage widths for the layer-assignment space sampled from it."""
    from adwp.spaces import space_options

    return {k: v for k, v in space.config().items() if k in space_options(name)}


def reshaped(space: Any, name: str | None, options: Mapping[str, Any] | None) -> Any:
    """``space``, or the space ``name`` (default: the same kind) shaped like it with
    ``options`` on top, when either is given."""
    if name is None and not options:
        return space
    from adwp.spaces import get_space

    name = name or space.name
    return get_space(name, **options_like(space, name), **dict(options or {}))


def checkpoint_space(path: str) -> Any:
    """The search space a checkpoint was trained on, read without loading its tensors."""
    from adwp.checkpoint import read_checkpoint_header
    from adwp.errors import CheckpointError
    from adwp.spaces import get_space

    header = read_checkpoint_header(path)
    try:
        return get_space(header["space"]["name"], **header["space"]["options"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {path} has an unreadable space entry: {exc}") from None


def checkpoint_dataset(path: str) -> dict[str, Any]:
    """A checkpoint's ``dataset`` entry, read without its tensors."""
    from adwp.checkpoint import read_checkpoint_header

    dataset = read_checkpoint_header(path).get("dataset")
    return dataset if isinstance(dataset, dict) else {}


def check_space_options(options: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """Keyword options of a space, refusing those the data set sets (its shape).

    Args:
        options: ``{name: value}``; None: none.
        what: How they were given, for the messages (``"--space-option"``).

    Raises:
        AdwpError: If one of them is part of the data shape (``in_channels``...).
    """
    from adwp.spaces import DATA_SHAPE

    options = dict(options or {})
    for name in options:
        if name in DATA_SHAPE:
            raise AdwpError(
                f"{what} {name}: set by the data set (--dataset, --image-size), not here"
            )
    return options


def at_least_one(value: int | None, what: str) -> None:
    """Refuses a count below 1, naming it."""
    if value is not None and value < 1:
        raise AdwpError(f"{what} must be at least 1, got {value}")
