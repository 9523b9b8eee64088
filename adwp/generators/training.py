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
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from adwp._augment import apply_shift, draw_shifts
from adwp._distributed import team
from adwp.data import DataSplits, as_tensors, get_dataset
from adwp.device import resolve_device
from adwp.errors import AdwpError, CheckpointError
from adwp.generators.build import WEIGHT_GENERATORS, TrainConfig, build_model
from adwp.generators.checkpoint import (
    FORMAT,
    VERSION,
    best_path,
    compact_snapshot,
    load_checkpoint,
    metrics_path,
    save_checkpoint,
)
from adwp.generators.functional import FunctionalNetwork
from adwp.generators.samplers import get_sampler
from adwp.spaces import DATA_SHAPE, GeneratorSpace, get_space
from encoders import StochasticEncoder

# The weight generator's settings and builder, and the paths of a run's files, are importable from
# here too: a training run is where users meet them.
__all__ = [
    "WEIGHT_GENERATORS",
    "CheckpointCallback",
    "TrainConfig",
    "Trainer",
    "best_path",
    "build_model",
    "metrics_path",
    "train",
]


class CheckpointCallback(Protocol):
    """Work done at every checkpoint of :meth:`Trainer.fit` (checkpoint selection, for one).

    :meth:`on_start` runs once, after a resumed run has restored its checkpoint and before the
    first step, so that a callback can restore what it had chosen before the interruption and a
    resumed run ends as an uninterrupted one would. :meth:`on_checkpoint` runs every
    ``checkpoint_every`` steps and at the last step, before the checkpoint is written.
    """

    def on_start(self, trainer: Trainer, out: Path, resumed: bool) -> None:
        """Called before the first step of :meth:`Trainer.fit`.

        Args:
            trainer: The trainer, at the step training starts from.
            out: The run's checkpoint path.
            resumed: Whether the trainer was restored from ``out`` (False: from step 0).
        """
        ...

    def on_checkpoint(self, trainer: Trainer, out: Path, log: IO[str]) -> None:
        """Called at a checkpoint step, before the checkpoint is written.

        Args:
            trainer: The trainer, just after the step.
            out: The run's checkpoint path.
            log: The open metrics log (JSON rows); rows written here are flushed afterwards.
        """
        ...


def _step_generators(seed: int, step: int) -> tuple[np.random.Generator, torch.Generator]:
    rng = np.random.default_rng([seed, step])
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    return rng, gen


