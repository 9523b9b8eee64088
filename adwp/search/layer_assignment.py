"""Layer-assignment search with inherited sampling (Meng et al., AAAI 2020).

An assignment gives every stage a number of layers. The optimum at total depth ``L + 1`` is looked
for only among the *children* of the best assignments at depth ``L`` (one layer added to one
stage): from a start depth every assignment is scored, then each deeper level scores only the
children of the ``beam`` kept ones (``beam=1`` is the paper's rule). The "architecture dataset"
mode scores every assignment of each depth instead, and reports whether the best one is a child of
the best one at the depth before (the inheritance relation the search relies on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from adwp._checks import is_integer
from adwp.errors import ArchitectureError
from adwp.registry import SEARCHERS
from adwp.search._common import CountingBackend, Pick, SearchOutcome, evaluated_picks
from adwp.spaces import AssignmentSpace, layer_assignment_region

__all__ = [
    "DepthLevel",
    "LayerAssignmentResult",
    "LayerAssignmentSearch",
    "children",
    "layer_assignment_space_like",
]

Assignment = tuple[int, ...]


def children(
    assignment: Sequence[int], depths: Sequence[int] | Sequence[Sequence[int]]
) -> list[Assignment]:
    """Assignments with one more layer in one stage, in stage order.

    Args:
        assignment: Layers per stage.
        depths: Allowed layers, the same for every stage, or one sequence per stage
            (:meth:`adwp.spaces.AssignmentSpace.stage_depths`).

    Returns:
        The children (a stage already at its largest allowed depth gets no child).
    """
    per_stage = [depths] * len(assignment) if all(is_integer(d) for d in depths) else depths
    out = []
    for s, d in enumerate(assignment):
        if d + 1 in per_stage[s]:
            child = list(assignment)
            child[s] = d + 1
            out.append(tuple(child))
    return out


# The name this module has always offered; the region is the space's own business.
layer_assignment_space_like = layer_assignment_region


@dataclass(frozen=True)
class DepthLevel:
    """What the search saw at one total depth.

    Attributes:
        depth: Total number of layers.
        best: Best assignment found.
        score: Its score.
        evaluations: Assignments scored at this depth.
        candidates: Every ``(assignment, score)`` scored here, best first.
        kept: The beam passed on to the next depth, best first.
        inherits: Architecture-dataset mode only: whether ``best`` is a child of the best
            assignment one depth shallower (None at the first depth).
        parent_rank: Architecture-dataset mode only: best rank (1 = best) at the depth before of
            any parent of ``best``.
    """

    depth: int
    best: Assignment
    score: float
    evaluations: int
    candidates: list[tuple[Assignment, float]] = field(default_factory=list)
    kept: list[Assignment] = field(default_factory=list)
    inherits: bool | None = None
    parent_rank: int | None = None


@dataclass(frozen=True)
class LayerAssignmentResult(SearchOutcome):
    """Outcome of a layer-assignment search or architecture-dataset scan.

    Attributes:
        evaluated: Every architecture scored, in scoring order; ``best`` is the highest-scoring
            of them (usually at the deepest level).
        levels: One :class:`DepthLevel` per total depth, shallow first.
        mode: ``"search"`` or ``"dataset"``.
        beam: Beam width (search mode).
        space: The layer-assignment space searched.
        skipped: Assignments the backend could not score (``missing="skip"``).
    """

    levels: list[DepthLevel]
    mode: str
    beam: int
    space: AssignmentSpace
    skipped: int = 0

    @property
    def per_depth(self) -> dict[int, Pick]:
        """The best architecture found at every total depth searched."""
        return {
            level.depth: Pick.of(self.space, self.space.from_depths(level.best), level.score)
            for level in self.levels
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON form.

        ``{"mode", "beam", "best": {"arch", "score", "params", "flops"}, "evaluations",
        "skipped", "depths": [{"depth", "best": {"arch", "score", "params", "flops"},
        "assignment", "evaluations", "kept", "candidates": [{"assignment", "score"}]}],
        "evaluated": [records]}``; in dataset mode every depth also has ``inherits`` and
        ``parent_rank``. An assignment lists the layers per stage.
        """
        picks = self.per_depth
        depths = []
        for level in self.levels:
            entry: dict[str, Any] = {
                "depth": level.depth,
                "best": picks[level.depth].to_dict(),
                "assignment": list(level.best),
                "evaluations": level.evaluations,
                "kept": [list(a) for a in level.kept],
                "candidates": [{"assignment": list(a), "score": s} for a, s in level.candidates],
            }
            if self.mode == "dataset":
                entry["inherits"] = level.inherits
                entry["parent_rank"] = level.parent_rank
            depths.append(entry)
        out = super().to_dict()
        return {
            "mode": self.mode,
            "beam": self.beam,
            "best": out["best"],
            "evaluations": self.evaluations,
            "skipped": self.skipped,
            "depths": depths,
            "evaluated": out["evaluated"],
        }


