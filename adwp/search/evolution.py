"""Regularized evolution (Real et al., AAAI 2019): tournament selection with aging."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from adwp._checks import is_integer
from adwp.errors import AdwpError
from adwp.registry import SEARCHERS
from adwp.search._common import CountingBackend, SearchResult, resolve_space, search_result
from adwp.search._encoding import CategoricalEncoding

__all__ = ["RegularizedEvolution"]

_MUTATION_TRIES = 100


@SEARCHERS.register("evolution", needs=("budget",), settings=("population", "tournament"))
class RegularizedEvolution:
    """Evolves a population by mutating tournament winners and retiring the oldest member.

    Args:
        backend: Any ranking backend.
        space: Search space; default ``backend.space``.
        population: Population size ``P``.
        tournament: Sample size ``S`` of every tournament.
        seed: Seed of every random choice.
        quiet: Hide the progress bar.
    """

    def __init__(
        self,
        backend: Any,
        space: Any = None,
        population: int = 20,
        tournament: int = 5,
        seed: int = 0,
        quiet: bool = True,
    ) -> None:
        space = resolve_space(backend, space)
        for name, value in (("population", population), ("tournament", tournament)):
            if not is_integer(value):
                raise AdwpError(f"{name} must be an integer, got {value!r}")
        if not 1 <= tournament <= population:
            raise AdwpError(f"need 1 <= tournament <= population, got {tournament}, {population}")
        self.backend, self.space = backend, space
        self.population, self.tournament = int(population), int(tournament)
        self.seed, self.quiet = seed, quiet
        self.encoding = CategoricalEncoding(space)

    def _valid_random(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(_MUTATION_TRIES):
            x = self.encoding.sample(rng)
            if self.encoding.decode(x) is not None:
                return x
        return self.encoding.encode(self.space.sample(rng))

    def mutate(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Changes one decision that matters (an active variable) to another allowed value."""
        for _ in range(_MUTATION_TRIES):
            active = np.flatnonzero(self.encoding.active(x))
            i = int(rng.choice(active))
            child = x.copy()
            options = [c for c in range(self.encoding.categories[i]) if c != x[i]]
            child[i] = options[rng.integers(len(options))]
            if self.encoding.decode(child) is not None:
                return child
        raise AdwpError("no valid mutation found: the space has too few architectures")

    def run(self, budget: int) -> SearchResult:
        """Runs until ``budget`` architectures have been proposed (initial population included).

        With a backend that skips architectures it cannot score (``missing="skip"``), a skipped
        proposal is replaced by a new one (a new random member, or a new tournament and
        mutation) and is not counted; the search stops with an error after
        ``MAX_CONSECUTIVE_MISSES`` (1000) skipped proposals in a row.

        Args:
            budget: Number of scored proposals (at least the population size).

        Returns:
            The best one, the history and every evaluated architecture.

        Raises:
            AdwpError: On a bad budget, or when the backend scores too few architectures.
        """
        if not is_integer(budget) or budget < self.population:
            raise AdwpError(
                f"budget must be an integer >= the population ({self.population}), got {budget!r}"
            )
        budget = int(budget)
        if len(self.encoding) == 0:
            raise AdwpError("the space has a single architecture: nothing to evolve")
        rng = np.random.default_rng(self.seed)
        counter = CountingBackend(self.backend)
        queried = []
        population: deque[tuple[np.ndarray, float]] = deque()
        with tqdm(total=budget, disable=self.quiet, desc="evolution") as bar:
            initial = [self._valid_random(rng) for _ in range(self.population)]
            archs = [self.encoding.decode(x) for x in initial]
            for x, arch, score in zip(initial, archs, counter.score(archs)):
                while np.isnan(score):  # not scorable: draw another member
                    counter.missed()
                    x = self._valid_random(rng)
                    arch = self.encoding.decode(x)
                    score = counter.score([arch])[0]
                counter.hit()
                population.append((x, float(score)))
                queried.append(arch)
            bar.update(len(queried))
            while len(queried) < budget:
                picks = rng.choice(len(population), self.tournament, replace=False)
                parent = max((population[i] for i in picks), key=lambda member: member[1])
                child = self.mutate(parent[0], rng)
                arch = self.encoding.decode(child)
                score = float(counter.score([arch])[0])
                if np.isnan(score):
                    counter.missed()
                    continue
                counter.hit()
                population.append((child, score))
                population.popleft()
                queried.append(arch)
                bar.update(1)
        return search_result(self.space, counter, queried)
