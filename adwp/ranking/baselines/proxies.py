"""Zero-cost proxies: score an architecture from its randomly initialised network on one batch.

Five published proxies, all "higher is better":

- ``grad_norm`` (Abdelfattah et al. 2021): sum over convolution and linear weight tensors of the
  L2 norm of the cross-entropy gradient, BatchNorm in training mode.
- ``snip`` (Lee et al. 2019, as used by Abdelfattah et al. 2021): sum over those weights of
  ``|W * dL/dW|``.
- ``synflow`` (Tanaka et al. 2020, as used by Abdelfattah et al. 2021): on a float64 copy with every
  parameter replaced by its absolute value and BatchNorm as a fixed affine map, ``R = sum(f(1))``
  for an all-ones input and the score is the sum of ``W * dR/dW``. Data-agnostic.
- ``naswot`` (Mellor et al. 2021): with binary codes ``c`` of which ReLU units are active for each
  image, ``K = C C^T + (1 - C)(1 - C)^T`` (the number of units on which two images agree) and the
  score is ``log|det K|``. Images that share an activation pattern make ``K`` singular, which scores
  ``-inf`` (the lowest possible score).
- ``jacob_cov`` (Mellor et al. 2020, the first version of NASWOT, as used by Abdelfattah et al.
  2021): with ``J`` the gradient of the summed logits with respect to each input image (BatchNorm
  in training mode), flattened per image, and ``v`` the eigenvalues of the images' correlation
  matrix of ``J``, the score is ``-sum(log(v + 1e-5) + 1 / (v + 1e-5))``. A network whose output
  does not depend on its input (a cell of ``none`` edges) has no correlation and scores ``-inf``.

More proxies register with :func:`register_proxy`.

Every architecture's network is built under ``torch.manual_seed(seed)`` inside
``torch.random.fork_rng`` (the caller's global RNG is untouched), and every proxy sees the same
``batch_size`` training images drawn with a generator seeded by ``seed``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from adwp._checks import check_data_fits
from adwp.data import DataSplits, iterate_batches
from adwp.errors import AdwpError
from adwp.registry import PROXIES

__all__ = ["ProxyFn", "ZeroCostProxy", "list_proxies", "register_proxy"]

# A proxy maps (fresh network in float32 on the device, images, labels) to one number.
ProxyFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], float]
_ProxyT = TypeVar("_ProxyT", bound=ProxyFn)


def register_proxy(name: str, **options: Any) -> Callable[[_ProxyT], _ProxyT]:
    """Decorator making a zero-cost proxy available by name.

    The proxy is called as ``proxy(network, images, labels)`` with a freshly initialised
    network (float32, on the scoring device) and one fixed training batch; it returns one
    number, higher is better (``-inf`` is the lowest score; NaN and ``+inf`` are refused).
    :class:`ZeroCostProxy`, ``proxy:NAME`` backends and ``adwp rank --combine`` then take its
    name.

    Args:
        name: The name, e.g. ``"synflow"``.
        **options: Facts kept with the entry (:meth:`adwp.registry.Registry.info`), e.g.
            ``description`` (default: the first line of the function's docstring).

    Returns:
        A decorator returning the function unchanged.

    Raises:
        RegistryError: If the name is malformed or already registered (a ``ValueError``).
    """
    return PROXIES.register(name, **options)


def _prunable_weights(net: nn.Module) -> list[nn.Parameter]:
    """Returns the weight tensors of every convolution and linear layer, in module order.

    Args:
        net: The network.

    Returns:
        The weights (BatchNorm affine parameters and biases are not included, as in the papers).
    """
    return [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _loss_gradients(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor
) -> tuple[list[nn.Parameter], tuple[torch.Tensor, ...]]:
    """Cross-entropy gradients of the prunable weights on one batch, BatchNorm in training mode.

    Args:
        net: The network.
        x: Images ``[B, C, H, W]``.
        y: Labels ``[B]``.

    Returns:
        The weights and their gradients (``autograd.grad``, so no ``.grad`` is left behind).
    """
    net.train()
    weights = _prunable_weights(net)
    loss = F.cross_entropy(net(x), y)
    return weights, torch.autograd.grad(loss, weights)


@register_proxy("grad_norm")
def _grad_norm(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum of the L2 norms of the loss gradient of every conv/linear weight tensor.

    Args:
        net: The network.
        x: Images.
        y: Labels.

    Returns:
        The score.
    """
    _, grads = _loss_gradients(net, x, y)
    return math.fsum(float(g.double().norm()) for g in grads)


@register_proxy("snip")
def _snip(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum of ``|W * dL/dW|`` over every conv/linear weight of ``net`` (SNIP connection
    sensitivity), the loss taken on images ``x`` with labels ``y``."""
    weights, grads = _loss_gradients(net, x, y)
    return math.fsum(
        float((w.detach().double() * g.double()).abs().sum()) for w, g in zip(weights, grads)
    )


@register_proxy("synflow")
def _synflow(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Synaptic flow of the network with absolute weights on an all-ones input, in float64.

    Args:
        net: The network (left unchanged: the proxy runs on a copy).
        x: Images; only their shape, device and the network's input size are used.
        y: Labels (unused; synflow is data-agnostic).

    Returns:
        The score.

    Raises:
        AdwpError: If the score overflows to inf or is nan even in float64.
    """
    del y
    model = copy.deepcopy(net).double()
    # Eval mode with fresh statistics (mean 0, variance 1) turns BatchNorm into a positive affine
    # map, so with absolute weights the whole network is linear and positive on positive inputs.
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
    model.eval()
    with torch.no_grad():
        for param in model.parameters():
            param.abs_()
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    weights = _prunable_weights(model)
    grads = torch.autograd.grad(model(ones).sum(), weights)
    score = math.fsum(float((w.detach() * g).sum()) for w, g in zip(weights, grads))
    if not math.isfinite(score):
        raise AdwpError(f"synflow is {score} even in float64; the network is too deep or wide")
    return score


@register_proxy("naswot")
def _naswot(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Log-determinant of the kernel of binary ReLU activation codes (NASWOT).

    Args:
        net: The network.
        x: Images.
        y: Labels (unused).

    Returns:
        The score; ``-inf`` when two images share their whole activation pattern.
    """
    del y
    codes: list[torch.Tensor] = []

    def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        codes.append((out > 0).flatten(1))

    sites = getattr(net, "relu_code_sites", None)
    if sites is None:
        raise AdwpError(
            f"naswot needs the network to list where its ReLU codes are read "
            f"(relu_code_sites()); {type(net).__name__} does not"
        )
    handles = [site.register_forward_hook(record) for site in sites()]
    net.train()  # batch statistics, as in the reference implementation
    try:
        with torch.no_grad():
            net(x)
    finally:
        for handle in handles:
            handle.remove()
    c = torch.cat(codes, dim=1).double()
    kernel = c @ c.T + (1.0 - c) @ (1.0 - c).T
    return float(torch.linalg.slogdet(kernel).logabsdet)


@register_proxy("jacob_cov")
def _jacob_cov(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Eigenvalue score of the correlations of the input Jacobians of the images.

    Args:
        net: The network.
        x: Images.
        y: Labels (unused).

    Returns:
        The score; ``-inf`` when a Jacobian is constant (the output ignores the input).
    """
    del y
    net.train()
    inputs = x.detach().clone().requires_grad_(True)
    (jacobian,) = torch.autograd.grad(net(inputs).sum(), inputs)
    flat = jacobian.flatten(1).double()
    centred = flat - flat.mean(dim=1, keepdim=True)
    norms = centred.norm(dim=1)
    if not bool(torch.all(norms > 0)):
        return -math.inf
    unit = centred / norms[:, None]
    eigenvalues = torch.linalg.eigvalsh(unit @ unit.T).clamp_min(0.0)
    k = 1e-5
    return -float(torch.sum(torch.log(eigenvalues + k) + 1.0 / (eigenvalues + k)))


def list_proxies() -> list[str]:
    """Names of the available zero-cost proxies.

    Returns:
        The names, sorted.
    """
    return PROXIES.list()


class ZeroCostProxy:
    """Ranks architectures by a zero-cost proxy of their randomly initialised network.

    Args:
        space: The search space; ``naswot`` needs its networks to list their ReLUs
            (``relu_code_sites()``, as ``macro`` and ``nb201`` networks do).
        data: Data splits; the batch is drawn from ``data.train``.
        name: One of :func:`list_proxies`.
        batch_size: Images in the one fixed batch (fewer if the training split is smaller).
        seed: Seed of the batch choice and of every network's initialisation.
        device: Where to compute.

    Raises:
        AdwpError: If ``name`` is unknown or ``batch_size`` is not a positive integer.
        DataError: If the data set's channels or classes do not match the space.
    """

    def __init__(
        self,
        space: Any,
        data: DataSplits,
        name: str,
        batch_size: int = 64,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        start = time.perf_counter()
        proxy = PROXIES.get(name)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise AdwpError(f"batch_size must be a positive integer, got {batch_size!r}")
        check_data_fits(space, data)
        self.space = space
        self.name = name
        self.seed = seed
        self.device = torch.device(device)
        self._fn = proxy
        self._cache: dict[Any, float] = {}
        gen = torch.Generator().manual_seed(seed)
        x, y = next(iterate_batches(data.train, batch_size, shuffle=True, generator=gen))
        self._x, self._y = x.to(self.device), y.to(self.device)
        self.compute_seconds = time.perf_counter() - start

    @property
    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed ``(images, labels)`` batch every architecture is scored on."""
        return self._x, self._y

    def _build(self, arch: Any) -> nn.Module:
        # A private RNG stream per build: every architecture gets the same seed whatever was
        # scored before it, and the caller's global RNG does not move.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = self.space.build(arch)
        return net.to(self.device)

    def score(self, archs: Sequence[Any]) -> np.ndarray:
        """The proxy of every architecture (cached per architecture).

        Args:
            archs: Architectures (or canonical strings) of the space.

        Returns:
            Float64 array of ``len(archs)`` scores, input order; higher is better.

        Raises:
            ArchitectureError: If an architecture is outside the space.
            AdwpError: If a proxy comes out nan or +inf.
        """
        start = time.perf_counter()
        try:
            valid = [self.space.validate(a) for a in archs]
            for arch in dict.fromkeys(a for a in valid if a not in self._cache):
                value = float(self._fn(self._build(arch), self._x, self._y))
                if math.isnan(value) or value == math.inf:
                    raise AdwpError(f"proxy {self.name} of {arch.to_string()} is {value}")
                self._cache[arch] = value
            return np.array([self._cache[a] for a in valid], dtype=np.float64)
        finally:
            self.compute_seconds += time.perf_counter() - start
