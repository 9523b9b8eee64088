"""Architecture samplers that propose the meta-batch of every hypernetwork training step.

A sampler decides where in the space the hypernetwork spends its training; the stochastic encoder
then draws architecture parameters around each proposal. New samplers (e.g. one concentrated on an
inherited region of the layer-assignment search) register with :func:`register_sampler`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import numpy as np

from adwp.errors import AdwpError, ArchitectureError
from adwp.registry import SAMPLERS
from adwp.spaces import Architecture

_FactoryT = TypeVar("_FactoryT", bound=Callable[..., Any])

__all__ = [
    "ArchitectureSampler",
    "DistinctComputationSampler",
    "InheritedSampler",
    "SandwichSampler",
    "SizeStratifiedSampler",
    "UniformSampler",
    "get_sampler",
    "list_samplers",
    "register_sampler",
]


@runtime_checkable
class ArchitectureSampler(Protocol):
    """Proposes architectures for a training step."""

    def sample(self, n: int, rng: np.random.Generator) -> list[Architecture]:
        """Returns ``n`` architectures of the space drawn with ``rng``."""
        ...


def register_sampler(
    name: str, **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a sampler factory ``factory(space, argument=None, **options)``.

    Args:
        name: The name ``TrainConfig.sampler`` and ``adwp train --sampler`` select it by.
        **options: Facts kept with the entry (:meth:`adwp.registry.Registry.info`), e.g.
            ``description`` (default: the first line of the factory's docstring).

    Returns:
        The decorator, which returns the factory unchanged.

    Raises:
        RegistryError: If ``name`` is malformed or already registered (a ``ValueError``).
    """
    return SAMPLERS.register(name, **options)


def get_sampler(name: str, space: Any, **options: Any) -> ArchitectureSampler:
    """Builds a registered sampler for ``space``.

    Args:
        name: A registered name, optionally with an argument after a colon
            (``"inherited:3-7"``), passed to the factory as ``argument``.
        space: The search space the sampler proposes from.
        **options: Further keyword options of the factory.

    Returns:
        The sampler.

    Raises:
        AdwpError: If the name is unknown or the factory rejects its argument.
    """
    base, sep, argument = name.partition(":")
    factory = SAMPLERS.get(base)
    if sep:
        options["argument"] = argument
    return factory(space, **options)


def list_samplers() -> list[str]:
    """Returns the registered sampler names, sorted."""
    return SAMPLERS.list()


def _reject_argument(name: str, argument: str | None) -> None:
    if argument:
        raise AdwpError(f"sampler {name!r} takes no argument, got {argument!r}")


@register_sampler("uniform")
class UniformSampler:
    """Draws every decision uniformly (``space.sample``).

    Args:
        space: The search space.
    """

    def __init__(self, space: Any, argument: str | None = None) -> None:
        _reject_argument("uniform", argument)
        self.space = space

    def sample(self, n: int, rng: np.random.Generator) -> list[Architecture]:
        """Returns ``n`` independent draws of ``space.sample``."""
        return [self.space.sample(rng) for _ in range(n)]


@register_sampler("sandwich")
class SandwichSampler:
    """The sandwich rule of BigNAS: the largest and smallest architecture in every meta-batch.

    Channels and layers that only large architectures use are otherwise trained in a fraction of
    the steps; proposing the largest architecture every step trains them all, and the smallest
    keeps the shared core good for small networks. The other proposals are uniform.

    Training the largest architecture every step also makes it the one the weight generator knows
    best, which can lift it to the top of the ranking for that reason alone; ``sandwich:smallest``
    keeps only the smallest end (``sandwich:largest`` only the largest).

    Args:
        space: The search space.
        argument: ``"smallest"`` or ``"largest"`` to keep one end only; None or empty: both.

    Raises:
        AdwpError: If the argument is another word.
    """

    _ENDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "": ("largest", "smallest"),
        "smallest": ("smallest",),
        "largest": ("largest",),
    }

    def __init__(self, space: Any, argument: str | None = None) -> None:
        if (argument or "") not in self._ENDS:
            raise AdwpError(
                f"sandwich sampler argument must be smallest or largest (or none), got {argument!r}"
            )
        self.space = space
        self.ends = self._ENDS[argument or ""]
        self.uniform = UniformSampler(space)

    def sample(self, n: int, rng: np.random.Generator) -> list[Architecture]:
        """Returns the kept ends (largest first), then uniform draws up to ``n``."""
        ends = [getattr(self.space, end)() for end in self.ends][:n]
        return [*ends, *self.uniform.sample(n - len(ends), rng)]


def _draw_grouped(
    groups: list[list[Architecture]], n: int, rng: np.random.Generator
) -> list[Architecture]:
    """``n`` draws of a group uniformly, then of one of its members uniformly."""
    out = []
    for _ in range(n):
        group = groups[rng.integers(len(groups))]
        out.append(group[rng.integers(len(group))])
    return out


