"""Rank correlation between scores and ground truth, and what a search keeping a score's top
picks would get.

Kendall tau-b, Spearman and weighted tau come from :mod:`scipy.stats`, NDCG from
:func:`sklearn.metrics.ndcg_score`. Because model size alone ranks architectures of such spaces
about as well as a second training seed does, a score is also measured given a control: the
partial Kendall tau of score and truth given the control (:func:`partial_tau`), and the mean
Kendall tau within quantile bins of it (:func:`tau_within_bins`). What a search keeping a score's
top picks would get is :func:`top_k_mean` and :func:`precision_at_top_percent`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from adwp.errors import AdwpError

__all__ = [
    "KS",
    "RELIABLE_PAIRS",
    "TOP_K",
    "check_bins",
    "kendall_tau",
    "nan_if_undefined",
    "partial_tau",
    "precision_at_top_percent",
    "rank_metrics",
    "tau_within_bins",
    "tau_within_size_bins",
    "top_k_mean",
    "top_percent_count",
]


KS = (5, 10, 20)
#: The k of :func:`top_k_mean` that :func:`correlation_report` reports (those up to n).
TOP_K = (10, 50, 100)
# Below this many pairs a Kendall tau says little: unrelated rankings of 9 architectures reach
# |tau| 0.52 by chance (95%), so a report on so few carries a warning.
RELIABLE_PAIRS = 10


def _check(x: np.ndarray, y: np.ndarray, what: str = "scores") -> None:
    if x.shape != y.shape or x.ndim != 1:
        raise AdwpError(f"paired arrays differ in shape: {x.shape} vs {y.shape}")
    if len(x) < 3:
        raise AdwpError(f"need at least 3 paired architectures, got {len(x)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise AdwpError(f"{what} or truth contain NaN or infinity")
    if np.ptp(x) == 0:
        raise AdwpError(f"{what} are constant: rank correlation is undefined")
    if np.ptp(y) == 0:
        raise AdwpError("ground truth is constant: rank correlation is undefined")


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall tau-b of two paired arrays (:func:`scipy.stats.kendalltau`)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    _check(x, y)
    return float(stats.kendalltau(x, y).statistic)


def partial_tau(x: Sequence[float], y: Sequence[float], z: Sequence[float]) -> float:
    """Partial Kendall tau of ``x`` and ``y`` given ``z``.

    ``(t_xy - t_xz t_yz) / sqrt((1 - t_xz^2) (1 - t_yz^2))`` with tau-b throughout.

    Raises:
        AdwpError: If ``z`` ranks ``x`` or ``y`` perfectly (the formula divides by zero).
    """
    x, y, z = (np.asarray(a, float) for a in (x, y, z))
    t_xy, t_xz, t_yz = kendall_tau(x, y), kendall_tau(x, z), kendall_tau(y, z)
    denom = (1 - t_xz**2) * (1 - t_yz**2)
    if denom <= 0:
        raise AdwpError("partial tau undefined: the control variable ranks one side perfectly")
    return float((t_xy - t_xz * t_yz) / math.sqrt(denom))


def check_bins(bins: int) -> None:
    """Raises :class:`AdwpError` unless ``bins`` is an integer of at least 2."""
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise AdwpError(f"bins must be an integer of at least 2 (4: quartiles), got {bins!r}")


def tau_within_bins(
    x: Sequence[float], y: Sequence[float], control: Sequence[float], bins: int = 4
) -> dict[str, Any]:
    """Kendall tau of ``x`` and ``y`` inside each quantile bin of ``control``, and their mean.

    Inside a bin the control hardly varies, so a score that only knows the control (model size,
    say) ranks near 0 there. Bins follow the control's quantiles (quartiles by default); a bin
    with fewer than 3 members, or constant ``x`` or ``y`` inside it, has no tau.

    Args:
        x: Scores.
        y: Ground truth.
        control: The control variable (any scale: only its order matters).
        bins: Number of quantile bins, at least 2.

    Returns:
        ``tau`` (one per bin, lowest control first; None where undefined), ``n`` (members per
        bin) and ``mean`` (over the bins with a tau; None if none has one).

    Raises:
        AdwpError: If ``bins`` is below 2 or the arrays differ in length.
    """
    check_bins(bins)
    x, y, z = (np.asarray(a, float) for a in (x, y, control))
    if not x.shape == y.shape == z.shape or x.ndim != 1:
        raise AdwpError(f"paired arrays differ in shape: {x.shape}, {y.shape}, {z.shape}")
    edges = np.quantile(z, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, z, side="right") - 1, 0, bins - 1)
    taus: list[float | None] = []
    sizes: list[int] = []
    for b in range(bins):
        mask = which == b
        sizes.append(int(mask.sum()))
        if mask.sum() >= 3 and np.ptp(x[mask]) > 0 and np.ptp(y[mask]) > 0:
            taus.append(float(stats.kendalltau(x[mask], y[mask]).statistic))
        else:
            taus.append(None)
    defined = [t for t in taus if t is not None]
    return {"tau": taus, "n": sizes, "mean": float(np.mean(defined)) if defined else None}


def tau_within_size_bins(
    x: Sequence[float], y: Sequence[float], size: Sequence[float], bins: int = 4
) -> float | None:
    """Mean Kendall tau inside quantile bins of ``size`` (quartiles by default).

    The mean of :func:`tau_within_bins`: bins with fewer than 3 members or constant values are
    skipped; None if none is left.
    """
    return tau_within_bins(x, y, size, bins)["mean"]


def _checked_pair(score: Sequence[float], truth: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    s, t = np.asarray(score, float), np.asarray(truth, float)
    if s.shape != t.shape or s.ndim != 1 or len(s) == 0:
        raise AdwpError(f"paired arrays differ in shape or are empty: {s.shape} vs {t.shape}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(t))):
        raise AdwpError("scores or truth contain NaN or infinity")
    return s, t


def _top_membership(values: np.ndarray, k: int) -> np.ndarray:
    """Chance of each item to be among the ``k`` highest ``values`` when ties are broken at
    random: 1 above the k-th value, 0 below it, and the places left shared evenly among the
    items equal to it. Model sizes tie often (NB201 has 15,625 cells but few distinct #params),
    and a stable sort would let the input order decide."""
    threshold = np.sort(values)[::-1][k - 1]
    above = values > threshold
    tied = values == threshold
    chance = above.astype(float)
    chance[tied] = (k - above.sum()) / tied.sum()
    return chance


def _check_k(k: int, n: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise AdwpError(
            f"k must be an integer in [1, {n}] (the number of architectures), got {k!r}"
        )


def top_k_mean(score: Sequence[float], truth: Sequence[float], k: int) -> float:
    """Mean true value of the ``k`` architectures a score ranks highest.

    What a search that keeps a score's top k would get. ``top_k_mean(truth, truth, k)`` is the
    best possible. Ties at the k-th place are broken at random, in expectation: the places left
    go to the tied architectures' mean truth.

    Args:
        score: Scores, higher is better.
        truth: Ground truth, paired with ``score``.
        k: How many to keep, in ``[1, len(score)]``.

    Returns:
        The mean truth of the top ``k``.

    Raises:
        AdwpError: Arrays of different lengths, a NaN or infinity, ``k`` out of range.
    """
    s, t = _checked_pair(score, truth)
    _check_k(k, len(s))
    return float(np.dot(_top_membership(s, k), t) / k)


def precision_at_top_percent(
    score: Sequence[float], truth: Sequence[float], percent: float = 5.0
) -> float:
    """Share of the true top ``percent``% among a score's top ``percent``% (P@top-k%).

    Both tops hold ``k = ceil(n * percent / 100)`` architectures; ties at the k-th place (of the
    score or the truth) are broken at random, in expectation.

    Args:
        score: Scores, higher is better.
        truth: Ground truth, paired with ``score``.
        percent: The top share, in (0, 100].

    Returns:
        A fraction in [0, 1]; 1 when the two tops are the same architectures.

    Raises:
        AdwpError: Arrays of different lengths, a NaN or infinity, ``percent`` out of (0, 100].
    """
    s, t = _checked_pair(score, truth)
    k = top_percent_count(len(s), percent)
    return float(np.dot(_top_membership(s, k), _top_membership(t, k)) / k)


def top_percent_count(n: int, percent: float) -> int:
    """How many architectures the top ``percent``% of ``n`` holds: ``ceil(n * percent / 100)``.

    Raises:
        AdwpError: If ``percent`` is not a number in (0, 100].
    """
    if (
        isinstance(percent, bool)
        or not isinstance(percent, (int, float, np.number))
        or not 0 < percent <= 100
    ):
        raise AdwpError(f"the top percent must be a number in (0, 100], got {percent!r}")
    # The rounding guard keeps 5% of 200 at 10 (200 * 5 / 100 is 10.000000000000002 in floats).
    return max(1, math.ceil(round(n * percent / 100, 9)))


def _ndcg(score: np.ndarray, truth: np.ndarray, k: int) -> float:
    from sklearn.metrics import ndcg_score

    # Gains are min-max scaled truth: raw accuracies (all near 1) would make every order look ideal.
    gain = (truth - truth.min()) / (truth.max() - truth.min())
    return float(ndcg_score(gain[None, :], score[None, :], k=k))


def rank_metrics(
    score: Sequence[float], truth: Sequence[float], size: Sequence[float] | None = None
) -> dict[str, Any]:
    """Every rank metric of one paired comparison (no confidence intervals).

    Args:
        score: Predicted scores, higher is better.
        truth: Ground-truth values, higher is better.
        size: #params per pair, for the size-controlled metrics.

    Returns:
        ``kendall_tau``, ``spearman``, ``weighted_tau``, ``precision_at_k``, ``ndcg_at_k``,
        ``regret_at_k`` (k = 1, 5), ``n`` and, with ``size``, ``partial_tau`` and
        ``tau_within_size_bins``.
    """
    s, t = np.asarray(score, float), np.asarray(truth, float)
    _check(s, t)
    order_s = np.argsort(-s, kind="stable")
    order_t = np.argsort(-t, kind="stable")
    out: dict[str, Any] = {
        "n": len(s),
        "kendall_tau": float(stats.kendalltau(s, t).statistic),
        "spearman": float(stats.spearmanr(s, t).statistic),
        "weighted_tau": float(stats.weightedtau(s, t).statistic),
        "precision_at_k": {},
        "ndcg_at_k": {},
        "regret_at_k": {},
    }
    for k in KS:
        if k <= len(s):
            top_s, top_t = set(order_s[:k]), set(order_t[:k])
            out["precision_at_k"][str(k)] = len(top_s & top_t) / k
            out["ndcg_at_k"][str(k)] = _ndcg(s, t, k)
    for k in (1, 5):
        if k <= len(s):
            out["regret_at_k"][str(k)] = float(t.max() - t[order_s[:k]].max())
    if size is not None:
        z = np.log(np.asarray(size, float))
        try:
            out["partial_tau"] = partial_tau(s, t, z)
        except AdwpError:
            out["partial_tau"] = None
        out["tau_within_size_bins"] = tau_within_size_bins(s, t, z)
    return out


def nan_if_undefined(fn: Any) -> Any:
    """``fn`` answering NaN where it is undefined (it raises :class:`AdwpError` or returns None),
    as a bootstrap resample of constant values makes it."""

    def wrapped(*arrays: np.ndarray) -> float:
        try:
            value = fn(*arrays)
        except AdwpError:
            return math.nan
        return math.nan if value is None else value

    return wrapped
