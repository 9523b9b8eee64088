"""Figures of rankings against the truth: the correlation scatter, methods compared, training
curves, and Kendall tau against compute.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from adwp.plots import _figures

__all__ = [
    "plot_correlation",
    "plot_curves",
    "plot_methods",
    "plot_tau_vs_compute",
]


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

    plt = _figures.pyplot()
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
        ticks = _figures.log_ticks(low, high)
        bar.set_ticks(ticks, labels=[_figures.count_text(t) for t in ticks])
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
    _figures.save(plt, fig, path)


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

    plt = _figures.pyplot()
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
    _figures.save(plt, fig, path)


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

    plt = _figures.pyplot()
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
        Line2D([], [], color="black", ls=style, label=_figures.METRIC_NAMES.get(key, key))
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
    _figures.save(plt, fig, path)


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

    plt = _figures.pyplot()
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
    _figures.save(plt, fig, path)