@SEARCHERS.register("layer-assignment", needs=("min_depth", "max_depth"), settings=("beam",))
class LayerAssignmentSearch:
    """Inherited layer-assignment search on any ranking backend.

    Args:
        backend: Scores architectures (higher is better); must accept architectures of the
            assignment space (a ``macro`` hypernetwork scores ``layer-assignment``'s, an
            ``nbmacro`` one ``nbmacro-assignment``'s).
        space: The assignment space (:class:`adwp.spaces.AssignmentSpace`; its total-depth
            range bounds the search); default: the region of ``backend.space``
            (:func:`adwp.spaces.layer_assignment_region`).
        beam: Assignments kept per depth (1: the paper's rule).
        seed: Breaks ties between equal scores.
        quiet: Hide the progress bar.

    Raises:
        ArchitectureError: If ``beam`` is not positive or no space can be found.
    """

    def __init__(
        self,
        backend: Any,
        space: AssignmentSpace | None = None,
        beam: int = 1,
        seed: int = 0,
        quiet: bool = True,
    ) -> None:
        if not is_integer(beam) or beam < 1:
            raise ArchitectureError(f"beam must be a positive integer, got {beam!r}")
        beam = int(beam)
        if space is None:
            if getattr(backend, "space", None) is None:
                raise ArchitectureError("give the layer-assignment space: the backend has none")
            space = layer_assignment_space_like(backend.space)
        if not isinstance(space, AssignmentSpace):
            raise ArchitectureError(
                f"layer-assignment search needs an assignment space (adwp.spaces.AssignmentSpace), "
                f"got {getattr(space, 'name', type(space).__name__)}"
            )
        self.backend = backend
        self.space = space
        self.beam = beam
        self.seed = seed
        self.quiet = quiet

    def _check_range(self, min_depth: int, max_depth: int) -> None:
        low, high = self.space.min_total_depth, self.space.max_total_depth
        if not low <= min_depth <= max_depth <= high:
            raise ArchitectureError(
                f"depth range {min_depth}..{max_depth} must lie within the space's total depths "
                f"{low}..{high}, with min <= max"
            )

    def _score(
        self,
        counter: CountingBackend,
        assignments: list[Assignment],
        rng: np.random.Generator,
        depth: int,
    ) -> list[tuple[Assignment, float]]:
        """Scores assignments; returns them best first (ties in a seeded random order).

        Assignments the backend skips (``missing="skip"``) are left out.

        Raises:
            ArchitectureError: If none of them could be scored.
        """
        if not assignments:
            raise ArchitectureError(f"no assignment of total depth {depth} in the space")
        scores = counter.score([self.space.from_depths(a) for a in assignments])
        tiebreak = rng.permutation(len(assignments))
        order = [i for i in np.lexsort((tiebreak, -scores)) if not np.isnan(scores[i])]
        if not order:
            raise ArchitectureError(
                f"none of the {len(assignments)} assignments of total depth {depth} searched "
                "could be scored (the backend's table lacks them)"
            )
        return [(assignments[i], float(scores[i])) for i in order]

    def _result(
        self, counter: CountingBackend, levels: list[DepthLevel], mode: str, beam: int
    ) -> LayerAssignmentResult:
        return LayerAssignmentResult(
            evaluated_picks(self.space, counter),
            levels,
            mode,
            beam,
            self.space,
            len(counter.skipped),
        )

    def run(self, min_depth: int, max_depth: int) -> LayerAssignmentResult:
        """Searches from ``min_depth`` (all assignments) to ``max_depth`` (children of the beam).

        Args:
            min_depth: Start total depth; every assignment there is scored.
            max_depth: Last total depth.

        Returns:
            The best assignment and evaluation count at every depth (``per_depth``), and the
            best of all (``best``).

        Raises:
            ArchitectureError: If the range is outside the space, or no assignment of a depth
                can be scored (a table with ``missing="skip"`` that lacks them all).
        """
        self._check_range(min_depth, max_depth)
        rng = np.random.default_rng(self.seed)
        counter = CountingBackend(self.backend)
        levels: list[DepthLevel] = []
        kept: list[Assignment] = []
        for depth in tqdm(range(min_depth, max_depth + 1), disable=self.quiet, desc="depth"):
            if depth == min_depth:
                candidates = self.space.assignments(depth)
            else:
                candidates = list(
                    dict.fromkeys(c for a in kept for c in children(a, self.space.stage_depths()))
                )
            ranked = self._score(counter, candidates, rng, depth)
            kept = [a for a, _ in ranked[: self.beam]]
            levels.append(DepthLevel(depth, ranked[0][0], ranked[0][1], len(ranked), ranked, kept))
        return self._result(counter, levels, "search", self.beam)

    def architecture_dataset(self, min_depth: int, max_depth: int) -> LayerAssignmentResult:
        """Scores every assignment of every depth and checks the inheritance relation.

        Args:
            min_depth: First total depth.
            max_depth: Last total depth.

        Returns:
            Per depth: all scores, the best assignment, whether it is a child of the best at the
            depth before (``inherits``) and the best rank there of any of its parents.
        """
        self._check_range(min_depth, max_depth)
        rng = np.random.default_rng(self.seed)
        counter = CountingBackend(self.backend)
        levels: list[DepthLevel] = []
        for depth in tqdm(range(min_depth, max_depth + 1), disable=self.quiet, desc="depth"):
            ranked = self._score(counter, self.space.assignments(depth), rng, depth)
            best = ranked[0][0]
            inherits: bool | None = None
            parent_rank: int | None = None
            if levels:
                previous = [a for a, _ in levels[-1].candidates]
                ranks = [
                    r
                    for r, a in enumerate(previous, 1)
                    if best in children(a, self.space.stage_depths())
                ]
                # No parent of it scored (a table that lacks them): it cannot inherit.
                parent_rank = min(ranks) if ranks else None
                inherits = parent_rank == 1
            levels.append(
                DepthLevel(
                    depth,
                    best,
                    ranked[0][1],
                    len(ranked),
                    ranked,
                    [best],
                    inherits,
                    parent_rank,
                )
            )
        return self._result(counter, levels, "dataset", 1)
