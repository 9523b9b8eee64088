"""The report of a sampled benchmark: per-method metrics, the figures and a Markdown table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from adwp.errors import AdwpError
from adwp.sampled_benchmark._spec import SampledBenchmark
from adwp.truth.comparison import paired_bootstrap_difference
from adwp.truth.correlation import kendall_tau
from adwp.truth.report import correlation_report

__all__ = ["SUMMARY_TOP", "evaluate", "markdown", "plot", "tau", "versus_control"]

#: The k of the "mean true accuracy of the top k" column.
SUMMARY_TOP = 10


def tau(scores: list[float], truth: list[float]) -> float | None:
    """Kendall tau-b, None where it is undefined (constant scores)."""
    value = float(stats.kendalltau(scores, truth).statistic)
    return None if np.isnan(value) else value


def evaluate(
    scores: np.ndarray,
    archs: list[str],
    rows: list[dict[str, Any]],
    metric: str,
    sizes: dict[str, float],
    control: tuple[str, dict[str, float]],
    resamples: int = 1000,
) -> dict[str, Any]:
    # Ranks, so that -inf (a proxy's "no signal") is simply the lowest score.
    ranks = stats.rankdata(scores)
    name, values = control
    try:
        report = correlation_report(
            rows,
            dict(zip(archs, ranks.tolist())),
            metric=metric,
            params=sizes,
            n_resamples=resamples,
            control=values,
            control_name=name,
        )
    except AdwpError:  # constant scores (a generator that has not learnt yet): no ranking
        names = ("kendall_tau", "ci_kendall_tau", "spearman", "ci_spearman", "regret_at_1")
        return dict.fromkeys((*names, "regret_at_5", "partial_tau", "top10_mean"))
    return {
        "kendall_tau": report["kendall_tau"],
        "ci_kendall_tau": report["ci"]["kendall_tau"],
        "spearman": report["spearman"],
        "ci_spearman": report["ci"]["spearman"],
        "regret_at_1": report["regret_at_k"].get("1"),
        "regret_at_5": report["regret_at_k"].get("5"),  # None below 5 architectures
        "partial_tau": report["control"]["partial_tau"],
        "top10_mean": (report["top_k_mean"].get(str(SUMMARY_TOP)) or {}).get("score"),
    }


def versus_control(
    scores: list[float], control: list[float], truth: list[float], resamples: int
) -> dict[str, Any] | None:
    """A method's Kendall tau minus the control's on the same architectures, paired bootstrap."""
    try:
        difference, interval = paired_bootstrap_difference(
            kendall_tau, stats.rankdata(scores), control, truth, resamples
        )
    except AdwpError:
        return None
    return {"difference": difference, "ci": list(interval)}


def plot(bench: SampledBenchmark, results: dict[str, Any], path: Path) -> None:
    from adwp.plots import plot_tau_vs_compute

    plot_tau_vs_compute(
        {k: m for k, m in results["methods"].items() if m["kendall_tau"] is not None},
        path,
        title=f"{bench.title}, {len(results['samples']['report'])} sampled architectures",
    )
    if results["curves"]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.5, 4.0), dpi=130)
        for (name, points), color in zip(results["curves"].items(), ("tab:blue", "tab:green")):
            seconds = [p["train_seconds"] for p in points]
            taus = [np.nan if p["kendall_tau"] is None else p["kendall_tau"] for p in points]
            label = f"{name}, current weights ({points[0]['metric']})" if points else name
            ax.plot(seconds, taus, marker="o", ms=3, color=color, label=label)
            final = results["methods"][name]
            if final["kendall_tau"] is None:
                continue
            low, high = final["ci_kendall_tau"] or [final["kendall_tau"]] * 2
            ax.errorbar([seconds[-1]], [final["kendall_tau"]], fmt="s", capsize=3, color=color,
                        yerr=[[final["kendall_tau"] - low], [high - final["kendall_tau"]]],
                        label=f"{name}, its snapshots averaged ({results['metrics'][name]}, "
                        "95% CI)")  # fmt: skip
        control = results["control"]
        ax.axhline(
            results["methods"][control]["kendall_tau"], color="0.4", ls="--", lw=1, label=control
        )
        ax.set_xlabel("training seconds on this machine")
        ax.set_ylabel("Kendall tau on the reported sample")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path.with_name(path.stem + "_curve.png"))
        plt.close(fig)


def markdown(summary: dict[str, dict[str, Any]], control: str) -> str:
    """The methods as a Markdown table, best Kendall tau first."""

    def fmt(value: Any) -> str:
        return "-" if value is None else f"{value:.3f}"

    lines = [
        f"| method | Kendall tau [95% CI] | minus {control} [95% CI] | partial tau given "
        f"{control} | Spearman (published) | regret@1 | regret@5 | top-{SUMMARY_TOP} mean "
        "| compute s | tau on selection sample |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in sorted(summary.items(), key=lambda item: -(item[1]["kendall_tau"] or -2)):
        ci = m["ci_kendall_tau"] or [None, None]
        versus = m.get(f"versus_{control}") or {"difference": None, "ci": [None, None]}
        published = f" ({m['published_spearman']:.3f})" if "published_spearman" in m else ""
        top = "-" if m.get("top10_mean") is None else f"{m['top10_mean']:.2f}"
        lines.append(
            f"| {name} | {fmt(m['kendall_tau'])} [{fmt(ci[0])}, {fmt(ci[1])}] | "
            f"{fmt(versus['difference'])} [{fmt(versus['ci'][0])}, {fmt(versus['ci'][1])}] | "
            f"{fmt(m['partial_tau'])} | {fmt(m['spearman'])}{published} | "
            f"{fmt(m['regret_at_1'])} | {fmt(m['regret_at_5'])} | {top} | "
            f"{m['compute_seconds']:.0f} | {fmt(m['select_kendall_tau'])} |"
        )
    return "\n".join(lines)
