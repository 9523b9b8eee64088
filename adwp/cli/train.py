"""``adwp train``: train a weight generator."""

from __future__ import annotations

import argparse

from adwp.cli._common import (
    DEVICE_HELP,
    KEY_HELP,
    METRIC_HELP,
    add_data_flags,
    add_space_option_flag,
    add_threads_flag,
    data_options,
    listing,
    non_negative_int,
    space_options,
)
from adwp.errors import AdwpError
from adwp.io import check_writable
from adwp.registry import GENERATORS, SAMPLERS
from adwp.usecases import load_data


def add_parser(sub: argparse._SubParsersAction, dataset_help: str, space_help: str) -> None:
    train = sub.add_parser(
        "train",
        help="train a hypernetwork",
        description="Train a weight generator. Options left out take the defaults of "
        "adwp.training.TrainConfig and adwp.hypernet.HyperNetConfig: the settings we rank with "
        "(README, 'The settings we rank with').",
    )
    train.add_argument("--dataset", default="mnist5k", help=dataset_help)
    train.add_argument("--data-root", default=None, help="folder of on-disk data sets")
    train.add_argument("--download", action="store_true", help="download the data set if missing")
    add_data_flags(train)
    train.add_argument("--space", default="macro", help=space_help + "; the one to train on")
    add_space_option_flag(train)
    train.add_argument("--steps", type=int, default=None, help="optimisation steps (default 300)")
    train.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of every random choice of the run"
    )
    train.add_argument(
        "--data-seed",
        type=non_negative_int,
        default=None,
        help="seed of the data set's train/val/test split (default 0); rank scores on the same "
        "split, and a ground-truth table to compare with must use it too",
    )
    train.add_argument("--out", required=True, help="checkpoint file to write")
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue --out if it exists (if it does not, say so and start from step 0)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--meta-batch", type=int, default=None, help="architectures per step")
    train.add_argument("--batch-size", type=int, default=None, help="images per architecture")
    train.add_argument(
        "--optimizer", choices=["adamw", "sgd"], default=None, help="optimiser (default adamw)"
    )
    train.add_argument("--lr", type=float, default=None, help="peak learning rate")
    train.add_argument(
        "--lr-cycles",
        type=int,
        default=None,
        help="cosine learning-rate cycles with warm restarts (pair with --snapshot-every)",
    )
    train.add_argument(
        "--sampler",
        default=None,
        help="architecture sampler, NAME or NAME:ARGUMENT: "
        f"{listing(SAMPLERS.list(), 'sandwich')} (e.g. sandwich:smallest, stratified:BINS, "
        "inherited:A-B)",
    )
    train.add_argument("--num-bases", type=int, default=None, help="hypernetwork kernel bases")
    train.add_argument("--embed-dim", type=int, default=None, help="hypernetwork embedding width")
    train.add_argument(
        "--shared-norm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="share each slot's BatchNorm scale and shift across architectures (the default; "
        "--no-shared-norm predicts them per architecture)",
    )
    train.add_argument(
        "--shared-classifier",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="share one classifier across architectures (the default; --no-shared-classifier "
        "predicts it per architecture)",
    )
    train.add_argument(
        "--distill",
        type=float,
        default=None,
        metavar="W",
        help="in-place distillation (BigNAS): the step's other architectures learn with weight W "
        "from its largest one's predictions, 1 - W from the labels (0: off)",
    )
    train.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        metavar="N",
        help="steps between checkpoint writes (default 100; also written at every snapshot step "
        "and at the end)",
    )
    train.add_argument(
        "--snapshot-every",
        type=int,
        default=None,
        metavar="N",
        help="keep a copy of the weights every N steps; scores are then averaged over the kept "
        "copies, a steadier ranking (0: off)",
    )
    train.add_argument(
        "--snapshots", type=int, default=None, help="how many of the latest snapshots to keep"
    )
    train.add_argument(
        "--select-on",
        default=None,
        metavar="GT.jsonl",
        help="ground-truth table (.jsonl or .csv) scored at every checkpoint; the checkpoint with "
        "the best Kendall tau is kept as OUT.best.pt (keep these architectures out of any "
        "reported comparison)",
    )
    train.add_argument(
        "--select-key", default=None, metavar="COLUMN", help="--select-on table: " + KEY_HELP
    )
    train.add_argument(
        "--select-metric",
        default=None,
        metavar="COLUMN",
        help="--select-on table: " + METRIC_HELP,
    )
    train.add_argument(
        "--model",
        choices=GENERATORS.list(),
        default="hypernet",
        help="weight generator: hypernet (the hypernetwork, the default), supernet (the SPOS "
        "supernet baseline) or another registered one",
    )
    train.add_argument("--device", default="auto", help=DEVICE_HELP)
    add_threads_flag(train)
    train.add_argument(
        "--channels-last",
        action="store_true",
        help="feed images in channels-last memory order (faster convolutions on recent GPUs)",
    )
    train.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the hypernetwork's fixed-shape parts (the first steps compile)",
    )
    train.set_defaults(func=run)


