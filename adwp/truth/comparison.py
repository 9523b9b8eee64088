"""Whether one score ranks better than another on the same architectures, with bootstrap
intervals (:func:`scipy.stats.bootstrap` and a paired bootstrap of their difference).
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
from adwp.truth.correlation import (
    kendall_tau,
    nan_if_undefined,
    partial_tau,
)

__all__ = [
    "bootstrap_ci",
    "bootstrap_verdict",
    "compare_scores",
    "paired_bootstrap_difference",
]


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


def control_values(
    control: Mapping[str, float], keys: Sequence[str], name: str, which: str
) -> np.ndarray:
    """The control's values of ``keys``, in order.

    Raises:
        AdwpError: Naming how many keys lack a value, and one of them.
    """
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
        z = control_values(control, keys, control_name, "common")
        statistics["partial_tau"] = partial_tau
    values: dict[str, dict[str, float | None]] = {}
    for m in names:
        try:
            values[m] = {"kendall_tau": kendall_tau(arrays[m], t)}
        except AdwpError as exc:
            raise AdwpError(f"{m}: {exc}") from None
        if z is not None:
            values[m]["partial_tau"] = nan_if_undefined(partial_tau)(arrays[m], t, z)
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
            nan_if_undefined(statistic),
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
