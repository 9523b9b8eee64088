"""Gradient search through a trained hypernetwork: no weight is trained during the search.

The architecture is a matrix of logits, one row per decision (a cell's edges in NB201). Each step
draws the decision weights from the logits, encodes them for the weight generator, which emits
the weights of every operation of the space's relaxed network (``space.mixed_weight_plan()``),
runs a validation batch through that network with the drawn weights mixing the operations, and
moves the logits down the gradient of the loss. Gradients reach the logits by two paths: the
mixing weights of the relaxed network, and the encoding the weights were predicted from. The
generator is frozen; the derived architecture is the row-wise argmax of the logits.

Estimators (:attr:`HypernetGradientConfig.estimator`; more register in
:data:`adwp.registry.GRADIENT_ESTIMATORS` as ``estimator(logits, temperature, noise)``):

- ``"soft"`` (the default): the softmax of the logits itself, without noise (DARTS's relaxation
  on frozen, predicted weights). Every operation of every edge runs.
- ``"gumbel"``: a soft Gumbel-softmax draw mixes every operation.
- ``"straight-through"``: a Gumbel-max draw, one-hot in the forward pass and the Gumbel-softmax's
  gradient in the backward pass (as GDAS). The forward pass runs only the drawn operation of
  each edge, the cost of one network, so the mixing weights tell the logits only whether the
  drawn operation helps, not how the others compare; the encoding path carries the rest.

On NB201 CIFAR-10 the soft relaxation finds the best cell of the three (``docs/results.md``).

With snapshots in the checkpoint, step ``i`` uses snapshot ``i mod n``, so the search follows the
same ensemble the evaluator scores with, at the cost of one generator per step.

Example::

    from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch

    search = HypernetGradientSearch.pretrained(
        "nb201-cifar10", HypernetGradientConfig(seed=1), data_root="cifar10-jpeg"
    )
    print(search.run().arch)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.func import functional_call

from adwp._checks import check_data_fits, check_fields
from adwp.data import DataSplits, as_tensors
from adwp.errors import AdwpError
from adwp.generator import StoredGenerator, open_generator
from adwp.registry import GRADIENT_ESTIMATORS
from adwp.search._epochs import EpochSearch
from adwp.spaces import MixedGeneratorSpace

__all__ = ["ESTIMATORS", "HypernetGradientConfig", "HypernetGradientSearch"]

METHOD = "hypernet-gradient"
# Noise for the Gumbel draws: called only by the estimators that draw, so "soft" consumes none.
GumbelNoise = Callable[[], torch.Tensor]


@GRADIENT_ESTIMATORS.register("soft")
def _soft(logits: torch.Tensor, temperature: float, noise: GumbelNoise) -> torch.Tensor:
    """The softmax of the logits, without noise: every operation of every edge runs."""
    return F.softmax(logits / temperature, dim=-1)


@GRADIENT_ESTIMATORS.register("gumbel")
def _gumbel(logits: torch.Tensor, temperature: float, noise: GumbelNoise) -> torch.Tensor:
    """A soft Gumbel-softmax draw mixing every operation."""
    return F.softmax((logits + noise()) / temperature, dim=-1)


@GRADIENT_ESTIMATORS.register("straight-through")
def _straight_through(logits: torch.Tensor, temperature: float, noise: GumbelNoise) -> torch.Tensor:
    """A Gumbel-max draw, one-hot forward, the Gumbel-softmax's gradient backward (GDAS)."""
    soft = _gumbel(logits, temperature, noise)
    hard = F.one_hot(soft.argmax(dim=-1), soft.shape[-1]).to(soft.dtype)
    # Exactly one-hot forward (the relaxed network skips the zero operations); the soft
    # draw's gradient backward.
    return hard - soft.detach() + soft


#: The built-in estimators, in the order the module describes them.
ESTIMATORS = ("soft", "gumbel", "straight-through")


