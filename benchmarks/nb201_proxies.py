"""Zero-cost proxies over all of NAS-Bench-201, against the published correlations.

    python benchmarks/nb201_proxies.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nb201/nats_tss.csv --proxies synflow \\
        --output benchmarks/results/nb201_proxies.json

Scores every architecture (or the first ``--limit`` of a seeded shuffle) with each proxy under the
published protocol (Abdelfattah et al. 2021: NB201's full network at initialisation, one batch of
64 training images) and reports Kendall tau and Spearman against the table next to the published
Spearman. ``benchmarks/nb201.py`` compares the proxies on its 200-architecture sample, where the
sampling error is about +-0.05; this settles whether a difference is the sample's or the
proxy's. Scores are stored under ``--work`` every ``--chunk`` architectures, so a killed run
re-run with the same command continues.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

from adwp.benchmarking import PUBLISHED_SPEARMAN, add_data_arguments, cifar10, write_json
from adwp.ranking.baselines import ZeroCostProxy
from adwp.spaces import get_space
from adwp.truth.tables import read_truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arguments(parser)
    parser.add_argument("--proxies", default="synflow", help="comma-separated proxy names")
    parser.add_argument("--limit", type=int, default=None, help="architectures (default: all)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--work", default="runs/nb201_proxies")
    parser.add_argument("--output", default="benchmarks/results/nb201_proxies.json")
    args = parser.parse_args(argv)

    truth = read_truth(args.truth, key=args.key, metric=args.metric).mean()
    space = get_space("nb201")
    archs = [a.to_string() for a in space.enumerate()]
    if args.limit is not None:
        order = np.random.default_rng(args.seed).permutation(len(archs))[: args.limit]
        archs = [archs[i] for i in sorted(order)]
    data = cifar10(args)
    work = Path(args.work)
    results = {}
    for name in [p for p in args.proxies.split(",") if p]:
        store = work / f"{name}_{len(archs)}_{args.seed}.json"
        done = json.loads(store.read_text()) if store.exists() else {"scores": [], "seconds": 0.0}
        proxy = ZeroCostProxy(space, data, name, batch_size=args.batch, seed=args.seed)
        while len(done["scores"]) < len(archs):
            start = time.perf_counter()
            chunk = archs[len(done["scores"]) : len(done["scores"]) + args.chunk]
            done["scores"] += [float(s) for s in proxy.score(chunk)]
            done["seconds"] += time.perf_counter() - start
            write_json(store, done, indent=None)
            print(f"{name}: {len(done['scores'])}/{len(archs)}", flush=True)
        scores = stats.rankdata(done["scores"])  # -inf ("no signal") ranks lowest
        target = [truth[a] for a in archs]
        results[name] = {
            "n": len(archs),
            "kendall_tau": float(stats.kendalltau(scores, target).statistic),
            "spearman": float(stats.spearmanr(scores, target).statistic),
            "published_spearman": PUBLISHED_SPEARMAN.get(name),
            "seconds": round(done["seconds"], 1),
            "scores": done["scores"],
        }
    params = [space.params(space.validate(a)) for a in archs]
    target = [truth[a] for a in archs]
    results["params"] = {
        "n": len(archs),
        "kendall_tau": float(stats.kendalltau(params, target).statistic),
        "spearman": float(stats.spearmanr(params, target).statistic),
        "published_spearman": PUBLISHED_SPEARMAN["params"],
    }
    # All 15,625 strings would be most of the file; their order is the space's own.
    listed = archs if args.limit is not None else "all, in get_space('nb201').enumerate() order"
    command = "python benchmarks/nb201_proxies.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    write_json(
        Path(args.output),
        {"command": command, "archs": listed, "truth_metric": args.metric, **results},
    )
    for name, r in results.items():
        print(
            f"{name}: n={r['n']} tau {r['kendall_tau']:.3f} Spearman {r['spearman']:.3f} "
            f"(published {r['published_spearman']})"
        )


if __name__ == "__main__":
    main()
