"""``adwp groundtruth``: train architectures standalone and record their accuracy, or merge
shard tables."""

from __future__ import annotations

import argparse

from adwp.cli._common import (
    DEVICE_HELP,
    add_data_flags,
    add_space_option_flag,
    add_threads_flag,
    data_options,
    non_negative_int,
    space_options,
)
from adwp.errors import AdwpError
from adwp.usecases import groundtruth, merge_groundtruth


def add_parser(sub: argparse._SubParsersAction, dataset_help: str, space_help: str) -> None:
    truth = sub.add_parser(
        "groundtruth",
        help="train architectures standalone and record their accuracy (or merge shard tables)",
        description="adwp groundtruth --dataset NAME (--sample N | --archs FILE) --seeds R "
        "--epochs E --seed S --output GT.jsonl [--shard I/N]; or: adwp groundtruth merge "
        "SHARD.jsonl ... --output GT.jsonl. Training seeds are 0..R-1; --seed draws the sample.",
    )
    truth.add_argument(
        "action",
        nargs="?",
        choices=["run", "merge"],
        default="run",
        help="run (train and record; the default) or merge (join shard tables)",
    )
    truth.add_argument("inputs", nargs="*", help="shard tables (merge only)")
    truth.add_argument("--dataset", default="mnist5k", help=dataset_help)
    truth.add_argument("--data-root", default=None, help="folder of on-disk data sets")
    truth.add_argument("--download", action="store_true", help="download the data set if missing")
    add_data_flags(truth)
    truth.add_argument(
        "--data-seed", type=non_negative_int, default=0, help="seed of the data split"
    )
    truth.add_argument(
        "--space", default="macro", help=space_help + "; the one of the architectures"
    )
    add_space_option_flag(truth)
    truth.add_argument(
        "--sample", type=int, default=None, help="train N distinct sampled architectures"
    )
    truth.add_argument(
        "--archs", default=None, help="file: one architecture string per line, or a JSON list"
    )
    truth.add_argument("--seeds", type=int, default=2, help="training seeds per architecture")
    truth.add_argument(
        "--epochs", type=int, default=3, help="passes over the training split per run (default 3)"
    )
    truth.add_argument("--seed", type=non_negative_int, default=0, help="seed of --sample")
    truth.add_argument(
        "--output",
        default=None,
        help="JSONL table (needed); rows already present are skipped, so a rerun resumes",
    )
    truth.add_argument(
        "--shard",
        default="0/1",
        help="I/N: this run's share of the work; auto: from a scheduler's array job "
        "(SLURM_ARRAY_TASK_ID and _COUNT, or ADWP_SHARD_INDEX and _COUNT)",
    )
    add_threads_flag(truth)
    truth.add_argument("--device", default="auto", help=DEVICE_HELP)
    truth.add_argument("--quiet", action="store_true", help="no progress bar or status lines")
    truth.set_defaults(func=run)


def _parse_shard(text: str) -> tuple[int, int]:
    if text == "auto":
        from adwp.groundtruth import shard_from_environment

        return shard_from_environment()
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise AdwpError(f"--shard must look like I/N (e.g. 0/4) or be auto, got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise AdwpError(f"--shard I/N needs 0 <= I < N, got {text!r}")
    return index, count


def run(args: argparse.Namespace) -> int:
    if args.action == "merge":
        if not args.inputs or not args.output:
            raise AdwpError("merge needs shard files and --output")
        merged = merge_groundtruth(args.inputs, args.output)
        print(f"wrote {len(merged.rows)} rows to {args.output}")
        return 0
    if args.inputs:
        raise AdwpError(f"unexpected arguments {args.inputs}; did you mean 'groundtruth merge'?")
    if args.output is None or (args.sample is None) == (args.archs is None):
        raise AdwpError("groundtruth needs --output and exactly one of --sample N or --archs FILE")
    result = groundtruth(
        args.output,
        archs_file=args.archs,
        sample=args.sample,
        dataset=args.dataset,
        data_root=args.data_root,
        download=args.download,
        data_options=data_options(args),
        data_seed=args.data_seed,
        space=args.space,
        space_options=space_options(args),
        seeds=args.seeds,
        epochs=args.epochs,
        seed=args.seed,
        shard=_parse_shard(args.shard),
        device=args.device,
        quiet=args.quiet,
    )
    if not args.quiet:
        print(f"{args.output}: {len(result.rows)} rows")
    return 0
