"""Ground truth: standalone training of architectures from scratch with one fixed recipe.

Each (architecture, seed) becomes one JSONL row with ``arch``, ``seed``, ``val_acc``, ``test_acc``,
``params``, ``flops``, ``seconds``, ``recipe`` (a hash of the recipe and data set) and the recipe
itself. Rows are appended (and fsynced) as they finish, and rows already present are skipped, so a
killed run resumes losing at most the architecture in progress.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from adwp._augment import random_shift
from adwp.data import DataSplits, as_tensors, iterate_batches
from adwp.errors import AdwpError, DataError
from adwp.io import append_jsonl, read_jsonl, write_jsonl
from adwp.spaces import Architecture

__all__ = [
    "TRUTH_FORMATS",
    "Recipe",
    "TruthTable",
    "mean_by_arch",
    "merge_tables",
    "read_table",
    "read_truth",
    "run_groundtruth",
    "shard_from_environment",
    "train_standalone",
]

# Variables a scheduler sets for one task of an array job, tried in order: SLURM's own, then a
# generic pair any scheduler (or a shell loop) can export.
_SHARD_VARIABLES = (
    ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"),
    ("ADWP_SHARD_INDEX", "ADWP_SHARD_COUNT"),
)


@dataclass(frozen=True)
class Recipe:
    """The one standalone-training recipe of a ground-truth table.

    Attributes:
        epochs: Passes over the training split.
        batch_size: Images per step.
        max_lr: Peak learning rate of the one-cycle schedule (Adam).
        weight_decay: Adam's L2 weight decay.
        augment_shift: Largest random shift in pixels (0: no augmentation).
        label_smoothing: Cross-entropy label smoothing.
        precise_bn: Recompute BatchNorm statistics exactly over the whole training split after
            training (instead of keeping the moving average of the last batches), which removes a
            source of seed-to-seed noise in the measured accuracy.
    """

    epochs: int = 3
    batch_size: int = 128
    max_lr: float = 3e-3
    weight_decay: float = 5e-4
    augment_shift: int = 0
    label_smoothing: float = 0.0
    precise_bn: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AdwpError(f"Recipe.{name} must be a positive integer, got {value!r}")
        if isinstance(self.augment_shift, bool) or not isinstance(self.augment_shift, int):
            raise AdwpError(f"Recipe.augment_shift must be an integer, got {self.augment_shift!r}")
        if self.augment_shift < 0:
            raise AdwpError(f"Recipe.augment_shift must be 0 or more, got {self.augment_shift}")
        if not (0 < self.max_lr < float("inf")):
            raise AdwpError(f"Recipe.max_lr must be positive and finite, got {self.max_lr}")
        if not self.weight_decay >= 0:
            raise AdwpError(f"Recipe.weight_decay must be non-negative, got {self.weight_decay}")
        if not 0 <= self.label_smoothing < 1:
            raise AdwpError(f"Recipe.label_smoothing must be in [0, 1), got {self.label_smoothing}")

    def digest(self, dataset: str, data_seed: int) -> str:
        """Returns a short hash identifying this recipe on this data set split."""
        text = json.dumps(
            {**asdict(self), "dataset": dataset, "data_seed": data_seed}, sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _accuracy(model: torch.nn.Module, dataset: Any, device: torch.device) -> float:
    correct = total = 0
    model.eval()
    with torch.inference_mode():
        for x, y in iterate_batches(dataset, 1000):
            correct += int((model(x.to(device)).argmax(1) == y.to(device)).sum())
            total += int(y.shape[0])
    return correct / total


@torch.no_grad()
def _precise_bn(model: torch.nn.Module, images: torch.Tensor, batch_size: int) -> None:
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average: every training batch counts equally
    model.train()
    for x in images.split(batch_size):
        model(x)
    for norm in norms:
        norm.momentum = 0.1


def train_standalone(
    space: Any,
    arch: Architecture,
    data: DataSplits,
    recipe: Recipe,
    seed: int,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Trains ``space.build(arch)`` from scratch and measures it.

    Args:
        space: The search space.
        arch: Architecture of the space.
        data: Data splits (train for training; val and test for measuring).
        recipe: Training recipe.
        seed: Seed of initialisation, data order and augmentation.
        device: Where to train.

    Returns:
        ``val_acc``, ``test_acc`` (fractions), ``train_loss`` (last epoch) and ``seconds``.
    """
    start = time.perf_counter()
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = space.build(space.validate(arch)).to(device)
    gen = torch.Generator().manual_seed(seed)
    x_all, y_all = as_tensors(data.train)
    x_all, y_all = x_all.to(device), y_all.to(device)
    steps_per_epoch = -(-x_all.shape[0] // recipe.batch_size)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=recipe.max_lr, weight_decay=recipe.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=recipe.max_lr, total_steps=recipe.epochs * steps_per_epoch
    )
    loss_sum = 0.0
    for _ in range(recipe.epochs):
        model.train()
        order = torch.randperm(x_all.shape[0], generator=gen).to(device)
        loss_sum = 0.0
        for idx in order.split(recipe.batch_size):
            x = random_shift(x_all[idx], recipe.augment_shift, gen)
            loss = F.cross_entropy(model(x), y_all[idx], label_smoothing=recipe.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.item()
    if recipe.precise_bn:
        _precise_bn(model, x_all, recipe.batch_size)
    return {
        "val_acc": _accuracy(model, data.val, device),
        "test_acc": _accuracy(model, data.test, device),
        "train_loss": loss_sum / steps_per_epoch,
        "seconds": time.perf_counter() - start,
    }


_REQUIRED = {"arch": str, "seed": int, "val_acc": float, "test_acc": float, "recipe": str}
_FOREIGN = {"arch": str}  # tables of other benchmarks: opaque keys, any accuracy column
_METRICS = ("val_acc", "test_acc")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _written_by_adwp(row: dict[str, Any]) -> bool:
    """Whether a row comes from ``adwp groundtruth``, which stamps every row with its recipe."""
    return "recipe" in row or "recipe_config" in row


def _check_row(row: Any, where: str, foreign: bool = False) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise DataError(f"{where}: row is not a JSON object")
    own = not foreign or _written_by_adwp(row)
    for key, kind in (_REQUIRED if own else _FOREIGN).items():
        value = row.get(key)
        ok = _is_number(value) if kind is float else isinstance(value, kind)
        if not ok or isinstance(value, bool):
            raise DataError(f"{where}: field {key!r} must be a {kind.__name__}, got {value!r}")
    for key in _METRICS:
        if key not in row:
            continue
        value = row[key]
        if not _is_number(value) or not math.isfinite(value):
            raise DataError(f"{where}: {key} of {row['arch']!r} is {value!r}, not a finite number")
        # adwp measures fractions of correct images; other benchmarks may use any scale.
        if own and not 0 <= value <= 1:
            raise DataError(
                f"{where}: {key} {value!r} is not a fraction in [0, 1] "
                "(rows written by adwp groundtruth hold fractions)"
            )
    size = row.get("params")
    if size is not None and not (_is_number(size) and math.isfinite(size) and size > 0):
        raise DataError(
            f"{where}: params of {row['arch']!r} is {size!r}, not a positive finite number"
        )
    return row


def read_table(
    path: str | os.PathLike[str], repair_tail: bool = False, foreign: bool = False
) -> list[dict[str, Any]]:
    """Reads a ground-truth JSONL table, checking every row.

    Args:
        path: JSONL file.
        repair_tail: Drop a final line cut off by a kill mid-write (it has no newline) and truncate
            the file to the complete rows, instead of raising.
        foreign: Accept tables not written by ``adwp groundtruth``: only ``arch`` (an opaque
            string) is required; ``seed`` defaults to 0 and the metric columns, where present,
            may use any finite scale (percentages, losses, ...). Rows that carry adwp's
            ``recipe`` stamp are still checked in full, fractions in [0, 1] included.

    Returns:
        The rows, in file order.

    Raises:
        DataError: If the file is missing or a row is corrupt (naming its line).
    """
    path = Path(path)
    return [
        _check_row(row, f"{path}:{number}", foreign)
        for number, row in _jsonl_rows(path, repair_tail)
    ]


def _jsonl_rows(path: Path, repair_tail: bool = False) -> Iterator[tuple[int, Any]]:
    """Yields ``(line number, parsed row)`` of a JSONL ground-truth table, blank lines skipped."""
    return read_jsonl(path, repair_tail, what="ground-truth table")


def shard_from_environment(environ: dict[str, str] | None = None) -> tuple[int, int]:
    """This task's ``(index, count)`` share of an array job, from the scheduler's variables.

    SLURM: ``SLURM_ARRAY_TASK_ID`` and ``SLURM_ARRAY_TASK_COUNT``; an array that does not start
    at 0 or steps by more than 1 (``--array=1-8``, ``--array=0-15:2``) is renumbered from
    ``SLURM_ARRAY_TASK_MIN`` and ``SLURM_ARRAY_TASK_STEP``. Other schedulers: export
    ``ADWP_SHARD_INDEX`` (0-based) and ``ADWP_SHARD_COUNT``.

    Args:
        environ: The variables (default: the process environment).

    Raises:
        AdwpError: If neither pair is set, or their values are not a valid share.
    """
    env = dict(os.environ if environ is None else environ)
    for index_name, count_name in _SHARD_VARIABLES:
        if index_name in env and count_name in env:
            break
    else:
        pairs = " or ".join(f"{i} and {c}" for i, c in _SHARD_VARIABLES)
        raise AdwpError(f"--shard auto needs {pairs} in the environment; none is set")
    try:
        index, count = int(env[index_name]), int(env[count_name])
        if index_name.startswith("SLURM"):
            first = int(env.get("SLURM_ARRAY_TASK_MIN", 0))
            step = int(env.get("SLURM_ARRAY_TASK_STEP", 1))
            index, remainder = divmod(index - first, step)
            if remainder:
                raise ValueError
    except ValueError:
        values = f"{index_name}={env[index_name]!r}, {count_name}={env[count_name]!r}"
        raise AdwpError(f"--shard auto: {values} do not name a task of the array") from None
    if count < 1 or not 0 <= index < count:
        raise AdwpError(
            f"--shard auto: task {index} of {count} (from {index_name}, {count_name}) is not in "
            f"0..{count - 1}"
        )
    return index, count


def run_groundtruth(
    space: Any,
    archs: Sequence[Architecture],
    data: DataSplits,
    recipe: Recipe,
    seeds: Iterable[int],
    output: str | os.PathLike[str],
    *,
    data_seed: int = 0,
    shard: tuple[int, int] = (0, 1),
    device: str | torch.device = "cpu",
    quiet: bool = False,
) -> list[dict[str, Any]]:
    """Trains every (architecture, seed) of this shard not yet in ``output`` and appends rows.

    Args:
        space: The search space.
        archs: Architectures or canonical strings, in a fixed order (sharding is by position).
        data: Data splits.
        recipe: Training recipe.
        seeds: Training seeds.
        output: JSONL file (created if missing, appended to otherwise).
        data_seed: Seed of the data split (part of the recipe hash).
        shard: ``(index, count)``: this run takes architectures ``index, index + count, ...``.
        device: Where to train.
        quiet: Hide the progress bar.

    Returns:
        All rows of ``output`` after the run.

    Raises:
        DataError: If ``output`` holds rows of another recipe or a corrupt row.
    """
    from tqdm.auto import tqdm

    index, count = shard
    if not 0 <= index < count:
        raise AdwpError(f"shard index must be in 0..{count - 1}, got {index}")
    output = Path(output)
    if output.is_dir():
        raise AdwpError(f"output {output} is a folder; give a .jsonl file name")
    digest = recipe.digest(data.name, data_seed)
    done: set[tuple[str, int]] = set()
    if output.exists():
        for row in read_table(output, repair_tail=True):
            if row["recipe"] != digest:
                raise DataError(
                    f"{output} holds rows of recipe {row['recipe']}, this run is {digest}: "
                    "use another --output"
                )
            done.add((row["arch"], row["seed"]))
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
    seeds = list(seeds)
    # Validated up front (strings become architectures), so a bad one fails before any training.
    mine = [space.validate(arch) for arch in list(archs)[index::count]]
    todo = [(arch, seed) for arch in mine for seed in seeds if (arch.to_string(), seed) not in done]
    # A shard left without work (more shards than architectures) still leaves a table to merge.
    output.touch()
    for arch, seed in tqdm(todo, disable=quiet, desc="groundtruth", unit="run"):
        result = train_standalone(space, arch, data, recipe, seed, device)
        row = {
            "arch": arch.to_string(),
            "seed": seed,
            "val_acc": result["val_acc"],
            "test_acc": result["test_acc"],
            "train_loss": round(result["train_loss"], 5),
            "params": space.params(arch),
            "flops": space.flops(arch),
            "seconds": round(result["seconds"], 3),
            "dataset": data.name,
            "recipe": digest,
            "recipe_config": {**asdict(recipe), "data_seed": data_seed},
        }
        append_jsonl(output, [row])
    return read_table(output)


def merge_tables(
    inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str]
) -> list[dict[str, Any]]:
    """Joins shard tables into one, refusing mixed recipes and conflicting duplicates.

    Args:
        inputs: Shard JSONL files.
        output: Merged JSONL file, written atomically.

    Returns:
        The merged rows.

    Raises:
        DataError: On mixed recipes, corrupt rows, or one (arch, seed) with different results.
    """
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    recipes: dict[str, str] = {}
    for path in inputs:
        for row in read_table(path):
            recipes.setdefault(row["recipe"], str(path))
            if len(recipes) > 1:
                a, b = list(recipes.items())[:2]
                raise DataError(f"mixed recipes: {a[0]} in {a[1]} and {b[0]} in {b[1]}")
            key = (row["arch"], row["seed"])
            if key in rows and rows[key]["val_acc"] != row["val_acc"]:
                raise DataError(f"{path}: {key} appears twice with different results")
            rows.setdefault(key, row)
    write_jsonl(output, rows.values())
    return list(rows.values())


