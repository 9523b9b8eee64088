"""NAS-Bench-201 CIFAR-10: the cells searchers find, against a size baseline and table searchers.

    python benchmarks/nb201_search.py --data-root ../shared/data/cifar10-jpeg \\
        --truth ../shared/data/nb201/nats_tss.csv --data-cache runs/cache \\
        --work runs/nb201_search --output benchmarks/results/nb201_search.json

Every method runs with every seed of ``--select-seeds`` (on which settings are chosen) and of
``--seeds`` (reported); the found cell is looked up in the table: its 200-epoch CIFAR-10 test
accuracy (mean over the table's seeds). The methods (``--methods``):

- the differentiable searchers (``darts``, ``itnas``, ``entrannas``) train a relaxed proxy
  skeleton of NB201's network (``--channels``, ``--cells``) on CIFAR-10's training images
  (weights) and held-out images (architecture);
- ``hypernet-gradient`` trains nothing: it descends through a trained weight generator of the
  same skeleton (``--generator``: a shipped evaluator's name or a checkpoint) on the held-out
  images;
- ``evolution`` and ``random`` (regularized evolution, random search) rank cells with the
  evaluator of ``--generator`` (``--score-images`` held-out images, its weight snapshots or
  ``--score-final-weights``, ``--score-metric``), for each of ``--evaluator-budgets``
  evaluations.

Always run, next to them: ``largest-of-N`` (``--baseline-pool N``), which per seed draws N
uniform cells and takes the one with the most parameters, reading no table for its choice; and
random search and regularized evolution on the table itself (``--budget`` look-ups), which see
the answer and so bound what search can find. The report gives, over the reported seeds, each
method's mean +- sd and, against largest-of-N, the paired (by seed) bootstrap 95% interval of
the mean difference (``--bootstrap`` resamples of the seeds, seeded): "ahead" or "behind" when it
excludes 0, "level" when it contains it. The JSON holds the reported seeds under ``methods`` and
the selection seeds under ``selection``; the table is printed and written next to it (``.md``).

Every search stores its result under ``--work`` (the differentiable ones checkpoint after each
epoch, the evaluator's scores are appended as they come), so a killed run re-run with the same
command continues and writes the same numbers. Files of the generator's searches are named by the
generator file's content (and the scoring settings), so another evaluator never reuses them. Every
search through one evaluator shares its cache of scores: a search's seconds count the cells it
scored itself (``scored``), not those an earlier search had scored.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adwp.benchmarking import (
    add_data_arguments,
    cifar10,
    file_tag,
    generator_file,
    load_evaluator,
    named_choices,
    paired_versus,
    seed_list,
    stored,
    write_json,
)
from adwp.device import resolve_device
from adwp.pretrained import list_pretrained
from adwp.ranking.backend import CachedBackend
from adwp.ranking.backends import TableBackend
from adwp.ranking.evaluator import METRICS, EvaluatorConfig
from adwp.search import RandomSearch, RegularizedEvolution
from adwp.search.differentiable import DifferentiableConfig, DifferentiableSearch, list_searchers
from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch
from adwp.spaces import get_space
from adwp.truth.tables import read_truth

# Test accuracy of the found cell on NB201 CIFAR-10 (mean +- sd over runs, as published).
PUBLISHED = {
    "darts (first order)": "54.30 (all skip_connect)",
    "GDAS": "93.61 +- 0.09",
    "SNAS": "92.77 +- 0.83",
    "PC-DARTS": "93.41 +- 0.30",
    "DrNAS": "94.36",
    "best cell": "94.37",
}
# Searchers that rank cells with a backend: the evaluator (as methods) or the table (references).
BACKEND_SEARCHERS: dict[str, Callable[..., Any]] = {
    "random": RandomSearch,
    "evolution": RegularizedEvolution,
}
GRADIENT = "hypernet-gradient"


def _budgets(text: str, flag: str, population: int) -> list[int]:
    try:
        budgets = [int(b) for b in text.split(",") if b.strip()]
    except ValueError:
        raise SystemExit(f"{flag} must be comma-separated integers, got {text!r}") from None
    # Regularized evolution's budget includes its initial population of random cells.
    if not budgets or min(budgets) < population:
        raise SystemExit(
            f"{flag} must be budgets of at least --population ({population}), got {text!r}"
        )
    return sorted(set(budgets))


def _seed_file(work: Path, stem: str, seed: int) -> Path:
    return work / f"{stem}_s{seed}.json"


def _searcher(method: str, args: argparse.Namespace) -> tuple[str, Callable[..., Any]]:
    """A backend searcher with the benchmark's settings, and the stem its result files carry."""
    if method == "evolution":
        searcher = partial(
            RegularizedEvolution, population=args.population, tournament=args.tournament
        )
        return f"evolution-p{args.population}-t{args.tournament}", searcher
    return method, BACKEND_SEARCHERS[method]


