"""Rank-correlation report between scores and ground truth.

Keys are opaque strings, so tables from other benchmarks work too. Kendall tau-b, Spearman and
weighted tau come from :mod:`scipy.stats`, NDCG from :func:`sklearn.metrics.ndcg_score`, confidence
intervals from :func:`scipy.stats.bootstrap`.

Because model size alone ranks architectures of such spaces about as well as a second training
seed does, the report also says whether a score knows more than size: the partial Kendall tau of
score and truth given log #params, and the mean Kendall tau within #params quartiles. Any other
control (FLOPs, another method's scores) works the same way (:func:`partial_tau`,
:func:`tau_within_bins`). What a search keeping a score's top picks would get is
:func:`top_k_mean` and :func:`precision_at_top_percent`; whether one score ranks better than
another on the same architectures is :func:`paired_bootstrap_difference` (and
:func:`compare_scores` for several).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from adwp.errors import AdwpError

__all__ = [
    "TOP_K",
    "bootstrap_ci",
    "bootstrap_verdict",
    "compare_scores",
    "correlation_report",
    "kendall_tau",
    "noise_ceiling",
    "paired_bootstrap_difference",
    "partial_tau",
    "precision_at_top_percent",
    "rank_metrics",
    "split_half_ceiling",
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
_RELIABLE_PAIRS = 10


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


def _check_bins(bins: int) -> None:
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
    _check_bins(bins)
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


def paired_bootstrap_difference(
    statistic: Callable[..., float | None],
    a: Sequence[float],
    b: Sequence[float],
    truth: Sequence[float],
    n_resamples: int = 1000,
    seed: int = 0,
    *,
    control: Sequence[float] | None = None,
    confidence: float = 0.95,
) -> tuple[float, tuple[float, float]]:
    """Difference of a statistic between two scores of the same architectures, with its interval.

    Paired bootstrap: every resample draws architectures with replacement and evaluates both
    scores on the same draw, so what the two scores share (the same hard and easy architectures)
    cancels out, and the interval is much narrower than the two separate intervals suggest. The
    interval is the percentile interval of ``statistic(a) - statistic(b)`` over resamples;
    resamples on which either statistic is undefined (constant values, an AdwpError or None) are
    left out.

    Args:
        statistic: ``statistic(score, truth)``, or ``statistic(score, truth, control)`` when
            ``control`` is given (e.g. :func:`kendall_tau`, :func:`partial_tau`).
        a: First score per architecture.
        b: Second score of the same architectures.
        truth: Ground truth of the same architectures.
        n_resamples: Bootstrap resamples.
        seed: Seed of the resampling; the same seed draws the same resamples whatever the scores.
        control: Control variable passed to ``statistic``, resampled with the rest.
        confidence: Coverage of the interval.

    Returns:
        ``(statistic(a) - statistic(b), (low, high))`` on all architectures.

    Raises:
        AdwpError: Arrays of different lengths, fewer than 3 architectures, a statistic undefined
            on all architectures, or no resample on which both are defined.
    """
    arrays = [np.asarray(v, float) for v in (a, b, truth)]
    if control is not None:
        arrays.append(np.asarray(control, float))
    n = len(arrays[0])
    if any(v.shape != (n,) for v in arrays):
        raise AdwpError(f"paired arrays differ in shape: {[v.shape for v in arrays]}")
    if n < 3:
        raise AdwpError(f"need at least 3 paired architectures, got {n}")
    if not 0 < confidence < 1:
        raise AdwpError(f"confidence must be in (0, 1), got {confidence!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise AdwpError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    first, second, t, *rest = arrays

    def difference(index: np.ndarray | slice) -> float:
        extra = [r[index] for r in rest]
        try:
            x = statistic(first[index], t[index], *extra)
            y = statistic(second[index], t[index], *extra)
        except AdwpError:
            return math.nan
        if x is None or y is None:
            return math.nan
        return float(x) - float(y)

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        point = difference(slice(None))
        if math.isnan(point):
            raise AdwpError("the statistic is undefined on these architectures")
        draws = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
        values = np.array([difference(index) for index in draws])
    values = values[~np.isnan(values)]
    if len(values) == 0:
        raise AdwpError("the statistic is undefined on every bootstrap resample")
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return point, (float(low), float(high))


def bootstrap_verdict(interval: Sequence[float]) -> str:
    """``"ahead"`` when an interval of a difference excludes 0, ``"level"`` when it holds 0."""
    low, high = interval
    return "ahead" if low > 0 or high < 0 else "level"


def _control_array(
    control: Mapping[str, float], keys: Sequence[str], name: str, which: str
) -> np.ndarray:
    """The control's values of ``keys``, in order; every key must have one."""
    lacking = [k for k in keys if k not in control]
    if lacking:
        raise AdwpError(
            f"{name} lacks {len(lacking)} of the {len(keys)} {which} architectures "
            f"(e.g. {lacking[0]!r})"
        )
    return np.array([control[k] for k in keys], float)


