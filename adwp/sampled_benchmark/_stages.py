"""The stages of a sampled benchmark: its samples, its weight generators and its proxies.

Each stage stores its result under the run's work folder as it finishes and is read back on a
re-run, so a killed run continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import IO, Any

import numpy as np

from adwp.benchmarking import write_json
from adwp.device import resolve_device
from adwp.generators.build import TrainConfig
from adwp.generators.hypernet import HyperNetConfig
from adwp.generators.training import Trainer
from adwp.io import append_jsonl, read_jsonl, write_jsonl
from adwp.ranking.baselines import ZeroCostProxy
from adwp.ranking.evaluator import Evaluator, EvaluatorConfig
from adwp.sampled_benchmark._spec import SampledBenchmark
from adwp.spaces import get_space

GENERATORS = ("hypernet", "supernet")

__all__ = ["GENERATORS", "proxy", "draw_samples", "read_json", "train_generator"]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def draw_samples(args: argparse.Namespace, space: Any, truth: dict[str, float]) -> dict[str, list]:
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
        return [row for _, row in read_jsonl(self.path, what="curve")]

    def on_start(self, trainer: Trainer, out: Path, resumed: bool) -> None:
        rows = [r for r in self.rows() if resumed and r["step"] <= trainer.step]
        write_jsonl(self.path, rows)
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
        append_jsonl(self.path, [row])
        self._since = time.perf_counter()


def train_generator(
    bench: SampledBenchmark,
    kind: str,
    args: argparse.Namespace,
    data: Any,
    samples: dict[str, list],
    work: Path,
) -> dict[str, Any]:
    """Trains one weight generator (resuming), then scores both samples with its snapshots."""
    run = f"{kind}{args.tag}"
    # One result per scoring metric: another metric re-scores the trained checkpoint.
    suffix = "" if args.score_metric == "accuracy" else f".{args.score_metric}"
    done = work / f"{run}{suffix}.json"
    if (stored := read_json(done)) is not None:
        return stored
    config = TrainConfig(
        dataset="cifar10",
        space=bench.space,
        space_options=bench.skeleton(args),
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
        hypernet=HyperNetConfig(num_bases=args.num_bases, context_layers=args.context_layers)
        if kind == "hypernet"
        else HyperNetConfig(),
    )
    archs = samples["report"] + samples["select"]
    scoring = EvaluatorConfig(max_images=args.max_images, seed=args.seed, metric=args.score_metric)
    curve = _Curve(work / f"{run}_curve.jsonl", archs, data, scoring)
    trainer = Trainer(config, data=data, device=args.device)
    checkpoint = work / f"{run}.pt"
    trainer.fit(checkpoint, resume=True, quiet=args.quiet, callbacks=[curve] if args.curve else [])
    start = time.perf_counter()
    evaluator = Evaluator.from_checkpoint(
        checkpoint, data=data, config=scoring, device=trainer.device
    )
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
    rows = [row for _, row in read_jsonl(log, what="training log")]
    return float(rows[-1]["seconds"]) if rows else 0.0


def proxy(
    bench: SampledBenchmark,
    name: str,
    args: argparse.Namespace,
    data: Any,
    samples: dict[str, list],
    work: Path,
) -> dict[str, Any]:
    done = work / f"proxy_{name}.json"
    if (stored := read_json(done)) is not None:
        return stored
    network = get_space(bench.space, **bench.proxy_network(args))
    proxy = ZeroCostProxy(
        network,
        data,
        name,
        batch_size=args.proxy_batch,
        seed=args.seed,
        device=resolve_device(args.device),
    )
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