def _gradient_search(
    args: argparse.Namespace, space: Any, data: Any, seed: int
) -> HypernetGradientSearch:
    config = HypernetGradientConfig(
        epochs=args.epochs,
        steps_per_epoch=args.hypernet_steps_per_epoch,
        batch_size=args.hypernet_batch_size,
        estimator=args.estimator,
        snapshots=not args.score_final_weights,
        seed=seed,
    )
    load = HypernetGradientSearch.from_checkpoint
    if args.generator in list_pretrained():
        load = HypernetGradientSearch.pretrained
    search = load(args.generator, config, data=data)
    if search.space.config() != space.config():
        raise SystemExit(
            f"--generator {args.generator} was trained on {search.space.config()}, not on the "
            f"skeleton {space.config()}: give --channels and --cells to match"
        )
    return search


def _trained_search(
    args: argparse.Namespace,
    space: Any,
    data: Any,
    truth: dict[str, float],
    method: str,
    work: Path,
    stem: str,
    seed: int,
) -> dict[str, Any]:
    """One differentiable or hypernet-gradient search (checkpointed after every epoch)."""
    checkpoint = work / f"{stem}_s{seed}.pt"
    if method == GRADIENT:
        search: Any = _gradient_search(args, space, data, seed)
    else:
        config = DifferentiableConfig(
            epochs=args.epochs,
            steps_per_epoch=args.steps_per_epoch,
            batch_size=args.batch_size,
            seed=seed,
        )
        search = DifferentiableSearch(space, data, method, config)
    result = search.run(checkpoint=checkpoint, truth=truth, progress=not args.quiet)
    return {**result.to_dict(), "seconds": search.seconds}


class _Scoring:
    """The evaluator of ``--generator`` behind a score cache under ``--work``, loaded on first use.

    ``key`` names the generator's weights (file digest) and every setting a score depends on; the
    cache file and the searches' result files carry it.
    """

    def __init__(self, args: argparse.Namespace, data: Any, work: Path, tag: str) -> None:
        self.args, self.data = args, data
        self.config = EvaluatorConfig(
            max_images=args.score_images,
            metric=args.score_metric,
            snapshots=not args.score_final_weights,
        )
        device = str(resolve_device(args.device))
        weights = "final" if args.score_final_weights else "snapshots"
        self.key = f"{tag}-{args.score_images}img-{weights}-{args.score_metric}-{device}"
        self.path = work / f"evaluator-{self.key}.jsonl"
        self.device = device
        self._backend: CachedBackend | None = None

    @property
    def backend(self) -> CachedBackend:
        if self._backend is None:
            args = self.args
            evaluator = load_evaluator(args.generator, self.data, self.config, self.device)
            if evaluator.space.name != "nb201":
                raise SystemExit(
                    f"--generator {args.generator} scores the {evaluator.space.name} space, "
                    "not nb201"
                )
            self._backend = CachedBackend(evaluator, self.path, self.key)
        return self._backend

    def describe(self) -> dict[str, Any]:
        return {
            "generator": self.args.generator,
            "key": self.key,
            "images": self.args.score_images,
            "weights": "final" if self.args.score_final_weights else "snapshots",
            "metric": self.args.score_metric,
            "device": self.device,
        }


def _backend_search(
    searcher: Callable[..., Any], backend: Any, space: Any, budget: int, quiet: bool, seed: int
) -> dict[str, Any]:
    cached = isinstance(backend, CachedBackend)
    before = len(backend.scores) if cached else 0
    start = time.perf_counter()
    best = searcher(backend, space, seed=seed, quiet=quiet).run(budget).best
    out = {
        "arch": best.arch.to_string(),
        "score": float(best.score),
        "seconds": time.perf_counter() - start,
    }
    if cached:
        # Cells the evaluator scored for this search; the cache, shared by every search through
        # one evaluator, answered the rest.
        out["scored"] = len(backend.scores) - before
    return out


def _evaluator_search(
    scoring: _Scoring, searcher: Callable[..., Any], budget: int, quiet: bool, seed: int
) -> dict[str, Any]:
    backend = scoring.backend
    return _backend_search(searcher, backend, backend.space, budget, quiet, seed)


def _largest(space: Any, pool: int, seed: int) -> dict[str, Any]:
    """The cell with the most parameters of ``pool`` uniform draws (ties: the first drawn)."""
    start = time.perf_counter()
    drawn = space.sample_many(pool, np.random.default_rng(seed))
    sizes = [space.params(a) for a in drawn]
    best = int(np.argmax(sizes))
    return {
        "arch": drawn[best].to_string(),
        "score": float(sizes[best]),
        "seconds": time.perf_counter() - start,
        "pool": [a.to_string() for a in drawn],
    }


