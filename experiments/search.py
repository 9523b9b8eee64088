"""Searchers on the hypernetwork backend, checked against ground truth.

    python benchmarks/search.py --uniform runs/mnist5k_uniform.pt \\
        --inherited runs/mnist5k_inherited.pt

Part 1 (layer assignment, ``benchmarks/data/gt_mnist5k_layer_assignment.jsonl``: every assignment
of total depth 3..7 trained standalone, 2 seeds): for the table itself, the hypernetwork trained
with the uniform sampler, the one trained with the inherited sampler and #params, the inherited
search (beam 1) and the architecture-dataset scan; per depth the pick, its true accuracy and the
true optimum; Kendall tau over the 32 assignments (all, and mean within a depth).

Part 2 (importance sampling on ``macro``): the multi-complexity search with the uniform
hypernetwork, pooled and as independent runs at the same number of samples; the picks of both are
trained standalone with the ground-truth recipe (2 seeds, resumable table
``benchmarks/data/gt_mnist5k_is_picks.jsonl``) and compared with the accuracy/#params Pareto front
of the shipped random table. Writes ``benchmarks/results/search_*.json`` and PNGs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau

from adwp.backend import TableBackend, load_backend
from adwp.baselines import ParamsBackend
from adwp.data import get_dataset
from adwp.groundtruth import Recipe, mean_by_arch, read_table, run_groundtruth
from adwp.plots import plot_layer_assignment, plot_pareto, plot_trajectory
from adwp.search import ImportanceSamplingSearch, LayerAssignmentSearch, pareto_front
from adwp.search._common import truth_records
from adwp.spaces import Architecture, get_space


def _layer_assignment(args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    table = TableBackend(args.la_truth)
    truth = table.truth
    backends: dict[str, Any] = {"table": table}
    named = [("hypernet_uniform", args.uniform), ("hypernet_inherited", args.inherited)]
    named += [tuple(item.split("=", 1)) for item in args.checkpoint]
    for name, path in named:
        if path:
            backends[name] = load_backend(f"hypernet:{path}")
    macro = get_space("macro")
    backends["params"] = ParamsBackend(macro)
    space = get_space(
        "layer-assignment", min_total_depth=args.min_depth, max_total_depth=args.max_depth
    )
    keys = list(truth)
    report: dict[str, Any] = {"truth_table": args.la_truth, "methods": {}}
    true_best = {}
    for depth in range(args.min_depth, args.max_depth + 1):
        at = [k for k in keys if sum(Architecture.from_string(k).depths) == depth]
        best = max(at, key=lambda k: truth[k])
        true_best[depth] = {"arch": best, "val_acc": truth[best]}
    report["true_best"] = true_best
    for name, backend in backends.items():
        start = time.perf_counter()
        search = LayerAssignmentSearch(backend, space, beam=1, seed=0)
        scan = search.architecture_dataset(args.min_depth, args.max_depth).to_dict()
        found = search.run(args.min_depth, args.max_depth).to_dict()
        seconds = time.perf_counter() - start
        scores = np.array(backend.score([Architecture.from_string(k) for k in keys]))
        values = np.array([truth[k] for k in keys])
        depth_of = np.array([sum(Architecture.from_string(k).depths) for k in keys])
        within = [
            kendalltau(scores[depth_of == d], values[depth_of == d]).statistic
            for d in range(args.min_depth + 1, args.max_depth + 1)
        ]
        per_depth = []
        for level, scanned in zip(found["depths"], scan["depths"]):
            d = level["depth"]
            per_depth.append(
                {
                    "depth": d,
                    "search_pick": level["best"],
                    "search_pick_true": truth[level["best"]],
                    "search_evaluated": level["evaluated"],
                    "scan_best": scanned["best"],
                    "scan_best_true": truth[scanned["best"]],
                    "scan_inherits": scanned["inherits"],
                    "true_best": true_best[d]["arch"],
                    "regret": true_best[d]["val_acc"] - truth[level["best"]],
                    "picks_true_best": level["best"] == true_best[d]["arch"],
                }
            )
        report["methods"][name] = {
            "kendall_tau": float(kendalltau(scores, values).statistic),
            "mean_tau_within_depth": float(np.mean(within)),
            "search_evaluations": found["evaluations"],
            "per_depth": per_depth,
            "seconds": round(seconds, 1),
            "scan": scan,
        }
        if name != "params":
            plot_layer_assignment(
                scan,
                out_dir / f"search_layer_assignment_{name}.png",
                truth={
                    "-".join(map(str, Architecture.from_string(k).depths)): v
                    for k, v in truth.items()
                }
                if name != "table"
                else None,
                label=f"{name} score",
            )
    return report


def _importance_sampling(args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    backend = load_backend(f"hypernet:{args.uniform}")
    coefficients = [float(c) for c in args.coefficients.split(",")]
    runs = {}
    for pooled in (True, False):
        start = time.perf_counter()
        search = ImportanceSamplingSearch(
            backend,
            coefficients=coefficients,
            samples=args.samples,
            pool=pooled,
            seed=args.seed,
            quiet=False,
        )
        result = search.run(args.iterations).to_dict()
        result["seconds"] = round(time.perf_counter() - start, 1)
        runs["pooled" if pooled else "independent"] = result
        plot_trajectory(
            result["trajectory"],
            coefficients,
            out_dir / f"search_is{args.tag}_{'pooled' if pooled else 'independent'}_trajectory.png",
        )
    space = backend.space
    picks = list(dict.fromkeys(r["arch"] for run in runs.values() for r in run["results"]))
    data = get_dataset("mnist5k")
    rows = run_groundtruth(
        space,
        [Architecture.from_string(a) for a in picks],
        data,
        Recipe(epochs=3),
        range(2),
        args.picks_table,
    )
    picked_truth = mean_by_arch(rows)
    table_records = truth_records(mean_by_arch(read_table(args.macro_truth)), space)
    front = pareto_front(table_records)

    def front_at(params: int) -> float | None:
        below = [r["score"] for r in front if r["params"] <= params]
        return max(below) if below else None

    for run in runs.values():
        for r in run["results"]:
            r["true_val_acc"] = picked_truth[r["arch"]]
            r["front_val_acc_at_params"] = front_at(r["params"])
            ref = r["front_val_acc_at_params"]
            r["above_front"] = None if ref is None else bool(r["true_val_acc"] >= ref)
            r["margin"] = None if ref is None else r["true_val_acc"] - ref
    return {
        "seed": args.seed,
        "coefficients": coefficients,
        "iterations": args.iterations,
        "samples": args.samples,
        "random_table": args.macro_truth,
        "picks_table": args.picks_table,
        "front": front,
        "runs": runs,
    }


def _plot_is(report: dict[str, Any], out_dir: Path, tag: str = "") -> None:
    """Picks' standalone accuracy against the random table's accuracy/#params front."""
    truth = mean_by_arch(read_table(report["random_table"]))
    table_records = truth_records(truth, get_space("macro"))
    for name, run in report["runs"].items():
        truth_picks = [{**r, "score": r["true_val_acc"]} for r in run["results"]]
        plot_pareto(
            [],
            truth_picks,
            out_dir / f"search_is{tag}_{name}_vs_front.png",
            truth=table_records,
            label="validation accuracy (standalone training)",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--la-truth", default="benchmarks/data/gt_mnist5k_layer_assignment.jsonl")
    parser.add_argument("--macro-truth", default="benchmarks/data/gt_mnist5k_macro.jsonl")
    parser.add_argument("--picks-table", default="benchmarks/data/gt_mnist5k_is_picks.jsonl")
    parser.add_argument("--uniform", required=True, help="hypernet checkpoint, uniform sampler")
    parser.add_argument("--inherited", default=None, help="hypernet checkpoint, inherited sampler")
    parser.add_argument(
        "--checkpoint", action="append", default=[], help="NAME=CKPT: more hypernets for part la"
    )
    parser.add_argument("--min-depth", type=int, default=3)
    parser.add_argument("--max-depth", type=int, default=7)
    parser.add_argument("--coefficients", default="0,0.05,0.2,0.5")
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--parts", default="la,is", help="la, is, and/or isplot (redraw is from its JSON)"
    )
    parser.add_argument("--output-dir", default="benchmarks/results")
    parser.add_argument("--tag", default="", help="suffix of the importance-sampling outputs")
    args = parser.parse_args()
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    if "la" in parts:
        report = _layer_assignment(args, out_dir)
        (out_dir / "search_layer_assignment.json").write_text(json.dumps(report, indent=1))
        for name, m in report["methods"].items():
            print(
                name,
                round(m["kendall_tau"], 3),
                round(m["mean_tau_within_depth"], 3),
                [(d["depth"], d["picks_true_best"], round(d["regret"], 4)) for d in m["per_depth"]],
            )
    if "isplot" in parts:
        stored = out_dir / f"search_importance_sampling{args.tag}.json"
        _plot_is(json.loads(stored.read_text()), out_dir, args.tag)
    if "is" in parts:
        report = _importance_sampling(args, out_dir)
        stored = out_dir / f"search_importance_sampling{args.tag}.json"
        stored.write_text(json.dumps(report, indent=1))
        _plot_is(report, out_dir, args.tag)
        for name, run in report["runs"].items():
            print(
                name,
                run["evaluations"],
                [
                    (
                        r["coefficient"],
                        r["params"],
                        round(r["score"], 3),
                        r["true_val_acc"],
                        r["margin"],
                    )
                    for r in run["results"]
                ],
            )


if __name__ == "__main__":
    main()
