"""Draws the figures of ``docs/results.md`` from stored results, without running anything.

    python benchmarks/figures.py   # -> benchmarks/results/ranking_tau_vs_compute.png,
                                   #    ranking.png and ranking_curve.png

Reads a ``benchmarks/ranking.py`` output (``--ranking``) and the ``benchmarks/groundtruth_stats.py``
output of the same truth table (``--groundtruth-stats``), and plots every method's Kendall tau with
its 95% bootstrap interval against its compute seconds (log axis; methods that cost nothing are
drawn at 0.1 s). The solid line is the split-half noise ceiling (the mean of half the truth's seeds
against the mean of the other half, averaged over splits); the band around it spans its smallest
and largest value over those splits; the dashed line is the single-seed ceiling (one training run
against another). It also redraws ``benchmarks/ranking.py``'s own figures (the methods side by
side and their Kendall tau against training steps) from the same file (``--methods-plot``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from adwp.benchmarking import draw_method_figures
from adwp.plots import plot_tau_vs_compute

# The methods of the headline figure: every method of the reported run except the log-loss
# readings of the weight generators, which rank worse than their accuracy readings and would
# crowd the plot.
DEFAULT_METHODS = (
    "hypernet_snapshots,hypernet,supernet_snapshots,supernet,short_training,"
    "synflow,snip,grad_norm,naswot,params,flops"
)

# What a reader of the figure calls each method.
LABELS = {
    "hypernet_snapshots": "hypernetwork, 6 snapshots",
    "hypernet": "hypernetwork, 1 checkpoint",
    "supernet_snapshots": "SPOS supernet, 6 snapshots",
    "supernet": "SPOS supernet, 1 checkpoint",
    "short_training": "1 epoch of training",
    "params": "#params",
    "flops": "FLOPs",
}


def main(argv: list[str] | None = None) -> None:
    """Draws the figure; ``argv`` defaults to the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranking", default="benchmarks/results/ranking.json")
    parser.add_argument(
        "--groundtruth-stats",
        default="benchmarks/results/groundtruth_stats/gt_mnist5k_macro_16seeds.json",
        help="groundtruth_stats.py output of the ranking's truth table (the ceiling band)",
    )
    parser.add_argument("--methods", default=DEFAULT_METHODS, help="comma-separated, in order")
    parser.add_argument("--output", default="benchmarks/results/ranking_tau_vs_compute.png")
    parser.add_argument(
        "--methods-plot",
        default="benchmarks/results/ranking.png",
        help="bar chart of every method (and <stem>_curve.png beside it); '' to skip",
    )
    args = parser.parse_args(argv)

    ranking = json.loads(Path(args.ranking).read_text())
    stats = json.loads(Path(args.groundtruth_stats).read_text())
    if Path(stats["table"]).name != Path(ranking["truth"]).name:
        raise SystemExit(
            f"--groundtruth-stats describes {stats['table']}, the ranking used {ranking['truth']}"
        )
    wanted = args.methods.split(",")
    missing = [m for m in wanted if m not in ranking["methods"]]
    if missing:
        raise SystemExit(f"--methods: {missing} not in {args.ranking}")
    halves = ranking.get("noise_ceiling_split_half") or {}
    band = stats.get("mean_of_halves_tau_range")
    plot_tau_vs_compute(
        {LABELS.get(m, m): ranking["methods"][m] for m in wanted},
        args.output,
        ceiling=halves.get("kendall_tau"),
        ceiling_band=tuple(band) if band else None,
        ceiling_label="noise ceiling, split-half (band: min-max over splits)",
        reference=ranking["noise_ceiling"]["kendall_tau"],
        reference_label="noise ceiling, one seed vs another",
        title=f"{Path(ranking['truth']).name}: {ranking['n']} architectures",
    )
    print(args.output)
    if args.methods_plot:
        draw_method_figures(ranking, args.methods_plot)
        print(args.methods_plot)


if __name__ == "__main__":
    main()
