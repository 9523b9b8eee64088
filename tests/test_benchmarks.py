"""Smoke tests of the scripts under benchmarks/: each runs at tiny settings on a fixture table.

The fixture is a ground-truth table of 6 ``macro`` architectures x 4 seeds written in tmp_path;
training runs a few steps on ``digits``. Nothing here reads the shipped tables or results.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import stats

from adwp.data import get_dataset
from adwp.hypernet import HyperNetConfig
from adwp.spaces import get_space
from adwp.training import TrainConfig, Trainer

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
ARCHS = 6
SEEDS = 4


def _script(name: str) -> ModuleType:
    """Imports ``benchmarks/<name>.py`` (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# Runs every script as ``python benchmarks/NAME.py --help`` would, but without putting benchmarks/
# on the import path, so a script that imports another one fails here.
_HELP_OF_EACH = """
import contextlib, io, json, runpy, sys
outcome = {}
for path in json.loads(sys.argv[1]):
    sys.argv = [path, "--help"]
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_path(path, run_name="__main__")
        outcome[path] = ["no exit", ""]
    except SystemExit as exc:
        outcome[path] = [exc.code, printed.getvalue()]
print(json.dumps(outcome))
"""


def test_every_script_runs_on_its_own() -> None:
    root = BENCHMARKS.parent
    scripts = sorted(str(path.relative_to(root)) for path in BENCHMARKS.glob("*.py"))
    result = subprocess.run(
        [sys.executable, "-c", _HELP_OF_EACH, json.dumps(scripts)],
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(outcome) == scripts
    failed = {path: code for path, (code, _) in outcome.items() if code not in (0, None)}
    assert failed == {}
    assert [path for path, (_, text) in outcome.items() if "usage:" not in text] == []


@pytest.fixture()
def table(tmp_path: Path) -> Path:
    """A ground-truth table: 6 architectures, 4 seeds, accuracy rising with size plus noise."""
    space = get_space("macro", in_channels=1, num_classes=10, image_size=8)
    rng = np.random.default_rng(0)
    archs = space.sample_many(ARCHS, rng)
    sizes = np.array([space.params(a) for a in archs], dtype=float)
    base = 0.7 + 0.2 * (np.log(sizes) - np.log(sizes).min()) / np.ptp(np.log(sizes))
    rows = []
    for arch, size, acc in zip(archs, sizes, base):
        for seed in range(SEEDS):
            value = float(np.clip(acc + rng.normal(0, 0.02), 0, 1))
            rows.append(
                {
                    "arch": arch.to_string(),
                    "seed": seed,
                    "val_acc": round(value, 3),
                    "test_acc": round(value, 3),
                    "params": int(size),
                    "seconds": 1.0,
                    "dataset": "digits",
                    "recipe": "000000000000",
                }
            )
    path = tmp_path / "gt.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _tau(value: Any) -> bool:
    return isinstance(value, float) and -1.0 <= value <= 1.0


def test_groundtruth_stats(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "stats.json"
    _script("groundtruth_stats").main([str(table), "--output", str(out), "--top", "3"])
    stats = json.loads(out.read_text())
    assert stats["architectures"] == ARCHS and stats["seeds"] == list(range(SEEDS))
    assert len(stats["seed_tau"]) == SEEDS * (SEEDS - 1) // 2
    assert stats["seed_tau_mean"] == pytest.approx(np.mean(stats["seed_tau"]))
    assert _tau(stats["mean_of_halves_tau"]) and _tau(stats["params_tau_vs_mean"])
    low, high = stats["mean_of_halves_tau_range"]
    assert low <= stats["mean_of_halves_tau"] <= high


@pytest.mark.slow
def test_ranking_and_figure(table: Path, tmp_path: Path) -> None:
    """ranking.py trains the hypernetwork a few steps; figures.py re-plots its JSON."""
    out, png = tmp_path / "ranking.json", tmp_path / "ranking.png"
    args = ["--truth", str(table), "--dataset", "digits", "--select-on", ""]
    args += ["--steps", "4", "--eval-every", "2", "--meta-batch", "3", "--num-bases", "2"]
    args += ["--batch-size", "8", "--base-widths", "4,8,8", "--snapshots", "2"]
    args += ["--resamples", "20", "--methods", "hypernet,params,synflow"]
    _script("ranking").main([*args, "--output", str(out), "--plot", str(png)])
    result = json.loads(out.read_text())
    assert result["n"] == ARCHS
    expected = {"hypernet", "hypernet_snapshots", "hypernet_nll", "params", "synflow"}
    assert expected <= set(result["methods"])
    for name, method in result["methods"].items():
        assert _tau(method["kendall_tau"]), name
        low, high = method["ci_kendall_tau"]
        assert -1 <= low <= high <= 1, name
        assert method["compute_seconds"] >= 0, name
        assert len(method["report"]["score"]) == ARCHS, name
    assert result["methods"]["hypernet_snapshots"]["snapshots"] == 2
    assert _tau(result["noise_ceiling"]["kendall_tau"])
    assert _tau(result["noise_ceiling_split_half"]["kendall_tau"])
    assert png.stat().st_size > 0 and out.with_suffix(".md").exists()

    stats = tmp_path / "stats.json"
    _script("groundtruth_stats").main([str(table), "--output", str(stats)])
    figure = tmp_path / "tau_vs_compute.png"
    figures = _script("figures")
    methods = ["--methods", "hypernet_snapshots,params,synflow"]
    bars = tmp_path / "redrawn.png"
    common = ["--ranking", str(out), *methods, "--output", str(figure), "--methods-plot", str(bars)]
    figures.main([*common, "--groundtruth-stats", str(stats)])
    for drawn in (figure, bars, tmp_path / "redrawn_curve.png"):
        assert drawn.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # A ceiling band from another table's statistics would be wrong: refused.
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(stats.read_text()), "table": "other.jsonl"}))
    with pytest.raises(SystemExit, match="describes"):
        figures.main([*common, "--groundtruth-stats", str(other)])


@pytest.mark.slow
def test_training_curves_and_ensemble_limit(table: Path, tmp_path: Path) -> None:
    """Two tiny training runs, then the mean of 1 and of 2 runs against the fixture truth."""
    curves = _script("training_curves")
    for seed in (0, 1):
        settings = ["--set", "dataset=digits", "--set", "meta_batch=3"]
        settings += ["--set", "hypernet.num_bases=2", "--set", "warmup_steps=1"]
        settings += ["--set", "batch_size=8", "--set", "space.base_widths=[4,8,8]"]
        curves.main(
            [
                *["--truth", str(table), "--select-on", "", "--steps", "4", "--eval-every", "2"],
                *["--max-images", "64", "--seed", str(seed), *settings],
                *["--output", str(tmp_path / f"c_s{seed}.json")],
            ]
        )
    run = json.loads((tmp_path / "c_s0.json").read_text())
    assert [p["step"] for p in run["points"]] == [2, 4]
    assert run["config"]["dataset"] == "digits" and run["config"]["meta_batch"] == 3
    assert all(len(p["truth/accuracy"]) == ARCHS for p in run["points"])

    out, png = tmp_path / "limit.json", tmp_path / "limit.png"
    group = f"tiny={tmp_path / 'c_s*.json'}"
    _script("ensemble_limit").main(["--group", group, "--output", str(out), "--plot", str(png)])
    by_runs = json.loads(out.read_text())["groups"]["tiny"]["by_runs"]
    assert [r["runs"] for r in by_runs] == [1, 2] and [r["subsets"] for r in by_runs] == [2, 1]
    assert all(_tau(r["kendall_tau"]) and r["compute_seconds"] > 0 for r in by_runs)
    assert by_runs[1]["compute_seconds"] == pytest.approx(2 * by_runs[0]["compute_seconds"])
    assert png.stat().st_size > 0


