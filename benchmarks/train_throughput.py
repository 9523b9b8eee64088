"""Training throughput of the weight generators: images and architectures per second.

    python benchmarks/train_throughput.py --device cpu \
        --output benchmarks/results/train_throughput_cpu.json
    python benchmarks/train_throughput.py --device cuda --channels-last --compile \\
        --output benchmarks/results/train_throughput_cuda.json

Times ``Trainer.train_step`` with the default settings (8 architectures x 64 images per step) on
random images of the data set's shape, for every setup of ``--setups``: ``nb201`` on NB201's own
skeleton (16 channels, 5 cells per stage) and on the proxy skeleton adwp's NB201 results use (8
channels, 1 cell), and ``macro`` on MNIST-shaped images. ``--steps`` steps are timed after
``--warmup`` (which also takes ``--compile``'s compilation); CUDA is synchronised before each
clock reading. On CUDA the step runs in bf16 autocast with the images on the device.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from adwp.benchmarking import write_json
from adwp.data import DataSplits
from adwp.generators.training import TrainConfig, Trainer

# name -> (space, space options, data set shape: channels, classes, side)
SETUPS: dict[str, tuple[str, dict[str, Any], tuple[int, int, int]]] = {
    "nb201": ("nb201", {}, (3, 10, 32)),
    "nb201-proxy": ("nb201", {"channels": 8, "cells_per_stage": 1}, (3, 10, 32)),
    "macro": ("macro", {}, (1, 10, 28)),
}


def _random_data(shape: tuple[int, int, int], images: int = 2048) -> DataSplits:
    channels, classes, side = shape
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(images, channels, side, side, generator=generator)
    y = torch.randint(classes, (images,), generator=generator)
    split = TensorDataset(x, y)
    return DataSplits("random", split, split, split, channels, classes, side)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(setup: str, model: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seconds per step, images and architectures per second of one setup."""
    space, options, shape = SETUPS[setup]
    config = TrainConfig(
        dataset="random", space=space, space_options=options, model=model, snapshot_every=0
    )
    trainer = Trainer(
        config,
        data=_random_data(shape),
        device=args.device,
        channels_last=args.channels_last,
        compile=args.compile,
    )
    for _ in range(args.warmup):
        trainer.train_step()
    _sync(trainer.device)
    start = time.perf_counter()
    for _ in range(args.steps):
        trainer.train_step()
    _sync(trainer.device)
    step = (time.perf_counter() - start) / args.steps
    return {
        "setup": setup,
        "model": model,
        "seconds_per_step": step,
        "images_per_second": config.meta_batch * config.batch_size / step,
        "architectures_per_second": config.meta_batch / step,
        "parameters": sum(p.numel() for p in trainer.model.parameters()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", default="nb201,nb201-proxy,macro")
    parser.add_argument("--models", default="hypernet,supernet")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--output", default="benchmarks/results/train_throughput_cpu.json")
    args = parser.parse_args(argv)
    setups = [s for s in args.setups.split(",") if s]
    unknown = sorted(set(setups) - set(SETUPS))
    if unknown:
        raise SystemExit(f"--setups: unknown {', '.join(unknown)}; choose from {sorted(SETUPS)}")
    rows = []
    for setup in setups:
        for model in (m for m in args.models.split(",") if m):
            row = measure(setup, model, args)
            rows.append(row)
            print(
                f"{setup:12s} {model:9s} {row['seconds_per_step']:.3f} s/step "
                f"{row['images_per_second']:8.0f} images/s "
                f"{row['architectures_per_second']:7.1f} architectures/s",
                flush=True,
            )
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    command = "python benchmarks/train_throughput.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    write_json(
        Path(args.output),
        {
            "command": command,
            "settings": vars(args),
            "device": name,
            "threads": torch.get_num_threads(),
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
