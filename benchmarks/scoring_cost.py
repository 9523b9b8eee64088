"""Scoring cost of the evaluator relative to a plain forward pass, and training throughput.

    python benchmarks/scoring_cost.py   # -> benchmarks/results/scoring_cost.json

Reproduces the table "Cost" of ``docs/results.md``.

The time ``Evaluator.score`` takes (weight prediction, BatchNorm recalibration, evaluation; cache
cleared) divided by the time of a plain forward pass of ``space.build(arch)`` with fixed weights
over the same validation images: once with all architectures scored in one call (``batched``, how
a search loop uses it) and once per architecture (``single``). Both run on the same device with the
same thread count, best of ``--repeats`` runs each. Training throughput is timed over
``--train-steps`` steps of the library's default training settings.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from adwp.data import get_dataset
from adwp.generators.training import TrainConfig, Trainer
from adwp.ranking.evaluator import Evaluator


def _best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    """Runs the script; ``argv`` defaults to the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist5k")
    parser.add_argument("--archs", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=30, help="steps timed for throughput")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="benchmarks/results/scoring_cost.json")
    args = parser.parse_args(argv)

    data = get_dataset(args.dataset)
    config = TrainConfig(dataset=args.dataset, steps=args.train_steps, seed=args.seed)
    trainer = Trainer(config, data=data)
    trainer.train_step()  # warm-up, not timed
    start = time.perf_counter()
    for _ in range(args.train_steps - 1):
        trainer.train_step()
    step_seconds = (time.perf_counter() - start) / (args.train_steps - 1)

    evaluator = Evaluator(trainer.model, data)
    space = evaluator.space
    archs = space.sample_many(args.archs, np.random.default_rng(args.seed))
    images = [x for x, _ in evaluator._eval]
    rows = []
    for arch in archs:
        net = space.build(arch).eval()

        def plain(net=net) -> None:
            with torch.inference_mode():
                for x in images:
                    net(x)

        def scored(arch=arch) -> None:
            evaluator.clear_cache()
            evaluator.score([arch])

        plain()  # warm-up
        t_plain, t_score = _best_time(plain, args.repeats), _best_time(scored, args.repeats)
        rows.append(
            {
                "arch": arch.to_string(),
                "flops": space.flops(arch),
                "plain_seconds": t_plain,
                "score_seconds": t_score,
                "ratio": t_score / t_plain,
            }
        )
    ratios = np.array([r["ratio"] for r in rows])
    plain_total = sum(r["plain_seconds"] for r in rows)

    def score_all() -> None:
        evaluator.clear_cache()
        evaluator.score(archs)

    batched = _best_time(score_all, args.repeats)
    result = {
        "dataset": args.dataset,
        "device": str(evaluator.device),
        "threads": torch.get_num_threads(),
        "eval_images": evaluator.num_images,
        "calibration_images": sum(int(x.shape[0]) for x in evaluator._calibration),
        "ratio_batched": batched / plain_total,
        "ratio_single_total": sum(r["score_seconds"] for r in rows) / plain_total,
        "ratio_single_median": float(np.median(ratios)),
        "ratio_single_max": float(ratios.max()),
        "score_seconds_per_arch_batched": batched / len(archs),
        "train_seconds_per_step": step_seconds,
        "train_images_per_second": config.meta_batch * config.batch_size / step_seconds,
        "train_archs_per_second": config.meta_batch / step_seconds,
        "rows": rows,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1))
    summary = {k: v for k, v in result.items() if k != "rows"}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
