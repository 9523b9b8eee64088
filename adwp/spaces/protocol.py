"""The search-space protocol: what the rest of the library may ask of any space.

A space is a set of architectures described by named categorical **decisions**
(:class:`Decision`). An architecture maps to its **genotype**, one choice index per decision
(:meth:`SearchSpace.genotype`), and back (:meth:`SearchSpace.from_genotype`); it also has a
canonical string (``arch.to_string()``, parsed back by :meth:`SearchSpace.validate`). The three
forms round-trip: ``space.from_genotype(space.genotype(a)) == a`` and
``space.validate(a.to_string()) == a`` for every architecture ``a`` of the space.

A decision may matter only for some genotypes: a macro layer's kernel, width and skip only when
its stage is deep enough to have that layer. :attr:`Decision.parent` says so, and
:func:`active_decisions` gives the mask of the decisions that matter for a genotype. An inactive
decision's index changes nothing (:meth:`SearchSpace.genotype` writes 0 there). A decision's
parent always comes before it, so a walk in decision order (e.g. define-by-run Optuna suggestions)
knows whether a decision matters before reaching it.

:class:`SearchSpace` is the decision and genotype part, which searchers use.
:class:`GeneratorSpace` adds what the weight generators read:

- **encoding**: the decisions are stacked into :class:`DecisionGroup` s (rows of one
  ``[B, rows, num_choices]`` probability tensor each); :meth:`GeneratorSpace.encode` turns one
  tensor per group into the hypernetwork's tokens ``[B, num_tokens(), token_features()]``,
  differentiably. Feature 0 of a token is the probability that it is present (its weight in
  the pooled global embedding).
- **weight slots**: every weight a generator predicts or shares (:class:`WeightSlot`, at its
  largest shape, reading one token or the global embedding), and for one architecture which
  slot and which cut (:class:`Cut`) each parameter of ``build(arch)`` takes
  (:meth:`GeneratorSpace.weight_plan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from adwp._checks import is_integer
from adwp.errors import ArchitectureError

__all__ = [
    "AssignmentSpace",
    "Cut",
    "Decision",
    "DecisionGroup",
    "DepthLimitedSpace",
    "DifferentiableSpace",
    "GeneratorSpace",
    "MixedGeneratorSpace",
    "SearchSpace",
    "WeightSlot",
    "active_decisions",
]


@dataclass(frozen=True)
class Decision:
    """One named categorical choice of a space.

    Attributes:
        name: Unique within the space, e.g. ``"stage1_layer2_kernel"`` (macro) or ``"0->1"``
            (nb201).
        choices: Allowed values in index order (the genotype stores the index).
        parent: ``(i, j)``: the decision matters only when decision ``i``'s index is at least
            ``j`` (``i`` comes before this decision); None: it always matters.
    """

    name: str
    choices: tuple[Any, ...]
    parent: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not self.choices:
            raise ArchitectureError(f"decision {self.name!r} has no choices")
        if self.parent is not None:
            if len(self.parent) != 2 or not all(is_integer(v) and v >= 0 for v in self.parent):
                raise ArchitectureError(
                    f"decision {self.name!r}: parent must be (decision index, choice index), "
                    f"got {self.parent!r}"
                )
            object.__setattr__(self, "parent", (int(self.parent[0]), int(self.parent[1])))

    def is_active(self, genotype: Sequence[int] | np.ndarray) -> bool:
        """Whether this decision changes the architecture of ``genotype``."""
        return self.parent is None or int(genotype[self.parent[0]]) >= self.parent[1]


def active_decisions(
    decisions: Sequence[Decision], genotype: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Boolean mask of the decisions that change the architecture of ``genotype``.

    Args:
        decisions: A space's :meth:`SearchSpace.decisions`.
        genotype: One choice index per decision.

    Returns:
        ``mask[i]`` is True when decision ``i`` matters.
    """
    return np.array([d.is_active(genotype) for d in decisions], dtype=bool)


