"""Figures of searches: layer assignments, Pareto fronts, trajectories, search histories and
differentiable searches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from adwp.plots import _figures

__all__ = [
    "plot_differentiable_search",
    "plot_layer_assignment",
    "plot_pareto",
    "plot_search_history",
    "plot_trajectory",
]


def plot_layer_assignment(
    result: Mapping[str, Any],
    path: str | os.PathLike[str],
    truth: Mapping[str, float] | None = None,
    label: str = "score",
) -> None:
    """Score against assignment, one panel per total depth; the best of each depth marked.

    An assignment such as ``1-1-2`` lists the layers of every stage (stage 1-2-3: one, one and
    two layers); the x axes say so.

    Args:
        result: ``LayerAssignmentResult.to_dict()`` (search or architecture-dataset mode).
        path: PNG file to write.
        truth: Optional ground truth per assignment string ``"d1-d2-d3"`` (drawn on a second axis).
        label: Name of the score axis.
    """
    plt = _figures.pyplot()
    levels = result["depths"]
    widest = max(len(level["candidates"]) for level in levels)
    stages = len(levels[0]["assignment"])
    fig, axes = plt.subplots(
        1,
        len(levels),
        figsize=(1.6 + 0.32 * widest * len(levels) ** 0.5 + 1.8 * len(levels), 3.8),
        dpi=120,
        squeeze=False,
    )
    for ax, level in zip(axes[0], levels):
        cands = sorted(level["candidates"], key=lambda c: c["assignment"])
        names = ["-".join(map(str, c["assignment"])) for c in cands]
        scores = [c["score"] for c in cands]
        # Markers only: neighbouring assignments are not steps of a path.
        ax.plot(range(len(cands)), scores, "o", color="tab:blue", ms=4)
        best = names.index("-".join(map(str, level["assignment"])))
        ax.plot([best], [scores[best]], "*", color="tab:red", ms=12)
        if truth is not None:
            twin = ax.twinx()
            twin.plot(
                range(len(cands)),
                [truth.get(n, float("nan")) for n in names],
                "s",
                color="tab:green",
                ms=3,
            )
            twin.tick_params(labelsize=7, colors="tab:green")
        ax.set_xticks(range(len(cands)))
        ax.set_xticklabels(names, rotation=90, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlim(-0.5, len(cands) - 0.5)
        title = f"total depth {level['depth']}"
        if level.get("inherits") is not None:
            relation = "a child" if level["inherits"] else "not a child"
            title += f"\nbest: {relation} of depth {level['depth'] - 1}'s best"
        ax.set_title(title, fontsize=8)
    stage_names = "-".join(str(s + 1) for s in range(stages))
    fig.supxlabel(f"assignment: layers per stage (stage {stage_names})", fontsize=9)
    axes[0][0].set_ylabel(label, fontsize=8)
    # A key in words rather than a legend: a legend inside a narrow panel hides its points.
    key = "blue dots: assignments scored, red star: best of its depth"
    if truth is not None:
        key += ", green squares: ground truth (right axes)"
    fig.suptitle(key, fontsize=8)
    _figures.save(plt, fig, path)


def _records_and_front(
    ax: Any,
    records: Sequence[Mapping[str, Any]],
    complexity: str,
    right: float,
    color: str,
    label: str,
    front_color: str,
) -> None:
    """Every record as a dot, and the step line of their Pareto front drawn over them."""
    from adwp.search import pareto_front

    ax.scatter(
        [r[complexity] for r in records],
        [r["score"] for r in records],
        s=9,
        color=color,
        alpha=0.55,
        lw=0,
        label=f"{label} ({len(records)})",
    )
    front = pareto_front(records, complexity)
    # The front holds to the right of its last point: a bigger model need not do better.
    ax.step(
        [*(r[complexity] for r in front), right],
        [*(r["score"] for r in front), front[-1]["score"]],
        where="post",
        color=front_color,
        lw=1.2,
        label=f"Pareto front of {label} ({len(front)})",
    )
    ax.scatter(
        [r[complexity] for r in front],
        [r["score"] for r in front],
        s=14,
        facecolors="none",
        edgecolors=front_color,
        lw=0.9,
    )


def plot_pareto(
    evaluated: Sequence[Mapping[str, Any]],
    picks: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    complexity: str = "params",
    truth: Sequence[Mapping[str, Any]] | None = None,
    label: str = "score",
    pick_label: str = "picks",
) -> None:
    """Score against complexity: every evaluated architecture, their front, the picks, the truth.

    Args:
        evaluated: Records ``{"score", complexity}`` of every architecture a search scored
            (drawn as "evaluated"; their Pareto front is drawn separately).
        picks: Records of the picks, each with a ``coefficient`` (red stars, labelled by eps;
            picks on one point share a label).
        path: PNG file to write.
        complexity: ``"params"`` or ``"flops"`` (x axis, log scale).
        truth: Optional records of a ground-truth table (drawn with their own front).
        label: Name of the score axis.
        pick_label: Legend entry of the picks (e.g. ``"best per eps"``).
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    plt = _figures.pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    right = max((r[complexity] for r in [*evaluated, *(truth or []), *picks]), default=1)
    if truth:
        _records_and_front(ax, truth, complexity, right, "tab:green", "table", "darkgreen")
    if evaluated:
        _records_and_front(ax, evaluated, complexity, right, "0.55", "evaluated", "black")
    points: dict[tuple[float, float], list[float]] = {}
    for pick in picks:
        points.setdefault((pick[complexity], pick["score"]), []).append(pick["coefficient"])
    for (x, y), coefficients in points.items():
        ax.plot(x, y, "*", color="tab:red", ms=12, mec="darkred", mew=0.6, zorder=5)
        ax.annotate(
            "eps=" + ", ".join(f"{c:g}" for c in coefficients),
            (x, y),
            fontsize=7,
            color="darkred",
            xytext=(5, -10),
            textcoords="offset points",
        )
    if picks:
        ax.plot([], [], "*", color="tab:red", ms=10, mec="darkred", mew=0.6, label=pick_label)
    ax.set_xscale("log")
    # Labelled ticks at 1, 2 and 5 times powers of ten: a search range is often under a decade.
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _figures.count_text(value)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    name = {"params": "#parameters", "flops": "FLOPs"}.get(complexity, complexity)
    ax.set_xlabel(f"{name} (log scale)")
    ax.set_ylabel(label)
    # Above the axes: inside, it would hide evaluated points.
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=3, frameon=False)
    _figures.save(plt, fig, path)


