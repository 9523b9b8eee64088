"""Paired bootstrap intervals of the differences between methods, from a stored result file.

    python benchmarks/compare_methods.py benchmarks/results/nb201.json \\
        --methods hypernet,synflow,naswot,jacob_cov,params,supernet \\
        --output benchmarks/results/nb201_compare.json

``--also NAME=FILE:METHOD`` adds a method of another result of the same samples (e.g. a lever
run's hypernetwork) under ``NAME``.

Reads a result of ``benchmarks/nb201.py`` (``raw[method]["report"]`` and ``truth["report"]``) or
of ``benchmarks/nb201_population.py`` (``raw["scores"][method]`` and ``raw["truth"]``, the
computations) and, for every pair of the given methods, reports the difference in Kendall tau
(and in partial tau given log #params where the file's ``params`` scores are there) with its
paired bootstrap 95% interval, and the verdict: "level" when the interval holds 0, else A "ahead"
of B or "behind" it. A claim that one method ranks ahead of another in the docs cites this table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from adwp.benchmarking import named_choices, verdict, write_json
from adwp.truth.comparison import paired_bootstrap_difference
from adwp.truth.correlation import kendall_tau, partial_tau


def read_scores(path: Path, part: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each method's scores (as ranks: a proxy's -inf is its lowest) and the paired truth."""
    data = json.loads(path.read_text())
    raw = data["raw"]
    if "scores" in raw:  # a population result: one score per computation
        scores, truth = raw["scores"], raw["truth"]
    else:
        scores = {name: r[part] for name, r in raw.items()}
        truth = data["truth"][part]
    return {k: stats.rankdata(v) for k, v in scores.items()}, np.asarray(truth, float)


def compare(
    scores: dict[str, np.ndarray],
    truth: np.ndarray,
    methods: list[str],
    resamples: int,
    seed: int,
) -> list[dict[str, Any]]:
    size = np.log(scores["params"]) if "params" in scores else None
    rows = []
    for a, b in itertools.combinations(methods, 2):
        diff, interval = paired_bootstrap_difference(
            kendall_tau, scores[a], scores[b], truth, resamples, seed
        )
        row: dict[str, Any] = {
            "a": a,
            "b": b,
            "tau_difference": diff,
            "interval": list(interval),
            "verdict": verdict(interval),
        }
        if size is not None and "params" not in (a, b):
            pdiff, pinterval = paired_bootstrap_difference(
                partial_tau, scores[a], scores[b], truth, resamples, seed, control=size
            )
            row["partial_tau_difference"] = pdiff
            row["partial_interval"] = list(pinterval)
            row["partial_verdict"] = verdict(pinterval)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a benchmarks/nb201*.py result JSON")
    parser.add_argument("--methods", required=True, help="comma-separated method names")
    parser.add_argument("--part", default="report", help="sample of an nb201.py result")
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=FILE:METHOD",
        help="a method of another result on the same architectures, compared as NAME",
    )
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    scores, truth = read_scores(Path(args.results), args.part)
    for also in args.also:
        name, _, source = also.partition("=")
        path, _, method = source.rpartition(":")
        if not (name and path and method):
            raise SystemExit(f"--also must look like NAME=FILE:METHOD, got {also!r}")
        if name in scores:
            raise SystemExit(f"--also {name}: {args.results} already has a method of that name")
        theirs, their_truth = read_scores(Path(path), args.part)
        if method not in theirs:
            raise SystemExit(f"--also: {path} has no method {method!r}: {', '.join(theirs)}")
        if not np.array_equal(their_truth, truth):
            raise SystemExit(f"--also: {path} holds other architectures than {args.results}")
        scores[name] = theirs[method]
    methods = named_choices(args.methods, sorted(scores), source=args.results)
    rows = compare(scores, truth, methods, args.resamples, args.seed)
    if args.output:
        write_json(
            Path(args.output),
            {
                "command": "python benchmarks/compare_methods.py "
                + " ".join(argv if argv is not None else sys.argv[1:]),
                "n": len(truth),
                "pairs": rows,
            },
        )
    print(markdown(rows))


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| A - B | Kendall tau difference [95% CI] | | partial tau difference [95% CI] | |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        partial = "| - | -"
        if "partial_tau_difference" in r:
            low, high = r["partial_interval"]
            partial = (
                f"| {r['partial_tau_difference']:+.3f} [{low:+.3f}, {high:+.3f}] "
                f"| {r['partial_verdict']}"
            )
        low, high = r["interval"]
        lines.append(
            f"| {r['a']} - {r['b']} | {r['tau_difference']:+.3f} [{low:+.3f}, {high:+.3f}] "
            f"| {r['verdict']} {partial} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
