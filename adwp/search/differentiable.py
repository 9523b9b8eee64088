"""Differentiable architecture search (the DARTS family) on any :class:`DifferentiableSpace`.

The space relaxes every decision into a weighted sum of its choices (``space.build_mixed()``);
a searcher's :class:`ArchitectureParameters` turn learnable parameters into those weights, one
``[decisions, choices]`` matrix, and derive a discrete architecture from them. The loop
alternates, step by step, an architecture update on a validation batch and a weight update on a
training batch (first-order bi-level optimisation, Liu et al. 2019). The epoch loop is the one
every gradient searcher shares (:class:`adwp.search.EpochSearch`): it records the derived
architecture after every epoch and checkpoints atomically, so a killed search re-run with the
same checkpoint continues and ends with the same architecture. The result, a
:class:`DifferentiableResult`, is a :class:`adwp.search.SearchOutcome` like every searcher's.

Example::

    from adwp.data import get_dataset
    from adwp.search.differentiable import DifferentiableConfig, DifferentiableSearch
    from adwp.spaces import get_space

    data = get_dataset("cifar10", root="cifar10-jpeg")
    space = get_space("nb201", channels=8, cells_per_stage=1)
    result = DifferentiableSearch(space, data, "darts", DifferentiableConfig(epochs=5)).run()
    print(result.arch, result.best.params, [h["arch"] for h in result.history])

Searchers register with :func:`register_searcher`; :func:`list_searchers` names them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, overload

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from adwp._checks import check_data_fits, check_fields
from adwp.data import DataSplits, as_tensors
from adwp.errors import AdwpError
from adwp.registry import DIFFERENTIABLE_SEARCHERS
from adwp.search._epochs import DifferentiableResult, EpochSearch
from adwp.spaces import DifferentiableSpace

__all__ = [
    "ArchitectureParameters",
    "DartsParameters",
    "DifferentiableConfig",
    "DifferentiableResult",
    "DifferentiableSearch",
    "get_searcher",
    "list_searchers",
    "register_searcher",
]

# Norm of the weight perturbation of the second-order finite differences (DARTS's 0.01, sized
# for float32: smaller radii lose the difference to rounding).
_DIFFERENCE_RADIUS = 0.01
# Settings added after the first checkpoints, with the value that searches as they did before.
_BEFORE_IT_EXISTED = {"second_order": False}


class ArchitectureParameters(nn.Module):
    """A searcher's learnable architecture state: it maps to one weight per (decision, choice).

    Subclasses implement :meth:`weights`; :meth:`derive` takes each decision's heaviest choice
    unless a searcher derives otherwise.

    Args:
        shape: ``(decisions, choices)`` of the space's relaxation.
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        super().__init__()
        self.shape = shape

    def weights(self) -> torch.Tensor:
        """The ``[decisions, choices]`` mixing weights of the relaxed network (or
        ``[cells, decisions, choices]`` for per-cell weights)."""
        raise NotImplementedError

    def derive(self) -> list[int]:
        """One choice index per decision: the discrete architecture the weights stand for."""
        with torch.no_grad():
            return [int(i) for i in self.weights().argmax(dim=-1)]


class DartsParameters(ArchitectureParameters):
    """DARTS (Liu et al. 2019): independent logits per decision, mixed by a softmax.

    Args:
        shape: ``(decisions, choices)``.
        generator: Draws the initial logits (``1e-3`` x standard normal, as in DARTS).
    """

    def __init__(self, shape: tuple[int, int], generator: torch.Generator) -> None:
        super().__init__(shape)
        self.logits = nn.Parameter(1e-3 * torch.randn(shape, generator=generator))

    def weights(self) -> torch.Tensor:
        return F.softmax(self.logits, dim=-1)


# factory(shape, generator, cells): ``cells`` is the number of relaxed cells of the network, for
# searchers that treat cells differently (EnTranNAS); the others ignore it.
SearcherFactory = Callable[[tuple[int, int], torch.Generator, int], ArchitectureParameters]
_Decorator = Callable[[SearcherFactory], SearcherFactory]


@overload
def register_searcher(
    name: str, /, **options: Any
) -> Callable[[SearcherFactory], SearcherFactory]: ...


@overload
def register_searcher(
    name: str, factory: SearcherFactory, /, **options: Any
) -> SearcherFactory: ...