def test_training_curves_rejects_a_setting_without_value() -> None:
    with pytest.raises(SystemExit, match="key=value"):
        _script("training_curves").config_from(["lr"])


@pytest.mark.slow
def test_scoring_cost(tmp_path: Path) -> None:
    out = tmp_path / "cost.json"
    args = ["--dataset", "digits", "--archs", "2", "--repeats", "1", "--train-steps", "2"]
    _script("scoring_cost").main([*args, "--output", str(out)])
    cost = json.loads(out.read_text())
    assert len(cost["rows"]) == 2 and cost["dataset"] == "digits"
    for key in (
        "ratio_batched",
        "ratio_single_total",
        "ratio_single_max",
        "train_seconds_per_step",
    ):
        assert cost[key] > 0, key
    assert cost["ratio_single_median"] <= cost["ratio_single_max"]
    assert cost["train_images_per_second"] > 0


@pytest.fixture()
def nb201_table(tmp_path: Path) -> Path:
    """Every NB201 architecture with a made-up accuracy that rises with its size."""
    import csv

    space = get_space("nb201")
    rng = np.random.default_rng(0)
    path = tmp_path / "nb201.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ArchitectureString", "CIFAR10TestAccuracy200Epochs"])
        for arch in space.enumerate():
            accuracy = 80 + 10 * np.log(space.params(arch)) / 14 + rng.normal(0, 1)
            writer.writerow([arch.to_string(), f"{accuracy:.3f}"])
    return path


@pytest.mark.slow
def test_nb201_benchmark_and_resume(nb201_table: Path, cifar_folder: Path, tmp_path: Path) -> None:
    script = _script("nb201")
    output = tmp_path / "nb201.json"
    args = ["--data-root", str(cifar_folder), "--truth", str(nb201_table)]
    args += ["--work", str(tmp_path / "work"), "--output", str(output), "--quiet"]
    args += ["--val-size", "20", "--sample", "8", "--select", "4", "--channels", "4"]
    args += ["--steps", "4", "--eval-every", "2", "--snapshot-every", "2", "--snapshots", "2"]
    args += ["--meta-batch", "3", "--batch-size", "8", "--max-images", "20", "--proxy-batch", "8"]
    args += ["--proxy-channels", "4", "--proxy-cells", "1", "--bootstrap", "50"]
    script.main(args)
    out = json.loads(output.read_text())
    report, select = out["samples"]["report"], out["samples"]["select"]
    assert len(report) == 8 and len(select) == 4 and not set(report) & set(select)
    expected = {*script.GENERATORS, *script.PROXIES, "params", "flops", *script.COMBINATIONS}
    assert set(out["methods"]) == expected
    for name, method in out["methods"].items():
        assert -1 <= method["kendall_tau"] <= 1 and method["compute_seconds"] >= 0, name
        assert len(out["raw"][name]["report"]) == 8 and len(out["raw"][name]["select"]) == 4
    assert out["methods"]["synflow"]["published_spearman"] == 0.737
    assert [p["step"] for p in out["curves"]["hypernet"]] == [2, 4]
    assert output.with_suffix(".png").exists()
    assert output.with_name("nb201_curve.png").exists()
    # A re-run finds every stage done and writes the same numbers.
    script.main(args)
    again = json.loads(output.read_text())
    assert again["methods"] == out["methods"] and again["raw"] == out["raw"]
    assert out["metrics"] == {"hypernet": "neg_log_loss", "supernet": "neg_log_loss"}
    assert all(s <= 0 for s in out["raw"]["hypernet"]["report"])
    # Another scoring metric re-scores the trained generators; their training and curve stay.
    script.main([*args, "--score-metric", "accuracy"])
    accuracy = json.loads(output.read_text())
    assert accuracy["metrics"] == {"hypernet": "accuracy", "supernet": "accuracy"}
    assert all(0 <= s <= 1 for s in accuracy["raw"]["hypernet"]["report"])
    assert accuracy["curves"] == out["curves"]
    assert {p["metric"] for p in out["curves"]["hypernet"]} == {"neg_log_loss"}
    assert accuracy["raw"]["synflow"] == out["raw"]["synflow"]

    rescore = _script("nb201_rescore")
    rescored = tmp_path / "rescore.json"
    args = ["--data-root", str(cifar_folder), "--truth", str(nb201_table), "--quiet"]
    args += ["--work", str(tmp_path / "work"), "--variants", "images250,snapshots"]
    args += ["--runs", "hypernet,supernet", "--val-size", "20", "--output", str(rescored)]
    rescore.main(args)
    variants = json.loads(rescored.read_text())["variants"]
    assert set(variants) == {
        f"{r}/{v}" for r in script.GENERATORS for v in ("images250", "snapshots")
    }
    # "snapshots" is nb201.py's own scoring: the same scores.
    assert (
        variants["hypernet/snapshots"]["accuracy"]["report"]
        == accuracy["raw"]["hypernet"]["report"]
    )
    assert (
        variants["hypernet/snapshots"]["neg_log_loss"]["select"] == out["raw"]["hypernet"]["select"]
    )
    rescore.main(args)
    assert json.loads(rescored.read_text())["variants"] == variants
    with pytest.raises(SystemExit, match="unknown variants"):
        rescore.main([*args[:-2], "--variants", "images7"])


@pytest.fixture()
def nbmacro_table(tmp_path: Path) -> Path:
    """Every NAS-Bench-Macro string with a made-up accuracy shared by equivalent strings."""
    import csv

    space = get_space("nbmacro")
    rng = np.random.default_rng(0)
    noise = {a.to_string(): rng.normal(0, 1) for a in space.distinct()}
    path = tmp_path / "nbmacro.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Arch", "MeanTestAccuracy", "FLOPs"])
        for arch in space.enumerate():
            key = space.isomorphism_key(arch)
            accuracy = 80 + 10 * np.log(space.flops(arch)) / 19 + noise[key]
            writer.writerow([arch.to_string(), f"{accuracy:.3f}", space.flops(arch)])
    return path


