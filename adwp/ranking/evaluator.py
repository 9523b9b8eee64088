"""Zero-finetune evaluator: scores architectures with hypernetwork-predicted weights.

One architecture's path: ``space.validate`` -> one-hot encoding -> hypernetwork -> predicted weights
-> :class:`~adwp.generators.functional.FunctionalNetwork` -> BatchNorm statistics recomputed on a
fixed set of training images -> accuracy on the validation split. No weight is trained.

A checkpoint trained with ``snapshot_every`` holds copies of the weight generator from its last
steps; the evaluator then averages every metric over those snapshots (one pass per snapshot). A
single set of shared weights favours whatever architectures the last steps happened to train, and
that changes from step to step; the average over snapshots cancels much of it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from adwp._checks import check_fields, is_integer
from adwp.data import DataSplits, as_tensors, iterate_batches
from adwp.device import resolve_device
from adwp.errors import AdwpError, CheckpointError, DataError
from adwp.generators.build import TrainConfig, open_generator
from adwp.generators.functional import FunctionalNetwork
from adwp.generators.hypernet import HyperNetwork
from adwp.registry import SCORE_METRICS
from adwp.spaces import Architecture
from encoders import OneHotEncoder

__all__ = ["METRICS", "Evaluator", "EvaluatorConfig"]

# A score metric maps one batch's logits and labels to its sum over the batch's images; a score
# is that sum over the scored images divided by their number.
ScoreMetric = Callable[[torch.Tensor, torch.Tensor], float]


@SCORE_METRICS.register("accuracy", description="fraction of the images classified correctly")
def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float(int((logits.argmax(1) == labels).sum()))


@SCORE_METRICS.register("neg_log_loss", description="minus the mean cross-entropy")
def _neg_log_loss(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return -float(F.cross_entropy(logits, labels, reduction="sum"))


#: The built-in score metrics; :data:`adwp.registry.SCORE_METRICS` holds these and any added.
METRICS = ("accuracy", "neg_log_loss")


@dataclass(frozen=True)
class EvaluatorConfig:
    """How candidates are scored.

    Attributes:
        split: Data split scored (``"val"`` or ``"test"``).
        calibration_batches: Training batches used to recompute BatchNorm statistics.
        calibration_batch_size: Images per calibration batch.
        batch_size: Images per evaluation batch (does not change scores).
        max_images: Score on the first ``max_images`` images of the split only (None: all).
        chunk: Architectures whose weights are predicted in one hypernetwork call.
        seed: Chooses the calibration images.
        metric: ``"accuracy"`` (fraction correct, the default) or ``"neg_log_loss"`` (minus the
            mean cross-entropy: finer-grained than accuracy, which saturates and ties once
            predicted networks get good), or another metric of
            :data:`adwp.registry.SCORE_METRICS`. Every registered metric is computed in the same
            pass and cached.
        snapshots: Average over the weight snapshots a checkpoint holds (if any); False scores
            with the final weights only.
    """

    split: str = "val"
    calibration_batches: int = 2
    calibration_batch_size: int = 128
    batch_size: int = 1000
    max_images: int | None = None
    chunk: int = 16
    seed: int = 0
    metric: str = "accuracy"
    snapshots: bool = True

    def __post_init__(self) -> None:
        counts = ("calibration_batches", "calibration_batch_size", "batch_size", "chunk")
        check_fields(self, counts if self.max_images is None else (*counts, "max_images"))


class Evaluator:
    """Scores architectures of a space with a trained hypernetwork; implements ``RankingBackend``.

    Args:
        hypernet: A trained hypernetwork, or any weight generator with its call signature such as
            :class:`adwp.generators.supernet.SuperNet` (its ``space`` defines what can be scored).
        data: The data set it was trained on.
        config: Scoring settings.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ...
        snapshots: Earlier copies of the weight generator (same space); when given, every score
            is the mean over these instead of ``hypernet``'s alone.

    Attributes:
        train_config: The checkpoint's training settings (data set, split seed, kind of weight
            generator) when built by :meth:`from_checkpoint`; None otherwise.
    """

    def __init__(
        self,
        hypernet: HyperNetwork,
        data: DataSplits,
        config: EvaluatorConfig | None = None,
        device: str | torch.device | None = None,
        snapshots: Sequence[torch.nn.Module] | None = None,
    ) -> None:
        self.config = config or EvaluatorConfig()
        if self.config.split not in ("val", "test"):
            raise DataError(f"split must be 'val' or 'test', got {self.config.split!r}")
        _check_metric(self.config.metric)
        self.device = resolve_device(device)
        self.hypernet = hypernet.to(self.device).eval()
        self.space = hypernet.space
        self.generators = [g.to(self.device).eval() for g in snapshots or ()] or [self.hypernet]
        for generator in self.generators:
            if generator.space.config() != self.space.config():
                raise AdwpError("every snapshot must have the space of the weight generator")
        self.encoder = OneHotEncoder(self.space)
        self.data = data
        self.train_config: TrainConfig | None = None
        self._cache: dict[Architecture, dict[str, float]] = {}
        c = self.config
        split = data.val if c.split == "val" else data.test
        batches = list(iterate_batches(split, c.batch_size))
        self._eval = [(x.to(self.device), y.to(self.device)) for x, y in batches]
        if c.max_images is not None:
            self._eval = _truncate(self._eval, c.max_images)
        train_x, _ = as_tensors(data.train)
        gen = torch.Generator().manual_seed(c.seed)
        pick = torch.randperm(train_x.shape[0], generator=gen)
        pick = pick[: c.calibration_batches * c.calibration_batch_size]
        self._calibration = [
            chunk.to(self.device) for chunk in train_x[pick].split(c.calibration_batch_size)
        ]

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike[str],
        *,
        data_root: str | None = None,
        config: EvaluatorConfig | None = None,
        device: str | torch.device | None = None,
        data: DataSplits | None = None,
    ) -> Evaluator:
        """Loads a hypernetwork checkpoint written by ``adwp train``.

        Args:
            path: Checkpoint file, or a shipped evaluator's name (scored with ``config`` as
                given; :meth:`pretrained` also applies its reported metric).
            data_root: Folder of on-disk data sets (CIFAR, ImageFolder); None: the folder the
                checkpoint was trained on, as it records.
            config: Scoring settings.
            device: Where to score.
            data: Data splits to use instead of loading the checkpoint's data set.

        Returns:
            The evaluator.

        Raises:
            CheckpointError: If the file is missing, corrupt or inconsistent.
            DataError: If the data set cannot be loaded, or the folder the checkpoint records
                no longer exists and ``data_root`` is None.
        """
        opened = open_generator(
            path, snapshots=config is None or config.snapshots, data=data, data_root=data_root
        )
        stored, space, data = opened.stored, opened.stored.space, opened.load_data()
        if (data.in_channels, data.num_classes) != (space.in_channels, space.num_classes):
            raise CheckpointError(
                f"checkpoint expects {space.in_channels} channels and {space.num_classes} classes, "
                f"data set {data.name} has {data.in_channels} and {data.num_classes}"
            )
        evaluator = cls(stored.model, data, config, device, snapshots=stored.snapshots)
        evaluator.train_config = stored.config
        return evaluator

    @classmethod
    def pretrained(
        cls,
        name: str,
        *,
        data_root: str | None = None,
        config: EvaluatorConfig | None = None,
        device: str | torch.device | None = None,
        data: DataSplits | None = None,
    ) -> Evaluator:
        """Loads an evaluator that ships with adwp (``adwp.pretrained.list_pretrained()``).

        Args:
            name: E.g. ``"nb201-cifar10"``.
            data_root: Folder of its data set's images (e.g. CIFAR-10 image folders); needed
                unless ``data`` is given.
            config: Scoring settings; None: the metric and number of images its reported
                ranking was measured with (``Pretrained.metric``, ``Pretrained.max_images``).
            device: Where to score.
            data: Data splits of the evaluator's data set, instead of loading them.

        Returns:
            The evaluator, scoring architectures of the space the name says.

        Raises:
            AdwpError: If no evaluator has that name, or ``data`` is of another data set.
            CheckpointError: If the shipped file is missing or of another space or data set.
        """
        from adwp.pretrained import get_pretrained

        item = get_pretrained(name)
        if config is None:
            config = EvaluatorConfig(metric=item.metric, max_images=item.max_images)
        return cls.from_checkpoint(
            name, data_root=data_root, config=config, device=device, data=data
        )

    @property
    def num_images(self) -> int:
        """Number of images each score is computed on."""
        return sum(int(y.shape[0]) for _, y in self._eval)

    @property
    def num_snapshots(self) -> int:
        """Number of weight generators every score is averaged over (1 without snapshots)."""
        return len(self.generators)

    def predict_weights(
        self, archs: Sequence[Architecture], snapshot: int | None = None
    ) -> list[dict[str, torch.Tensor]]:
        """Returns predicted weights for architectures of the space (no gradients).

        Args:
            archs: Architectures of the space.
            snapshot: Index into :attr:`generators` (the snapshots, or the final weight generator
                when there are none); None: the final weight generator.

        Returns:
            One weight dict per architecture.
        """
        archs = [self.space.validate(a) for a in archs]
        generator = self.hypernet if snapshot is None else self.generators[snapshot]
        with torch.inference_mode():
            return generator(self.encoder.encode(archs, self.device), archs)

    @torch.inference_mode()
    def _score_one(self, arch: Architecture, weights: dict[str, torch.Tensor]) -> dict[str, float]:
        net = FunctionalNetwork(self.space, arch, self.device)
        net.recalibrate(weights, self._calibration)
        metrics = {name: SCORE_METRICS.get(name) for name in SCORE_METRICS.list()}
        totals = dict.fromkeys(metrics, 0.0)
        for x, y in self._eval:
            logits = net(weights, x, train=False).float()
            for name, metric in metrics.items():
                totals[name] += metric(logits, y)
        if not all(np.isfinite(total) for total in totals.values()):
            # Otherwise a diverged checkpoint ranks every candidate at chance, plausibly.
            raise AdwpError(
                f"the predicted network of {arch} gives non-finite outputs: the weight generator "
                "is broken (did its training diverge? see the checkpoint's metrics log)"
            )
        return {name: total / self.num_images for name, total in totals.items()}

    def score(
        self,
        archs: Sequence[Architecture | str],
        metric: str | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """Scores every architecture with predicted weights.

        Args:
            archs: Architectures (or canonical strings) of the space.
            metric: A registered score metric (``"accuracy"``, ``"neg_log_loss"``, ...); default
                ``config.metric``.
            progress: Show a progress bar over the architectures not yet cached, advancing as
                each is scored (each is scored once per snapshot, so this is long work for many
                candidates).

        Returns:
            Float array, input order, higher is better; accuracy is a fraction in [0, 1].

        Raises:
            ArchitectureError: If an architecture is outside the space.
        """
        metric = _check_metric(metric or self.config.metric)
        archs = self._validate_all(archs)
        # A metric registered after some scores were cached has no value there yet.
        todo = list(dict.fromkeys(a for a in archs if metric not in self._cache.get(a, {})))
        bar = tqdm(total=len(todo), disable=not progress or not todo, desc="score", unit="arch")
        for start in range(0, len(todo), self.config.chunk):
            chunk = todo[start : start + self.config.chunk]
            # Weights are predicted a chunk at a time (one hypernetwork call per snapshot); the
            # scoring then goes architecture by architecture, so the bar moves with each one.
            predicted = [self.predict_weights(chunk, s) for s in range(self.num_snapshots)]
            for i, arch in enumerate(chunk):
                total: dict[str, float] = {}
                for weights in predicted:
                    for name, value in self._score_one(arch, weights[i]).items():
                        total[name] = total.get(name, 0.0) + value / self.num_snapshots
                self._cache[arch] = total
                bar.update(1)
        bar.close()
        return np.array([self._cache[a][metric] for a in archs], dtype=np.float64)

    def rank(
        self, archs: Sequence[Architecture | str], top_k: int | None = None
    ) -> list[tuple[Architecture, float]]:
        """Sorts architectures by score, best first (ties keep input order).

        Args:
            archs: Architectures or canonical strings.
            top_k: Keep only the best ``top_k``.

        Returns:
            ``(architecture, score)`` pairs.
        """
        if top_k is not None and (not is_integer(top_k) or top_k < 1):
            raise AdwpError(f"top_k must be None or a positive integer, got {top_k!r}")
        archs = self._validate_all(archs)
        scores = self.score(archs)
        order = np.argsort(-scores, kind="stable")
        if top_k is not None:
            order = order[:top_k]
        return [(archs[i], float(scores[i])) for i in order]

    def _validate_all(self, archs: Sequence[Architecture | str]) -> list[Architecture]:
        # A lone string would otherwise be iterated over, character by character (a lone
        # architecture is no sequence).
        if isinstance(archs, str) or not isinstance(archs, Sequence):
            raise AdwpError(
                f"expected a list of architectures (or canonical strings), got "
                f"{type(archs).__name__}; wrap a single one in a list"
            )
        return [self.space.validate(a) for a in archs]

    def clear_cache(self) -> None:
        """Forgets cached scores."""
        self._cache.clear()


def _check_metric(metric: str) -> str:
    if metric not in SCORE_METRICS:
        raise AdwpError(f"metric must be one of {', '.join(SCORE_METRICS.list())}, got {metric!r}")
    return metric


def _truncate(batches: list[Any], limit: int) -> list[Any]:
    out, left = [], limit
    for x, y in batches:
        if left <= 0:
            break
        out.append((x[:left], y[:left]))
        left -= int(y.shape[0])
    return out
