"""PNG figures (matplotlib, headless)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "plot_correlation",
    "plot_curves",
    "plot_differentiable_search",
    "plot_layer_assignment",
    "plot_methods",
    "plot_pareto",
    "plot_search_history",
    "plot_tau_vs_compute",
    "plot_trajectory",
]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_METRIC_NAMES = {
    "kendall_tau": "Kendall tau",
    "spearman": "Spearman",
    "weighted_tau": "weighted tau",
    "partial_tau": "partial tau given log #params",
    "tau_within_size_bins": "tau within #params quartiles",
}


def _count(value: float) -> str:
    """A count as people write it: 25000 -> "25k", 1200000 -> "1.2M"."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _log_ticks(low: float, high: float) -> list[float]:
    """Round values inside ``[low, high]`` for a log axis: 1, 2, 5 times a power of ten."""
    import math

    powers = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for mantissas in ((1, 2, 5), (1, 2, 3, 5, 7), range(1, 10)):
        ticks = [m * 10.0**e for e in powers for m in mantissas if low <= m * 10.0**e <= high]
        if len(ticks) >= 3:
            return ticks
    # A range narrower than one step of the finest 1..9 grid: both ends and the middle.
    return [low, math.sqrt(low * high), high]


def _truth_label(report: Mapping[str, Any], seeded: bool = True) -> str:
    metric = report.get("metric") or "value"
    seeds = sorted(set(report.get("seeds") or []))
    if not seeds or not seeded:
        # Without a seed column a row is whatever the table reports (NATS-Bench: already a mean
        # over its seeds), so its count says nothing about seeds.
        return f"ground truth: {metric}"
    if seeds == [1]:
        return f"ground truth: {metric} (1 seed)"
    count = str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
    return f"ground truth: mean {metric} over {count} seeds"


def _ceiling_text(report: Mapping[str, Any]) -> str:
    """The noise ceiling a score against the truth's mean compares with, as a title line."""
    halves = report.get("noise_ceiling_split_half") or {}
    single = (report.get("noise_ceiling") or {}).get("kendall_tau")
    if halves.get("kendall_tau") is not None:
        # The score is against the mean of all seeds; one seed against another understates
        # how far such a mean can be trusted.
        per_half = halves.get("seeds_per_half")
        line = f"\nnoise ceiling {halves['kendall_tau']:.3f} (split-half"
        line += f": mean of {per_half} seeds vs {per_half} others)" if per_half else ")"
        if single is not None:
            line += f"; one seed vs another {single:.3f}"
        return line
    if single is not None:
        return f"\nnoise ceiling {single:.3f} (one seed vs another)"
    return ""


def plot_correlation(
    report: Mapping[str, Any],
    path: str | os.PathLike[str],
    score_label: str = "score",
    title: str = "",
    seeded: bool = True,
) -> None:
    """Scatter of predicted score against ground truth, coloured by #params on a log scale.

    The title says Kendall tau (with its bootstrap 95% interval), Spearman, n and the noise
    ceiling of the truth: the split-half ceiling where the truth has 4 seeds or more (the
    reference for a mean over seeds), else the single-seed one; without #params the points are
    one colour and there is no colour bar.

    Args:
        report: Output of :func:`adwp.metrics.correlation_report`.
        path: PNG file to write.
        score_label: What the scores are (e.g. a checkpoint name); "score" says nothing more.
        title: Figure title, e.g. the file names compared.
        seeded: Whether the truth table has a seed column; without one the truth axis names no
            count of seeds.
    """
    import numpy as np
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.4), dpi=120)
    sizes = np.asarray(report["params"], float) if report.get("params") is not None else None
    if sizes is not None and np.ptp(sizes) > 0:
        low, high = float(sizes.min()), float(sizes.max())
        points = ax.scatter(
            report["score"],
            report["truth"],
            c=sizes,
            norm=LogNorm(vmin=low, vmax=high),
            cmap="viridis",
            s=16,
            edgecolors="white",
            linewidths=0.3,
        )
        bar = fig.colorbar(points, ax=ax)
        ticks = _log_ticks(low, high)
        bar.set_ticks(ticks, labels=[_count(t) for t in ticks])
        bar.ax.minorticks_off()
        bar.set_label("#params (log scale)")
    else:
        ax.scatter(
            report["score"], report["truth"], s=16, color="tab:blue", edgecolors="white", lw=0.3
        )
    stats = f"Kendall tau {report['kendall_tau']:.3f}"
    ci = (report.get("ci") or {}).get("kendall_tau")
    if ci:
        stats += f" [{ci[0]:.2f}, {ci[1]:.2f}]"
    stats += f", Spearman {report['spearman']:.3f}, n = {report['n']}"
    if report.get("warnings"):
        stats += " (too few)"
    stats += _ceiling_text(report)
    # Above the axes rather than in a corner, where the points of some table would sit.
    ax.set_title(f"{title}\n{stats}" if title else stats, fontsize=8)
    what = "" if score_label in ("", "score") else f": {score_label}"
    ax.set_xlabel(f"predicted score{what}")
    ax.set_ylabel(_truth_label(report, seeded))
    _save(plt, fig, path)