@pytest.mark.slow
def test_nbmacro_benchmark_controls_for_flops_and_resumes(
    nbmacro_table: Path, cifar_folder: Path, tmp_path: Path
) -> None:
    script = _script("nbmacro")
    output = tmp_path / "nbmacro.json"
    args = ["--data-root", str(cifar_folder), "--truth", str(nbmacro_table)]
    args += ["--work", str(tmp_path / "work"), "--output", str(output), "--quiet"]
    args += ["--val-size", "20", "--sample", "8", "--select", "4", "--stem-channels", "4"]
    args += ["--channels", "4,4,8", "--head-channels", "8", "--steps", "4", "--eval-every", "2"]
    args += ["--snapshot-every", "2", "--snapshots", "2", "--meta-batch", "3", "--batch-size", "8"]
    args += ["--max-images", "20", "--proxy-batch", "8", "--bootstrap", "50"]
    args += ["--methods", "hypernet,naswot,synflow,jacob_cov"]
    script.main(args)
    out = json.loads(output.read_text())
    report, select = out["samples"]["report"], out["samples"]["select"]
    space = get_space("nbmacro")
    # Distinct networks: canonical strings, disjoint samples.
    assert all(space.canonical(a).to_string() == a for a in report + select)
    assert len(set(report + select)) == 12
    assert out["control"] == "flops"
    expected = {"hypernet", "naswot", "synflow", "jacob_cov", "params", "flops"}
    expected |= {"hypernet+naswot", "hypernet+flops", "hypernet+naswot+synflow+jacob_cov"}
    assert set(out["methods"]) == expected | {"naswot+synflow+jacob_cov"}
    assert out["methods"]["flops"]["versus_flops"] is None
    versus = out["methods"]["hypernet"]["versus_flops"]
    assert versus["ci"][0] <= versus["difference"] <= versus["ci"][1]
    assert out["raw"]["flops"]["report"] == [float(space.flops(a)) for a in report]
    trained = json.loads((tmp_path / "work" / "hypernet.neg_log_loss.json").read_text())
    skeleton = trained["train_config"]["space_options"]
    assert skeleton == {"stem_channels": 4, "channels": [4, 4, 8], "head_channels": 8}
    assert trained["train_config"]["hypernet"]["context_layers"] == 2
    script.main(args)
    again = json.loads(output.read_text())
    assert again["methods"] == out["methods"] and again["raw"] == out["raw"]
    with pytest.raises(SystemExit, match="--channels must be three positive widths"):
        script.main([*args, "--channels", "4,4"])
    # A lever run of another hypernetwork shares the samples and proxies of the same --work.
    lever = [*args, "--tag", "_context0", "--context-layers", "0", "--methods", "hypernet"]
    script.main(lever)
    trained = json.loads((tmp_path / "work" / "hypernet_context0.neg_log_loss.json").read_text())
    assert trained["train_config"]["hypernet"]["context_layers"] == 0
    assert json.loads(output.read_text())["samples"] == out["samples"]


def test_nb201_proxies_over_a_subset(
    nb201_table: Path, cifar_folder_with_val: Path, tmp_path: Path
) -> None:
    script = _script("nb201_proxies")
    output = tmp_path / "proxies.json"
    args = ["--data-root", str(cifar_folder_with_val), "--truth", str(nb201_table), "--batch", "8"]
    args += ["--proxies", "synflow", "--limit", "12", "--chunk", "5"]
    script.main([*args, "--work", str(tmp_path / "work"), "--output", str(output)])
    out = json.loads(output.read_text())
    assert len(out["archs"]) == 12 and len(out["synflow"]["scores"]) == 12
    assert out["synflow"]["published_spearman"] == 0.737
    assert -1 <= out["synflow"]["spearman"] <= 1
    # Stored chunks are reused: a re-run scores nothing again and reports the same.
    script.main([*args, "--work", str(tmp_path / "work"), "--output", str(output)])
    assert json.loads(output.read_text())["synflow"] == out["synflow"]


@pytest.fixture(scope="module")
def nb201_generator(
    cifar_folder: Path, tmp_path_factory: pytest.TempPathFactory, small_hypernet: HyperNetConfig
) -> Path:
    """A weight generator of the skeleton C=4, N=1: two training steps on ``cifar_folder``."""
    data = get_dataset("cifar10", root=str(cifar_folder), seed=0, val_size=20)
    generator = tmp_path_factory.mktemp("nb201_generator") / "generator.pt"
    config = TrainConfig(
        dataset="cifar10", space="nb201", space_options={"channels": 4, "cells_per_stage": 1},
        steps=2, meta_batch=3, batch_size=4, snapshot_every=0, hypernet=small_hypernet,
    )  # fmt: skip
    Trainer(config, data=data).fit(generator, quiet=True)
    return generator


def test_nb201_search_benchmark_and_resume(
    nb201_table: Path, cifar_folder: Path, tmp_path: Path, nb201_generator: Path
) -> None:
    script = _script("nb201_search")
    output = tmp_path / "search.json"
    args = ["--data-root", str(cifar_folder), "--truth", str(nb201_table), "--quiet"]
    args += ["--work", str(tmp_path / "work"), "--output", str(output)]
    args += ["--methods", "darts,itnas,entrannas,hypernet-gradient"]
    args += ["--seeds", "0,1", "--select-seeds", ""]
    args += ["--epochs", "2", "--steps-per-epoch", "1", "--batch-size", "4", "--channels", "4"]
    args += ["--val-size", "20", "--budget", "20", "--generator", str(nb201_generator)]
    args += ["--hypernet-steps-per-epoch", "1", "--hypernet-batch-size", "4"]
    script.main(args)
    out = json.loads(output.read_text())
    methods = out["methods"]
    references = {f"{name} (table, 20 look-ups)" for name in ("random", "evolution")}
    expected = {"darts", "itnas", "entrannas", "hypernet-gradient", "largest-of-100", *references}
    assert set(methods) == expected
    for name, method in methods.items():
        assert len(method["archs"]) == 2 and len(method["accuracy"]) == 2, name
        assert method["mean"] == pytest.approx(sum(method["accuracy"]) / 2)
    assert len(methods["darts"]["history"][0]) == 2
    # A re-run finds every search done and writes the same cells.
    script.main(args)
    again = json.loads(output.read_text())["methods"]
    assert {k: v["archs"] for k, v in again.items()} == {k: v["archs"] for k, v in methods.items()}


def _nb201_truth(path: Path) -> dict[str, float]:
    import csv

    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return {r["ArchitectureString"]: float(r["CIFAR10TestAccuracy200Epochs"]) for r in rows}


