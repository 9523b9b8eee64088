"""Data-parallel training: measured 1 against K processes here, and the expected curve to 64 GPUs.

    python benchmarks/train_scaling.py --data-root ../shared/data/cifar10-jpeg \\
        --data-cache runs/cache --space-option channels=8 --space-option cells_per_stage=1 \\
        --output benchmarks/results/train_scaling.json \\
        --plot benchmarks/results/train_scaling.png

Runs ``adwp train`` under ``torchrun --nproc-per-node K`` with T threads per process for every
``KxT`` of ``--runs`` (default: one process on one core, two processes on one core each, and one
process with two threads on the same two cores) and measures the seconds per step after
``--warmup`` steps from the metrics log; speed-ups are over the first run. The expected curve
for K GPUs is a model, not a measurement: a step's compute is shared over the processes in whole
architectures (ceil(M / K) of a step's M architectures on the busiest), plus a ring all-reduce of
the gradients (every parameter, 4 bytes each: 2 (K - 1) / K of the volume through each GPU's link)
and its latency. The link bandwidths and latencies are stated assumptions (``--nvlink-gbs``,
``--network-gbs``, ``--latency-us``), and the compute per step is given for several values
(``--gpu-step-ms``) since no GPU was measured here. The curve stops at K = M: a process without
an architecture would idle, and raising the meta-batch changes the training.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from adwp.benchmarking import write_json

GPUS = (1, 2, 4, 8, 16, 32, 64)
NODE = 8  # GPUs that share one NVLink domain; larger runs cross the network


def _measure(args: argparse.Namespace, processes: int, threads: int, work: Path) -> dict[str, Any]:
    """Seconds per step of one ``adwp train`` run: ``processes`` of ``threads`` threads each."""
    out = work / f"k{processes}x{threads}.pt"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node", str(processes), "-m", "adwp", "train"]
    command += ["--dataset", args.dataset, "--space", args.space, "--quiet", "--out", str(out)]
    for option in args.space_option:
        command += ["--space-option", option]
    if args.data_root:
        command += ["--data-root", args.data_root]
    if args.data_cache:
        command += ["--data-cache", args.data_cache]
    steps = args.warmup + args.steps
    command += ["--steps", str(steps), "--meta-batch", str(args.meta_batch)]
    command += ["--checkpoint-every", str(steps), "--snapshot-every", "0"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{processes} processes failed:\n{done.stderr[-3000:]}")
    log = out.with_name(out.stem + ".metrics.jsonl")
    seconds = [json.loads(line)["seconds"] for line in log.read_text().splitlines()]
    per_step = (seconds[-1] - seconds[args.warmup - 1]) / args.steps
    state = torch.load(out, map_location="cpu", weights_only=True)
    parameters = sum(t.numel() for t in state["model"].values())
    shape = {k: state["dataset"][k] for k in ("in_channels", "num_classes", "image_size")}
    return {
        "processes": processes,
        "threads": threads,
        "seconds_per_step": per_step,
        "parameters": parameters,
        "data_shape": shape,
    }


def _allreduce_seconds(gpus: int, volume: float, args: argparse.Namespace) -> float:
    """A ring all-reduce of ``volume`` bytes over ``gpus`` GPUs (NVLink in a node, else the
    network), with a latency per ring step."""
    if gpus == 1:
        return 0.0
    bandwidth = (args.nvlink_gbs if gpus <= NODE else args.network_gbs) * 1e9
    return 2 * (gpus - 1) / gpus * volume / bandwidth + 2 * (gpus - 1) * args.latency_us * 1e-6


def expected_curve(
    step_seconds: float, volume: float, meta_batch: int, args: argparse.Namespace
) -> list[dict[str, float]]:
    """Speed-up over one GPU for every K up to the meta-batch, by the model above."""
    rows = []
    for gpus in GPUS:
        if gpus > meta_batch:
            break
        compute = step_seconds * math.ceil(meta_batch / gpus) / meta_batch
        step = compute + _allreduce_seconds(gpus, volume, args)
        rows.append(
            {
                "gpus": gpus,
                "seconds_per_step": step,
                "speedup": step_seconds / step,
                "efficiency": step_seconds / step / gpus,
                "allreduce_share": 1 - compute / step,
            }
        )
    return rows


def _full_parameters(args: argparse.Namespace, shape: dict[str, int]) -> int:
    """Parameters of the same generator on the space's default (full) skeleton."""
    from adwp.generators.build import TrainConfig, build_model
    from adwp.spaces import get_space

    space = get_space(args.space, **shape)
    model = build_model(space, TrainConfig(space=args.space, dataset=args.dataset))
    return sum(p.numel() for p in model.parameters())


