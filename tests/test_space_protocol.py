"""The SearchSpace protocol: decisions, genotypes and searchers that see nothing else."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import adwp.data
from adwp.backend import TableBackend
from adwp.cli import main
from adwp.errors import ArchitectureError
from adwp.search import ImportanceSamplingSearch, RandomSearch, RegularizedEvolution
from adwp.spaces import (
    Decision,
    NB201Space,
    SearchSpace,
    active_decisions,
    get_space,
)
from adwp.spaces.nb201 import OPERATIONS

KEY, METRIC = "ArchitectureString", "CIFAR10TestAccuracy200Epochs"
# Per edge, per operation: a separable objective whose optimum is the per-edge argmax.
WEIGHTS = np.random.default_rng(7).permutation(30).reshape(6, 5).astype(float)


def synthetic_score(genotype: tuple[int, ...]) -> float:
    return float(WEIGHTS[np.arange(6), list(genotype)].sum())


OPTIMUM = NB201Space().from_genotype(tuple(int(j) for j in WEIGHTS.argmax(axis=1)))


@pytest.fixture(scope="module")
def nb201_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every NB201 architecture with a synthetic score computed from its genotype."""
    space = NB201Space()
    path = tmp_path_factory.mktemp("nb201") / "table.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([KEY, METRIC])
        for arch in space.enumerate():
            writer.writerow([arch.to_string(), synthetic_score(space.genotype(arch))])
    return path


@pytest.mark.parametrize("name", ["macro", "layer-assignment", "nb201"])
def test_builtin_spaces_satisfy_the_protocol(name: str) -> None:
    assert isinstance(get_space(name), SearchSpace)


def test_an_object_without_decisions_is_not_a_space() -> None:
    class NoDecisions:
        name = "x"

        def validate(self, arch: object) -> object:
            return arch

    assert not isinstance(NoDecisions(), SearchSpace)


def test_decision_counts_and_names() -> None:
    macro = get_space("macro").decisions()
    assert len(macro) == 3 * (1 + 4 * 3)
    assert [len(d.choices) for d in macro[:4]] == [4, 3, 3, 2]
    assert macro[0].name == "stage0_depth" and macro[13].name == "stage1_depth"
    # Only the depths vary in layer-assignment: the fixed per-layer values are not decisions.
    layer_assignment = get_space("layer-assignment").decisions()
    assert [d.name for d in layer_assignment] == ["stage0_depth", "stage1_depth", "stage2_depth"]
    assert all(d.parent is None for d in layer_assignment)
    nb201 = NB201Space().decisions()
    assert [d.name for d in nb201] == ["0->1", "0->2", "1->2", "0->3", "1->3", "2->3"]
    assert all(d.choices == OPERATIONS and d.parent is None for d in nb201)


def test_macro_slots_past_a_stage_depth_are_inactive() -> None:
    space = get_space("macro")
    decisions = space.decisions()
    # Slot p of a stage needs depth index >= p (depths 1..4): slot 0 always exists.
    assert decisions[1].parent is None and decisions[4].parent == (0, 1)
    arch = space.validate("k3w50s0|k5w75s1,k7w100s0,k3w50s1,k5w75s0|k3w100s1,k3w100s1")
    genotype = space.genotype(arch)
    mask = active_decisions(decisions, genotype)
    by_name = dict(zip((d.name for d in decisions), mask, strict=True))
    assert by_name["stage0_depth"] and by_name["stage0_layer0_kernel"]
    assert not any(by_name[f"stage0_layer{p}_{f}"] for p in (1, 2, 3) for f in ("kernel", "skip"))
    assert all(by_name[f"stage1_layer{p}_width"] for p in range(4))
    assert by_name["stage2_layer1_skip"] and not by_name["stage2_layer2_skip"]
    assert mask.sum() == 3 + 3 * sum(arch.depths)
    # An inactive index changes nothing; an active one does.
    changed = list(genotype)
    changed[decisions.index(next(d for d in decisions if d.name == "stage0_layer3_kernel"))] = 2
    assert space.from_genotype(changed) == arch
    changed[1] = 2
    assert space.from_genotype(changed) != arch


@pytest.mark.parametrize("name", ["macro", "layer-assignment", "nb201"])
def test_genotype_and_string_round_trip_on_samples(name: str) -> None:
    space = get_space(name)
    decisions = space.decisions()
    for arch in space.sample_many(min(100, space.size()), np.random.default_rng(0)):
        genotype = space.genotype(arch)
        assert len(genotype) == len(decisions)
        assert all(0 <= g < len(d.choices) for g, d in zip(genotype, decisions, strict=True))
        assert space.from_genotype(genotype) == arch
        assert space.from_genotype(np.array(genotype)) == arch
        assert space.validate(arch.to_string()) == arch
        assert space.genotype(arch.to_string()) == genotype


