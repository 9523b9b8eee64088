"""Random search: the baseline every searcher must beat at the same budget."""

from __future__ import annotations

from typing import Any

import numpy as np
from tqdm.auto import tqdm

from adwp._checks import is_integer
from adwp.errors import AdwpError
from adwp.registry import SEARCHERS
from adwp.search._common import CountingBackend, SearchResult, resolve_space, search_result

__all__ = ["RandomSearch"]


@SEARCHERS.register("random", needs=("budget",))
class RandomSearch:
    """Scores ``budget`` architectures drawn with ``space.sample`` and keeps the best.

    Args:
        backend: Any ranking backend.
        space: Search space; default ``backend.space``.
        batch: Architectures sent to the backend per call (speed only; same result).
        seed: Seed of the draws.
        quiet: Hide the progress bar.
    """

    def __init__(
        self, backend: Any, space: Any = None, batch: int = 16, seed: int = 0, quiet: bool = True
    ) -> None:
        space = resolve_space(backend, space)
        self.backend, self.space, self.batch, self.seed, self.quiet = (
            backend,
            space,
            max(1, int(batch)),
            seed,
            quiet,
        )

    def run(self, budget: int) -> SearchResult:
        """Draws and scores ``budget`` distinct architectures (all of them if the space is smaller).

        With a backend that skips architectures it cannot score (``missing="skip"``), each
        skipped one is replaced by a new draw (until the whole space has been drawn); the search
        stops with an error after ``MAX_CONSECUTIVE_MISSES`` (1000) draws in a row bring no new
        score.

        Args:
            budget: Number of architectures.

        Returns:
            The best one, the history and every evaluated architecture.

        Raises:
            AdwpError: On a bad budget, or when the backend scores too few architectures.
        """
        if not is_integer(budget) or budget < 1:
            raise AdwpError(f"budget must be a positive integer, got {budget!r}")
        budget = min(int(budget), self.space.size())
        rng = np.random.default_rng(self.seed)
        archs = self.space.sample_many(budget, rng)
        counter = CountingBackend(self.backend)
        with tqdm(total=budget, disable=self.quiet, desc="random search") as bar:
            for start in range(0, len(archs), self.batch):
                chunk = archs[start : start + self.batch]
                bar.update(int(np.isfinite(counter.score(chunk)).sum()))
            scored = [a for a in archs if a in counter.cache]
            drawn = set(archs)
            # Replaces skipped architectures, until the whole space has been drawn.
            while len(scored) < budget and len(drawn) < self.space.size():
                arch = self.space.sample(rng)
                if arch in drawn:
                    counter.missed()
                    continue
                drawn.add(arch)
                if np.isnan(counter.score([arch])[0]):
                    counter.missed()
                    continue
                counter.hit()
                scored.append(arch)
                bar.update(1)
        return search_result(self.space, counter, scored)
