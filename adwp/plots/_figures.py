"""What every figure shares: headless matplotlib, number formats, ticks and saving."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the headless Agg backend, imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: Names of report metrics in legends.
METRIC_NAMES = {
    "kendall_tau": "Kendall tau",
    "spearman": "Spearman",
    "weighted_tau": "weighted tau",
    "partial_tau": "partial tau given log #params",
    "tau_within_size_bins": "tau within #params quartiles",
}


def count_text(value: float) -> str:
    """A count as people write it: 25000 -> "25k", 1200000 -> "1.2M"."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def log_ticks(low: float, high: float) -> list[float]:
    """Round values inside ``[low, high]`` for a log axis: 1, 2, 5 times a power of ten."""
    import math

    powers = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for mantissas in ((1, 2, 5), (1, 2, 3, 5, 7), range(1, 10)):
        ticks = [m * 10.0**e for e in powers for m in mantissas if low <= m * 10.0**e <= high]
        if len(ticks) >= 3:
            return ticks
    # A range narrower than one step of the finest 1..9 grid: both ends and the middle.
    return [low, math.sqrt(low * high), high]


def save(plt: Any, fig: Any, path: str | os.PathLike[str]) -> None:
    """Lays out and writes ``fig`` to ``path`` (its folder created), then closes it."""
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def integer_ticks(axis: Any) -> None:
    """Ticks only at whole numbers (iterations and proposals are counts)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
