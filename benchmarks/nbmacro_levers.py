"""NAS-Bench-Macro levers, judged on the selection sample: overall tau and stage by stage.

    python benchmarks/nbmacro_levers.py --result benchmarks/results/nbmacro.json \
        --lever first_final=benchmarks/results/nbmacro_work/hypernet.neg_log_loss.json:final \
        --lever mix0=benchmarks/results/nbmacro_levers/mix0.json \
        --versus first_final --output benchmarks/results/nbmacro_levers.json

Reads a ``benchmarks/nbmacro.py`` result (its raw scores) and, on one of its samples (the
selection sample by default, where settings are chosen), gives for the table and for each ranking
the Kendall tau between its scores and each stage's number of blocks (and of each block type). A
ranking that rewards a stage's blocks more than the table does ranks by the wrong capacity: that
is where it misjudges the space, whatever its overall tau.

``--lever NAME=FILE`` adds the weight generator of another run on the same sample: FILE is a
``benchmarks/nbmacro.py --tag`` result (its ``hypernet``), or a weight generator's stored stage
in a work folder (``hypernet.neg_log_loss.json``), whose snapshot-averaged scores it takes, or
with ``:final`` the scores of its final weights (the last curve point). Each lever's overall
Kendall tau minus ``--versus``'s comes with its paired bootstrap interval.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from adwp.benchmarking import named_choices, write_json
from adwp.spaces.nbmacro import BLOCKS, STAGE_LAYERS
from adwp.truth.comparison import paired_bootstrap_difference
from adwp.truth.correlation import kendall_tau

STAGE_BOUNDS = tuple(
    (sum(STAGE_LAYERS[:i]), sum(STAGE_LAYERS[: i + 1])) for i in range(len(STAGE_LAYERS))
)


def stage_features(archs: list[str]) -> dict[str, np.ndarray]:
    """Per stage: its number of blocks (non-identity layers), and its number of each block type."""
    features: dict[str, np.ndarray] = {}
    for stage, (start, stop) in enumerate(STAGE_BOUNDS, start=1):
        parts = [a[start:stop] for a in archs]
        features[f"stage{stage}_blocks"] = np.array([stop - start - p.count("0") for p in parts])
        for code, block in enumerate(BLOCKS[1:], start=1):
            features[f"stage{stage}_{block}"] = np.array([p.count(str(code)) for p in parts])
    return features


def stage_taus(archs: list[str], rankings: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """``{ranking: {feature: Kendall tau}}``; a constant feature gives None (no ordering)."""
    features = stage_features(archs)
    out: dict[str, dict[str, Any]] = {}
    for name, values in rankings.items():
        out[name] = {}
        for feature, counts in features.items():
            tau = stats.kendalltau(counts, values).statistic
            out[name][feature] = None if np.isnan(tau) else float(tau)
    return out


def markdown(taus: dict[str, dict[str, Any]]) -> str:
    names = list(taus)
    lines = ["| feature | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for feature in taus[names[0]]:
        cells = (taus[n][feature] for n in names)
        lines.append(
            f"| {feature} | " + " | ".join("-" if c is None else f"{c:+.3f}" for c in cells) + " |"
        )
    return "\n".join(lines)


def _lever(text: str) -> tuple[str, Path, bool]:
    name, sep, path = text.partition("=")
    final = path.endswith(":final")
    path = path.removesuffix(":final")
    if not sep or not name or not path:
        raise SystemExit(f"--lever {text!r}: expected NAME=FILE or NAME=FILE:final")
    return name, Path(path), final


def lever_scores(path: Path, part: str, final: bool) -> tuple[list[str] | None, np.ndarray]:
    """The hypernetwork's scores on ``part`` in a benchmark result or a stored generator stage.

    Returns the sample the file names (None for a stage file, which holds scores only) and the
    scores.
    """
    stored = json.loads(path.read_text())
    if "raw" in stored:  # a benchmark result
        if final:
            raise SystemExit(f"{path}: ':final' reads a generator's stage file, not a result")
        return stored["samples"][part], np.asarray(stored["raw"]["hypernet"][part], float)
    if final:
        if not stored.get("curve"):
            raise SystemExit(f"{path} holds no curve, so no final weights' scores")
        return None, np.asarray(stored["curve"][-1][part], float)
    return None, np.asarray(stored[part], float)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--result", required=True, help="benchmarks/nbmacro.py's result")
    parser.add_argument("--part", choices=["select", "report"], default="select")
    parser.add_argument("--methods", default="hypernet,supernet,naswot,flops")
    parser.add_argument(
        "--lever", action="append", default=[], help="NAME=FILE[:final]: its hypernetwork"
    )
    parser.add_argument("--versus", default=None, help="the lever the others are compared with")
    parser.add_argument("--bootstrap", type=int, default=1000, help="paired resamples")
    parser.add_argument("--output", default="benchmarks/results/nbmacro_levers.json")
    args = parser.parse_args(argv)
    levers = [_lever(text) for text in args.lever]
    base = json.loads(Path(args.result).read_text())
    archs = base["samples"][args.part]
    methods = named_choices(args.methods, list(base["raw"]), source=args.result)
    rankings = {"table": np.asarray(base["truth"][args.part], float)}
    rankings.update({m: np.asarray(base["raw"][m][args.part], float) for m in methods})
    for name, path, final in levers:
        sample, scores = lever_scores(path, args.part, final)
        if (sample is not None and sample != archs) or len(scores) != len(archs):
            raise SystemExit(f"--lever {name}: {path} was run on another {args.part} sample")
        rankings[name] = scores
    if args.versus is not None and args.versus not in rankings:
        raise SystemExit(f"--versus {args.versus} is not among {', '.join(rankings)}")
    taus = stage_taus(archs, rankings)
    truth = rankings["table"]
    versus = {}
    if args.versus is not None:
        for name, _, _ in levers:
            if name != args.versus:
                difference, (low, high) = paired_bootstrap_difference(
                    kendall_tau, rankings[name], rankings[args.versus], truth,
                    n_resamples=args.bootstrap,
                )  # fmt: skip
                versus[name] = {"difference": difference, "ci95": [low, high]}
    result = {
        "command": "python benchmarks/nbmacro_levers.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "part": args.part,
        "architectures": len(archs),
        "kendall_tau": taus,
        "overall_kendall_tau": {
            name: float(stats.kendalltau(values, truth).statistic)
            for name, values in rankings.items()
        },
        "versus": args.versus,
        f"minus_{args.versus}": versus,
        "raw": {"archs": archs, **{name: values.tolist() for name, values in rankings.items()}},
    }
    write_json(args.output, result)
    print(markdown(taus))


if __name__ == "__main__":
    main()