def plot_methods(
    names: Sequence[str],
    values: Mapping[str, Sequence[float | None]],
    path: str | os.PathLike[str],
    ceiling: Mapping[str, float | None] | None = None,
    title: str = "",
    ylabel: str = "rank correlation with ground truth",
) -> None:
    """Grouped bar chart of several metrics per method, with optional ceiling lines.

    Args:
        names: Methods, in display order.
        values: ``{metric: [value per method]}``; None (a metric undefined for that method) is
            marked "n/a" instead of drawn as a bar.
        path: PNG file to write.
        ceiling: ``{metric: value}`` drawn as dashed horizontal lines in the metric's colour.
        title: Figure title.
        ylabel: Name of the value axis.
    """
    import numpy as np

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(0.75 * len(names) + 4.5, 4.2), dpi=120)
    width = 0.8 / max(1, len(values))
    x = np.arange(len(names))
    for i, (metric, vals) in enumerate(values.items()):
        heights = [np.nan if v is None else v for v in vals]
        bars = ax.bar(x + i * width, heights, width, label=metric)
        color = bars.patches[0].get_facecolor() if bars.patches else None
        for j, value in enumerate(vals):
            if value is None:
                ax.text(x[j] + i * width, 0, "n/a", ha="center", va="bottom", fontsize=7)
        if ceiling and ceiling.get(metric) is not None:
            ax.axhline(ceiling[metric], ls="--", lw=1, color=color, label=f"seed-to-seed {metric}")
    ax.set_xticks(x + width * (len(values) - 1) / 2, names, rotation=30, ha="right")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylabel(ylabel)
    if values:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title, fontsize=9)
    _save(plt, fig, path)


def plot_curves(
    curves: Mapping[str, Sequence[Mapping[str, float]]],
    path: str | os.PathLike[str],
    keys: Sequence[str] = ("kendall_tau", "partial_tau"),
    ceiling: Mapping[str, float | None] | None = None,
) -> None:
    """Rank correlation against training steps: colour is the method, line style the metric.

    Args:
        curves: ``{method: [{"step": ..., key: ...}, ...]}``.
        path: PNG file to write.
        keys: Metrics to draw (solid, dashed, dotted lines); at most 3.
        ceiling: ``{metric: value}`` drawn as grey horizontal lines in the metric's style.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.4), dpi=120)
    styles = dict(zip(keys, ["-", "--", ":"]))
    colors = plt.get_cmap("tab10" if len(curves) <= 10 else "tab20").colors
    method_handles = []
    for (method, points), color in zip(curves.items(), colors * (len(curves) // len(colors) + 1)):
        for key, style in styles.items():
            xs = [p["step"] for p in points if p.get(key) is not None]
            ys = [p[key] for p in points if p.get(key) is not None]
            ax.plot(xs, ys, style, marker="o", ms=3, color=color)
        method_handles.append(Line2D([], [], color=color, marker="o", ms=3, label=method))
    style_handles = [
        Line2D([], [], color="black", ls=style, label=_METRIC_NAMES.get(key, key))
        for key, style in styles.items()
    ]
    for key, value in (ceiling or {}).items():
        if value is not None and key in styles:
            ax.axhline(value, color="grey", ls=styles[key], lw=1)
    if ceiling and any(v is not None for k, v in ceiling.items() if k in styles):
        style_handles.append(Line2D([], [], color="grey", lw=1, label="grey: seed-to-seed"))
    steps = sorted({p["step"] for points in curves.values() for p in points})
    # A handful of evaluation points: tick exactly those steps; many: round integers.
    if 0 < len(steps) <= 12:
        ax.set_xticks(steps)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("training steps")
    ax.set_ylabel("rank correlation with ground truth")
    if method_handles:
        first = ax.legend(
            handles=method_handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0)
        )
        ax.add_artist(first)
        ax.legend(handles=style_handles, fontsize=7, loc="lower left", bbox_to_anchor=(1.0, 0.0))
    _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: str | os.PathLike[str]) -> None:
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _integer_ticks(axis: Any) -> None:
    """Ticks only at whole numbers (iterations and proposals are counts)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


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
    plt = _pyplot()
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
    _save(plt, fig, path)


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

    plt = _pyplot()
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
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _count(value)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    name = {"params": "#parameters", "flops": "FLOPs"}.get(complexity, complexity)
    ax.set_xlabel(f"{name} (log scale)")
    ax.set_ylabel(label)
    # Above the axes: inside, it would hide evaluated points.
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=3, frameon=False)
    _save(plt, fig, path)


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
    plt = _pyplot()
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
    _integer_ticks(bottom.xaxis)
    _save(plt, fig, path)


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
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8), dpi=120)
    steps = range(1, len(history) + 1)
    ax.scatter(
        steps, [h["score"] for h in history], s=7, color="0.55", lw=0, label="proposed architecture"
    )
    best = [h["best_so_far"] for h in history]
    ax.step(steps, best, where="post", color="tab:red", label="best so far")
    ax.set_xlabel("architectures proposed")
    ax.set_ylabel(label)
    _integer_ticks(ax.xaxis)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    _save(plt, fig, path)


