"""Ground-truth tables: what ``adwp groundtruth`` does."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adwp.errors import AdwpError
from adwp.io import check_writable, parse_archs, read_archs
from adwp.usecases._common import at_least_one, check_space_options, data_shape, load_data

__all__ = ["GroundTruthResult", "groundtruth", "merge_groundtruth"]


@dataclass(frozen=True)
class GroundTruthResult:
    """A ground-truth table, as written.

    Attributes:
        path: The JSONL table.
        rows: Its rows (one per architecture, training seed and recipe), those of earlier runs
            included.
    """

    path: str
    rows: tuple[Mapping[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """The table's path and rows (the file holds the rows, one JSON object a line)."""
        return {"path": self.path, "rows": [dict(row) for row in self.rows]}


def groundtruth(
    output: str | os.PathLike[str],
    archs: Iterable[Any] | None = None,
    *,
    archs_file: str | None = None,
    sample: int | None = None,
    dataset: str = "mnist5k",
    data_root: str | None = None,
    download: bool = False,
    data_options: Mapping[str, Any] | None = None,
    data_seed: int = 0,
    space: str = "macro",
    space_options: Mapping[str, Any] | None = None,
    seeds: int = 2,
    epochs: int = 3,
    seed: int = 0,
    shard: tuple[int, int] = (0, 1),
    device: str = "auto",
    quiet: bool = True,
) -> GroundTruthResult:
    """Trains architectures standalone and records their accuracy in a JSONL table.

    Rows already in ``output`` are skipped, so a rerun resumes. Give the architectures one way:
    ``archs`` (strings or architectures), ``archs_file`` (:func:`adwp.io.read_archs`) or
    ``sample`` (that many distinct ones drawn with ``seed``).

    Args:
        output: The JSONL table.
        archs: The architectures.
        archs_file: An architecture list.
        sample: How many architectures to draw.
        dataset: Data set trained and scored on.
        data_root: Folder of on-disk data sets.
        download: Fetch a missing data set.
        data_options: Options of its loader (``image_size``, ``cache_dir``...).
        data_seed: Seed of its train/val/test split.
        space: The architectures' search space.
        space_options: Its options.
        seeds: Training seeds per architecture (0 to ``seeds - 1``).
        epochs: Passes over the training split per run.
        seed: Seed of ``sample``.
        shard: ``(index, count)``: this run's share of the work.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        quiet: No progress bar or status lines.

    Raises:
        AdwpError: In one line, if an argument is wrong or a file cannot be read.
    """
    import numpy as np

    from adwp.device import resolve_device
    from adwp.groundtruth import Recipe, run_groundtruth
    from adwp.spaces import get_space

    if (sample is None) + (archs is None) + (archs_file is None) != 2:
        raise AdwpError("groundtruth needs --output and exactly one of --sample N or --archs FILE")
    check_writable(output, "--output")
    resolved = resolve_device(device)
    if seeds < 1 or epochs < 1:
        raise AdwpError("--seeds and --epochs must be at least 1")
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise AdwpError(f"--shard I/N needs 0 <= I < N, got {index}/{count}")
    options = check_space_options(space_options, "--space-option")
    data = load_data(
        dataset,
        root=data_root,
        seed=data_seed,
        options=data_options,
        download=download,
        quiet=quiet,
    )
    searched = get_space(space, **data_shape(data), **options)
    if sample is not None:
        at_least_one(sample, "--sample")
        chosen = searched.sample_many(sample, np.random.default_rng(seed))
    elif archs_file is not None:
        chosen = parse_archs(read_archs(archs_file), searched)
    else:
        chosen = parse_archs(
            [(f"architecture {i}", a) for i, a in enumerate(archs or [], 1)], searched
        )
    rows = run_groundtruth(
        searched,
        chosen,
        data,
        Recipe(epochs=epochs),
        range(seeds),
        output,
        data_seed=data_seed,
        shard=(index, count),
        device=resolved,
        quiet=quiet,
    )
    return GroundTruthResult(str(output), tuple(rows))


def merge_groundtruth(
    inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str]
) -> GroundTruthResult:
    """Joins the shard tables of a ground-truth run into one, written atomically.

    Raises:
        AdwpError: If no input is given, the recipes differ, or duplicates conflict.
    """
    from adwp.groundtruth import merge_tables

    if not inputs:
        raise AdwpError("merge needs shard files and --output")
    return GroundTruthResult(str(output), tuple(merge_tables(inputs, output)))
