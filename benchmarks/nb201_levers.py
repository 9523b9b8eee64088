"""NAS-Bench-201 training levers, judged on the selection sample only.

    python benchmarks/nb201_levers.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nb201/nats_tss.csv --data-cache runs/cache \\
        --work runs/nb201_bench --levers s1000,smallest,distinct,stratified \\
        --output benchmarks/results/nb201_levers/summary.json

Each lever is a run of ``benchmarks/nb201.py`` with ``--tag _NAME`` (its result in
``benchmarks/results/nb201_levers/NAME.json``, its checkpoint ``--work/hypernetNAME.pt``). For
each, on the 100-cell selection sample: Kendall tau, partial tau given log #params, tau within
#params quartiles and the mean true accuracy of the top 10, for the hypernetwork alone and
combined with synflow and jacob_cov; and the **largest-cell probe**: the checkpoint scores the
largest cell (every edge a 3x3 convolution) and its 24 one-edge neighbours, and the probe reports
the largest cell's rank among those 25 by score and by the table. A weight generator that favours
the largest cell because it trains it every step ranks it first by score wherever the table does
not. The reported sample's numbers are not read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats

from adwp.benchmarking import add_data_arguments, cifar10, generator_file, write_json
from adwp.errors import AdwpError
from adwp.ranking.baselines import aggregate_ranks
from adwp.ranking.evaluator import Evaluator, EvaluatorConfig
from adwp.spaces import get_space
from adwp.spaces.nb201 import OPERATIONS, CellArchitecture
from adwp.truth.comparison import paired_bootstrap_difference
from adwp.truth.correlation import kendall_tau, partial_tau, tau_within_size_bins
from adwp.truth.tables import read_truth


def neighbours_of_largest(space: Any) -> list[str]:
    """The largest cell first, then every cell that differs from it on one edge."""
    largest = space.largest()
    out = [largest.to_string()]
    for edge in range(len(largest.ops)):
        for op in OPERATIONS:
            if op != largest.ops[edge]:
                ops = list(largest.ops)
                ops[edge] = op
                out.append(CellArchitecture(tuple(ops)).to_string())
    return out


def selection_metrics(score: list[float], truth: list[float], size: list[float]) -> dict[str, Any]:
    s, t, z = (np.asarray(a, float) for a in (score, truth, size))
    s = stats.rankdata(s)  # a proxy's -inf is its lowest score
    top = np.argsort(-s, kind="stable")[:10]
    try:
        partial = partial_tau(s, t, np.log(z))
    except AdwpError:  # #params ranks the truth perfectly: nothing is left to explain
        partial = None
    return {
        "kendall_tau": float(stats.kendalltau(s, t).statistic),
        "partial_tau_params": partial,
        "tau_within_params_quartiles": tau_within_size_bins(s, t, np.log(z)),
        "top10_mean": float(t[top].mean()),
    }


def probe(checkpoint: Path, data: Any, truth: dict[str, float], max_images: int) -> dict[str, Any]:
    config = EvaluatorConfig(max_images=max_images, metric="neg_log_loss", snapshots=False)
    evaluator = Evaluator.from_checkpoint(checkpoint, data=data, config=config)
    cells = neighbours_of_largest(evaluator.space)
    scores = evaluator.score(cells)
    table = np.array([truth[c] for c in cells])
    return {
        "cells": cells,
        "scores": scores.tolist(),
        "truth": table.tolist(),
        "largest_rank_by_score": int((scores > scores[0]).sum()) + 1,
        "largest_rank_by_table": int((table > table[0]).sum()) + 1,
        "score_gap_to_best_neighbour": float(scores[0] - scores[1:].max()),
    }


def _add_versus(
    summary: dict[str, Any], raw: dict[str, dict[str, Any]], base: str, table: dict
) -> None:
    """Each lever's Kendall tau minus ``base``'s on the selection sample, paired bootstrap.

    ``raw`` holds each lever's ``benchmarks/nb201.py`` result, ``base`` among them.
    """
    select = raw[base]["samples"]["select"]
    truth = [table[a] for a in select]
    for tag, result in raw.items():
        if tag == base:
            continue
        if result["samples"]["select"] != select:
            raise SystemExit(f"{tag} was run on another selection sample than {base}")
        versus = {}
        for method in ("hypernet", "hypernet+synflow+jacob_cov"):
            if method in result["raw"] and method in raw[base]["raw"]:
                diff, (low, high) = paired_bootstrap_difference(
                    kendall_tau, result["raw"][method]["select"],
                    raw[base]["raw"][method]["select"], truth,
                )  # fmt: skip
                versus[method] = {"difference": diff, "ci95": [low, high]}
        summary[tag][f"versus_{base}"] = versus


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arguments(parser)
    parser.add_argument("--work", default="runs/nb201_bench")
    parser.add_argument("--results", default="benchmarks/results/nb201_levers")
    parser.add_argument("--levers", default="", help="comma-separated tags (without _)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME=RESULT=CHECKPOINT",
        help="another run: a benchmarks/nb201.py result and its checkpoint (or a shipped name)",
    )
    parser.add_argument("--max-images", type=int, default=1000)
    parser.add_argument(
        "--versus",
        default="s1000",
        help="the lever every other is compared with: paired bootstrap of the difference in "
        "Kendall tau on the selection sample ('' for none)",
    )
    parser.add_argument(
        "--refresh", action="store_true", help="recompute the levers already in --output"
    )
    parser.add_argument("--output", default="benchmarks/results/nb201_levers/summary.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    table = read_truth(args.truth, key=args.key, metric=args.metric).mean()
    data = cifar10(args)
    space = get_space("nb201")
    # A lever already in --output keeps its entry (its checkpoint may be gone); --refresh
    # recomputes every one.
    previous = {}
    if Path(args.output).is_file() and not args.refresh:
        previous = json.loads(Path(args.output).read_text())["levers"]
    summary: dict[str, Any] = {}
    # Checkpoints are resolved only for entries computed now: a kept entry's may be gone.
    runs: dict[str, tuple[Path, str]] = {
        tag: (Path(args.results) / f"{tag}.json", str(Path(args.work) / f"hypernet_{tag}.pt"))
        for tag in args.levers.split(",")
        if tag
    }
    for extra in args.extra:
        name, result_path, checkpoint = extra.split("=")
        runs[name] = (Path(result_path), checkpoint)
    if args.versus and args.versus not in runs:
        raise SystemExit(f"--versus {args.versus} is not among the levers: {', '.join(runs)}")
    results = {tag: json.loads(path.read_text()) for tag, (path, _) in runs.items()}
    for tag, (_, checkpoint) in runs.items():
        result = results[tag]
        select = result["samples"]["select"]
        truth = [table[a] for a in select]
        size = [space.params(a) for a in select]
        if tag in previous:
            summary[tag] = previous[tag]
            continue
        raw = {name: r["select"] for name, r in result["raw"].items()}
        entry = {
            "settings": {
                k: result["settings"][k]
                for k in ("steps", "sampler", "channels", "cells", "max_mix", "distill", "tag")
                if k in result["settings"]
            },
            "hypernet": selection_metrics(raw["hypernet"], truth, size),
        }
        if {"synflow", "jacob_cov"} <= set(raw):
            combined = aggregate_ranks(
                [np.asarray(raw[m]) for m in ("hypernet", "synflow", "jacob_cov")]
            )
            entry["hypernet+synflow+jacob_cov"] = selection_metrics(combined.tolist(), truth, size)
        entry["probe"] = probe(generator_file(checkpoint), data, table, args.max_images)
        summary[tag] = entry
    if args.versus:
        _add_versus(summary, results, args.versus, table)
    # Every run shares the selection sample: #params on it, from the last run's arrays.
    params = selection_metrics(size, truth, size) if summary else None
    out = {
        "command": "python benchmarks/nb201_levers.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "levers": summary,
        "params_on_selection": params,
    }
    write_json(Path(args.output), out)
    print(markdown(out))


def markdown(out: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}"

    lines = [
        "| lever | tau | partial tau given #params | tau within #params quartiles | top-10 mean "
        "| +synflow+jacob_cov tau | largest cell's rank among its 25 (score / table) "
        "| tau minus the base lever's [95% CI] |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tag, e in out["levers"].items():
        h, c = e["hypernet"], e.get("hypernet+synflow+jacob_cov", {})
        lines.append(
            f"| {tag} | {fmt(h['kendall_tau'])} | {fmt(h['partial_tau_params'])} "
            f"| {fmt(h['tau_within_params_quartiles'])} | {h['top10_mean']:.2f} "
            f"| {fmt(c.get('kendall_tau'))} | {e['probe']['largest_rank_by_score']} / "
            f"{e['probe']['largest_rank_by_table']} | {_versus_cell(e)} |"
        )
    return "\n".join(lines)


def _versus_cell(entry: dict[str, Any]) -> str:
    versus = next((v for k, v in entry.items() if k.startswith("versus_")), {}).get("hypernet")
    if versus is None:
        return "-"
    low, high = versus["ci95"]
    return f"{versus['difference']:+.3f} [{low:+.3f}, {high:+.3f}]"


if __name__ == "__main__":
    main()