def plot_trajectory(
    trajectory: Sequence[Mapping[str, Any]],
    coefficients: Sequence[float],
    path: str | os.PathLike[str],
) -> None:
    """Mean objective of each distribution's samples and its convergence over iterations.

    Args:
        trajectory: ``ImportanceSamplingResult.trajectory`` (0-based ``iteration``; drawn from
            1).
        coefficients: The complexity coefficients, in distribution order.
        path: PNG file to write.
    """
    plt = _figures.pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 5), dpi=120, sharex=True)
    steps = [t["iteration"] + 1 for t in trajectory]
    marker = "o" if len(steps) <= 30 else None
    for j, eps in enumerate(coefficients):
        values = [t["mean_objective"][j] for t in trajectory]
        top.plot(
            steps,
            [float("nan") if v is None else v for v in values],
            marker=marker,
            ms=3,
            label=f"eps={eps:g}",
        )
        bottom.plot(steps, [t["convergence"][j] for t in trajectory], marker=marker, ms=3)
    top.set_ylabel("mean of score - eps * complexity\nover its own samples", fontsize=8)
    top.legend(fontsize=7, title="distribution", title_fontsize=7)
    bottom.set_ylabel("convergence\n(mean largest probability)", fontsize=8)
    bottom.set_ylim(0, 1.02)
    bottom.set_xlabel("iteration")
    _figures.integer_ticks(bottom.xaxis)
    _figures.save(plt, fig, path)


