"""``adwp rank``: score and rank architectures with a checkpoint (or the mean of several)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from adwp.cli._common import (
    DEVICE_HELP,
    add_threads_flag,
    listing,
    non_negative_int,
    parse_space_options,
)
from adwp.errors import AdwpError
from adwp.io import check_writable, write_json
from adwp.registry import PRETRAINED, PROXIES, SCORE_METRICS
from adwp.usecases import rank


def add_parser(sub: argparse._SubParsersAction) -> None:
    pretrained = listing(PRETRAINED.list())
    proxies = ", ".join(PROXIES.list())
    parser = sub.add_parser(
        "rank", help="score and rank architectures with a checkpoint (or the mean of several)"
    )
    parser.add_argument(
        "--checkpoint",
        action="append",
        help="checkpoint of adwp train; repeat it to average the scores of several training runs",
    )
    parser.add_argument(
        "--pretrained",
        metavar="NAME",
        default=None,
        help=f"a trained evaluator that ships with adwp instead of --checkpoint: {pretrained} "
        "(needs --data-root)",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--archs", help="file: one architecture string per line, or a JSON list")
    group.add_argument("--arch", action="append", help="canonical architecture string (repeatable)")
    group.add_argument("--sample", type=int, help="score N distinct sampled architectures")
    parser.add_argument(
        "--space", default=None, help="space to sample from (default: checkpoint's)"
    )
    parser.add_argument(
        "--space-option",
        action="append",
        metavar="NAME=VALUE",
        help="option of the space --sample draws from (default: the checkpoint's); repeatable",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of --sample and of the BatchNorm calibration images",
    )
    parser.add_argument("--top", type=int, default=10, help="rows of the printed table")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--output", default=None, help="JSON file with archs and scores")
    parser.add_argument(
        "--split", choices=["val", "test"], default="val", help="split to score on (default val)"
    )
    parser.add_argument(
        "--max-images",
        type=int,
        default=None,
        metavar="N",
        help="score on the first N images of the split: faster, noisier per snapshot",
    )
    parser.add_argument(
        "--score-metric",
        choices=SCORE_METRICS.list(),
        default=None,
        help="what a score is: accuracy, neg_log_loss (minus the cross-entropy) or another "
        "registered metric (default: accuracy; with --pretrained, the metric of its reported "
        "ranking)",
    )
    parser.add_argument(
        "--final-weights-only",
        action="store_true",
        help="ignore the checkpoint's weight snapshots and score with its final weights",
    )
    parser.add_argument(
        "--data-root",
        default=None,
        help="folder of on-disk data sets (default: the folder the checkpoint was trained on)",
    )
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    add_threads_flag(parser)
    parser.add_argument(
        "--combine",
        default=None,
        metavar="PROXY,...",
        help="rank by the checkpoint's ranking combined with these zero-cost proxies' (AZ-NAS's "
        f"sum of log(rank / n)), of {proxies}: e.g. synflow,jacob_cov; the scores are relative "
        "to the architectures ranked together",
    )
    parser.add_argument(
        "--combine-batch",
        type=int,
        default=64,
        metavar="N",
        help="training images in the proxies' one batch (default 64)",
    )
    parser.add_argument(
        "--combine-space-option",
        action="append",
        metavar="NAME=VALUE",
        help="option of the proxies' network, repeatable (default: the checkpoint's kind of space "
        "at its default options, e.g. NB201's C=16, N=5)",
    )
    parser.set_defaults(func=run)


def _combine(args: argparse.Namespace) -> tuple[list[str], dict[str, Any]]:
    """``--combine`` as proxy names and ``--combine-space-option`` as options of the proxies'
    space."""
    if args.combine is None:
        if args.combine_space_option or args.combine_batch != 64:
            raise AdwpError("--combine-batch and --combine-space-option go with --combine NAMES")
        return [], {}
    names = [part.strip() for part in args.combine.split(",") if part.strip()]
    if not names:
        allowed = ", ".join(PROXIES.list())
        raise AdwpError(f"--combine needs proxy names, comma-separated: {allowed}")
    return names, parse_space_options(args.combine_space_option, "--combine-space-option")


def run(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise AdwpError(f"--top must be at least 1, got {args.top}")
    check_writable(args.output, "--output")
    combine, proxy_options = _combine(args)
    result = rank(
        args.arch,
        checkpoints=args.checkpoint or (),
        pretrained=args.pretrained,
        archs_file=args.archs,
        sample=args.sample,
        space=args.space,
        space_options=parse_space_options(args.space_option, "--space-option"),
        seed=args.seed,
        split=args.split,
        max_images=args.max_images,
        metric=args.score_metric,
        snapshots=not args.final_weights_only,
        data_root=args.data_root,
        device=args.device,
        combine=combine,
        combine_batch=args.combine_batch,
        combine_space_options=proxy_options,
        quiet=args.quiet,
    )
    if args.output:
        write_json(args.output, result.to_dict())
    order = result.order(args.top)
    archs, scores, params, flops = result.architectures, result.scores, result.params, result.flops
    if result.combine is not None:
        _print_combined(
            order, scores, dict(result.member_scores), params, flops, archs, result.metric
        )
        return 0
    # The column is named by what a score is: an accuracy, or minus a log loss.
    label = result.metric
    width = max(len(label), 7)
    print(f"{'rank':>4}  {label:>{width}}  {'params':>8}  {'MFLOPs':>8}  architecture")
    for place, i in enumerate(order, 1):
        row = f"{place:>4}  {scores[i]:{width}.4f}  {params[i]:>8}  {flops[i] / 1e6:8.2f}"
        print(f"{row}  {archs[i]}")
    return 0


def _print_combined(
    order: Any,
    scores: Any,
    members: dict[str, Any],
    params: Sequence[int],
    flops: Sequence[int],
    archs: Sequence[Any],
    metric: str,
) -> None:
    names = list(members)
    print(
        f"combined: sum of log(rank / n) over {names[0]} ({metric}), {', '.join(names[1:])}; "
        f"rank n the best of these n = {len(archs)} architectures (relative to them), ties "
        "averaged; 0: best on every member"
    )
    width = [max(9, len(name)) for name in names]
    header = "".join(f"  {name:>{w}}" for name, w in zip(names, width))
    print(f"{'rank':>4}  {'combined':>8}{header}  {'params':>8}  {'MFLOPs':>8}  architecture")
    for place, i in enumerate(order, 1):
        raw = "".join(f"  {members[n][i]:>{w}.4g}" for n, w in zip(names, width))
        print(
            f"{place:>4}  {scores[i]:8.3f}{raw}  {params[i]:>8}  {flops[i] / 1e6:8.2f}  {archs[i]}"
        )
