"""Ground-truth tables: one reader for the tables ``adwp groundtruth`` writes and for those of other
benchmarks (NAS-Bench-201 and the like), CSV or JSONL; and merging shard tables.

:func:`read_table` gives every row of a table as written; :func:`read_truth` one metric column
of it, per architecture key and seed (:class:`TruthTable`).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adwp.errors import DataError
from adwp.io import read_jsonl, write_jsonl

__all__ = [
    "TRUTH_FORMATS",
    "TruthTable",
    "mean_by_arch",
    "merge_tables",
    "read_table",
    "read_truth",
    "table_columns",
]


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
    """Reads every row of a ground-truth table, checking each (:func:`read_truth` reads one
    metric column of the same files, and CSV files too).

    Args:
        path: JSONL file (or a ``.json`` list of objects).
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
    return [_check_row(row, place, foreign) for place, row in _json_rows(Path(path), repair_tail)]


def _json_rows(path: Path, repair_tail: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yields ``(place, row)`` of a JSON table, ``place`` naming the file and line (or item).

    The table holds one JSON object per line (blank lines skipped), or, in a ``.json`` file, one
    JSON list of objects.

    Raises:
        DataError: If the file is missing, not JSON, or a row is not a JSON object.
    """
    numbered: Iterable[tuple[str, Any]]
    listed = path.suffix.lower() == ".json" and path.is_file()
    if listed and path.read_bytes()[:4096].lstrip().startswith(b"["):
        try:
            items = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: invalid JSON ({exc})") from None
        numbered = ((f"{path}: item {i}", item) for i, item in enumerate(items, 1))
    else:
        numbered = (
            (f"{path}:{n}", row)
            for n, row in read_jsonl(path, repair_tail, what="ground-truth table")
        )
    for place, row in numbered:
        if not isinstance(row, dict):
            raise DataError(f"{place}: row is not a JSON object")
        yield place, row


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
        """One row per (key, seed), shaped as :func:`adwp.truth.report.correlation_report` takes.

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


def table_columns(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a ground-truth table: a CSV file's header, or the keys of a JSONL
    file's first row (a JSON list's first object).

    Raises:
        DataError: As :func:`read_truth` does for an unreadable file.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            try:
                return list(next(csv.reader(handle), None) or [])
            except (csv.Error, UnicodeDecodeError) as exc:
                raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    for _, row in _json_rows(path):
        return list(row)
    return []


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
    for place, row in _json_rows(path):
        if _written_by_adwp(row):
            _check_row(row, place)
        for role, name in (("key", key), ("metric", metric)):
            if name not in row:
                raise _missing_column(Path(place), role, name, row)
        yield _record(place, row[key], metric, row[metric], row.get("seed"), row.get("params"))
