"""Command-line interface: ``adwp space | train | rank | groundtruth | correlate | search``.

Errors a user can cause end in a one-line message on stderr and exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from adwp.errors import AdwpError
from adwp.registry import (
    DATASETS,
    DIFFERENTIABLE_SEARCHERS,
    GENERATORS,
    GRADIENT_ESTIMATORS,
    PRETRAINED,
    PROXIES,
    SAMPLERS,
    SCORE_METRICS,
    SEARCHERS,
    SPACES,
)

__all__ = ["build_parser", "main"]


def _number_type(convert: Callable[[str], Any], ok: Callable[[Any], bool], what: str) -> Any:
    """An argparse type: ``convert`` the text, then refuse it unless ``ok``, naming ``what``."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


# Seeds (numpy refuses negative seeds deep in a run), counts such as --threads, and shares.
_non_negative_int = _number_type(int, lambda v: v >= 0, "a non-negative integer")
_positive_int = _number_type(int, lambda v: v >= 1, "a positive integer")
_share = _number_type(float, lambda v: 0 <= v <= 1, "a share in [0, 1]")


def _read_text(path: str, what: str) -> str:
    file = Path(path)
    if file.is_dir():
        raise AdwpError(f"{what} {path} is a folder, not a file")
    # Not is_file(): a pipe such as bash's <(...) is a fine source of text too.
    if not file.exists():
        raise AdwpError(f"{what} not found: {path}")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AdwpError(f"{what} {path} is not a UTF-8 text file") from None


def _check_output(path: str | None, flag: str) -> None:
    """Fails before any work when an output file could not be written at the end."""
    if path is None:
        return
    out = Path(path)
    if out.is_dir():
        raise AdwpError(f"{flag} {path} is a folder; give a file name")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise AdwpError(f"{flag} {path}: {parent} is not a folder")


def _space_command(args: argparse.Namespace) -> int:
    from adwp.spaces import get_space

    space = get_space(args.space, **_space_options(args))
    import numpy as np

    example = space.sample(np.random.default_rng(args.seed))
    info = {
        "space": args.space,
        "size": space.size(),
        "choices": space.choices(),
        "options": space.config(),
        "example": example.to_string(),
        "example_params": space.params(example),
        "example_flops": space.flops(example),
        "largest": space.largest().to_string(),
        "smallest": space.smallest().to_string(),
    }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:>15}: {value}")
    return 0


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


def _train_command(args: argparse.Namespace) -> int:
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

    _check_output(args.out, "--out")
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
        space_options=_space_options(args),
        seed=args.seed,
        model=args.model,
        **{name: value for name, value in given.items() if value is not None},
        hypernet=HyperNetConfig(**{k: v for k, v in capacity.items() if v is not None}),
    )
    data = _load_data(args, args.dataset, config.data_seed, quiet)
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


