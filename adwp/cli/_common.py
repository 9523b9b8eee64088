"""What the commands share: argument types, flags that several commands have, their help
texts, and turning flags into the library's arguments."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from adwp.errors import AdwpError
from adwp.usecases import check_space_options


def _number_type(convert: Callable[[str], Any], ok: Callable[[Any], bool], what: str) -> Any:
    """An argparse type: ``convert`` the text, then refuse it unless ``ok``, naming ``what``."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


# Seeds (numpy refuses negative seeds deep in a run), counts such as --threads, and shares.
non_negative_int = _number_type(int, lambda v: v >= 0, "a non-negative integer")
positive_int = _number_type(int, lambda v: v >= 1, "a positive integer")
share = _number_type(float, lambda v: 0 <= v <= 1, "a share in [0, 1]")

DEVICE_HELP = "auto (CUDA when present; the default), cpu, cuda or cuda:N"
_TRAIN_SIZE_HELP = (
    "cifar10/cifar100: train on a stratified, seeded subset of N training images (recorded in "
    "the checkpoint)"
)
_VAL_SIZE_HELP = (
    "cifar10/cifar100: N validation images, held out of the training images (default 5000) or, "
    "with a val/ folder, a stratified subset of it (recorded in the checkpoint)"
)
_DATA_CACHE_HELP = (
    "cifar10 image folders: keep the decoded images in DIR so later runs skip decoding "
    "(recorded in the checkpoint)"
)
_IMAGE_SIZE_HELP = (
    "imagefolder only: side the images are resized and center-cropped to (default 64); the "
    "checkpoint records it, so rank reads the images at the same size"
)
KEY_HELP = (
    "column of the ground-truth table holding the architecture keys (default arch; e.g. "
    "ArchitectureString in NAS-Bench-201's CSV); rows sharing a key are averaged over the seed "
    "column where there is one, as repeats otherwise"
)
SPACE_OPTION_HELP = (
    "option of the space, repeatable; the value is JSON (channels=8, base_widths=[8,16,32]); "
    "'adwp space --space NAME' lists them"
)
METRIC_HELP = (
    "column of the ground-truth table ranked against (default val_acc): any numeric column on "
    "any finite scale (fractions in adwp groundtruth's tables, percentages in NAS-Bench-201's)"
)


def listing(names: Sequence[str], default: str | None = None) -> str:
    """``a, b (default) or c``: the names a flag takes, in help text."""
    shown = [f"{name} (default)" if name == default else name for name in names]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """The data set flags :func:`data_options` reads."""
    parser.add_argument("--image-size", type=int, default=None, metavar="N", help=_IMAGE_SIZE_HELP)
    parser.add_argument("--train-size", type=int, default=None, metavar="N", help=_TRAIN_SIZE_HELP)
    parser.add_argument("--val-size", type=int, default=None, metavar="N", help=_VAL_SIZE_HELP)
    parser.add_argument("--data-cache", default=None, metavar="DIR", help=_DATA_CACHE_HELP)


def add_space_option_flag(parser: argparse.ArgumentParser, help: str = SPACE_OPTION_HELP) -> None:
    """``--space-option NAME=VALUE``, repeatable, which :func:`space_options` reads."""
    parser.add_argument("--space-option", action="append", metavar="NAME=VALUE", help=help)


def add_threads_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        metavar="N",
        help="CPU threads of PyTorch's operations (default: PyTorch's, one per core); on cores "
        "shared with other jobs, fewer threads than cores is often faster",
    )


def set_threads(args: argparse.Namespace) -> None:
    """Applies ``--threads`` before any work, for the commands that have it."""
    if getattr(args, "threads", None) is not None:
        import torch

        torch.set_num_threads(args.threads)


def data_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--image-size``, ``--train-size``, ``--val-size`` and ``--data-cache`` as data set options,
    when given; left out, the loader's defaults apply."""
    options: dict[str, Any] = {}
    for flag, name in (
        ("--image-size", "image_size"),
        ("--train-size", "train_size"),
        ("--val-size", "val_size"),
    ):
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                raise AdwpError(f"{flag} must be at least 1, got {value}")
            options[name] = value
    if args.data_cache is not None:
        # Absolute, so rank finds the same cache from any working folder.
        options["cache_dir"] = str(Path(args.data_cache).expanduser().resolve())
    return options


def parse_space_options(items: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """``NAME=VALUE`` items of ``flag`` as keyword options of a space; a value is read as JSON
    where it parses (``8``, ``[8,16,32]``) and as a string otherwise."""
    options: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise AdwpError(f"{flag} must look like NAME=VALUE (e.g. channels=8), got {item!r}")
        check_space_options({name: None}, flag)
        try:
            options[name] = json.loads(text)
        except json.JSONDecodeError:
            options[name] = text
    return options


def space_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--space-option`` flags as keyword options of the space."""
    return parse_space_options(args.space_option, "--space-option")
