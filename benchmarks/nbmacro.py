"""NAS-Bench-Macro on CIFAR-10: the hypernetwork against every cheaper ranking, side by side.

    python benchmarks/nbmacro.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nasbench-macro/nasbench_macro_cifar10.csv \\
        --data-cache runs/cache --work runs/nbmacro_bench \\
        --output benchmarks/results/nbmacro.json

Reproduces the NAS-Bench-Macro table of ``docs/results.md``. Both samples are of distinct
networks (the space draws canonical architectures, one per network, uniformly): the reported
sample (``--sample``, ``--sample-seed``, 200 at seed 0) and the selection sample (``--select``,
``--select-seed``, 100 at seed 1), disjoint. Methods:

- the hypernetwork and the SPOS supernet, trained on a narrower skeleton of NAS-Bench-Macro's
  network (``--stem-channels``, ``--channels``, ``--head-channels``; the architectures and their
  strings are the table's) and scored on ``--max-images`` validation images;
- the zero-cost proxies with the published protocol: NAS-Bench-Macro's full network at
  initialisation, one batch of ``--proxy-batch`` (64) training images;
- #params and FLOPs of the full network, which equal the table's;
- rank combinations (AZ-NAS's aggregation).

Size explains less here than on NAS-Bench-201, and FLOPs more than #params, so the control a
method must beat is FLOPs: partial tau given FLOPs and the paired bootstrap of each method's tau
minus FLOPs'. Truth is the table's mean test accuracy over its three training seeds. The procedure,
its outputs and its resumption are those of :mod:`adwp.sampled_benchmark`.
"""

from __future__ import annotations

import argparse
from typing import Any

from adwp.sampled_benchmark import GENERATORS, SampledBenchmark, run

__all__ = ["BENCHMARK", "COMBINATIONS", "GENERATORS", "PROXIES", "main"]

PROXIES = ("naswot", "synflow", "jacob_cov", "snip", "grad_norm")
COMBINATIONS = {
    "hypernet+naswot": ("hypernet", "naswot"),
    "hypernet+flops": ("hypernet", "flops"),
    "hypernet+naswot+synflow+jacob_cov": ("hypernet", "naswot", "synflow", "jacob_cov"),
    "naswot+synflow+jacob_cov": ("naswot", "synflow", "jacob_cov"),
    "supernet+naswot": ("supernet", "naswot"),
}


def _skeleton_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stem-channels", type=int, default=16, help="skeleton's stem (NAS-Bench-Macro: 32)"
    )
    parser.add_argument(
        "--channels",
        default="32,64,128",
        help="skeleton's three stage widths, comma-separated (NAS-Bench-Macro: 64,128,256)",
    )
    parser.add_argument(
        "--head-channels", type=int, default=256, help="skeleton's head (NAS-Bench-Macro: 1280)"
    )


def _widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",")]
    except ValueError:
        widths = []
    if len(widths) != 3 or min(widths) < 1:
        raise SystemExit(f"--channels must be three positive widths like 32,64,128, got {text!r}")
    return widths


def _skeleton(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "stem_channels": args.stem_channels,
        "channels": _widths(args.channels),
        "head_channels": args.head_channels,
    }


def _proxy_network(args: argparse.Namespace) -> dict[str, Any]:
    return {}  # the published protocol: the benchmark's own network


BENCHMARK = SampledBenchmark(
    space="nbmacro",
    title="NAS-Bench-Macro CIFAR-10",
    key="Arch",
    metric="MeanTestAccuracy",
    control="flops",
    proxies=PROXIES,
    combinations=COMBINATIONS,
    add_skeleton_flags=_skeleton_flags,
    skeleton=_skeleton,
    proxy_network=_proxy_network,
)


def main(argv: list[str] | None = None) -> None:
    run(
        BENCHMARK,
        argv,
        script="benchmarks/nbmacro.py",
        description=__doc__.split("\n\n")[0],
        work="runs/nbmacro_bench",
        output="benchmarks/results/nbmacro.json",
    )


if __name__ == "__main__":
    main()