class Trainer:
    """Trains a :class:`~adwp.generators.hypernet.HyperNetwork` (or the SPOS
    :class:`~adwp.generators.supernet.SuperNet`).

    Args:
        config: The run's settings.
        data: Data splits (loaded from ``config.dataset`` if omitted).
        data_root: Folder of on-disk data sets.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
        channels_last: Feed the images in channels-last memory order (faster convolutions on
            recent GPUs; the same numbers up to float rounding).
        compile: ``torch.compile`` the weight generator's fixed-shape parts (see
            ``compilable_parts``); the first steps then take the compilation time.

    Under ``torchrun`` (see :func:`adwp._distributed.init_from_environment`) each process
    trains its share of every step's architectures and the gradients are summed before the
    step, so the processes train one model like a single process would; only the first writes.
    Neither option is part of ``config``: a run may resume with or without them.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: DataSplits | None = None,
        data_root: str | None = None,
        device: str | torch.device | None = None,
        *,
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        self.config = config
        self.device = resolve_device(device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.data = data or get_dataset(config.dataset, root=data_root, seed=config.data_seed)
        shape = {name: getattr(self.data, name) for name in DATA_SHAPE}
        self.space = get_space(config.space, **shape, **config.space_options)
        if not isinstance(self.space, GeneratorSpace):
            raise AdwpError(
                f"search space {config.space!r} has no token encoding and weight slots (the "
                "GeneratorSpace protocol), which the hypernetwork and the supernet need"
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
        images, labels = as_tensors(self.data.train)
        self.images, self.labels = images.to(self.device), labels.to(self.device)
        self.max_shift = max(1, self.data.image_size // 14) if config.augment else 0
        self.use_amp = self.device.type == "cuda"
        if compile:
            for part in self.model.compilable_parts():
                # In place, so the state dict keeps its keys (no "_orig_mod." prefix).
                part.compile(dynamic=True)
        self.team = team()
        if config.meta_batch < self.team.size:
            raise AdwpError(
                f"meta_batch {config.meta_batch} is smaller than the {self.team.size} processes "
                "training it: every process needs at least one architecture per step"
            )

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
        # Every process draws the whole step; each trains its share of the architectures.
        mine = self.team.mine(len(archs))
        self.model.train()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.use_amp):
            encoding = encoding.to(self.device)
            predicted = self.model(encoding[mine], [archs[i] for i in mine])
            weights = dict(zip(mine, predicted, strict=True))
            loss = torch.zeros((), device=self.device)
            correct = 0.0
            largest = -1  # no teacher without distillation
            if c.distill > 0:
                largest = max(range(len(archs)), key=lambda i: self.space.params(archs[i]))
                teacher_net = FunctionalNetwork(self.space, archs[largest], self.device)
                if largest in weights:
                    teacher = weights[largest]
                else:  # another process trains it; this one needs only its predictions
                    with torch.no_grad():
                        teacher = self.model(encoding[[largest]], [archs[largest]])[0]
                teacher_weights = {k: v.detach() for k, v in teacher.items()}
            for i, (arch, idx) in enumerate(zip(archs, take)):
                # Drawn for every architecture, so the generator stays in step across processes.
                shifts = draw_shifts(len(idx), self.max_shift, gen)
                if i not in weights:
                    continue
                w = weights[i]
                x = apply_shift(self.images[idx.to(self.device)], shifts, self.max_shift)
                x = x.contiguous(memory_format=self.memory_format)
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
        total = self.team.sum(loss.item())
        if not math.isfinite(total):
            # Stop before the optimiser writes NaN into the weights and the next checkpoint.
            raise AdwpError(
                f"training diverged: the loss of step {self.step + 1} is {total}; the last "
                f"checkpoint is intact; lower the learning rate (lr={c.lr})"
            )
        self.optimizer.zero_grad(set_to_none=True)
        if mine:
            loss.backward()
        self.team.sum_gradients(list(self.model.parameters()))
        if c.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
        self.optimizer.step()
        self.step += 1
        if self._snapshot_step():
            state = compact_snapshot(self.model.state_dict())
            self.snapshots = [*self.snapshots, (self.step, state)][-c.snapshots :]
        correct = self.team.sum(correct)
        return {"step": self.step, "loss": total, "train_acc": correct, "lr": lr}

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
        callbacks: Sequence[CheckpointCallback] = (),
    ) -> Trainer:
        """Trains up to ``config.steps``, checkpointing to ``out`` and logging to its JSONL file.

        A checkpoint is written every ``config.checkpoint_every`` steps, at every snapshot step and
        at the end; each metrics row is flushed as it is written.

        Args:
            out: Checkpoint path.
            resume: Continue from ``out`` if it exists (same configuration required); if it
                does not, say so on stderr and start from step 0.
            quiet: Hide the progress bar.
            callbacks: Run at the start and at every ``checkpoint_every`` steps and the end, in
                order (see :class:`CheckpointCallback`); e.g. a
                :class:`~adwp.ranking.selection.CheckpointSelector`, which keeps the checkpoint that
                ranks its ground-truth table best.

        Returns:
            self.
        """
        from tqdm.auto import tqdm

        out = Path(out)
        log = metrics_path(out)
        # Under torchrun every process reads the checkpoint; only the main one writes files.
        main = self.team.main
        if resume and not out.exists() and main:
            # Otherwise a resume that found nothing looks exactly like one that did.
            print(f"no checkpoint at {out}, starting fresh", file=sys.stderr)
        resumed = out.exists()
        if resumed:
            if not resume:
                raise AdwpError(
                    f"{out} exists; pass --resume to continue it or choose another --out"
                )
            self.load_state_dict(load_checkpoint(out))
        callbacks = callbacks if main else ()
        for callback in callbacks:
            callback.on_start(self, out, resumed)
        if main:
            # Rows logged after the checkpoint we resume from would be repeated: drop them.
            rows = []
            if resume and log.exists():
                rows = [r for r in log.read_text().splitlines() if _logged_step(r) <= self.step]
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(r + "\n" for r in rows))
        handle = log.open("a") if main else open(os.devnull, "w")  # noqa: SIM115
        start = time.perf_counter()
        bar = tqdm(
            total=self.config.steps,
            initial=self.step,
            disable=quiet or not main,
            desc="train",
            unit="step",
        )
        with handle:
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
                    for callback in callbacks:
                        callback.on_checkpoint(self, out, handle)
                    handle.flush()
                    self._save_if_main(out)
                elif self._snapshot_step():
                    # A snapshot is a point worth keeping: a kill then loses at most
                    # snapshot_every steps, and the snapshots so far can be scored meanwhile.
                    self._save_if_main(out)
        bar.close()
        if not out.exists():  # steps were already reached: still leave a checkpoint behind
            self._save_if_main(out)
        return self

    def _save_if_main(self, out: Path) -> None:
        # The other processes hold the same weights; a second writer would only race the first.
        if self.team.main:
            self.save(out)


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