def mean_by_arch(rows: Sequence[dict[str, Any]], metric: str = "val_acc") -> dict[str, float]:
    """Returns the mean of ``metric`` over seeds for every architecture key."""
    sums: dict[str, list[float]] = {}
    for row in rows:
        sums.setdefault(row["arch"], []).append(float(row[metric]))
    return {arch: float(np.mean(values)) for arch, values in sums.items()}


#: File extensions :func:`read_truth` reads, and the format each stands for.
TRUTH_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True, eq=False)
class TruthTable:
    """One metric column of a ground-truth table, per architecture key and seed.

    Built by :func:`read_truth` from a table of ``adwp groundtruth`` or of another benchmark
    (NAS-Bench-201 and the like): keys are opaque strings and the metric may use any finite
    scale (fractions, percentages, losses).

    Attributes:
        path: The file read.
        key: Column holding the architecture key.
        metric: Column holding the measured value.
        values: ``{key: {seed: value}}``, keys in file order. Without a ``seed`` column, rows
            sharing a key are repeats numbered 0, 1, ... in file order (and so averaged).
        sizes: ``{key: #params}`` of the keys whose rows carry a ``params`` value.
        seeded: Whether the table has a ``seed`` column.
    """

    path: str
    key: str
    metric: str
    values: dict[str, dict[int, float]]
    sizes: dict[str, float]
    seeded: bool

    def __len__(self) -> int:
        return len(self.values)

    def mean(self) -> dict[str, float]:
        """The metric of every architecture key, averaged over seeds (or repeats)."""
        return {key: float(np.mean(list(runs.values()))) for key, runs in self.values.items()}

    def per_seed(self) -> dict[str, dict[int, float]]:
        """A copy of ``values``: ``{key: {seed: value}}``, what noise ceilings compare."""
        return {key: dict(runs) for key, runs in self.values.items()}

    @property
    def params(self) -> dict[str, float] | None:
        """``{key: #params}`` where the table has a ``params`` column, else None."""
        return dict(self.sizes) or None

    def check_covers(self, keys: Iterable[str], max_missing: float = 0.01) -> list[str]:
        """Checks that the table holds (nearly) all of the given architecture keys.

        A table cut short (a truncated download or copy) or keyed by another column otherwise
        still correlates, on whatever part of the scores it happens to hold.

        Args:
            keys: The scored architectures' keys.
            max_missing: The largest share of ``keys`` that may be missing, in [0, 1].

        Returns:
            The keys missing from the table, in input order.

        Raises:
            DataError: If more than ``max_missing`` of the keys are missing (naming how many of
                how many, and one of them), or ``max_missing`` is not in [0, 1].
        """
        if not (_is_number(max_missing) and 0 <= max_missing <= 1):
            raise DataError(f"max_missing must be a share in [0, 1], got {max_missing!r}")
        keys = [str(k) for k in keys]
        missing = [k for k in keys if k not in self.values]
        if keys and len(missing) > max_missing * len(keys):
            raise DataError(
                f"{len(missing)} of {len(keys)} scored architectures "
                f"({len(missing) / len(keys):.1%}) are not in the truth {self.path}, e.g. "
                f"{missing[0]!r}; more than the {max_missing:.1%} allowed: is the table complete, "
                f"and are its keys in column {self.key!r}? (--max-unmatched / max_missing accepts "
                "a larger share)"
            )
        return missing

    def rows(self) -> list[dict[str, Any]]:
        """One row per (key, seed), shaped as :func:`adwp.metrics.correlation_report` takes them.

        Each row holds ``arch`` (the key), ``seed``, the metric and, where known, ``params``.
        """
        out = []
        for key, runs in self.values.items():
            size = {"params": self.sizes[key]} if key in self.sizes else {}
            out.extend(
                {"arch": key, "seed": seed, self.metric: v, **size} for seed, v in runs.items()
            )
        return out


