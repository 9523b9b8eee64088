"""The epoch loop every gradient searcher shares, and the result it returns.

:class:`EpochSearch` runs ``config.epochs`` epochs of ``config.steps_per_epoch`` steps. Each
step draws its batches and noise from a generator seeded by the step's index alone, so a search
resumed from its checkpoint draws what an uninterrupted one draws. After every epoch the loop
records the derived architecture in ``history`` and writes the whole state atomically, so a
killed search re-run with the same checkpoint ends with the same architecture.

A searcher subclasses it and writes what differs: one step (:meth:`EpochSearch._step`), its
mixing weights, its derivation, and the tensors its checkpoint holds.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from adwp.checkpoint import save_checkpoint
from adwp.errors import AdwpError
from adwp.search._common import Pick, SearchOutcome, read_search_checkpoint

__all__ = ["DifferentiableResult", "EpochSearch"]

# Step ``i`` of a search seeded ``s`` draws from a generator seeded ``s * _STEP_SEEDS + i``.
_STEP_SEEDS = 1_000_003
# The losses an epoch records, as ``{name}_loss`` (None for one a searcher does not compute).
_LOSSES = ("train", "val")


@dataclass(frozen=True, init=False)
class DifferentiableResult(SearchOutcome):
    """What a gradient search found (differentiable and hypernet-gradient searches).

    Like every searcher's result a :class:`SearchOutcome`: ``evaluated`` holds a :class:`Pick`
    of every distinct architecture derived after an epoch, in the order first derived (extras:
    ``epoch``, the first epoch that derived it), scored by its table value (``truth``; NaN
    without a table: a gradient search scores no architecture itself); ``best`` is the
    architecture derived after the last epoch, the search's answer.

    Attributes:
        method: The searcher's name.
        arch: The architecture derived after the last epoch (canonical string).
        history: Per epoch: ``epoch``, ``arch``, ``weights`` (the ``[decisions, choices]``
            matrix), ``train_loss`` and ``val_loss`` (means over the epoch's steps; None for a
            loss the searcher does not compute), ``seconds`` (search time so far) and ``truth``
            (the table's value of ``arch``, None without one).
        config: The settings.
        evaluated: The derived architectures as picks (not compared by ``==``: they follow from
            ``history``).
    """

    evaluated: list[Pick] = field(compare=False)
    method: str
    arch: str
    history: list[dict[str, Any]]
    config: dict[str, Any]

    def __init__(
        self,
        method: str,
        arch: str,
        history: list[dict[str, Any]] | None = None,
        config: dict[str, Any] | None = None,
        evaluated: list[Pick] | None = None,
    ) -> None:
        values = {
            "evaluated": list(evaluated or []),
            "method": method,
            "arch": arch,
            "history": list(history or []),
            "config": dict(config or {}),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def best(self) -> Pick:
        """The pick of the architecture derived after the last epoch.

        Raises:
            AdwpError: If the result holds no pick of it.
        """
        for pick in self.evaluated:
            if pick.arch.to_string() == self.arch:
                return pick
        raise AdwpError(f"the result holds no pick of its architecture {self.arch}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``method``, ``arch``, ``truth`` (of the final architecture), then, with
        picks, ``best``, ``evaluations`` and ``evaluated`` (records whose ``score`` is the table
        value or null), and ``history``, ``config``."""
        out: dict[str, Any] = {
            "method": self.method,
            "arch": self.arch,
            "truth": self.history[-1]["truth"] if self.history else None,
        }
        if self.evaluated:
            out.update(
                best=self.best.to_dict(),
                evaluations=self.evaluations,
                evaluated=[pick.to_dict() for pick in self.evaluated],
            )
        return {**out, "history": self.history, "config": self.config}


class EpochSearch:
    """Base of the searchers that move architecture parameters by gradient steps.

    A subclass sets :attr:`kind` and, before :meth:`run`, the attributes ``space``, ``config``
    (with ``epochs``, ``steps_per_epoch``, ``batch_size`` and ``seed``), ``device`` and
    ``method``, calls :meth:`_start` in its constructor and implements :meth:`_step`,
    :meth:`mixing_weights`, :meth:`derived`, :meth:`_identity`, :meth:`_state` and
    :meth:`_restore`.

    Attributes:
        epoch: Epochs done.
        history: One record per epoch done (see :class:`DifferentiableResult`).
        seconds: Search time so far, over every run that continued the search.
    """

    #: The ``kind`` of the search's checkpoints.
    kind: str
    #: The checkpoint format written.
    format: int = 1
    space: Any
    config: Any
    device: torch.device
    method: str

    def _start(self) -> None:
        """Sets the loop's state to a search not yet begun."""
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.seconds = 0.0

    # -- what a searcher writes -------------------------------------------------------------------
    def _prepare(self) -> None:
        """Called once per :meth:`run`, after resuming: e.g. reads the data set's tensors."""

    def _start_epoch(self) -> None:
        """Called at the start of every epoch: e.g. sets the epoch's learning rate."""

    def _step(self, index: int, generator: torch.Generator) -> dict[str, float]:
        """One step of the search: ``index`` counts steps from the search's start; batches and
        noise are drawn with ``generator``. Returns the step's losses by name (``"train"``,
        ``"val"``)."""
        raise NotImplementedError

    def mixing_weights(self) -> torch.Tensor:
        """The ``[decisions, choices]`` weights recorded with every epoch."""
        raise NotImplementedError

    def derived(self) -> str:
        """The architecture the current parameters derive, as a canonical string."""
        raise NotImplementedError

    def _identity(self) -> dict[str, Any]:
        """What a checkpoint must match to be resumed by this search (``{key: value}``)."""
        raise NotImplementedError

    def _stored_identity(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """The same keys as :meth:`_identity`, read from a checkpoint's state."""
        return {key: state[key] for key in self._identity()}

    def _header(self) -> dict[str, Any]:
        """The identifying entries a checkpoint holds (default: :meth:`_identity`)."""
        return self._identity()

    def _state(self) -> dict[str, Any]:
        """The searcher's tensors and optimiser states, for its checkpoint."""
        raise NotImplementedError

    def _restore(self, state: Mapping[str, Any]) -> None:
        """Loads what :meth:`_state` wrote."""
        raise NotImplementedError

    # -- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The whole search state: plain tensors and primitives."""
        return {
            "format": self.format,
            "kind": self.kind,
            **self._header(),
            "epoch": self.epoch,
            "seconds": self.seconds,
            "history": self.history,
            **self._state(),
        }

    def _save(self, path: Path) -> None:
        save_checkpoint(path, self.state_dict())  # atomic: a kill leaves the last epoch's file

    def _load(self, path: Path) -> None:
        state = read_search_checkpoint(
            path, self.kind, self._identity(), self._stored_identity, self.device
        )
        self._restore(state)
        self.epoch, self.seconds = int(state["epoch"]), float(state["seconds"])
        self.history = list(state["history"])

    # -- the loop -------------------------------------------------------------------------------
    def _batch(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``config.batch_size`` images and labels drawn with replacement, on the device."""
        index = torch.randint(x.shape[0], (self.config.batch_size,), generator=generator)
        return x[index].to(self.device), y[index].to(self.device)

    def run(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        truth: Mapping[str, float] | None = None,
        progress: bool = False,
    ) -> DifferentiableResult:
        """Searches for ``config.epochs`` epochs, resuming from ``checkpoint`` when it exists.

        Args:
            checkpoint: File the state is written to after every epoch (atomically) and resumed
                from; None: no checkpoint.
            truth: Architecture string -> accuracy (e.g. NAS-Bench-201's table), recorded next to
                each epoch's derived architecture.
            progress: Show a progress bar over the steps.

        Returns:
            The result, with the derived architecture of every epoch.

        Raises:
            CheckpointError: If the checkpoint is unreadable or of another search.
        """
        path = Path(checkpoint) if checkpoint is not None else None
        if path is not None and path.exists():
            self._load(path)
        c = self.config
        self._prepare()
        bar = tqdm(
            total=c.epochs * c.steps_per_epoch, initial=self.epoch * c.steps_per_epoch,
            disable=not progress, desc=self.method, unit="step",
        )  # fmt: skip
        while self.epoch < c.epochs:
            start = time.perf_counter()
            self._start_epoch()
            totals: dict[str, float] = {}
            for step in range(c.steps_per_epoch):
                index = self.epoch * c.steps_per_epoch + step
                generator = torch.Generator().manual_seed(c.seed * _STEP_SEEDS + index)
                for name, value in self._step(index, generator).items():
                    totals[name] = totals.get(name, 0.0) + value
                bar.update(1)
            self.epoch += 1
            self.seconds += time.perf_counter() - start
            arch = self.derived()
            losses = {
                f"{name}_loss": totals[name] / c.steps_per_epoch if name in totals else None
                for name in _LOSSES
            }
            self.history.append(
                {
                    "epoch": self.epoch,
                    "arch": arch,
                    "weights": self.mixing_weights().detach().cpu().tolist(),
                    **losses,
                    "seconds": round(self.seconds, 3),
                    "truth": None if truth is None else truth.get(arch),
                }
            )
            if path is not None:
                self._save(path)
        bar.close()
        return self._result()

    def _result(self) -> DifferentiableResult:
        first: dict[str, dict[str, Any]] = {}
        for record in self.history:
            first.setdefault(record["arch"], record)
        evaluated = [
            Pick.of(
                self.space,
                self.space.validate(arch),
                math.nan if record["truth"] is None else record["truth"],
                epoch=record["epoch"],
            )
            for arch, record in first.items()
        ]
        return DifferentiableResult(
            self.method, self.derived(), self.history, asdict(self.config), evaluated
        )
