"""PNG figures (matplotlib, headless)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_correlation", "plot_curves", "plot_methods"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_correlation(
    report: Mapping[str, Any], path: str | os.PathLike[str], label: str = "score"
) -> None:
    """Scatter of predicted score against ground truth, Kendall tau in the title.

    Args:
        report: Output of :func:`adwp.metrics.correlation_report`.
        path: PNG file to write.
        label: Name of the score axis.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.2), dpi=120)
    sizes = report.get("params")
    points = ax.scatter(report["score"], report["truth"], c=sizes, s=14, cmap="viridis")
    if sizes is not None:
        fig.colorbar(points, ax=ax, label="log #params")
    ceiling = report.get("noise_ceiling") or {}
    extra = f", seed-to-seed {ceiling['kendall_tau']:.3f}" if "kendall_tau" in ceiling else ""
    ax.set_title(f"Kendall tau {report['kendall_tau']:.3f} (n={report['n']}{extra})", fontsize=10)
    ax.set_xlabel(label)
    ax.set_ylabel(f"ground truth {report.get('metric', '')}".strip())
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def plot_methods(
    names: Sequence[str],
    values: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
    ceiling: Mapping[str, float] | None = None,
    title: str = "",
) -> None:
    """Grouped bar chart of several metrics per method, with optional ceiling lines.

    Args:
        names: Methods, in display order.
        values: ``{metric: [value per method]}``.
        path: PNG file to write.
        ceiling: ``{metric: value}`` drawn as dashed horizontal lines.
        title: Figure title.
    """
    import numpy as np

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 3, 4), dpi=120)
    width = 0.8 / max(1, len(values))
    x = np.arange(len(names))
    for i, (metric, vals) in enumerate(values.items()):
        bars = ax.bar(x + i * width, vals, width, label=metric)
        if ceiling and metric in ceiling:
            ax.axhline(ceiling[metric], ls="--", lw=1, color=bars.patches[0].get_facecolor())
    ax.set_xticks(x + width * (len(values) - 1) / 2, names, rotation=30, ha="right")
    ax.axhline(0, color="black", lw=0.5)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def plot_curves(
    curves: Mapping[str, Sequence[Mapping[str, float]]],
    path: str | os.PathLike[str],
    keys: Sequence[str] = ("kendall_tau", "partial_tau"),
    ceiling: Mapping[str, float] | None = None,
) -> None:
    """Rank correlation against training steps, one line per method and metric.

    Args:
        curves: ``{method: [{"step": ..., key: ...}, ...]}``.
        path: PNG file to write.
        keys: Metrics to draw (solid and dashed lines).
        ceiling: ``{metric: value}`` drawn as dotted horizontal lines.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    styles = ["-", "--", ":"]
    for method, points in curves.items():
        color = None
        for key, style in zip(keys, styles):
            xs = [p["step"] for p in points if p.get(key) is not None]
            ys = [p[key] for p in points if p.get(key) is not None]
            (line,) = ax.plot(xs, ys, style, marker="o", ms=3, color=color, label=f"{method} {key}")
            color = line.get_color()
    for key, value in (ceiling or {}).items():
        if value is not None:
            ax.axhline(value, color="grey", ls=":", lw=1)
            ax.annotate(f"seed-to-seed {key}", (0, value), fontsize=7, color="grey")
    ax.set_xlabel("training steps")
    ax.set_ylabel("rank correlation with ground truth")
    ax.legend(fontsize=7)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
