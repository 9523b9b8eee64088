"""What the scripts under ``benchmarks/`` share: the NAS-Bench-201 CIFAR-10 data flags, weight
generators named by a shipped name or a path, the published numbers they compare with, the
verdict of a paired difference, atomic result files and the ranking benchmark's figures.

The scripts import these from here (``from adwp.benchmarking import cifar10, write_json``), so
that each runs on its own as ``python benchmarks/NAME.py`` and none imports another.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adwp.errors import CheckpointError
from adwp.io import file_tag, write_json
from adwp.registry import PRETRAINED

if TYPE_CHECKING:
    from adwp.evaluator import Evaluator, EvaluatorConfig

__all__ = [
    "PUBLISHED_SPEARMAN",
    "add_data_arguments",
    "cifar10",
    "draw_method_figures",
    "file_tag",
    "generator_file",
    "hypervolume",
    "load_evaluator",
    "named_choices",
    "paired_bootstrap",
    "paired_versus",
    "seed_list",
    "stored",
    "verdict",
    "write_json",
]

# Spearman over all 15,625 architectures (Abdelfattah et al. 2021, Table 2; NASWOT's second
# version is not in that table).
PUBLISHED_SPEARMAN = {
    "synflow": 0.737,
    "jacob_cov": 0.731,
    "snip": 0.596,
    "grad_norm": 0.594,
    "params": 0.753,
}


def generator_file(name: str) -> Path:
    """The checkpoint a ``--generator`` flag names: a shipped evaluator's file or a path.

    Raises:
        CheckpointError: If ``name`` is neither a shipped evaluator nor a file.
    """
    if name in PRETRAINED:
        return PRETRAINED.get(name).path
    path = Path(name)
    if not path.is_file():
        raise CheckpointError(
            f"--generator {name}: no such file, and not a shipped evaluator "
            f"({', '.join(PRETRAINED.list())})"
        )
    return path


def load_evaluator(name: str, data: Any, config: EvaluatorConfig, device: Any) -> Evaluator:
    """The evaluator a ``--generator`` flag names (a shipped name or a checkpoint path)."""
    from adwp.evaluator import Evaluator

    return Evaluator.from_checkpoint(name, data=data, config=config, device=device)


def verdict(interval: Sequence[float]) -> str:
    """A difference A - B by its 95% interval: A "ahead", "behind", or "level" when it holds 0."""
    from adwp.metrics import bootstrap_verdict

    if bootstrap_verdict(interval) == "level":
        return "level"
    return "ahead" if interval[0] > 0 else "behind"


def named_choices(
    text: str,
    allowed: Sequence[str],
    what: str = "methods",
    *,
    source: str | None = None,
    required: bool = False,
) -> list[str]:
    """The comma-separated names of ``text``, each among ``allowed``.

    Args:
        what: What the names are, for the message ("methods", "searchers").
        source: Where ``allowed`` comes from (a result file), when not the library itself.
        required: Refuse an empty list too.

    Raises:
        SystemExit: One line naming the unknown names and the allowed ones.
    """
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(allowed))
    if unknown or (required and not chosen):
        holder = f"{source} holds" if source else "allowed"
        named = f"unknown {what} {unknown}" if unknown else f"no {what} named"
        raise SystemExit(f"{named}; {holder}: {', '.join(allowed)}")
    return chosen


def seed_list(text: str, flag: str) -> list[int]:
    """The seeds of a comma-separated flag (``""``: none).

    Raises:
        SystemExit: One line naming ``flag``, if a seed is not an integer or is named twice.
    """
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"{flag} must be comma-separated integers, got {text!r}") from None
    if len(set(seeds)) < len(seeds):
        raise SystemExit(f"{flag} names a seed twice: {text!r}")
    return seeds


def stored(path: Path, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A search's result: read from ``path`` when done, else run and written there."""
    if not path.exists():
        write_json(path, run())
    return json.loads(path.read_text())