@pytest.mark.slow
def test_nb201_search_through_an_evaluator_against_largest_of_100(
    nb201_table: Path, cifar_folder: Path, tmp_path: Path, nb201_generator: Path
) -> None:
    script = _script("nb201_search")
    output, work = tmp_path / "search.json", tmp_path / "work"
    args = ["--data-root", str(cifar_folder), "--truth", str(nb201_table), "--quiet"]
    args += ["--work", str(work), "--output", str(output), "--val-size", "20", "--channels", "4"]
    args += ["--methods", "evolution,random", "--seeds", "1,2", "--select-seeds", "0"]
    args += ["--evaluator-budgets", "4,6", "--population", "3", "--tournament", "2"]
    args += ["--generator", str(nb201_generator), "--score-images", "10", "--bootstrap", "500"]
    script.main(args)
    text = output.read_text()
    out = json.loads(text)
    assert out["seeds"] == {"report": [1, 2], "select": [0]}
    assert out["baseline"] == "largest-of-100"
    assert out["evaluator"]["metric"] == "neg_log_loss" and out["evaluator"]["images"] == 10
    searched = {
        f"{searcher} ({backend}, {budget} {unit})"
        for searcher in ("evolution", "random")
        for budget in (4, 6)
        for backend, unit in (("evaluator", "evaluations"), ("table", "look-ups"))
    }
    assert set(out["methods"]) == set(out["selection"]) == {*searched, "largest-of-100"}
    truth = _nb201_truth(nb201_table)
    full = get_space("nb201")
    baseline = out["methods"]["largest-of-100"]
    parts = [(out["seeds"]["report"], out["methods"]), (out["seeds"]["select"], out["selection"])]
    for seeds, summaries in parts:
        for name, method in summaries.items():
            assert method["seeds"] == seeds, name
            assert method["accuracy"] == [truth[a] for a in method["archs"]], name
            assert method["params"] == [full.params(full.validate(a)) for a in method["archs"]]
        # largest-of-100 reads no table: the largest of its seed's 100 uniform draws.
        for seed, arch in zip(seeds, summaries["largest-of-100"]["archs"]):
            pool = full.sample_many(100, np.random.default_rng(seed))
            sizes = [full.params(a) for a in pool]
            assert arch == pool[int(np.argmax(sizes))].to_string()
            assert full.params(full.validate(arch)) == max(sizes)
    for name, method in out["methods"].items():
        if name == "largest-of-100":
            assert "versus" not in method
            continue
        versus = method["versus"]
        differences = np.subtract(method["accuracy"], baseline["accuracy"])
        assert versus["differences"] == pytest.approx(differences.tolist()), name
        assert versus["mean_difference"] == pytest.approx(differences.mean()), name
        low, high = versus["ci95"]
        assert min(differences) <= low <= versus["mean_difference"] <= high <= max(differences)
        assert versus["verdict"] == ("ahead" if low > 0 else "behind" if high < 0 else "level")
    # Every cell is scored once, whichever search asked first; the others read the cache.
    (cache,) = work.glob("evaluator-*.jsonl")
    scored = [
        count
        for summaries in (out["methods"], out["selection"])
        for name, method in summaries.items()
        if "evaluator" in name
        for count in method["scored"]
    ]
    assert sum(scored) == len(cache.read_text().splitlines()) > 0
    table = output.with_suffix(".md").read_text()
    assert "| largest-of-100 |" in table and "minus largest-of-100" in table
    assert "seeds 1,2" in table and all(name in table for name in searched)

    # A re-run finds every search done and writes the same file.
    script.main(args)
    assert output.read_text() == text
    # A search killed before it finished replays the cached scores: the same cell, nothing scored.
    (killed,) = work.glob("evolution-p3-t2-evaluator6-*_s2.json")
    killed.unlink()
    script.main(args)
    again = json.loads(output.read_text())["methods"]["evolution (evaluator, 6 evaluations)"]
    assert again["archs"] == out["methods"]["evolution (evaluator, 6 evaluations)"]["archs"]
    assert again["scored"][1] == 0


def test_nb201_search_refuses_bad_seeds_and_budgets(tmp_path: Path) -> None:
    script = _script("nb201_search")
    args = ["--data-root", str(tmp_path), "--truth", str(tmp_path / "none.csv")]
    with pytest.raises(SystemExit, match=r"seeds \[1\] are in both --seeds and --select-seeds"):
        script.main([*args, "--seeds", "1,2", "--select-seeds", "0,1"])
    with pytest.raises(SystemExit, match="at least --population \\(20\\)"):
        script.main([*args, "--evaluator-budgets", "10,100"])
    with pytest.raises(SystemExit, match="unknown methods \\['dart'\\]"):
        script.main([*args, "--methods", "dart"])


def test_the_paired_bootstrap_matches_scipy() -> None:
    from scipy import stats

    from adwp.benchmarking import paired_bootstrap

    differences = [0.3, -0.1, 0.8, 0.2, 0.5]
    low, high = paired_bootstrap(differences, 10000, 0)
    reference = stats.bootstrap(
        (differences,), np.mean, n_resamples=10000, method="percentile", random_state=0
    ).confidence_interval
    assert low == pytest.approx(reference.low, abs=0.03)
    assert high == pytest.approx(reference.high, abs=0.03)
    assert paired_bootstrap(differences, 10000, 0) == (low, high)
    # Equal differences leave nothing to resample: the interval is the point.
    assert paired_bootstrap([0.4] * 5, 100, 1) == pytest.approx((0.4, 0.4))


def test_named_choices_keep_the_order_and_refuse_in_one_line() -> None:
    from adwp.benchmarking import named_choices

    assert named_choices("synflow, hypernet,", ["hypernet", "synflow"]) == ["synflow", "hypernet"]
    assert named_choices("", ["a"]) == []
    with pytest.raises(SystemExit, match=r"^unknown searchers \['x', 'y'\]; allowed: a, b$"):
        named_choices("y,a,x", ["a", "b"], "searchers")
    with pytest.raises(SystemExit, match=r"^unknown methods \['c'\]; r\.json holds: a$"):
        named_choices("c", ["a"], source="r.json")
    with pytest.raises(SystemExit, match=r"^no complexities named; allowed: flops$"):
        named_choices(" , ", ["flops"], "complexities", required=True)


def test_nb201_search_cost_benchmark(tmp_path: Path) -> None:
    script = _script("nb201_search_cost")
    output = tmp_path / "cost.json"
    args = ["--channels", "4", "--steps", "1", "--warmup", "1", "--batch-size", "4"]
    script.main([*args, "--methods", "darts,entrannas,hypernet-gradient", "--output", str(output)])
    rows = json.loads(output.read_text())["rows"]
    # Without a generator of this skeleton, hypernet-gradient is left out.
    assert [r["method"] for r in rows] == ["darts", "entrannas"]
    assert rows[0]["time_vs_darts"] == 1.0 and rows[1]["seconds_per_step"] > 0
    assert all(r["peak_memory_mib"] >= 0 for r in rows)


def test_train_scaling_benchmark(tmp_path: Path) -> None:
    script = _script("train_scaling")
    output, plot = tmp_path / "scaling.json", tmp_path / "scaling.png"
    args = ["--dataset", "digits", "--space", "macro", "--runs", "1x1,2x1", "--steps", "1"]
    args += ["--warmup", "1", "--meta-batch", "4", "--extra-meta-batch", "16"]
    script.main([*args, "--output", str(output), "--plot", str(plot)])
    result = json.loads(output.read_text())
    assert [m["processes"] for m in result["measured"]] == [1, 2]
    assert all(m["seconds_per_step"] > 0 for m in result["measured"])
    assert result["allreduce_bytes_per_step"] == 4 * result["parameters"]
    for label, curve in result["expected"].items():
        # One process per architecture at most: a curve stops at its meta-batch.
        assert curve[-1]["gpus"] == (16 if label.endswith("meta-batch 16") else 4), label
        assert curve[0]["speedup"] == pytest.approx(1.0)
        assert all(0 < row["efficiency"] <= 1 for row in curve)
    assert plot.stat().st_size > 0