@register_sampler("distinct")
class DistinctComputationSampler:
    """Draws a distinct computation uniformly, then one of its architectures uniformly.

    Many cells of a cell space compute the same function (NAS-Bench-201's 15,625 strings are 6,466
    computations; cells whose output is always zero are one computation of hundreds of strings), so
    uniform draws over strings spend most steps on a few over-represented computations. Sampling
    one representative per computation is Ning et al. (NeurIPS 2021)'s remedy for one-shot
    supernets. Needs a space with ``enumerate()`` and ``isomorphism_key(arch)``.

    Args:
        space: A space that can enumerate its architectures and key their computations.

    Raises:
        AdwpError: If the space lacks either method, or an argument is given.
    """

    def __init__(self, space: Any, argument: str | None = None) -> None:
        _reject_argument("distinct", argument)
        if not (hasattr(space, "isomorphism_key") and hasattr(space, "enumerate")):
            raise AdwpError(
                f"the distinct sampler needs a space with enumerate() and isomorphism_key(), "
                f"which {space.name!r} lacks; use uniform or sandwich"
            )
        groups: dict[str, list[Architecture]] = {}
        for arch in space.enumerate():
            groups.setdefault(space.isomorphism_key(arch), []).append(arch)
        self.space = space
        self.groups = list(groups.values())

    def sample(self, n: int, rng: np.random.Generator) -> list[Architecture]:
        """Returns ``n`` proposals, each of a computation drawn uniformly."""
        return _draw_grouped(self.groups, n, rng)


@register_sampler("stratified")
class SizeStratifiedSampler:
    """Draws a #params stratum uniformly, then an architecture of that stratum uniformly.

    Uniform draws concentrate on middle sizes; the sandwich rule adds the two extremes. This
    spreads training evenly over sizes instead: every stratum is trained as often, whatever its
    number of architectures. Needs a space with ``enumerate()`` and ``params()``.

    Args:
        space: A space that can enumerate its architectures.
        argument: Number of equal-width #params bins; None or empty: one stratum per distinct
            #params value (NAS-Bench-201 has 28).

    Raises:
        AdwpError: If the space cannot enumerate, or the argument is not an integer >= 1.
    """

    def __init__(self, space: Any, argument: str | None = None) -> None:
        if not hasattr(space, "enumerate"):
            raise AdwpError(
                f"the stratified sampler needs a space with enumerate(), which {space.name!r} "
                "lacks; use uniform or sandwich"
            )
        if argument and (not argument.isdigit() or int(argument) < 1):
            raise AdwpError(
                f"stratified sampler argument must be a number of bins >= 1, got {argument!r}"
            )
        archs = list(space.enumerate())
        sizes = np.array([space.params(a) for a in archs], dtype=float)
        if argument:
            edges = np.linspace(sizes.min(), sizes.max(), int(argument) + 1)[1:-1]
            stratum = np.searchsorted(edges, sizes, side="right")
        else:
            stratum = np.unique(sizes, return_inverse=True)[1]
        self.strata = [
            [a for a, s in zip(archs, stratum) if s == k] for k in np.unique(stratum).tolist()
        ]
        self.space = space

    def sample(self, n: int, rng: np.random.Generator) -> list[Architecture]:
        """Returns ``n`` proposals, each from a stratum drawn uniformly."""
        return _draw_grouped(self.strata, n, rng)


@register_sampler("inherited")
class InheritedSampler:
    """Concentrates training on the region a layer-assignment search visits.

    The inherited search (:class:`adwp.search.LayerAssignmentSearch`) only ever scores
    layer-assignment architectures (3x3, full-width, residual layers) of total depth in a range.
    With probability ``share`` a proposal is such an architecture (a total depth drawn uniformly
    from the range, then an assignment of that depth uniformly); otherwise it is a uniform draw of
    the whole space, so the hypernetwork still learns the rest of the space.

    Args:
        space: A ``macro``-style space (the layer-assignment space is built with its shape).
        argument: Total-depth range ``"MIN-MAX"`` (default ``"3-7"``), optionally followed by
            ``":SHARE"`` (e.g. ``"3-7:0.5"``), which overrides ``share``.
        share: Fraction of proposals from the inherited region.

    Raises:
        AdwpError: If the space is not a macro space, the range is malformed or outside the
            space, or ``share`` not in [0, 1].
    """

    def __init__(self, space: Any, argument: str | None = None, share: float = 0.75) -> None:
        from adwp.spaces import layer_assignment_region

        try:
            layer_assignment_region(space)
        except ArchitectureError:
            raise AdwpError(
                f"the inherited sampler needs a macro space (its layer-assignment region), "
                f"not {space.name!r}; use uniform or sandwich"
            ) from None

        text = argument or "3-7"
        depth_range, _, share_text = text.partition(":")
        try:
            low, high = (int(part) for part in depth_range.split("-"))
            share = float(share_text) if share_text else share
        except ValueError:
            raise AdwpError(
                "inherited sampler argument must look like MIN-MAX or MIN-MAX:SHARE "
                f"(e.g. inherited:3-7 or inherited:3-7:0.5), got {text!r}"
            ) from None
        if not 0.0 <= share <= 1.0:
            raise AdwpError(f"share must be in [0, 1], got {share}")
        # An out-of-range depth raises ArchitectureError (an AdwpError) naming the allowed range.
        self.region = layer_assignment_region(space, low, high)
        self.space = space
        self.share = share
        self._by_depth = {d: self.region.assignments(d) for d in range(low, high + 1)}
        self._by_depth = {d: a for d, a in self._by_depth.items() if a}

    def sample(self, n: int, rng: np.random.Generator) -> list[Architecture]:
        """Returns ``n`` proposals, each from the region with probability ``share``."""
        depths = sorted(self._by_depth)
        out = []
        for _ in range(n):
            if rng.random() < self.share:
                options = self._by_depth[depths[rng.integers(len(depths))]]
                out.append(self.region.from_depths(options[rng.integers(len(options))]))
            else:
                out.append(self.space.sample(rng))
        return out
