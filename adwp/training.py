"""Hypernetwork training: meta-batches of sampled architectures through the stochastic encoder.

Every random choice of step ``t`` (architectures, encodings, images, augmentation) comes from
generators seeded with ``(seed, t)``, so a run resumed from a checkpoint at step ``t`` continues
exactly as the uninterrupted run would, and gives the same final weights.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from adwp._augment import random_shift
from adwp.checkpoint import FORMAT, VERSION, compact_snapshot, load_checkpoint, save_checkpoint
from adwp.data import DataSplits, as_tensors, get_dataset
from adwp.errors import AdwpError, CheckpointError
from adwp.functional import FunctionalNetwork
from adwp.hypernet import HyperNetConfig, HyperNetwork
from adwp.samplers import get_sampler
from adwp.spaces import get_space
from adwp.supernet import SuperNet
from encoders import StochasticEncoder

if TYPE_CHECKING:
    from adwp.selection import CheckpointSelector

__all__ = [
    "WEIGHT_GENERATORS",
    "TrainConfig",
    "Trainer",
    "best_path",
    "build_model",
    "metrics_path",
    "train",
]

# Modules that map (encoding, archs) to weight dicts; the trainer and evaluator take any of them.
WEIGHT_GENERATORS: dict[str, type[torch.nn.Module]] = {
    "hypernet": HyperNetwork,
    "supernet": SuperNet,
}

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
    return WEIGHT_GENERATORS[config.model](space, config.hypernet)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a hypernetwork training run.

    The defaults are the settings that ranked best on ``mnist5k`` (``docs/decisions.md``): a
    short run (ranking quality peaks early), 8 architectures per step drawn by
    the sandwich rule, and the scores averaged over the last 6 snapshots, 50 steps apart.

    Attributes:
        dataset: Registered data set name.
        space: Registered search space name.
        base_widths: Full width of each stage.
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
    base_widths: tuple[int, ...] = (16, 32, 64)
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
        if self.optimizer not in ("adamw", "sgd"):
            raise AdwpError(f"optimizer must be 'adamw' or 'sgd', got {self.optimizer!r}")
        if self.model not in WEIGHT_GENERATORS:
            raise AdwpError(f"model must be one of {sorted(WEIGHT_GENERATORS)}, got {self.model!r}")
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
        out = asdict(self)
        out["base_widths"] = list(self.base_widths)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`, reading checkpoints of every earlier version too.

        A setting missing from ``data`` was added after the checkpoint was written; it takes the
        value that reproduces the training as it was before the setting existed, not today's
        default.

        Raises:
            CheckpointError: If ``data`` holds an unknown setting.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CheckpointError(f"unknown training settings in checkpoint: {unknown}")
        data = {**_BEFORE_IT_EXISTED, **data}
        data["base_widths"] = tuple(data.get("base_widths", (16, 32, 64)))
        try:
            data["hypernet"] = HyperNetConfig.from_dict(data.get("hypernet", {}))
        except AdwpError as exc:
            raise CheckpointError(f"checkpoint's hypernetwork settings: {exc}") from None
        return cls(**data)


def metrics_path(checkpoint: str | os.PathLike[str]) -> Path:
    """Returns the JSONL metrics file of a checkpoint (``h.pt`` -> ``h.metrics.jsonl``)."""
    path = Path(checkpoint)
    return path.with_name(path.stem + ".metrics.jsonl")


def best_path(checkpoint: str | os.PathLike[str]) -> Path:
    """Where ``--select-on`` keeps the selected checkpoint of a run (``X.pt`` -> ``X.best.pt``)."""
    path = Path(checkpoint)
    return path.with_name(path.stem + ".best" + (path.suffix or ".pt"))


def _auto_device(device: str | torch.device | None) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise AdwpError(
            f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from None
    # Checked here, because torch would only fail at the first tensor moved, deep in a run.
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise AdwpError(f"device {device!r} asked for, but no CUDA device is available; use 'cpu'")
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise AdwpError(
            f"device {device!r} asked for, but only {torch.cuda.device_count()} CUDA "
            "device(s) exist"
        )
    return resolved


def _step_generators(seed: int, step: int) -> tuple[np.random.Generator, torch.Generator]:
    rng = np.random.default_rng([seed, step])
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    return rng, gen


class Trainer:
    """Trains a :class:`HyperNetwork` (or the :class:`SuperNet` baseline) on one data set.

    Args:
        config: The run's settings.
        data: Data splits (loaded from ``config.dataset`` if omitted).
        data_root: Folder of on-disk data sets.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
    """

    def __init__(
        self,
        config: TrainConfig,
        data: DataSplits | None = None,
        data_root: str | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        self.config = config
        self.device = _auto_device(device)
        self.data = data or get_dataset(config.dataset, root=data_root, seed=config.data_seed)
        self.space = get_space(
            config.space,
            in_channels=self.data.in_channels,
            num_classes=self.data.num_classes,
            image_size=self.data.image_size,
            base_widths=config.base_widths,
        )
        self.sampler = get_sampler(config.sampler, self.space)
        # SPOS trains exactly the sampled single paths: no stochastic relaxation for the supernet.
        stochastic = config.model == "hypernet"
        self.encoder = StochasticEncoder(
            self.space,
            config.max_mix if stochastic else 0.0,
            config.hard_fraction if stochastic else 1.0,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = build_model(self.space, config).to(self.device)
        if config.optimizer == "adamw":
            self.optimizer: torch.optim.Optimizer = torch.optim.AdamW(
                self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
            )
        else:
            self.optimizer = torch.optim.SGD(
                self.model.parameters(),
                lr=config.lr,
                momentum=0.9,
                nesterov=True,
                weight_decay=config.weight_decay,
            )
        self.step = 0
        # (step, CPU copy of the model's state) for the latest ``config.snapshots`` snapshots.
        self.snapshots: list[tuple[int, dict[str, torch.Tensor]]] = []
        self.best_tau: float | None = None
        self.best_step: int | None = None
        images, labels = as_tensors(self.data.train)
        self.images, self.labels = images.to(self.device), labels.to(self.device)
        self.max_shift = max(1, self.data.image_size // 14) if config.augment else 0
        self.use_amp = self.device.type == "cuda"

    # -- schedule and one step ---------------------------------------------------------------
    def learning_rate(self, step: int) -> float:
        """Linear warm-up then cosine decay to zero (per cycle), as a function of the step."""
        c = self.config
        if step < c.warmup_steps:
            return c.lr * (step + 1) / c.warmup_steps
        length = c.steps / c.lr_cycles
        cycle = min(c.lr_cycles - 1, int(step // length))
        start, end = max(cycle * length, c.warmup_steps), (cycle + 1) * length
        progress = (step - start) / max(1.0, end - start)
        return 0.5 * c.lr * (1 + math.cos(math.pi * min(1.0, progress)))

    def train_step(self) -> dict[str, float]:
        """Runs one optimisation step and returns its metrics."""
        c = self.config
        rng, gen = _step_generators(c.seed, self.step)
        lr = self.learning_rate(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        proposals = self.sampler.sample(c.meta_batch, rng)
        archs, encoding = self.encoder.sample(proposals, gen)
        n = self.images.shape[0]
        take = torch.randperm(n, generator=gen)
        need = c.meta_batch * c.batch_size
        take = take.repeat(math.ceil(need / n))[:need].view(c.meta_batch, c.batch_size)
        self.model.train()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.use_amp):
            weights = self.model(encoding.to(self.device), archs)
            loss = torch.zeros((), device=self.device)
            correct = 0.0
            largest = -1  # no teacher without distillation
            if c.distill > 0:
                largest = max(range(len(archs)), key=lambda i: self.space.params(archs[i]))
                teacher_net = FunctionalNetwork(self.space, archs[largest], self.device)
                teacher_weights = {k: v.detach() for k, v in weights[largest].items()}
            for i, (arch, w, idx) in enumerate(zip(archs, weights, take)):
                x = self.images[idx.to(self.device)]
                x = random_shift(x, self.max_shift, gen)
                y = self.labels[idx.to(self.device)]
                logits = FunctionalNetwork(self.space, arch, self.device)(w, x, train=True)
                arch_loss = F.cross_entropy(logits.float(), y)
                if c.distill > 0 and i != largest:
                    with torch.no_grad():
                        teacher = teacher_net(teacher_weights, x, train=True).float()
                    soft = F.kl_div(
                        F.log_softmax(logits.float(), 1),
                        F.log_softmax(teacher, 1),
                        log_target=True,
                        reduction="batchmean",
                    )
                    arch_loss = (1 - c.distill) * arch_loss + c.distill * soft
                loss = loss + arch_loss / c.meta_batch
                correct += (logits.argmax(1) == y).float().mean().item() / c.meta_batch
        if not torch.isfinite(loss):
            # Stop before the optimiser writes NaN into the weights and the next checkpoint.
            raise AdwpError(
                f"training diverged: the loss of step {self.step + 1} is {loss.item()}; the last "
                f"checkpoint is intact; lower the learning rate (lr={c.lr})"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
        self.optimizer.step()
        self.step += 1
        if self._snapshot_step():
            state = compact_snapshot(self.model.state_dict())
            self.snapshots = [*self.snapshots, (self.step, state)][-c.snapshots :]
        return {"step": self.step, "loss": loss.item(), "train_acc": correct, "lr": lr}

    def _snapshot_step(self) -> bool:
        """Whether the step just taken is one where a weight snapshot is kept."""
        every = self.config.snapshot_every
        return bool(every) and self.step % every == 0

    # -- checkpoints -------------------------------------------------------------------------
    def state_dict(self, resumable: bool | None = None) -> dict[str, Any]:
        """Returns the checkpoint dict (plain tensors and primitives).

        Args:
            resumable: Include the optimiser state, which only resuming needs (twice the model's
                size with AdamW). None: only while the run is incomplete, since nothing can
                resume a complete run.
        """
        complete = self.step >= self.config.steps
        state = {
            "format": FORMAT,
            "version": VERSION,
            "space": {"name": self.config.space, "options": self.space.config()},
            "dataset": {
                "name": self.config.dataset,
                "seed": self.config.data_seed,
                "in_channels": self.data.in_channels,
                "num_classes": self.data.num_classes,
                "image_size": self.data.image_size,
                # Where the images were read from, and the loader's options, so that scoring
                # finds the same data without being told again.
                "root": self.data.root,
                "options": dict(self.data.options),
            },
            "train_config": self.config.to_dict(),
            "step": self.step,
            "complete": complete,
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "snapshots": {
                "steps": [step for step, _ in self.snapshots],
                "models": [state for _, state in self.snapshots],
            },
        }
        if (not complete) if resumable is None else resumable:
            state["optimizer"] = self.optimizer.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores model, optimiser and step from a checkpoint dict."""
        stored = TrainConfig.from_dict(state["train_config"])
        if stored != self.config:
            diff = [
                f"{f.name}={getattr(stored, f.name)!r} (asked {getattr(self.config, f.name)!r})"
                for f in fields(TrainConfig)
                if getattr(stored, f.name) != getattr(self.config, f.name)
            ]
            raise CheckpointError(f"cannot resume: checkpoint was trained with {', '.join(diff)}")
        step = int(state["step"])
        if "optimizer" not in state and step < self.config.steps:
            raise CheckpointError(
                f"cannot resume: the checkpoint of step {step} holds no optimiser state (a "
                "selected .best.pt is for scoring only); resume the run's own checkpoint"
            )
        try:
            self.model.load_state_dict(state["model"])
            if "optimizer" in state:
                self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, KeyError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(f"checkpoint does not match its configuration: {first}") from None
        self.step = step
        stored_snapshots = state.get("snapshots") or {"steps": [], "models": []}
        # Older files kept snapshots in float32: recast, so a resumed run keeps exactly what an
        # uninterrupted one would.
        self.snapshots = [
            (step, compact_snapshot(model))
            for step, model in zip(stored_snapshots["steps"], stored_snapshots["models"])
        ]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes a checkpoint atomically."""
        save_checkpoint(path, self.state_dict())

    def fit(
        self,
        out: str | os.PathLike[str],
        resume: bool = False,
        quiet: bool = False,
        selector: CheckpointSelector | None = None,
    ) -> Trainer:
        """Trains up to ``config.steps``, checkpointing to ``out`` and logging to its JSONL file.

        A checkpoint is written every ``config.checkpoint_every`` steps, at every snapshot step and
        at the end; each metrics row is flushed as it is written.

        Args:
            out: Checkpoint path.
            resume: Continue from ``out`` if it exists (same configuration required); if it
                does not, say so on stderr and start from step 0.
            quiet: Hide the progress bar.
            selector: Every ``checkpoint_every`` steps and at the end, score its ground-truth
                architectures, log ``selection_tau`` and keep the checkpoint with the best tau in
                :func:`best_path` (``X.best.pt``, without optimiser state), with a ``selection``
                entry (table, tau, step). A resumed run keeps the same choice as an
                uninterrupted one.

        Returns:
            self.
        """
        from tqdm.auto import tqdm

        out = Path(out)
        log = metrics_path(out)
        self.best_tau = self.best_step = None
        if resume and not out.exists():
            # Otherwise a resume that found nothing looks exactly like one that did.
            print(f"no checkpoint at {out}, starting fresh", file=sys.stderr)
        if out.exists():
            if not resume:
                raise AdwpError(
                    f"{out} exists; pass --resume to continue it or choose another --out"
                )
            self.load_state_dict(load_checkpoint(out))
            if selector is not None and best_path(out).exists():
                chosen = load_checkpoint(best_path(out)).get("selection") or {}
                if chosen.get("table") != selector.table:
                    raise AdwpError(
                        f"{best_path(out)} was selected on {chosen.get('table')!r}, not "
                        f"{selector.table!r}: resume with that table, or remove the file to "
                        "start the selection afresh"
                    )
                self.best_tau, self.best_step = chosen.get("tau"), chosen.get("step")
        # Rows logged after the checkpoint we resume from would be repeated: drop them.
        rows = []
        if resume and log.exists():
            rows = [r for r in log.read_text().splitlines() if _logged_step(r) <= self.step]
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(r + "\n" for r in rows))
        start = time.perf_counter()
        bar = tqdm(
            total=self.config.steps, initial=self.step, disable=quiet, desc="train", unit="step"
        )
        with log.open("a") as handle:
            while self.step < self.config.steps:
                metrics = self.train_step()
                metrics["seconds"] = round(time.perf_counter() - start, 3)
                handle.write(json.dumps(metrics) + "\n")
                # Rows are for watching a run live; a buffered row shows up only much later.
                handle.flush()
                bar.update(1)
                bar.set_postfix(loss=f"{metrics['loss']:.3f}", acc=f"{metrics['train_acc']:.2f}")
                last = self.step == self.config.steps
                if self.step % self.config.checkpoint_every == 0 or last:
                    if selector is not None:
                        self._select(selector, out, handle)
                        handle.flush()
                    self.save(out)
                elif self._snapshot_step():
                    # A snapshot is a point worth keeping: a kill then loses at most
                    # snapshot_every steps, and the snapshots so far can be scored meanwhile.
                    self.save(out)
        bar.close()
        if not out.exists():  # steps were already reached: still leave a checkpoint behind
            self.save(out)
        return self

    def _select(self, selector: CheckpointSelector, out: Path, log: IO[str]) -> None:
        """Scores the selection table and saves this checkpoint as the best if its tau is higher."""
        tau = selector.tau(self.model, self.device)
        log.write(json.dumps({"step": self.step, "selection_tau": tau}) + "\n")
        # Ties keep the earlier checkpoint: the same choice whether or not the run was resumed.
        if tau is not None and (self.best_tau is None or tau > self.best_tau):
            self.best_tau, self.best_step = tau, self.step
            # Kept for scoring only: no optimiser state.
            state = self.state_dict(resumable=False)
            save_checkpoint(best_path(out), {**state, "selection": selector.info(tau, self.step)})


def _logged_step(line: str) -> float:
    """Step of a metrics row; a row cut off by a kill counts as never written."""
    try:
        return json.loads(line)["step"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return math.inf


def train(
    config: TrainConfig,
    out: str | os.PathLike[str],
    *,
    resume: bool = False,
    quiet: bool = False,
    data_root: str | None = None,
    device: str | None = None,
) -> Trainer:
    """Trains a weight generator and checkpoints it to ``out`` (see :class:`Trainer`).

    Args:
        config: The run's settings (the defaults are the settings we rank with).
        out: Checkpoint file, written atomically every ``config.checkpoint_every`` steps, at
            every snapshot step and at the end.
        resume: Continue ``out`` if it exists; the same configuration is required.
        quiet: Hide the progress bar.
        data_root: Folder of on-disk data sets (CIFAR, ImageFolder).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns:
        The finished trainer.

    Raises:
        AdwpError: If ``out`` exists without ``resume``, or the settings, data or device are
            invalid.
    """
    return Trainer(config, data_root=data_root, device=device).fit(out, resume=resume, quiet=quiet)
