"""A weight generator's score plus a size prior, the weight fitted on the selection table only.

    python benchmarks/size_prior.py benchmarks/results/snapshots/ranking_seed{0,1,2,3}.json \\
        --method hypernet_snapshots --output benchmarks/results/size_prior.json

#params alone ranks this benchmark's architectures about as well as one training run does, so a
user will ask what a score adds to it. The combined score is ``score + w * log(#params)``: per
architecture, so it does not depend on which other architectures are scored. ``w`` maximises
Kendall tau on the selection table of each run (``ranking.py --select-on``, none of its
architectures reported), and the result is measured on the reported ones. Nothing is trained or
scored again: the raw scores come from the ``ranking.py`` outputs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau

from adwp.groundtruth import mean_by_arch, read_table
from adwp.metrics import correlation_report
from adwp.spaces import get_space

# Weights in units of (score spread) / (log-#params spread) on the selection table.
GRID = np.round(np.arange(0.0, 3.01, 0.1), 2)


def fit_weight(
    scores: np.ndarray, log_params: np.ndarray, truth: np.ndarray
) -> tuple[float, float, float]:
    """Best ``w`` of ``scores + w * log_params`` by Kendall tau against ``truth``.

    Returns:
        ``(w in raw units, w in spread units, tau on this table)``; ties keep the smaller weight.
    """
    scale = scores.std() / log_params.std()
    taus = [kendalltau(scores + g * scale * log_params, truth).statistic for g in GRID]
    best = int(np.argmax(taus))
    return float(GRID[best] * scale), float(GRID[best]), float(taus[best])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="ranking.py outputs (one per training seed)")
    parser.add_argument("--method", default="hypernet_snapshots")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    space = get_space("macro", in_channels=1, num_classes=10, image_size=28)

    def log_params(keys: list[str]) -> np.ndarray:
        return np.log([space.params(space.validate(k)) for k in keys])

    results: list[dict[str, Any]] = []
    for path in args.runs:
        run = json.loads(Path(path).read_text())
        raw = run["methods"][args.method]["report"]
        if "holdout_score" not in raw:
            raise SystemExit(f"{path}: {args.method} has no selection-table scores")
        select = mean_by_arch(read_table(run["selected_on"]))
        held = np.array(raw["holdout_score"])
        held_truth = np.array([select[k] for k in raw["holdout_archs"]])
        weight, units, select_tau = fit_weight(held, log_params(raw["holdout_archs"]), held_truth)
        combined = np.array(raw["score"]) + weight * log_params(raw["archs"])
        rows = read_table(run["truth"])
        report = correlation_report(
            rows, dict(zip(raw["archs"], combined.tolist())), n_resamples=args.resamples
        )
        results.append(
            {
                "run": path,
                "weight": weight,
                "weight_in_spread_units": units,
                "selection_tau": select_tau,
                "kendall_tau": report["kendall_tau"],
                "partial_tau": report["partial_tau"],
                "spearman": report["spearman"],
                "regret_at_1": report["regret_at_k"].get("1"),
                "ci_kendall_tau": report["ci"]["kendall_tau"],
                "score_alone_tau": run["methods"][args.method]["kendall_tau"],
                "params_alone_tau": float(
                    kendalltau(log_params(raw["archs"]), raw["truth"]).statistic
                ),
            }
        )
        r = results[-1]
        print(
            f"{path}: w {units:.1f} (selection tau {select_tau:.3f}) -> tau "
            f"{r['kendall_tau']:.3f} (alone {r['score_alone_tau']:.3f}, #params "
            f"{r['params_alone_tau']:.3f})"
        )
    taus = np.array([r["kendall_tau"] for r in results])
    summary = {
        "method": args.method,
        "runs": results,
        "kendall_tau_mean": float(taus.mean()),
        "kendall_tau_std": float(taus.std(ddof=1)) if len(taus) > 1 else 0.0,
    }
    print(f"mean {summary['kendall_tau_mean']:.3f} +- {summary['kendall_tau_std']:.3f}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
