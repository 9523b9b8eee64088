"""Does scoring with an exponential moving average of the hypernetwork's parameters rank better?

    python benchmarks/ema_check.py --truth benchmarks/data/gt_mnist5k_macro_16seeds.jsonl \\
        --select-on benchmarks/data/gt_mnist5k_macro_select40.jsonl --seed 0 \\
        --output benchmarks/results/ema_check_seed0.json

Trains one hypernetwork (300 steps, lr 1e-3, meta-batch 8, 8 kernel bases: the settings of the
training-seed study) while keeping EMA copies of its parameters (``torch.optim.swa_utils``), and at
steps 100, 200 and 300 scores the truth table's and the selection table's architectures with the
raw weights and with each EMA. Writes every point with its raw scores. One thread.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from adwp.data import get_dataset
from adwp.evaluator import Evaluator
from adwp.groundtruth import read_table
from adwp.hypernet import HyperNetConfig
from adwp.metrics import correlation_report
from adwp.training import TrainConfig, Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth", required=True)
    parser.add_argument("--select-on", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decays", default="0.95,0.99")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)

    truth, select = read_table(args.truth), read_table(args.select_on)
    data = get_dataset("mnist5k")
    config = TrainConfig(
        dataset="mnist5k",
        steps=300,
        seed=args.seed,
        lr=1e-3,
        meta_batch=8,
        sampler="uniform",
        checkpoint_every=10**9,
        # The settings of the study: BatchNorm affines and classifier predicted, not shared.
        hypernet=HyperNetConfig(num_bases=8, predict_norm=True, predict_classifier=True),
    )
    trainer = Trainer(config, data=data)
    space = trainer.space
    archs = [space.validate(a) for a in dict.fromkeys(r["arch"] for r in truth)]
    chosen_on = [space.validate(a) for a in dict.fromkeys(r["arch"] for r in select)]
    emas = {
        float(d): AveragedModel(trainer.model, multi_avg_fn=get_ema_multi_avg_fn(float(d)))
        for d in args.decays.split(",")
    }
    points = []
    for stop in (100, 200, 300):
        while trainer.step < stop:
            trainer.train_step()
            for ema in emas.values():
                ema.update_parameters(trainer.model)
        models = [("raw", trainer.model)] + [(f"ema{d}", e.module) for d, e in emas.items()]
        for name, model in models:
            evaluator = Evaluator(model, data)
            scores = evaluator.score(archs)
            report = correlation_report(
                truth, dict(zip(map(str, archs), scores.tolist())), n_resamples=10
            )
            held = evaluator.score(chosen_on)
            selection = correlation_report(
                select, dict(zip(map(str, chosen_on), held.tolist())), n_resamples=10
            )
            point = {
                "step": stop,
                "weights": name,
                "kendall_tau": report["kendall_tau"],
                "partial_tau": report["partial_tau"],
                "selection_tau": selection["kendall_tau"],
                "archs": report["archs"],
                "score": report["score"],
            }
            points.append(point)
            print(
                f"step {stop} {name}: tau {point['kendall_tau']:.3f} "
                f"partial {point['partial_tau']:.3f} selection {point['selection_tau']:.3f}",
                flush=True,
            )
            model.train()  # the evaluator switched it to eval mode
    out = {"truth": args.truth, "select_on": args.select_on, "seed": args.seed, "points": points}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