def plot_search_history(
    history: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    title: str = "",
    label: str = "score",
) -> None:
    """Score of every proposal and the best so far, against the proposal number (from 1).

    Args:
        history: ``SearchResult.history``.
        path: PNG file to write.
        title: Figure title.
        label: Name of the score axis.
    """
    plt = _figures.pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8), dpi=120)
    steps = range(1, len(history) + 1)
    ax.scatter(
        steps, [h["score"] for h in history], s=7, color="0.55", lw=0, label="proposed architecture"
    )
    best = [h["best_so_far"] for h in history]
    ax.step(steps, best, where="post", color="tab:red", label="best so far")
    ax.set_xlabel("architectures proposed")
    ax.set_ylabel(label)
    _figures.integer_ticks(ax.xaxis)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    _figures.save(plt, fig, path)


def plot_differentiable_search(
    result: Mapping[str, Any],
    path: str | os.PathLike[str],
    reference: Mapping[str, float] | None = None,
) -> None:
    """The derived architecture's table value and every edge's operation weights, per epoch.

    The table-value axis spans the ``reference`` values too (e.g. the table's best and median),
    so a change of 0.1 points between cells near the top looks as small as it is; without them
    it spans at least 1% of the values' size (about 1 point of a percentage near 94).

    Args:
        result: The JSON of ``adwp search darts|itnas|entrannas|hypernet-gradient``
            (``history`` with ``epoch``, ``weights`` and ``truth`` per epoch).
        path: PNG file.
        reference: ``{label: table value}`` drawn as dashed lines on the table-value axis.
    """
    import numpy as np

    plt = _figures.pyplot()
    history = result["history"]
    epochs = [h["epoch"] for h in history]
    # Per-cell weights (EnTranNAS): the first cell is the searching (engine) cell.
    weights = [h["weights"][0] if isinstance(h["weights"][0][0], list) else h["weights"]
               for h in history]  # fmt: skip
    edges, ops = len(weights[0]), len(weights[0][0])
    # The table value on the left, two rows of edge panels beside it: a readable shape for
    # NB201's 6 edges, where one row of 7 panels made a strip.
    columns = (edges + 1) // 2
    fig = plt.figure(figsize=(2.3 * (columns + 1.4), 4.8), dpi=110)
    grid = fig.add_gridspec(2, columns + 1, width_ratios=[1.4] + [1] * columns)
    value_ax = fig.add_subplot(grid[:, 0])
    truth = np.array([np.nan if h["truth"] is None else h["truth"] for h in history], float)
    value_ax.plot(epochs, truth, marker="o", ms=3, label="derived cell")
    shown = [v for v in truth if np.isfinite(v)]
    for (label, value), style in zip((reference or {}).items(), ("--", ":", "-.")):
        value_ax.axhline(value, color="grey", ls=style, lw=1, label=label)
        shown.append(float(value))
    if shown:
        low, high = min(shown), max(shown)
        span = max(high - low, 0.01 * max(abs(low), abs(high)))
        middle = (low + high) / 2
        value_ax.set_ylim(middle - 0.6 * span, middle + 0.6 * span)
    if reference:
        value_ax.legend(fontsize=6, loc="lower right")
    value_ax.set_title("table value of the derived cell", fontsize=8)
    value_ax.tick_params(labelsize=7)
    value_ax.set_xlabel("epoch")
    names = result.get("operations") or [f"op {k}" for k in range(ops)]
    axes = [value_ax]
    for edge in range(edges):
        ax = fig.add_subplot(grid[edge // columns, 1 + edge % columns])
        for op in range(ops):
            ax.plot(epochs, [w[edge][op] for w in weights], label=names[op])
        ax.set_title(f"edge {edge}", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
        if edge // columns == 1 or edge + columns >= edges:
            ax.set_xlabel("epoch", fontsize=8)
        axes.append(ax)
    axes[-1].legend(fontsize=6)
    fig.suptitle(f"{result.get('method', '')}: {result.get('arch', '')}", fontsize=8)
    for ax in axes:
        _figures.integer_ticks(ax.xaxis)
    _figures.save(plt, fig, path)