def read_truth(
    path: str | os.PathLike[str], key: str = "arch", metric: str = "val_acc"
) -> TruthTable:
    """Reads one metric of a ground-truth table, CSV or JSONL, chosen by the file's extension.

    ``.csv`` files are read with a header row; ``.jsonl`` and ``.json`` files hold one JSON object
    per line (a ``.json`` file may instead hold one JSON list of objects). Rows carrying
    ``adwp groundtruth``'s recipe stamp keep its full checks (fractions in [0, 1] included).
    Optional columns: ``seed`` (an integer; a (key, seed) pair may appear once) and ``params``
    (a positive number, feeding the size-controlled metrics of ``adwp correlate``). Without a
    ``seed`` column, rows sharing a key are kept as repeats and averaged (NAS-Bench-201 keyed by
    its isomorphism-merged ``UniqueString``, for instance).

    Args:
        path: The table.
        key: Column holding the architecture key (an opaque string, e.g. NAS-Bench-201's
            ``|nor_conv_3x3~0|+|...|``).
        metric: Column holding the value ranked against (any finite scale).

    Returns:
        The table's values of ``metric`` per key and seed.

    Raises:
        DataError: One line naming the file and what is wrong: an unknown extension, a missing
            file, no ``key`` or ``metric`` column (listing the columns there are), a metric that
            is not a finite number (naming the line and the key), a bad seed or params value, a
            (key, seed) pair given twice, or no rows.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TRUTH_FORMATS:
        raise DataError(
            f"{path}: unknown table format {suffix or '(no extension)'!r}; "
            f"ground-truth tables are {', '.join(TRUTH_FORMATS)} files"
        )
    if not path.is_file():
        raise DataError(f"ground-truth table not found: {path}")
    records = (
        _csv_records(path, key, metric) if suffix == ".csv" else _json_records(path, key, metric)
    )
    values: dict[str, dict[int, float]] = {}
    sizes: dict[str, float] = {}
    where: dict[tuple[str, int], str] = {}
    seeded = False
    for place, name, seed, value, size in records:
        runs = values.setdefault(name, {})
        if seed is None:
            seed = len(runs)  # unseeded repeats of one key, numbered in file order
        else:
            seeded = True
            if seed in runs:
                first = where[name, seed]
                raise DataError(f"{place}: {name!r} with seed {seed} appears twice (also {first})")
        where[name, seed] = place
        runs[seed] = value
        if size is not None:
            sizes.setdefault(name, size)
    if not values:
        raise DataError(f"{path}: the table has no rows")
    return TruthTable(str(path), key, metric, values, sizes, seeded)


#: One checked row: (where, key, seed or None, metric value, params or None).
_Record = tuple[str, str, int | None, float, float | None]


def _missing_column(path: Path, role: str, name: str, columns: Iterable[str]) -> DataError:
    listed = ", ".join(repr(str(c)) for c in columns) or "none"
    return DataError(f"{path} has no {role} column {name!r}; its columns: {listed}")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _csv_records(path: Path, key: str, metric: str) -> Iterator[_Record]:
    # utf-8-sig: spreadsheet exports often start with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not a readable CSV file ({exc})") from None
        if not header:
            raise DataError(f"{path}: empty CSV file (no header row)")
        column = {name: i for i, name in enumerate(header)}
        for role, name in (("key", key), ("metric", metric)):
            if name not in column:
                raise _missing_column(path, role, name, header)
        seed_at, size_at = column.get("seed"), column.get("params")
        try:
            for cells in reader:
                if not cells or not any(cell.strip() for cell in cells):
                    continue
                place = f"{path}:{reader.line_num}"
                if len(cells) != len(header):
                    raise DataError(f"{place}: {len(cells)} fields, the header has {len(header)}")
                name = cells[column[key]]
                yield _record(
                    place,
                    name,
                    metric,
                    cells[column[metric]],
                    None if seed_at is None else cells[seed_at],
                    None if size_at is None or not cells[size_at].strip() else cells[size_at],
                )
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"{path}:{reader.line_num}: not readable as CSV ({exc})") from None


def _record(place: str, name: Any, metric: str, value: Any, seed: Any, size: Any) -> _Record:
    """Checks one row's cells (CSV text or JSON values) and converts them."""
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)  # integer indices of other benchmarks are keys like any other
    if not isinstance(name, str) or not name:
        raise DataError(f"{place}: the key is {name!r}, not a non-empty string")
    number = _number(value) if isinstance(value, str) else value
    if not _is_number(number):
        raise DataError(f"{place}: {metric} of {name!r} is {value!r}, not a number")
    if not math.isfinite(number):
        raise DataError(f"{place}: {metric} of {name!r} is {value!r}, not a finite number")
    if seed is not None:
        if isinstance(seed, str) and seed.strip().removeprefix("-").isdecimal():
            seed = int(seed)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise DataError(f"{place}: seed of {name!r} is {seed!r}, not an integer")
    if size is not None:
        parsed = _number(size) if isinstance(size, str) else size
        if not (_is_number(parsed) and math.isfinite(parsed) and parsed > 0):
            raise DataError(f"{place}: params of {name!r} is {size!r}, not a positive number")
        size = float(parsed)
    return place, name, seed, float(number), size


def _json_records(path: Path, key: str, metric: str) -> Iterator[_Record]:
    text_start = path.read_bytes()[:4096].lstrip()
    if path.suffix.lower() == ".json" and text_start.startswith(b"["):
        try:
            items = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: invalid JSON ({exc})") from None
        numbered: Iterable[tuple[str, Any]] = (
            (f"{path}: item {i}", item) for i, item in enumerate(items, 1)
        )
    else:
        numbered = ((f"{path}:{n}", row) for n, row in _jsonl_rows(path))
    for place, row in numbered:
        if not isinstance(row, dict):
            raise DataError(f"{place}: row is not a JSON object")
        if _written_by_adwp(row):
            _check_row(row, place)
        for role, name in (("key", key), ("metric", metric)):
            if name not in row:
                raise _missing_column(Path(place), role, name, row)
        yield _record(place, row[key], metric, row[metric], row.get("seed"), row.get("params"))
