"""Kendall tau of the mean score of k training runs, for k = 1 .. all runs of a group.

    python benchmarks/ensemble_limit.py \\
        --group 'hypernet=benchmarks/results/curves/sharedpost_s*.json' \\
        --group 'hypernet_12=benchmarks/results/curves/sharedpost_*.json' \\
        --group 'supernet=benchmarks/results/curves/supernet_sandwich_s*.json' \\
        --output benchmarks/results/ensemble_limit.json --plot benchmarks/results/ensemble_limit.png

Reproduces the tables "Training seeds" and "Averaging training runs" of ``docs/results.md`` from
the stored ``training_curves.py`` outputs, without training. Each file is one training run; its
score of an architecture is the mean over its evaluation points (the snapshot average the
evaluator uses). For each k the script averages the scores of k runs and takes Kendall tau (and
partial tau given log #params) against the truth, over every k-subset of runs (or
``--max-subsets`` random ones), and reports the mean and standard deviation over subsets.
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import math
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from adwp.plots._figures import pyplot
from adwp.spaces import get_space
from adwp.truth.correlation import partial_tau
from adwp.truth.tables import mean_by_arch, read_table


def _run_means(paths: list[str], metric: str) -> tuple[list[str], np.ndarray, float, str]:
    """Returns the keys, one snapshot-mean score row per run, mean seconds per run, and truth."""
    keys: list[str] | None = None
    rows: list[np.ndarray] = []
    seconds: list[float] = []
    truth: str | None = None
    for path in paths:
        run = json.loads(Path(path).read_text())
        if keys is None:
            keys, truth = run["archs"]["truth"], run["truth"]
        elif run["archs"]["truth"] != keys or run["truth"] != truth:
            raise SystemExit(f"{path} scores other architectures or another truth than {paths[0]}")
        points = run["points"]
        rows.append(np.mean([p[f"truth/{metric}"] for p in points], axis=0))
        seconds.append(points[-1]["train_seconds"] + sum(p["score_seconds"] for p in points))
    assert keys is not None and truth is not None
    return keys, np.array(rows), float(np.mean(seconds)), truth


def _subsets(runs: int, k: int, limit: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    if math.comb(runs, k) <= limit:
        return list(itertools.combinations(range(runs), k))
    return [tuple(rng.choice(runs, size=k, replace=False)) for _ in range(limit)]


def main(argv: list[str] | None = None) -> None:
    """Runs the script; ``argv`` defaults to the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--group",
        action="append",
        required=True,
        help="NAME=GLOB[,GLOB...]: training_curves.py outputs, one file per training run",
    )
    parser.add_argument("--metric", default="accuracy")
    parser.add_argument("--truth", default=None, help="default: the truth the curves name")
    parser.add_argument("--max-subsets", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random subsets")
    parser.add_argument("--output", required=True)
    parser.add_argument("--plot", default=None)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    space = get_space("macro", in_channels=1, num_classes=10, image_size=28)
    report: dict = {"metric": args.metric, "groups": {}}
    for spec in args.group:
        name, _, pattern = spec.partition("=")
        paths = sorted(p for part in pattern.split(",") for p in glob.glob(part))
        if not name or not paths:
            raise SystemExit(f"--group {spec!r}: expected NAME=GLOB matching at least one file")
        keys, scores, seconds, truth_path = _run_means(paths, args.metric)
        truth = mean_by_arch(read_table(args.truth or truth_path))
        target = np.array([truth[k] for k in keys])
        log_params = np.log([space.params(space.validate(k)) for k in keys])
        sizes = []
        for k in range(1, len(paths) + 1):
            taus, partials = [], []
            for subset in _subsets(len(paths), k, args.max_subsets, rng):
                mean = scores[list(subset)].mean(axis=0)
                taus.append(float(kendalltau(mean, target).statistic))
                partials.append(float(partial_tau(mean, target, log_params)))
            sizes.append(
                {
                    "runs": k,
                    "subsets": len(taus),
                    "kendall_tau": float(np.mean(taus)),
                    "kendall_tau_sd": float(np.std(taus)),
                    "partial_tau": float(np.mean(partials)),
                    "partial_tau_sd": float(np.std(partials)),
                    "compute_seconds": k * seconds,
                }
            )
            print(
                f"{name:>10} k={k:2d}  tau {sizes[-1]['kendall_tau']:.3f} +- "
                f"{sizes[-1]['kendall_tau_sd']:.3f}  partial {sizes[-1]['partial_tau']:.3f}  "
                f"{k * seconds:7.0f} s"
            )
        report["groups"][name] = {
            "files": paths,
            "truth": args.truth or truth_path,
            "by_runs": sizes,
            "params_kendall_tau": float(kendalltau(log_params, target).statistic),
        }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=1) + "\n")
    if args.plot:
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, group in report["groups"].items():
            by_runs = group["by_runs"]
            ax.errorbar(
                [s["runs"] for s in by_runs],
                [s["kendall_tau"] for s in by_runs],
                yerr=[s["kendall_tau_sd"] for s in by_runs],
                marker="o",
                capsize=3,
                label=name,
            )
        # The reference lines are the first group's; groups scored against other truths differ.
        params_tau = next(iter(report["groups"].values()))["params_kendall_tau"]
        ax.axhline(params_tau, color="grey", linestyle="--", label=f"#params ({params_tau:.3f})")
        ax.set_xlabel("training runs averaged (each: snapshot mean)")
        ax.set_ylabel("Kendall tau against the truth")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