def test_the_expected_curve_pays_for_the_allreduce() -> None:
    script = _script("train_scaling")
    args = script.argparse.Namespace(nvlink_gbs=100.0, network_gbs=10.0, latency_us=0.0)
    # 1 s of compute over 8 architectures, 1 GB of gradients: 8 GPUs in one node share the
    # compute (1/8 s each) and each sends and receives 2 * 7/8 GB over NVLink at 100 GB/s.
    row = script.expected_curve(1.0, 1e9, 8, args)[-1]
    assert row["gpus"] == 8
    assert row["seconds_per_step"] == pytest.approx(1 / 8 + 2 * 7 / 8 / 100)
    # Past one node the network carries it: 16 GPUs at 10 GB/s.
    row = script.expected_curve(1.0, 1e9, 16, args)[-1]
    assert row["seconds_per_step"] == pytest.approx(1 / 16 + 2 * 15 / 16 / 10)


def test_train_throughput_benchmark(tmp_path: Path) -> None:
    script = _script("train_throughput")
    output = tmp_path / "throughput.json"
    args = ["--setups", "nb201-proxy", "--models", "supernet", "--steps", "1", "--warmup", "1"]
    script.main([*args, "--output", str(output)])
    result = json.loads(output.read_text())
    assert result["device"] == "cpu"
    (row,) = result["rows"]
    assert row["images_per_second"] == pytest.approx(8 * 64 / row["seconds_per_step"])
    assert row["architectures_per_second"] == pytest.approx(8 / row["seconds_per_step"])
    with pytest.raises(SystemExit, match="unknown nb999"):
        script.main(["--setups", "nb999", "--output", str(output)])


def test_nb201_population_scores_each_computation_once_and_resumes(
    nb201_table: Path, cifar_folder: Path, tmp_path: Path, nb201_generator: Path
) -> None:
    script = _script("nb201_population")
    output = tmp_path / "population.json"
    args = ["--data-root", str(cifar_folder), "--truth", str(nb201_table), "--quiet"]
    args += ["--val-size", "20", "--generator", str(nb201_generator), "--max-images", "20"]
    args += ["--limit", "6", "--chunk", "4", "--bootstrap", "20"]
    args += ["--work", str(tmp_path / "work"), "--output", str(output)]
    script.main(args)
    out = json.loads(output.read_text())
    space = get_space("nb201")
    keys = [space.isomorphism_key(a) for a in out["raw"]["computations"]]
    assert out["n_computations"] == 6 and len(set(keys)) == 6
    # Every cell of a scored computation is reported, each once.
    assert out["n_cells"] == sum(out["raw"]["cells_per_computation"])
    every = [space.isomorphism_key(a) for a in space.enumerate()]
    assert out["n_cells"] == sum(k in set(keys) for k in every)
    assert set(out["methods"]) == {"hypernet", "params", "flops"}
    hypernet = out["methods"]["hypernet"]["computations"]
    assert len(out["raw"]["scores"]["hypernet"]) == 6
    assert -1 <= hypernet["kendall_tau"] <= 1 and 0 <= hypernet["p_at_top5"] <= 1
    assert hypernet["top_k_mean"] == {}  # no top 10 among 6 computations
    cells = out["methods"]["hypernet"]["cells"]
    for k, mean in cells["top_k_mean"].items():
        assert mean <= cells["top_k_best_possible"][k] + 1e-9
    # Two chunks stored; a re-run scores nothing again and writes the same numbers.
    assert len(list((tmp_path / "work").glob("hypernet-*/chunk_*.json"))) == 2
    script.main(args)
    assert json.loads(output.read_text())["methods"] == out["methods"]
    # Another result's scores join as a method and are compared with the generator, paired.
    again = tmp_path / "again.json"
    script.main([*args[:-1], str(again), "--also", f"before={output}:hypernet"])
    pair = json.loads(again.read_text())["comparisons"][-1]
    assert (pair["a"], pair["b"]) == ("hypernet", "before")
    assert pair["kendall_tau"] == {"difference": 0.0, "interval": [0.0, 0.0]}
    with pytest.raises(SystemExit, match="NAME=FILE:METHOD"):
        script.main([*args, "--also", "before"])
    with pytest.raises(SystemExit, match="has no method 'synflow'"):
        script.main([*args, "--also", f"before={output}:synflow"])


def test_the_population_metrics_match_scipy() -> None:
    script = _script("nb201_population")
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    size = np.exp(rng.normal(size=200))
    score = truth + rng.normal(size=200)
    out = script.evaluate(score, truth, size, size, resamples=50, seed=0)
    from scipy import stats

    assert out["kendall_tau"] == pytest.approx(stats.kendalltau(score, truth).statistic)
    assert out["spearman"] == pytest.approx(stats.spearmanr(score, truth).statistic)
    order = np.argsort(-score)
    assert out["top_k_mean"]["10"] == pytest.approx(truth[order[:10]].mean())
    assert out["top_k_best_possible"]["10"] == pytest.approx(np.sort(truth)[-10:].mean())
    top = set(np.argsort(-truth)[:10].tolist())
    assert out["p_at_top5"] == pytest.approx(len(top & set(order[:10].tolist())) / 10)
    low, high = out["ci_tau_minus_params"]
    assert low < out["tau_minus_params"] < high


@pytest.mark.slow
def test_the_gpu_script_runs_at_toy_size_on_the_cpu(
    nb201_table: Path, cifar_folder: Path, tmp_path: Path
) -> None:
    import os
    import subprocess

    output = tmp_path / "population.json"
    env = {
        **os.environ,
        "PYTHON": sys.executable, "DEVICE": "cpu", "STEPS": "2", "CHANNELS": "4", "CELLS": "1",
        "META_BATCH": "3", "BATCH_SIZE": "4", "IMAGES": "20", "LIMIT": "3", "VAL_SIZE": "20",
        "PROXIES": "jacob_cov", "WORK": str(tmp_path / "work"), "OUTPUT": str(output),
        "EXTRA_TRAIN": "--embed-dim 16 --num-bases 2",
    }  # fmt: skip
    command = ["bash", str(BENCHMARKS / "nb201_gpu.sh"), str(cifar_folder), str(nb201_table)]
    subprocess.run(command, env=env, check=True, capture_output=True)
    out = json.loads(output.read_text())
    assert out["n_computations"] == 3
    assert {"hypernet", "jacob_cov", "params"} <= set(out["methods"])
    assert out["settings"]["max_images"] == 20 and out["settings"]["device"] == "cpu"
    assert (tmp_path / "work" / "hypernet.pt").exists()


