"""Rank combination: a backend's ranking aggregated with the rankings of zero-cost proxies.

AZ-NAS (Lee and Ham, 2024) combines rankings by ``sum over members of log(rank / n)``, the best of
``n`` architectures having rank ``n``: an architecture must rank well on every member to score
well, since one poor rank costs far more (``log(1 / n)``) than a top rank gains (``log 1 = 0``).
On the 200-cell NAS-Bench-201 sample of ``docs/results.md`` the hypernetwork combined with synflow
and jacob_cov this way ranks at Kendall tau 0.830 against 0.659 alone.

A rank says where an architecture stands among those ranked with it, so a combined score is
relative to the set of architectures scored together: the same architecture scores differently
in another set, and scores from two calls of :meth:`CombinedBackend.score` are not comparable.
Score every candidate in one call (as ``adwp rank`` does) and compare scores within it only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from adwp.errors import AdwpError

__all__ = ["CombinedBackend", "aggregate_ranks"]


def aggregate_ranks(members: Sequence[Sequence[float]]) -> np.ndarray:
    """AZ-NAS's non-linear rank aggregation of several scores of the same architectures.

    Each member's scores are ranked with :func:`scipy.stats.rankdata` (ties share their average
    rank; the highest score has rank ``n``) and the result is ``sum(log(rank / n))`` over members:
    0 for an architecture that is best on every member, more negative the worse it ranks anywhere.
    ``-inf`` is a member's lowest possible score (a proxy's "no signal") and simply ranks last.

    Args:
        members: Per member, one score per architecture (higher is better), all in the same
            architecture order.

    Returns:
        Float64 array of combined scores, one per architecture, higher is better.

    Raises:
        AdwpError: No members, members of different lengths or empty, or a NaN score.
    """
    from scipy import stats

    arrays = [np.asarray(m, dtype=np.float64) for m in members]
    if not arrays:
        raise AdwpError("rank aggregation needs at least one member")
    n = len(arrays[0])
    if n == 0 or any(a.shape != (n,) for a in arrays):
        shapes = [a.shape for a in arrays]
        raise AdwpError(f"rank aggregation needs members of one non-zero length, got {shapes}")
    if any(np.isnan(a).any() for a in arrays):
        raise AdwpError("rank aggregation got a NaN score: a member could not score one")
    return np.sum([np.log(stats.rankdata(a) / n) for a in arrays], axis=0)


def _proxy_space(space: Any, options: Mapping[str, Any] | None) -> Any:
    """``space``'s kind at its default options, shaped for the same data: the network proxies are
    published on (NB201's C=16, N=5 for ``nb201``, whatever skeleton an evaluator trained on);
    ``options`` on top."""
    from adwp.spaces import DATA_SHAPE, get_space

    shape = {k: v for k, v in space.config().items() if k in DATA_SHAPE}
    return get_space(space.name, **{**shape, **(options or {})})


class CombinedBackend:
    """Ranks architectures by a backend's ranking combined with zero-cost proxies' rankings.

    The combined score is :func:`aggregate_ranks` of the backend's scores and each proxy's, the
    aggregation of AZ-NAS, which NAS-Bench-201's benchmark in ``docs/results.md`` uses. A combined
    score is relative to the architectures scored together (ranks are): compare scores from one
    call of :meth:`score` only, and score every candidate in that call. Searchers that score
    candidates a few at a time compare scores across calls, so they need an absolute backend.

    Args:
        backend: The backend to combine, e.g. an :class:`adwp.ranking.evaluator.Evaluator` or
            :class:`adwp.ranking.backend.EnsembleBackend`; its ``space`` shapes the proxies'
            network.
        proxies: Names of :func:`adwp.ranking.baselines.list_proxies`, at least one.
        data: Data splits whose training split gives the proxies' batch; default the backend's
            (an evaluator's ``data``, or its first member's).
        proxy_space: The space whose networks the proxies score; default the backend's kind of
            space at its default options for the backend's data shape (for ``nb201``, NB201's
            full network, C=16 and N=5, as the proxies were published).
        proxy_options: Options of that default space to change (e.g. ``{"channels": 8}``).
        batch_size: Images in the proxies' one batch.
        seed: Seed of that batch and of the proxies' network initialisation.
        device: Where the proxies compute; default the backend's device.
        name: The backend's name among the members (e.g. ``"hypernet"``).

    Attributes:
        members: ``{name: backend}``: the backend first, then the proxies in the given order.
        batch_relative: Always True: a score depends on the other architectures of its call.
        compute_seconds: Time spent building the proxies and scoring.

    Raises:
        AdwpError: An unknown or repeated proxy name, a backend without a ``space``, no data.
    """

    batch_relative = True

    def __init__(
        self,
        backend: Any,
        proxies: Sequence[str],
        data: Any = None,
        *,
        proxy_space: Any = None,
        proxy_options: Mapping[str, Any] | None = None,
        batch_size: int = 64,
        seed: int = 0,
        device: Any = None,
        name: str = "evaluator",
    ) -> None:
        from adwp.ranking.baselines.proxies import ZeroCostProxy, list_proxies

        start = time.perf_counter()
        names = list(proxies)
        if not names:
            raise AdwpError(f"name at least one proxy to combine with: {', '.join(list_proxies())}")
        unknown = [p for p in names if p not in list_proxies()]
        if unknown:
            raise AdwpError(f"unknown proxy {unknown[0]!r}; allowed: {', '.join(list_proxies())}")
        repeated = sorted({p for p in names if names.count(p) > 1} | ({name} & set(names)))
        if repeated:
            raise AdwpError(f"member {repeated[0]!r} is named twice; name each member once")
        space = getattr(backend, "space", None)
        if proxy_space is not None and proxy_options:
            raise AdwpError("give proxy_space or proxy_options, not both")
        if proxy_space is None:
            if space is None:
                raise AdwpError("the backend has no space: give proxy_space, the proxies' network")
            proxy_space = _proxy_space(space, proxy_options)
        # An ensemble's data and device are its members'.
        first = (getattr(backend, "members", None) or [backend])[0]
        if data is None:
            data = getattr(backend, "data", None) or getattr(first, "data", None)
            if data is None:
                raise AdwpError("the backend has no data: give data, for the proxies' batch")
        if device is None:
            device = getattr(first, "device", "cpu")
        self.backend = backend
        self.space = space
        self.proxy_space = proxy_space
        self.batch_size = batch_size
        self.seed = seed
        self.members: dict[str, Any] = {name: backend}
        for proxy in names:
            self.members[proxy] = ZeroCostProxy(
                proxy_space, data, proxy, batch_size=batch_size, seed=seed, device=device
            )
        self.compute_seconds = time.perf_counter() - start

    def member_scores(
        self, archs: Sequence[Any], progress: bool = False, **options: Any
    ) -> dict[str, np.ndarray]:
        """Every member's own scores (cached by the members), before any ranking.

        Args:
            archs: Architectures (or canonical strings) of the backend's space.
            progress: Show progress bars (the backend's, and one per proxy).
            **options: Passed to the backend's ``score``.

        Returns:
            ``{name: float64 array}``, input order; a proxy's ``-inf`` is its lowest score.

        Raises:
            ArchitectureError: If an architecture is outside the backend's or the proxies' space.
        """
        from tqdm.auto import tqdm

        from adwp.ranking.backend import checked_scores
        from adwp.spaces import Architecture

        start = time.perf_counter()
        try:
            name, backend = next(iter(self.members.items()))
            if progress:
                options["progress"] = True
            out = {name: checked_scores(backend.score(archs, **options), archs)}
            # Strings: the proxies' space is another instance (another size) of the space.
            keys = [a.to_string() if isinstance(a, Architecture) else str(a) for a in archs]
            for proxy_name, proxy in list(self.members.items())[1:]:
                todo = list(dict.fromkeys(keys))
                for key in tqdm(todo, desc=proxy_name, unit="arch", disable=not progress):
                    proxy.score([key])  # one at a time, so that the bar moves; cached
                out[proxy_name] = proxy.score(keys)
            return out
        finally:
            self.compute_seconds += time.perf_counter() - start

    def score(self, archs: Sequence[Any], **options: Any) -> np.ndarray:
        """Combined scores: :func:`aggregate_ranks` of the members' scores of ``archs``.

        Relative to ``archs``: an architecture's score depends on the others scored with it.

        Args:
            archs: At least 2 architectures (or canonical strings), ranked against each other.
            **options: Passed to :meth:`member_scores` (e.g. ``progress=True``).

        Returns:
            Float64 array, input order, higher is better; 0 is best on every member.

        Raises:
            AdwpError: Fewer than 2 architectures (a rank among one says nothing).
        """
        if len(archs) < 2:
            raise _too_few(len(archs))
        return self.combine(self.member_scores(archs, **options))

    @staticmethod
    def combine(member_scores: Mapping[str, Sequence[float]]) -> np.ndarray:
        """The combined scores of :meth:`member_scores`' output, without scoring again.

        Raises:
            AdwpError: Fewer than 2 architectures.
        """
        members = list(member_scores.values())
        n = len(members[0]) if members else 0
        if n < 2:
            raise _too_few(n)
        return aggregate_ranks(members)


def _too_few(n: int) -> AdwpError:
    return AdwpError(
        f"a combined score ranks architectures against each other: score at least 2 together, "
        f"got {n}"
    )