def plot_tau_vs_compute(
    methods: Mapping[str, Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    ceiling: float | None = None,
    ceiling_band: tuple[float, float] | None = None,
    ceiling_label: str = "noise ceiling",
    reference: float | None = None,
    reference_label: str = "",
    floor_seconds: float = 0.1,
    title: str = "",
) -> None:
    """Kendall tau with its 95% interval against compute seconds, one labelled point per method.

    Methods that cost no measurable compute (#params, FLOPs) are drawn at ``floor_seconds`` so
    that the log axis can show them; the axis label says so.

    Args:
        methods: ``{name: {"kendall_tau": t, "compute_seconds": s, "ci_kendall_tau": [lo, hi]}}``
            (the interval is optional), e.g. ``benchmarks/ranking.py``'s ``methods``.
        path: PNG file to write.
        ceiling: Tau of the noise ceiling, drawn as a horizontal line.
        ceiling_band: ``(low, high)`` drawn as a shaded horizontal band around the ceiling.
        ceiling_label: Legend entry of the ceiling line and band.
        reference: A second horizontal line (e.g. the single-seed ceiling), dashed.
        reference_label: Legend entry of ``reference``.
        floor_seconds: Smallest compute drawn; smaller values are clipped up to it.
        title: Figure title.
    """
    import numpy as np

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=130)
    names = list(methods)
    xs = np.array([max(float(methods[n]["compute_seconds"] or 0.0), floor_seconds) for n in names])
    ys = np.array([float(methods[n]["kendall_tau"]) for n in names])
    if ceiling_band is not None:
        ax.axhspan(*ceiling_band, color="tab:green", alpha=0.15, lw=0)
    if ceiling is not None:
        ax.axhline(ceiling, color="tab:green", lw=1.2, label=ceiling_label)
    if reference is not None:
        ax.axhline(reference, color="0.4", lw=1, ls="--", label=reference_label)
    for name, x, y in zip(names, xs, ys):
        ci = methods[name].get("ci_kendall_tau")
        # A bootstrap interval need not contain the point estimate; clip so the bar still shows.
        yerr = None if not ci else [[max(y - ci[0], 0.0)], [max(ci[1] - y, 0.0)]]
        ax.errorbar([x], [y], yerr=yerr, fmt="o", ms=5, capsize=3, color="tab:blue", lw=1)
    # Points less than 0.7 decades apart form a group; each group's labels stand in one column to
    # the right of its rightmost point, at least ``gap`` apart, joined to their points by a thin
    # line, so that no label covers another or a neighbour's interval.
    gap = 0.045 * (max(ys.max(), ceiling or 0.0) - min(ys.min(), 0.0))
    by_x = sorted(range(len(names)), key=lambda i: xs[i])
    groups: list[list[int]] = []
    for i in by_x:
        if groups and np.log10(xs[i]) - np.log10(xs[groups[-1][-1]]) < 0.7:
            groups[-1].append(i)
        else:
            groups.append([i])
    for group in groups:
        column = max(xs[i] for i in group) * 1.8
        placed: list[float] = []
        for i in sorted(group, key=lambda i: -ys[i]):
            label_y = min([ys[i], *(p - gap for p in placed)])
            placed.append(label_y)
            ax.annotate(
                names[i],
                (xs[i], ys[i]),
                xytext=(column, label_y),
                textcoords="data",
                fontsize=8,
                va="center",
                arrowprops={"arrowstyle": "-", "color": "0.65", "lw": 0.6},
            )
    ax.set_xscale("log")
    ax.set_xlim(floor_seconds / 2, xs.max() * 12)
    ax.set_xlabel(
        f"compute seconds (log scale; below {floor_seconds:g} s drawn at {floor_seconds:g} s)"
    )
    ax.set_ylabel("Kendall tau against the truth (95% CI)")
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=9)
    if ceiling is not None or reference is not None:
        ax.legend(fontsize=8, loc="lower right")
    _save(plt, fig, path)


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

    plt = _pyplot()
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
        _integer_ticks(ax.xaxis)
    _save(plt, fig, path)
