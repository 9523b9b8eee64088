"""NAS-Bench-201 on CIFAR-10: the hypernetwork against every cheaper ranking, side by side.

    python benchmarks/nb201.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nb201/nats_tss.csv --work runs/nb201_bench \\
        --output benchmarks/results/nb201.json

Reproduces the tables and figures of ``docs/results.md``, "NAS-Bench-201, CIFAR-10". Draws two
seeded, disjoint, uniform samples of NB201 architectures: the reported sample (``--sample``,
``--sample-seed``) and a selection sample (``--select``, ``--select-seed``) on which settings and
checkpoints are chosen and which no reported number includes. Every method scores both:

- the hypernetwork and the SPOS supernet, trained here on a proxy skeleton of NB201's network
  (``--channels``, ``--cells``) and scored with their weight snapshots on ``--max-images``
  validation images; each is also scored with its current weights at every checkpoint, which
  gives Kendall tau against training seconds (the curve);
- the zero-cost proxies with the published protocol: NB201's full network (C=16, N=5) at
  initialisation, one batch of ``--proxy-batch`` (64) training images;
- #params and FLOPs of the full network (analytic);
- rank combinations (AZ-NAS's aggregation: the sum over members of ``log(rank / n)``, so an
  architecture must rank well on every member).

Truth is the table's 200-epoch CIFAR-10 test accuracy (mean over seeds). ``compute_seconds`` of
a weight generator is its training time (without the curve's scoring) plus its scoring time of the
reported sample on this machine; of a proxy, its time on the reported sample; of a combination,
the sum of its members'. Every stage is stored under ``--work`` as it finishes and the weight
generators train from resumable checkpoints, so a killed run re-run with the same command
continues where it stopped and writes the same numbers (the times are those of the pieces).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from scipy import stats

from adwp.benchmarking import (
    PUBLISHED_SPEARMAN,
    add_data_arguments,
    cifar10,
    write_json,
)
from adwp.errors import AdwpError
from adwp.generators.hypernet import HyperNetConfig
from adwp.generators.training import TrainConfig, Trainer
from adwp.ranking.baselines import ZeroCostProxy, aggregate_ranks
from adwp.ranking.evaluator import Evaluator, EvaluatorConfig
from adwp.spaces import get_space
from adwp.truth.report import correlation_report
from adwp.truth.tables import read_truth

GENERATORS = ("hypernet", "supernet")
PROXIES = ("synflow", "jacob_cov", "naswot", "snip", "grad_norm")
COMBINATIONS = {
    "hypernet+synflow": ("hypernet", "synflow"),
    "hypernet+jacob_cov": ("hypernet", "jacob_cov"),
    "hypernet+synflow+jacob_cov": ("hypernet", "synflow", "jacob_cov"),
    "synflow+jacob_cov": ("synflow", "jacob_cov"),
    "supernet+synflow+jacob_cov": ("supernet", "synflow", "jacob_cov"),
}


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def _samples(args: argparse.Namespace, space: Any, truth: dict[str, float]) -> dict[str, list]:
    """The reported and the selection sample, disjoint, every architecture in the table."""
    report = [
        a.to_string()
        for a in space.sample_many(args.sample, np.random.default_rng(args.sample_seed))
    ]
    taken = set(report)
    select: list[str] = []
    rng = np.random.default_rng(args.select_seed)
    while len(select) < args.select:
        arch = space.sample(rng).to_string()
        if arch not in taken:
            taken.add(arch)
            select.append(arch)
    missing = [a for a in report + select if a not in truth]
    if missing:
        raise SystemExit(
            f"{len(missing)} sampled architectures are not in the table, e.g. {missing[0]}"
        )
    return {"report": report, "select": select}


class _Curve:
    """Scores both samples with the current weights at every checkpoint (a training callback).

    Rows go to a JSONL file; a resumed run drops the rows after its checkpoint's step, so the
    file ends as an uninterrupted run's would. ``train_seconds`` is the run's training time up to
    the row's step, without the time spent scoring.
    """

    def __init__(self, path: Path, archs: list[str], data: Any, config: EvaluatorConfig) -> None:
        self.path, self.archs, self.data, self.config = path, archs, data, config
        self.train_seconds = 0.0
        self._since = 0.0

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def on_start(self, trainer: Trainer, out: Path, resumed: bool) -> None:
        rows = [r for r in self.rows() if resumed and r["step"] <= trainer.step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        self.train_seconds = rows[-1]["train_seconds"] if rows else 0.0
        self._since = time.perf_counter()

    def on_checkpoint(self, trainer: Trainer, out: Path, log: IO[str]) -> None:
        self.train_seconds += time.perf_counter() - self._since
        start = time.perf_counter()
        model = trainer.model
        was_training = model.training
        try:
            scores = Evaluator(model, self.data, self.config, device=trainer.device).score(
                self.archs
            )
        finally:
            model.train(was_training)
        row = {
            "step": trainer.step,
            "metric": self.config.metric,
            "train_seconds": round(self.train_seconds, 2),
            "score_seconds": round(time.perf_counter() - start, 2),
            "scores": [float(s) for s in scores],
        }
        with self.path.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        self._since = time.perf_counter()


def _train_generator(
    kind: str, args: argparse.Namespace, data: Any, samples: dict[str, list], work: Path
) -> dict[str, Any]:
    """Trains one weight generator (resuming), then scores both samples with its snapshots."""
    run = f"{kind}{args.tag}"
    # One result per scoring metric: another metric re-scores the trained checkpoint.
    suffix = "" if args.score_metric == "accuracy" else f".{args.score_metric}"
    done = work / f"{run}{suffix}.json"
    if (stored := _read_json(done)) is not None:
        return stored
    config = TrainConfig(
        dataset="cifar10",
        space="nb201",
        space_options={"channels": args.channels, "cells_per_stage": args.cells},
        steps=args.steps,
        seed=args.seed,
        model=kind,
        meta_batch=args.meta_batch,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=min(50, args.steps // 10),
        checkpoint_every=args.eval_every,
        snapshot_every=args.snapshot_every,
        snapshots=args.snapshots,
        sampler=args.sampler,
        max_mix=args.max_mix,
        distill=args.distill,
        hypernet=HyperNetConfig(num_bases=args.num_bases)
        if kind == "hypernet"
        else HyperNetConfig(),
    )
    archs = samples["report"] + samples["select"]
    scoring = EvaluatorConfig(max_images=args.max_images, seed=args.seed, metric=args.score_metric)
    curve = _Curve(work / f"{run}_curve.jsonl", archs, data, scoring)
    trainer = Trainer(config, data=data)
    checkpoint = work / f"{run}.pt"
    trainer.fit(checkpoint, resume=True, quiet=args.quiet, callbacks=[curve] if args.curve else [])
    start = time.perf_counter()
    evaluator = Evaluator.from_checkpoint(checkpoint, data=data, config=scoring)
    scores = evaluator.score(archs, progress=not args.quiet)
    score_seconds = time.perf_counter() - start
    n = len(samples["report"])
    rows = curve.rows()
    result = {
        "train_config": config.to_dict(),
        "metric": args.score_metric,
        # Rows from before curves recorded their metric were scored by accuracy.
        "curve_metric": rows[0].get("metric", "accuracy") if rows else None,
        "snapshots": evaluator.num_snapshots,
        "train_seconds": curve.train_seconds if args.curve else _train_seconds(checkpoint),
        # Scoring cost grows with the number of architectures: the reported sample's share.
        "score_seconds": score_seconds * n / len(archs),
        "report": [float(s) for s in scores[:n]],
        "select": [float(s) for s in scores[n:]],
        "curve": [
            {
                "step": r["step"],
                "train_seconds": r["train_seconds"],
                "score_seconds": r["score_seconds"] * n / len(archs),
                "report": r["scores"][:n],
                "select": r["scores"][n:],
            }
            for r in rows
        ],
    }
    write_json(done, result)
    return result


def _train_seconds(checkpoint: Path) -> float:
    """Training seconds up to the last step, from the run's metrics log (no curve to time it)."""
    log = checkpoint.with_suffix(".metrics.jsonl")
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return float(rows[-1]["seconds"]) if rows else 0.0


