"""Reliability of a ground-truth table: accuracy spread and seed-to-seed rank agreement.

    python benchmarks/groundtruth_stats.py benchmarks/data/gt_mnist5k_macro_16seeds.jsonl \\
        --output benchmarks/results/groundtruth_stats/gt_mnist5k_macro_16seeds.json

Reproduces the noise ceilings of ``docs/results.md`` ("Ground-truth tables") and of
``benchmarks/data/README.md``: the Kendall tau between every pair of single training runs
(``seed_tau``, averaged there as the single-seed ceiling), between the means of two disjoint
halves of the seeds (``mean_of_halves_tau``, the split-half ceiling, with its range over splits),
the accuracy range and the tau of #params against the mean over seeds.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from scipy import stats

from adwp.truth.report import split_half_ceiling
from adwp.truth.tables import read_table


def _mean_min_max(values: list[float]) -> list[float]:
    return [float(np.mean(values)), float(np.min(values)), float(np.max(values))]


def main(argv: list[str] | None = None) -> None:
    """Writes the statistics; ``argv`` defaults to the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("--metric", default="val_acc")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--splits", type=int, default=100, help="random half splits")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random half splits")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    per_seed: dict[str, dict[int, float]] = {}
    params: dict[str, float] = {}
    seconds = []
    for row in read_table(args.table):
        per_seed.setdefault(row["arch"], {})[row["seed"]] = row[args.metric]
        params[row["arch"]] = row["params"]
        seconds.append(row["seconds"])
    seeds = sorted({s for v in per_seed.values() for s in v})
    archs = [a for a, v in per_seed.items() if all(s in v for s in seeds)]
    values = np.array([[per_seed[a][s] for s in seeds] for a in archs])
    mean = values.mean(axis=1)
    top = np.argsort(-mean)[: args.top]
    pairs = list(itertools.combinations(range(len(seeds)), 2))
    result = {
        "table": args.table,
        "metric": args.metric,
        "architectures": len(archs),
        "seeds": seeds,
        "accuracy_min_median_max": [
            float(values.min()),
            float(np.median(values)),
            float(values.max()),
        ],
        "seed_tau": [
            float(stats.kendalltau(values[:, i], values[:, j]).statistic) for i, j in pairs
        ],
        "seed_spearman": [
            float(stats.spearmanr(values[:, i], values[:, j]).statistic) for i, j in pairs
        ],
        f"top{args.top}_seed_tau": [
            float(stats.kendalltau(values[top, i], values[top, j]).statistic) for i, j in pairs
        ],
        "params_tau_vs_mean": float(stats.kendalltau([params[a] for a in archs], mean).statistic),
        "seconds_per_run_mean": float(np.mean(seconds)),
        "seconds_total": float(np.sum(seconds)),
    }
    halves = split_half_ceiling({a: per_seed[a] for a in archs})
    if halves is not None:
        result["mean_of_halves_tau"] = halves["kendall_tau"]
        result["mean_of_halves_tau_range"] = halves["kendall_tau_range"]
        result["mean_of_halves_comparison"] = halves["comparison"]
        # Mean of k seeds against the mean of k other seeds, k = 1 .. half: how fast averaging
        # seeds sharpens the order.
        half = len(seeds) // 2
        result["mean_of_k_vs_mean_of_k_tau"] = {
            k: float(
                stats.kendalltau(
                    values[:, :k].mean(axis=1), values[:, half : half + k].mean(axis=1)
                ).statistic
            )
            for k in range(1, half + 1)
        }
        # Within the top architectures, over random disjoint halves of the seeds.
        rng = np.random.default_rng(args.seed)
        split_top_taus = []
        for _ in range(args.splits):
            order = rng.permutation(len(seeds))
            first = values[:, order[:half]].mean(axis=1)
            second = values[:, order[half : 2 * half]].mean(axis=1)
            split_top_taus.append(float(stats.kendalltau(first[top], second[top]).statistic))
        # Choosing the top architectures by the mean of the same seeds that are then compared
        # biases the within-top tau downwards (an architecture high in one half is there partly by
        # luck and falls back in the other). Unbiased: choose the top by a third group of seeds.
        third = len(seeds) // 3
        apart_taus = []
        for _ in range(args.splits if third else 0):
            order = rng.permutation(len(seeds))
            chosen = np.argsort(-values[:, order[:third]].mean(axis=1))[: args.top]
            first = values[chosen][:, order[third : 2 * third]].mean(axis=1)
            second = values[chosen][:, order[2 * third : 3 * third]].mean(axis=1)
            apart_taus.append(float(stats.kendalltau(first, second).statistic))
        result["random_halves"] = {
            "splits": args.splits,
            "seed": args.seed,
            "seeds_per_half": half,
            f"top{args.top}_tau_mean_min_max": _mean_min_max(split_top_taus),
            f"top{args.top}_chosen_apart": {
                "seeds_per_group": third,
                "tau_mean_min_max": _mean_min_max(apart_taus) if apart_taus else None,
            },
        }
        # Under Gaussian seed noise, Pearson r = sin(pi tau / 2) and averaging 2 halves doubles
        # the signal-to-noise (Spearman-Brown); a score equal to the true expected accuracy then
        # reaches at most tau = 2/pi asin(sqrt(r_all)) against the mean of all seeds.
        r_half = np.sin(np.pi * halves["kendall_tau"] / 2)
        r_all = 2 * r_half / (1 + r_half)
        result["max_tau_against_mean_estimate"] = float(2 / np.pi * np.arcsin(np.sqrt(r_all)))
    # The single-seed ceiling: one training run against another, averaged over seed pairs.
    result["seed_tau_mean"] = float(np.mean(result["seed_tau"]))
    text = json.dumps(result, indent=1)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
