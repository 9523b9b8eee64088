"""Time per step and peak memory of every differentiable searcher on one NB201 skeleton.

    python benchmarks/nb201_search_cost.py --output benchmarks/results/nb201_search_cost.json

Each searcher runs ``--steps`` steps (after ``--warmup`` untimed ones) in a fresh process, on
random CIFAR-shaped images, so nothing but the search differs between the measurements. Memory is
the process's peak resident set size during the timed steps minus its size before them (CPU), or
the peak of allocated device memory (CUDA): what the search's activations and gradients add on top
of the network and the data. ``hypernet-gradient`` needs a weight generator of the same skeleton
(``--generator``, default the shipped ``nb201-cifar10``, C=8 N=1); it is left out at other
skeletons unless one is given.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from adwp.data import DataSplits

METHODS = ("darts", "darts-second-order", "itnas", "entrannas", "hypernet-gradient")
SECOND_ORDER = "-second-order"  # a trained searcher's name with it: its second-order variant


def _random_cifar(images: int, seed: int) -> DataSplits:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(images, 3, 32, 32, generator=generator)
    y = torch.randint(10, (images,), generator=generator)
    split = TensorDataset(x, y)
    return DataSplits("cifar10", split, split, split, 3, 10, 32)


def _peak_rss_bytes() -> int:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Runs one searcher in this process and returns its seconds per step and peak memory."""
    from adwp.search.differentiable import DifferentiableConfig, DifferentiableSearch
    from adwp.spaces import get_space

    device = torch.device(args.device)
    data = _random_cifar(2048, seed=0)

    def run(steps: int, search: Any) -> None:
        search.config = type(search.config)(
            **{**search.config.__dict__, "epochs": 1, "steps_per_epoch": steps}
        )
        search.epoch = 0
        search.run()

    if args.method == "hypernet-gradient":
        from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch

        config = HypernetGradientConfig(batch_size=args.batch_size)
        from adwp.pretrained import list_pretrained

        load = HypernetGradientSearch.from_checkpoint
        if args.generator in list_pretrained():
            load = HypernetGradientSearch.pretrained
        search = load(args.generator, config, data=data, device=device)
    else:
        space = get_space("nb201", channels=args.channels, cells_per_stage=args.cells)
        method, second_order = args.method, args.method.endswith(SECOND_ORDER)
        method = method.removesuffix(SECOND_ORDER)
        config = DifferentiableConfig(batch_size=args.batch_size, second_order=second_order)
        search = DifferentiableSearch(space, data, method, config, device)
    # The resident set's peak only grows, so the baseline is taken before the first step.
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before = _peak_rss_bytes()
    run(args.warmup, search)
    start = time.perf_counter()
    run(args.steps, search)
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - before
    else:
        peak = _peak_rss_bytes() - before
    return {
        "method": args.method,
        "seconds_per_step": (time.perf_counter() - start) / args.steps,
        "peak_memory_mib": peak / 2**20,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--channels", type=int, default=8, help="skeleton's C (NB201: 16)")
    parser.add_argument("--cells", type=int, default=1, help="skeleton's N (NB201: 5)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--generator", default=None, help="default: nb201-cifar10 at C=8 N=1")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--output", default="benchmarks/results/nb201_search_cost.json")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:  # the child process: one searcher, its result on stdout
        print(json.dumps(measure(args)))
        return
    methods = [m for m in args.methods.split(",") if m]
    generator = args.generator
    if generator is None and (args.channels, args.cells) == (8, 1):
        generator = "nb201-cifar10"
    if generator is None:
        methods = [m for m in methods if m != "hypernet-gradient"]
    rows = []
    for method in methods:
        command = [sys.executable, __file__, "--one", "--method", method]
        for flag in ("channels", "cells", "batch_size", "steps", "warmup", "device", "threads"):
            value = getattr(args, flag)
            if value is not None:
                command += [f"--{flag.replace('_', '-')}", str(value)]
        if generator is not None:
            command += ["--generator", generator]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{method} failed:\n{done.stderr[-2000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    darts = next((r for r in rows if r["method"] == "darts"), None)
    for row in rows:
        if darts is not None:
            row["time_vs_darts"] = row["seconds_per_step"] / darts["seconds_per_step"]
            row["memory_vs_darts"] = row["peak_memory_mib"] / max(darts["peak_memory_mib"], 1e-9)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in vars(args).items() if k not in ("one", "method")}
    command = "python benchmarks/nb201_search_cost.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    out.write_text(json.dumps({"command": command, "settings": settings, "rows": rows}, indent=1))
    print("| method | s/step | x darts | peak memory MiB | x darts |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['method']} | {r['seconds_per_step']:.3f} | {r.get('time_vs_darts', 1):.2f} "
            f"| {r['peak_memory_mib']:.0f} | {r.get('memory_vs_darts', 1):.2f} |"
        )


if __name__ == "__main__":
    main()
