"""Weight generators: the hypernetwork and the supernet baseline, and rebuilding them.

A weight generator maps an architecture encoding to the weights of the architectures' networks.
:class:`TrainConfig` holds every setting of a generator's training run (checkpoints store it);
:func:`build_model` builds the generator it names, and :func:`generator_from_checkpoint` rebuilds
a trained one, with its weight snapshots, from a checkpoint dict. Training
(:mod:`adwp.generators.training`) and scoring (:mod:`adwp.ranking.evaluator`) both build on this
module and not on each other.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from adwp.data import DataSplits, get_dataset
from adwp.errors import AdwpError, CheckpointError, DataError
from adwp.generators.checkpoint import load_checkpoint
from adwp.generators.hypernet import HyperNetConfig
from adwp.registry import GENERATORS, PRETRAINED
from adwp.spaces import DATA_SHAPE, get_space, space_options

__all__ = [
    "WEIGHT_GENERATORS",
    "GeneratorCheckpoint",
    "StoredGenerator",
    "TrainConfig",
    "build_model",
    "checkpoint_data",
    "generator_from_checkpoint",
    "open_generator",
]

# Modules that map (encoding, archs) to weight dicts; the trainer and evaluator take any of them.
# The registry itself, under the name this module has always exported it by.
WEIGHT_GENERATORS = GENERATORS

# Settings added after the first checkpoint format, with the training they stood for before each
# existed; see HyperNetConfig.from_dict. Defaults may change (docs/decisions.md); these may not.
# A new setting goes here too, with the value that keeps training as it was without it.
_BEFORE_IT_EXISTED: dict[str, Any] = {
    "lr_cycles": 1,
    "snapshot_every": 0,
    "snapshots": 6,
    "model": "hypernet",
    "distill": 0.0,
}


def build_model(space: Any, config: TrainConfig) -> torch.nn.Module:
    """Builds the weight generator a training configuration names."""
    return GENERATORS.get(config.model)(space, config.hypernet)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a hypernetwork training run.

    The defaults are the settings that ranked best on ``mnist5k`` (``docs/decisions.md``): a
    short run (ranking quality peaks early), 8 architectures per step drawn by
    the sandwich rule, and the scores averaged over the last 6 snapshots, 50 steps apart.

    Attributes:
        dataset: Registered data set name.
        space: Registered search space name.
        space_options: Options of the space besides the data set's shape (which the data set
            sets), e.g. ``{"channels": 8, "cells_per_stage": 1}`` for ``nb201`` or
            ``{"base_widths": [8, 16, 32]}`` for ``macro``. Only options that differ from the
            space's defaults are kept, so equal spaces give equal configurations.
        steps: Optimisation steps.
        seed: Seed of every random choice.
        meta_batch: Architectures per step.
        batch_size: Images per architecture per step.
        optimizer: ``"adamw"`` or ``"sgd"``.
        lr: Peak learning rate (linear warm-up, then cosine decay to zero).
        lr_cycles: Cosine cycles of equal length, each restarting at ``lr`` (warm restarts, as
            in SGDR); with a snapshot at the end of each cycle this is a snapshot ensemble
            (Huang et al., 2017). 1: one cosine decay over the whole run.
        weight_decay: Decoupled weight decay.
        warmup_steps: Linear warm-up length.
        grad_clip: Gradient-norm clip (0 disables).
        augment: Random shifts of up to ``image_size // 14`` (at least 1) pixels.
        sampler: Registered architecture sampler.
        max_mix: Stochastic encoder's largest mixing weight.
        hard_fraction: Share of architectures encoded exactly one-hot.
        data_seed: Seed of the data set split.
        checkpoint_every: Steps between checkpoints (besides those at snapshot steps).
        snapshot_every: Steps between weight snapshots kept for scoring (0: none). The evaluator
            averages each architecture's score over the snapshots, which cancels much of the
            step-to-step noise of the ranking (see ``docs/decisions.md``). A checkpoint is
            also written at every snapshot step.
        snapshots: How many of the latest snapshots are kept (each is a copy of the model).
        hypernet: Hypernetwork capacity.
        distill: In-place distillation (BigNAS): every architecture of a step except its largest
            (by parameters) learns with this weight from the largest one's predictions on the
            same images, and with ``1 - distill`` from the labels (0: labels only).
        model: Weight generator: ``"hypernet"`` (the method) or ``"supernet"`` (the SPOS
            baseline: shared weights, exact single paths, no stochastic encoding).
    """

    dataset: str = "mnist5k"
    space: str = "macro"
    space_options: dict[str, Any] = field(default_factory=dict)
    steps: int = 300
    seed: int = 0
    meta_batch: int = 8
    batch_size: int = 64
    optimizer: str = "adamw"
    lr: float = 1e-3
    lr_cycles: int = 1
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    grad_clip: float = 5.0
    augment: bool = True
    sampler: str = "sandwich"
    max_mix: float = 0.3
    hard_fraction: float = 0.25
    data_seed: int = 0
    checkpoint_every: int = 100
    snapshot_every: int = 50
    snapshots: int = 6
    hypernet: HyperNetConfig = field(default_factory=HyperNetConfig)
    model: str = "hypernet"
    distill: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "space_options", _own_options(self.space, self.space_options))
        if self.optimizer not in ("adamw", "sgd"):
            raise AdwpError(f"optimizer must be 'adamw' or 'sgd', got {self.optimizer!r}")
        if self.model not in GENERATORS:
            raise AdwpError(f"model must be one of {GENERATORS.list()}, got {self.model!r}")
        names = ("steps", "meta_batch", "batch_size", "checkpoint_every", "snapshots", "lr_cycles")
        for name in names:
            if getattr(self, name) < 1:
                raise AdwpError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.sampler == "sandwich" and self.meta_batch < 3:
            # With fewer than 3 slots every step would train only the two extreme architectures.
            raise AdwpError(
                f"sampler 'sandwich' needs meta_batch >= 3 (largest, smallest and at least one "
                f"uniform draw), got meta_batch={self.meta_batch}; sampler 'uniform' takes any "
                "meta-batch"
            )
        for name in ("lr", "weight_decay", "warmup_steps", "grad_clip"):
            value = getattr(self, name)
            if not value >= 0:  # also catches NaN
                raise AdwpError(f"{name} must be non-negative, got {value}")
        if self.lr == 0 or not math.isfinite(self.lr):
            raise AdwpError(f"lr must be positive and finite, got {self.lr}")
        for name in ("max_mix", "hard_fraction", "distill"):
            if not 0 <= getattr(self, name) <= 1:
                raise AdwpError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.snapshot_every < 0:
            raise AdwpError(
                f"snapshot_every must be 0 (off) or positive, got {self.snapshot_every}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Returns the configuration as JSON-ready primitives."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`, reading checkpoints of every earlier version too.

        A setting missing from ``data`` was added after the checkpoint was written; it takes the
        value that reproduces the training as it was before the setting existed, not today's
        default.

        Raises:
            CheckpointError: If ``data`` holds an unknown setting.
        """
        known = {f.name for f in fields(cls)} | {"base_widths"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CheckpointError(f"unknown training settings in checkpoint: {unknown}")
        data = {**_BEFORE_IT_EXISTED, **data}
        if "base_widths" in data:  # the macro spaces' one option, before space_options existed
            data["space_options"] = {"base_widths": data.pop("base_widths")}
        try:
            data["hypernet"] = HyperNetConfig.from_dict(data.get("hypernet", {}))
        except AdwpError as exc:
            raise CheckpointError(f"checkpoint's hypernetwork settings: {exc}") from None
        return cls(**data)


def _plain(value: Any) -> Any:
    """JSON's view of an option value: tuples become lists, so a default given as a tuple
    equals the list a checkpoint or a command line gives."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _own_options(space: str, options: Any) -> dict[str, Any]:
    """The space options that differ from the space's defaults, checked by name."""
    if not isinstance(options, dict):
        raise AdwpError(f"space_options must be a dict of option names, got {options!r}")
    defaults = space_options(space)
    for name in options:
        if name in DATA_SHAPE:
            raise AdwpError(
                f"space option {name!r} is set by the data set; give the other options only"
            )
        if name not in defaults:
            allowed = ", ".join(n for n in defaults if n not in DATA_SHAPE) or "none"
            raise AdwpError(
                f"search space {space!r} has no option {name!r}; its options: {allowed}"
            )
    return {
        name: _plain(value)
        for name, value in options.items()
        if _plain(value) != _plain(defaults[name])
    }


@dataclass(frozen=True)
class StoredGenerator:
    """A trained weight generator rebuilt from a checkpoint.

    Attributes:
        config: The training settings the checkpoint records.
        space: The search space the generator was trained on.
        model: The generator with its final weights.
        snapshots: The generator at each stored snapshot step, oldest first (may be empty).
    """

    config: TrainConfig
    space: Any
    model: torch.nn.Module
    snapshots: list[torch.nn.Module]


def generator_from_checkpoint(
    state: dict[str, Any], path: str | os.PathLike[str], snapshots: bool = True
) -> StoredGenerator:
    """Rebuilds the weight generator (and its snapshots) a checkpoint dict holds.

    Args:
        state: The checkpoint, as :func:`adwp.generators.checkpoint.load_checkpoint` returns it.
        path: Where it was read from (named in errors).
        snapshots: Also rebuild the stored weight snapshots; False leaves them out.

    Returns:
        The generator, its settings and space.

    Raises:
        CheckpointError: If the settings, space or weights are inconsistent.
    """
    try:
        config = TrainConfig.from_dict(state["train_config"])
        space = get_space(state["space"]["name"], **state["space"]["options"])
        model = build_model(space, config)
        model.load_state_dict(state["model"])
        rebuilt = []
        if snapshots:
            for stored in (state.get("snapshots") or {}).get("models", []):
                rebuilt.append(build_model(space, config))
                rebuilt[-1].load_state_dict(stored)
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        # load_state_dict puts the offending keys and shapes on the lines after its header.
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = " ".join(lines[:2]) if lines else type(exc).__name__
        raise CheckpointError(f"checkpoint {path} is inconsistent: {detail[:300]}") from None
    return StoredGenerator(config, space, model, rebuilt)


@dataclass(frozen=True)
class GeneratorCheckpoint:
    """A trained weight generator read from its checkpoint, with what it was trained on.

    Attributes:
        path: The checkpoint file.
        state: The checkpoint, as :func:`adwp.generators.checkpoint.load_checkpoint` returns it.
        stored: The generator, its settings, space and snapshots.
        data: Data splits given to :func:`open_generator` instead of the checkpoint's.
        data_root: Folder the checkpoint's data set is read from (None: the one it records).
    """

    path: Path
    state: dict[str, Any]
    stored: StoredGenerator
    data: DataSplits | None = None
    data_root: str | None = None

    @property
    def dataset(self) -> dict[str, Any]:
        """The checkpoint's data set entry: ``name``, ``seed``, ``root``, ``options``."""
        return self.state["dataset"]

    def load_data(self, **loader_options: Any) -> DataSplits:
        """The data splits given, or the checkpoint's data set split as in its training.

        Args:
            **loader_options: Loader options that change where images are read from, not
                which (e.g. ``cache_dir``).

        Raises:
            DataError: As :func:`checkpoint_data`.
        """
        if self.data is not None:
            return self.data
        return checkpoint_data(self.state, self.path, self.data_root, **loader_options)


def open_generator(
    source: str | os.PathLike[str],
    *,
    snapshots: bool = True,
    data: DataSplits | None = None,
    data_root: str | None = None,
) -> GeneratorCheckpoint:
    """Reads the weight generator of a checkpoint file or of a shipped evaluator's name.

    The one way the evaluator, hypernet-gradient search and the command line load a trained
    generator.

    Args:
        source: A checkpoint written by ``adwp train``, or the name of a shipped evaluator
            (:func:`adwp.pretrained.list_pretrained`; a name wins over a file of that name).
        snapshots: Also rebuild the stored weight snapshots.
        data: Data splits to use instead of the checkpoint's data set.
        data_root: Folder of on-disk data sets; None: the folder the checkpoint records.

    Returns:
        The generator and its checkpoint; its data set is loaded by ``load_data()``.

    Raises:
        AdwpError: If a shipped evaluator is named without ``data`` or ``data_root`` (it records
            no folder), or ``data`` is of another data set than it was trained on.
        CheckpointError: If the file is missing, corrupt or inconsistent.
    """
    from adwp.pretrained import check_pretrained

    path = Path(source)
    if isinstance(source, str) and source in PRETRAINED:
        item = PRETRAINED.get(source)
        if data is None and data_root is None:
            raise AdwpError(
                f"pretrained {item.name} reads {item.dataset} images: give their folder "
                "(data_root=, --data-root)"
            )
        if data is not None and data.name != item.dataset:
            raise AdwpError(
                f"pretrained {item.name} reads {item.dataset}, got data set {data.name}"
            )
        path = check_pretrained(item)
    state = load_checkpoint(path)
    stored = generator_from_checkpoint(state, path, snapshots=snapshots)
    return GeneratorCheckpoint(path, state, stored, data, data_root)


def checkpoint_data(
    state: dict[str, Any],
    path: str | os.PathLike[str],
    data_root: str | None = None,
    **loader_options: Any,
) -> DataSplits:
    """The data set a checkpoint's generator was trained on, split as in its training.

    Args:
        state: The checkpoint, as :func:`adwp.generators.checkpoint.load_checkpoint` returns it.
        path: Where it was read from (named in errors).
        data_root: Folder of on-disk data sets (CIFAR, ImageFolder); None: the folder the
            checkpoint records.
        **loader_options: Loader options that change where images are read from, not which
            (e.g. ``cache_dir``).

    Raises:
        DataError: If the data set cannot be loaded, or the recorded folder no longer exists and
            ``data_root`` is None.
    """
    info = state["dataset"]
    root = data_root
    if root is None:
        root = info.get("root")
        if root is not None and not os.path.isdir(root):
            raise DataError(
                f"checkpoint {path} was trained on {info['name']} images in {root}, which no "
                "longer exists; give the data's folder with --data-root (data_root= in Python)"
            )
    options = info.get("options") or {}
    return get_dataset(info["name"], root=root, seed=info["seed"], **options, **loader_options)
