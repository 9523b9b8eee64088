"""Ground truth by standalone training: architectures trained from scratch with one fixed recipe.

Each (architecture, seed) becomes one JSONL row with ``arch``, ``seed``, ``val_acc``, ``test_acc``,
``params``, ``flops``, ``seconds``, ``recipe`` (a hash of the recipe and data set) and the recipe
itself. Rows are appended (and fsynced) as they finish, and rows already present are skipped, so a
killed run resumes losing at most the architecture in progress. :mod:`adwp.truth.tables` reads the
tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from adwp._augment import random_shift
from adwp.data import DataSplits, as_tensors, iterate_batches
from adwp.errors import AdwpError, DataError
from adwp.io import append_jsonl
from adwp.spaces import Architecture
from adwp.truth.tables import read_table

__all__ = [
    "Recipe",
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