def _read_archs_file(path: str) -> list[tuple[str, Any]]:
    """The architectures of an ``--archs`` file, each with where it stands (``FILE:LINE``, or
    ``FILE: item N`` of a JSON list), so a bad one is named by its place."""
    text = _read_text(path, "architecture file")
    if text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AdwpError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(data, dict):
            data = data.get("archs")
        if not isinstance(data, list):
            raise AdwpError(f'{path}: expected a JSON list of architectures or {{"archs": [...]}}')
        return [(f"{path}: item {i}", item) for i, item in enumerate(data, 1)]
    return [
        (f"{path}:{number}", line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.startswith("#")
    ]


def _parse_archs(raw: Sequence[tuple[str, Any]], space: Any) -> list[Any]:
    """Architectures of ``space`` from ``(place, canonical string or JSON object)`` pairs (as
    read by ``_read_archs_file``); a bad one is reported with its place."""
    archs = []
    for place, item in raw:
        try:
            if isinstance(item, dict):
                kind = type(space.smallest())
                if not hasattr(kind, "from_dict"):
                    raise AdwpError(
                        f"{space.name} architectures are given as strings, got {item!r}"
                    )
                item = kind.from_dict(item)
            archs.append(space.validate(item))
        except AdwpError as exc:
            raise type(exc)(f"{place}: {exc}") from None
    return archs


def _rank_command(args: argparse.Namespace) -> int:
    import numpy as np

    from adwp.backend import checkpoint_ensemble
    from adwp.evaluator import EvaluatorConfig
    from adwp.spaces import get_space

    if args.sample is not None and args.sample < 1:
        raise AdwpError(f"--sample must be at least 1, got {args.sample}")
    if args.top < 1:
        raise AdwpError(f"--top must be at least 1, got {args.top}")
    if args.max_images is not None and args.max_images < 1:
        raise AdwpError(f"--max-images must be at least 1, got {args.max_images}")
    _check_output(args.output, "--output")
    combine, proxy_options = _parse_combine(args)
    checkpoints = _rank_checkpoints(args)
    metric, max_images = args.score_metric, args.max_images
    if args.pretrained:
        from adwp.pretrained import get_pretrained

        # Scored as its reported ranking was, unless the flags say otherwise.
        item = get_pretrained(args.pretrained)
        metric = metric or item.metric
        max_images = max_images if max_images is not None else item.max_images
    given: list[Any] = []
    if args.sample is None:
        if args.space_option:
            raise AdwpError("--space-option shapes the space of --sample; give --sample N")
        raw = (
            _read_archs_file(args.archs) if args.archs else [("--arch", a) for a in args.arch or []]
        )
        if not raw:
            raise AdwpError("no architectures given")
        # Against each checkpoint's space, read without its weights: an architecture outside
        # the space is reported before the (possibly large) checkpoints and data load.
        for path in checkpoints:
            given = _parse_archs(raw, _checkpoint_space(path))
    _reading_status(args, _checkpoint_dataset(checkpoints[0]), args.quiet)
    ensemble = checkpoint_ensemble(
        checkpoints,
        data_root=args.data_root,
        device=args.device,
        config=EvaluatorConfig(
            split=args.split,
            seed=args.seed,
            snapshots=not args.final_weights_only,
            max_images=max_images,
            metric=metric or "accuracy",
        ),
    )
    evaluator = ensemble.members[0]
    space = evaluator.space
    if args.sample is not None:
        source = space
        if args.space is not None or args.space_option:
            name = args.space or space.name
            source = get_space(name, **_options_like(space, name), **_space_options(args))
        archs = source.sample_many(args.sample, np.random.default_rng(args.seed))
    else:
        archs = given
    archs = [space.validate(a) for a in archs]
    passes = sum(member.num_snapshots for member in ensemble.members)
    _status(
        f"scoring {len(archs)} architectures on {evaluator.num_images} images, once per weight "
        f"snapshot ({passes}), each pass after recomputing the network's BatchNorm statistics",
        args.quiet,
    )
    members: dict[str, Any] = {}
    if combine:
        from adwp.baselines import CombinedBackend

        combined = CombinedBackend(
            ensemble,
            combine,
            evaluator.data,
            proxy_options=proxy_options,
            batch_size=args.combine_batch,
            seed=args.seed,
            name=evaluator.train_config.model if evaluator.train_config else "evaluator",
        )
        members = combined.member_scores(archs, progress=not args.quiet)
        scores = combined.combine(members)
    else:
        scores = ensemble.score(archs, progress=not args.quiet)
    params = [space.params(a) for a in archs]
    flops = [space.flops(a) for a in archs]
    if args.output:
        _write_output(
            args.output,
            {
                "archs": [a.to_string() for a in archs],
                "scores": [float(s) for s in scores],
                "params": params,
                "flops": flops,
                **_rank_sources(checkpoints, ensemble.members),
                **({"pretrained": args.pretrained} if args.pretrained else {}),
                "split": args.split,
                "seed": args.seed,
                "metric": evaluator.config.metric,
                "images": evaluator.num_images,
                "space": {"name": space.name, "options": space.config()},
                **(_combine_entry(combined, members, len(archs)) if combine else {}),
            },
        )
    order = np.argsort(-scores, kind="stable")[: args.top]
    if combine:
        _print_combined(order, scores, members, params, flops, archs, evaluator.config.metric)
        return 0
    # The column is named by what a score is: an accuracy, or minus a log loss.
    label = evaluator.config.metric
    width = max(len(label), 7)
    print(f"{'rank':>4}  {label:>{width}}  {'params':>8}  {'MFLOPs':>8}  architecture")
    for place, i in enumerate(order, 1):
        row = f"{place:>4}  {scores[i]:{width}.4f}  {params[i]:>8}  {flops[i] / 1e6:8.2f}"
        print(f"{row}  {archs[i]}")
    return 0


_AGGREGATION = "sum over members of log(rank / n), rank n the best, ties averaged (AZ-NAS)"


def _parse_combine(args: argparse.Namespace) -> tuple[list[str], dict[str, Any]]:
    """``--combine`` as proxy names and ``--combine-space-option`` as options of the proxies'
    space, checked before any checkpoint or data set is loaded."""
    if args.combine is None:
        if args.combine_space_option or args.combine_batch != 64:
            raise AdwpError("--combine-batch and --combine-space-option go with --combine NAMES")
        return [], {}
    names = [part.strip() for part in args.combine.split(",") if part.strip()]
    allowed = ", ".join(PROXIES.list())
    if not names:
        raise AdwpError(f"--combine needs proxy names, comma-separated: {allowed}")
    for name in names:
        if name not in PROXIES:
            raise AdwpError(f"--combine: unknown proxy {name!r}; allowed: {allowed}")
        if names.count(name) > 1:
            raise AdwpError(f"--combine names {name!r} twice")
    if args.combine_batch < 1:
        raise AdwpError(f"--combine-batch must be at least 1, got {args.combine_batch}")
    return names, _parse_space_options(args.combine_space_option, "--combine-space-option")


def _combine_entry(combined: Any, members: dict[str, Any], n: int) -> dict[str, Any]:
    """What ``rank --combine --output`` adds: each member's raw scores and how they combine."""
    proxy_space = combined.proxy_space
    return {
        "combine": {
            "members": list(members),
            "aggregation": _AGGREGATION,
            "relative_to": f"the {n} architectures of this file",
            "proxy_space": {"name": proxy_space.name, "options": proxy_space.config()},
            "proxy_batch": combined.batch_size,
            "proxy_seed": combined.seed,
        },
        # -inf, a proxy's lowest possible score, has no JSON spelling: null.
        "member_scores": {
            name: [float(v) if math.isfinite(v) else None for v in values]
            for name, values in members.items()
        },
    }


def _print_combined(
    order: Any,
    scores: Any,
    members: dict[str, Any],
    params: list[int],
    flops: list[int],
    archs: list[Any],
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


def _rank_checkpoints(args: argparse.Namespace) -> list[str]:
    """The checkpoint files of ``--checkpoint``, or the shipped one of ``--pretrained``."""
    if bool(args.checkpoint) == bool(args.pretrained):
        raise AdwpError("give --checkpoint (repeatable) or --pretrained NAME, not both")
    if args.checkpoint:
        return list(args.checkpoint)
    from adwp.pretrained import check_pretrained, get_pretrained

    item = get_pretrained(args.pretrained)
    if args.space is not None and args.space != item.space:
        raise AdwpError(
            f"--pretrained {item.name} scores {item.space} architectures, not --space {args.space}"
        )
    if args.data_root is None:
        raise AdwpError(
            f"--pretrained {item.name} scores on {item.dataset} images: give their folder with "
            "--data-root"
        )
    return [str(check_pretrained(item))]


def _checkpoint_space(path: str) -> Any:
    """The search space a checkpoint was trained on, read without loading its tensors."""
    from adwp.checkpoint import read_checkpoint_header
    from adwp.errors import CheckpointError
    from adwp.spaces import get_space

    header = read_checkpoint_header(path)
    try:
        return get_space(header["space"]["name"], **header["space"]["options"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {path} has an unreadable space entry: {exc}") from None


def _data_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--image-size``, ``--train-size``, ``--val-size`` and ``--data-cache`` as data set options,
    when given; left out, the loader's defaults apply."""
    options: dict[str, Any] = {}
    for flag, name in (
        ("--image-size", "image_size"),
        ("--train-size", "train_size"),
        ("--val-size", "val_size"),
    ):
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                raise AdwpError(f"{flag} must be at least 1, got {value}")
            options[name] = value
    if args.data_cache is not None:
        # Absolute, so rank finds the same cache from any working folder.
        options["cache_dir"] = str(Path(args.data_cache).expanduser().resolve())
    return options


def _status(message: str, quiet: bool) -> None:
    """A line on stderr before a long step that shows no progress bar."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _reading_status(args: argparse.Namespace, dataset: dict[str, Any], quiet: bool) -> None:
    """Says that a data set is read from a folder (seconds to a minute with no progress bar).

    ``dataset`` is a checkpoint's ``dataset`` entry, or one like it; ``--data-root`` overrides
    its folder. Nothing is said for the embedded data sets or a folder that is not there, which
    ends in a one-line error instead.
    """
    root = getattr(args, "data_root", None) or dataset.get("root")
    if root is None or not Path(root).is_dir():
        return
    name = dataset.get("name", "the data set")
    cached = getattr(args, "data_cache", None) or (dataset.get("options") or {}).get("cache_dir")
    hint = ""
    if name == "cifar10" and not cached and hasattr(args, "data_cache"):
        hint = "; image folders take a while to decode (--data-cache DIR keeps them decoded)"
    _status(f"reading {name} images from {root}{hint}", quiet)


def _checkpoint_dataset(path: str) -> dict[str, Any]:
    """A checkpoint's ``dataset`` entry, read without its tensors."""
    from adwp.checkpoint import read_checkpoint_header

    dataset = read_checkpoint_header(path).get("dataset")
    return dataset if isinstance(dataset, dict) else {}


def _load_data(args: argparse.Namespace, dataset: str, seed: int, quiet: bool) -> Any:
    """The data set of a command's data flags; says so first when it is read from a folder."""
    from adwp.data import get_dataset
    from adwp.errors import DataNotFoundError

    _reading_status(args, {"name": dataset, "root": args.data_root}, quiet)
    download = getattr(args, "download", False)
    try:
        return get_dataset(
            dataset, root=args.data_root, download=download, seed=seed, **_data_options(args)
        )
    except DataNotFoundError as exc:
        if not hasattr(args, "download"):
            raise
        # Only the commands that have the flag suggest it.
        raise DataNotFoundError(
            f"{exc}; --download fetches torchvision's copy into it (needs network access)"
        ) from None


def _rank_sources(paths: list[str], evaluators: list[Any]) -> dict[str, Any]:
    """What ``rank --output`` says about where its scores come from."""
    if len(paths) == 1:
        return {"checkpoint": str(paths[0]), "snapshots": evaluators[0].num_snapshots}
    # An ensemble: the keys of one checkpoint would misdescribe it, so it gets its own.
    return {
        "checkpoints": [
            {"path": str(path), "snapshots": evaluator.num_snapshots}
            for path, evaluator in zip(paths, evaluators)
        ]
    }


def _options_like(space: Any, name: str) -> dict[str, Any]:
    """The options of ``space`` that the space ``name`` takes too: the data shape, and e.g. a
    macro space's stage widths for the layer-assignment space sampled from it."""
    from adwp.spaces import space_options

    return {k: v for k, v in space.config().items() if k in space_options(name)}


def _space_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--space-option NAME=VALUE`` flags as keyword options of the space; a value is read as
    JSON where it parses (``8``, ``[8,16,32]``) and as a string otherwise."""
    return _parse_space_options(args.space_option, "--space-option")


def _parse_space_options(items: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """``NAME=VALUE`` items of ``flag`` as keyword options of a space (see ``_space_options``)."""
    from adwp.spaces import DATA_SHAPE

    options: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise AdwpError(f"{flag} must look like NAME=VALUE (e.g. channels=8), got {item!r}")
        if name in DATA_SHAPE:
            raise AdwpError(
                f"{flag} {name}: set by the data set (--dataset, --image-size), not here"
            )
        try:
            options[name] = json.loads(text)
        except json.JSONDecodeError:
            options[name] = text
    return options


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


def _groundtruth_command(args: argparse.Namespace) -> int:
    import numpy as np

    from adwp.device import resolve_device
    from adwp.groundtruth import Recipe, merge_tables, run_groundtruth
    from adwp.spaces import get_space

    if args.action == "merge":
        if not args.inputs or not args.output:
            raise AdwpError("merge needs shard files and --output")
        rows = merge_tables(args.inputs, args.output)
        print(f"wrote {len(rows)} rows to {args.output}")
        return 0
    if args.inputs:
        raise AdwpError(f"unexpected arguments {args.inputs}; did you mean 'groundtruth merge'?")
    if args.output is None or (args.sample is None) == (args.archs is None):
        raise AdwpError("groundtruth needs --output and exactly one of --sample N or --archs FILE")
    _check_output(args.output, "--output")
    device = resolve_device(args.device)
    if args.seeds < 1 or args.epochs < 1:
        raise AdwpError("--seeds and --epochs must be at least 1")
    shard = _parse_shard(args.shard)
    data = _load_data(args, args.dataset, args.data_seed, args.quiet)
    space = get_space(args.space, **_data_shape(data), **_space_options(args))
    if args.sample is not None:
        if args.sample < 1:
            raise AdwpError(f"--sample must be at least 1, got {args.sample}")
        archs = space.sample_many(args.sample, np.random.default_rng(args.seed))
    else:
        archs = _parse_archs(_read_archs_file(args.archs), space)
    recipe = Recipe(epochs=args.epochs)
    rows = run_groundtruth(
        space,
        archs,
        data,
        recipe,
        range(args.seeds),
        args.output,
        data_seed=args.data_seed,
        shard=shard,
        device=device,
        quiet=args.quiet,
    )
    if not args.quiet:
        print(f"{args.output}: {len(rows)} rows")
    return 0


def _data_shape(data: Any) -> dict[str, int]:
    """The space options a data set sets, read from it."""
    from adwp.spaces import DATA_SHAPE

    return {name: getattr(data, name) for name in DATA_SHAPE}


def _describe_scores(data: dict[str, Any]) -> str:
    """What a scores file says its scores are, for axis labels; "score" when it says nothing."""
    combined = data.get("combine")
    if isinstance(combined, dict) and isinstance(combined.get("members"), list):
        return f"rank combination of {', '.join(map(str, combined['members']))}"
    if isinstance(data.get("metric"), str):
        return data["metric"]
    split = f" on the {data['split']} split" if isinstance(data.get("split"), str) else ""
    if isinstance(data.get("checkpoint"), str):
        return f"{Path(data['checkpoint']).name}{split}"
    if isinstance(data.get("checkpoints"), list):
        return f"ensemble of {len(data['checkpoints'])} checkpoints{split}"
    return "score"


def _read_scores(path: str) -> tuple[dict[str, float], dict[str, float], str]:
    """Reads a scores file: ``{arch: score}``, ``{arch: #params}`` and what the scores are."""
    text = _read_text(path, "scores file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdwpError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("archs"), list):
        raise AdwpError(f'{path}: expected {{"archs": [...], "scores": [...]}} as written by rank')
    archs, values = data["archs"], data.get("scores")
    if not isinstance(values, list) or len(values) != len(archs):
        raise AdwpError(f"{path}: 'scores' must be a list as long as 'archs' ({len(archs)})")
    scores: dict[str, float] = {}
    for arch, value in zip(archs, values):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AdwpError(f"{path}: score of {arch!r} is not a number: {value!r}")
        if not math.isfinite(value):
            raise AdwpError(f"{path}: score of {arch!r} is not a finite number: {value!r}")
        if str(arch) in scores and scores[str(arch)] != value:
            raise AdwpError(f"{path}: {arch!r} appears twice with different scores")
        scores[str(arch)] = float(value)
    params = data.get("params")
    sizes: dict[str, float] = {}
    if params is None:
        return scores, sizes, _describe_scores(data)
    if not isinstance(params, list) or len(params) != len(archs):
        raise AdwpError(f"{path}: 'params' must be a list as long as 'archs' ({len(archs)})")
    for arch, value in zip(archs, params):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and 0 < value < math.inf):
            raise AdwpError(f"{path}: params of {arch!r} is not a positive number: {value!r}")
        sizes[str(arch)] = float(value)
    return scores, sizes, _describe_scores(data)


def _correlate_command(args: argparse.Namespace) -> int:
    from adwp.groundtruth import read_truth
    from adwp.metrics import compare_scores, correlation_report

    _check_output(args.output, "--output")
    _check_output(args.plot, "--plot")
    if args.plot and len(args.scores) > 1:
        raise AdwpError("--plot draws one scores file; give a single --scores or leave out --plot")
    if args.bins < 2:
        raise AdwpError(f"--bins must be at least 2 (4: quartiles), got {args.bins}")
    if not 0 < args.top_percent <= 100:
        raise AdwpError(f"--top-percent must be in (0, 100], got {args.top_percent:g}")
    if args.resamples < 1:
        raise AdwpError(f"--resamples must be at least 1, got {args.resamples}")
    top_k = _parse_top_k(args.top_k)
    table = read_truth(args.truth, key=args.key, metric=args.metric)
    files = [(path, *_read_scores(path)) for path in args.scores]
    control, control_name = _read_control(args, files, table)
    options = {
        "metric": args.metric,
        "n_resamples": args.resamples,
        "seed": args.seed,
        "control": control,
        "control_name": control_name,
        "bins": args.bins,
        "top_k": top_k,
        "top_percent": args.top_percent,
    }
    # #params belong to the architectures: one file's list serves every file.
    sizes: dict[str, float] = {}
    for _, _, file_sizes, _ in files:
        sizes.update(file_sizes)
    for _, scores, _, _ in files:
        # Before any work: a truth missing many of the scored architectures is the wrong table.
        table.check_covers(scores, args.max_unmatched)
    reports = []
    for path, scores, _, _ in files:
        report = correlation_report(table.rows(), scores, params=sizes or None, **options)
        reports.append({"scores_file": path, **report})
    comparison = None
    if len(files) > 1:
        labels = _file_labels(args.scores)
        truth = table.mean()
        if control is None:
            # #params, as in each report, where they are known for every architecture.
            control = _known_sizes(files, table)
            common = set(truth).intersection(*(scores for _, scores, _, _ in files))
            control = control if common <= set(control) else None
        comparison = compare_scores(
            {label: scores for label, (_, scores, _, _) in zip(labels, files)},
            truth,
            control=control,
            control_name=control_name,
            n_resamples=args.resamples,
            seed=args.seed,
        )
        comparison["files"] = dict(zip(labels, args.scores))
    for report in reports:
        for warning in report["warnings"]:
            prefix = f"{report['scores_file']}: " if comparison else ""
            print(f"warning: {prefix}{warning}", file=sys.stderr)
    body = reports[0] if comparison is None else {"reports": reports, "comparison": comparison}
    _write_output(args.output, body)
    if args.plot:
        from adwp.plots import plot_correlation

        title = f"{Path(args.scores[0]).name} vs {Path(args.truth).name}"
        plot_correlation(
            reports[0], args.plot, score_label=files[0][3], title=title, seeded=table.seeded
        )
    if comparison is None:
        _print_report(reports[0])
    else:
        _print_comparison(reports, comparison)
    return 0


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_report(report: dict[str, Any]) -> None:
    """The printed summary of one ``correlate`` report."""
    ceiling = report["noise_ceiling"] or {}
    halves = report["noise_ceiling_split_half"] or {}
    print(f"n={report['n']} ({len(report['unmatched'])} scored archs not in the truth)")
    print(
        "ceiling: single seed vs single seed; split-half: mean of half the seeds vs the other half"
    )
    print(f"{'metric':<22}{'score':>8}{'ceiling':>9}{'split-half':>11}")
    for key in ("kendall_tau", "spearman", "weighted_tau", "partial_tau", "tau_within_size_bins"):
        values = (report.get(key), ceiling.get(key), halves.get(key))
        print(f"{key:<22}{_fmt(values[0]):>8}{_fmt(values[1]):>9}{_fmt(values[2]):>11}")
    for key in ("precision_at_k", "ndcg_at_k", "regret_at_k"):
        for k, value in report[key].items():
            name = f"{key.replace('_at_k', '')}@{k}"
            values = (value, ceiling.get(key, {}).get(k), halves.get(key, {}).get(k))
            print(f"{name:<22}{_fmt(values[0]):>8}{_fmt(values[1]):>9}{_fmt(values[2]):>11}")
    section = report["control"]
    name = section["name"] if section else "control"
    if section:
        ci = section["partial_tau_ci"]
        interval = f"  95% CI [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        bins = section["bins"]
        print(f"control: {name} (Kendall tau of {name} alone: {_fmt(section['kendall_tau'])})")
        print(f"{'partial tau given it':<22}{_fmt(section['partial_tau']):>8}{interval}")
        per_bin = " ".join(_fmt(t) for t in bins["tau"])
        print(
            f"{'tau within its bins':<22}{_fmt(bins['mean']):>8}  per bin, lowest {name} first: "
            f"{per_bin} (n {' '.join(map(str, bins['n']))})"
        )
    print(f"{'mean truth of top k':<22}{'score':>8}{name[:10]:>11}{'best':>9}")
    for k, entry in report["top_k_mean"].items():
        values = (entry["score"], entry["control"], entry["best"])
        print(f"{'  k=' + k:<22}{_fmt(values[0]):>8}{_fmt(values[1]):>11}{_fmt(values[2]):>9}")
    top = report["precision_at_top_percent"]
    label = f"P@top {top['percent']:g}% (k={top['k']})"
    print(f"{label:<22}{_fmt(top['score']):>8}{_fmt(top['control']):>11}{1.0:>9.3f}")


def _print_comparison(reports: list[dict[str, Any]], comparison: dict[str, Any]) -> None:
    """The printed summary of several scores files and their paired comparison."""
    labels = list(comparison["files"])
    width = max(len(label) for label in [*labels, "file"]) + 2
    top = reports[0]["precision_at_top_percent"]["percent"]
    given = (reports[0]["control"] or {}).get("name", "-")
    print(
        f"{'file':<{width}}{'n':>6}  {'kendall_tau [95% CI]':<24}"
        f"{f'partial tau | {given}':<24}{f'P@top {top:g}%':>10}"
    )
    for label, report in zip(labels, reports):
        section = report["control"] or {}

        def with_ci(value: Any, ci: Any) -> str:
            return _fmt(value) + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

        tau = with_ci(report["kendall_tau"], report["ci"]["kendall_tau"])
        partial = with_ci(section.get("partial_tau"), section.get("partial_tau_ci"))
        p_top = _fmt(report["precision_at_top_percent"]["score"])
        print(f"{label:<{width}}{report['n']:>6}  {tau:<24}{partial:<24}{p_top:>10}")
    given = f", partial tau given {comparison['control']}" if comparison["control"] else ""
    print(
        f"paired bootstrap on the {comparison['n']} architectures in every file and the truth "
        f"({comparison['n_resamples']} resamples, seed {comparison['seed']}{given}); "
        "ahead: the 95% interval of the difference excludes 0, level: it holds 0"
    )
    print(
        f"{'statistic':<13}{'better':<{width}}{'other':<{width}}{'difference':>10}  "
        f"{'95% CI':<18}verdict"
    )
    for pair in comparison["pairs"]:
        low, high = pair["ci"]
        print(
            f"{pair['statistic']:<13}{pair['first']:<{width}}{pair['second']:<{width}}"
            f"{pair['difference']:>+10.3f}  {f'[{low:+.3f}, {high:+.3f}]':<18}{pair['verdict']}"
        )


def _parse_top_k(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise AdwpError(
            f"--top-k must be comma-separated positive integers (e.g. 10,50,100), got {text!r}"
        )
    return values


def _file_labels(paths: Sequence[str]) -> list[str]:
    """Short names of scores files: their file names, or their paths where names repeat."""
    names = [Path(p).name for p in paths]
    if len(set(paths)) < len(paths):
        raise AdwpError("a scores file is given twice to --scores")
    return names if len(set(names)) == len(names) else list(paths)


def _known_sizes(files: Sequence[tuple[Any, ...]], table: Any) -> dict[str, float]:
    """#params from the truth's params column, overridden by the scores files' params lists."""
    sizes = dict(table.params or {})
    for _, _, file_sizes, _ in files:
        sizes.update(file_sizes)
    return sizes


_CONTROLS = ("params", "flops")


def _read_control(
    args: argparse.Namespace, files: Sequence[tuple[Any, ...]], table: Any
) -> tuple[dict[str, float] | None, str]:
    """``--control``: ``{arch: value}`` and its name; None for the default (#params where known).

    ``params`` come from the scores files and the truth's params column; ``flops`` from the
    scores files' flops lists, the space a file names, or the truth's flops column; anything
    else names a scores file whose scores are the control.
    """
    choice = args.control
    if choice is None:
        return None, "params"
    if choice == "params":
        sizes = _known_sizes(files, table)
        if not sizes:
            raise AdwpError(
                f"--control params: no #params in the scores files (a 'params' list) nor in "
                f"{args.truth} (a 'params' column)"
            )
        return sizes, "params"
    if choice == "flops":
        from adwp.errors import DataError
        from adwp.groundtruth import read_truth

        flops: dict[str, float] = {}
        # A table without a flops column is fine: the scores files may have them.
        with contextlib.suppress(DataError):
            flops.update(read_truth(args.truth, key=args.key, metric="flops").mean())
        for path, scores, _, _ in files:
            flops.update(_read_flops(path, list(scores)))
        if not flops:
            raise AdwpError(
                f"--control flops: no FLOPs in the scores files (a 'flops' list, as rank writes, "
                f"or a 'space' to compute them in) nor in {args.truth} (a 'flops' column)"
            )
        return flops, "flops"
    if not Path(choice).exists():
        raise AdwpError(
            f"--control {choice!r}: not one of {', '.join(_CONTROLS)} and no such scores file"
        )
    scores, _, _ = _read_scores(choice)
    return scores, Path(choice).name


def _read_flops(path: str, archs: list[str]) -> dict[str, float]:
    """FLOPs of a scores file's architectures: its ``flops`` list, or computed in the space it
    names (``"space": NAME`` or ``{"name": NAME, "options": {...}}``); empty if neither."""
    data = json.loads(_read_text(path, "scores file"))
    flops = data.get("flops")
    if flops is not None:
        if not isinstance(flops, list) or len(flops) != len(data["archs"]):
            raise AdwpError(f"{path}: 'flops' must be a list as long as 'archs' ({len(archs)})")
        out = {}
        for arch, value in zip(data["archs"], flops):
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (number and 0 < value < math.inf):
                raise AdwpError(f"{path}: flops of {arch!r} is not a positive number: {value!r}")
            out[str(arch)] = float(value)
        return out
    named = data.get("space")
    if named is None:
        return {}
    from adwp.spaces import get_space

    if isinstance(named, str):
        named = {"name": named}
    if not isinstance(named, dict) or not isinstance(named.get("options", {}), dict):
        raise AdwpError(f"{path}: 'space' must be a name or {{'name': ..., 'options': {{...}}}}")
    try:
        space = get_space(str(named.get("name")), **named.get("options", {}))
        return {arch: float(space.flops(space.validate(arch))) for arch in archs}
    except AdwpError as exc:
        raise AdwpError(f"{path}: flops in its space: {exc}") from None


def _parse_coefficients(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise AdwpError(
            f"--coefficients must be comma-separated numbers (e.g. 0,0.1,0.3), got {text!r}"
        ) from None
    if not values:
        raise AdwpError("--coefficients needs at least one number")
    return values


def _search_backend_and_space(args: argparse.Namespace) -> tuple[Any, Any]:
    """The backend of ``--backend`` and the space to search (the backend's, or ``--space``)."""
    from adwp.backend import BackendContext, load_backend
    from adwp.spaces import get_space

    data = base = None
    dataset = args.dataset or "mnist5k"
    if not args.backend.startswith(("hypernet:", "supernet:")):
        name = "macro" if args.space is None else args.space
        if args.backend.startswith("table:") and args.dataset is None:
            # A table needs no images: the space keeps its own default shape.
            base = get_space(name, **_space_options(args))
        else:
            # Proxies (and tables given --dataset) carry no space: shape it like the data set.
            data = _load_data(args, dataset, 0, args.quiet)
            base = get_space(name, **_data_shape(data), **_space_options(args))
    context = BackendContext(
        space=base,
        data=data,
        dataset=dataset,
        data_root=args.data_root,
        device=args.device,
        seed=args.seed,
        missing=args.missing or "error",
        table_key=args.key or "arch",
        table_metric=args.metric or "val_acc",
    )
    backend = load_backend(args.backend, context)
    if base is None:
        base = backend.space
        if args.space is not None or args.space_option:
            name = args.space or base.name
            base = get_space(name, **_options_like(base, name), **_space_options(args))
    if args.method != "layer-assignment" and hasattr(base, "min_total_depth"):
        # Limit a layer-assignment space's total depth, e.g. to the range a table covers.
        low = base.min_total_depth if args.min_depth is None else args.min_depth
        high = base.max_total_depth if args.max_depth is None else args.max_depth
        base = get_space(
            "layer-assignment", **{**base.config(), "min_total_depth": low, "max_total_depth": high}
        )
    return backend, base


def _search_score_label(spec: str, metric: str | None = None) -> str:
    """Names the score a backend spec gives, for plot axes."""
    kind, _, argument = spec.partition(":")
    if kind in ("hypernet", "supernet"):
        return f"{kind} score (accuracy of its weights)"
    if kind == "table":
        return f"ground truth from table ({metric or 'val_acc'})"
    if kind == "proxy":
        return f"zero-cost proxy {argument}"
    return f"{kind} score"


def _run_layer_assignment(
    args: argparse.Namespace, backend: Any, base: Any, table: Any
) -> tuple[dict[str, Any], list[tuple[Any, dict[str, Any]]]]:
    from adwp.search.layer_assignment import LayerAssignmentSearch, layer_assignment_space_like

    search = LayerAssignmentSearch(
        backend, layer_assignment_space_like(base), beam=args.beam, seed=args.seed, quiet=args.quiet
    )
    run = search.architecture_dataset if args.exhaustive else search.run
    out = run(args.min_depth, args.max_depth).to_dict()
    if args.plot:
        from adwp.plots import plot_layer_assignment

        truth = None
        if args.truth:  # the backend's own table would only repeat the scores
            from adwp.search import truth_records

            truth = {
                "-".join(map(str, search.space.validate(r["arch"]).depths)): r["score"]
                for r in truth_records(table.truth, search.space)
            }
        plot_layer_assignment(
            out, args.plot, truth=truth, label=_search_score_label(args.backend, args.metric)
        )
    return out, [(d["depth"], d["best"]) for d in out["depths"]]


def _run_importance_sampling(
    args: argparse.Namespace, backend: Any, base: Any, table: Any
) -> tuple[dict[str, Any], list[tuple[Any, dict[str, Any]]]]:
    from adwp.search.importance_sampling import ImportanceSamplingSearch

    search = ImportanceSamplingSearch(
        backend,
        base,
        coefficients=_parse_coefficients(args.coefficients),
        samples=args.samples,
        complexity=args.complexity,
        pool=not args.independent,
        seed=args.seed,
        quiet=args.quiet,
    )
    out = {"pick": args.pick, **search.run(args.iterations).to_dict()}
    # --pick chooses which of the two picks per coefficient the table and the plot show.
    shown = [{"coefficient": c["coefficient"], **c[args.pick]} for c in out["per_coefficient"]]
    if args.plot:
        from adwp.plots import plot_pareto, plot_trajectory
        from adwp.search import truth_records

        truth = truth_records(table.truth, base) if table is not None else None
        plot_pareto(
            out["evaluated"],
            shown,
            args.plot,
            complexity=args.complexity,
            truth=truth,
            label=_search_score_label(args.backend, args.metric),
            pick_label=f"{args.pick} per eps",
        )
        trajectory_path = Path(args.plot).with_name(Path(args.plot).stem + "_trajectory.png")
        plot_trajectory(out["trajectory"], search.coefficients, trajectory_path)
    return out, [(f"eps={p['coefficient']:g}", p) for p in shown]


def _run_registered(
    args: argparse.Namespace, backend: Any, base: Any, table: Any
) -> tuple[dict[str, Any], list[tuple[Any, dict[str, Any]]]]:
    """Runs a searcher of :data:`adwp.registry.SEARCHERS` as its options say (random,
    evolution, and any registered by user code)."""
    entry = SEARCHERS.info(args.method)
    settings = {name: getattr(args, name) for name in entry.options.get("settings", ())}
    searcher = entry.value(backend, base, seed=args.seed, quiet=args.quiet, **settings)
    result = searcher.run(*(getattr(args, name) for name in entry.options.get("needs", ())))
    if args.plot:
        from adwp.plots import plot_search_history

        if not hasattr(result, "history"):
            raise AdwpError(f"--plot: the {args.method} searcher records no history to draw")
        plot_search_history(
            result.history,
            args.plot,
            title=f"{args.method}: {args.backend}",
            label=_search_score_label(args.backend, args.metric),
        )
    out = result.to_dict()
    return out, [("best", out["best"])]


# Searchers whose command-line output (plots, summary) is their own; the others of
# adwp.registry.SEARCHERS run through _run_registered.
_SEARCH_RUNNERS = {
    "layer-assignment": _run_layer_assignment,
    "importance-sampling": _run_importance_sampling,
}
# The one searcher that steps through a trained weight generator rather than a backend.
_GENERATOR_GRADIENT = "hypernet-gradient"


def _write_output(output: str, out: dict[str, Any]) -> Path:
    """Writes a command's JSON atomically: a kill leaves the previous file or the new one."""
    from adwp.io import write_json

    return write_json(output, out)


def _differentiable_command(args: argparse.Namespace) -> int:
    """``adwp search darts|itnas|entrannas``: a bi-level search trained here, no backend."""
    from adwp.device import resolve_device
    from adwp.groundtruth import read_truth
    from adwp.search.differentiable import DifferentiableConfig, DifferentiableSearch
    from adwp.spaces import get_space

    if args.backend is not None:
        raise AdwpError(f"{args.method} search trains its own network; give no --backend")
    if args.truth is None and (args.key or args.metric):
        raise AdwpError("--key and --metric name columns of --truth; give --truth")
    for flag, value in (
        ("--generator", args.generator),
        ("--estimator", args.estimator),
        ("--final-weights-only", args.final_weights_only or None),
    ):
        if value is not None:
            raise AdwpError(f"{flag} applies to hypernet-gradient search only")
    config = DifferentiableConfig(
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch or DifferentiableConfig.steps_per_epoch,
        batch_size=args.batch_size or DifferentiableConfig.batch_size,
        second_order=args.second_order,
        seed=args.seed,
    )
    truth = None
    if args.truth:
        table = read_truth(args.truth, key=args.key or "arch", metric=args.metric or "val_acc")
        truth = table.mean()
    data = _load_data(args, args.dataset or "cifar10", args.seed, args.quiet)
    space = get_space(args.space or "nb201", **_data_shape(data), **_space_options(args))
    search = DifferentiableSearch(space, data, args.method, config, resolve_device(args.device))
    result = search.run(checkpoint=args.checkpoint, truth=truth, progress=not args.quiet)
    out = {
        "method": args.method,
        "seed": args.seed,
        "space": space.config(),
        "operations": list(space.decisions()[0].choices),
        **result.to_dict(),
    }
    return _finish_differentiable(args, out, truth)


def _hypernet_gradient_command(args: argparse.Namespace) -> int:
    """``adwp search hypernet-gradient``: gradient search through a trained weight generator."""
    from adwp.device import resolve_device
    from adwp.generator import open_generator
    from adwp.groundtruth import read_truth
    from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch

    if args.backend is not None:
        raise AdwpError("hypernet-gradient search reads --generator CKPT|NAME, not --backend")
    if args.generator is None:
        raise AdwpError(
            "hypernet-gradient search needs --generator: a checkpoint of adwp train or a "
            f"shipped evaluator's name ({', '.join(PRETRAINED.list())})"
        )
    if args.space_option:
        raise AdwpError("--space-option: hypernet-gradient searches the generator's own space")
    if args.second_order:
        raise AdwpError("--second-order: hypernet-gradient trains no weights to step through")
    if args.truth is None and (args.key or args.metric):
        raise AdwpError("--key and --metric name columns of --truth; give --truth")
    config = HypernetGradientConfig(
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch or HypernetGradientConfig.steps_per_epoch,
        batch_size=args.batch_size or HypernetGradientConfig.batch_size,
        estimator=args.estimator or HypernetGradientConfig.estimator,
        snapshots=not args.final_weights_only,
        seed=args.seed,
    )
    opened = open_generator(args.generator, snapshots=config.snapshots, data_root=args.data_root)
    stored = opened.stored
    for flag, given, own in (
        ("--space", args.space, stored.space.name),
        ("--dataset", args.dataset, opened.dataset["name"]),
    ):
        if given is not None and given != own:
            raise AdwpError(f"{flag} {given}: the generator {args.generator} was trained on {own}")
    cache = {"cache_dir": args.data_cache} if args.data_cache else {}
    _reading_status(args, opened.dataset, args.quiet)
    data = opened.load_data(**cache)
    truth = None
    if args.truth:
        table = read_truth(args.truth, key=args.key or "arch", metric=args.metric or "val_acc")
        truth = table.mean()
    search = HypernetGradientSearch(stored, data, config, resolve_device(args.device))
    result = search.run(checkpoint=args.checkpoint, truth=truth, progress=not args.quiet)
    out = {
        "method": args.method,
        "seed": args.seed,
        "generator": args.generator,
        "space": stored.space.config(),
        "operations": list(stored.space.decisions()[0].choices),
        **result.to_dict(),
    }
    return _finish_differentiable(args, out, truth)


def _table_reference(truth: dict[str, float] | None) -> dict[str, float] | None:
    """The --truth table's best and median value, drawn beside a search's found cells."""
    if not truth:
        return None
    import numpy as np

    values = np.array(list(truth.values()), float)
    return {"table's best": float(values.max()), "table's median": float(np.median(values))}


def _finish_differentiable(
    args: argparse.Namespace, out: dict[str, Any], truth: dict[str, float] | None
) -> int:
    """Writes a differentiable search's JSON (and plot) and reports what it found."""
    path = _write_output(args.output, out)
    if args.plot:
        from adwp.plots import plot_differentiable_search

        plot_differentiable_search(out, args.plot, reference=_table_reference(truth))
    if not args.quiet:
        found = f" ({out['truth']} in the table)" if out["truth"] is not None else ""
        print(f"{args.method}: {out['arch']}{found}; wrote {path}")
    return 0


def _search_command(args: argparse.Namespace) -> int:
    from adwp.backend import TableBackend

    _check_output(args.output, "--output")
    _check_output(args.plot, "--plot")
    if args.method == _GENERATOR_GRADIENT:
        return _hypernet_gradient_command(args)
    if args.method in DIFFERENTIABLE_SEARCHERS:
        return _differentiable_command(args)
    if args.backend is None:
        raise AdwpError(f"{args.method} search needs --backend")
    # Checked before the backend loads, so a forgotten flag is reported at once.
    needs = SEARCHERS.info(args.method).options.get("needs", ())
    missing = [n for n in needs if getattr(args, n) is None]
    if missing:
        flags = " and ".join("--" + n.replace("_", "-") for n in needs)
        raise AdwpError(f"{args.method} search needs {flags}")
    if args.coefficients is not None:
        _parse_coefficients(args.coefficients)
    if args.missing is not None and not args.backend.startswith("table:"):
        raise AdwpError(f"--missing applies to table: backends only, not {args.backend!r}")
    for flag, value in (("--key", args.key), ("--metric", args.metric)):
        if value is not None and not (args.backend.startswith("table:") or args.truth):
            raise AdwpError(f"{flag} names a column of table: backends and --truth tables only")
    backend, base = _search_backend_and_space(args)
    columns = {"key": args.key or "arch", "metric": args.metric or "val_acc"}
    table = TableBackend(args.truth, **columns) if args.truth else None
    if isinstance(backend, TableBackend):
        backend.check_space(base)  # a table of another space would fail on every architecture
        table = table or backend
    if args.cache:
        from adwp.backend import CachedBackend

        backend = CachedBackend(backend, args.cache, args.backend)
    run = _SEARCH_RUNNERS.get(args.method, _run_registered)
    out, summary = run(args, backend, base, table)
    out = {"method": args.method, "backend": args.backend, "seed": args.seed, **out}
    path = _write_output(args.output, out)
    if not args.quiet:
        heading = {"layer-assignment": "depth", "importance-sampling": args.pick}
        print(f"{heading.get(args.method, ''):>10}  {'score':>8}  {'params':>10}  architecture")
        for key, pick in summary:
            print(f"{key!s:>10}  {pick['score']:8.4f}  {pick['params']:>10,}  {pick['arch']}")
        skipped = f", {out['skipped']} not in the table" if out.get("skipped") else ""
        print(f"{out['evaluations']} backend evaluations{skipped}; wrote {path}")
    return 0


_DEVICE_HELP = "auto (CUDA when present; the default), cpu, cuda or cuda:N"
_TRAIN_SIZE_HELP = (
    "cifar10/cifar100: train on a stratified, seeded subset of N training images (recorded in "
    "the checkpoint)"
)
_VAL_SIZE_HELP = (
    "cifar10/cifar100: N validation images, held out of the training images (default 5000) or, "
    "with a val/ folder, a stratified subset of it (recorded in the checkpoint)"
)
_DATA_CACHE_HELP = (
    "cifar10 image folders: keep the decoded images in DIR so later runs skip decoding "
    "(recorded in the checkpoint)"
)
_IMAGE_SIZE_HELP = (
    "imagefolder only: side the images are resized and center-cropped to (default 64); the "
    "checkpoint records it, so rank reads the images at the same size"
)
_KEY_HELP = (
    "column of the ground-truth table holding the architecture keys (default arch; e.g. "
    "ArchitectureString in NAS-Bench-201's CSV); rows sharing a key are averaged over the seed "
    "column where there is one, as repeats otherwise"
)
_SPACE_OPTION_HELP = (
    "option of the space, repeatable; the value is JSON (channels=8, base_widths=[8,16,32]); "
    "'adwp space --space NAME' lists them"
)
_METRIC_HELP = (
    "column of the ground-truth table ranked against (default val_acc): any numeric column on "
    "any finite scale (fractions in adwp groundtruth's tables, percentages in NAS-Bench-201's)"
)


def _add_data_flags(parser: argparse.ArgumentParser) -> None:
    """The data set flags ``_data_options`` reads."""
    parser.add_argument("--image-size", type=int, default=None, metavar="N", help=_IMAGE_SIZE_HELP)
    parser.add_argument("--train-size", type=int, default=None, metavar="N", help=_TRAIN_SIZE_HELP)
    parser.add_argument("--val-size", type=int, default=None, metavar="N", help=_VAL_SIZE_HELP)
    parser.add_argument("--data-cache", default=None, metavar="DIR", help=_DATA_CACHE_HELP)


def _add_threads_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="CPU threads of PyTorch's operations (default: PyTorch's, one per core); on cores "
        "shared with other jobs, fewer threads than cores is often faster",
    )


def _set_threads(args: argparse.Namespace) -> None:
    """Applies ``--threads`` before any work, for the commands that have it."""
    if getattr(args, "threads", None) is not None:
        import torch

        torch.set_num_threads(args.threads)


def _listing(names: Sequence[str], default: str | None = None) -> str:
    """``a, b (default) or c``: the names a flag takes, in help text."""
    shown = [f"{name} (default)" if name == default else name for name in names]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser of the ``adwp`` command.

    Choices and the names in help texts come from :mod:`adwp.registry`, so that entries
    registered by user code before the parser is built are offered too.
    """
    from adwp.backend import MISSING

    dataset_help = "data set: " + _listing(DATASETS.list(), "mnist5k")
    space_help = "search space: " + _listing(SPACES.list(), "macro")
    proxies = ", ".join(PROXIES.list())
    pretrained = _listing(PRETRAINED.list())
    backend_searchers = SEARCHERS.list()
    differentiable = DIFFERENTIABLE_SEARCHERS.list()
    parser = argparse.ArgumentParser(
        prog="adwp", description="Zero-finetune architecture ranking with a hypernetwork."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    space = sub.add_parser("space", help="describe a search space")
    space.add_argument("--space", default="macro", help=space_help)
    space.add_argument(
        "--space-option", action="append", metavar="NAME=VALUE", help=_SPACE_OPTION_HELP
    )
    space.add_argument("--json", action="store_true", help="print JSON")
    space.add_argument(
        "--seed", type=_non_negative_int, default=0, help="seed of the example architecture"
    )
    space.set_defaults(func=_space_command)

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
    _add_data_flags(train)
    train.add_argument("--space", default="macro", help=space_help + "; the one to train on")
    train.add_argument(
        "--space-option", action="append", metavar="NAME=VALUE", help=_SPACE_OPTION_HELP
    )
    train.add_argument("--steps", type=int, default=None, help="optimisation steps (default 300)")
    train.add_argument(
        "--seed", type=_non_negative_int, default=0, help="seed of every random choice of the run"
    )
    train.add_argument(
        "--data-seed",
        type=_non_negative_int,
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
        f"{_listing(SAMPLERS.list(), 'sandwich')} (e.g. sandwich:smallest, stratified:BINS, "
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
        "--select-key", default=None, metavar="COLUMN", help="--select-on table: " + _KEY_HELP
    )
    train.add_argument(
        "--select-metric",
        default=None,
        metavar="COLUMN",
        help="--select-on table: " + _METRIC_HELP,
    )
    train.add_argument(
        "--model",
        choices=GENERATORS.list(),
        default="hypernet",
        help="weight generator: hypernet (the hypernetwork, the default), supernet (the SPOS "
        "supernet baseline) or another registered one",
    )
    train.add_argument("--device", default="auto", help=_DEVICE_HELP)
    _add_threads_flag(train)
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
    train.set_defaults(func=_train_command)

    rank = sub.add_parser(
        "rank", help="score and rank architectures with a checkpoint (or the mean of several)"
    )
    rank.add_argument(
        "--checkpoint",
        action="append",
        help="checkpoint of adwp train; repeat it to average the scores of several training runs",
    )
    rank.add_argument(
        "--pretrained",
        metavar="NAME",
        default=None,
        help=f"a trained evaluator that ships with adwp instead of --checkpoint: {pretrained} "
        "(needs --data-root)",
    )
    group = rank.add_mutually_exclusive_group(required=True)
    group.add_argument("--archs", help="file: one architecture string per line, or a JSON list")
    group.add_argument("--arch", action="append", help="canonical architecture string (repeatable)")
    group.add_argument("--sample", type=int, help="score N distinct sampled architectures")
    rank.add_argument("--space", default=None, help="space to sample from (default: checkpoint's)")
    rank.add_argument(
        "--space-option",
        action="append",
        metavar="NAME=VALUE",
        help="option of the space --sample draws from (default: the checkpoint's); repeatable",
    )
    rank.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of --sample and of the BatchNorm calibration images",
    )
    rank.add_argument("--top", type=int, default=10, help="rows of the printed table")
    rank.add_argument("--quiet", action="store_true", help="no progress bar")
    rank.add_argument("--output", default=None, help="JSON file with archs and scores")
    rank.add_argument(
        "--split", choices=["val", "test"], default="val", help="split to score on (default val)"
    )
    rank.add_argument(
        "--max-images",
        type=int,
        default=None,
        metavar="N",
        help="score on the first N images of the split: faster, noisier per snapshot",
    )
    rank.add_argument(
        "--score-metric",
        choices=SCORE_METRICS.list(),
        default=None,
        help="what a score is: accuracy, neg_log_loss (minus the cross-entropy) or another "
        "registered metric (default: accuracy; with --pretrained, the metric of its reported "
        "ranking)",
    )
    rank.add_argument(
        "--final-weights-only",
        action="store_true",
        help="ignore the checkpoint's weight snapshots and score with its final weights",
    )
    rank.add_argument(
        "--data-root",
        default=None,
        help="folder of on-disk data sets (default: the folder the checkpoint was trained on)",
    )
    rank.add_argument("--device", default="auto", help=_DEVICE_HELP)
    _add_threads_flag(rank)
    rank.add_argument(
        "--combine",
        default=None,
        metavar="PROXY,...",
        help="rank by the checkpoint's ranking combined with these zero-cost proxies' (AZ-NAS's "
        f"sum of log(rank / n)), of {proxies}: e.g. synflow,jacob_cov; the scores are relative "
        "to the architectures ranked together",
    )
    rank.add_argument(
        "--combine-batch",
        type=int,
        default=64,
        metavar="N",
        help="training images in the proxies' one batch (default 64)",
    )
    rank.add_argument(
        "--combine-space-option",
        action="append",
        metavar="NAME=VALUE",
        help="option of the proxies' network, repeatable (default: the checkpoint's kind of space "
        "at its default options, e.g. NB201's C=16, N=5)",
    )
    rank.set_defaults(func=_rank_command)

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
    _add_data_flags(truth)
    truth.add_argument(
        "--data-seed", type=_non_negative_int, default=0, help="seed of the data split"
    )
    truth.add_argument(
        "--space", default="macro", help=space_help + "; the one of the architectures"
    )
    truth.add_argument(
        "--space-option", action="append", metavar="NAME=VALUE", help=_SPACE_OPTION_HELP
    )
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
    truth.add_argument("--seed", type=_non_negative_int, default=0, help="seed of --sample")
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
    _add_threads_flag(truth)
    truth.add_argument("--device", default="auto", help=_DEVICE_HELP)
    truth.add_argument("--quiet", action="store_true", help="no progress bar or status lines")
    truth.set_defaults(func=_groundtruth_command)

    corr = sub.add_parser("correlate", help="rank correlation of scores against ground truth")
    corr.add_argument(
        "--truth",
        required=True,
        help="ground-truth table, .csv or .jsonl (adwp groundtruth's, or another benchmark's)",
    )
    corr.add_argument(
        "--scores",
        required=True,
        action="append",
        help="scores JSON as written by 'adwp rank'; repeat it to compare several on the same "
        "architectures (paired bootstrap)",
    )
    corr.add_argument("--key", default="arch", metavar="COLUMN", help=_KEY_HELP)
    corr.add_argument("--metric", default="val_acc", metavar="COLUMN", help=_METRIC_HELP)
    corr.add_argument(
        "--output", required=True, help="report JSON (with a 'warnings' list: few pairs)"
    )
    corr.add_argument(
        "--plot", default=None, help="PNG scatter of score against truth, coloured by #params"
    )
    corr.add_argument(
        "--control",
        default=None,
        metavar="params|flops|FILE",
        help="what the partial tau and the binned tau control for: params (the default, where "
        "#params are known), flops, or another scores file (e.g. a proxy's)",
    )
    corr.add_argument(
        "--bins", type=int, default=4, help="quantile bins of the control (default 4: quartiles)"
    )
    corr.add_argument(
        "--top-k",
        default="10,50,100",
        metavar="K,K,...",
        help="k of the mean truth of the top k (default 10,50,100; those up to n)",
    )
    corr.add_argument(
        "--top-percent",
        type=float,
        default=5.0,
        metavar="P",
        help="P@top-P%%: share of the true top P%% among the top P%% by score (default 5)",
    )
    corr.add_argument(
        "--resamples", type=int, default=1000, metavar="N", help="bootstrap resamples (1000)"
    )
    corr.add_argument("--seed", type=_non_negative_int, default=0, help="bootstrap seed")
    corr.add_argument(
        "--max-unmatched",
        type=_share,
        default=0.01,
        metavar="SHARE",
        help="largest share of the scored architectures that may be missing from the truth "
        "(default 0.01); more is refused (exit 2), as from a truncated table or another --key",
    )
    corr.set_defaults(func=_correlate_command)

    search = sub.add_parser(
        "search",
        help="search the space with a ranking backend",
        description=f"adwp search {'|'.join(backend_searchers)} "
        "--backend SPEC ... --seed S --output OUT.json [--plot FIG.png]. SPEC: hypernet:CKPT, "
        "supernet:CKPT, table:GT.jsonl (or .csv; see --key, --metric) or proxy:NAME, NAME one "
        f"of {proxies}. Or a differentiable search, trained here: adwp search "
        f"{'|'.join(differentiable)} --space nb201 "
        "--dataset cifar10 --data-root DIR [--truth CSV --key COL --metric COL] --epochs E "
        "--seed S --output OUT.json [--plot FIG.png]; or through a trained hypernetwork, no "
        "weight trained: adwp search hypernet-gradient --generator CKPT|NAME --data-root DIR "
        "[...] --output OUT.json.",
    )
    search.add_argument(
        "method",
        choices=[*backend_searchers, *differentiable, _GENERATOR_GRADIENT],
        help="the searcher; each group of flags below says which method it is for",
    )
    search.add_argument(
        "--backend",
        default=None,
        help=f"required by {_listing(backend_searchers).replace(' or ', ' and ')}: "
        "KIND:ARGUMENT, e.g. hypernet:run.pt",
    )
    search.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of every random choice; the same seed gives the same output",
    )
    search.add_argument("--output", required=True, help="result JSON")
    search.add_argument("--plot", default=None, help="PNG figure")
    search.add_argument(
        "--quiet", action="store_true", help="no progress bar, status lines or summary"
    )
    search.add_argument(
        "--dataset",
        default=None,
        help="data set of proxy backends (default mnist5k); table: backends read no images and "
        "load it only when given, to shape the space (#params, FLOPs) like its images",
    )
    search.add_argument("--data-root", default=None, help="folder of on-disk data sets")
    _add_data_flags(search)
    search.add_argument("--device", default="auto", help=_DEVICE_HELP)
    _add_threads_flag(search)
    search.add_argument("--space", default=None, help="space to search (default: the backend's)")
    search.add_argument(
        "--space-option", action="append", metavar="NAME=VALUE", help=_SPACE_OPTION_HELP
    )
    search.add_argument(
        "--truth", default=None, help="ground-truth table drawn in the plot (.csv or .jsonl)"
    )
    search.add_argument(
        "--key",
        default=None,
        metavar="COLUMN",
        help="table: backends and --truth: " + _KEY_HELP,
    )
    search.add_argument(
        "--metric",
        default=None,
        metavar="COLUMN",
        help="table: backends and --truth: " + _METRIC_HELP,
    )
    search.add_argument(
        "--missing",
        choices=list(MISSING),
        default=None,
        help="table: backends only: what to do with an architecture the table lacks. error "
        "(default): stop with an error naming it; skip: draw another one instead (not counted "
        "as an evaluation; random, evolution and importance-sampling give up after 1000 such "
        "draws in a row, layer-assignment leaves it out)",
    )
    search.add_argument(
        "--cache",
        default=None,
        help="JSONL file keeping every backend score: a killed search re-run with the same seed "
        "and cache resumes where it was and gives the same output",
    )
    relaxed = search.add_argument_group(", ".join([*differentiable, _GENERATOR_GRADIENT]))
    relaxed.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    relaxed.add_argument(
        "--steps-per-epoch",
        type=int,
        default=None,
        help="steps per epoch (default 100; hypernet-gradient 20)",
    )
    relaxed.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="images per batch (default 64; hypernet-gradient 128)",
    )
    relaxed.add_argument(
        "--second-order",
        action="store_true",
        help=f"{', '.join(differentiable)}: architecture gradient through a virtual weight step",
    )
    relaxed.add_argument(
        "--checkpoint",
        default=None,
        help="file the search state is written to after every epoch; a killed search re-run "
        "with it continues and ends with the same architecture",
    )
    through = search.add_argument_group("hypernet-gradient")
    through.add_argument(
        "--generator",
        default=None,
        metavar="CKPT|NAME",
        help="required by hypernet-gradient: the trained weight generator, a checkpoint of "
        f"adwp train or a shipped evaluator's name ({pretrained}); its data set is searched on "
        "(give --data-root)",
    )
    through.add_argument(
        "--estimator",
        choices=GRADIENT_ESTIMATORS.list(),
        default=None,
        help="gradient estimator of the architecture draws (default soft)",
    )
    through.add_argument(
        "--final-weights-only",
        action="store_true",
        help="use the generator's final weights, not its snapshots in turn",
    )
    layer = search.add_argument_group("layer-assignment")
    layer.add_argument(
        "--min-depth",
        type=int,
        default=None,
        help="required by layer-assignment: start total depth (other methods: limits a "
        "layer-assignment --space)",
    )
    layer.add_argument(
        "--max-depth", type=int, default=None, help="required by layer-assignment: last total depth"
    )
    layer.add_argument("--beam", type=int, default=1, help="assignments kept per depth")
    layer.add_argument(
        "--exhaustive",
        action="store_true",
        help="architecture-dataset mode: score every assignment of every depth",
    )
    sampling = search.add_argument_group("importance-sampling")
    sampling.add_argument(
        "--coefficients",
        default=None,
        help="required by importance-sampling: the complexity coefficients eps, one "
        "distribution each, e.g. 0,0.1,0.3",
    )
    sampling.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="required by importance-sampling: ASNG iterations (each scores --samples "
        "architectures per coefficient)",
    )
    sampling.add_argument("--samples", type=int, default=4, help="lambda per distribution")
    sampling.add_argument(
        "--complexity",
        choices=["params", "flops"],
        default="params",
        help="complexity measure of the objective: #params (default) or FLOPs, min-max "
        "normalised over the space",
    )
    sampling.add_argument(
        "--pick",
        choices=["best", "mode"],
        default="best",
        help="pick shown per coefficient in the table and plot. best (default): the evaluated "
        "architecture of highest score - eps * complexity; mode: the distribution's most "
        "likely architecture. The JSON keeps both.",
    )
    sampling.add_argument(
        "--independent",
        action="store_true",
        help="no importance sampling: K independent single-distribution runs (the baseline)",
    )
    budget = search.add_argument_group("random and evolution")
    budget.add_argument(
        "--budget",
        type=int,
        default=None,
        help="required by random and evolution: architectures to propose",
    )
    budget.add_argument(
        "--population",
        type=int,
        default=20,
        help="evolution: population size, the architectures kept alive (default 20)",
    )
    budget.add_argument(
        "--tournament",
        type=int,
        default=5,
        help="evolution: architectures drawn from the population to pick each parent, the "
        "best of them (default 5)",
    )
    search.set_defaults(func=_search_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    args = build_parser().parse_args(argv)
    try:
        _set_threads(args)
        return args.func(args)
    except AdwpError as exc:
        print("adwp: error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("adwp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of the output went away (``adwp rank ... | head -3``): nothing to report.
        # Python would complain again when it flushes stdout at exit, so that goes nowhere.
        # Without a file descriptor behind stdout (replaced in-process) nothing is left to flush.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a process killed by SIGPIPE, what `set -o pipefail` expects
    except OSError as exc:
        # The file system refusing (full disk, no permission): the user's to fix, not a bug.
        print(f"adwp: error: {exc}", file=sys.stderr)
        return 1