@runtime_checkable
class SearchSpace(Protocol):
    """What every search space offers (``isinstance(space, SearchSpace)`` checks the names).

    :func:`adwp.testing.check_space` checks the whole contract, names and behaviour, rule by rule.
    Besides the members below, a space keeps these rules, which a protocol cannot state:

    - **constructor**: the class (or the factory registered with
      :func:`adwp.spaces.register_space`) takes the keyword options ``in_channels``,
      ``num_classes`` and ``image_size``, which a data set sets, and every other option with a
      default; ``type(space)(**space.config())`` builds an equal space.
    - **architectures** are hashable values compared by equality, with ``to_string()`` (the
      canonical string :meth:`validate` parses back) and ``to_dict()``, whose result the
      architecture class's ``from_dict`` reads back (architecture files may hold either form).
    - **networks**: ``build(arch)`` is an ``nn.Module`` mapping images
      ``[B, in_channels, image_size, image_size]`` to logits ``[B, num_classes]``, with
      :meth:`params` trainable parameters, and ``relu_code_sites()``, the modules whose outputs
      are the network's ReLU activations (the ``naswot`` proxy reads their codes).
    - a :class:`DifferentiableSpace` gives every decision the same choices, in the same order:
      one column per choice of its relaxation's weight matrix.

    Spaces with few enough architectures also offer ``enumerate()``, yielding each once in a fixed
    order; it is optional and not part of the protocol.

    Attributes:
        name: The name the space is registered under.
        in_channels: Channels of the images its networks read.
        num_classes: Classes its networks' logits score.
        image_size: Side of the square images its networks read.
    """

    name: str
    in_channels: int
    num_classes: int
    image_size: int

    def choices(self) -> dict[str, list[Any]]:
        """The allowed values of every decision (or family of decisions), by name, as
        JSON-ready lists (``adwp space`` prints them)."""
        ...

    def decisions(self) -> tuple[Decision, ...]:
        """The categorical decisions, in genotype order."""
        ...

    def genotype(self, arch: Any) -> tuple[int, ...]:
        """One choice index per decision (0 for inactive ones); validates ``arch`` first."""
        ...

    def from_genotype(self, genotype: Sequence[int]) -> Any:
        """The architecture of a genotype; ArchitectureError (one line) if it names none."""
        ...

    def validate(self, arch: Any) -> Any:
        """The architecture (parsed from its canonical string if one is given), or
        ArchitectureError naming what is wrong."""
        ...

    def contains(self, arch: Any) -> bool:
        """Whether :meth:`validate` accepts ``arch``."""
        ...

    def sample(self, rng: np.random.Generator) -> Any:
        """One random architecture."""
        ...

    def sample_many(self, n: int, rng: np.random.Generator) -> list[Any]:
        """``n`` distinct random architectures."""
        ...

    def size(self) -> int:
        """The exact number of architectures."""
        ...

    def params(self, arch: Any) -> int:
        """Trainable parameters of ``build(arch)``."""
        ...

    def flops(self, arch: Any) -> int:
        """Multiply-accumulates of one forward pass of one image."""
        ...

    def build(self, arch: Any) -> Any:
        """The plain PyTorch network of ``arch``."""
        ...

    def smallest(self) -> Any:
        """The architecture with the fewest parameters."""
        ...

    def largest(self) -> Any:
        """The architecture with the most parameters."""
        ...

    def config(self) -> dict[str, Any]:
        """Constructor options as JSON-ready primitives."""
        ...


@dataclass(frozen=True)
class DecisionGroup:
    """Decisions whose probabilities are stacked into one ``[B, rows, num_choices]`` tensor.

    Random draws over the probabilities (the stochastic encoder's) are made group by group, in
    group order, so the grouping fixes which seed gives which architecture.

    Attributes:
        name: Names the tensor in messages, e.g. ``"kernel"``.
        decisions: One entry per row: a decision index, or None for a row of a choice the space
            fixes (a single allowed value, so not a decision); such a row has one choice.
        num_choices: Choices of every decision of the group.
    """

    name: str
    decisions: tuple[int | None, ...]
    num_choices: int


