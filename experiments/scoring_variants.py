"""Ways of reading a score off the same predicted weights, compared on the macro table.

    python benchmarks/scoring_variants.py runs/exp_combo_s0.pt --output scoring_variants_s0.json

For one trained checkpoint, every architecture of ``--truth`` gets its predicted weights once and
is run on the validation images, on shifted copies of them (test-time augmentation) and on the
training images (which the hypernetwork was trained on). From the logits it records accuracy,
log loss, mean probability of the true class and the log loss at the temperature that is best for
that architecture (a calibration-free log loss). Writes the raw per-architecture values and the
Kendall tau of each against the mean validation accuracy of the truth, so any combination can be
checked afterwards without running the networks again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import kendalltau

from adwp.data import as_tensors
from adwp.evaluator import Evaluator, EvaluatorConfig
from adwp.functional import FunctionalNetwork
from adwp.groundtruth import mean_by_arch, read_table
from adwp.metrics import partial_tau
from adwp.spaces import Architecture

TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 25))


def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def _metrics(logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    logits = logits.double()
    out = {
        "accuracy": float((logits.argmax(1) == y).double().mean()),
        "neg_log_loss": -float(F.cross_entropy(logits, y)),
        "p_true": float(logits.softmax(1).gather(1, y[:, None]).mean()),
    }
    losses = [float(F.cross_entropy(logits / t, y)) for t in TEMPERATURES]
    out["neg_log_loss_best_t"] = -min(losses)
    return out


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--truth", default="benchmarks/data/gt_mnist5k_macro_16seeds.jsonl")
    parser.add_argument("--calibration-batches", type=int, default=2)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    evaluator = Evaluator.from_checkpoint(
        args.checkpoint, config=EvaluatorConfig(calibration_batches=args.calibration_batches)
    )
    rows = read_table(args.truth)
    truth = mean_by_arch(rows)
    archs = [Architecture.from_string(k) for k in truth]
    val_x, val_y = as_tensors(evaluator.data.val)
    train_x, train_y = as_tensors(evaluator.data.train)
    shifts = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    raw: dict[str, list[float]] = {}
    for start in range(0, len(archs), 16):
        chunk = archs[start : start + 16]
        for arch, weights in zip(chunk, evaluator.predict_weights(chunk)):
            net = FunctionalNetwork(evaluator.space, arch)
            net.recalibrate(weights, evaluator._calibration)
            val_logits = net(weights, val_x, train=False)
            views = {"val": _metrics(val_logits, val_y)}
            shifted = [net(weights, _shift(val_x, dy, dx), train=False) for dy, dx in shifts]
            tta_logits = torch.cat([val_logits, *shifted])
            views["val_tta5"] = _metrics(tta_logits, val_y.repeat(5))
            views["val_tta5_meanprob"] = _metrics(
                torch.stack([val_logits, *shifted]).softmax(-1).mean(0).log(), val_y
            )
            train_logits = net(weights, train_x, train=False)
            views["train"] = _metrics(train_logits, train_y)
            views["train_val"] = _metrics(
                torch.cat([train_logits, val_logits]), torch.cat([train_y, val_y])
            )
            for view, metrics in views.items():
                for name, value in metrics.items():
                    raw.setdefault(f"{view}/{name}", []).append(value)
        print(f"{min(start + 16, len(archs))}/{len(archs)}", flush=True)
    target = np.array([truth[str(a)] for a in archs])
    log_params = np.log([evaluator.space.params(a) for a in archs])
    summary = {
        key: {
            "kendall_tau": float(kendalltau(values, target).statistic),
            "partial_tau": float(partial_tau(np.array(values), target, log_params)),
        }
        for key, values in raw.items()
    }
    for key, value in summary.items():
        print(f"{key:<36} tau {value['kendall_tau']:.3f}  partial {value['partial_tau']:.3f}")
    out = {
        "checkpoint": args.checkpoint,
        "truth": args.truth,
        "archs": [str(a) for a in archs],
        "truth_mean": target.tolist(),
        "summary": summary,
        "raw": raw,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
