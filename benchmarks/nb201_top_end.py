"""NAS-Bench-201's top end: which operation each edge carries in the true top and a method's top.

    python benchmarks/nb201_top_end.py --population benchmarks/results/nb201_population.json \\
        --output benchmarks/results/nb201_top_end.json

Reads the computations ``benchmarks/nb201_population.py`` scored (its raw arrays) and, for each
of the cell's six edges and each operation, reports the share of computations carrying that
operation on that edge among the true top ``--percent``% (by the table) and among each method's
top ``--percent``% (by its score), with the mean true accuracy of the computations carrying it.
An operation a method's top holds far more (or less) often than the true top is what that method
misjudges at the top end, where search picks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from adwp.benchmarking import named_choices, write_json
from adwp.spaces.nb201 import EDGES, OPERATIONS, CellArchitecture


def edge_operations(computations: list[str]) -> np.ndarray:
    """``[computations, 6]`` indices into ``OPERATIONS``."""
    index = {op: i for i, op in enumerate(OPERATIONS)}
    return np.array(
        [[index[op] for op in CellArchitecture.from_string(c).ops] for c in computations]
    )


def top_mask(values: np.ndarray, percent: float) -> np.ndarray:
    """The top ``percent``% by value (ties broken by order, so the count is exact)."""
    count = max(1, round(len(values) * percent / 100))
    mask = np.zeros(len(values), dtype=bool)
    mask[np.argsort(-values, kind="stable")[:count]] = True
    return mask


def top_end(
    computations: list[str], truth: np.ndarray, scores: dict[str, np.ndarray], percent: float
) -> dict[str, Any]:
    ops = edge_operations(computations)
    tops = {"table": top_mask(truth, percent)}
    tops.update({name: top_mask(s, percent) for name, s in scores.items()})
    edges: dict[str, Any] = {}
    for e, (source, to) in enumerate(EDGES):
        rows = {}
        for o, op in enumerate(OPERATIONS):
            carries = ops[:, e] == o
            rows[op] = {
                "count": int(carries.sum()),
                "mean_truth": float(truth[carries].mean()) if carries.any() else None,
                **{
                    f"share_in_top_{name}": float(carries[top].mean()) for name, top in tops.items()
                },
            }
        edges[f"{to}<-{source}"] = rows
    return {"percent": percent, "top_size": int(tops["table"].sum()), "edges": edges}


def markdown(result: dict[str, Any], methods: list[str]) -> str:
    head = " | ".join(f"{m}'s top" for m in methods)
    lines = [
        f"| edge | operation | mean accuracy | true top {result['percent']:g}% | {head} |",
        "|---|---|---|---|" + "---|" * len(methods),
    ]
    for edge, rows in result["edges"].items():
        for op, row in rows.items():
            shares = " | ".join(f"{row[f'share_in_top_{m}']:.2f}" for m in methods)
            lines.append(
                f"| {edge} | {op} | {row['mean_truth']:.2f} | "
                f"{row['share_in_top_table']:.2f} | {shares} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", required=True, help="nb201_population.py's result")
    parser.add_argument("--methods", default="hypernet,params,synflow")
    parser.add_argument("--percent", type=float, default=5.0)
    parser.add_argument("--output", default="benchmarks/results/nb201_top_end.json")
    args = parser.parse_args(argv)
    if not 0 < args.percent <= 100:
        raise SystemExit(f"--percent {args.percent}: must lie in (0, 100]")
    raw = json.loads(Path(args.population).read_text())["raw"]
    methods = named_choices(args.methods, list(raw["scores"]), source=args.population)
    scores = {m: np.asarray(raw["scores"][m], float) for m in methods}
    result = top_end(raw["computations"], np.asarray(raw["truth"], float), scores, args.percent)
    result["command"] = "python benchmarks/nb201_top_end.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    result["computations"] = len(raw["computations"])
    write_json(args.output, result)
    print(markdown(result, methods))


if __name__ == "__main__":
    main()