@pytest.mark.slow
def test_the_nbmacro_gpu_script_runs_at_toy_size_on_the_cpu(
    nbmacro_table: Path, cifar_folder: Path, tmp_path: Path
) -> None:
    output = tmp_path / "gpu.json"
    env = {
        **os.environ,
        "PYTHON": sys.executable, "DEVICE": "cpu", "STEPS": "2", "STEM": "4", "CHANNELS": "4,4,8",
        "HEAD": "8", "META_BATCH": "3", "BATCH_SIZE": "4", "IMAGES": "20", "VAL_SIZE": "20",
        "SAMPLE": "5", "SELECT": "3", "METHODS": "hypernet", "WORK": str(tmp_path / "work"),
        "OUTPUT": str(output),
    }  # fmt: skip
    command = ["bash", str(BENCHMARKS / "nbmacro_gpu.sh"), str(cifar_folder), str(nbmacro_table)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(output.read_text())
    assert len(out["samples"]["report"]) == 5 and out["settings"]["device"] == "cpu"
    assert out["settings"]["head_channels"] == 8 and out["settings"]["max_images"] == 20
    assert {"hypernet", "params", "flops", "hypernet+flops"} <= set(out["methods"])


def test_compare_methods_reads_both_result_shapes(tmp_path: Path) -> None:
    script = _script("compare_methods")
    rng = np.random.default_rng(0)
    truth = rng.normal(size=60)
    good, noise = truth + rng.normal(0, 0.3, 60), rng.normal(size=60)
    params = np.exp(truth + rng.normal(size=60))
    sample = {
        "truth": {"report": truth.tolist()},
        "raw": {n: {"report": v.tolist()} for n, v in
                (("good", good), ("noise", noise), ("params", params))},
    }  # fmt: skip
    population = {"raw": {"truth": truth.tolist(), "scores": {n: r["report"] for n, r in
                                                               sample["raw"].items()}}}  # fmt: skip
    outputs = []
    for name, data in (("sample", sample), ("population", population)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        output = tmp_path / f"{name}_out.json"
        script.main(
            [
                str(path),
                "--methods",
                "good,noise,params",
                "--resamples",
                "200",
                "--output",
                str(output),
            ]
        )
        outputs.append(json.loads(output.read_text())["pairs"])
    assert outputs[0] == outputs[1]
    first = outputs[0][0]
    from scipy import stats

    expected = stats.kendalltau(good, truth).statistic - stats.kendalltau(noise, truth).statistic
    assert (first["a"], first["b"]) == ("good", "noise")
    assert first["tau_difference"] == pytest.approx(expected)
    assert first["verdict"] == "ahead" and "partial_tau_difference" in first
    assert outputs[0][1]["b"] == "params" and "partial_tau_difference" not in outputs[0][1]
    assert script.verdict([-0.3, -0.1]) == "behind" and script.verdict([-0.1, 0.1]) == "level"
    with pytest.raises(SystemExit, match="unknown methods"):
        script.main([str(tmp_path / "sample.json"), "--methods", "good,bad"])
    # A method of another result on the same architectures joins under its own name.
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**sample, "raw": {"good": {"report": good.tolist()}}}))
    also = tmp_path / "also_out.json"
    args = [str(tmp_path / "sample.json"), "--methods", "again,noise,params", "--resamples", "200"]
    script.main([*args, "--also", f"again={other}:good", "--output", str(also)])
    assert json.loads(also.read_text())["pairs"][0]["tau_difference"] == first["tau_difference"]
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({**sample, "truth": {"report": noise.tolist()}}))
    with pytest.raises(SystemExit, match="holds other architectures"):
        script.main([*args, "--also", f"again={elsewhere}:good"])
    with pytest.raises(SystemExit, match="must look like NAME=FILE:METHOD"):
        script.main([*args, "--also", "again"])


@pytest.mark.slow
def test_nb201_levers_compare_runs_on_the_selection_sample(
    nb201_table: Path, cifar_folder: Path, tmp_path: Path
) -> None:
    """Two tiny lever runs without the curve (one with in-place distillation), then their summary
    on the selection sample."""
    from adwp.groundtruth import read_truth
    from adwp.metrics import kendall_tau

    nb201 = _script("nb201")
    results = tmp_path / "levers"
    common = ["--data-root", str(cifar_folder), "--truth", str(nb201_table), "--quiet"]
    common += ["--work", str(tmp_path / "work"), "--val-size", "20", "--sample", "8"]
    common += ["--select", "6", "--channels", "4", "--steps", "3", "--no-curve"]
    common += ["--snapshot-every", "0", "--meta-batch", "3", "--batch-size", "8"]
    common += ["--max-images", "20", "--methods", "hypernet", "--bootstrap", "20"]
    for tag, extra in (("base", []), ("taught", ["--distill", "0.5"])):
        output = results / f"{tag}.json"
        nb201.main([*common, "--tag", f"_{tag}", "--output", str(output), *extra])
    # Without the curve, training is timed from the run's log.
    base = json.loads((results / "base.json").read_text())
    assert base["curves"] == {}
    assert base["methods"]["hypernet"]["compute_seconds"] > 0
    assert not (tmp_path / "work" / "hypernet_base_curve.jsonl").exists()
    taught = json.loads((results / "taught.json").read_text())
    assert taught["settings"]["distill"] == 0.5

    levers = _script("nb201_levers")
    summary = tmp_path / "summary.json"
    args = ["--data-root", str(cifar_folder), "--truth", str(nb201_table), "--val-size", "20"]
    args += ["--work", str(tmp_path / "work"), "--results", str(results), "--max-images", "20"]
    args += ["--levers", "base,taught", "--versus", "base", "--output", str(summary)]
    levers.main(args)
    out = json.loads(summary.read_text())
    assert set(out["levers"]) == {"base", "taught"}
    assert len(out["levers"]["taught"]["probe"]["cells"]) == 25
    assert out["levers"]["taught"]["settings"]["distill"] == 0.5
    truth = read_truth(str(nb201_table), key="ArchitectureString",
                       metric="CIFAR10TestAccuracy200Epochs").mean()  # fmt: skip
    select = [truth[a] for a in base["samples"]["select"]]
    expected = kendall_tau(taught["raw"]["hypernet"]["select"], select) - kendall_tau(
        base["raw"]["hypernet"]["select"], select
    )
    versus = out["levers"]["taught"]["versus_base"]["hypernet"]
    assert versus["difference"] == pytest.approx(expected)
    assert versus["ci95"][0] <= versus["ci95"][1]
    assert "versus_base" not in out["levers"]["base"]
    with pytest.raises(SystemExit, match="--versus other is not among the levers"):
        levers.main([*args[:-4], "--versus", "other", "--output", str(summary)])


def test_nb201_top_end_counts_each_edge_operation(tmp_path: Path) -> None:
    script = _script("nb201_top_end")
    space = get_space("nb201")
    cells = [a.to_string() for a in space.sample_many(40, np.random.default_rng(0))]
    truth = np.arange(40, dtype=float)
    # The method's top is the table's bottom: it shares no computation with the true top.
    population = {"raw": {"computations": cells, "truth": truth.tolist()}}
    population["raw"]["scores"] = {"reversed": (-truth).tolist()}
    source = tmp_path / "population.json"
    source.write_text(json.dumps(population))
    output = tmp_path / "top_end.json"
    args = ["--population", str(source), "--methods", "reversed", "--output", str(output)]
    script.main([*args, "--percent", "10"])
    out = json.loads(output.read_text())
    assert out["top_size"] == 4 and out["computations"] == 40
    first_edge = out["edges"]["1<-0"]
    assert sum(row["count"] for row in first_edge.values()) == 40
    for name in ("table", "reversed"):
        assert sum(row[f"share_in_top_{name}"] for row in first_edge.values()) == pytest.approx(1)
    from adwp.spaces.nb201 import CellArchitecture

    top_ops = [CellArchitecture.from_string(c).ops[0] for c in cells[-4:]]
    bottom_ops = [CellArchitecture.from_string(c).ops[0] for c in cells[:4]]
    for op, row in first_edge.items():
        assert row["share_in_top_table"] == pytest.approx(top_ops.count(op) / 4)
        assert row["share_in_top_reversed"] == pytest.approx(bottom_ops.count(op) / 4)
    with pytest.raises(SystemExit, match=r"unknown methods \[.hypernet.\]; .* holds: "):
        script.main(["--population", str(source), "--methods", "hypernet", "--output", str(output)])