def register_searcher(name: str, factory: Any = None, /, **options: Any) -> Any:
    """Makes a searcher available by name to :class:`DifferentiableSearch` and the CLI.

    Args:
        name: Its name, e.g. ``"darts"``.
        factory: ``factory(shape, generator, cells)`` returning its
            :class:`ArchitectureParameters` (``cells``: relaxed cells of the network); left
            out, a decorator registering the factory it decorates is returned.
        **options: Facts kept with the entry (:meth:`adwp.registry.Registry.info`), e.g.
            ``description``.

    Returns:
        ``factory``, or the decorator.

    Raises:
        RegistryError: If the name is malformed or taken (an :class:`AdwpError`).
    """
    if factory is None:
        return DIFFERENTIABLE_SEARCHERS.register(name, **options)
    return DIFFERENTIABLE_SEARCHERS.register(name, factory, **options)


def list_searchers() -> list[str]:
    """Names of the registered differentiable searchers, sorted."""
    return DIFFERENTIABLE_SEARCHERS.list()


def get_searcher(name: str) -> SearcherFactory:
    """The factory of a registered searcher.

    Raises:
        AdwpError: If no searcher has that name (the message lists those that do).
    """
    return DIFFERENTIABLE_SEARCHERS.get(name)


register_searcher(
    "darts",
    lambda shape, generator, cells: DartsParameters(shape, generator),
    description="DARTS: independent logits per decision, mixed by a softmax",
)


@dataclass(frozen=True)
class DifferentiableConfig:
    """Settings of a differentiable search.

    Attributes:
        epochs: Epochs; the derived architecture is recorded (and checkpointed) after each.
        steps_per_epoch: Alternating steps per epoch (one architecture and one weight update).
        batch_size: Images per batch, for both updates.
        weight_lr: SGD learning rate of the network's weights, cosine-annealed over the epochs.
        weight_momentum: SGD momentum.
        weight_decay: SGD weight decay.
        arch_lr: Adam learning rate of the architecture parameters.
        arch_decay: Adam weight decay of the architecture parameters.
        grad_clip: Gradient-norm clip of the weight update.
        second_order: Architecture gradient through one virtual weight step (DARTS's
            second-order approximation, the Hessian-vector product by finite differences:
            about 3x the architecture step's cost) instead of at the current weights.
        seed: Seeds the network, the architecture parameters and every batch.
    """

    epochs: int = 10
    steps_per_epoch: int = 100
    batch_size: int = 64
    weight_lr: float = 0.025
    weight_momentum: float = 0.9
    weight_decay: float = 3e-4
    arch_lr: float = 3e-4
    arch_decay: float = 1e-3
    grad_clip: float = 5.0
    second_order: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        check_fields(
            self,
            counts=("epochs", "steps_per_epoch", "batch_size"),
            positives=("weight_lr", "arch_lr", "grad_clip"),
        )


