"""NAS-Bench-Macro CIFAR-10: the seed searchers' picks, judged by the table.

    python benchmarks/nbmacro_search.py \\
        --truth ../shared/data/nasbench-macro/nasbench_macro_cifar10.csv \\
        --work benchmarks/results/nbmacro_search_work \\
        --output benchmarks/results/nbmacro_search_table.json

Every searcher runs on each backend: the table itself (``table``: an oracle that sees the answer,
so it bounds what search can find) and, with ``--generator`` (a checkpoint or a shipped name of an
``nbmacro`` weight generator, scored on ``--score-images`` held-out CIFAR-10 images of
``--data-root``), the evaluator (``evaluator``). Truth for any network is the table's mean test
accuracy of its 8-digit string (the table has all 6,561). Parts:

1. Inheritance (table only): for each block type (``mbconv_t3_k3``, ``mbconv_t6_k5``) and total
   number of blocks ``--min-depth``..``--max-depth`` (the layer assignments of
   ``nbmacro-assignment``: a stage's blocks first, identities after), the best assignment, whether
   it is a child of the best one with one block fewer (``inherits``) and the best rank there of
   any of its parents (``parent_rank``).
2. Layer-assignment search (beam 1, tie-break seed 0) per block type and backend: per depth the
   pick, its table accuracy, the table's best at that depth and the pick's rank there.
3. Importance sampling (``--complexities``; ``--coefficients`` K, ``--samples`` per distribution,
   ``--iterations``) per backend and seed. Each coefficient's pick (the evaluated network of
   highest ``score - coefficient * normalised complexity``) against the table's true
   accuracy-complexity front: its gap (the best table accuracy among networks of at most its
   complexity, minus its accuracy), and the hypervolume of the K picks as a share of the true
   front's (accuracy up, complexity down, reference point: the table's worst accuracy and largest
   complexity). Against it, at the same total budget: K regularized evolutions, one per
   coefficient, each maximising the same objective ``score - coefficient * normalised
   complexity`` with ``evaluations // K`` evaluations (the importance sampling's distinct
   evaluations), population and tournament capped by that budget. The coefficients are in the
   backend's score units (percentage points for the table) per the space's complexity range; the
   defaults (0, 2, 5, 10, 20) only spread the picks over the table's scale (0 to 2 would all
   pick networks of about 93%) and are not tuned for the gap or the hypervolume; an evaluator's
   scores have another scale and would need their own.
4. Regularized evolution and random search (``--budgets``) per backend and seed: the found
   network's table accuracy against the table's optimum and against ``largest-FLOPs-of-N``
   (``--baseline-pool``), the network of most FLOPs among N uniform draws of the seed, which reads
   no table; paired (by seed) bootstrap 95% interval of the mean difference with its verdict.

Seeds: ``--select-seeds`` (settings are chosen on them) and ``--seeds`` (reported), kept apart
(``selection`` and ``methods`` in the JSON). Every search's result is stored under ``--work``
(the evaluator's scores are cached there too), so a re-run continues where a killed one stopped
and writes the same numbers. Writes ``--output`` (JSON with the raw per-seed arrays), a markdown
table next to it (``.md``) and two figures (``--plot-prefix``: ``_front.png``, the true front with
the importance-sampling picks; ``_depths.png``, the layer-assignment picks per depth against the
best per depth).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from adwp.benchmarking import (
    cifar10,
    file_tag,
    generator_file,
    hypervolume,
    load_evaluator,
    named_choices,
    paired_versus,
    seed_list,
    stored,
    write_json,
)
from adwp.ranking.backend import CachedBackend
from adwp.ranking.backends import TableBackend
from adwp.ranking.evaluator import METRICS, EvaluatorConfig
from adwp.search import RandomSearch, RegularizedEvolution
from adwp.search._common import complexity_range
from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch
from adwp.search.importance_sampling import ImportanceSamplingSearch
from adwp.search.layer_assignment import LayerAssignmentSearch
from adwp.spaces import get_space
from adwp.spaces.nbmacro.space import NBMacroSpace

BLOCK_TYPES = ("mbconv_t3_k3", "mbconv_t6_k5")
COMPLEXITIES = {"flops": "FLOPs", "params": "Params"}
SEARCHERS = ("evolution", "random")


class _Measured(NBMacroSpace):
    """NAS-Bench-Macro's full network, its #params and FLOPs read from the table's columns (equal
    to the space's own, which are slow to count over thousands of networks)."""

    def __init__(self, sizes: dict[str, dict[str, int]]) -> None:
        super().__init__()
        self.sizes = sizes

    def params(self, arch: Any) -> int:
        return self.sizes["params"][self.validate(arch).to_string()]

    def flops(self, arch: Any) -> int:
        return self.sizes["flops"][self.validate(arch).to_string()]


class _Table:
    """The table: accuracy (the table backend's, mean over its rows), #params and FLOPs per
    string, and each complexity's true front."""

    def __init__(self, path: str, key: str, metric: str) -> None:
        if not Path(path).is_file():
            raise SystemExit(f"--truth {path}: no such file")
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        missing = [c for c in (key, metric, *COMPLEXITIES.values()) if rows and c not in rows[0]]
        if not rows or missing:
            raise SystemExit(f"--truth {path}: no rows, or no column {', '.join(missing)}")
        self.backend = TableBackend(path, metric, key=key)
        self.accuracy: dict[str, float] = dict(self.backend.truth)
        self.sizes = {
            name: {row[key]: int(float(row[column])) for row in rows}
            for name, column in COMPLEXITIES.items()
        }
        space = NBMacroSpace()
        absent = [a.to_string() for a in space.enumerate() if a.to_string() not in self.accuracy]
        if absent:
            raise SystemExit(
                f"--truth {path} lacks {len(absent)} of the 6,561 strings (e.g. {absent[0]}); "
                f"is {key!r} the 8-digit string column?"
            )
        self.space = _Measured(self.sizes)
        self.optimum = max(self.accuracy, key=lambda a: (self.accuracy[a], a))
        self._sorted = np.sort(np.fromiter(self.accuracy.values(), float))
        self._fronts: dict[str, tuple[list[int], list[float]]] = {}
        self._volumes: dict[str, float] = {}

    def share_better(self, accuracy: float) -> float:
        """The share of the table's strings more accurate than ``accuracy``."""
        above = len(self._sorted) - np.searchsorted(self._sorted, accuracy, side="right")
        return float(above / len(self._sorted))

    def front(self, complexity: str) -> tuple[list[int], list[float]]:
        """Sorted complexities and the best accuracy at most there (cumulative maximum)."""
        if complexity not in self._fronts:
            pairs = sorted((self.sizes[complexity][a], acc) for a, acc in self.accuracy.items())
            best = np.maximum.accumulate([acc for _, acc in pairs]).tolist()
            self._fronts[complexity] = ([c for c, _ in pairs], best)
        return self._fronts[complexity]

    def best_at(self, complexity: str, value: float) -> float:
        """The best table accuracy among networks of complexity at most ``value``."""
        costs, best = self.front(complexity)
        return best[bisect.bisect_right(costs, value) - 1]

    def reference(self, complexity: str) -> tuple[float, float]:
        """The hypervolume's reference point: the worst accuracy and the largest complexity."""
        return min(self.accuracy.values()), float(max(self.sizes[complexity].values()))

    def hypervolume_share(self, points: list[tuple[float, float]], complexity: str) -> float:
        """Hypervolume of ``(accuracy, complexity)`` points over the true front's."""
        reference = self.reference(complexity)
        if complexity not in self._volumes:
            every = [(acc, self.sizes[complexity][a]) for a, acc in self.accuracy.items()]
            self._volumes[complexity] = hypervolume(every, reference)
        return hypervolume(points, reference) / self._volumes[complexity]


class _Scalarised:
    """A backend's score minus ``coefficient`` times the normalised complexity: the objective of
    one importance-sampling coefficient, for one evolution."""

    def __init__(
        self, backend: Any, space: Any, complexity: str, span: tuple[float, float], eps: float
    ) -> None:
        self.backend, self.space, self.complexity = backend, space, complexity
        self.low, self.high = span
        self.eps = eps

    def score(self, archs: list[Any]) -> np.ndarray:
        measure = getattr(self.space, self.complexity)
        scale = max(self.high - self.low, 1e-12)
        penalty = np.array([(measure(a) - self.low) / scale for a in archs])
        return np.asarray(self.backend.score(archs), dtype=np.float64) - self.eps * penalty


class _Scoring:
    """The evaluator of ``--generator`` behind a score cache under ``--work``, loaded on first use.

    ``key`` names the generator's weights (file digest) and every setting a score depends on.
    """

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        from adwp.device import resolve_device

        self.args = args
        self.config = EvaluatorConfig(
            max_images=args.score_images,
            metric=args.score_metric,
            snapshots=not args.score_final_weights,
        )
        self.device = str(resolve_device(args.device))
        weights = "final" if args.score_final_weights else "snapshots"
        tag = file_tag(generator_file(args.generator))
        self.key = f"{tag}-{args.score_images}img-{weights}-{args.score_metric}-{self.device}"
        self.path = work / f"evaluator-{self.key}.jsonl"
        self._backend: CachedBackend | None = None
        self._data: Any = None

    @property
    def data(self) -> Any:
        """The CIFAR-10 splits, loaded on first use."""
        if self._data is None:
            self._data = cifar10(self.args)
        return self._data

    @property
    def backend(self) -> CachedBackend:
        if self._backend is None:
            evaluator = load_evaluator(self.args.generator, self.data, self.config, self.device)
            if evaluator.space.name != "nbmacro":
                raise SystemExit(
                    f"--generator {self.args.generator} scores the {evaluator.space.name} space, "
                    "not nbmacro"
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


def _region(block: str, low: int, high: int) -> Any:
    return get_space("nbmacro-assignment", block=block, min_total_depth=low, max_total_depth=high)


def _timed(
    get: Callable[[], Any], run: Callable[..., dict[str, Any]], *args: Any
) -> dict[str, Any]:
    """``run(get(), *args)`` and its seconds; ``get`` gives the backend (loaded when needed)."""
    start = time.perf_counter()
    out = run(get(), *args)
    return {**out, "seconds": time.perf_counter() - start}


# -- 1, 2: layer assignments ------------------------------------------------------------------
def _inheritance(table: _Table, dataset: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "depth": d["depth"],
            "best": d["best"]["arch"],
            "assignment": d["assignment"],
            "accuracy": table.accuracy[d["best"]["arch"]],
            "inherits": d["inherits"],
            "parent_rank": d["parent_rank"],
            "assignments": d["evaluations"],
        }
        for d in dataset["depths"]
    ]


def _assignment_search(backend: Any, region: Any, low: int, high: int) -> dict[str, Any]:
    return LayerAssignmentSearch(backend, region, seed=0).run(low, high).to_dict()


def _assignment_dataset(backend: Any, region: Any, low: int, high: int) -> dict[str, Any]:
    return LayerAssignmentSearch(backend, region, seed=0).architecture_dataset(low, high).to_dict()


def _assignment_picks(
    table: _Table, region: Any, search: dict[str, Any], best: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per depth: the search's pick, its table accuracy and rank among the depth's assignments."""
    best_of = {level["depth"]: level for level in best}
    out = []
    for d in search["depths"]:
        arch = d["best"]["arch"]
        accuracy = table.accuracy[arch]
        depth_accuracies = [
            table.accuracy[region.from_depths(a).to_string()]
            for a in region.assignments(d["depth"])
        ]
        out.append(
            {
                "depth": d["depth"],
                "pick": arch,
                "assignment": d["assignment"],
                "score": d["best"]["score"],
                "accuracy": accuracy,
                "best": best_of[d["depth"]]["best"],
                "best_accuracy": best_of[d["depth"]]["accuracy"],
                "rank": 1 + sum(a > accuracy for a in depth_accuracies),
                "assignments": len(depth_accuracies),
                "evaluations": d["evaluations"],
            }
        )
    return out


# -- 3: importance sampling ------------------------------------------------------------------
def _importance_sampling(
    backend: Any, space: Any, args: argparse.Namespace, complexity: str, seed: int
) -> dict[str, Any]:
    search = ImportanceSamplingSearch(
        backend, space, args.coefficient_list, args.samples, complexity, seed=seed
    )
    result = search.run(args.iterations)
    return {
        "picks": [c.to_dict() for c in result.per_coefficient],
        "evaluations": result.evaluations,
        "samples": result.samples,
        "complexity_range": list(result.complexity_range),
    }


def _split_evolution(
    backend: Any, space: Any, args: argparse.Namespace, complexity: str, budget: int, seed: int
) -> dict[str, Any]:
    """One evolution per coefficient on its scalarised objective, ``budget`` evaluations each."""
    span = complexity_range(space, complexity)
    population = min(args.population, budget)
    tournament = min(args.tournament, population)
    picks = []
    for eps in args.coefficient_list:
        objective = _Scalarised(backend, space, complexity, span, eps)
        evolution = RegularizedEvolution(objective, space, population, tournament, seed=seed)
        result = evolution.run(budget)
        picks.append(
            {
                "coefficient": eps,
                "arch": result.best.arch.to_string(),
                "objective": result.best.score,
                "evaluations": result.evaluations,
            }
        )
    return {"picks": picks, "budget": budget, "population": population, "tournament": tournament}


def _judge(table: _Table, complexity: str, archs: list[str]) -> dict[str, Any]:
    """Picks against the true front: accuracy, complexity, gap, hypervolume share."""
    accuracy = [table.accuracy[a] for a in archs]
    cost = [table.sizes[complexity][a] for a in archs]
    gap = [table.best_at(complexity, c) - a for a, c in zip(accuracy, cost)]
    share = table.hypervolume_share(list(zip(accuracy, cost)), complexity)
    return {"archs": archs, "accuracy": accuracy, complexity: cost, "gap": gap, "hv_share": share}


def _is_summary(
    table: _Table, complexity: str, runs: list[dict[str, Any]], splits: list[dict[str, Any]]
) -> dict[str, Any]:
    """Over seeds: importance sampling's picks and the split evolutions', judged by the table."""
    per_seed = []
    for run, split in zip(runs, splits):
        mine = _judge(table, complexity, [p["best"]["arch"] for p in run["picks"]])
        theirs = _judge(table, complexity, [p["arch"] for p in split["picks"]])
        mine["evaluations"] = run["evaluations"]
        theirs["evaluations"] = sum(p["evaluations"] for p in split["picks"])
        theirs["budget_each"] = split["budget"]
        per_seed.append({"importance_sampling": mine, "evolutions": theirs})

    def over(part: str) -> dict[str, Any]:
        shares = [s[part]["hv_share"] for s in per_seed]
        gaps = [float(np.mean(s[part]["gap"])) for s in per_seed]
        return {
            "hv_share": shares,
            "hv_share_mean": float(np.mean(shares)) if shares else None,
            "mean_gap": gaps,
            "mean_gap_mean": float(np.mean(gaps)) if gaps else None,
            "evaluations": [s[part]["evaluations"] for s in per_seed],
        }

    return {
        "per_seed": per_seed,
        "importance_sampling": over("importance_sampling"),
        "evolutions": over("evolutions"),
    }


# -- 4: evolution, random, the size baseline -------------------------------------------------
def _backend_search(
    searcher: Callable[..., Any], backend: Any, space: Any, budget: int, seed: int
) -> dict[str, Any]:
    cached = isinstance(backend, CachedBackend)
    before = len(backend.scores) if cached else 0
    start = time.perf_counter()
    result = searcher(backend, space, seed=seed).run(budget)
    out = {
        "arch": result.best.arch.to_string(),
        "score": float(result.best.score),
        "evaluations": result.evaluations,
        "seconds": time.perf_counter() - start,
    }
    if cached:
        out["scored"] = len(backend.scores) - before
    return out


def _gradient_search(
    args: argparse.Namespace, scoring: _Scoring, checkpoint: Path, seed: int
) -> dict[str, Any]:
    """Gradient descent through ``--generator``'s relaxed network (checkpointed every epoch)."""
    config = HypernetGradientConfig(
        epochs=args.gradient_epochs,
        steps_per_epoch=args.gradient_steps,
        batch_size=args.gradient_batch_size,
        snapshots=not args.score_final_weights,
        seed=seed,
    )
    search = HypernetGradientSearch.from_checkpoint(
        generator_file(args.generator), config, data=scoring.data, device=scoring.device
    )
    result = search.run(checkpoint=checkpoint, progress=not args.quiet)
    return {"arch": result.arch, "seconds": search.seconds, "history": result.to_dict()["history"]}


def _largest(pool: int, seed: int) -> dict[str, Any]:
    """The network of most FLOPs of ``pool`` uniform draws (ties: the first drawn), measured by
    the space, not the table."""
    start = time.perf_counter()
    space = NBMacroSpace()
    drawn = space.sample_many(pool, np.random.default_rng(seed))
    flops = [space.flops(a) for a in drawn]
    best = int(np.argmax(flops))
    return {
        "arch": drawn[best].to_string(),
        "score": float(flops[best]),
        "seconds": time.perf_counter() - start,
        "pool": [a.to_string() for a in drawn],
    }


def _summary(table: _Table, runs: list[dict[str, Any]], seeds: list[int]) -> dict[str, Any]:
    archs = [r["arch"] for r in runs]
    found = [table.accuracy[a] for a in archs]
    optimum = table.accuracy[table.optimum]
    out: dict[str, Any] = {
        "seeds": seeds,
        "archs": archs,
        "accuracy": found,
        "flops": [table.sizes["flops"][a] for a in archs],
        "below_optimum": [optimum - a for a in found],
        # Where search lands in the table: the share of its strings that are more accurate.
        "share_better": [table.share_better(a) for a in found],
        "mean": float(np.mean(found)) if found else None,
        "sd": float(np.std(found, ddof=1)) if len(found) > 1 else 0.0,
        "seconds": float(np.mean([r["seconds"] for r in runs])) if runs else None,
    }
    if runs and "evaluations" in runs[0]:
        out["evaluations"] = [r["evaluations"] for r in runs]
    if runs and "scored" in runs[0]:
        out["scored"] = [r["scored"] for r in runs]
    return out


# -- output ---------------------------------------------------------------------------------
def _markdown(results: dict[str, Any]) -> str:
    seeds = ",".join(map(str, results["seeds"]["report"]))
    optimum = results["table"]["optimum"]
    lines = [
        f"Table optimum: {optimum['accuracy']:.2f} ({optimum['arch']}).",
        "",
        "Inheritance (table): per number of blocks, the best assignment, its accuracy, whether it "
        "is a child of the best with one block fewer, the best rank of its parents.",
        "",
        "| block | blocks | best | accuracy | inherits | parent rank |",
        "|---|---|---|---|---|---|",
    ]
    for block, levels in results["inheritance"].items():
        for level in levels:
            inherits = "-" if level["inherits"] is None else ("yes" if level["inherits"] else "no")
            rank = "-" if level["parent_rank"] is None else str(level["parent_rank"])
            lines.append(
                f"| {block} | {level['depth']} | {level['best']} | {level['accuracy']:.2f} | "
                f"{inherits} | {rank} |"
            )
    lines += [
        "",
        "Layer-assignment search (beam 1): per number of blocks, the pick's table accuracy and "
        "rank among that depth's assignments, against the depth's best.",
        "",
        "| backend | block | blocks | pick | accuracy | best | rank |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, blocks in results["layer_assignment"].items():
        for block, levels in blocks.items():
            for level in levels:
                lines.append(
                    f"| {backend} | {block} | {level['depth']} | {level['pick']} | "
                    f"{level['accuracy']:.2f} | {level['best_accuracy']:.2f} | "
                    f"{level['rank']}/{level['assignments']} |"
                )
    lines += [
        "",
        f"Importance sampling (K={len(results['settings']['coefficients'].split(','))}) against "
        "K evolutions at the same total budget, seeds "
        f"{seeds}: mean gap to the true front (accuracy points), hypervolume share of the true "
        "front, distinct evaluations.",
        "",
        "| complexity | backend | method | mean gap | hypervolume share | evaluations |",
        "|---|---|---|---|---|---|",
    ]
    for complexity, backends in results["importance_sampling"].items():
        for backend, parts in backends.items():
            report = parts["report"]
            for method in ("importance_sampling", "evolutions"):
                r = report[method]
                lines.append(
                    f"| {complexity} | {backend} | {method.replace('_', ' ')} | "
                    f"{np.mean(r['mean_gap']):.2f} | {np.mean(r['hv_share']):.4f} | "
                    f"{np.mean(r['evaluations']):.0f} |"
                )
            versus = report.get("versus")
            if versus:
                low, high = versus["ci95"]
                lines.append(
                    f"| {complexity} | {backend} | hypervolume share, IS minus evolutions | "
                    f"{versus['mean_difference']:+.4f} [{low:+.4f}, {high:+.4f}], "
                    f"{versus['verdict']} | | |"
                )
    baseline = results["baseline"]
    head = f"| method | accuracy, mean +- sd (seeds {seeds}) | per seed | below optimum, mean |"
    head += " table strings more accurate, mean |"
    head += f" minus {baseline}: mean [95% CI] |"
    lines += ["", head, "|---" * (head.count("|") - 1) + "|"]
    for name, r in results["methods"].items():
        per_seed = ", ".join(f"{a:.2f}" for a in r["accuracy"])
        row = f"| {name} | {r['mean']:.2f} +- {r['sd']:.2f} | {per_seed} |"
        row += f" {np.mean(r['below_optimum']):.2f} | {100 * np.mean(r['share_better']):.1f}% |"
        versus = r.get("versus")
        if name == baseline:
            row += " - |"
        elif versus is None:
            row += " (one seed) |"
        else:
            low, high = versus["ci95"]
            row += f" {versus['mean_difference']:+.2f} [{low:+.2f}, {high:+.2f}], "
            row += f"{versus['verdict']} |"
        lines.append(row)
    return "\n".join(lines)


def _figures(results: dict[str, Any], table: _Table, prefix: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    complexity = results["settings"]["complexities"].split(",")[0]
    costs, best = table.front(complexity)
    every = [(table.sizes[complexity][a], acc) for a, acc in table.accuracy.items()]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([c / 1e6 for c, _ in every], [a for _, a in every], s=3, c="0.8", label="table")
    ax.step([c / 1e6 for c in costs], best, where="post", c="k", lw=1, label="true front")
    for number, (backend, parts) in enumerate(
        results["importance_sampling"].get(complexity, {}).items()
    ):
        color = f"C{number}"
        for method, style in (
            ("importance_sampling", {"c": color, "marker": "o"}),
            ("evolutions", {"facecolors": "none", "edgecolors": color, "marker": "s"}),
        ):
            xs, ys = [], []
            for seed in parts["report"]["per_seed"]:
                xs += [c / 1e6 for c in seed[method][complexity]]
                ys += seed[method]["accuracy"]
            label = f"{backend}: {method.replace('_', ' ')}"
            ax.scatter(xs, ys, s=30, label=label, **style)
    ax.set_xlabel(f"{COMPLEXITIES[complexity]} (M)")
    ax.set_ylabel("table test accuracy (%)")
    ax.set_ylim(max(min(a for _, a in every), 80), None)
    ax.set_title("NAS-Bench-Macro: picks of each coefficient, reported seeds")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = f"{prefix}_front.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)

    fig, axes = plt.subplots(1, len(BLOCK_TYPES), figsize=(10, 4), sharey=True)
    for ax, block in zip(axes, BLOCK_TYPES):
        levels = results["inheritance"][block]
        depths = [lv["depth"] for lv in levels]
        ax.plot(depths, [lv["accuracy"] for lv in levels], "k-o", label="best at depth")
        for backend, blocks in results["layer_assignment"].items():
            picks = blocks[block]
            ax.plot(
                [p["depth"] for p in picks],
                [p["accuracy"] for p in picks],
                "--x",
                label=f"layer-assignment pick ({backend})",
            )
        ax.set_title(block)
        ax.set_xlabel("blocks")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("table test accuracy (%)")
    fig.tight_layout()
    path = f"{prefix}_depths.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)
    return written


# -- arguments ------------------------------------------------------------------------------
def _numbers(text: str, flag: str, kind: Callable[[str], Any]) -> list[Any]:
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"{flag} must be comma-separated numbers, got {text!r}") from None
    if not values:
        raise SystemExit(f"{flag} must name at least one value, got {text!r}")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", required=True, help="NAS-Bench-Macro's table (CSV)")
    parser.add_argument("--key", default="Arch", help="the 8-digit string column")
    parser.add_argument("--metric", default="MeanTestAccuracy")
    parser.add_argument("--seeds", default="3,4,5,6,7", help="the reported seeds")
    parser.add_argument(
        "--select-seeds", default="0,1,2", help="seeds settings are chosen on ('' for none)"
    )
    parser.add_argument("--min-depth", type=int, default=3, help="fewest blocks (0-8)")
    parser.add_argument("--max-depth", type=int, default=8, help="most blocks (0-8)")
    parser.add_argument(
        "--complexities", default="flops", help="importance sampling's: flops, params"
    )
    parser.add_argument(
        "--coefficients",
        default="0,2,5,10,20",
        help="importance sampling's complexity coefficients, in score units per normalised "
        "complexity (default: spread over the table's percentage points; not tuned)",
    )
    parser.add_argument("--samples", type=int, default=4, help="per distribution per iteration")
    parser.add_argument("--iterations", type=int, default=50, help="importance sampling's")
    parser.add_argument(
        "--searchers",
        default=",".join(SEARCHERS),
        help="backend searchers run at --budgets: evolution, random",
    )
    parser.add_argument("--budgets", default="100,300", help="evolution's and random search's")
    parser.add_argument("--population", type=int, default=20, help="regularized evolution's")
    parser.add_argument("--tournament", type=int, default=5, help="regularized evolution's")
    parser.add_argument(
        "--baseline-pool", type=int, default=100, help="largest-FLOPs-of-N: N uniform draws"
    )
    parser.add_argument("--bootstrap", type=int, default=10000, help="resamples over seeds")
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    parser.add_argument(
        "--generator",
        default=None,
        help="an nbmacro weight generator (checkpoint or shipped name): its evaluator is a "
        "second backend (default: the table only)",
    )
    parser.add_argument("--data-root", default=None, help="CIFAR-10 images (with --generator)")
    parser.add_argument("--data-cache", default=None, metavar="DIR")
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--val-size", type=int, default=None)
    parser.add_argument(
        "--gradient-epochs",
        type=int,
        default=10,
        help="hypernet-gradient's epochs through --generator (0: not run)",
    )
    parser.add_argument("--gradient-steps", type=int, default=20, help="its steps per epoch")
    parser.add_argument("--gradient-batch-size", type=int, default=128, help="its images per step")
    parser.add_argument("--score-images", type=int, default=1000)
    parser.add_argument("--score-final-weights", action="store_true")
    parser.add_argument("--score-metric", choices=METRICS, default="neg_log_loss")
    parser.add_argument("--device", default="auto", help="where the evaluator scores")
    parser.add_argument("--work", default="runs/nbmacro_search")
    parser.add_argument("--output", default="benchmarks/results/nbmacro_search.json")
    parser.add_argument(
        "--plot-prefix", default=None, help="figures' path prefix (default: --output's stem)"
    )
    parser.add_argument("--quiet", action="store_true")
    return parser


def _checked(args: argparse.Namespace) -> dict[str, Any]:
    seeds = seed_list(args.seeds, "--seeds")
    select = seed_list(args.select_seeds, "--select-seeds")
    if not seeds:
        raise SystemExit("--seeds must name at least one seed")
    if set(seeds) & set(select):
        raise SystemExit(
            f"seeds {sorted(set(seeds) & set(select))} are in both --seeds and --select-seeds: "
            "settings chosen on a seed would be judged on it"
        )
    if not 0 <= args.min_depth < args.max_depth <= 8:
        raise SystemExit(
            f"need 0 <= --min-depth < --max-depth <= 8, got {args.min_depth}, {args.max_depth}"
        )
    complexities = named_choices(args.complexities, COMPLEXITIES, "complexities", required=True)
    args.coefficient_list = _numbers(args.coefficients, "--coefficients", float)
    if not 1 <= args.tournament <= args.population:
        raise SystemExit(
            f"need 1 <= --tournament <= --population, got {args.tournament}, {args.population}"
        )
    budgets = sorted(set(_numbers(args.budgets, "--budgets", int)))
    if budgets[0] < args.population:
        raise SystemExit(
            f"--budgets must be at least --population ({args.population}), got {args.budgets!r}"
        )
    for flag, value in (
        ("--iterations", args.iterations),
        ("--baseline-pool", args.baseline_pool),
        ("--bootstrap", args.bootstrap),
    ):
        if value < 1:
            raise SystemExit(f"{flag} must be a positive integer, got {value}")
    if args.samples < 2:
        raise SystemExit(f"--samples must be at least 2, got {args.samples}")
    if args.generator and not args.data_root:
        raise SystemExit("--generator needs --data-root (the images its evaluator scores)")
    searchers = named_choices(args.searchers, SEARCHERS, "searchers")
    return {
        "seeds": {"report": seeds, "select": select},
        "complexities": complexities,
        "searchers": searchers,
    }


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    checked = _checked(args)
    all_seeds, complexities = checked["seeds"], checked["complexities"]
    budgets = sorted(set(_numbers(args.budgets, "--budgets", int)))
    table = _Table(args.truth, args.key, args.metric)
    space = table.space
    work = Path(args.work)
    low, high = args.min_depth, args.max_depth
    table_tag = f"table-{args.metric}"
    backends: dict[str, tuple[str, Callable[[], Any]]] = {
        "table": (table_tag, lambda: table.backend)
    }
    scoring = None
    if args.generator:
        scoring = _Scoring(args, work)
        backends["evaluator"] = (f"evaluator-{scoring.key}", lambda: scoring.backend)
    say = (lambda *_: None) if args.quiet else partial(print, file=sys.stderr)

    # 1. Inheritance, from the table.
    say("inheritance")
    inheritance = {}
    datasets = {}
    for block in BLOCK_TYPES:
        datasets[block] = stored(
            work / f"inheritance-{block}-d{low}-{high}-{table_tag}.json",
            partial(
                _timed,
                backends["table"][1],
                _assignment_dataset,
                _region(block, low, high),
                low,
                high,
            ),
        )
        inheritance[block] = _inheritance(table, datasets[block])

    # 2. Layer-assignment search, beam 1.
    say("layer-assignment search")
    assignment: dict[str, dict[str, Any]] = {}
    for name, (tag, backend) in backends.items():
        assignment[name] = {}
        for block in BLOCK_TYPES:
            region = _region(block, low, high)
            result = stored(
                work / f"layer-assignment-{block}-d{low}-{high}-{tag}.json",
                partial(_timed, backend, _assignment_search, region, low, high),
            )
            assignment[name][block] = _assignment_picks(table, region, result, inheritance[block])

    # 3. Importance sampling against K evolutions at the same budget.
    say("importance sampling")
    sampling: dict[str, dict[str, Any]] = {}
    setting = f"k{args.coefficients}-l{args.samples}-t{args.iterations}"
    evolution_setting = f"p{args.population}-t{args.tournament}"
    for complexity in complexities:
        sampling[complexity] = {}
        for name, (tag, backend) in backends.items():
            parts = {}
            for part, seeds in all_seeds.items():
                runs, splits = [], []
                for seed in seeds:
                    stem = f"is-{complexity}-{setting}-{tag}"
                    run = stored(
                        work / f"{stem}_s{seed}.json",
                        partial(
                            _timed, backend, _importance_sampling, space, args, complexity, seed
                        ),
                    )
                    budget = max(1, run["evaluations"] // len(args.coefficient_list))
                    split = stored(
                        work / f"{stem}-evolutions-{evolution_setting}_s{seed}.json",
                        partial(
                            _timed, backend, _split_evolution, space, args, complexity, budget, seed
                        ),
                    )
                    runs.append(run)
                    splits.append(split)
                summary = _is_summary(table, complexity, runs, splits)
                summary["seeds"] = seeds
                parts[part] = summary
            report = parts["report"]
            report["versus"] = paired_versus(
                {"accuracy": report["importance_sampling"]["hv_share"]},
                {"accuracy": report["evolutions"]["hv_share"]},
                args.bootstrap,
                args.bootstrap_seed,
            )
            sampling[complexity][name] = parts

    # 4. Evolution, random search and the size baseline.
    say("evolution and random search")
    plan: dict[str, tuple[Callable[[int], Path], Callable[[int], dict[str, Any]]]] = {}
    baseline = f"largest-FLOPs-of-{args.baseline_pool}"
    plan[baseline] = (
        lambda seed: work / f"{baseline}_s{seed}.json",
        partial(_largest, args.baseline_pool),
    )
    for name, (tag, backend) in backends.items():
        unit = "look-ups" if name == "table" else "evaluations"
        for method in checked["searchers"]:
            stem = method
            searcher: Callable[..., Any] = RandomSearch
            if method == "evolution":
                stem = f"evolution-{evolution_setting}"
                searcher = partial(
                    RegularizedEvolution, population=args.population, tournament=args.tournament
                )
            for budget in budgets:
                plan[f"{method} ({name}, {budget} {unit})"] = (
                    lambda seed, s=f"{stem}-{tag}-b{budget}": work / f"{s}_s{seed}.json",
                    lambda seed, f=searcher, b=budget, get=backend: _backend_search(
                        f, get(), space, b, seed
                    ),
                )
    if scoring is not None and args.gradient_epochs:
        stem = (
            f"hypernet-gradient-e{args.gradient_epochs}-s{args.gradient_steps}"
            f"-b{args.gradient_batch_size}-{backends['evaluator'][0]}"
        )
        plan[f"hypernet-gradient (evaluator, {args.gradient_epochs} epochs)"] = (
            lambda seed, s=stem: work / f"{s}_s{seed}.json",
            lambda seed, s=stem: _gradient_search(args, scoring, work / f"{s}_s{seed}.pt", seed),
        )
    summaries: dict[str, dict[str, Any]] = {"report": {}, "select": {}}
    for name, (file, run) in plan.items():
        for part, seeds in all_seeds.items():
            runs = [stored(file(seed), partial(run, seed)) for seed in seeds]
            summaries[part][name] = _summary(table, runs, seeds)
    for name, summary in summaries["report"].items():
        if name != baseline:
            summary["versus"] = paired_versus(
                summary, summaries["report"][baseline], args.bootstrap, args.bootstrap_seed
            )

    command = "python benchmarks/nbmacro_search.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    settings = {k: v for k, v in vars(args).items() if k not in ("quiet", "coefficient_list")}
    results = {
        "command": command,
        "settings": settings,
        "seeds": all_seeds,
        "table": {
            "path": args.truth,
            "rows": len(table.accuracy),
            "optimum": {"arch": table.optimum, "accuracy": table.accuracy[table.optimum]},
            "reference": {c: list(table.reference(c)) for c in complexities},
        },
        "evaluator": scoring.describe() if scoring else None,
        "inheritance": inheritance,
        "layer_assignment": assignment,
        "importance_sampling": sampling,
        "baseline": baseline,
        "methods": summaries["report"],
        "selection": summaries["select"],
    }
    output = Path(args.output)
    write_json(output, results)
    text = _markdown(results)
    output.with_suffix(".md").write_text(text + "\n")
    prefix = args.plot_prefix or str(output.with_suffix(""))
    _figures(results, table, prefix)
    if not args.quiet:
        print(text)


if __name__ == "__main__":
    main()