@dataclass(frozen=True)
class WeightSlot:
    """One weight a generator predicts or shares, at its largest shape.

    Attributes:
        name: Unique within the space, e.g. ``"layer3"`` or ``"stem"``.
        kind: ``"conv"``: a kernel ``[out, in, k, k]`` followed by a BatchNorm affine
            ``[out]`` (parts ``"kernel"``, ``"gamma"``, ``"beta"``); ``"linear"``: the
            classifier, ``[out, in]`` and a bias ``[out]`` (parts ``"weight"``, ``"bias"``). A
            network may take only some parts of a slot (a shortcut only the kernel, a lone
            BatchNorm only the affine).
        shape: ``(out, in, k, k)`` for ``"conv"``, ``(out, in)`` for ``"linear"``.
        token: The token whose embedding the slot reads, or None for the global embedding.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    token: int | None = None


@dataclass(frozen=True)
class Cut:
    """Which part of a slot one parameter of a built network takes, and its exact shape.

    The parameter is the slot part's first ``shape[0]`` rows, first ``shape[1]`` columns and
    centre ``shape[2] x shape[3]`` window (as many of these as the part has dimensions).

    Attributes:
        slot: A :attr:`WeightSlot.name`.
        part: ``"kernel"``, ``"gamma"`` or ``"beta"`` of a conv slot; ``"weight"`` or ``"bias"``
            of a linear slot.
        shape: The parameter's shape.
    """

    slot: str
    part: str
    shape: tuple[int, ...]

    def take(self, part: Any) -> Any:
        """This cut of a slot part (a tensor or array at the slot's largest shape)."""
        index: list[slice] = [slice(None, n) for n in self.shape[:2]]
        for size, full in zip(self.shape[2:], part.shape[2:], strict=True):
            offset = (full - size) // 2
            index.append(slice(offset, offset + size))
        return part[tuple(index)]


@runtime_checkable
class GeneratorSpace(SearchSpace, Protocol):
    """A space the weight generators (hypernetwork, supernet) can emit networks of."""

    def decision_groups(self) -> tuple[DecisionGroup, ...]:
        """Every decision once, stacked into probability tensors (see :class:`DecisionGroup`)."""
        ...

    def num_tokens(self) -> int:
        """Tokens ``T`` of an encoding."""
        ...

    def token_features(self) -> int:
        """Features ``F`` per token."""
        ...

    def encode(self, probabilities: Sequence[Any]) -> Any:
        """Tokens ``[B, T, F]`` of one ``[B, rows, num_choices]`` tensor per decision group.

        Differentiable in the probabilities; a decision's row may be all zeros where it does not
        matter. The caller checks shapes and values.
        """
        ...

    def weight_slots(self) -> tuple[WeightSlot, ...]:
        """Every weight slot; generators create their tensors in this order."""
        ...

    def weight_plan(self, arch: Any) -> dict[str, Cut]:
        """The cut of every parameter of ``build(arch)``, keyed by parameter name."""
        ...


@runtime_checkable
class DifferentiableSpace(SearchSpace, Protocol):
    """A space differentiable searchers (``adwp.search.differentiable``) can relax.

    Every architecture is one choice per decision, ``decisions x choices`` in all (a cell's
    edges and their operations in NB201), so an architecture is ``from_genotype`` of the row-wise
    argmax of a weight matrix of that shape.
    """

    def mixed_shape(self) -> tuple[int, int]:
        """``(decisions, choices)`` of the relaxation."""
        ...

    def build_mixed(self) -> Any:
        """The relaxed network, an ``nn.Module`` with ``forward(x, weights)``, ``weights`` of
        shape :meth:`mixed_shape`, every decision's output the weighted sum of its choices."""
        ...


@runtime_checkable
class MixedGeneratorSpace(GeneratorSpace, DifferentiableSpace, Protocol):
    """A relaxable space whose relaxed network a weight generator can emit.

    Gradient search through a trained hypernetwork (``adwp.search.hypernet_gradient``) needs it:
    the generator emits every operation's weights of the relaxed network from one soft encoding.
    """

    def mixed_weight_plan(self) -> dict[str, Cut]:
        """The cut of every parameter of ``build_mixed()``, keyed by parameter name."""
        ...


@runtime_checkable
class DepthLimitedSpace(SearchSpace, Protocol):
    """A space whose networks' total number of layers can be limited (``adwp search --min-depth
    --max-depth``, e.g. to the depths a ground-truth table covers)."""

    def with_total_depth(self, low: int | None, high: int | None) -> DepthLimitedSpace:
        """The same space with total depths from ``low`` to ``high`` (None: this space's own
        limit)."""
        ...


@runtime_checkable
class AssignmentSpace(DepthLimitedSpace, Protocol):
    """A space of layer assignments: how many layers each stage gets, every layer one fixed
    kind, total depth within ``[min_total_depth, max_total_depth]``.

    The layer-assignment search (``adwp.search.layer_assignment``) walks it depth by depth, and
    the ``inherited`` sampler trains on it. A space registers the spaces it is the region of with
    the registry option ``region_of`` (see :func:`adwp.spaces.layer_assignment_region`).

    Attributes:
        min_total_depth: Smallest total number of layers.
        max_total_depth: Largest total number of layers.
    """

    min_total_depth: int
    max_total_depth: int

    def stage_depths(self) -> tuple[tuple[int, ...], ...]:
        """The allowed numbers of layers of each stage."""
        ...

    def assignments(self, total_depth: int | None = None) -> list[tuple[int, ...]]:
        """Every allowed per-stage depth tuple, optionally of one total depth."""
        ...

    def from_depths(self, depths: Sequence[int]) -> Any:
        """The architecture with these numbers of layers per stage."""
        ...

    def depths_of(self, arch: Any) -> tuple[int, ...]:
        """The numbers of layers per stage of an architecture of the space; the inverse of
        :meth:`from_depths`."""
        ...