class DifferentiableSearch(EpochSearch):
    """Bi-level differentiable search of one searcher on one space and data set.

    Args:
        space: A space with a relaxation (:class:`adwp.spaces.DifferentiableSpace`).
        data: Training images for the weight updates, validation images for the architecture
            updates.
        method: A registered searcher (:func:`list_searchers`).
        config: Settings.
        device: Where to search.

    Raises:
        AdwpError: If the space has no relaxation, the method is unknown, or the data set's
            shape is not the space's.
    """

    kind = "differentiable-search"

    def __init__(
        self,
        space: Any,
        data: DataSplits,
        method: str = "darts",
        config: DifferentiableConfig | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if not isinstance(space, DifferentiableSpace):
            raise AdwpError(
                f"search space {getattr(space, 'name', space)!r} has no relaxation "
                "(mixed_shape, build_mixed): differentiable search needs one"
            )
        check_data_fits(space, data)
        self.space, self.data, self.method = space, data, method
        self.config = config or DifferentiableConfig()
        self.device = torch.device(device)
        factory = get_searcher(method)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            self.network = space.build_mixed().to(self.device)
        generator = torch.Generator().manual_seed(self.config.seed + 1)
        cells = int(getattr(self.network, "num_cells", 1))
        self.parameters = factory(tuple(space.mixed_shape()), generator, cells).to(self.device)
        c = self.config
        self.weight_optimizer = torch.optim.SGD(
            self.network.parameters(),
            lr=c.weight_lr,
            momentum=c.weight_momentum,
            weight_decay=c.weight_decay,
        )
        self.arch_optimizer = torch.optim.Adam(
            self.parameters.parameters(),
            lr=c.arch_lr,
            betas=(0.5, 0.999),
            weight_decay=c.arch_decay,
        )
        self._start()

    # -- checkpoints -------------------------------------------------------------------------
    def _identity(self) -> dict[str, Any]:
        return {"method": self.method, "space": self.space.config(), "config": asdict(self.config)}

    def _stored_identity(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "method": state["method"],
            "space": state["space"]["config"],
            "config": {**_BEFORE_IT_EXISTED, **state["config"]},
        }

    def _header(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "space": {"name": self.space.name, "config": self.space.config()},
            "config": asdict(self.config),
        }

    def _state(self) -> dict[str, Any]:
        return {
            "network": self.network.state_dict(),
            "parameters": self.parameters.state_dict(),
            "weight_optimizer": self.weight_optimizer.state_dict(),
            "arch_optimizer": self.arch_optimizer.state_dict(),
        }

    def _restore(self, state: Mapping[str, Any]) -> None:
        self.network.load_state_dict(state["network"])
        self.parameters.load_state_dict(state["parameters"])
        self.weight_optimizer.load_state_dict(state["weight_optimizer"])
        self.arch_optimizer.load_state_dict(state["arch_optimizer"])

    # -- the search --------------------------------------------------------------------------
    def _second_order_gradient(
        self,
        xv: torch.Tensor,
        yv: torch.Tensor,
        xt: torch.Tensor,
        yt: torch.Tensor,
        lr: float,
    ) -> torch.Tensor:
        """Puts DARTS's second-order architecture gradient into the parameters' ``.grad``.

        The gradient of ``L_val(w - lr * grad_w L_train(w, a), a)`` in ``a``: the validation
        gradient at the virtually stepped weights ``w'``, minus ``lr`` times the mixed second
        derivative of the training loss applied to ``dw = grad_w' L_val``, by central
        differences at ``w +- eps * dw`` (Liu et al. 2019, eq. 7 and 8).

        Returns:
            The validation loss at ``w'``.
        """
        names = [name for name, _ in self.network.named_parameters()]
        weights = [p.detach().requires_grad_() for p in self.network.parameters()]
        arch = list(self.parameters.parameters())

        def loss_at(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            state = dict(zip(names, params, strict=True))
            logits = functional_call(self.network, state, (x, self.parameters.weights()))
            return F.cross_entropy(logits, y)

        # The virtual step (plain gradient descent, with the weight decay of the real one).
        train_grads = torch.autograd.grad(
            loss_at(weights, xt, yt), weights, allow_unused=True, materialize_grads=True
        )
        decay = self.config.weight_decay
        stepped = [
            (w - lr * (g + decay * w)).detach().requires_grad_()
            for w, g in zip(weights, train_grads, strict=True)
        ]
        loss = loss_at(stepped, xv, yv)
        grads = torch.autograd.grad(
            loss, [*arch, *stepped], allow_unused=True, materialize_grads=True
        )
        arch_grads, dw = grads[: len(arch)], grads[len(arch) :]
        eps = _DIFFERENCE_RADIUS / torch.sqrt(sum((g * g).sum() for g in dw)).clamp_min(1e-12)
        sides = []
        for sign in (1.0, -1.0):
            moved = [w + sign * eps * d for w, d in zip(weights, dw, strict=True)]
            sides.append(
                torch.autograd.grad(
                    loss_at(moved, xt, yt), arch, allow_unused=True, materialize_grads=True
                )
            )
        for param, direct, plus, minus in zip(arch, arch_grads, *sides, strict=True):
            param.grad = direct - lr * (plus - minus) / (2 * eps)
        return loss.detach()

    def derived(self) -> str:
        """The architecture the current parameters derive, as a canonical string."""
        return self.space.from_genotype(self.parameters.derive()).to_string()

    def mixing_weights(self) -> torch.Tensor:
        """The searcher's mixing weights of the relaxed network."""
        return self.parameters.weights()

    def _prepare(self) -> None:
        self._train = as_tensors(self.data.train)
        self._val = as_tensors(self.data.val)

    def _start_epoch(self) -> None:
        c = self.config
        self._lr = c.weight_lr * 0.5 * (1 + math.cos(math.pi * self.epoch / c.epochs))
        for group in self.weight_optimizer.param_groups:
            group["lr"] = self._lr
        self.network.train()

    def _step(self, index: int, generator: torch.Generator) -> dict[str, float]:
        """An architecture update on a validation batch, then a weight update on a training
        batch with the architecture fixed."""
        xv, yv = self._batch(*self._val, generator)
        xt, yt = self._batch(*self._train, generator)
        self.arch_optimizer.zero_grad(set_to_none=True)
        if self.config.second_order:
            val = self._second_order_gradient(xv, yv, xt, yt, self._lr)
        else:
            # First order: the current weights stand in for the optimal ones.
            val = F.cross_entropy(self.network(xv, self.parameters.weights()), yv)
            val.backward()
        self.arch_optimizer.step()
        self.weight_optimizer.zero_grad(set_to_none=True)
        train = F.cross_entropy(self.network(xt, self.parameters.weights().detach()), yt)
        train.backward()
        nn.utils.clip_grad_norm_(self.network.parameters(), self.config.grad_clip)
        self.weight_optimizer.step()
        return {"val": val.item(), "train": train.item()}
