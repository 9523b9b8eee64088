"""Multi-complexity importance-sampling search (Noda, Saito, Shirakawa 2022) on ASNG-NAS.

``K`` categorical distributions over every decision of the space, one per complexity coefficient
``eps_k``, each maximising ``f_k(x) = score(x) - eps_k * complexity(x)`` with complexity (#params
or FLOPs) normalised to [0, 1] over the space. Every iteration draws ``lambda`` architectures from
each distribution, scores the pooled ``K * lambda`` samples once, and updates *every* distribution
with *all* pooled samples, weighted by the self-normalised importance weights ``p_k(x) / q(x)``,
``q`` the equal mixture of the ``K`` distributions. Utilities are rank based: a sample in the best
quarter of the weighted ranking under ``f_k`` gets +1, one in the worst quarter -1 (for equal
weights this is ASNG's rule, +-1 for the best and worst ``ceil(lambda / 4)``). The step is ASNG's
(Akimoto et al., ICML 2019): natural gradient normalised in the Fisher metric, step size adapted
from an accumulated gradient, probabilities bounded below by ``1 / (D (C - 1))``.

With ``pool=False`` every distribution learns from its own ``lambda`` samples only: ``K``
independent single-distribution ASNG runs at the same number of samples, the baseline the pooling
is compared with.

Every coefficient gets two picks (:class:`CoefficientPicks`): ``best``, the architecture of highest
``f_k`` among everything the search scored (pooled over all distributions, so its complexity
cannot grow with ``eps_k``), and ``mode``, the most likely architecture of the distribution's final
state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logsumexp
from tqdm.auto import tqdm

from adwp._checks import is_integer
from adwp.errors import AdwpError
from adwp.registry import SEARCHERS
from adwp.search._common import (
    MAX_CONSECUTIVE_MISSES,
    CountingBackend,
    Pick,
    SearchOutcome,
    complexity_range,
    evaluated_picks,
    resolve_space,
)
from adwp.search._encoding import CategoricalEncoding

__all__ = [
    "CategoricalASNG",
    "CoefficientPicks",
    "ImportanceSamplingResult",
    "ImportanceSamplingSearch",
]

_ENUMERATE_LIMIT = 100_000


class CategoricalASNG:
    """One categorical distribution with ASNG's adaptive natural-gradient update.

    Args:
        categories: Number of choices of every variable (each at least 2).
        alpha: Threshold of the step-size adaptation (ASNG's default 1.5).
        delta_init: Initial trust-region radius.
    """

    def __init__(self, categories: np.ndarray, alpha: float = 1.5, delta_init: float = 1.0) -> None:
        self.categories = np.asarray(categories, dtype=np.int64)
        if self.categories.ndim != 1 or len(self.categories) == 0 or self.categories.min() < 2:
            raise AdwpError("every variable needs at least two choices")
        d, c_max = len(self.categories), int(self.categories.max())
        self.mask = np.arange(c_max)[None, :] < self.categories[:, None]
        self.theta = np.where(self.mask, 1.0 / self.categories[:, None], 0.0)
        self.theta_min = 1.0 / (d * (self.categories - 1))
        self.num_params = int((self.categories - 1).sum())
        self.alpha = alpha
        self.delta = delta_init
        self.big_delta = 1.0
        self.gamma = 0.0
        self.s = np.zeros(self.num_params)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draws ``n`` integer genotypes, shape ``(n, D)``."""
        cumulative = np.cumsum(self.theta, axis=1)
        u = rng.random((n, len(self.categories), 1))
        x = (u > cumulative[None]).sum(axis=2)
        return np.minimum(x, self.categories[None] - 1)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-probabilities of genotypes ``x`` of shape ``(n, D)``."""
        rows = np.arange(len(self.categories))[None, :]
        return np.log(self.theta[rows, x]).sum(axis=1)

    def mode(self) -> np.ndarray:
        """The most likely genotype."""
        return np.where(self.mask, self.theta, -1.0).argmax(axis=1)

    def update(self, x: np.ndarray, weights: np.ndarray) -> None:
        """One ASNG step from genotypes ``x`` and signed weights (utility x importance weight)."""
        one_hot = np.zeros((len(x), *self.theta.shape))
        rows = np.arange(len(self.categories))[None, :]
        one_hot[np.arange(len(x))[:, None], rows, x] = 1.0
        grad = (weights[:, None, None] * (one_hot - self.theta[None])).sum(axis=0)
        # The natural gradient in the Fisher metric's square root, as in the ASNG reference code:
        # the last category of every variable is the dependent one.
        parts = []
        for i, c in enumerate(self.categories):
            theta_i, theta_last = self.theta[i, : c - 1], self.theta[i, c - 1]
            g = grad[i, : c - 1]
            parts.append(
                g / np.sqrt(theta_i)
                + np.sqrt(theta_i) * g.sum() / (theta_last + np.sqrt(theta_last))
            )
        fisher_grad = np.concatenate(parts)
        norm = float(np.sqrt(fisher_grad @ fisher_grad))
        if norm < 1e-12:  # every utility zero (all samples tie): nothing to learn
            return
        # As in the reference code, both the step and the adaptation rate use the current
        # trust-region radius delta / Delta.
        radius = self.delta / self.big_delta
        self.theta = self.theta + radius / norm * grad
        beta = radius / np.sqrt(self.num_params)
        self.s = (1 - beta) * self.s + np.sqrt(beta * (2 - beta)) * fisher_grad / norm
        self.gamma = (1 - beta) ** 2 * self.gamma + beta * (2 - beta)
        self.big_delta *= float(np.exp(beta * (self.gamma - self.s @ self.s / self.alpha)))
        self._project()

    def _project(self) -> None:
        """Keeps every probability >= theta_min and every variable's probabilities summing to 1."""
        for i, c in enumerate(self.categories):
            lo = self.theta_min[i]
            t = np.maximum(self.theta[i, :c], lo)
            excess = t.sum() - 1.0
            spare = t - lo
            if spare.sum() > 0:
                t = t - excess * spare / spare.sum()
            self.theta[i, :c] = t / t.sum()

    def convergence(self) -> float:
        """Mean over variables of the largest probability (1 when converged)."""
        return float(np.where(self.mask, self.theta, 0.0).max(axis=1).mean())


def _finite_mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else None


def _utilities(objective: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """+1 / -1 for samples in the best / worst quarter of the weighted ranking, ties averaged."""
    order = np.argsort(-objective, kind="stable")
    sorted_obj, sorted_w = objective[order], weights[order]
    before = np.concatenate([[0.0], np.cumsum(sorted_w)[:-1]])
    utility = np.zeros(len(objective))
    start = 0
    while start < len(order):
        stop = start
        while stop + 1 < len(order) and sorted_obj[stop + 1] == sorted_obj[start]:
            stop += 1
        tied = slice(start, stop + 1)
        # Mid-point of the tied block's weight mass: its quantile under the target distribution.
        quantile = before[start] + 0.5 * sorted_w[tied].sum()
        value = 1.0 if quantile <= 0.25 + 1e-12 else (-1.0 if quantile >= 0.75 - 1e-12 else 0.0)
        utility[order[tied]] = value
        start = stop + 1
    return utility


@dataclass(frozen=True)
class CoefficientPicks:
    """The two picks of one complexity coefficient.

    Attributes:
        coefficient: ``eps_k``.
        best: The evaluated architecture (of all distributions, pooled) that maximises
            ``f_k = score - eps_k * complexity``; ties go to the lower complexity. Over one
            evaluated set its complexity cannot grow with ``eps_k``. ``extras``: ``objective``
            (its ``f_k``).
        mode: The most likely architecture of the distribution's final state (scored if it was
            not). ``extras``: ``objective`` and ``from_mode`` (False when the mode lies outside
            the space, or cannot be scored, and the most likely architecture of the space, or of
            those evaluated, was taken instead).
        convergence: The distribution's mean over variables of the largest probability.
    """

    coefficient: float
    best: Pick
    mode: Pick
    convergence: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form ``{"coefficient", "convergence", "best": {...}, "mode": {...}}``."""
        return {
            "coefficient": self.coefficient,
            "convergence": self.convergence,
            "best": self.best.to_dict(),
            "mode": self.mode.to_dict(),
        }


@dataclass(frozen=True)
class ImportanceSamplingResult(SearchOutcome):
    """Outcome of a multi-complexity search.

    Attributes:
        evaluated: Every architecture scored (samples and modes), in scoring order; ``best`` is
            the highest-scoring of them.
        per_coefficient: One :class:`CoefficientPicks` per coefficient, in the order given.
        samples: Architectures drawn (pooled, over all iterations; redraws not counted).
        complexity: ``"params"`` or ``"flops"``.
        complexity_range: Smallest and largest complexity of the space: ``f_k`` uses
            ``(complexity - low) / (high - low)``.
        pooled: Whether the distributions shared their samples.
        trajectory: Per iteration, per coefficient: mean objective of its own samples and
            convergence.
        skipped: Architectures the backend could not score (``missing="skip"``), redrawn.
    """

    per_coefficient: list[CoefficientPicks]
    samples: int
    complexity: str
    complexity_range: tuple[float, float]
    pooled: bool
    trajectory: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form.

        ``{"best": {"arch", "score", "params", "flops"}, "evaluations", "skipped", "samples",
        "complexity", "complexity_range": [low, high], "pooled", "per_coefficient":
        [{"coefficient", "convergence", "best": {..., "objective"}, "mode": {..., "objective",
        "from_mode"}}], "pareto": [records], "evaluated": [records], "trajectory":
        [{"iteration", "mean_objective", "convergence"}]}``.
        """
        out = super().to_dict()
        return {
            "best": out["best"],
            "evaluations": self.evaluations,
            "skipped": self.skipped,
            "samples": self.samples,
            "complexity": self.complexity,
            "complexity_range": list(self.complexity_range),
            "pooled": self.pooled,
            "per_coefficient": [picks.to_dict() for picks in self.per_coefficient],
            "pareto": [pick.to_dict() for pick in self.pareto(self.complexity)],
            "evaluated": out["evaluated"],
            "trajectory": self.trajectory,
        }


@SEARCHERS.register("importance-sampling", needs=("coefficients", "iterations"))
class ImportanceSamplingSearch:
    """Finds one architecture per complexity coefficient in a single pooled ASNG run.

    Args:
        backend: Any ranking backend (higher is better), e.g. the evaluator.
        space: Search space (any :class:`adwp.spaces.SearchSpace`); default ``backend.space``.
        coefficients: Complexity coefficients ``eps_k``, one distribution each.
        samples: ``lambda``: architectures drawn per distribution per iteration (>= 2).
        complexity: ``"params"`` or ``"flops"``.
        pool: Share the pooled samples through importance weights (False: independent runs).
        seed: Seed of all sampling.
        quiet: Hide the progress bar.

    Raises:
        AdwpError: On an empty coefficient list, ``samples < 2`` or an unknown complexity.
    """

    def __init__(
        self,
        backend: Any,
        space: Any = None,
        coefficients: Sequence[float] = (0.0, 0.1, 0.3),
        samples: int = 4,
        complexity: str = "params",
        pool: bool = True,
        seed: int = 0,
        quiet: bool = True,
    ) -> None:
        space = resolve_space(backend, space)
        if len(coefficients) == 0:
            raise AdwpError("give at least one complexity coefficient")
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
            raise AdwpError(f"samples (lambda) must be an integer >= 2, got {samples!r}")
        self.backend = backend
        self.space = space
        self.coefficients = [float(e) for e in coefficients]
        self.samples = samples
        self.complexity = complexity
        self.low, self.high = complexity_range(space, complexity)
        self.pool = pool
        self.seed = seed
        self.quiet = quiet
        self.encoding = CategoricalEncoding(space)

    def normalised_complexity(self, arch: Any) -> float:
        """Complexity of an architecture scaled to [0, 1] over the space."""
        value = float(getattr(self.space, self.complexity)(arch))
        return (value - self.low) / max(self.high - self.low, 1e-12)

    def _objectives(self, counter: CountingBackend, genotypes: np.ndarray) -> np.ndarray:
        """``f_k`` of every genotype, shape ``(K, n)``; -inf outside the space, NaN if skipped."""
        archs = [self.encoding.decode(x) for x in genotypes]
        valid = [a is not None for a in archs]
        scores = np.full(len(archs), -np.inf)
        complexity = np.zeros(len(archs))
        good = [a for a, ok in zip(archs, valid) if ok]
        if good:
            scores[np.array(valid)] = counter.score(good)
        for i, (arch, ok) in enumerate(zip(archs, valid)):
            if ok:
                complexity[i] = self.normalised_complexity(arch)
        # Outside a sub-space (e.g. a total depth the layer-assignment space forbids) ranks last.
        objectives = scores[None, :] - np.array(self.coefficients)[:, None] * complexity[None, :]
        return objectives

    def _redraw_skipped(
        self,
        counter: CountingBackend,
        dists: list[CategoricalASNG],
        genotypes: np.ndarray,
        objectives: np.ndarray,
        owner: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Replaces, in place, samples the backend skipped by new draws of their distribution."""
        for _ in range(MAX_CONSECUTIVE_MISSES):
            skipped = np.flatnonzero(np.isnan(objectives[0]))
            if len(skipped) == 0:
                return
            counter.missed(len(skipped))
            for i in skipped:
                genotypes[i] = dists[owner[i]].sample(1, rng)[0]
            objectives[:, skipped] = self._objectives(counter, genotypes[skipped])
            if not np.isnan(objectives[0]).any():
                counter.hit()
        counter.missed(MAX_CONSECUTIVE_MISSES)  # gives up with the counter's message

    def _mode_pick(self, counter: CountingBackend, dist: CategoricalASNG, eps: float) -> Pick:
        """The most likely architecture of ``dist`` in the space that the backend can score."""
        arch = self.encoding.decode(dist.mode())
        from_mode = arch is not None
        if from_mode:
            score = float(counter.score([arch])[0])
            from_mode = not np.isnan(score)
        if not from_mode:
            # A product of categoricals can peak outside a constrained sub-space (e.g. a total
            # depth the layer-assignment space forbids), or on an architecture a table lacks:
            # take the most likely architecture of the space instead (of those evaluated when
            # the space is too big to list, or when the backend skips some).
            if self.space.size() <= _ENUMERATE_LIMIT and not counter.skips_missing:
                options = list(self.space.enumerate())
            else:
                options = list(counter.cache)
            if not options:
                raise AdwpError("the search scored no architecture of the space")
            log_p = dist.log_prob(np.stack([self.encoding.encode(a) for a in options]))
            arch = options[int(np.argmax(log_p))]
            score = float(counter.score([arch])[0])
        objective = score - eps * self.normalised_complexity(arch)
        return Pick.of(self.space, arch, score, objective=objective, from_mode=from_mode)

    def _best_picks(self, evaluated: list[Pick]) -> list[Pick]:
        """Per coefficient, the evaluated architecture of highest ``f_k`` (lower complexity on
        ties, then the first evaluated)."""
        scores = np.array([pick.score for pick in evaluated])
        complexity = np.array([self.normalised_complexity(pick.arch) for pick in evaluated])
        order = np.arange(len(evaluated))
        picks = []
        for eps in self.coefficients:
            objective = scores - eps * complexity
            i = int(np.lexsort((order, complexity, -objective))[0])
            picks.append(
                Pick.of(self.space, evaluated[i].arch, scores[i], objective=float(objective[i]))
            )
        return picks

    def run(self, iterations: int) -> ImportanceSamplingResult:
        """Runs ``iterations`` pooled updates.

        Args:
            iterations: Number of iterations ``T``.

        Returns:
            Two picks per coefficient (``best`` and ``mode``), every evaluated architecture and
            the evaluation count.

        Raises:
            AdwpError: On a bad iteration count, or when the backend skips
                ``MAX_CONSECUTIVE_MISSES`` (1000) redraws in a row.
        """
        if not is_integer(iterations) or iterations < 1:
            raise AdwpError(f"iterations must be a positive integer, got {iterations!r}")
        iterations = int(iterations)
        rng = np.random.default_rng(self.seed)
        counter = CountingBackend(self.backend)
        k, lam = len(self.coefficients), self.samples
        dists = [CategoricalASNG(self.encoding.categories) for _ in range(k)]
        trajectory = []
        for iteration in tqdm(range(iterations), disable=self.quiet, desc="importance sampling"):
            genotypes = np.concatenate([d.sample(lam, rng) for d in dists])
            objectives = self._objectives(counter, genotypes)
            owner = np.repeat(np.arange(k), lam)
            self._redraw_skipped(counter, dists, genotypes, objectives, owner, rng)
            if self.pool:
                log_p = np.stack([d.log_prob(genotypes) for d in dists])
                log_q = logsumexp(log_p, axis=0) - np.log(k)
            for j, dist in enumerate(dists):
                if self.pool:
                    log_w = log_p[j] - log_q
                    weights = np.exp(log_w - logsumexp(log_w))
                    x, objective = genotypes, objectives[j]
                else:
                    x, objective = genotypes[owner == j], objectives[j, owner == j]
                    weights = np.full(lam, 1.0 / lam)
                dist.update(x, _utilities(objective, weights) * weights)
            trajectory.append(
                {
                    "iteration": iteration,
                    "mean_objective": [_finite_mean(objectives[j, owner == j]) for j in range(k)],
                    "convergence": [d.convergence() for d in dists],
                }
            )
        modes = [self._mode_pick(counter, d, eps) for eps, d in zip(self.coefficients, dists)]
        # Every scored architecture, modes included, competes for every coefficient's best.
        evaluated = evaluated_picks(self.space, counter)
        per_coefficient = [
            CoefficientPicks(eps, best, mode, dist.convergence())
            for eps, best, mode, dist in zip(
                self.coefficients, self._best_picks(evaluated), modes, dists
            )
        ]
        return ImportanceSamplingResult(
            evaluated,
            per_coefficient=per_coefficient,
            samples=iterations * k * lam,
            complexity=self.complexity,
            complexity_range=(self.low, self.high),
            pooled=self.pool,
            trajectory=trajectory,
            skipped=len(counter.skipped),
        )