def paired_bootstrap(
    differences: Sequence[float], resamples: int, seed: int
) -> tuple[float, float]:
    """Percentile 95% interval of the mean of paired differences, resampling the pairs."""
    values = np.asarray(differences, dtype=np.float64)
    picks = np.random.default_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    low, high = np.percentile(values[picks].mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


def paired_versus(
    method: dict[str, Any], baseline: dict[str, Any], resamples: int, seed: int
) -> dict[str, Any] | None:
    """A method's ``accuracy`` per seed against the baseline's, paired by seed: the mean
    difference, its bootstrap 95% interval and :func:`verdict`; None below two seeds."""
    if len(method["accuracy"]) < 2:
        return None
    differences = np.subtract(method["accuracy"], baseline["accuracy"])
    low, high = paired_bootstrap(differences, resamples, seed)
    return {
        "mean_difference": float(differences.mean()),
        "ci95": [low, high],
        "verdict": verdict((low, high)),
        "differences": differences.tolist(),
    }


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """Area that ``(accuracy, cost)`` points dominate, accuracy up and cost down, within the box
    above ``reference = (worst accuracy, largest cost)``.

    A point dominates every ``(a, c)`` with ``reference[0] <= a <= accuracy`` and
    ``cost <= c <= reference[1]``; the area of the union of these rectangles is returned (0 for
    no points, or none better than the reference in both).
    """
    low, high = float(reference[0]), float(reference[1])
    inside = sorted((float(c), float(a)) for a, c in points if float(a) > low and float(c) < high)
    area, best = 0.0, low
    # Cheapest first: each point adds the accuracy it gains over every cheaper one, at its cost.
    for cost, accuracy in inside:
        if accuracy > best:
            area += (accuracy - best) * (high - cost)
            best = accuracy
    return area


def add_data_arguments(
    parser: argparse.ArgumentParser,
    table: str = "NAS-Bench-201 table (nats_tss.csv)",
    key: str = "ArchitectureString",
    metric: str = "CIFAR10TestAccuracy200Epochs",
) -> None:
    """The flags a benchmark script reads its CIFAR-10 images and its table with; ``table``,
    ``key`` and ``metric`` describe the table (NAS-Bench-201's by default)."""
    parser.add_argument("--data-root", required=True, help="CIFAR-10 image folders")
    parser.add_argument("--truth", required=True, help=table)
    parser.add_argument("--key", default=key)
    parser.add_argument("--metric", default=metric)
    parser.add_argument("--data-cache", default=None, metavar="DIR")
    parser.add_argument(
        "--train-size", type=int, default=None, help="training images (default all 45k)"
    )
    parser.add_argument("--val-size", type=int, default=None, help="validation images (default 5k)")


def cifar10(args: argparse.Namespace) -> Any:
    """CIFAR-10 as :func:`add_data_arguments`'s flags say, always split with seed 0, so every
    script sees the images the weight generators were trained and scored on."""
    from adwp.data import get_dataset

    options: dict[str, Any] = {"cache_dir": args.data_cache} if args.data_cache else {}
    for name in ("train_size", "val_size"):
        if getattr(args, name):
            options[name] = getattr(args, name)
    return get_dataset("cifar10", root=args.data_root, seed=0, **options)


def draw_method_figures(results: dict[str, Any], plot: str | Path) -> None:
    """Draws the methods side by side (``plot``) and their curves (``<plot stem>_curve.png``).

    Args:
        results: A ``benchmarks/ranking.py`` output, as written or as read back from its JSON.
        plot: Path of the bar chart.
    """
    from adwp.plots import plot_curves, plot_methods

    methods, noise = results["methods"], results["noise_ceiling"]
    names = list(methods)
    plot_methods(
        names,
        {
            "Kendall tau": [methods[m]["kendall_tau"] for m in names],
            # None (#params given its own size) is drawn as "n/a", not as a zero bar.
            "partial tau given log #params": [methods[m]["partial_tau"] for m in names],
        },
        plot,
        ceiling={
            "Kendall tau": noise["kendall_tau"],
            "partial tau given log #params": noise["partial_tau"],
        },
        ylabel="rank correlation with the truth",
        title=(
            f"{Path(results['truth']).name}: n={results['n']} architectures; "
            "dashed: one ground-truth seed against another"
        ),
    )
    if results.get("curves"):
        plot_curves(
            results["curves"],
            Path(plot).with_name(Path(plot).stem + "_curve.png"),
            ceiling={"kendall_tau": noise["kendall_tau"], "partial_tau": noise["partial_tau"]},
        )
