"""``adwp correlate``: rank correlation of scores against ground truth."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from adwp.cli._common import KEY_HELP, METRIC_HELP, non_negative_int, share
from adwp.errors import AdwpError
from adwp.io import check_writable, write_json
from adwp.usecases import correlate


def add_parser(sub: argparse._SubParsersAction) -> None:
    corr = sub.add_parser("correlate", help="rank correlation of scores against ground truth")
    corr.add_argument(
        "--truth",
        required=True,
        help="ground-truth table, .csv or .jsonl (adwp groundtruth's, or another benchmark's)",
    )
    corr.add_argument(
        "--scores",
        action="append",
        default=[],
        help="scores JSON as written by 'adwp rank'; repeat it to compare several on the same "
        "architectures (paired bootstrap); none: the table's own params and flops columns",
    )
    corr.add_argument("--key", default="arch", metavar="COLUMN", help=KEY_HELP)
    corr.add_argument("--metric", default="val_acc", metavar="COLUMN", help=METRIC_HELP)
    corr.add_argument(
        "--output", required=True, help="report JSON (with a 'warnings' list: few pairs)"
    )
    corr.add_argument(
        "--plot", default=None, help="PNG scatter of score against truth, coloured by #params"
    )
    corr.add_argument(
        "--control",
        default=None,
        metavar="params|flops|FILE",
        help="what the partial tau and the binned tau control for: params (the default, where "
        "#params are known), flops, or another scores file (e.g. a proxy's)",
    )
    corr.add_argument(
        "--bins", type=int, default=4, help="quantile bins of the control (default 4: quartiles)"
    )
    corr.add_argument(
        "--top-k",
        default="10,50,100",
        metavar="K,K,...",
        help="k of the mean truth of the top k (default 10,50,100; those up to n)",
    )
    corr.add_argument(
        "--top-percent",
        type=float,
        default=5.0,
        metavar="P",
        help="P@top-P%%: share of the true top P%% among the top P%% by score (default 5)",
    )
    corr.add_argument(
        "--resamples", type=int, default=1000, metavar="N", help="bootstrap resamples (1000)"
    )
    corr.add_argument("--seed", type=non_negative_int, default=0, help="bootstrap seed")
    corr.add_argument(
        "--max-unmatched",
        type=share,
        default=0.01,
        metavar="SHARE",
        help="largest share of the scored architectures that may be missing from the truth "
        "(default 0.01); more is refused (exit 2), as from a truncated table or another --key",
    )
    corr.set_defaults(func=run)


def _parse_top_k(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise AdwpError(
            f"--top-k must be comma-separated positive integers (e.g. 10,50,100), got {text!r}"
        )
    return values


def run(args: argparse.Namespace) -> int:
    check_writable(args.output, "--output")
    check_writable(args.plot, "--plot")
    result = correlate(
        args.truth,
        args.scores,
        key=args.key,
        metric=args.metric,
        control=args.control,
        bins=args.bins,
        top_k=_parse_top_k(args.top_k),
        top_percent=args.top_percent,
        resamples=args.resamples,
        seed=args.seed,
        max_unmatched=args.max_unmatched,
        plot=args.plot,
    )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    write_json(args.output, result.to_dict())
    if result.comparison is None:
        _print_report(result.reports[0])
    else:
        _print_comparison(result.reports, result.comparison)
    return 0


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_report(report: Mapping[str, Any]) -> None:
    """The printed summary of one ``correlate`` report."""
    ceiling = report["noise_ceiling"] or {}
    halves = report["noise_ceiling_split_half"] or {}
    print(f"n={report['n']} ({len(report['unmatched'])} scored archs not in the truth)")
    print(
        "ceiling: single seed vs single seed; split-half: mean of half the seeds vs the other half"
    )
    print(f"{'metric':<22}{'score':>8}{'ceiling':>9}{'split-half':>11}")
    for key in ("kendall_tau", "spearman", "weighted_tau", "partial_tau", "tau_within_size_bins"):
        values = (report.get(key), ceiling.get(key), halves.get(key))
        print(f"{key:<22}{_fmt(values[0]):>8}{_fmt(values[1]):>9}{_fmt(values[2]):>11}")
    for key in ("precision_at_k", "ndcg_at_k", "regret_at_k"):
        for k, value in report[key].items():
            name = f"{key.replace('_at_k', '')}@{k}"
            values = (value, ceiling.get(key, {}).get(k), halves.get(key, {}).get(k))
            print(f"{name:<22}{_fmt(values[0]):>8}{_fmt(values[1]):>9}{_fmt(values[2]):>11}")
    section = report["control"]
    name = section["name"] if section else "control"
    if section:
        ci = section["partial_tau_ci"]
        interval = f"  95% CI [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        bins = section["bins"]
        print(f"control: {name} (Kendall tau of {name} alone: {_fmt(section['kendall_tau'])})")
        print(f"{'partial tau given it':<22}{_fmt(section['partial_tau']):>8}{interval}")
        per_bin = " ".join(_fmt(t) for t in bins["tau"])
        print(
            f"{'tau within its bins':<22}{_fmt(bins['mean']):>8}  per bin, lowest {name} first: "
            f"{per_bin} (n {' '.join(map(str, bins['n']))})"
        )
    print(f"{'mean truth of top k':<22}{'score':>8}{name[:10]:>11}{'best':>9}")
    for k, entry in report["top_k_mean"].items():
        values = (entry["score"], entry["control"], entry["best"])
        print(f"{'  k=' + k:<22}{_fmt(values[0]):>8}{_fmt(values[1]):>11}{_fmt(values[2]):>9}")
    top = report["precision_at_top_percent"]
    label = f"P@top {top['percent']:g}% (k={top['k']})"
    print(f"{label:<22}{_fmt(top['score']):>8}{_fmt(top['control']):>11}{1.0:>9.3f}")


def _print_comparison(reports: Sequence[Mapping[str, Any]], comparison: Mapping[str, Any]) -> None:
    """The printed summary of several scores files and their paired comparison."""
    labels = list(comparison["files"])
    width = max(len(label) for label in [*labels, "file"]) + 2
    top = reports[0]["precision_at_top_percent"]["percent"]
    given = (reports[0]["control"] or {}).get("name", "-")
    print(
        f"{'file':<{width}}{'n':>6}  {'kendall_tau [95% CI]':<24}"
        f"{f'partial tau | {given}':<24}{f'P@top {top:g}%':>10}"
    )
    for label, report in zip(labels, reports):
        section = report["control"] or {}

        def with_ci(value: Any, ci: Any) -> str:
            return _fmt(value) + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

        tau = with_ci(report["kendall_tau"], report["ci"]["kendall_tau"])
        partial = with_ci(section.get("partial_tau"), section.get("partial_tau_ci"))
        p_top = _fmt(report["precision_at_top_percent"]["score"])
        print(f"{label:<{width}}{report['n']:>6}  {tau:<24}{partial:<24}{p_top:>10}")
    given = f", partial tau given {comparison['control']}" if comparison["control"] else ""
    print(
        f"paired bootstrap on the {comparison['n']} architectures in every file and the truth "
        f"({comparison['n_resamples']} resamples, seed {comparison['seed']}{given}); "
        "ahead: the 95% interval of the difference excludes 0, level: it holds 0"
    )
    print(
        f"{'statistic':<13}{'better':<{width}}{'other':<{width}}{'difference':>10}  "
        f"{'95% CI':<18}verdict"
    )
    for pair in comparison["pairs"]:
        low, high = pair["ci"]
        print(
            f"{pair['statistic']:<13}{pair['first']:<{width}}{pair['second']:<{width}}"
            f"{pair['difference']:>+10.3f}  {f'[{low:+.3f}, {high:+.3f}]':<18}{pair['verdict']}"
        )
