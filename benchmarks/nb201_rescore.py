"""Scoring levers on NAS-Bench-201: one trained weight generator, scored several ways.

    python benchmarks/nb201_rescore.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nb201/nats_tss.csv --work runs/nb201_bench \\
        --output benchmarks/results/nb201_rescore.json

Takes the checkpoints ``benchmarks/nb201.py`` trained under ``--work`` (its samples too) and
scores both samples with each scoring variant: images per scoring pass, BatchNorm calibration
images, the weight snapshots (``snapshots``: all the checkpoint holds, as ``nb201.py`` scores).
Every variant yields both metrics (accuracy and minus the cross-entropy) from one pass. Settings
are chosen on the selection sample; the reported sample's tau is printed next to it. Each (run,
variant) is stored under ``--work`` as it finishes, so a killed run re-run with the same command
continues.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from scipy import stats

from adwp.benchmarking import add_data_arguments, cifar10, named_choices, write_json
from adwp.ranking.evaluator import Evaluator, EvaluatorConfig
from adwp.truth.tables import read_truth

# Name -> EvaluatorConfig fields. "images1000" is nb201.py's scoring with the final weights only.
VARIANTS: dict[str, dict[str, Any]] = {
    "images250": {"max_images": 250, "snapshots": False},
    "images1000": {"max_images": 1000, "snapshots": False},
    "images5000": {"max_images": 5000, "snapshots": False},
    "calibration1024": {"max_images": 1000, "snapshots": False, "calibration_batches": 8},
    "snapshots": {"max_images": 1000, "snapshots": True},
}
METRICS = ("accuracy", "neg_log_loss")


def _tau(scores: list[float], truth: list[float]) -> float:
    return float(stats.kendalltau(scores, truth).statistic)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arguments(parser)
    parser.add_argument("--work", default="runs/nb201_bench", help="nb201.py's --work")
    parser.add_argument(
        "--runs", default="hypernet", help="comma-separated, e.g. hypernet,supernet"
    )
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--output", default="benchmarks/results/nb201_rescore.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = named_choices(args.variants, list(VARIANTS), "variants", required=True)

    work = Path(args.work)
    samples = json.loads((work / "samples.json").read_text())
    truth = read_truth(args.truth, key=args.key, metric=args.metric).mean()
    archs = samples["report"] + samples["select"]
    n = len(samples["report"])
    data = cifar10(args)
    results: dict[str, Any] = {}
    for run in args.runs.split(","):
        for name in variants:
            store = work / f"rescore_{run}_{name}.json"
            if not store.exists():
                config = EvaluatorConfig(seed=args.seed, **VARIANTS[name])
                start = time.perf_counter()
                evaluator = Evaluator.from_checkpoint(work / f"{run}.pt", data=data, config=config)
                scores = {
                    m: evaluator.score(archs, metric=m, progress=not args.quiet).tolist()
                    for m in METRICS
                }
                write_json(store, {"seconds": time.perf_counter() - start, "scores": scores})
            stored = json.loads(store.read_text())
            row: dict[str, Any] = {
                "settings": VARIANTS[name],
                "score_seconds_report": stored["seconds"] * n / len(archs),
            }
            for metric, scores in stored["scores"].items():
                row[metric] = {
                    "tau_select": _tau(scores[n:], [truth[a] for a in samples["select"]]),
                    "tau_report": _tau(scores[:n], [truth[a] for a in samples["report"]]),
                    "report": scores[:n],
                    "select": scores[n:],
                }
            results[f"{run}/{name}"] = row
            print(
                f"{run:9s} {name:16s} "
                + "  ".join(
                    f"{m}: select {row[m]['tau_select']:.3f} report {row[m]['tau_report']:.3f}"
                    for m in METRICS
                )
                + f"  ({row['score_seconds_report']:.0f} s per 200)",
                flush=True,
            )
    command = "python benchmarks/nb201_rescore.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    write_json(Path(args.output), {"command": command, "work": str(work), "variants": results})


if __name__ == "__main__":
    main()
