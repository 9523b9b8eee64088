"""PNG figures (matplotlib, headless)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "plot_correlation",
    "plot_curves",
    "plot_layer_assignment",
    "plot_methods",
    "plot_pareto",
    "plot_search_history",
    "plot_trajectory",
]


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


def _save(plt: Any, fig: Any, path: str | os.PathLike[str]) -> None:
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def plot_layer_assignment(
    result: Mapping[str, Any],
    path: str | os.PathLike[str],
    truth: Mapping[str, float] | None = None,
    label: str = "score",
) -> None:
    """Score against assignment, one panel per total depth; the best of each depth marked.

    Args:
        result: ``LayerAssignmentResult.to_dict()`` (search or architecture-dataset mode).
        path: PNG file to write.
        truth: Optional ground truth per assignment string ``"d1-d2-d3"`` (drawn on a second axis).
        label: Name of the score axis.
    """
    plt = _pyplot()
    levels = result["depths"]
    widest = max(len(level["candidates"]) for level in levels)
    fig, axes = plt.subplots(
        1,
        len(levels),
        figsize=(1.2 + 0.32 * widest * len(levels) ** 0.5 + 1.6 * len(levels), 3.4),
        dpi=120,
        squeeze=False,
    )
    for ax, level in zip(axes[0], levels):
        cands = sorted(level["candidates"], key=lambda c: c["assignment"])
        names = ["-".join(map(str, c["assignment"])) for c in cands]
        scores = [c["score"] for c in cands]
        ax.plot(range(len(cands)), scores, "o-", color="tab:blue", ms=4, lw=1, label=label)
        best = names.index("-".join(map(str, level["assignment"])))
        ax.plot([best], [scores[best]], "*", color="tab:red", ms=12, label="best")
        if truth is not None:
            twin = ax.twinx()
            twin.plot(
                range(len(cands)),
                [truth.get(n, float("nan")) for n in names],
                "s--",
                color="tab:green",
                ms=3,
                lw=0.8,
                label="truth",
            )
            twin.tick_params(labelsize=6)
        ax.set_xticks(range(len(cands)))
        ax.set_xticklabels(names, rotation=90, fontsize=6)
        title = f"depth {level['depth']}"
        if level.get("inherits") is not None:
            title += " (inherits)" if level["inherits"] else " (does not inherit)"
        ax.set_title(title, fontsize=8)
    axes[0][0].set_ylabel(label)
    axes[0][0].legend(fontsize=6)
    _save(plt, fig, path)


def _records_and_front(
    ax: Any,
    records: Sequence[Mapping[str, Any]],
    complexity: str,
    right: float,
    color: str,
    label: str,
) -> None:
    from adwp.search._common import pareto_front

    ax.scatter(
        [r[complexity] for r in records],
        [r["score"] for r in records],
        s=8,
        color=color,
        alpha=0.5,
        label=label,
    )
    front = pareto_front(records, complexity)
    # The front holds to the right of its last point: a bigger model need not do better.
    ax.step(
        [*(r[complexity] for r in front), right],
        [*(r["score"] for r in front), front[-1]["score"]],
        where="post",
        color=color,
        lw=1.2,
        label=f"front of {label}",
    )


def plot_pareto(
    evaluated: Sequence[Mapping[str, Any]],
    picks: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    complexity: str = "params",
    truth: Sequence[Mapping[str, Any]] | None = None,
    label: str = "score",
) -> None:
    """Score against complexity: evaluated architectures, their front, the picks, the truth.

    Args:
        evaluated: Records ``{"score", complexity}`` of the architectures a search scored.
        picks: Records of the picks, each with a ``coefficient``.
        path: PNG file to write.
        complexity: ``"params"`` or ``"flops"`` (x axis, log scale).
        truth: Optional records of a ground-truth table (the "truth" front is drawn from them).
        label: Name of the score axis.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=120)
    right = max((r[complexity] for r in [*evaluated, *(truth or []), *picks]), default=1)
    if evaluated:
        _records_and_front(ax, evaluated, complexity, right, "0.6", "evaluated")
    if truth:
        _records_and_front(ax, truth, complexity, right, "tab:green", "ground-truth table")
    for pick in picks:
        ax.plot(pick[complexity], pick["score"], "*", color="tab:red", ms=11)
        ax.annotate(
            f"eps={pick['coefficient']:g}",
            (pick[complexity], pick["score"]),
            fontsize=7,
            xytext=(4, -8),
            textcoords="offset points",
        )
    ax.plot([], [], "*", color="tab:red", ms=9, label="picks")
    ax.set_xscale("log")
    ax.set_xlabel(complexity)
    ax.set_ylabel(label)
    ax.legend(fontsize=7)
    _save(plt, fig, path)


def plot_trajectory(
    trajectory: Sequence[Mapping[str, Any]],
    coefficients: Sequence[float],
    path: str | os.PathLike[str],
) -> None:
    """Mean objective of each distribution's samples and its convergence over iterations.

    Args:
        trajectory: ``ImportanceSamplingResult.trajectory``.
        coefficients: The complexity coefficients, in distribution order.
        path: PNG file to write.
    """
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 5), dpi=120, sharex=True)
    steps = [t["iteration"] for t in trajectory]
    for j, eps in enumerate(coefficients):
        values = [t["mean_objective"][j] for t in trajectory]
        top.plot(steps, [float("nan") if v is None else v for v in values], label=f"eps={eps:g}")
        bottom.plot(steps, [t["convergence"][j] for t in trajectory])
    top.set_ylabel("mean objective of samples")
    top.legend(fontsize=7)
    bottom.set_ylabel("mean max probability")
    bottom.set_xlabel("iteration")
    _save(plt, fig, path)


def plot_search_history(
    history: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], title: str = ""
) -> None:
    """Score of every query and the best so far, against the query index.

    Args:
        history: ``SearchResult.history``.
        path: PNG file to write.
        title: Figure title.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    ax.scatter(range(len(history)), [h["score"] for h in history], s=5, color="0.6", label="query")
    ax.plot([h["best_so_far"] for h in history], color="tab:red", label="best so far")
    ax.set_xlabel("query")
    ax.set_ylabel("score")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    _save(plt, fig, path)
