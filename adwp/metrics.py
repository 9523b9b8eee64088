"""Rank-correlation report between scores and ground truth.

Keys are opaque strings, so tables from other benchmarks work too. Kendall tau-b, Spearman and
weighted tau come from :mod:`scipy.stats`, NDCG from :func:`sklearn.metrics.ndcg_score`, confidence
intervals from :func:`scipy.stats.bootstrap`.

Because model size alone ranks architectures of such spaces about as well as a second training
seed does, the report also says whether a score knows more than size: the partial Kendall tau of
score and truth given log #params, and the mean Kendall tau within #params quartiles.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from adwp.errors import AdwpError

__all__ = [
    "correlation_report",
    "kendall_tau",
    "noise_ceiling",
    "partial_tau",
    "rank_metrics",
    "split_half_ceiling",
    "tau_within_size_bins",
]

KS = (5, 10, 20)
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


def tau_within_size_bins(
    x: Sequence[float], y: Sequence[float], size: Sequence[float], bins: int = 4
) -> float | None:
    """Mean Kendall tau inside quantile bins of ``size`` (quartiles by default).

    Bins with fewer than 3 members or constant values are skipped; None if none is left.
    """
    x, y, size = (np.asarray(a, float) for a in (x, y, size))
    edges = np.quantile(size, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, size, side="right") - 1, 0, bins - 1)
    taus = []
    for b in range(bins):
        mask = which == b
        if mask.sum() >= 3 and np.ptp(x[mask]) > 0 and np.ptp(y[mask]) > 0:
            taus.append(stats.kendalltau(x[mask], y[mask]).statistic)
    return float(np.mean(taus)) if taus else None


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


def _bootstrap_ci(
    statistic: Any, arrays: Sequence[np.ndarray], n_resamples: int, seed: int
) -> list[float] | None:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = stats.bootstrap(
            tuple(arrays),
            statistic,
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

    Returns:
        The metrics of :func:`rank_metrics`, ``ci``, ``noise_ceiling``,
        ``noise_ceiling_split_half`` (None with fewer than 4 seeds), ``unmatched``,
        ``warnings`` (one line each; empty unless fewer than 10 architectures
        are matched) and the paired arrays ``archs``, ``score``, ``truth``, ``params`` and
        ``seeds`` (how many seeds each truth value averages).

    Raises:
        AdwpError: Fewer than 3 matched architectures, constant input, a missing metric column,
            a NaN or infinite truth value or score (naming its row or architecture).
    """
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
        "kendall_tau": _bootstrap_ci(_safe(kendall_tau), arrays[:2], n_resamples, seed),
        "spearman": _bootstrap_ci(
            lambda a, b: stats.spearmanr(a, b).statistic, arrays[:2], n_resamples, seed
        ),
    }
    if z is not None:
        ci["partial_tau"] = _bootstrap_ci(_safe(partial_tau), arrays, n_resamples, seed)
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
    report["archs"] = keys
    report["score"] = s.tolist()
    report["truth"] = t.tolist()
    report["params"] = z.tolist() if z is not None else None
    report["seeds"] = [len(per_seed[k]) for k in keys]
    return report
