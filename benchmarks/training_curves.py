"""Kendall tau against training steps for one training setting, keeping every raw score.

    OMP_NUM_THREADS=1 python benchmarks/training_curves.py --seed 0 \\
        --output benchmarks/results/curves/sharedpost_s0.json

Makes the training runs behind the tables "Training seeds" and "Averaging training runs" of
``docs/results.md`` (``benchmarks/results/curves/``; ``ensemble_limit.py`` reads them). Trains a
weight generator with the library's default ``TrainConfig``, changed by ``--set key=value``
(``--set model=supernet`` for the SPOS baseline, ``--set hypernet.num_bases=4`` for the
hypernetwork's capacity, ``--set space.base_widths=[8,16,32]`` for a space option), and at every
evaluation point scores the architectures of ``--truth`` (reported) and of ``--select-on`` (for
choosing a checkpoint) with the evaluator's accuracy and log loss. The raw scores of every point
are written, so ensembles over checkpoints or training seeds can be computed afterwards without
training again.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau

from adwp.data import get_dataset
from adwp.generators.hypernet import HyperNetConfig
from adwp.generators.training import TrainConfig, Trainer
from adwp.ranking.evaluator import Evaluator, EvaluatorConfig
from adwp.spaces import Architecture
from adwp.truth.correlation import partial_tau
from adwp.truth.tables import mean_by_arch, read_table


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def config_from(settings: list[str], **fixed: Any) -> TrainConfig:
    """A ``TrainConfig`` from ``key=value`` strings (``hypernet.key=value`` for capacity).

    Settings not given keep the library's defaults; the snapshot ensemble is off because this
    script scores every evaluation point itself.
    """
    top: dict[str, Any] = {"snapshot_every": 0, **fixed}
    capacity: dict[str, Any] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set needs key=value, got {item!r}")
        if key.startswith("hypernet."):
            capacity[key.removeprefix("hypernet.")] = _parse_value(value)
        elif key.startswith("space."):
            top.setdefault("space_options", {})[key.removeprefix("space.")] = _parse_value(value)
        else:
            top[key] = _parse_value(value)
    return TrainConfig(**top, hypernet=HyperNetConfig(**capacity))


def main(argv: list[str] | None = None) -> None:
    """Runs the script; ``argv`` defaults to the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth", default="benchmarks/data/gt_mnist5k_macro_16seeds.jsonl")
    parser.add_argument("--select-on", default="benchmarks/data/gt_mnist5k_macro_select40.jsonl")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--max-images", type=int, default=None, help="score on the first N validation images"
    )
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)

    config = config_from(args.set, steps=args.steps, seed=args.seed, checkpoint_every=10**9)
    data = get_dataset(config.dataset, seed=config.data_seed)
    trainer = Trainer(config, data=data)
    tables = {"truth": mean_by_arch(read_table(args.truth))}
    if args.select_on:
        tables["select"] = mean_by_arch(read_table(args.select_on))
    archs = {name: [Architecture.from_string(k) for k in t] for name, t in tables.items()}
    log_params = np.log([trainer.space.params(a) for a in archs["truth"]])
    target = np.array(list(tables["truth"].values()))
    points: list[dict[str, Any]] = []
    train_seconds = 0.0
    for stop in sorted({*range(args.eval_every, args.steps + 1, args.eval_every), args.steps}):
        start = time.perf_counter()
        while trainer.step < stop:
            trainer.train_step()
        train_seconds += time.perf_counter() - start
        evaluator = Evaluator(trainer.model, data, EvaluatorConfig(max_images=args.max_images))
        start = time.perf_counter()
        point: dict[str, Any] = {"step": stop, "train_seconds": round(train_seconds, 1)}
        for name, table_archs in archs.items():
            for metric in ("accuracy", "neg_log_loss"):
                point[f"{name}/{metric}"] = evaluator.score(table_archs, metric=metric).tolist()
        point["score_seconds"] = round(time.perf_counter() - start, 1)
        for metric in ("accuracy", "neg_log_loss"):
            scores = np.array(point[f"truth/{metric}"])
            point[f"tau/{metric}"] = float(kendalltau(scores, target).statistic)
            point[f"partial/{metric}"] = float(partial_tau(scores, target, log_params))
            if "select" in archs:
                point[f"select_tau/{metric}"] = float(
                    kendalltau(point[f"select/{metric}"], list(tables["select"].values())).statistic
                )
        points.append(point)
        print(
            f"step {stop}: tau acc {point['tau/accuracy']:.3f} (partial "
            f"{point['partial/accuracy']:.3f}), tau nll {point['tau/neg_log_loss']:.3f}, "
            f"select acc {point.get('select_tau/accuracy', float('nan')):.3f}, "
            f"{train_seconds:.0f}+{point['score_seconds']:.0f} s",
            flush=True,
        )
    out = {
        "config": dataclasses.asdict(config),
        "truth": args.truth,
        "select_on": args.select_on,
        "archs": {name: [str(a) for a in a_list] for name, a_list in archs.items()},
        "points": points,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
