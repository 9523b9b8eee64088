"""A benchmark table against a published one: every ranking method on two sampled sets.

``benchmarks/nb201.py`` (NAS-Bench-201) and ``benchmarks/nbmacro.py`` (NAS-Bench-Macro) are this
one procedure, each described by a :class:`SampledBenchmark`:

- two seeded, disjoint, uniform samples of the space: the reported sample and a selection sample
  on which settings and checkpoints are chosen and which no reported number includes;
- the weight generators (hypernetwork, SPOS supernet) trained on a skeleton of the space's network
  and scored with their weight snapshots; each is also scored with its current weights at every
  checkpoint, which gives Kendall tau against training seconds (the curve);
- zero-cost proxies with the published protocol (the benchmark's own network at initialisation,
  one batch of training images);
- #params and FLOPs (analytic), and rank combinations (AZ-NAS's aggregation);
- per method on the reported sample: Kendall tau and Spearman with bootstrap intervals, partial
  tau given the benchmark's size control and the paired bootstrap of the method's tau minus the
  control's, regret@1/5, the mean true accuracy of the top 10, compute seconds, and Kendall tau on
  the selection sample.

Every stage is stored under ``--work`` as it finishes and the weight generators train from
resumable checkpoints, so a killed run re-run with the same command continues where it stopped
and writes the same numbers (the times are those of the pieces).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats

from adwp.benchmarking import add_data_arguments, cifar10, named_choices, write_json
from adwp.ranking.baselines import aggregate_ranks
from adwp.sampled_benchmark._report import evaluate, markdown, plot, tau, versus_control
from adwp.sampled_benchmark._spec import SampledBenchmark
from adwp.sampled_benchmark._stages import (
    GENERATORS,
    draw_samples,
    proxy,
    read_json,
    train_generator,
)
from adwp.spaces import get_space
from adwp.truth.tables import read_truth

__all__ = ["GENERATORS", "SampledBenchmark", "markdown", "run"]


def _parser(bench: SampledBenchmark, description: str, work: str, output: str) -> Any:
    parser = argparse.ArgumentParser(description=description)
    add_data_arguments(parser, f"{bench.title}'s table", bench.key, bench.metric)
    parser.add_argument("--work", default=work, help="checkpoints and finished stages")
    parser.add_argument("--output", default=output)
    parser.add_argument("--plot", default=None, help="tau against compute (default: OUTPUT.png)")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--select", type=int, default=100)
    parser.add_argument("--select-seed", type=int, default=1)
    bench.add_skeleton_flags(parser)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--meta-batch", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--sampler", default="sandwich")
    parser.add_argument("--num-bases", type=int, default=8)
    parser.add_argument(
        "--context-layers",
        type=int,
        default=2,
        help="hypernetwork's transformer layers over the architecture (0: a layer's weights "
        "depend on its own choice and position only)",
    )
    parser.add_argument("--eval-every", type=int, default=500, help="steps between curve points")
    parser.add_argument(
        "--no-curve",
        dest="curve",
        action="store_false",
        help="skip the curve (scoring both samples at every checkpoint): halves a lever run's "
        "scoring when the final weights are scored anyway",
    )
    parser.add_argument("--snapshot-every", type=int, default=250)
    parser.add_argument("--snapshots", type=int, default=6)
    parser.add_argument("--max-images", type=int, default=1000, help="validation images scored")
    parser.add_argument(
        "--score-metric",
        choices=["accuracy", "neg_log_loss"],
        default="neg_log_loss",
        help="the weight generators' score (accuracy re-scores with its own result file)",
    )
    parser.add_argument("--max-mix", type=float, default=0.3, help="stochastic encoding strength")
    parser.add_argument(
        "--distill",
        type=float,
        default=0.0,
        help="in-place distillation weight: a step's architectures learn from its largest (0: off)",
    )
    parser.add_argument("--proxy-batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples of the CIs")
    parser.add_argument("--methods", default=",".join((*GENERATORS, *bench.proxies)))
    parser.add_argument(
        "--tag",
        default="",
        help="suffix of the weight generators' files in --work: runs of other settings share the "
        "samples and proxies of one --work",
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when there is one), cpu, cuda")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    return parser


def run(
    bench: SampledBenchmark,
    argv: list[str] | None,
    *,
    script: str,
    description: str,
    work: str,
    output: str,
) -> dict[str, Any]:
    """Parses a benchmark script's flags, runs every stage (resuming) and writes the results.

    Args:
        bench: The benchmark.
        argv: The script's arguments (None: ``sys.argv[1:]``).
        script: The script's path, recorded with the command.
        description: The ``--help`` description.
        work: Default ``--work``.
        output: Default ``--output``.

    Returns:
        What was written to ``--output``.
    """
    args = _parser(bench, description, work, output).parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    methods = named_choices(args.methods, [*GENERATORS, *bench.proxies])
    # A malformed skeleton flag fails before any stage runs, even when every stage is stored.
    bench.skeleton(args)
    bench.proxy_network(args)
    work_dir = Path(args.work)
    work_dir.mkdir(parents=True, exist_ok=True)

    table = read_truth(args.truth, key=args.key, metric=args.metric)
    truth = table.mean()
    space = get_space(bench.space)
    stored_samples = read_json(work_dir / "samples.json")
    samples = draw_samples(args, space, truth)
    if stored_samples is not None and stored_samples != samples:
        raise SystemExit(f"{work_dir}/samples.json holds other samples; use another --work")
    write_json(work_dir / "samples.json", samples)
    data = cifar10(args)

    raw: dict[str, dict[str, Any]] = {}
    for name in methods:
        if name in bench.proxies:
            result = proxy(bench, name, args, data, samples, work_dir)
            raw[name] = {**result, "compute_seconds": result["seconds"]}
    for name in methods:
        if name in GENERATORS:
            result = train_generator(bench, name, args, data, samples, work_dir)
            raw[name] = {
                **result,
                "compute_seconds": result["train_seconds"] + result["score_seconds"],
            }
    for name, measure in (("params", space.params), ("flops", space.flops)):
        raw[name] = {
            "compute_seconds": 0.0,
            **{part: [float(measure(a)) for a in samples[part]] for part in ("report", "select")},
        }
    for name, members in bench.combinations.items():
        if all(m in raw for m in members):
            raw[name] = {
                "compute_seconds": sum(raw[m]["compute_seconds"] for m in members),
                **{
                    part: aggregate_ranks([raw[m][part] for m in members]).tolist()
                    for part in ("report", "select")
                },
            }

    rows = table.rows()
    report = samples["report"]
    sizes = dict(zip(report, raw["params"]["report"]))
    control = (bench.control, dict(zip(report, raw[bench.control]["report"])))
    reported_truth = [truth[a] for a in report]
    summary: dict[str, dict[str, Any]] = {}
    for name, result in raw.items():
        entry = evaluate(
            np.asarray(result["report"]), report, rows, args.metric, sizes, control, args.bootstrap
        )
        entry[f"versus_{bench.control}"] = (
            None
            if name == bench.control
            else versus_control(
                result["report"], raw[bench.control]["report"], reported_truth, args.bootstrap
            )
        )
        entry["select_kendall_tau"] = tau(
            list(stats.rankdata(result["select"])), [truth[a] for a in samples["select"]]
        )
        entry["compute_seconds"] = round(result["compute_seconds"], 1)
        if name in bench.published_spearman:
            entry["published_spearman"] = bench.published_spearman[name]
        summary[name] = entry
    curves = {}
    for name in GENERATORS:
        if name in raw and raw[name]["curve"]:
            curves[name] = [
                {
                    "step": point["step"],
                    "train_seconds": point["train_seconds"],
                    "metric": raw[name].get("curve_metric") or "accuracy",
                    "kendall_tau": tau(point["report"], reported_truth),
                    "select_kendall_tau": tau(
                        point["select"], [truth[a] for a in samples["select"]]
                    ),
                }
                for point in raw[name]["curve"]
            ]
    out = {
        "command": f"python {script} " + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {k: v for k, v in vars(args).items() if k not in ("quiet",)},
        "truth_metric": args.metric,
        "control": bench.control,
        "samples": samples,
        "truth": {part: [truth[a] for a in samples[part]] for part in ("report", "select")},
        "methods": summary,
        "metrics": {
            name: raw[name].get("metric") or "accuracy" for name in GENERATORS if name in raw
        },
        "curves": curves,
        "raw": {
            name: {k: v for k, v in r.items() if k in ("report", "select")}
            for name, r in raw.items()
        },
    }
    path = Path(args.output)
    write_json(path, out)
    plot(bench, out, Path(args.plot) if args.plot else path.with_suffix(".png"))
    print(markdown(summary, bench.control))
    return out