def compare_scores(
    scores: Mapping[str, Mapping[str, float]],
    truth: Mapping[str, float],
    *,
    control: Mapping[str, float] | None = None,
    control_name: str = "control",
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Paired bootstrap comparison of every pair of scores on their common architectures.

    For each pair and each statistic (Kendall tau, and partial Kendall tau given ``control`` when
    there is one) it gives the difference, its 95% interval (:func:`paired_bootstrap_difference`;
    every pair is resampled with the same seed, so with the same draws) and a verdict: ``ahead``
    when the interval excludes 0, ``level`` when it holds 0. Each pair is ordered so that the
    difference is not negative: ``first`` is the better of the two on that statistic.

    Args:
        scores: ``{name: {arch: score}}``, at least two.
        truth: ``{arch: true value}``.
        control: ``{arch: control value}`` (e.g. #params), covering the common architectures.
        control_name: What the control is, for the report.
        n_resamples: Bootstrap resamples.
        seed: Bootstrap seed.

    Returns:
        ``n`` and ``archs`` (the architectures in every score and in the truth), ``control``
        (its name or None), ``n_resamples``, ``seed``, ``values`` (``{name: {statistic:
        value}}`` on the common architectures) and ``pairs`` (``first``, ``second``,
        ``statistic``, ``difference``, ``ci``, ``verdict``).

    Raises:
        AdwpError: Fewer than two scores, fewer than 3 common architectures, a control that
            lacks one of them, or constant scores.
    """
    names = list(scores)
    if len(names) < 2:
        raise AdwpError(f"a comparison needs at least two scores, got {len(names)}")
    keys = [k for k in scores[names[0]] if k in truth and all(k in scores[m] for m in names)]
    if len(keys) < 3:
        raise AdwpError(
            f"only {len(keys)} architectures are in every scores file and in the truth (need 3)"
        )
    t = np.array([truth[k] for k in keys], float)
    arrays = {m: np.array([scores[m][k] for k in keys], float) for m in names}
    statistics: dict[str, Callable[..., float]] = {"kendall_tau": kendall_tau}
    z = None
    if control is not None:
        z = _control_array(control, keys, control_name, "common")
        statistics["partial_tau"] = partial_tau
    values: dict[str, dict[str, float | None]] = {}
    for m in names:
        try:
            values[m] = {"kendall_tau": kendall_tau(arrays[m], t)}
        except AdwpError as exc:
            raise AdwpError(f"{m}: {exc}") from None
        if z is not None:
            values[m]["partial_tau"] = _safe(partial_tau)(arrays[m], t, z)
            if math.isnan(values[m]["partial_tau"]):
                values[m]["partial_tau"] = None
    pairs = []
    for stat, fn in statistics.items():
        for first, second in itertools.combinations(names, 2):
            if any(values[m][stat] is None for m in (first, second)):
                continue
            extra = {"control": z} if stat == "partial_tau" else {}
            diff, (low, high) = paired_bootstrap_difference(
                fn, arrays[first], arrays[second], t, n_resamples, seed, **extra
            )
            if diff < 0:
                first, second, diff, (low, high) = second, first, -diff, (-high, -low)
            pairs.append(
                {
                    "statistic": stat,
                    "first": first,
                    "second": second,
                    "difference": diff,
                    "ci": [low, high],
                    "verdict": bootstrap_verdict((low, high)),
                }
            )
    return {
        "n": len(keys),
        "control": control_name if z is not None else None,
        "n_resamples": n_resamples,
        "seed": seed,
        "values": values,
        "pairs": pairs,
        "archs": keys,
    }


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


def _chance_tau(n: int) -> float:
    """Largest |Kendall tau| that unrelated rankings of ``n`` items reach with 95% probability.

    Uses the normal approximation of tau's null distribution, of variance
    ``2 (2n + 5) / (9 n (n - 1))`` (Kendall, 1938): a tau inside ``[-c, c]`` cannot be told apart
    from no relation at all.

    Raises:
        AdwpError: If ``n`` is below 2.
    """
    if n < 2:
        raise AdwpError(f"chance tau needs at least 2 items, got {n}")
    return float(1.959964 * math.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1))))


def _few_pairs_warning(n: int, ci: list[float] | None) -> str:
    interval = f"95% CI [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "no bootstrap CI"
    return (
        f"only {n} architectures in common; Kendall tau is unreliable below {_RELIABLE_PAIRS} "
        f"({interval}; unrelated rankings reach |tau| {_chance_tau(n):.2f} by chance)"
    )


def bootstrap_ci(
    statistic: Any, arrays: Sequence[np.ndarray], n_resamples: int = 1000, seed: int = 0
) -> list[float] | None:
    """95% percentile bootstrap interval of ``statistic(*arrays)``, resampling rows together.

    Resamples on which the statistic is undefined (constant values) count as NaN.

    Returns:
        ``[low, high]``, or None where the interval is not finite.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = stats.bootstrap(
            tuple(arrays),
            _safe(statistic),
            paired=True,
            vectorized=False,
            n_resamples=n_resamples,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    low, high = result.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return [float(low), float(high)]


def _safe(fn: Any) -> Any:
    def wrapped(*arrays: np.ndarray) -> float:
        try:
            value = fn(*arrays)
        except AdwpError:
            return math.nan
        return math.nan if value is None else value

    return wrapped


def _compare_seed_groups(
    seed_values: Mapping[str, Mapping[int, float]],
    size: Mapping[str, float] | None,
    groups: Sequence[tuple[Sequence[int], Sequence[int]]],
) -> tuple[list[dict[str, Any]], int]:
    """:func:`rank_metrics` between the means of two groups of seeds, for every pair of groups.

    Each pair is compared on the architectures that have all of its seeds; a pair with fewer than
    3 such architectures is skipped, and so is a pair in which one group gives every architecture
    the same value (a degenerate run, e.g. every network at chance), whose tau is undefined.

    Returns:
        The reports, and how many pairs were skipped for a constant group.
    """
    reports, constant = [], 0
    for first, second in groups:
        keys = [k for k, v in seed_values.items() if all(s in v for s in (*first, *second))]
        if len(keys) < 3:
            continue
        a = np.array([np.mean([seed_values[k][s] for s in first]) for k in keys])
        b = np.array([np.mean([seed_values[k][s] for s in second]) for k in keys])
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            constant += 1
            continue
        reports.append(rank_metrics(a, b, [size[k] for k in keys] if size else None))
    return reports, constant


def noise_ceiling(
    seed_values: Mapping[str, Mapping[int, float]], size: Mapping[str, float] | None = None
) -> dict[str, Any] | None:
    """The same metrics between training seeds of the ground truth.

    Every pair of seeds is compared on the architectures that have both; the metrics are averaged
    over pairs. With two seeds this is seed 0 against seed 1: single runs against single runs,
    a conservative ceiling for a score compared with the mean over seeds. A pair in which one
    seed gives every architecture the same value is left out and counted in
    ``skipped_constant``.

    Args:
        seed_values: ``{arch: {seed: value}}``.
        size: ``{arch: #params}``.

    Returns:
        The averaged metrics plus ``pairs`` and ``comparison``; None with fewer than two seeds.
    """
    seeds = sorted({s for values in seed_values.values() for s in values})
    pairs = [((a,), (b,)) for a, b in itertools.combinations(seeds, 2)]
    reports, constant = _compare_seed_groups(seed_values, size, pairs)
    if not reports:
        return None
    out = _average(reports)
    out["pairs"] = len(reports)
    if constant:
        out["skipped_constant"] = constant
    out["comparison"] = "single seed vs single seed, averaged over seed pairs"
    return out


def _half_splits(
    seeds: Sequence[int], max_splits: int, seed: int
) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Disjoint pairs of ``len(seeds) // 2`` seeds: all of them, or ``max_splits`` random ones."""
    half = len(seeds) // 2
    total = math.comb(len(seeds), half) * math.comb(len(seeds) - half, half) // 2
    if total <= max_splits:
        splits = []
        for first in itertools.combinations(seeds, half):
            rest = [s for s in seeds if s not in first]
            splits += [(first, second) for second in itertools.combinations(rest, half)]
        return [(a, b) for a, b in splits if a[0] < b[0]]
    rng = np.random.default_rng(seed)
    drawn: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    while len(drawn) < max_splits:
        order = rng.permutation(len(seeds))
        a = tuple(sorted(seeds[i] for i in order[:half]))
        b = tuple(sorted(seeds[i] for i in order[half : 2 * half]))
        drawn.add((a, b) if a[0] < b[0] else (b, a))
    return sorted(drawn)


def split_half_ceiling(
    seed_values: Mapping[str, Mapping[int, float]],
    size: Mapping[str, float] | None = None,
    *,
    max_splits: int = 50,
    seed: int = 0,
) -> dict[str, Any] | None:
    """The same metrics between the means of two disjoint halves of the ground-truth seeds.

    With 2k seeds this is the mean of k runs against the mean of k other runs: the agreement of
    two independent k-seed tables, a tighter ceiling than :func:`noise_ceiling`'s single runs when
    scores are compared with a mean over several seeds. Which seeds fall in which half moves the
    tau by several hundredths (0.71 to 0.78 over splits of an 8-seed table), so the metrics are
    averaged over every split into halves, or over ``max_splits`` seeded random ones when there
    are more. Each split compares the architectures that have all of its seeds; a split with fewer
    than 3 such architectures is skipped.

    Args:
        seed_values: ``{arch: {seed: value}}``.
        size: ``{arch: #params}``.
        max_splits: Most splits to average over.
        seed: Seed of the random splits (used only when there are more than ``max_splits``).

    Returns:
        The averaged metrics plus ``splits`` (how many), ``seeds_per_half``, ``kendall_tau_range``
        (min and max over splits) and ``comparison``; None with fewer than 4 seeds or when no split
        has 3 architectures with all of its seeds.
    """
    seeds = sorted({s for values in seed_values.values() for s in values})
    half = len(seeds) // 2
    if half < 2:
        return None
    splits = _half_splits(seeds, max_splits, seed)
    reports, constant = _compare_seed_groups(seed_values, size, splits)
    if not reports:
        return None
    out = _average(reports)
    taus = [r["kendall_tau"] for r in reports]
    out["splits"] = len(reports)
    if constant:
        out["skipped_constant"] = constant
    out["seeds_per_half"] = half
    out["kendall_tau_range"] = [float(min(taus)), float(max(taus))]
    out["comparison"] = (
        f"mean of {half} seeds vs mean of {half} other seeds (of seeds {seeds}), "
        f"averaged over {len(reports)} splits"
    )
    return out


def _average(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in reports[0].items():
        if isinstance(value, dict):
            out[key] = {k: float(np.mean([r[key][k] for r in reports])) for k in value}
        elif value is None or any(r[key] is None for r in reports):
            out[key] = None
        else:
            out[key] = float(np.mean([r[key] for r in reports]))
    out["n"] = int(min(r["n"] for r in reports))
    return out


def correlation_report(
    truth_rows: Sequence[Mapping[str, Any]],
    scores: Mapping[str, float],
    *,
    metric: str = "val_acc",
    params: Mapping[str, float] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    control: Mapping[str, float] | None = None,
    control_name: str = "control",
    bins: int = 4,
    top_k: Sequence[int] = TOP_K,
    top_percent: float = 5.0,
) -> dict[str, Any]:
    """Compares scores with a ground-truth table (seeds averaged per architecture).

    Args:
        truth_rows: Rows with ``arch``, ``seed``, ``metric`` and optionally ``params``.
        scores: ``{arch: score}``; keys are opaque strings (an :class:`Architecture` key counts
            as its canonical string).
        metric: Ground-truth column (``val_acc`` or ``test_acc``).
        params: ``{arch: #params}``; taken from the truth rows where missing.
        n_resamples: Bootstrap resamples for the 95% confidence intervals.
        seed: Bootstrap seed.
        control: ``{arch: value}`` of a variable to control for (model size, FLOPs, another
            method's scores...), covering every matched architecture. Default: #params where
            known for all of them (named ``params``), else no control.
        control_name: What ``control`` is, for the report.
        bins: Quantile bins of the control for :func:`tau_within_bins` (4: quartiles).
        top_k: The k of :func:`top_k_mean`; those above the number of matched architectures are
            left out.
        top_percent: The share of :func:`precision_at_top_percent`, in (0, 100].

    Returns:
        The metrics of :func:`rank_metrics`, ``ci``, ``control`` (None without one: ``name``,
        ``kendall_tau`` of the control alone, ``partial_tau`` of score and truth given it with
        its bootstrap interval ``partial_tau_ci``, ``bins`` of :func:`tau_within_bins` and the
        paired ``values``), ``top_k_mean`` (``{k: {"score", "control", "best"}}``: the mean truth
        of the top k by score, by the control, and of the true top k),
        ``precision_at_top_percent`` (``percent``, ``k``, ``score``, ``control``),
        ``noise_ceiling``,
        ``noise_ceiling_split_half`` (None with fewer than 4 seeds), ``unmatched``,
        ``warnings`` (one line each; empty unless fewer than 10 architectures
        are matched) and the paired arrays ``archs``, ``score``, ``truth``, ``params`` and
        ``seeds`` (how many seeds each truth value averages).

    Raises:
        AdwpError: Fewer than 3 matched architectures, constant input, a missing metric column,
            a NaN or infinite truth value or score (naming its row or architecture), a control
            lacking a matched architecture, ``bins`` below 2, ``top_percent`` out of (0, 100].
    """
    _check_bins(bins)
    top_percent_count(1, top_percent)
    if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in top_k):
        raise AdwpError(f"top_k must hold positive integers, got {list(top_k)}")
    per_seed: dict[str, dict[int, float]] = {}
    sizes: dict[str, float] = dict(params or {})
    for i, row in enumerate(truth_rows):
        if metric not in row:
            raise AdwpError(f"ground-truth row {i + 1} has no {metric!r}")
        value = float(row[metric])
        if not math.isfinite(value):
            raise AdwpError(
                f"ground-truth row {i + 1} ({row['arch']}): {metric} is {value}, "
                "not a finite number"
            )
        per_seed.setdefault(str(row["arch"]), {})[int(row.get("seed", 0))] = value
        if row.get("params") is not None:
            sizes.setdefault(str(row["arch"]), float(row["params"]))
    # Architecture objects (what Evaluator users hold) print as their canonical strings.
    scores = {str(k): v for k, v in scores.items()}
    for key, value in scores.items():
        if not math.isfinite(float(value)):
            raise AdwpError(f"score of {key} is {value}, not a finite number")
    keys = [k for k in scores if k in per_seed]
    unmatched = [k for k in scores if k not in per_seed]
    if len(keys) < 3:
        raise AdwpError(
            f"only {len(keys)} scored architectures appear in the ground truth (need 3); "
            f"{len(unmatched)} are unmatched"
        )
    s = np.array([scores[k] for k in keys], float)
    t = np.array([np.mean(list(per_seed[k].values())) for k in keys], float)
    have_size = all(k in sizes for k in keys)
    z = np.array([sizes[k] for k in keys], float) if have_size else None
    report = rank_metrics(s, t, z)
    arrays = [s, t] if z is None else [s, t, np.log(z)]
    ci = {
        "kendall_tau": bootstrap_ci(_safe(kendall_tau), arrays[:2], n_resamples, seed),
        "spearman": bootstrap_ci(
            lambda a, b: stats.spearmanr(a, b).statistic, arrays[:2], n_resamples, seed
        ),
    }
    if z is not None:
        ci["partial_tau"] = bootstrap_ci(_safe(partial_tau), arrays, n_resamples, seed)
    report["ci"] = ci
    report["metric"] = metric
    matched = {k: per_seed[k] for k in keys}
    matched_sizes = {k: sizes[k] for k in keys} if have_size else None
    report["noise_ceiling"] = noise_ceiling(matched, matched_sizes)
    report["noise_ceiling_split_half"] = split_half_ceiling(matched, matched_sizes)
    report["unmatched"] = unmatched
    report["warnings"] = (
        [_few_pairs_warning(len(keys), ci["kendall_tau"])] if len(keys) < _RELIABLE_PAIRS else []
    )
    if control is None and z is not None:
        control, control_name = matched_sizes, "params"
    c = None
    if control is not None:
        c = _control_array(control, keys, control_name, "matched")
        if not np.all(np.isfinite(c)):
            raise AdwpError(f"{control_name} holds NaN or infinity")
        # #params as the control: the interval is the one already drawn for ``ci``.
        known = ci.get("partial_tau") if control is matched_sizes else None
        report["control"] = _control_section(s, t, c, control_name, bins, n_resamples, seed, known)
    else:
        report["control"] = None
    report["top_k_mean"] = {
        str(k): {
            "score": top_k_mean(s, t, k),
            "control": None if c is None else top_k_mean(c, t, k),
            "best": top_k_mean(t, t, k),
        }
        for k in sorted(set(top_k))
        if k <= len(keys)
    }
    report["precision_at_top_percent"] = {
        "percent": float(top_percent),
        "k": top_percent_count(len(keys), top_percent),
        "score": precision_at_top_percent(s, t, top_percent),
        "control": None if c is None else precision_at_top_percent(c, t, top_percent),
    }
    report["archs"] = keys
    report["score"] = s.tolist()
    report["truth"] = t.tolist()
    report["params"] = z.tolist() if z is not None else None
    report["seeds"] = [len(per_seed[k]) for k in keys]
    return report


def _control_section(
    s: np.ndarray,
    t: np.ndarray,
    c: np.ndarray,
    name: str,
    bins: int,
    n_resamples: int,
    seed: int,
    known_ci: list[float] | None = None,
) -> dict[str, Any]:
    """What a score knows beyond a control variable (the ``control`` entry of the report)."""
    alone = _safe(kendall_tau)(c, t)
    partial = _safe(partial_tau)(s, t, c)
    return {
        "name": name,
        "kendall_tau": None if math.isnan(alone) else alone,
        "partial_tau": None if math.isnan(partial) else partial,
        "partial_tau_ci": (
            None
            if math.isnan(partial)
            else known_ci or bootstrap_ci(_safe(partial_tau), [s, t, c], n_resamples, seed)
        ),
        "bins": tau_within_bins(s, t, c, bins),
        "values": c.tolist(),
    }
