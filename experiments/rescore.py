"""Re-compares the stored scores of a ranking run with another ground-truth table.

    python benchmarks/rescore.py benchmarks/results/ranking.json \\
        --truth benchmarks/data/gt_mnist5k_macro_8seeds.jsonl \\
        --output benchmarks/results/ranking_vs_8seeds.json

Every method's raw scores in ``ranking.json`` (``report.archs`` / ``report.score``) are compared
with the new table's mean over seeds, without training or scoring anything again; the chosen
checkpoints stay as they were. Useful when a table gains seeds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from adwp.groundtruth import read_table
from adwp.metrics import correlation_report

KEYS = ("kendall_tau", "spearman", "partial_tau", "tau_within_size_bins")


def _row(name: str, report: dict[str, Any]) -> str:
    cells = [report.get(key) for key in KEYS]
    regret = (report.get("regret_at_k") or {}).get("1")
    text = " | ".join("-" if v is None else f"{v:.3f}" for v in cells)
    return f"| {name} | {text} | {'-' if regret is None else f'{regret:.4f}'} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ranking", help="a ranking.json written by benchmarks/ranking.py")
    parser.add_argument("--truth", required=True)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    stored = json.loads(Path(args.ranking).read_text())
    rows = read_table(args.truth)
    methods: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for name, result in stored["methods"].items():
        raw = result["report"]
        report = correlation_report(
            rows, dict(zip(raw["archs"], raw["score"])), n_resamples=args.resamples
        )
        methods[name] = {key: report[key] for key in (*KEYS, "regret_at_k", "ci", "n")}
        methods[name]["compute_seconds"] = result.get("compute_seconds")
    out = {
        "ranking": args.ranking,
        "truth": args.truth,
        "noise_ceiling": report["noise_ceiling"],
        "noise_ceiling_split_half": report["noise_ceiling_split_half"],
        "methods": methods,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=1))

    lines = [
        "| method | Kendall tau | Spearman | partial tau given size | tau within size quartiles "
        "| regret@1 |",
        "|---|---|---|---|---|---|",
    ]
    for label, key in (
        ("noise ceiling (single seeds)", "noise_ceiling"),
        ("noise ceiling (split-half means)", "noise_ceiling_split_half"),
    ):
        if out[key]:
            lines.append(_row(label, out[key]))
    lines += [_row(name, m) for name, m in methods.items()]
    markdown = "\n".join(lines)
    Path(args.output).with_suffix(".md").write_text(markdown + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