# adwp train options named as TrainConfig's fields, whose default (None) means the library's.
_TRAIN_SETTINGS = (
    "steps",
    "distill",
    "meta_batch",
    "batch_size",
    "optimizer",
    "lr",
    "lr_cycles",
    "sampler",
    "checkpoint_every",
    "snapshot_every",
    "snapshots",
    "data_seed",
)


def run(args: argparse.Namespace) -> int:
    import torch.distributed as dist

    from adwp._distributed import init_from_environment

    # Under torchrun each process joins the group first; alone this is a team of one.
    team = init_from_environment()
    try:
        code = _train(args, quiet=args.quiet or not team.main)
        if team.size > 1:
            # Gloo can abort a process that tears its group down while a peer is still busy
            # (here: the main process writing the last checkpoint); leave together.
            dist.barrier()
        return code
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


def _train(args: argparse.Namespace, quiet: bool) -> int:
    from adwp.checkpoint import best_path
    from adwp.device import resolve_device
    from adwp.hypernet import HyperNetConfig
    from adwp.training import TrainConfig, Trainer

    check_writable(args.out, "--out")
    resolve_device(args.device)

    # Options left out take the library's defaults, so the CLI and TrainConfig cannot disagree.
    given = {name: getattr(args, name) for name in _TRAIN_SETTINGS}
    capacity = {
        "num_bases": args.num_bases,
        "embed_dim": args.embed_dim,
        "predict_norm": None if args.shared_norm is None else not args.shared_norm,
        "predict_classifier": None
        if args.shared_classifier is None
        else not args.shared_classifier,
    }
    if args.model == "supernet":
        given_capacity = [name for name, value in capacity.items() if value is not None]
        if given_capacity:
            flags = {
                "num_bases": "--num-bases",
                "embed_dim": "--embed-dim",
                "predict_norm": "--[no-]shared-norm",
                "predict_classifier": "--[no-]shared-classifier",
            }
            shown = ", ".join(flags[name] for name in given_capacity)
            raise AdwpError(
                f"{shown}: hypernetwork options, which the supernet does not have (it always "
                "shares its BatchNorm affines and classifier); drop them or use --model hypernet"
            )
    config = TrainConfig(
        dataset=args.dataset,
        space=args.space,
        space_options=space_options(args),
        seed=args.seed,
        model=args.model,
        **{name: value for name, value in given.items() if value is not None},
        hypernet=HyperNetConfig(**{k: v for k, v in capacity.items() if v is not None}),
    )
    data = load_data(
        args.dataset,
        root=args.data_root,
        seed=config.data_seed,
        options=data_options(args),
        download=args.download,
        quiet=quiet,
    )
    trainer = Trainer(
        config,
        data=data,
        device=args.device,
        channels_last=args.channels_last,
        compile=args.compile,
    )
    selector = None
    if args.select_on:
        from adwp.selection import CheckpointSelector

        selector = CheckpointSelector(
            args.select_on,
            trainer.space,
            data,
            metric=args.select_metric or "val_acc",
            key=args.select_key or "arch",
        )
    elif args.select_key or args.select_metric:
        raise AdwpError("--select-key and --select-metric name columns of the --select-on table")
    callbacks = [] if selector is None else [selector]
    trainer.fit(args.out, resume=args.resume, quiet=quiet, callbacks=callbacks)
    if not quiet:
        print(f"wrote {args.out} after {trainer.step} steps")
        if selector is not None:
            if selector.best_step is None:
                print("no checkpoint selected: every selection score was constant")
            else:
                print(
                    f"selected step {selector.best_step} (Kendall tau {selector.best_tau:.3f} on "
                    f"{len(selector)} architectures of {args.select_on}) -> {best_path(args.out)}"
                )
    return 0