def test_the_hypervolume_of_points_by_hand() -> None:
    from adwp.benchmarking import hypervolume

    # Cheapest first: (80 - 70) * (50 - 10) + (90 - 80) * (50 - 20); (85, 30) is dominated by
    # (90, 20), (60, 5) lies below the reference accuracy and (95, 50) at its cost.
    points = [(90.0, 20.0), (85.0, 30.0), (80.0, 10.0), (60.0, 5.0), (95.0, 50.0)]
    assert hypervolume(points, (70.0, 50.0)) == pytest.approx(700.0)
    assert hypervolume([], (70.0, 50.0)) == 0.0
    assert hypervolume([(80.0, 10.0), (80.0, 10.0)], (70.0, 50.0)) == pytest.approx(400.0)


@pytest.fixture()
def nbmacro_sized_table(tmp_path: Path) -> Path:
    """All 6,561 NAS-Bench-Macro strings: a seeded accuracy rising with FLOPs, and #params and
    FLOPs of the full network, summed from each layer's share (both are additive over layers)."""
    import csv

    space = get_space("nbmacro")
    base = space.smallest()

    def one(layer: int, code: int) -> Any:
        codes = list(base.codes)
        codes[layer] = code
        return space.from_genotype(codes)

    share = {
        m: {(i, c): getattr(space, m)(one(i, c)) - getattr(space, m)(base) for i in range(8)
            for c in (1, 2)} | {(i, 0): 0 for i in range(8)}
        for m in ("params", "flops")
    }  # fmt: skip
    sizes = {
        a.to_string(): {
            m: getattr(space, m)(base) + sum(share[m][(i, c)] for i, c in enumerate(a.codes))
            for m in share
        }
        for a in space.enumerate()
    }
    probe = space.from_genotype((2, 1, 0, 2, 1, 1, 0, 2))
    assert sizes[probe.to_string()] == {"params": space.params(probe), "flops": space.flops(probe)}
    rng = np.random.default_rng(0)
    noise = {a.to_string(): rng.normal(0, 1) for a in space.distinct()}
    path = tmp_path / "nbmacro_sized.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Arch", "CanonicalArch", "MeanTestAccuracy", "Params", "FLOPs"])
        for arch in space.enumerate():
            key, size = space.isomorphism_key(arch), sizes[arch.to_string()]
            accuracy = 60 + 30 * np.log(size["flops"] / 7e6) / 3 + noise[key]
            row = [arch.to_string(), key, f"{accuracy:.4f}", size["params"], size["flops"]]
            writer.writerow(row)
    return path


class _StubEvaluator:
    """Stands in for an nbmacro evaluator: the table's accuracy plus seeded noise."""

    def __init__(self, table: Path) -> None:
        from adwp.truth.tables import read_truth

        truth = read_truth(table, key="Arch", metric="MeanTestAccuracy").mean()
        rng = np.random.default_rng(1)
        self.values = {a: v + rng.normal(0, 2) for a, v in sorted(truth.items())}
        self.space = get_space("nbmacro", stem_channels=4, channels=[4, 4, 8], head_channels=8)

    def score(self, archs: list[Any]) -> np.ndarray:
        return np.array([self.values[a.to_string()] for a in archs])


