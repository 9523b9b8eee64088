"""NAS-Bench-201 on CIFAR-10 over the whole space: every cell scored, not a sample.

    python benchmarks/nb201_population.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nb201/nats_tss.csv --data-cache runs/cache \\
        --generator nb201-cifar10 --final-weights-only --proxies jacob_cov,naswot \\
        --synflow benchmarks/results/nb201_proxies.json \\
        --work runs/nb201_population --output benchmarks/results/nb201_population.json

NAS-Bench-201's 15,625 cells are 6,466 distinct computations (the table's ``UniqueString``, which
``NB201Space.isomorphism_key`` reproduces for every row). Each computation is scored once, by its
first cell in ``space.enumerate()`` order, and its score is given to all its cells. Scored are:

- a trained weight generator (``--generator``: a shipped evaluator's name or a checkpoint of
  ``adwp train`` / ``benchmarks/nb201.py``), with its scoring settings;
- zero-cost proxies (``--proxies``) with the published protocol (NB201's own network, C=16, N=5,
  at initialisation, one batch of 64 training images); synflow over every cell is read from
  ``benchmarks/nb201_proxies.py``'s result (``--synflow``) instead of being recomputed;
- #params and FLOPs of NB201's network (analytic);
- rank combinations (AZ-NAS's aggregation, as in ``benchmarks/nb201.py``), over the whole space.

Reported per method, over all 15,625 cells (truth: each cell's own table accuracy) and over the
6,466 computations (truth: the mean over the computation's cells): Kendall tau, Spearman, partial
tau given log #params, tau within #params quartiles, the mean true accuracy of the top 10 / 50 /
100, P@top5% (the share of the true top 5% among the method's top 5%), and the paired bootstrap
interval of the method's Kendall tau minus #params'.
Intervals resample computations (isomorphic cells share a score, so they are not independent).
The computations are scored in an order shuffled with ``--seed``, so the first ``--limit`` of them
(or a run cut short) are a uniform sample of the 6,466. Scores are stored under ``--work`` a chunk
(``--chunk`` computations) at a time, atomically, in a folder named by the method, its weights'
digest and its settings, so a killed run re-run with the same command continues and writes the
same numbers.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from tqdm import tqdm

from adwp.benchmarking import (
    add_data_arguments,
    cifar10,
    file_tag,
    generator_file,
    load_evaluator,
    write_json,
)
from adwp.errors import AdwpError
from adwp.ranking.baselines import ZeroCostProxy, aggregate_ranks
from adwp.ranking.evaluator import Evaluator, EvaluatorConfig
from adwp.spaces import get_space
from adwp.truth.comparison import bootstrap_ci, paired_bootstrap_difference
from adwp.truth.correlation import (
    kendall_tau,
    partial_tau,
    precision_at_top_percent,
    tau_within_bins,
    top_k_mean,
)

COMBINATIONS = {
    "hypernet+synflow+jacob_cov": ("hypernet", "synflow", "jacob_cov"),
    "hypernet+synflow": ("hypernet", "synflow"),
    "hypernet+jacob_cov": ("hypernet", "jacob_cov"),
    "synflow+jacob_cov": ("synflow", "jacob_cov"),
    "synflow+naswot": ("synflow", "naswot"),
    "hypernet+synflow+naswot": ("hypernet", "synflow", "naswot"),
}
# Kendall tau over all 15,625 cells against 200-epoch CIFAR-10 test accuracy, as published.
ANCHORS = {
    "VKDNW_agg (training-free, CVPR 2025)": 0.750,
    "AZ-NAS (training-free; reruns give 0.712)": 0.741,
    "jacob_cov (published)": 0.616,
    "synflow (published)": 0.57,
    "#params (published)": 0.578,
    "SPOS supernet (as its authors report; reruns 0.53-0.55)": 0.50,
    "few-shot NAS (as its authors report; reruns 0.53-0.55)": 0.61,
    "predictor fitted on ~1,700 trained cells": 0.859,
}
TOP_KS = (10, 50, 100)
# Paired comparisons reported when both methods are present: the evaluator against each cheaper
# ranking, and its combination against the proxies' own.
PAIRS = (
    ("hypernet", "params"),
    ("hypernet", "synflow"),
    ("hypernet", "jacob_cov"),
    ("hypernet+synflow+jacob_cov", "synflow+jacob_cov"),
    ("hypernet+synflow+jacob_cov", "params"),
)


def read_population(path: str, key: str, metric: str, space: Any, seed: int = 0) -> dict[str, Any]:
    """The table's cells in ``space.enumerate()`` order, their truth and their computations.

    ``reps`` lists one cell per computation (its first in enumeration order), in an order shuffled
    with ``seed``; ``group`` gives each cell the position of its computation in ``reps``.
    """
    with open(path, newline="") as handle:
        rows = {r[key]: r for r in csv.DictReader(handle)}
    cells = [a.to_string() for a in space.enumerate()]
    missing = [c for c in cells if c not in rows]
    if missing:
        raise SystemExit(f"{len(missing)} cells of the space are not in {path}, e.g. {missing[0]}")
    keys = [space.isomorphism_key(c) for c in cells]
    if "UniqueString" in next(iter(rows.values())):
        wrong = [c for c, k in zip(cells, keys) if rows[c]["UniqueString"] != k]
        if wrong:
            raise SystemExit(f"{len(wrong)} cells' UniqueString differs from ours, e.g. {wrong[0]}")
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    # A seeded shuffle: any prefix of the computations is a uniform sample of them, so a run cut
    # short (--limit, or the chunks done so far) still reports an unbiased estimate.
    reps = [int(i) for i in np.random.default_rng(seed).permutation(sorted(first.values()))]
    group = {k: j for j, k in enumerate(keys[i] for i in reps)}
    return {
        "cells": cells,
        "truth": np.array([float(rows[c][metric]) for c in cells]),
        "reps": reps,  # index into cells of each computation's representative, shuffled
        "group": np.array([group[k] for k in keys]),  # each cell's computation
    }


def _score_chunks(
    name: str, key: str, score: Any, archs: list[str], work: Path, chunk: int, quiet: bool
) -> dict[str, Any]:
    """Scores ``archs`` a chunk at a time, each chunk stored atomically; resumes from them.

    ``key`` names everything the scores depend on (weights, settings), so chunks of another
    generator or setting in the same ``work`` are never taken for these.
    """
    folder = work / f"{name}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    scores: list[float] = []
    seconds = 0.0
    starts = range(0, len(archs), chunk)
    bar = tqdm(total=len(archs), desc=name, unit="cell", disable=quiet)
    for number, start in enumerate(starts):
        part = archs[start : start + chunk]
        path = folder / f"chunk_{number:04d}.json"
        stored = json.loads(path.read_text()) if path.exists() else None
        if stored is None or stored["archs"] != part:
            began = time.perf_counter()
            values = [float(v) for v in score(part)]
            stored = {"archs": part, "scores": values, "seconds": time.perf_counter() - began}
            write_json(path, stored, indent=None)
        scores += stored["scores"]
        seconds += stored["seconds"]
        bar.update(len(part))
    bar.close()
    return {"scores": scores, "seconds": seconds}


def _partial_tau(score: np.ndarray, truth: np.ndarray, control: np.ndarray) -> float | None:
    try:
        return partial_tau(score, truth, control)
    except AdwpError:  # the control ranks the scores perfectly (#params given #params)
        return None


def evaluate(
    score: np.ndarray,
    truth: np.ndarray,
    size: np.ndarray,
    reference: np.ndarray | None,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    """Every population metric of one method; ``reference`` (#params) for the paired interval."""
    # Ranks, so that -inf (a proxy's "no signal") is simply the lowest score.
    score = stats.rankdata(score)
    out: dict[str, Any] = {
        "n": len(score),
        "kendall_tau": kendall_tau(score, truth),
        "spearman": float(stats.spearmanr(score, truth).statistic),
        "partial_tau_params": _partial_tau(score, truth, np.log(size)),
        "tau_within_params_quartiles": tau_within_bins(score, truth, size)["mean"],
        "top_k_mean": {str(k): top_k_mean(score, truth, k) for k in TOP_KS if k <= len(score)},
        "top_k_best_possible": {
            str(k): top_k_mean(truth, truth, k) for k in TOP_KS if k <= len(score)
        },
        "p_at_top5": precision_at_top_percent(score, truth, 5.0),
    }
    if resamples:
        out["ci_kendall_tau"] = bootstrap_ci(kendall_tau, [score, truth], resamples, seed)
    if resamples and reference is not None:
        diff, interval = paired_bootstrap_difference(
            kendall_tau, score, stats.rankdata(reference), truth, resamples, seed
        )
        out["tau_minus_params"] = diff
        out["ci_tau_minus_params"] = list(interval)
    return out


def _read_also(spec: str) -> tuple[str, tuple[list[str], list[float], float]]:
    """``NAME=FILE:METHOD`` -> (NAME, (the file's computations, METHOD's scores, its seconds))."""
    name, _, source = spec.partition("=")
    path, _, method = source.rpartition(":")
    if not (name and path and method):
        raise SystemExit(f"--also must look like NAME=FILE:METHOD, got {spec!r}")
    stored = json.loads(Path(path).read_text())
    if method not in stored["raw"]["scores"]:
        theirs = ", ".join(stored["raw"]["scores"])
        raise SystemExit(f"--also: {path} has no method {method!r}: {theirs}")
    seconds = stored["methods"][method]["compute_seconds"]
    return name, (stored["raw"]["computations"], stored["raw"]["scores"][method], seconds)


def compare_pair(
    a: str, b: str, scored: dict[str, dict[str, Any]], truth: np.ndarray, resamples: int, seed: int
) -> dict[str, Any]:
    """Paired bootstrap over computations of A minus B: Kendall tau and P@top5%."""
    score_a = stats.rankdata(scored[a]["scores"])
    score_b = stats.rankdata(scored[b]["scores"])
    out: dict[str, Any] = {"a": a, "b": b}
    for label, statistic in (
        ("kendall_tau", kendall_tau),
        ("p_at_top5", lambda s, t: precision_at_top_percent(s, t, 5.0)),
    ):
        diff, interval = paired_bootstrap_difference(
            statistic, score_a, score_b, truth, resamples, seed
        )
        out[label] = {"difference": diff, "interval": list(interval)}
    return out


def comparison_markdown(comparisons: list[dict[str, Any]]) -> str:
    lines = [
        "| A | B | Kendall tau A - B [95% CI] | P@top5% A - B [95% CI] |",
        "|---|---|---|---|",
    ]
    for c in comparisons:
        cells = [
            f"{c[k]['difference']:+.3f} [{c[k]['interval'][0]:+.3f}, {c[k]['interval'][1]:+.3f}]"
            for k in ("kendall_tau", "p_at_top5")
        ]
        lines.append(f"| {c['a']} | {c['b']} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _load_generator(args: argparse.Namespace, data: Any) -> Evaluator:
    config = EvaluatorConfig(
        max_images=args.max_images,
        seed=0,
        metric=args.score_metric,
        snapshots=not args.final_weights_only,
    )
    return load_evaluator(args.generator, data, config, args.device)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arguments(parser)
    parser.add_argument("--work", default="runs/nb201_population", help="stored chunks")
    parser.add_argument("--output", default="benchmarks/results/nb201_population.json")
    parser.add_argument(
        "--generator",
        default=None,
        help="a shipped evaluator's name or a checkpoint path (none: proxies only)",
    )
    parser.add_argument("--name", default="hypernet", help="the generator's method name")
    parser.add_argument("--max-images", type=int, default=1000, help="validation images scored")
    parser.add_argument(
        "--score-metric", choices=["accuracy", "neg_log_loss"], default="neg_log_loss"
    )
    parser.add_argument(
        "--final-weights-only",
        action="store_true",
        help="score with the final weights, not the mean over the checkpoint's snapshots",
    )
    parser.add_argument("--proxies", default="", help="comma-separated zero-cost proxies")
    parser.add_argument("--proxy-batch", type=int, default=64)
    parser.add_argument(
        "--synflow",
        default=None,
        metavar="JSON",
        help="benchmarks/nb201_proxies.py's result with synflow over every cell",
    )
    parser.add_argument("--chunk", type=int, default=250, help="computations per stored chunk")
    parser.add_argument("--limit", type=int, default=None, help="score the first N computations")
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=FILE:METHOD",
        help="add METHOD's scores from another result of this script as NAME, compared with "
        "--name (e.g. another evaluator); repeatable",
    )
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples of the intervals")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, ...")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(args.work)
    full = get_space("nb201")
    pop = read_population(args.truth, args.key, args.metric, full, args.seed)
    reps = pop["reps"][: args.limit] if args.limit else pop["reps"]
    rep_archs = [pop["cells"][i] for i in reps]
    data = cifar10(args)

    scored: dict[str, dict[str, Any]] = {}
    if args.generator:
        evaluator = _load_generator(args, data)
        if not args.quiet:
            print(f"{args.name}: {args.generator}, {evaluator.num_snapshots} weight set(s), "
                  f"{evaluator.num_images} images", file=sys.stderr)  # fmt: skip
        key = (
            f"{file_tag(generator_file(args.generator))}-{args.score_metric}-{args.max_images}-"
            + ("final" if args.final_weights_only else "snapshots")
        )
        scored[args.name] = _score_chunks(
            args.name, key, evaluator.score, rep_archs, work, args.chunk, args.quiet
        )
    for name in [p for p in args.proxies.split(",") if p]:
        proxy = ZeroCostProxy(
            full, data, name, batch_size=args.proxy_batch, seed=args.seed, device=args.device
        )
        key = f"batch{args.proxy_batch}-seed{args.seed}"
        scored[name] = _score_chunks(
            name, key, proxy.score, rep_archs, work, args.chunk, args.quiet
        )
    if args.synflow:
        stored = json.loads(Path(args.synflow).read_text())
        every = stored["synflow"]["scores"]
        if len(every) != len(pop["cells"]):
            raise SystemExit(f"{args.synflow} holds {len(every)} synflow scores, not one per cell")
        scored["synflow"] = {
            "scores": [float(every[i]) for i in reps],
            "seconds": stored["synflow"]["seconds"] * len(reps) / len(every),
        }
    pairs = list(PAIRS)
    for also in args.also:
        name, (their_archs, their_scores, seconds) = _read_also(also)
        if name in scored:
            raise SystemExit(f"--also {name}: that method is already scored here")
        if their_archs != rep_archs:
            raise SystemExit(f"--also {name}: the file scored other computations than this run")
        scored[name] = {"scores": their_scores, "seconds": seconds}
        pairs.append((args.name, name))
    for name, measure in (("params", full.params), ("flops", full.flops)):
        scored[name] = {"scores": [float(measure(a)) for a in rep_archs], "seconds": 0.0}
    for name, members in COMBINATIONS.items():
        if all(m in scored for m in members):
            scored[name] = {
                "scores": aggregate_ranks([scored[m]["scores"] for m in members]).tolist(),
                "seconds": sum(scored[m]["seconds"] for m in members),
            }

    # Over the computations: truth is the mean over each computation's cells.
    group = pop["group"]
    counts = np.bincount(group)
    rep_truth = (np.bincount(group, weights=pop["truth"]) / counts)[: len(reps)]
    # Over the cells: every cell of a scored computation gets its score.
    cell_mask = group < len(reps)
    cell_truth = pop["truth"][cell_mask]
    cell_group = group[cell_mask]
    rep_params = np.asarray(scored["params"]["scores"])
    cell_archs = [c for c, m in zip(pop["cells"], cell_mask) if m]
    # Model size is free to compute for every cell: each cell has its own, not its computation's.
    own = {name: np.array([measure(c) for c in cell_archs], float) for name, measure in
           (("params", full.params), ("flops", full.flops))}  # fmt: skip
    cell_params = own["params"]
    summary: dict[str, dict[str, Any]] = {}
    for name, result in tqdm(scored.items(), desc="report", disable=args.quiet):
        values = np.asarray(result["scores"])
        summary[name] = {
            "compute_seconds": round(result["seconds"], 1),
            "cells": evaluate(
                own[name] if name in own else values[cell_group],
                cell_truth,
                cell_params,
                None,
                0,  # no intervals over cells: a computation's cells share one score
                args.seed,
            ),
            "computations": evaluate(
                values, rep_truth, rep_params, rep_params, args.bootstrap, args.seed
            ),
        }
    comparisons = [
        compare_pair(a, b, scored, rep_truth, args.bootstrap, args.seed)
        for a, b in pairs
        if a in scored and b in scored
    ]
    out = {
        "command": "python benchmarks/nb201_population.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {k: v for k, v in vars(args).items() if k != "quiet"},
        "truth_metric": args.metric,
        "n_cells": int(cell_mask.sum()),
        "n_computations": len(reps),
        "anchors_kendall_tau_all_cells": ANCHORS,
        "methods": summary,
        "comparisons": comparisons,
        "raw": {
            "computations": rep_archs,
            "cells_per_computation": counts[: len(reps)].tolist(),
            "truth": rep_truth.tolist(),
            "scores": {name: result["scores"] for name, result in scored.items()},
        },
    }
    output = Path(args.output)
    write_json(output, out)
    plot(out, output.with_suffix(".png"), args.name)
    print(markdown(out))
    if comparisons:
        print()
        print(comparison_markdown(comparisons))


