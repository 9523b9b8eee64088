"""Where a score ranks well: pairs of architectures with the same or a different last-stage depth.

    python benchmarks/pair_decomposition.py benchmarks/results/curves/sharedpost_s*.json \\
        --output benchmarks/results/pair_decomposition.json

On the default benchmark the depth of the last stage explains most of the truth (Spearman 0.80),
so Kendall tau mixes two questions: does a score order architectures of different depths (the
easy pairs), and of the same depth (the hard ones, where the truth is noisy too)? For each score
(one hypernetwork run, the mean of the given runs, log #params, one full training run) this
reports the concordance (tau-a) over each kind of pair. Every score is compared with the mean of
15 of the table's 16 seeds, averaged over the seed left out, so that one full training run (the
seed left out) is compared fairly: it is never part of its own target. Per depth group it also
gives tau and the split-half ceiling of the truth (8 seeds against 8, 50 random splits).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from adwp.groundtruth import read_table
from adwp.metrics import split_half_ceiling
from adwp.spaces import Architecture, get_space


def _concordance(x: np.ndarray, y: np.ndarray, pairs: np.ndarray) -> float:
    """Tau-a over the selected pairs (``pairs`` is an upper-triangle boolean matrix)."""
    i, j = np.nonzero(pairs)
    return float(np.mean(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves", nargs="+", help="training_curves.py outputs, one per run")
    parser.add_argument("--truth", default="benchmarks/data/gt_mnist5k_macro_16seeds.jsonl")
    parser.add_argument("--name", default="hypernet", help="what the curves' scores are called")
    parser.add_argument("--splits", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    runs = [json.loads(Path(path).read_text()) for path in args.curves]
    keys = runs[0]["archs"]["truth"]
    if any(run["archs"]["truth"] != keys for run in runs):
        raise SystemExit("the curves score different architectures")
    # Each run's score is its mean over evaluation points: the snapshot average.
    singles = [np.mean([p["truth/accuracy"] for p in run["points"]], axis=0) for run in runs]
    by_arch: dict[str, dict[int, float]] = {}
    for row in read_table(args.truth):
        by_arch.setdefault(row["arch"], {})[row["seed"]] = row["val_acc"]
    seeds = sorted(by_arch[keys[0]])
    if any(sorted(by_arch[k]) != seeds for k in keys):
        raise SystemExit(f"{args.truth}: every architecture needs the same seeds")
    accuracy = np.array([[by_arch[k][s] for s in seeds] for k in keys])
    space = get_space("macro", in_channels=1, num_classes=10, image_size=28)
    log_params = np.log([space.params(space.validate(k)) for k in keys])
    depth = np.array([len(Architecture.from_string(k).stages[-1]) for k in keys])

    upper = np.triu(np.ones((len(keys), len(keys)), dtype=bool), 1)
    same = upper & (depth[:, None] == depth[None, :])
    different = upper & ~same
    scores = {
        f"{args.name}, one run": None,
        f"{args.name}, mean of {len(runs)} runs": np.mean(singles, axis=0),
        "log #params": log_params,
        "one full training run": None,
    }
    results: dict[str, dict[str, float]] = {}
    for name, fixed in scores.items():
        rows = []
        for left_out in range(len(seeds)):
            target = np.delete(accuracy, left_out, axis=1).mean(axis=1)
            if name == f"{args.name}, one run":
                candidates = singles
            elif name == "one full training run":
                candidates = [accuracy[:, left_out]]
            else:
                candidates = [fixed]
            for x in candidates:
                rows.append(
                    (
                        kendalltau(x, target).statistic,
                        _concordance(x, target, same),
                        _concordance(x, target, different),
                    )
                )
        tau, within, between = np.mean(rows, axis=0)
        # Spread over the candidates (the runs), each first averaged over the left-out seeds.
        per_candidate = np.array(rows).reshape(len(seeds), -1, 3).mean(axis=0).std(axis=0)
        results[name] = {
            "kendall_tau": float(tau),
            "same_depth_pairs": float(within),
            "different_depth_pairs": float(between),
            "sd_over_runs": [float(v) for v in per_candidate],
        }
        print(
            f"{name:>28}: tau {tau:.3f}, same depth {within:.3f} (sd {per_candidate[1]:.3f}), "
            f"different depth {between:.3f} (sd {per_candidate[2]:.3f})"
        )

    truth = accuracy.mean(axis=1)
    ensemble = np.mean(singles, axis=0)
    groups = {}
    for value in sorted(set(depth.tolist())):
        member = depth == value
        ceiling = split_half_ceiling(
            {k: by_arch[k] for k, m in zip(keys, member) if m},
            max_splits=args.splits,
            seed=args.seed,
        )
        groups[str(value)] = {
            "architectures": int(member.sum()),
            "truth_mean": float(truth[member].mean()),
            "split_half_ceiling": ceiling["kendall_tau"] if ceiling else None,
            f"{args.name}_mean_of_runs": float(
                kendalltau(ensemble[member], truth[member]).statistic
            ),
            "log_params": float(kendalltau(log_params[member], truth[member]).statistic),
        }
        print(f"last-stage depth {value}: {groups[str(value)]}")
    out = {
        "truth": args.truth,
        "curves": args.curves,
        "pairs": {"same_depth": int(same.sum()), "different_depth": int(different.sum())},
        "scores": results,
        "depth_groups": groups,
    }
    Path(args.output).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
