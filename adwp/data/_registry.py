"""Name -> loader registry for the data sets adwp can train and score on."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from adwp.errors import DataError
from adwp.registry import DATASETS

if TYPE_CHECKING:
    from torch.utils.data import Dataset

__all__ = ["DataSplits", "LoaderFn", "get_dataset", "list_datasets", "register_dataset"]


@dataclass(frozen=True)
class DataSplits:
    """The three splits of one data set plus the shape facts a network needs.

    Every split yields ``(image, label)`` items: ``image`` is a normalized float32 tensor
    ``[C, H, W]`` and ``label`` an int64 scalar tensor or a Python int.

    Attributes:
        name: Registered name of the data set.
        train: Split the hypernetwork / candidate networks are trained on.
        val: Split used for model selection and scoring.
        test: Held-out split, only for final reporting.
        in_channels: Number of image channels ``C``.
        num_classes: Number of label classes; labels lie in ``[0, num_classes)``.
        image_size: Side of the square images (``H == W``).
        root: Absolute folder the images were read from; None for data sets bundled with a
            dependency (``mnist5k``, ``digits``), which read no folder.
        options: The loader options :func:`get_dataset` was given (e.g. ``image_size`` of
            ``imagefolder``): with the name, seed and root they rebuild these splits.
    """

    name: str
    train: Dataset
    val: Dataset
    test: Dataset
    in_channels: int
    num_classes: int
    image_size: int
    root: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


# A loader is called as ``loader(root, download=..., seed=..., **options)``.
LoaderFn = Callable[..., DataSplits]
_LoaderT = TypeVar("_LoaderT", bound=LoaderFn)


def register_dataset(name: str, **options: Any) -> Callable[[_LoaderT], _LoaderT]:
    """Register a loader under ``name`` (decorator).

    The loader is called as ``loader(root, download=download, seed=seed, **options)`` where
    ``root`` is a :class:`pathlib.Path` or ``None`` and must return a :class:`DataSplits`.

    Args:
        name: Name users pass to :func:`get_dataset`.
        **options: Facts kept with the entry (:meth:`adwp.registry.Registry.info`), e.g.
            ``description``.

    Returns:
        A decorator that registers the loader and returns it unchanged.

    Raises:
        RegistryError: If ``name`` is malformed or already registered (a ``ValueError``).
    """
    return DATASETS.register(name, **options)


def list_datasets() -> list[str]:
    """Names of all registered data sets.

    Returns:
        The registered names, sorted.
    """
    return DATASETS.list()


def get_dataset(
    name: str,
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    seed: int = 0,
    **options: Any,
) -> DataSplits:
    """Load a registered data set and split it deterministically.

    Args:
        name: Registered data set name (see :func:`list_datasets`).
        root: Folder holding (or receiving) the files; ignored by data sets bundled with a
            dependency (``mnist5k``, ``digits``).
        download: Whether a loader that can download may fetch missing files.
        seed: Seed of the train/val/test split; the same seed gives the same split.
        **options: Extra loader-specific keyword options (e.g. ``image_size``, the side
            ``imagefolder`` resizes and crops its images to, default 64; ``val_size``,
            ``train_size`` for ``cifar10``/``cifar100``; ``cache_dir`` for ``cifar10`` image
            folders). They are recorded in the result's ``options``.

    Returns:
        The train/val/test splits and their shape facts.

    Raises:
        DataError: If the name is unknown, an option is not accepted by the loader, or the
            loader cannot find or read the data.
    """
    loader = DATASETS.get(name)
    _check_options(name, loader, options)
    root_path = Path(root).expanduser() if root is not None else None
    splits = loader(root_path, download=download, seed=seed, **options)
    return replace(splits, options={**splits.options, **options})


def _check_options(name: str, loader: LoaderFn, options: dict[str, Any]) -> None:
    """Reject options the loader does not take with a DataError instead of a TypeError.

    Args:
        name: Data set name, for the message.
        loader: The registered loader.
        options: Extra keyword options the caller passed.

    Raises:
        DataError: If some option is not a keyword-only parameter of the loader.
    """
    if not options:
        return
    params = inspect.signature(loader).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    accepted = sorted(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)
    accepted = [a for a in accepted if a not in ("download", "seed")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DataError(
            f"data set {name!r} does not accept option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or 'none'}"
        )
