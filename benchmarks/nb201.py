"""NAS-Bench-201 on CIFAR-10: the hypernetwork against every cheaper ranking, side by side.

    python benchmarks/nb201.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nb201/nats_tss.csv --work runs/nb201_bench \\
        --output benchmarks/results/nb201.json

Reproduces the tables and figures of ``docs/results.md``, "NAS-Bench-201, CIFAR-10". Draws two
seeded, disjoint, uniform samples of NB201 architectures: the reported sample (``--sample``,
``--sample-seed``) and a selection sample (``--select``, ``--select-seed``) on which settings and
checkpoints are chosen and which no reported number includes. Every method scores both:

- the hypernetwork and the SPOS supernet, trained here on a proxy skeleton of NB201's network
  (``--channels``, ``--cells``) and scored with their weight snapshots on ``--max-images``
  validation images; each is also scored with its current weights at every checkpoint, which
  gives Kendall tau against training seconds (the curve);
- the zero-cost proxies with the published protocol: NB201's full network (C=16, N=5) at
  initialisation, one batch of ``--proxy-batch`` (64) training images;
- #params and FLOPs of the full network (analytic);
- rank combinations (AZ-NAS's aggregation: the sum over members of ``log(rank / n)``, so an
  architecture must rank well on every member).

Truth is the table's 200-epoch CIFAR-10 test accuracy (mean over seeds). ``compute_seconds`` of
a weight generator is its training time (without the curve's scoring) plus its scoring time of the
reported sample on this machine; of a proxy, its time on the reported sample; of a combination,
the sum of its members'. The procedure, its outputs and its resumption are those of
:mod:`adwp.sampled_benchmark`.
"""

from __future__ import annotations

import argparse
from typing import Any

from adwp.benchmarking import PUBLISHED_SPEARMAN
from adwp.sampled_benchmark import GENERATORS, SampledBenchmark, run

__all__ = ["BENCHMARK", "COMBINATIONS", "GENERATORS", "PROXIES", "main"]

PROXIES = ("synflow", "jacob_cov", "naswot", "snip", "grad_norm")
COMBINATIONS = {
    "hypernet+synflow": ("hypernet", "synflow"),
    "hypernet+jacob_cov": ("hypernet", "jacob_cov"),
    "hypernet+synflow+jacob_cov": ("hypernet", "synflow", "jacob_cov"),
    "synflow+jacob_cov": ("synflow", "jacob_cov"),
    "supernet+synflow+jacob_cov": ("supernet", "synflow", "jacob_cov"),
}


def _skeleton_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channels", type=int, default=8, help="skeleton's C (NB201: 16)")
    parser.add_argument("--cells", type=int, default=1, help="skeleton's N (NB201: 5)")
    parser.add_argument("--proxy-channels", type=int, default=16, help="proxies' network's C")
    parser.add_argument("--proxy-cells", type=int, default=5, help="proxies' network's N")


def _skeleton(args: argparse.Namespace) -> dict[str, Any]:
    return {"channels": args.channels, "cells_per_stage": args.cells}


def _proxy_network(args: argparse.Namespace) -> dict[str, Any]:
    # The published protocol scores NB201's own network (C=16, N=5).
    return {"channels": args.proxy_channels, "cells_per_stage": args.proxy_cells}


BENCHMARK = SampledBenchmark(
    space="nb201",
    title="NAS-Bench-201 CIFAR-10",
    key="ArchitectureString",
    metric="CIFAR10TestAccuracy200Epochs",
    control="params",
    proxies=PROXIES,
    combinations=COMBINATIONS,
    add_skeleton_flags=_skeleton_flags,
    skeleton=_skeleton,
    proxy_network=_proxy_network,
    published_spearman=PUBLISHED_SPEARMAN,
)


def main(argv: list[str] | None = None) -> None:
    run(
        BENCHMARK,
        argv,
        script="benchmarks/nb201.py",
        description=__doc__.split("\n\n")[0],
        work="runs/nb201_bench",
        output="benchmarks/results/nb201.json",
    )


if __name__ == "__main__":
    main()
