"""Kendall tau of single checkpoints and of score averages, from ``training_curves.py`` outputs.

    python benchmarks/curve_ensembles.py curve_s0.json curve_s1.json ... [--metric accuracy]

For every file: tau and partial tau (given log #params) of each evaluation point, and of the mean
score over all points up to each step (an ensemble of checkpoints of one run: no extra
training, one scoring pass per checkpoint). With several files (training seeds of one setting):
the mean and spread over seeds of each of those, the tau of the mean over seeds, and the tau of
the mean over seeds of each run's mean over all points.
Averaging raw scores is what a snapshot ensemble can do per architecture; z-scores need the whole
set of architectures at once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from adwp.groundtruth import mean_by_arch, read_table
from adwp.metrics import partial_tau
from adwp.spaces import get_space


def _z(values: list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return (array - array.mean()) / (array.std() + 1e-12)


def _taus(scores: np.ndarray, target: np.ndarray, log_params: np.ndarray) -> tuple[float, float]:
    return float(kendalltau(scores, target).statistic), float(
        partial_tau(scores, target, log_params)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves", nargs="+")
    parser.add_argument("--metric", default="accuracy")
    parser.add_argument("--truth", default=None, help="default: the truth each curve names")
    parser.add_argument(
        "--combine",
        choices=("raw", "z"),
        default="raw",
        help="average raw scores (per architecture, as adwp's snapshot ensemble does) or z-scores",
    )
    parser.add_argument("--from-step", type=int, default=0, help="leave earlier points out")
    parser.add_argument("--every", type=int, default=1, help="use only steps divisible by this")
    args = parser.parse_args()

    runs = [json.loads(Path(path).read_text()) for path in args.curves]
    truth = mean_by_arch(read_table(args.truth or runs[0]["truth"]))
    keys = runs[0]["archs"]["truth"]
    target = np.array([truth[k] for k in keys])
    space = get_space("macro", in_channels=1, num_classes=10, image_size=28)
    log_params = np.log([space.params(space.validate(k)) for k in keys])
    steps = [
        p["step"]
        for p in runs[0]["points"]
        if p["step"] >= args.from_step and not p["step"] % args.every
    ]
    single: dict[int, list[tuple[float, float]]] = {s: [] for s in steps}
    cumulative: dict[int, list[tuple[float, float]]] = {s: [] for s in steps}
    run_sums: dict[int, list[np.ndarray]] = {s: [] for s in steps}
    run_means: list[np.ndarray] = []
    for run in runs:
        if run["archs"]["truth"] != keys:
            raise SystemExit("curves score different architectures")
        total = np.zeros(len(keys))
        used = 0
        for point in run["points"]:
            if point["step"] < args.from_step or point["step"] % args.every:
                continue
            values = point[f"truth/{args.metric}"]
            z = _z(values) if args.combine == "z" else np.asarray(values, dtype=np.float64)
            total += z
            used += 1
            single[point["step"]].append(_taus(z, target, log_params))
            cumulative[point["step"]].append(_taus(total / used, target, log_params))
            run_sums[point["step"]].append(z)
        run_means.append(total / max(used, 1))
    print(
        f"{'step':>5} | {'tau (mean +- sd over runs)':>27} | {'partial':>7} | "
        f"{'mean of points <= step':>22} | {'partial':>7} | {'mean over runs':>14} | partial"
    )
    for step in steps:
        t, p = np.array(single[step]).T
        ct, cp = np.array(cumulative[step]).T
        et, ep = _taus(np.mean(run_sums[step], axis=0), target, log_params)
        print(
            f"{step:>5} | {t.mean():>18.3f} +- {t.std():.3f} | {p.mean():>7.3f} | "
            f"{ct.mean():>13.3f} +- {ct.std():.3f} | {cp.mean():>7.3f} | {et:>14.3f} | {ep:.3f}"
        )
    if len(runs) > 1:
        mt, mp = _taus(np.mean(run_means, axis=0), target, log_params)
        print(f"mean over runs of each run's mean of points: tau {mt:.3f}, partial {mp:.3f}")


if __name__ == "__main__":
    main()
