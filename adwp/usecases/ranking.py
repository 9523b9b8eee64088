"""Ranking architectures with trained weight generators: what ``adwp rank`` does."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adwp.errors import AdwpError
from adwp.io import parse_archs, read_archs
from adwp.registry import PROXIES
from adwp.usecases._common import (
    at_least_one,
    check_space_options,
    checkpoint_dataset,
    checkpoint_space,
    reading_status,
    reshaped,
    status,
)

__all__ = ["AGGREGATION", "RankResult", "rank"]

AGGREGATION = "sum over members of log(rank / n), rank n the best, ties averaged (AZ-NAS)"
"""How ``rank(combine=...)`` combines its members' rankings."""


@dataclass(frozen=True)
class RankResult:
    """Scores of architectures, as ``adwp rank --output`` writes them.

    Attributes:
        architectures: The architectures scored, in the order given or sampled.
        scores: Their scores (a float array; higher is better): the evaluator's metric, or with
            ``combine`` the combined rank score.
        params: Their #params.
        flops: Their FLOPs.
        metric: What an evaluator's score is (``accuracy``, ``neg_log_loss``...).
        images: Images each architecture is scored on.
        split: The split scored on.
        seed: Seed of the sample and the BatchNorm calibration images.
        sources: Where the scores come from: ``checkpoint`` and ``snapshots``, or
            ``checkpoints`` (an ensemble).
        space: The space's ``name`` and ``options``.
        pretrained: The shipped evaluator used, if one was.
        member_scores: With ``combine``: each member's raw scores (float arrays), the
            evaluator's first.
        combine: With ``combine``: the members and how they were combined.
    """

    architectures: tuple[Any, ...]
    scores: Any
    params: tuple[int, ...]
    flops: tuple[int, ...]
    metric: str
    images: int
    split: str
    seed: int
    sources: Mapping[str, Any]
    space: Mapping[str, Any]
    pretrained: str | None = None
    member_scores: Mapping[str, Any] = field(default_factory=dict)
    combine: Mapping[str, Any] | None = None

    @property
    def archs(self) -> list[str]:
        """The architectures' canonical strings."""
        return [a.to_string() for a in self.architectures]

    def order(self, top: int | None = None) -> list[int]:
        """Indices of the architectures from the best score down (ties in their order), the
        first ``top`` of them."""
        import numpy as np

        return [int(i) for i in np.argsort(-self.scores, kind="stable")[:top]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``adwp rank --output`` (a scores file, :func:`adwp.io.read_scores`)."""
        out = {
            "archs": self.archs,
            "scores": [float(s) for s in self.scores],
            "params": list(self.params),
            "flops": list(self.flops),
            **self.sources,
            **({"pretrained": self.pretrained} if self.pretrained else {}),
            "split": self.split,
            "seed": self.seed,
            "metric": self.metric,
            "images": self.images,
            "space": dict(self.space),
        }
        if self.combine is not None:
            out["combine"] = dict(self.combine)
            # -inf, a proxy's lowest possible score, has no JSON spelling: null.
            out["member_scores"] = {
                name: [float(v) if math.isfinite(v) else None for v in values]
                for name, values in self.member_scores.items()
            }
        return out


def _checkpoints(
    checkpoints: Sequence[str], pretrained: str | None, space: str | None, data_root: str | None
) -> list[str]:
    """The checkpoint files given, or the shipped one of ``pretrained``."""
    if bool(checkpoints) == bool(pretrained):
        raise AdwpError("give --checkpoint (repeatable) or --pretrained NAME, not both")
    if checkpoints:
        return [str(path) for path in checkpoints]
    from adwp.pretrained import check_pretrained, get_pretrained

    item = get_pretrained(str(pretrained))
    if space is not None and space != item.space:
        raise AdwpError(
            f"--pretrained {item.name} scores {item.space} architectures, not --space {space}"
        )
    if data_root is None:
        raise AdwpError(
            f"--pretrained {item.name} scores on {item.dataset} images: give their folder with "
            "--data-root"
        )
    return [str(check_pretrained(item))]


def _check_combine(names: Sequence[str], batch: int) -> list[str]:
    """The proxy names of ``combine``, checked before any checkpoint or data set is loaded."""
    allowed = ", ".join(PROXIES.list())
    for name in names:
        if name not in PROXIES:
            raise AdwpError(f"--combine: unknown proxy {name!r}; allowed: {allowed}")
        if names.count(name) > 1:
            raise AdwpError(f"--combine names {name!r} twice")
    at_least_one(batch, "--combine-batch")
    return list(names)


def _sources(paths: list[str], evaluators: list[Any]) -> dict[str, Any]:
    """What a scores file says about where its scores come from."""
    if len(paths) == 1:
        return {"checkpoint": str(paths[0]), "snapshots": evaluators[0].num_snapshots}
    # An ensemble: the keys of one checkpoint would misdescribe it, so it gets its own.
    return {
        "checkpoints": [
            {"path": str(path), "snapshots": evaluator.num_snapshots}
            for path, evaluator in zip(paths, evaluators)
        ]
    }


def rank(
    archs: Iterable[Any] | None = None,
    *,
    checkpoints: Sequence[str] = (),
    pretrained: str | None = None,
    archs_file: str | None = None,
    sample: int | None = None,
    space: str | None = None,
    space_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    split: str = "val",
    max_images: int | None = None,
    metric: str | None = None,
    snapshots: bool = True,
    data_root: str | None = None,
    device: str = "auto",
    combine: Sequence[str] = (),
    combine_batch: int = 64,
    combine_space_options: Mapping[str, Any] | None = None,
    quiet: bool = True,
) -> RankResult:
    """Scores architectures with the weights of trained generators (their mean, for several).

    Give the architectures one way: ``archs`` (strings, JSON-like dicts or architectures),
    ``archs_file`` (:func:`adwp.io.read_archs`), or ``sample`` (that many distinct ones, drawn
    with ``seed`` from the checkpoint's space, or ``space`` with ``space_options``).

    Args:
        archs: The architectures.
        checkpoints: Checkpoints of ``adwp train``; several: their scores averaged.
        pretrained: A shipped evaluator instead of ``checkpoints`` (needs ``data_root``).
        archs_file: An architecture list.
        sample: How many architectures to draw.
        space: Space to sample from (default: the checkpoint's).
        space_options: Options of that space.
        seed: Seed of the sample and of the BatchNorm calibration images.
        split: ``"val"`` or ``"test"``.
        max_images: Score on the first N images of the split.
        metric: A score metric of :data:`adwp.registry.SCORE_METRICS` (default accuracy; with
            ``pretrained``, the metric of its reported ranking).
        snapshots: Average over the checkpoint's weight snapshots; False: final weights only.
        data_root: Folder of on-disk data sets (default: the checkpoint's).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        combine: Zero-cost proxies whose rankings are combined with the evaluator's.
        combine_batch: Training images in the proxies' one batch.
        combine_space_options: Options of the proxies' networks' space.
        quiet: No progress bar or status lines.

    Returns:
        The scores, with what :meth:`RankResult.to_dict` writes.

    Raises:
        AdwpError: In one line, if an argument is wrong (an architecture outside the space is
            named before any weights or images load) or a file cannot be read.
    """
    given_ways = [archs is not None, archs_file is not None, sample is not None]
    if sum(given_ways) != 1:
        raise AdwpError("give the architectures one way: archs, archs_file or sample")
    at_least_one(sample, "--sample")
    at_least_one(max_images, "--max-images")
    members = _check_combine(list(combine), combine_batch) if combine else []
    proxy_options = check_space_options(combine_space_options, "--combine-space-option")
    paths = _checkpoints(checkpoints, pretrained, space, data_root)
    if pretrained:
        from adwp.pretrained import get_pretrained

        # Scored as its reported ranking was, unless the arguments say otherwise.
        item = get_pretrained(pretrained)
        metric = metric or item.metric
        max_images = max_images if max_images is not None else item.max_images
    given: list[Any] = []
    if sample is None:
        if space_options:
            raise AdwpError("--space-option shapes the space of --sample; give --sample N")
        raw = read_archs(archs_file) if archs_file else [("--arch", a) for a in archs or []]
        if not raw:
            raise AdwpError("no architectures given")
        # Against each checkpoint's space, read without its weights: an architecture outside
        # the space is reported before the (possibly large) checkpoints and data load.
        for path in paths:
            given = parse_archs(raw, checkpoint_space(path))
    return _score(
        paths,
        given,
        sample=sample,
        space=space,
        space_options=check_space_options(space_options, "--space-option"),
        seed=seed,
        split=split,
        max_images=max_images,
        metric=metric,
        snapshots=snapshots,
        data_root=data_root,
        device=device,
        combine=members,
        combine_batch=combine_batch,
        proxy_options=proxy_options,
        pretrained=pretrained,
        quiet=quiet,
    )


def _score(
    paths: list[str], given: list[Any], *, sample: int | None, space: str | None, **kw: Any
) -> RankResult:
    """Loads the checkpoints and data and scores ``given`` (or ``sample`` drawn ones)."""
    import numpy as np

    from adwp.backend import checkpoint_ensemble
    from adwp.evaluator import EvaluatorConfig

    quiet, seed = kw["quiet"], kw["seed"]
    reading_status(checkpoint_dataset(paths[0]), quiet, data_root=kw["data_root"])
    ensemble = checkpoint_ensemble(
        paths,
        data_root=kw["data_root"],
        device=kw["device"],
        config=EvaluatorConfig(
            split=kw["split"],
            seed=seed,
            snapshots=kw["snapshots"],
            max_images=kw["max_images"],
            metric=kw["metric"] or "accuracy",
        ),
    )
    evaluator = ensemble.members[0]
    own = evaluator.space
    if sample is not None:
        source = reshaped(own, space, kw["space_options"])
        archs = source.sample_many(sample, np.random.default_rng(seed))
    else:
        archs = given
    archs = [own.validate(a) for a in archs]
    passes = sum(member.num_snapshots for member in ensemble.members)
    status(
        f"scoring {len(archs)} architectures on {evaluator.num_images} images, once per weight "
        f"snapshot ({passes}), each pass after recomputing the network's BatchNorm statistics",
        quiet,
    )
    members: dict[str, Any] = {}
    combine_entry = None
    if kw["combine"]:
        from adwp.baselines import CombinedBackend

        combined = CombinedBackend(
            ensemble,
            kw["combine"],
            evaluator.data,
            proxy_options=kw["proxy_options"],
            batch_size=kw["combine_batch"],
            seed=seed,
            name=evaluator.train_config.model if evaluator.train_config else "evaluator",
        )
        members = combined.member_scores(archs, progress=not quiet)
        scores = combined.combine(members)
        proxy_space = combined.proxy_space
        combine_entry = {
            "members": list(members),
            "aggregation": AGGREGATION,
            "relative_to": f"the {len(archs)} architectures of this file",
            "proxy_space": {"name": proxy_space.name, "options": proxy_space.config()},
            "proxy_batch": combined.batch_size,
            "proxy_seed": combined.seed,
        }
    else:
        scores = ensemble.score(archs, progress=not quiet)
    return RankResult(
        architectures=tuple(archs),
        scores=np.asarray(scores),
        params=tuple(own.params(a) for a in archs),
        flops=tuple(own.flops(a) for a in archs),
        metric=evaluator.config.metric,
        images=evaluator.num_images,
        split=kw["split"],
        seed=seed,
        sources=_sources(paths, ensemble.members),
        space={"name": own.name, "options": own.config()},
        pretrained=kw["pretrained"],
        member_scores=members,
        combine=combine_entry,
    )
