"""The rank-correlation report of ``adwp correlate``: scores against ground truth, with bootstrap
intervals, a control such as model size, and the noise ceiling of the truth itself.

Keys are opaque strings, so tables from other benchmarks work too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from adwp.errors import AdwpError
from adwp.truth.comparison import bootstrap_ci, control_values
from adwp.truth.correlation import (
    RELIABLE_PAIRS,
    TOP_K,
    check_bins,
    kendall_tau,
    nan_if_undefined,
    partial_tau,
    precision_at_top_percent,
    rank_metrics,
    tau_within_bins,
    top_k_mean,
    top_percent_count,
)

__all__ = [
    "correlation_report",
    "noise_ceiling",
    "split_half_ceiling",
]


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
        f"only {n} architectures in common; Kendall tau is unreliable below {RELIABLE_PAIRS} "
        f"({interval}; unrelated rankings reach |tau| {_chance_tau(n):.2f} by chance)"
    )


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
    check_bins(bins)
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
        "kendall_tau": bootstrap_ci(nan_if_undefined(kendall_tau), arrays[:2], n_resamples, seed),
        "spearman": bootstrap_ci(
            lambda a, b: stats.spearmanr(a, b).statistic, arrays[:2], n_resamples, seed
        ),
    }
    if z is not None:
        ci["partial_tau"] = bootstrap_ci(nan_if_undefined(partial_tau), arrays, n_resamples, seed)
    report["ci"] = ci
    report["metric"] = metric
    matched = {k: per_seed[k] for k in keys}
    matched_sizes = {k: sizes[k] for k in keys} if have_size else None
    report["noise_ceiling"] = noise_ceiling(matched, matched_sizes)
    report["noise_ceiling_split_half"] = split_half_ceiling(matched, matched_sizes)
    report["unmatched"] = unmatched
    report["warnings"] = (
        [_few_pairs_warning(len(keys), ci["kendall_tau"])] if len(keys) < RELIABLE_PAIRS else []
    )
    if control is None and z is not None:
        control, control_name = matched_sizes, "params"
    c = None
    if control is not None:
        c = control_values(control, keys, control_name, "matched")
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
    alone = nan_if_undefined(kendall_tau)(c, t)
    partial = nan_if_undefined(partial_tau)(s, t, c)
    return {
        "name": name,
        "kendall_tau": None if math.isnan(alone) else alone,
        "partial_tau": None if math.isnan(partial) else partial,
        "partial_tau_ci": (
            None
            if math.isnan(partial)
            else known_ci
            or bootstrap_ci(nan_if_undefined(partial_tau), [s, t, c], n_resamples, seed)
        ),
        "bins": tau_within_bins(s, t, c, bins),
        "values": c.tolist(),
    }
