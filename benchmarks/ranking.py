"""Rank correlation of the hypernetwork and every baseline on a ground-truth table.

    python benchmarks/ranking.py   # -> benchmarks/results/ranking.json

With its defaults this reproduces the tables of ``docs/results.md``, "MNIST-5k macro": the
library's ranking settings (300 steps, meta-batch 8, lr 1e-3, 8 kernel bases, sandwich sampler,
shared BatchNorm affines and classifier, 6 snapshots 50 steps apart) against the 16-seed table
``benchmarks/data/gt_mnist5k_macro_16seeds.jsonl``. ``benchmarks/figures.py`` draws the headline
figure from the JSON it writes.

Trains the hypernetwork and the SPOS supernet with the same steps and images (scoring the table's
architectures at several points to record Kendall tau against training steps), trains every
architecture for one epoch with the ground-truth recipe, computes the zero-cost proxies, #params and
FLOPs, and compares each with the mean validation accuracy over ground-truth seeds. The
hypernetwork and the supernet are reported twice from the same predicted weights: scored by
validation accuracy (``hypernet``, the evaluator's default) and by minus the validation log loss
(``hypernet_nll``). Every method's ``compute_seconds`` is its training plus scoring time on this
machine. ``--holdout N`` keeps N architectures of the table apart for choosing the hypernetwork's
checkpoint; they are excluded from every reported number. ``--select-on TABLE`` chooses it on
another ground-truth table instead (architectures of the same space, none of them reported), so
every architecture of ``--truth`` is reported. ``--methods`` re-runs a subset and keeps the other
methods' stored results. Each weight generator is also reported as ``<name>_snapshots``: the mean
score of its latest ``--snapshots`` evaluation points (what ``adwp train --snapshot-every`` and the
evaluator do), with the scoring time of every averaged point counted in its compute.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from adwp.benchmarking import draw_method_figures
from adwp.data import get_dataset
from adwp.generators.hypernet import HyperNetConfig
from adwp.generators.training import TrainConfig, Trainer
from adwp.ranking.baselines import (
    FlopsBackend,
    ParamsBackend,
    ShortTrainingBackend,
    ZeroCostProxy,
    list_proxies,
)
from adwp.ranking.evaluator import Evaluator
from adwp.spaces import Architecture, get_space
from adwp.truth.report import correlation_report, noise_ceiling, split_half_ceiling
from adwp.truth.tables import read_table

SUMMARY = ("kendall_tau", "spearman", "partial_tau", "tau_within_size_bins", "regret_at_1")


def _summary(report: dict[str, Any], seconds: float | None) -> dict[str, Any]:
    out = {key: report.get(key) for key in SUMMARY if key != "regret_at_1"}
    out["regret_at_1"] = report["regret_at_k"].get("1")
    out["precision_at_10"] = report["precision_at_k"].get("10")
    out["ci_kendall_tau"] = report["ci"]["kendall_tau"]
    if seconds is not None:
        out["compute_seconds"] = round(seconds, 1)
    return out


def _ceiling_summary(ceiling: dict[str, Any] | None) -> dict[str, Any]:
    ceiling = ceiling or {}
    out = {key: ceiling.get(key) for key in SUMMARY if key != "regret_at_1"}
    out["regret_at_1"] = ceiling.get("regret_at_k", {}).get("1")
    out["comparison"] = ceiling.get("comparison")
    return out


def _trained(
    kind: str,
    args: argparse.Namespace,
    data: Any,
    rows: list[dict[str, Any]],
    archs: list[Architecture],
    holdout: list[Architecture],
    holdout_rows: list[dict[str, Any]],
) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Trains a weight generator, scoring the table along the way.

    Every evaluation point scores with predicted weights once and reads two metrics from the same
    pass: accuracy (reported as ``kind``) and minus the log loss (``kind_nll``).

    Returns:
        ``{name: (result at the selected step, curve)}`` for both metrics.
    """
    # Only the sizes given on the command line replace the library's defaults.
    sizes: dict[str, Any] = {}
    if args.batch_size is not None:
        sizes["batch_size"] = args.batch_size
    if args.base_widths is not None:
        sizes["space_options"] = {"base_widths": [int(w) for w in args.base_widths.split(",")]}
    config = TrainConfig(
        **sizes,
        dataset=args.dataset,
        steps=args.steps,
        seed=args.seed,
        model=kind,
        checkpoint_every=10**9,
        snapshot_every=0,  # the snapshot ensemble is scored here, at every evaluation point
        lr=args.lr,
        lr_cycles=args.lr_cycles,
        meta_batch=args.meta_batch,
        sampler=args.sampler,
        hypernet=HyperNetConfig(
            num_bases=args.num_bases,
            predict_norm=not args.shared_norm,
            predict_classifier=not args.shared_classifier,
        ),
    )
    trainer = Trainer(config, data=data)
    train_seconds = 0.0
    names = {kind: "accuracy", f"{kind}_nll": "neg_log_loss"}
    curves: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    best: dict[str, tuple[float, dict[str, Any], dict[str, Any]]] = {}
    checkpoints = sorted({*range(args.eval_every, args.steps + 1, args.eval_every), args.steps})
    # The snapshot ensemble of adwp (TrainConfig.snapshot_every = eval_every): the mean score of
    # the latest --snapshots evaluation points, scored once each.
    history: dict[str, list[tuple[np.ndarray, np.ndarray, float]]] = {name: [] for name in names}
    for name in names:
        curves[f"{name}_snapshots"] = []
    for stop in checkpoints:
        start = time.perf_counter()
        while trainer.step < stop:
            trainer.train_step()
        train_seconds += time.perf_counter() - start
        evaluator = Evaluator(trainer.model, data)
        start = time.perf_counter()
        evaluator.score(archs)
        score_seconds = time.perf_counter() - start
        if holdout:
            evaluator.score(holdout)
        for name, metric in names.items():
            scores = evaluator.score(archs, metric=metric)
            held_scores = evaluator.score(holdout, metric=metric) if holdout else np.zeros(0)
            entry = (scores, held_scores, score_seconds)
            history[name] = [*history[name], entry][-args.snapshots :]
            kept = history[name]
            mean_scores = np.mean([s for s, _, _ in kept], axis=0)
            report = correlation_report(
                rows, dict(zip(map(str, archs), mean_scores.tolist())), n_resamples=args.resamples
            )
            point = {"step": stop, "train_seconds": round(train_seconds, 1)}
            point.update(_summary(report, train_seconds + sum(t for _, _, t in kept)))
            point["snapshots"] = len(kept)
            if holdout:
                held_mean = np.mean([h for _, h, _ in kept], axis=0)
                point["holdout_tau"] = correlation_report(
                    holdout_rows, dict(zip(map(str, holdout), held_mean.tolist())), n_resamples=10
                )["kendall_tau"]
                # Raw selection-table scores, so a combination can be fitted there afterwards.
                report = {
                    **report,
                    "holdout_archs": [str(a) for a in holdout],
                    "holdout_score": held_mean.tolist(),
                }
            curves[f"{name}_snapshots"].append(point)
            best[f"{name}_snapshots"] = (stop, point, report)
            report = correlation_report(
                rows, dict(zip(map(str, archs), scores.tolist())), n_resamples=args.resamples
            )
            point = {"step": stop, "train_seconds": round(train_seconds, 1)}
            point.update(_summary(report, train_seconds + score_seconds))
            if holdout:
                point["holdout_tau"] = correlation_report(
                    holdout_rows, dict(zip(map(str, holdout), held_scores.tolist())), n_resamples=10
                )["kendall_tau"]
            curves[name].append(point)
            print(f"{name} step {stop}: " + ", ".join(f"{k}={v}" for k, v in point.items()))
            chosen = point["holdout_tau"] if holdout else stop
            # Ties keep the earlier checkpoint, as adwp.ranking.selection does.
            if name not in best or chosen > best[name][0]:
                best[name] = (chosen, point, report)
    out = {}
    for name, (_, point, report) in best.items():
        selected_by = "selection tau" if holdout else "last step"
        if name.endswith("_snapshots"):
            selected_by = f"mean score of the last {point['snapshots']} evaluation points"
        result = {**point, "selected_by": selected_by}
        keep = ("archs", "score", "truth", "params", "holdout_archs", "holdout_score")
        result["report"] = {k: report[k] for k in keep if k in report}
        out[name] = (result, curves[name])
    return out


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark; ``argv`` defaults to the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth", default="benchmarks/data/gt_mnist5k_macro_16seeds.jsonl")
    parser.add_argument("--dataset", default="mnist5k")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--holdout", type=int, default=0)
    parser.add_argument(
        "--select-on",
        default="benchmarks/data/gt_mnist5k_macro_select40.jsonl",
        help="ground-truth table whose architectures (none of them reported) choose the checkpoint",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-3, help="hypernet and supernet")
    parser.add_argument("--lr-cycles", type=int, default=1, help="cosine cycles, warm restarts")
    parser.add_argument("--meta-batch", type=int, default=8, help="architectures per step")
    parser.add_argument("--num-bases", type=int, default=8, help="hypernetwork kernel bases")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="images per architecture and step"
    )
    parser.add_argument(
        "--base-widths", default=None, help="channels of the three stages, e.g. 16,32,64"
    )
    parser.add_argument(
        "--shared-norm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="hypernetwork: share BatchNorm affines per slot",
    )
    parser.add_argument(
        "--shared-classifier",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="hypernetwork: share one classifier",
    )
    parser.add_argument(
        "--sampler", default="sandwich", help="architecture sampler (hypernet and supernet)"
    )
    parser.add_argument(
        "--snapshots",
        type=int,
        default=6,
        help="evaluation points averaged by the *_snapshots variants (adwp's snapshot ensemble)",
    )
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--methods", default="all", help="comma-separated subset, or 'all'")
    parser.add_argument("--output", default="benchmarks/results/ranking.json")
    parser.add_argument("--plot", default="benchmarks/results/ranking.png")
    args = parser.parse_args(argv)

    rows = read_table(args.truth)
    data = get_dataset(args.dataset)
    space = get_space(
        "macro",
        in_channels=data.in_channels,
        num_classes=data.num_classes,
        image_size=data.image_size,
    )
    keys = list(dict.fromkeys(row["arch"] for row in rows))
    order = np.random.default_rng(args.seed).permutation(len(keys))
    holdout = [space.validate(keys[i]) for i in order[: args.holdout]]
    archs = [space.validate(keys[i]) for i in sorted(order[args.holdout :])]
    held = {str(a) for a in holdout}
    holdout_rows = [r for r in rows if r["arch"] in held]
    if args.select_on:
        if args.holdout:
            parser.error(
                "--select-on and --holdout are two ways to choose a checkpoint: give one "
                "(--select-on '' turns off the default selection table)"
            )
        select_rows = read_table(args.select_on)
        reported = set(keys)
        # A selection architecture that is also reported would leak the truth into the choice.
        holdout_rows = [r for r in select_rows if r["arch"] not in reported]
        bad = [r["arch"] for r in holdout_rows if not space.contains(r["arch"])]
        if bad:
            parser.error(f"--select-on: {bad[0]!r} is not in the {space!r} space")
        holdout = [space.validate(k) for k in dict.fromkeys(r["arch"] for r in holdout_rows)]

    out_path = Path(args.output)
    results: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    methods: dict[str, Any] = results.get("methods", {}) if args.methods != "all" else {}
    curves: dict[str, Any] = results.get("curves", {}) if args.methods != "all" else {}
    # A partial run replaces some methods of an earlier file; keep the arguments of each part.
    arguments: dict[str, Any] = results.get("arguments", {}) if args.methods != "all" else {}
    if "truth" in arguments:  # one earlier run's own arguments, not yet split by part
        arguments = {"other methods": arguments}
    arguments[args.methods] = vars(args)
    wanted = (
        ["hypernet", "supernet", "short_training", *list_proxies(), "params", "flops"]
        if args.methods == "all"
        else args.methods.split(",")
    )
    reported_rows = [r for r in rows if r["arch"] not in held]
    for name in wanted:
        if name in ("hypernet", "supernet"):
            for variant, (result, curve) in _trained(
                name, args, data, rows, archs, holdout, holdout_rows
            ).items():
                methods[variant], curves[variant] = result, curve
            continue
        if name == "params":
            backend: Any = ParamsBackend(space)
        elif name == "flops":
            backend = FlopsBackend(space)
        elif name == "short_training":
            backend = ShortTrainingBackend(space, data, epochs=1, seed=args.seed, quiet=False)
        else:
            backend = ZeroCostProxy(space, data, name, seed=args.seed)
        scores = backend.score(archs)
        report = correlation_report(
            reported_rows,
            dict(zip(map(str, archs), scores.tolist())),
            n_resamples=args.resamples,
        )
        methods[name] = _summary(report, backend.compute_seconds)
        methods[name]["report"] = {k: report[k] for k in ("archs", "score", "truth", "params")}
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in methods[name].items()))

    per_seed: dict[str, dict[int, float]] = {}
    for row in reported_rows:
        per_seed.setdefault(row["arch"], {})[row["seed"]] = row["val_acc"]
    sizes = {r["arch"]: r["params"] for r in reported_rows}
    noise = _ceiling_summary(noise_ceiling(per_seed, sizes))
    halves = _ceiling_summary(split_half_ceiling(per_seed, sizes))
    results = {
        "truth": args.truth,
        "n": len(archs),
        "holdout": len(holdout),
        "selected_on": args.select_on or ("holdout of the truth" if holdout else "last step"),
        "steps": args.steps,
        "arguments": arguments,
        "noise_ceiling": noise,
        "noise_ceiling_split_half": halves if halves["comparison"] else None,
        "methods": methods,
        "curves": curves,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1))

    draw_method_figures(results, args.plot)
    markdown = _markdown(results)
    out_path.with_suffix(".md").write_text(markdown + "\n")
    print(markdown)


def _markdown(results: dict[str, Any]) -> str:
    def fmt(value: Any, digits: int = 3) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [
        "| method | Kendall tau | Spearman | partial tau given size | tau within size quartiles "
        "| regret@1 | compute (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, key in (
        ("noise ceiling (seed vs seed)", "noise_ceiling"),
        ("noise ceiling (split-half means)", "noise_ceiling_split_half"),
    ):
        noise = results.get(key)
        if not noise:
            continue
        lines.append(
            f"| {label} | {fmt(noise['kendall_tau'])} | {fmt(noise['spearman'])} "
            f"| {fmt(noise['partial_tau'])} | {fmt(noise['tau_within_size_bins'])} "
            f"| {fmt(noise['regret_at_1'], 4)} | - |"
        )
    for name, m in results["methods"].items():
        lines.append(
            f"| {name} | {fmt(m['kendall_tau'])} | {fmt(m['spearman'])} | {fmt(m['partial_tau'])} "
            f"| {fmt(m['tau_within_size_bins'])} | {fmt(m['regret_at_1'], 4)} "
            f"| {fmt(m['compute_seconds'], 0)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