def _plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for label, curve in result["expected"].items():
        ax.plot(
            [r["gpus"] for r in curve],
            [r["speedup"] for r in curve],
            marker=".",
            label=f"expected, {label}",
        )
    measured = result["measured"]
    base = measured[0]["seconds_per_step"]
    for m in measured:
        ax.plot(
            m["processes"],
            base / m["seconds_per_step"],
            "ko" if m["threads"] == 1 else "k^",
            label=f"measured on this CPU: {m['processes']} process(es) x {m['threads']} thread(s)",
        )
    ax.plot([1, 64], [1, 64], color="0.7", lw=0.8, ls="--", label="linear")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("processes (GPUs)")
    ax.set_ylim(bottom=0.8)
    ax.set_ylabel("speed-up over one")
    ax.legend(fontsize=6, loc="lower right")
    ax.set_title(
        f"adwp train, data parallel: generator of {result['parameters']:,} (measured) and "
        f"{result['full_skeleton_parameters']:,} parameters (full skeleton)",
        fontsize=8,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--data-cache", default=None)
    parser.add_argument("--space", default="nb201")
    parser.add_argument("--space-option", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument(
        "--runs", default="1x1,2x1,1x2", help="processes x threads per process, comma-separated"
    )
    parser.add_argument("--meta-batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument(
        "--gpu-step-ms",
        default="50,200",
        help="assumed compute per step on one GPU for the expected curves",
    )
    parser.add_argument(
        "--extra-meta-batch", type=int, default=64, help="a larger meta-batch for the curves"
    )
    parser.add_argument("--nvlink-gbs", type=float, default=150.0, help="NVLink GB/s per GPU")
    parser.add_argument("--network-gbs", type=float, default=12.5, help="network GB/s per GPU")
    parser.add_argument("--latency-us", type=float, default=10.0)
    parser.add_argument("--output", default="benchmarks/results/train_scaling.json")
    parser.add_argument("--plot", default=None)
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.steps < 1:
        raise SystemExit("--warmup and --steps must be at least 1")
    try:
        runs = [tuple(int(n) for n in run.split("x")) for run in args.runs.split(",") if run]
        if any(len(run) != 2 or min(run) < 1 for run in runs):
            raise ValueError
    except ValueError:
        raise SystemExit(f"--runs {args.runs!r}: give KxT pairs such as 1x1,2x1") from None
    with tempfile.TemporaryDirectory() as work:
        measured = [_measure(args, k, t, Path(work)) for k, t in runs]
    parameters = measured[0]["parameters"]
    shapes = [m.pop("data_shape") for m in measured]
    full = _full_parameters(args, shapes[0])
    measured_step = measured[0]["seconds_per_step"]
    # (label, parameters, seconds per step on one worker for args.meta_batch architectures)
    setups = [
        (f"this CPU's step ({measured_step:.2f} s), measured generator", parameters, measured_step)
    ]
    for ms in (float(x) for x in args.gpu_step_ms.split(",") if x):
        setups.append((f"{ms:g} ms per step on one GPU (assumed), full skeleton", full, ms / 1000))
    expected: dict[str, list[dict[str, float]]] = {}
    for label, count, step in setups:
        for meta_batch in (args.meta_batch, args.extra_meta_batch):
            # A meta-batch k times larger takes k times the compute per step.
            scaled = step * meta_batch / args.meta_batch
            curve = expected_curve(scaled, 4.0 * count, meta_batch, args)
            expected[f"{label}, meta-batch {meta_batch}"] = curve
    command = "python benchmarks/train_scaling.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    result = {
        "command": command,
        "settings": vars(args),
        "parameters": parameters,
        "allreduce_bytes_per_step": 4.0 * parameters,
        "full_skeleton_parameters": full,
        "full_skeleton_allreduce_bytes_per_step": 4.0 * full,
        "measured": measured,
        "expected": expected,
    }
    write_json(Path(args.output), result)
    if args.plot:
        _plot(result, Path(args.plot))
    base = measured[0]["seconds_per_step"]
    for m in measured:
        speedup = base / m["seconds_per_step"]
        print(
            f"{m['processes']} x {m['threads']} threads: {m['seconds_per_step']:.3f} s/step, "
            f"x{speedup:.2f}"
        )


if __name__ == "__main__":
    main()