def plot(results: dict[str, Any], path: Path, generator: str) -> None:
    """Kendall tau over the cells per method, beside the published anchors; and the generator's
    score rank against the truth over the computations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = sorted(results["methods"].items(), key=lambda m: m[1]["cells"]["kendall_tau"])
    fig, (bars, scatter) = plt.subplots(1, 2, figsize=(11, 5.6), dpi=110)
    names = [name for name, _ in methods]
    taus = [m["cells"]["kendall_tau"] for _, m in methods]
    colors = ["tab:blue" if generator in name else "0.55" for name in names]
    bars.barh(names, taus, color=colors)
    anchors = results["anchors_kendall_tau_all_cells"].items()
    for (label, value), color in zip(anchors, plt.get_cmap("tab10").colors[1:]):
        bars.axvline(value, color=color, lw=1.0, ls="--", label=f"{label}: {value:.3f}")
    bars.set_xlabel(f"Kendall tau over {results['n_cells']:,} cells (lines: published, all cells)")
    bars.set_xlim(0, 1)
    bars.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    bars.tick_params(axis="y", labelsize=7)
    raw = results["raw"]
    if generator in raw["scores"]:
        rank = stats.rankdata(raw["scores"][generator])
        scatter.hexbin(rank, raw["truth"], gridsize=40, bins="log", cmap="Blues", mincnt=1)
        scatter.set_xlabel(f"{generator} score rank among {len(rank):,} computations")
        scatter.set_ylabel("true accuracy (%, mean over the computation's cells)")
        scatter.set_ylim(max(min(raw["truth"]), 60), max(raw["truth"]) + 1)
    fig.suptitle(
        f"NAS-Bench-201 CIFAR-10: {results['n_computations']:,} of 6,466 computations scored",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def markdown(results: dict[str, Any]) -> str:
    """The population table, best Kendall tau over all cells first.

    Intervals are over computations: isomorphic cells share one score, so resampling cells would
    count one computation's cells as independent evidence.
    """

    def fmt(value: Any, digits: int = 3) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [
        f"| method | Kendall tau, {results['n_cells']} cells | Spearman, cells "
        f"| Kendall tau, {results['n_computations']} computations [95% CI] "
        "| tau - #params' [95% CI] | partial tau given #params | tau within #params quartiles "
        "| top-10 / top-100 mean acc. | P@top5% | compute s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    methods = sorted(results["methods"].items(), key=lambda m: -m[1]["cells"]["kendall_tau"])
    for name, m in methods:
        c, d = m["cells"], m["computations"]
        ci = d.get("ci_kendall_tau") or [None, None]
        diff = d.get("ci_tau_minus_params") or [None, None]
        lines.append(
            f"| {name} | {fmt(c['kendall_tau'])} | {fmt(c['spearman'])} "
            f"| {fmt(d['kendall_tau'])} [{fmt(ci[0])}, {fmt(ci[1])}] "
            f"| {fmt(d.get('tau_minus_params'))} [{fmt(diff[0])}, {fmt(diff[1])}] "
            f"| {fmt(d['partial_tau_params'])} | {fmt(d['tau_within_params_quartiles'])} "
            f"| {fmt(d['top_k_mean'].get('10'), 2)} / {fmt(d['top_k_mean'].get('100'), 2)} "
            f"| {fmt(d['p_at_top5'])} | {m['compute_seconds']:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