def _proxy(
    name: str, args: argparse.Namespace, data: Any, samples: dict[str, list], work: Path
) -> dict[str, Any]:
    done = work / f"proxy_{name}.json"
    if (stored := _read_json(done)) is not None:
        return stored
    # The published protocol scores NB201's own network (C=16, N=5).
    full = get_space("nb201", channels=args.proxy_channels, cells_per_stage=args.proxy_cells)
    proxy = ZeroCostProxy(full, data, name, batch_size=args.proxy_batch, seed=args.seed)
    start = time.perf_counter()
    report = proxy.score(samples["report"])
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "report": [float(s) for s in report],
        "select": [float(s) for s in proxy.score(samples["select"])],
    }
    write_json(done, result)
    return result


def _tau(scores: list[float], truth: list[float]) -> float | None:
    """Kendall tau-b, None where it is undefined (constant scores)."""
    value = float(stats.kendalltau(scores, truth).statistic)
    return None if np.isnan(value) else value


def _evaluate(
    scores: np.ndarray,
    archs: list[str],
    rows: list[dict[str, Any]],
    metric: str,
    sizes: dict[str, float],
    resamples: int = 1000,
) -> dict[str, Any]:
    # Ranks, so that -inf (a proxy's "no signal") is simply the lowest score.
    ranks = stats.rankdata(scores)
    try:
        report = correlation_report(
            rows,
            dict(zip(archs, ranks.tolist())),
            metric=metric,
            params=sizes,
            n_resamples=resamples,
        )
    except AdwpError:  # constant scores (a generator that has not learnt yet): no ranking
        names = ("kendall_tau", "ci_kendall_tau", "spearman", "ci_spearman", "regret_at_1")
        return dict.fromkeys((*names, "regret_at_5", "partial_tau"))
    return {
        "kendall_tau": report["kendall_tau"],
        "ci_kendall_tau": report["ci"]["kendall_tau"],
        "spearman": report["spearman"],
        "ci_spearman": report["ci"]["spearman"],
        "regret_at_1": report["regret_at_k"].get("1"),
        "regret_at_5": report["regret_at_k"].get("5"),  # None below 5 architectures
        "partial_tau": report.get("partial_tau"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arguments(parser)
    parser.add_argument(
        "--work", default="runs/nb201_bench", help="checkpoints and finished stages"
    )
    parser.add_argument("--output", default="benchmarks/results/nb201.json")
    parser.add_argument("--plot", default=None, help="tau against compute (default: OUTPUT.png)")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--select", type=int, default=100)
    parser.add_argument("--select-seed", type=int, default=1)
    parser.add_argument("--channels", type=int, default=8, help="skeleton's C (NB201: 16)")
    parser.add_argument("--cells", type=int, default=1, help="skeleton's N (NB201: 5)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--meta-batch", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--sampler", default="sandwich")
    parser.add_argument("--num-bases", type=int, default=8)
    parser.add_argument("--eval-every", type=int, default=500, help="steps between curve points")
    parser.add_argument(
        "--no-curve",
        dest="curve",
        action="store_false",
        help="skip the curve (scoring both samples at every checkpoint): halves a lever run's "
        "scoring when the final weights are scored anyway",
    )
    parser.add_argument("--snapshot-every", type=int, default=250)
    parser.add_argument("--snapshots", type=int, default=6)
    parser.add_argument("--max-images", type=int, default=1000, help="validation images scored")
    parser.add_argument(
        "--score-metric",
        choices=["accuracy", "neg_log_loss"],
        default="neg_log_loss",
        help="the weight generators' score (accuracy re-scores with its own result file)",
    )
    parser.add_argument("--max-mix", type=float, default=0.3, help="stochastic encoding strength")
    parser.add_argument(
        "--distill",
        type=float,
        default=0.0,
        help="in-place distillation weight: a step's architectures learn from its largest (0: off)",
    )
    parser.add_argument("--proxy-batch", type=int, default=64)
    parser.add_argument("--proxy-channels", type=int, default=16, help="proxies' network's C")
    parser.add_argument("--proxy-cells", type=int, default=5, help="proxies' network's N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples of the CIs")
    parser.add_argument("--methods", default=",".join((*GENERATORS, *PROXIES)))
    parser.add_argument(
        "--tag",
        default="",
        help="suffix of the weight generators' files in --work: runs of other settings share the "
        "samples and proxies of one --work",
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(GENERATORS) - set(PROXIES))
    if unknown:
        raise SystemExit(
            f"unknown methods {unknown}; allowed: {', '.join((*GENERATORS, *PROXIES))}"
        )
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    table = read_truth(args.truth, key=args.key, metric=args.metric)
    truth = table.mean()
    space = get_space("nb201")
    stored_samples = _read_json(work / "samples.json")
    samples = _samples(args, space, truth)
    if stored_samples is not None and stored_samples != samples:
        raise SystemExit(f"{work}/samples.json holds other samples; use another --work")
    write_json(work / "samples.json", samples)
    data = cifar10(args)

    raw: dict[str, dict[str, Any]] = {}
    for name in methods:
        if name in PROXIES:
            result = _proxy(name, args, data, samples, work)
            raw[name] = {**result, "compute_seconds": result["seconds"]}
    for name in methods:
        if name in GENERATORS:
            result = _train_generator(name, args, data, samples, work)
            raw[name] = {
                **result,
                "compute_seconds": result["train_seconds"] + result["score_seconds"],
            }
    for name, measure in (("params", space.params), ("flops", space.flops)):
        raw[name] = {
            "compute_seconds": 0.0,
            **{part: [float(measure(a)) for a in samples[part]] for part in ("report", "select")},
        }
    for name, members in COMBINATIONS.items():
        if all(m in raw for m in members):
            raw[name] = {
                "compute_seconds": sum(raw[m]["compute_seconds"] for m in members),
                **{
                    part: aggregate_ranks([raw[m][part] for m in members]).tolist()
                    for part in ("report", "select")
                },
            }

    rows = table.rows()
    sizes = dict(zip(samples["report"], raw["params"]["report"]))
    summary: dict[str, dict[str, Any]] = {}
    for name, result in raw.items():
        entry = _evaluate(
            np.asarray(result["report"]),
            samples["report"],
            rows,
            args.metric,
            sizes,
            args.bootstrap,
        )
        entry["select_kendall_tau"] = _tau(
            list(stats.rankdata(result["select"])), [truth[a] for a in samples["select"]]
        )
        entry["compute_seconds"] = round(result["compute_seconds"], 1)
        if name in PUBLISHED_SPEARMAN:
            entry["published_spearman"] = PUBLISHED_SPEARMAN[name]
        summary[name] = entry
    curves = {}
    for name in GENERATORS:
        if name in raw and raw[name]["curve"]:
            curves[name] = [
                {
                    "step": point["step"],
                    "train_seconds": point["train_seconds"],
                    "metric": raw[name].get("curve_metric") or "accuracy",
                    "kendall_tau": _tau(point["report"], [truth[a] for a in samples["report"]]),
                    "select_kendall_tau": _tau(
                        point["select"], [truth[a] for a in samples["select"]]
                    ),
                }
                for point in raw[name]["curve"]
            ]
    out = {
        "command": "python benchmarks/nb201.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {k: v for k, v in vars(args).items() if k not in ("quiet",)},
        "truth_metric": args.metric,
        "samples": samples,
        "truth": {part: [truth[a] for a in samples[part]] for part in ("report", "select")},
        "methods": summary,
        "metrics": {
            name: raw[name].get("metric") or "accuracy" for name in GENERATORS if name in raw
        },
        "curves": curves,
        "raw": {
            name: {k: v for k, v in r.items() if k in ("report", "select")}
            for name, r in raw.items()
        },
    }
    output = Path(args.output)
    write_json(output, out)
    _plot(out, Path(args.plot) if args.plot else output.with_suffix(".png"))
    print(_markdown(summary))


def _plot(results: dict[str, Any], path: Path) -> None:
    from adwp.plots import plot_tau_vs_compute

    plot_tau_vs_compute(
        {k: m for k, m in results["methods"].items() if m["kendall_tau"] is not None},
        path,
        title=f"NAS-Bench-201 CIFAR-10, {len(results['samples']['report'])} sampled architectures",
    )
    if results["curves"]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.5, 4.0), dpi=130)
        for (name, points), color in zip(results["curves"].items(), ("tab:blue", "tab:green")):
            seconds = [p["train_seconds"] for p in points]
            taus = [np.nan if p["kendall_tau"] is None else p["kendall_tau"] for p in points]
            label = f"{name}, current weights ({points[0]['metric']})" if points else name
            ax.plot(seconds, taus, marker="o", ms=3, color=color, label=label)
            final = results["methods"][name]
            if final["kendall_tau"] is None:
                continue
            low, high = final["ci_kendall_tau"] or [final["kendall_tau"]] * 2
            ax.errorbar([seconds[-1]], [final["kendall_tau"]], fmt="s", capsize=3, color=color,
                        yerr=[[final["kendall_tau"] - low], [high - final["kendall_tau"]]],
                        label=f"{name}, its snapshots averaged ({results['metrics'][name]}, "
                        "95% CI)")  # fmt: skip
        ax.axhline(
            results["methods"]["params"]["kendall_tau"], color="0.4", ls="--", lw=1, label="#params"
        )
        ax.set_xlabel("training seconds on this machine")
        ax.set_ylabel("Kendall tau on the reported sample")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path.with_name(path.stem + "_curve.png"))
        plt.close(fig)


def _markdown(summary: dict[str, dict[str, Any]]) -> str:
    def fmt(value: Any) -> str:
        return "-" if value is None else f"{value:.3f}"

    lines = [
        "| method | Kendall tau [95% CI] | Spearman (published) | regret@1 | regret@5 "
        "| compute s | tau on selection sample |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in sorted(summary.items(), key=lambda item: -(item[1]["kendall_tau"] or -2)):
        ci = m["ci_kendall_tau"] or [None, None]
        published = f" ({m['published_spearman']:.3f})" if "published_spearman" in m else ""
        lines.append(
            f"| {name} | {fmt(m['kendall_tau'])} [{fmt(ci[0])}, {fmt(ci[1])}] | "
            f"{fmt(m['spearman'])}{published} | {fmt(m['regret_at_1'])} | "
            f"{fmt(m['regret_at_5'])} | {m['compute_seconds']:.0f} | "
            f"{fmt(m['select_kendall_tau'])} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