def test_every_nb201_architecture_round_trips() -> None:
    space = NB201Space()
    genotypes = [space.genotype(arch) for arch in space.enumerate()]
    assert genotypes == list(itertools.product(range(5), repeat=6))
    for genotype in genotypes:
        arch = space.from_genotype(genotype)
        assert space.genotype(space.validate(arch.to_string())) == genotype


@pytest.mark.parametrize(
    ("name", "genotype", "message"),
    [
        ("macro", [0] * 38, "genotype has 38 indices, the macro space has 39 decisions"),
        ("macro", [4] + [0] * 38, r"stage0_depth: index 4 not in 0\.\.3"),
        ("layer-assignment", [3, 3, 3], r"total depth: got 12, allowed 3\.\.5"),
        ("nb201", [0, 0, 0, 0, 0, 5], r"edge 2->3: code 5 not in 0\.\.4"),
        ("nb201", [0] * 5, "genotype has 5 codes, expected 6"),
    ],
)
def test_an_invalid_genotype_is_refused_in_one_line(
    name: str, genotype: list[int], message: str
) -> None:
    options = {"max_total_depth": 5} if name == "layer-assignment" else {}
    with pytest.raises(ArchitectureError, match=message) as info:
        get_space(name, **options).from_genotype(genotype)
    assert "\n" not in str(info.value)


def test_decision_checks_its_parent() -> None:
    assert Decision("a", [1, 2]).choices == (1, 2)
    with pytest.raises(ArchitectureError, match="parent must be"):
        Decision("a", (1, 2), parent=(0,))
    with pytest.raises(ArchitectureError, match="no choices"):
        Decision("a", ())


def test_searchers_find_the_optimum_of_a_synthetic_nb201_table(nb201_table: Path) -> None:
    backend = TableBackend(nb201_table, METRIC, key=KEY)
    space = NB201Space()
    best = synthetic_score(space.genotype(OPTIMUM))
    evolution = RegularizedEvolution(backend, space, seed=0).run(300)
    assert evolution.best.arch == OPTIMUM and evolution.best.score == best
    sampling = ImportanceSamplingSearch(backend, space, coefficients=[0.0], seed=0).run(60)
    assert sampling.per_coefficient[0].best.arch == OPTIMUM
    random = RandomSearch(backend, space, seed=0).run(50)
    assert random.evaluations == 50
    for pick in random.evaluated:
        assert pick.score == synthetic_score(space.genotype(pick.arch))
        assert pick.params == space.params(pick.arch)


@pytest.mark.parametrize(
    ("method", "flags"),
    [
        ("evolution", ["--budget", "300"]),
        ("importance-sampling", ["--coefficients", "0", "--iterations", "60"]),
        ("random", ["--budget", "40"]),
    ],
)
def test_search_cli_on_an_nb201_table_reads_no_data(
    method: str,
    flags: list[str],
    nb201_table: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_data(*args: object, **kwargs: object) -> None:
        raise AssertionError("a table search loaded a data set")

    monkeypatch.setattr(adwp.data, "get_dataset", no_data)
    out = tmp_path / "out.json"
    args = ["search", method, "--space", "nb201", "--backend", f"table:{nb201_table}"]
    args += ["--key", KEY, "--metric", METRIC, "--seed", "0", "--quiet", "--output", str(out)]
    assert main([*args, *flags]) == 0
    result = json.loads(out.read_text())
    space = NB201Space()
    for pick in result["evaluated"]:
        arch = space.validate(pick["arch"])
        assert pick["score"] == synthetic_score(space.genotype(arch))
        # The space keeps NB201's own CIFAR shape: #params as NAS-Bench-201 counts them.
        assert pick["params"] == space.params(arch)
    if method != "random":
        assert result["best"]["arch"] == OPTIMUM.to_string()


def test_optuna_searches_nb201(nb201_table: Path) -> None:
    optuna = pytest.importorskip("optuna")
    from adwp.search.optuna import architecture_from_params, run_study

    space = NB201Space()
    study = run_study(TableBackend(nb201_table, METRIC, key=KEY), space, n_trials=15, seed=0)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    for trial in study.trials:
        assert set(trial.params) == {d.name for d in space.decisions()}
        arch = architecture_from_params(trial.params, space)
        assert arch.to_string() == trial.user_attrs["arch"]
        assert trial.value == synthetic_score(space.genotype(arch))
    with pytest.raises(ArchitectureError, match="2->3: 'conv' not in allowed"):
        architecture_from_params({**study.best_params, "2->3": "conv"}, space)
