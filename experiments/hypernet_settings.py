"""Kendall tau of hypernetwork checkpoints on both shipped ground-truth tables.

    python benchmarks/hypernet_settings.py runs/a.pt runs/b.pt ...

For each checkpoint: Kendall tau and partial tau given log #params against the mean of 4 seeds
of the 100-architecture macro table (all 100 architectures), and Kendall tau on the
32-assignment layer-assignment table. A quick way to compare training settings.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.stats import kendalltau

from adwp.backend import load_backend
from adwp.groundtruth import mean_by_arch, read_table
from adwp.metrics import partial_tau
from adwp.spaces import Architecture

MACRO_TRUTH = "benchmarks/data/gt_mnist5k_macro_4seeds.jsonl"
LAYER_TRUTH = "benchmarks/data/gt_mnist5k_layer_assignment.jsonl"


def taus(checkpoint: str) -> tuple[float, float, float]:
    """(macro tau, macro partial tau given log #params, layer-assignment tau) of a checkpoint."""
    backend = load_backend(f"hypernet:{checkpoint}")
    results = []
    for path in (MACRO_TRUTH, LAYER_TRUTH):
        truth = mean_by_arch(read_table(path))
        archs = [Architecture.from_string(k) for k in truth]
        scores = backend.score(archs)
        values = np.array(list(truth.values()))
        results.append((scores, values, np.log([backend.space.params(a) for a in archs])))
    (s, t, p), (ls, lt, _) = results
    return kendalltau(s, t).statistic, partial_tau(s, t, p), kendalltau(ls, lt).statistic


if __name__ == "__main__":
    print(f"{'checkpoint':<40} {'macro tau':>9} {'partial':>8} {'LA tau':>7}")
    for checkpoint in sys.argv[1:]:
        macro, partial, layer = taus(checkpoint)
        print(f"{checkpoint:<40} {macro:9.3f} {partial:8.3f} {layer:7.3f}", flush=True)