def _summary(
    runs: list[dict[str, Any]], seeds: list[int], truth: dict[str, float], full: Any
) -> dict[str, Any]:
    """Over seeds: the found cells, their table accuracy and size (NB201's network)."""
    archs = [r["arch"] for r in runs]
    found = [truth[a] for a in archs]
    out: dict[str, Any] = {
        "seeds": seeds,
        "archs": archs,
        "accuracy": found,
        "params": [full.params(full.validate(a)) for a in archs],
        "mean": float(np.mean(found)) if found else None,
        "sd": float(np.std(found, ddof=1)) if len(found) > 1 else 0.0,
        "seconds": float(np.mean([r["seconds"] for r in runs])) if runs else None,
    }
    if runs and "history" in runs[0]:
        out["history"] = [r["history"] for r in runs]
    if runs and "scored" in runs[0]:
        out["scored"] = [r["scored"] for r in runs]
    return out


def _markdown(results: dict[str, Any]) -> str:
    """The reported seeds' table: mean +- sd, per seed, and the comparison with the baseline."""
    seeds = results["seeds"]["report"]
    baseline = results["baseline"]
    head = f"| method | accuracy, mean +- sd (seeds {','.join(map(str, seeds))}) | per seed |"
    head += " #params (M), mean |"
    if baseline:
        head += f" minus {baseline}: mean [95% CI] |"
    head += " search seconds |"
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for name, r in results["methods"].items():
        per_seed = ", ".join(f"{a:.2f}" for a in r["accuracy"])
        row = f"| {name} | {r['mean']:.2f} +- {r['sd']:.2f} | {per_seed} |"
        row += f" {np.mean(r['params']) / 1e6:.2f} |"
        if baseline:
            versus = r.get("versus")
            if name == baseline:
                row += " - |"
            elif versus is None:
                row += " (one seed) |"
            else:
                low, high = versus["ci95"]
                row += f" {versus['mean_difference']:+.2f} [{low:+.2f}, {high:+.2f}], "
                row += f"{versus['verdict']} |"
        lines.append(row + f" {r['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_arguments(parser)
    parser.add_argument(
        "--methods",
        default=f"darts,itnas,entrannas,{GRADIENT},evolution,random",
        help="differentiable searchers, hypernet-gradient, and evolution/random through the "
        "evaluator of --generator",
    )
    parser.add_argument("--seeds", default="3,4,5,6,7", help="the reported seeds")
    parser.add_argument(
        "--select-seeds",
        default="0,1,2",
        help="seeds settings are chosen on, reported apart ('' for none)",
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=8, help="skeleton's C (NB201: 16)")
    parser.add_argument("--cells", type=int, default=1, help="skeleton's N (NB201: 5)")
    parser.add_argument(
        "--evaluator-budgets",
        default="100,300",
        help="evaluations of evolution and random search through the evaluator",
    )
    parser.add_argument(
        "--budget",
        default=None,
        help="table look-ups of the table references, comma-separated (default: "
        "--evaluator-budgets)",
    )
    parser.add_argument("--population", type=int, default=20, help="regularized evolution's")
    parser.add_argument("--tournament", type=int, default=5, help="regularized evolution's")
    parser.add_argument(
        "--baseline-pool",
        type=int,
        default=100,
        help="largest-of-N: the largest cell of N uniform draws per seed (0: none)",
    )
    parser.add_argument(
        "--generator",
        default="nb201-cifar10",
        help="weight generator of hypernet-gradient and evaluator of evolution and random: a "
        "checkpoint or a shipped name, trained on the skeleton --channels, --cells",
    )
    parser.add_argument(
        "--score-images", type=int, default=1000, help="held-out images per evaluator score"
    )
    parser.add_argument(
        "--score-final-weights",
        action="store_true",
        help="the generator's final weights only, not the mean over its snapshots",
    )
    parser.add_argument("--score-metric", choices=METRICS, default="neg_log_loss")
    parser.add_argument("--device", default="auto", help="where the evaluator scores")
    parser.add_argument("--estimator", default=HypernetGradientConfig.estimator)
    parser.add_argument(
        "--hypernet-steps-per-epoch", type=int, default=HypernetGradientConfig.steps_per_epoch
    )
    parser.add_argument(
        "--hypernet-batch-size", type=int, default=HypernetGradientConfig.batch_size
    )
    parser.add_argument("--bootstrap", type=int, default=10000, help="resamples over seeds")
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    parser.add_argument("--work", default="runs/nb201_search")
    parser.add_argument("--output", default="benchmarks/results/nb201_search.json")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = seed_list(args.seeds, "--seeds")
    select = seed_list(args.select_seeds, "--select-seeds")
    if not seeds:
        raise SystemExit("--seeds must name at least one seed")
    if set(seeds) & set(select):
        raise SystemExit(
            f"seeds {sorted(set(seeds) & set(select))} are in both --seeds and --select-seeds: "
            "settings chosen on a seed would be judged on it"
        )
    methods = named_choices(args.methods, [*list_searchers(), GRADIENT, *BACKEND_SEARCHERS])
    if not 1 <= args.tournament <= args.population:
        raise SystemExit(
            f"need 1 <= --tournament <= --population, got {args.tournament}, {args.population}"
        )
    # Random search only needs a positive budget; evolution runs on the table at every --budget.
    population = args.population if "evolution" in methods else 1
    evaluator_budgets = _budgets(args.evaluator_budgets, "--evaluator-budgets", population)
    table_budgets = _budgets(args.budget or args.evaluator_budgets, "--budget", args.population)
    if args.baseline_pool < 0:
        raise SystemExit(
            f"--baseline-pool must be 0 (none) or a pool size, got {args.baseline_pool}"
        )
    if args.bootstrap < 1:
        raise SystemExit(
            f"--bootstrap must be a positive number of resamples, got {args.bootstrap}"
        )

    truth = read_truth(args.truth, key=args.key, metric=args.metric).mean()
    data = cifar10(args)
    space = get_space("nb201", channels=args.channels, cells_per_stage=args.cells)
    full = get_space("nb201")
    work = Path(args.work)
    uses_generator = GRADIENT in methods or any(m in BACKEND_SEARCHERS for m in methods)
    tag = file_tag(generator_file(args.generator)) if uses_generator else ""
    scoring = _Scoring(args, data, work, tag)
    table = TableBackend(args.truth, args.metric, key=args.key)
    all_seeds = {"report": seeds, "select": select}

    # name -> (the file of its result for a seed, the search of a seed)
    plan: dict[str, tuple[Callable[[int], Path], Callable[[int], dict[str, Any]]]] = {}
    for method in methods:
        if method not in BACKEND_SEARCHERS:
            stem = method
            if method == GRADIENT:
                stem += f"-{tag}" + ("-final" if args.score_final_weights else "")
            plan[method] = (
                partial(_seed_file, work, stem),
                partial(_trained_search, args, space, data, truth, method, work, stem),
            )
    for method in methods:
        if method in BACKEND_SEARCHERS:
            stem, searcher = _searcher(method, args)
            for budget in evaluator_budgets:
                plan[f"{method} (evaluator, {budget} evaluations)"] = (
                    partial(_seed_file, work, f"{stem}-evaluator{budget}-{scoring.key}"),
                    partial(_evaluator_search, scoring, searcher, budget, args.quiet),
                )
    baseline = f"largest-of-{args.baseline_pool}" if args.baseline_pool else None
    if baseline:
        plan[baseline] = (
            partial(_seed_file, work, baseline),
            partial(_largest, full, args.baseline_pool),
        )
    for method in BACKEND_SEARCHERS:
        stem, searcher = _searcher(method, args)
        for budget in table_budgets:
            plan[f"{method} (table, {budget} look-ups)"] = (
                partial(_seed_file, work, f"{stem}-table{budget}-{args.metric}"),
                partial(_backend_search, searcher, table, full, budget, True),
            )

    summaries: dict[str, dict[str, Any]] = {"report": {}, "select": {}}
    for name, (file, run) in plan.items():
        for part, part_seeds in all_seeds.items():
            runs = [stored(file(seed), partial(run, seed)) for seed in part_seeds]
            summaries[part][name] = _summary(runs, part_seeds, truth, full)
    if baseline:
        for name, summary in summaries["report"].items():
            if name != baseline:
                summary["versus"] = paired_versus(
                    summary, summaries["report"][baseline], args.bootstrap, args.bootstrap_seed
                )
    command = "python benchmarks/nb201_search.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    results = {
        "command": command,
        "settings": {k: v for k, v in vars(args).items() if k != "quiet"},
        "published": PUBLISHED,
        "seeds": all_seeds,
        "baseline": baseline,
        "evaluator": scoring.describe() if uses_generator else None,
        "methods": summaries["report"],
        "selection": summaries["select"],
    }
    output = Path(args.output)
    write_json(output, results)
    table_text = _markdown(results)
    output.with_suffix(".md").write_text(table_text + "\n")
    print(table_text)


if __name__ == "__main__":
    main()
