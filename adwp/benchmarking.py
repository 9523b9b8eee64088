"""What the scripts under ``benchmarks/`` share: the NAS-Bench-201 CIFAR-10 data flags, weight
generators named by a shipped name or a path, the published numbers they compare with, the
verdict of a paired difference, atomic result files and the ranking benchmark's figures.

The scripts import these from here (``from adwp.benchmarking import cifar10, write_json``), so
that each runs on its own as ``python benchmarks/NAME.py`` and none imports another.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    "load_evaluator",
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