def test_nbmacro_search_judged_by_the_table_and_resumed(
    nbmacro_sized_table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adwp.ranking.backends import TableBackend
    from adwp.search.layer_assignment import LayerAssignmentSearch

    script = _script("nbmacro_search")
    stub = _StubEvaluator(nbmacro_sized_table)
    monkeypatch.setattr(script, "load_evaluator", lambda *_: stub)
    monkeypatch.setattr(script, "cifar10", lambda _: None)
    generator = tmp_path / "generator.pt"
    generator.write_bytes(b"stub")
    output, work = tmp_path / "out" / "search.json", tmp_path / "work"
    args = ["--truth", str(nbmacro_sized_table), "--work", str(work), "--output", str(output)]
    args += ["--seeds", "1,2", "--select-seeds", "0", "--min-depth", "2", "--max-depth", "5"]
    args += ["--coefficients", "0,5,20", "--samples", "2", "--iterations", "3"]
    args += ["--budgets", "10,20", "--population", "5", "--tournament", "2"]
    args += ["--baseline-pool", "20", "--bootstrap", "100", "--quiet"]
    args += ["--generator", str(generator), "--data-root", str(tmp_path), "--device", "cpu"]
    args += ["--gradient-epochs", "0"]  # the stub has no relaxed network to descend
    script.main(args)
    text = output.read_text()
    out = json.loads(text)
    expected = {"inheritance", "layer_assignment", "importance_sampling", "methods", "selection"}
    assert expected <= set(out) and out["baseline"] == "largest-FLOPs-of-20"
    assert out["evaluator"]["generator"] == str(generator)

    truth = TableBackend(nbmacro_sized_table, "MeanTestAccuracy", key="Arch").truth
    assert out["table"]["optimum"]["accuracy"] == max(truth.values())
    for block in ("mbconv_t3_k3", "mbconv_t6_k5"):
        region = get_space("nbmacro-assignment", block=block, min_total_depth=2, max_total_depth=5)
        table = TableBackend(nbmacro_sized_table, "MeanTestAccuracy", key="Arch")
        direct = LayerAssignmentSearch(table, region).architecture_dataset(2, 5)
        levels = out["inheritance"][block]
        assert [lv["depth"] for lv in levels] == [2, 3, 4, 5]
        assert [lv["inherits"] for lv in levels] == [lv.inherits for lv in direct.levels]
        assert [lv["parent_rank"] for lv in levels] == [lv.parent_rank for lv in direct.levels]
        assert [lv["accuracy"] for lv in levels] == [lv.score for lv in direct.levels]
        for backend in ("table", "evaluator"):
            for pick, best in zip(out["layer_assignment"][backend][block], levels):
                assert pick["accuracy"] == truth[pick["pick"]]
                assert pick["best_accuracy"] == best["accuracy"] >= pick["accuracy"]
                assert (pick["rank"] == 1) == (pick["accuracy"] == best["accuracy"])
        # On the table, the first depth scores every assignment: its pick is the best.
        assert out["layer_assignment"]["table"][block][0]["rank"] == 1

    space = get_space("nbmacro")
    for backend in ("table", "evaluator"):
        parts = out["importance_sampling"]["flops"][backend]
        assert parts["report"]["seeds"] == [1, 2] and parts["select"]["seeds"] == [0]
        for seed in parts["report"]["per_seed"]:
            for method in ("importance_sampling", "evolutions"):
                judged = seed[method]
                assert len(judged["archs"]) == 3 and 0 < judged["hv_share"] <= 1
                assert min(judged["gap"]) >= 0
                assert judged["flops"] == [space.flops(a) for a in judged["archs"]]
            # The evolutions together use no more evaluations than importance sampling did.
            assert seed["evolutions"]["evaluations"] <= seed["importance_sampling"]["evaluations"]

    methods = out["methods"]
    searched = {
        f"{searcher} ({backend}, {budget} {unit})"
        for searcher in ("evolution", "random")
        for budget in (10, 20)
        for backend, unit in (("table", "look-ups"), ("evaluator", "evaluations"))
    }
    assert set(methods) == set(out["selection"]) == searched | {"largest-FLOPs-of-20"}
    for seed, arch in zip([1, 2], methods["largest-FLOPs-of-20"]["archs"]):
        pool = space.sample_many(20, np.random.default_rng(seed))
        assert arch == max(pool, key=space.flops).to_string()
    accuracies = np.array(list(truth.values()))
    for name, method in methods.items():
        assert method["accuracy"] == [truth[a] for a in method["archs"]], name
        better = [float((accuracies > a).mean()) for a in method["accuracy"]]
        assert method["share_better"] == pytest.approx(better), name
        if name != "largest-FLOPs-of-20":
            differences = np.subtract(
                method["accuracy"], methods["largest-FLOPs-of-20"]["accuracy"]
            )
            assert method["versus"]["differences"] == pytest.approx(differences.tolist())
    assert (tmp_path / "out" / "search_front.png").exists()
    assert (tmp_path / "out" / "search_depths.png").exists()
    assert "| table | mbconv_t6_k5 | 2 |" in output.with_suffix(".md").read_text()

    # A re-run reads every stored search and writes the same file.
    monkeypatch.setattr(script, "load_evaluator", None)
    script.main(args)
    assert output.read_text() == text
    with pytest.raises(SystemExit, match=r"^unknown searchers \['bayesian'\]"):
        script.main([*args, "--searchers", "evolution,bayesian"])
    with pytest.raises(SystemExit, match=r"^unknown complexities \['latency'\]") as bad:
        script.main([*args, "--complexities", "latency"])
    assert "\n" not in str(bad.value)


def test_nbmacro_search_descends_through_a_trained_generator(
    nbmacro_sized_table: Path, cifar_folder: Path, tmp_path: Path, small_hypernet: HyperNetConfig
) -> None:
    script = _script("nbmacro_search")
    data = get_dataset("cifar10", root=str(cifar_folder), seed=0, val_size=20)
    generator = tmp_path / "nbmacro.pt"
    config = TrainConfig(
        dataset="cifar10", space="nbmacro", steps=2, meta_batch=3, batch_size=4,
        space_options={"stem_channels": 4, "channels": [4, 4, 8], "head_channels": 8},
        snapshot_every=0, hypernet=small_hypernet,
    )  # fmt: skip
    Trainer(config, data=data).fit(generator, quiet=True)
    output, work = tmp_path / "search.json", tmp_path / "work"
    args = ["--truth", str(nbmacro_sized_table), "--work", str(work), "--output", str(output)]
    args += ["--seeds", "1,2", "--select-seeds", "", "--min-depth", "7", "--max-depth", "8"]
    args += ["--coefficients", "0,20", "--samples", "2", "--iterations", "1"]
    args += ["--budgets", "4", "--population", "2", "--tournament", "2", "--baseline-pool", "4"]
    args += ["--generator", str(generator), "--data-root", str(cifar_folder), "--val-size", "20"]
    args += ["--score-images", "8", "--gradient-epochs", "2", "--gradient-steps", "1"]
    args += ["--gradient-batch-size", "4", "--device", "cpu", "--bootstrap", "50", "--quiet"]
    script.main(args)
    text = output.read_text()
    found = json.loads(text)["methods"]["hypernet-gradient (evaluator, 2 epochs)"]
    from adwp.truth.tables import read_truth

    truth = read_truth(nbmacro_sized_table, key="Arch", metric="MeanTestAccuracy").mean()
    assert found["accuracy"] == [truth[a] for a in found["archs"]] and found["seeds"] == [1, 2]
    assert sorted(p.name for p in work.glob("hypernet-gradient-*.pt")) != []
    script.main(args)  # every search stored: the same file again
    assert output.read_text() == text


def test_nbmacro_levers_reads_each_stage_and_compares_levers(tmp_path: Path) -> None:
    script = _script("nbmacro_levers")
    archs = [a.to_string() for a in get_space("nbmacro").sample_many(30, np.random.default_rng(0))]
    first_stage_blocks = [2 - a[:2].count("0") for a in archs]
    last_stage_blocks = [3 - a[5:].count("0") for a in archs]
    noise = np.random.default_rng(1).random(30)
    result = {
        "samples": {"select": archs, "report": archs},
        "truth": {"select": noise.tolist(), "report": noise.tolist()},
        "raw": {"stage1": {"select": first_stage_blocks}, "stage3": {"select": last_stage_blocks}},
    }
    source = tmp_path / "nbmacro.json"
    source.write_text(json.dumps(result))
    lever = tmp_path / "lever.json"
    lever.write_text(json.dumps({**result, "raw": {"hypernet": {"select": last_stage_blocks}}}))
    # A generator's stored stage: snapshot scores, and the final weights' at the last curve point.
    stage = tmp_path / "hypernet.neg_log_loss.json"
    near_truth = (noise + 0.01 * np.arange(30)).tolist()
    stage.write_text(json.dumps({"select": noise.tolist(), "curve": [{"select": near_truth}]}))
    output = tmp_path / "levers.json"
    args = ["--result", str(source), "--methods", "stage1,stage3", "--output", str(output)]
    levers = [
        "--lever",
        f"last={lever}",
        "--lever",
        f"snap={stage}",
        "--lever",
        f"fin={stage}:final",
    ]
    script.main([*args, *levers, "--versus", "fin", "--bootstrap", "200"])
    out = json.loads(output.read_text())
    taus = out["kendall_tau"]
    assert taus["stage1"]["stage1_blocks"] == pytest.approx(1.0)
    assert taus["stage3"]["stage3_blocks"] == pytest.approx(1.0)
    assert taus["last"] == taus["stage3"] and taus["snap"] == taus["table"]
    expected = stats.kendalltau(first_stage_blocks, noise).statistic
    assert taus["table"]["stage1_blocks"] == pytest.approx(expected)
    assert set(taus["table"]) == {
        f"stage{s}_{b}" for s in (1, 2, 3) for b in ("blocks", "mbconv_t3_k3", "mbconv_t6_k5")
    }
    overall = out["overall_kendall_tau"]
    assert overall["snap"] == pytest.approx(1.0)
    assert overall["fin"] == pytest.approx(stats.kendalltau(near_truth, noise).statistic)
    versus = out["minus_fin"]
    assert set(versus) == {"last", "snap"}
    assert versus["snap"]["difference"] == pytest.approx(1.0 - overall["fin"])
    low, high = versus["last"]["ci95"]
    assert low <= versus["last"]["difference"] <= high
    with pytest.raises(SystemExit, match=r"unknown methods \[.hypernet.\]; .* holds: "):
        script.main([*args[:2], "--methods", "hypernet", "--output", str(output)])
    with pytest.raises(SystemExit, match="expected NAME=FILE"):
        script.main([*args, "--lever", "nofile"])
    with pytest.raises(SystemExit, match="--versus other is not among"):
        script.main([*args, *levers, "--versus", "other"])
    with pytest.raises(SystemExit, match="another select sample"):
        other = tmp_path / "other.json"
        other.write_text(json.dumps({"select": [0.0] * 5}))
        script.main([*args, "--lever", f"short={other}"])
