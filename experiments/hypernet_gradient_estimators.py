"""Which gradient estimator hypernet-gradient search should use on NB201 CIFAR-10.

    python experiments/hypernet_gradient_estimators.py --estimator soft --seeds 0,1,2 \\
        --data-root ../shared/data/cifar10-jpeg --truth ../shared/data/nb201/nats_tss.csv \\
        --data-cache runs/cache

Runs the search through the shipped ``nb201-cifar10`` generator (default settings otherwise, one
thread) and prints, per seed, the table accuracy of the cell derived after each epoch, the final
cell, the search seconds and the mean validation loss per epoch. Summarised in
``docs/decisions.md`` ("Differentiable search on NB201").
"""

from __future__ import annotations

import argparse

import torch

from adwp.data import get_dataset
from adwp.groundtruth import read_truth
from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch

parser = argparse.ArgumentParser()
parser.add_argument("--estimator", default="soft")
parser.add_argument("--seeds", default="0,1,2")
parser.add_argument("--data-root", required=True)
parser.add_argument("--truth", required=True)
parser.add_argument("--data-cache", default=None)
args = parser.parse_args()
torch.set_num_threads(1)
data = get_dataset("cifar10", root=args.data_root, seed=0, cache_dir=args.data_cache)
truth = read_truth(
    args.truth, key="ArchitectureString", metric="CIFAR10TestAccuracy200Epochs"
).mean()
for seed in (int(s) for s in args.seeds.split(",")):
    config = HypernetGradientConfig(estimator=args.estimator, seed=seed)
    search = HypernetGradientSearch.pretrained("nb201-cifar10", config, data=data)
    result = search.run(truth=truth)
    print(
        args.estimator,
        seed,
        [h["truth"] for h in result.history],
        result.arch,
        round(search.seconds, 1),
        [round(h["val_loss"], 3) for h in result.history],
        flush=True,
    )
