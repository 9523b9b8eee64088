"""NAS-Bench-201 CIFAR-10: the cells differentiable searchers find, against table-based searchers.

    python benchmarks/nb201_search.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nb201/nats_tss.csv --data-cache runs/cache \\
        --work runs/nb201_search --output benchmarks/results/nb201_search.json

Runs every differentiable searcher (``--methods``) with every seed (``--seeds``) on a proxy
skeleton of NB201's network (``--channels``, ``--cells``) and CIFAR-10's training images (weights)
and held-out images (architecture), then looks the found cell up in the table: its 200-epoch
CIFAR-10 test accuracy. ``hypernet-gradient`` trains nothing: it searches through a trained
weight generator of the same skeleton (``--generator``, default the shipped ``nb201-cifar10``),
on the held-out images. Random search and regularized evolution on the table itself (``--budget``
look-ups) are the reference. Writes per method the found cells, their accuracy (mean +- sd over
seeds) and the search seconds, next to the published numbers. Every search checkpoints after each
epoch under ``--work`` and stores its result there, so a killed run re-run with the same command
continues.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adwp.backend import TableBackend
from adwp.groundtruth import read_truth
from adwp.pretrained import list_pretrained
from adwp.search import RandomSearch, RegularizedEvolution
from adwp.search.differentiable import DifferentiableConfig, DifferentiableSearch
from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch
from adwp.spaces import get_space

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nb201 import add_data_arguments, cifar10, write_json  # the sibling script's helpers

# Test accuracy of the found cell on NB201 CIFAR-10 (mean +- sd over runs, as published).
PUBLISHED = {
    "darts (first order)": "54.30 (all skip_connect)",
    "GDAS": "93.61 +- 0.09",
    "SNAS": "92.77 +- 0.83",
    "PC-DARTS": "93.41 +- 0.30",
    "DrNAS": "94.36",
    "best cell": "94.37",
}


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [r["truth"] for r in runs]
    return {
        "archs": [r["arch"] for r in runs],
        "accuracy": found,
        "mean": float(np.mean(found)),
        "sd": float(np.std(found, ddof=1)) if len(found) > 1 else 0.0,
        "seconds": float(np.mean([r["seconds"] for r in runs])),
    }


def _search(args: argparse.Namespace, space: Any, data: Any, method: str, seed: int) -> Any:
    """The search of one method and seed, ready to run."""
    if method != "hypernet-gradient":
        config = DifferentiableConfig(
            epochs=args.epochs,
            steps_per_epoch=args.steps_per_epoch,
            batch_size=args.batch_size,
            seed=seed,
        )
        return DifferentiableSearch(space, data, method, config)
    config = HypernetGradientConfig(
        epochs=args.epochs,
        steps_per_epoch=args.hypernet_steps_per_epoch,
        batch_size=args.hypernet_batch_size,
        estimator=args.estimator,
        seed=seed,
    )
    load = HypernetGradientSearch.from_checkpoint
    if args.generator in list_pretrained():
        load = HypernetGradientSearch.pretrained
    search = load(args.generator, config, data=data)
    if search.space.config() != space.config():
        raise SystemExit(
            f"--generator {args.generator} was trained on {search.space.config()}, not on the "
            f"skeleton {space.config()}: give --channels and --cells to match"
        )
    return search


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arguments(parser)
    parser.add_argument("--methods", default="darts,itnas,entrannas,hypernet-gradient")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=8, help="skeleton's C (NB201: 16)")
    parser.add_argument("--cells", type=int, default=1, help="skeleton's N (NB201: 5)")
    parser.add_argument("--budget", type=int, default=100, help="table look-ups of the references")
    parser.add_argument(
        "--generator",
        default="nb201-cifar10",
        help="hypernet-gradient's weight generator: a checkpoint or a shipped name, trained on "
        "the skeleton --channels, --cells",
    )
    parser.add_argument("--estimator", default=HypernetGradientConfig.estimator)
    parser.add_argument(
        "--hypernet-steps-per-epoch", type=int, default=HypernetGradientConfig.steps_per_epoch
    )
    parser.add_argument(
        "--hypernet-batch-size", type=int, default=HypernetGradientConfig.batch_size
    )
    parser.add_argument("--work", default="runs/nb201_search")
    parser.add_argument("--output", default="benchmarks/results/nb201_search.json")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    methods = [m for m in args.methods.split(",") if m]
    truth = read_truth(args.truth, key=args.key, metric=args.metric).mean()
    data = cifar10(args)
    space = get_space("nb201", channels=args.channels, cells_per_stage=args.cells)
    work = Path(args.work)
    results: dict[str, Any] = {}
    for method in methods:
        runs = []
        for seed in seeds:
            done = work / f"{method}_s{seed}.json"
            if not done.exists():
                search = _search(args, space, data, method, seed)
                result = search.run(
                    checkpoint=work / f"{method}_s{seed}.pt", truth=truth, progress=not args.quiet
                )
                write_json(done, {**result.to_dict(), "seconds": search.seconds})
            runs.append(json.loads(done.read_text()))
        results[method] = {**_summary(runs), "history": [r["history"] for r in runs]}
    table = TableBackend(args.truth, args.metric, key=args.key)
    full = get_space("nb201")
    for name, searcher in (("random", RandomSearch), ("evolution", RegularizedEvolution)):
        runs = []
        for seed in seeds:
            start = time.perf_counter()
            arch = full.validate(searcher(table, full, seed=seed).run(args.budget).best.arch)
            found = arch.to_string()
            runs.append(
                {"arch": found, "truth": truth[found], "seconds": time.perf_counter() - start}
            )
        results[f"{name} (table, {args.budget} look-ups)"] = _summary(runs)
    command = "python benchmarks/nb201_search.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    write_json(
        Path(args.output),
        {"command": command, "settings": vars(args), "published": PUBLISHED, "methods": results},
    )
    print("| method | found cell's accuracy, mean +- sd | search seconds |")
    print("|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['mean']:.2f} +- {r['sd']:.2f} | {r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
