"""Spread over training seeds, and seed ensembles, of the weight generators of several ranking runs.

    python benchmarks/training_seeds.py benchmarks/results/seeds/ranking_seed{0,1,2,3}.json \\
        --truth benchmarks/data/gt_mnist5k_macro_12seeds.jsonl \\
        --output benchmarks/results/training_seeds.json

Each input is a ``benchmarks/ranking.py`` output of one training seed (``--seed S``, same
settings otherwise). For every method present in all of them (``hypernet``, ``supernet``, ...) the
stored raw scores of the chosen checkpoint are compared with ``--truth``'s mean over seeds: one
report per training seed, their mean / standard deviation / min / max, and two ensembles of all
seeds: the mean score (every score of one method is on the same scale, e.g. validation accuracy
with predicted weights) and the mean rank. Nothing is trained or scored again. ``oracle_tau`` is the
best tau along each run's curve, measured against the truth that run used, to show what checkpoint
selection left on the table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from adwp.groundtruth import read_table
from adwp.metrics import correlation_report

KEYS = ("kendall_tau", "spearman", "partial_tau", "tau_within_size_bins")


def _scores(run: dict[str, Any], method: str) -> dict[str, float]:
    raw = run["methods"][method]["report"]
    return dict(zip(raw["archs"], raw["score"]))


def _brief(report: dict[str, Any]) -> dict[str, Any]:
    out = {key: report[key] for key in KEYS}
    out["regret_at_1"] = report["regret_at_k"].get("1")
    out["ci_kendall_tau"] = report["ci"]["kendall_tau"]
    return out


def _spread(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=float)
    return {
        "mean": float(array.mean()),
        "std": float(array.std(ddof=1)) if len(array) > 1 else 0.0,
        "min": float(array.min()),
        "max": float(array.max()),
    }


def summarise(
    runs: list[dict[str, Any]], rows: list[dict[str, Any]], resamples: int
) -> dict[str, Any]:
    """Per-seed reports, their spread and the two ensembles for every method all runs share.

    Args:
        runs: Loaded ``ranking.py`` outputs, one per training seed.
        rows: The ground-truth table to compare with.
        resamples: Bootstrap resamples of each report.

    Returns:
        ``{method: {"per_seed": [...], "spread": {...}, "mean_score": {...}, "mean_rank": {...}}}``.

    Raises:
        ValueError: If the runs scored different architectures.
    """
    shared = set.intersection(*(set(run["methods"]) for run in runs))
    methods: dict[str, Any] = {}
    for method in sorted(shared):
        per_run = [_scores(run, method) for run in runs]
        archs = sorted(per_run[0])
        if any(sorted(scores) != archs for scores in per_run):
            raise ValueError(f"{method}: the runs scored different architectures")
        matrix = np.array([[scores[a] for a in archs] for scores in per_run])
        reports = [
            correlation_report(rows, dict(zip(archs, row)), n_resamples=resamples) for row in matrix
        ]
        per_seed = []
        for run, report in zip(runs, reports):
            result = run["methods"][method]
            curve = run.get("curves", {}).get(method) or []
            per_seed.append(
                {
                    **_brief(report),
                    "step": result.get("step"),
                    "compute_seconds": result.get("compute_seconds"),
                    "oracle_tau": max((p["kendall_tau"] for p in curve), default=None),
                }
            )
        ranks = np.array([rankdata(row) for row in matrix])
        ensembles = {
            "mean_score": matrix.mean(axis=0),
            "mean_rank": ranks.mean(axis=0),
        }
        entry: dict[str, Any] = {
            "per_seed": per_seed,
            "spread": {key: _spread([r[key] for r in reports]) for key in KEYS},
        }
        seconds = [p["compute_seconds"] for p in per_seed]
        for name, combined in ensembles.items():
            report = correlation_report(rows, dict(zip(archs, combined)), n_resamples=resamples)
            entry[name] = _brief(report)
            entry[name]["compute_seconds"] = None if None in seconds else round(sum(seconds), 1)
        methods[method] = entry
    return methods


def _markdown(methods: dict[str, Any], seeds: int) -> str:
    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    lines = [
        "| method | tau per seed | tau mean +- std | partial tau mean | "
        f"mean score of {seeds} (tau / partial) | mean rank of {seeds} (tau / partial) |",
        "|---|---|---|---|---|---|",
    ]
    for method, entry in methods.items():
        taus = ", ".join(fmt(p["kendall_tau"]) for p in entry["per_seed"])
        tau = entry["spread"]["kendall_tau"]
        lines.append(
            f"| {method} | {taus} | {fmt(tau['mean'])} +- {fmt(tau['std'])} "
            f"| {fmt(entry['spread']['partial_tau']['mean'])} "
            f"| {fmt(entry['mean_score']['kendall_tau'])} / "
            f"{fmt(entry['mean_score']['partial_tau'])} "
            f"| {fmt(entry['mean_rank']['kendall_tau'])} / "
            f"{fmt(entry['mean_rank']['partial_tau'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="ranking.py outputs, one per training seed")
    parser.add_argument("--truth", required=True)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    if len(args.runs) < 2:
        parser.error("give at least two runs (one per training seed)")

    runs = [json.loads(Path(path).read_text()) for path in args.runs]
    methods = summarise(runs, read_table(args.truth), args.resamples)
    out = {"runs": args.runs, "truth": args.truth, "methods": methods}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1))
    markdown = _markdown(methods, len(runs))
    Path(args.output).with_suffix(".md").write_text(markdown + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