@dataclass(frozen=True)
class HypernetGradientConfig:
    """Settings of a gradient search through a weight generator.

    Attributes:
        epochs: Epochs; the derived architecture is recorded (and checkpointed) after each.
        steps_per_epoch: Architecture updates per epoch, one validation batch each.
        batch_size: Validation images per step.
        lr: Adam learning rate of the logits.
        estimator: ``"soft"``, ``"gumbel"`` or ``"straight-through"`` (see the module).
        temperature: Softmax temperature of the draws.
        snapshots: Cycle through the checkpoint's weight snapshots (True), or use its final
            weights only (False).
        seed: Seeds the initial logits, the Gumbel noise and every batch.
    """

    epochs: int = 10
    steps_per_epoch: int = 20
    batch_size: int = 128
    lr: float = 0.05
    estimator: str = "soft"
    temperature: float = 1.0
    snapshots: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        check_fields(
            self,
            counts=("epochs", "steps_per_epoch", "batch_size"),
            positives=("lr", "temperature"),
        )
        if self.estimator not in GRADIENT_ESTIMATORS:
            raise AdwpError(
                "HypernetGradientConfig.estimator must be one of "
                f"{', '.join(GRADIENT_ESTIMATORS.list())}, got {self.estimator!r}"
            )


class HypernetGradientSearch(EpochSearch):
    """Descends the validation loss of a trained weight generator's networks in architecture space.

    Args:
        stored: A trained weight generator (:func:`adwp.generator.generator_from_checkpoint`)
            whose space has a relaxed network it can emit (:class:`MixedGeneratorSpace`).
        data: The data set the generator was trained on, split as in its training (its
            ``data_seed``); the search reads the validation images only.
        config: Settings.
        device: Where to search.

    Raises:
        AdwpError: If the space has no relaxation a generator can emit, or the data set's shape
            is not the space's.

    :meth:`run` returns a :class:`adwp.search.differentiable.DifferentiableResult` whose epochs
    record the softmax of the logits as ``weights`` and no ``train_loss`` (nothing is trained).
    """

    kind = "hypernet-gradient-search"

    def __init__(
        self,
        stored: StoredGenerator,
        data: DataSplits,
        config: HypernetGradientConfig | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        space = stored.space
        if not isinstance(space, MixedGeneratorSpace):
            raise AdwpError(
                f"search space {space.name!r} has no relaxed network a weight generator can emit "
                "(mixed_shape, build_mixed, mixed_weight_plan): gradient search needs one"
            )
        check_data_fits(space, data)
        self.stored, self.space, self.data, self.method = stored, space, data, METHOD
        self.config = config or HypernetGradientConfig()
        self.device = torch.device(device)
        use = stored.snapshots if self.config.snapshots and stored.snapshots else [stored.model]
        self.generators = [g.to(self.device).eval().requires_grad_(False) for g in use]
        # The relaxed network only lends its structure: every parameter comes from a generator.
        with torch.device("meta"):
            network = space.build_mixed()
        self.network = network.to_empty(device=self.device).train()
        for module in self.network.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.reset_running_stats()
        self.plan = space.mixed_weight_plan()
        generator = torch.Generator().manual_seed(self.config.seed)
        shape = tuple(space.mixed_shape())
        initial = 1e-3 * torch.randn(shape, generator=generator)
        self.logits = torch.nn.Parameter(initial.to(self.device))
        self.optimizer = torch.optim.Adam([self.logits], lr=self.config.lr, betas=(0.5, 0.999))
        self._start()

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike[str],
        config: HypernetGradientConfig | None = None,
        *,
        data_root: str | None = None,
        device: str | torch.device = "cpu",
        data: DataSplits | None = None,
    ) -> HypernetGradientSearch:
        """Searches with a weight generator checkpoint written by ``adwp train``.

        Args:
            path: Checkpoint file (a hypernetwork, or a supernet: the search then follows the
                supernet's shared weights), or a shipped evaluator's name.
            config: Settings.
            data_root: Folder of on-disk data sets; None: the folder the checkpoint records.
            device: Where to search.
            data: Data splits to use instead of loading the checkpoint's data set.

        Raises:
            CheckpointError: If the file is missing, corrupt or inconsistent.
            DataError: If the data set cannot be loaded.
        """
        snapshots = config is None or config.snapshots
        opened = open_generator(path, snapshots=snapshots, data=data, data_root=data_root)
        return cls(opened.stored, opened.load_data(), config, device)

    @classmethod
    def pretrained(
        cls,
        name: str,
        config: HypernetGradientConfig | None = None,
        *,
        data: DataSplits | None = None,
        data_root: str | None = None,
        device: str | torch.device = "cpu",
    ) -> HypernetGradientSearch:
        """Searches with a weight generator that ships with adwp (e.g. ``"nb201-cifar10"``).

        Raises:
            AdwpError: If no evaluator has that name, neither ``data_root`` nor ``data`` is
                given, or ``data`` is of another data set.
        """
        from adwp.pretrained import get_pretrained

        get_pretrained(name)  # an unknown name is refused, not read as a path
        return cls.from_checkpoint(name, config, data_root=data_root, device=device, data=data)

    # -- checkpoints -------------------------------------------------------------------------
    def _identity(self) -> dict[str, Any]:
        return {
            "space": self.space.config(),
            "generator": self.stored.config.to_dict(),
            "config": asdict(self.config),
        }

    def _state(self) -> dict[str, Any]:
        return {"logits": self.logits.detach().cpu(), "optimizer": self.optimizer.state_dict()}

    def _restore(self, state: Mapping[str, Any]) -> None:
        with torch.no_grad():
            self.logits.copy_(state["logits"])
        self.optimizer.load_state_dict(state["optimizer"])

    # -- the search --------------------------------------------------------------------------
    def decision_weights(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """The ``[decisions, choices]`` weights of one step, drawn with ``generator``'s noise
        (the estimator's draw; ``"soft"`` draws nothing)."""

        def noise() -> torch.Tensor:
            uniform = torch.rand(self.logits.shape, generator=generator).to(self.device)
            return -torch.log((-torch.log(uniform.clamp_min(1e-10))).clamp_min(1e-10))

        estimator = GRADIENT_ESTIMATORS.get(self.config.estimator)
        return estimator(self.logits, self.config.temperature, noise)

    def loss(
        self, weights: torch.Tensor, x: torch.Tensor, y: torch.Tensor, snapshot: int = 0
    ) -> torch.Tensor:
        """Cross-entropy of the relaxed network with decision weights ``weights`` on ``(x, y)``,
        its parameters emitted by generator ``snapshot`` from the encoding of ``weights``."""
        probabilities = [group[None] for group in self._groups(weights)]
        encoding = self.space.encode(probabilities)
        params = self.generators[snapshot].emit(encoding, [self.plan])[0]
        return F.cross_entropy(functional_call(self.network, params, (x, weights)), y)

    def _groups(self, weights: torch.Tensor) -> list[torch.Tensor]:
        # The relaxation's rows are the decisions, in the order of the space's decision groups.
        groups, start = [], 0
        for group in self.space.decision_groups():
            groups.append(weights[start : start + len(group.decisions)])
            start += len(group.decisions)
        return groups

    def derived(self) -> str:
        """The architecture of the logits' row-wise argmax, as a canonical string."""
        codes = [int(i) for i in self.logits.detach().argmax(dim=-1)]
        return self.space.from_genotype(codes).to_string()

    def mixing_weights(self) -> torch.Tensor:
        """The softmax of the logits (what each epoch records as ``weights``)."""
        return F.softmax(self.logits.detach(), dim=-1)

    def _prepare(self) -> None:
        self._val = as_tensors(self.data.val)

    def _step(self, index: int, generator: torch.Generator) -> dict[str, float]:
        """One update of the logits on a validation batch; nothing is trained, so there is no
        training loss."""
        x, y = self._batch(*self._val, generator)
        self.optimizer.zero_grad(set_to_none=True)
        weights = self.decision_weights(generator)
        loss = self.loss(weights, x, y, snapshot=index % len(self.generators))
        loss.backward()
        self.optimizer.step()
        return {"val": loss.item()}
